"""A small client for Superset's REST API: log in, import the bundle, read chart data.

Used both for the local Superset that ``subway-platform dashboard`` runs and for a
user's existing Superset (``--superset-url``). Passwords go in request bodies only.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from subway_platform.redact import redact

_TIMEOUT = 120.0


class SupersetApiError(RuntimeError):
    """Superset answered a request with an error status."""


class SupersetClient:
    """A logged-in session with Superset at ``base_url`` (JWT + CSRF token for writes)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _check(self, response: requests.Response, what: str) -> Any:
        if response.status_code >= 400:
            body = redact(response.text[:2000])
            raise SupersetApiError(f"{what} failed: HTTP {response.status_code}: {body}")
        return response.json() if response.content else None

    def login(self, username: str, password: str) -> None:
        """Log in with the database provider and fetch a CSRF token for POSTs."""
        response = self.session.post(
            self._url("/api/v1/security/login"),
            json={"username": username, "password": password, "provider": "db", "refresh": True},
            timeout=_TIMEOUT,
        )
        token = self._check(response, "login")["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self._check(
            self.session.get(self._url("/api/v1/security/csrf_token/"), timeout=_TIMEOUT),
            "CSRF token",
        )["result"]
        self.session.headers["X-CSRFToken"] = csrf
        self.session.headers["Referer"] = self.base_url

    def import_bundle(self, bundle: bytes, passwords: dict[str, str]) -> None:
        """Import (and overwrite) every asset of ``bundle`` via ``/api/v1/assets/import/``.

        ``passwords`` maps a bundle database file (``databases/x.yaml``) to its password.
        """
        response = self.session.post(
            self._url("/api/v1/assets/import/"),
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
            data={"passwords": json.dumps(passwords)},
            timeout=_TIMEOUT,
        )
        self._check(response, "bundle import")

    def get(self, path: str) -> Any:
        """GET a JSON API path (e.g. ``/api/v1/dashboard/elt-monitoring``)."""
        return self._check(self.session.get(self._url(path), timeout=_TIMEOUT), f"GET {path}")

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST JSON to an API path."""
        return self._check(
            self.session.post(self._url(path), json=payload, timeout=_TIMEOUT), f"POST {path}"
        )

    def dashboard(self, slug: str) -> dict[str, Any]:
        """The dashboard with ``slug`` (id, title, json_metadata, position_json)."""
        return self.get(f"/api/v1/dashboard/{slug}")["result"]

    def dashboard_charts(self, slug: str) -> list[dict[str, Any]]:
        """The charts of dashboard ``slug`` (id, slice_name, form_data)."""
        return self.get(f"/api/v1/dashboard/{slug}/charts")["result"]

    def chart(self, chart_id: int) -> dict[str, Any]:
        """One chart's saved definition (params, query_context)."""
        return self.get(f"/api/v1/chart/{chart_id}")["result"]

    def chart_data(self, query_context: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a chart query context through ``/api/v1/chart/data``; one result per query."""
        return self.post("/api/v1/chart/data", query_context)["result"]
