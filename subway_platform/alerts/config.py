"""Where alerts go, read from the environment at each sensor evaluation.

Each channel is off while its variable is unset:

- ``SUBWAY_ALERT_EMAIL_TO``: comma-separated addresses; the server is ``SUBWAY_SMTP_URL``,
  ``smtp://user:password@host:port`` (STARTTLS when the server offers it) or ``smtps://``
  (TLS from the start); ``SUBWAY_ALERT_EMAIL_FROM`` is the sender (optional).
- ``SUBWAY_ALERT_WEBHOOK_URL``: a URL that takes Slack-compatible JSON (``{"text": ...}``).
- ``SUBWAY_UI_URL``: the Dagster UI the run links point at (default ``http://127.0.0.1:3000``).

The SMTP password and the webhook URL (Slack's carries its token in the path) are secrets:
:func:`secrets` lists them so that no alert text, log line or error ever shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from subway_platform.redact import redact

EMAIL_TO_ENV = "SUBWAY_ALERT_EMAIL_TO"
EMAIL_FROM_ENV = "SUBWAY_ALERT_EMAIL_FROM"
SMTP_URL_ENV = "SUBWAY_SMTP_URL"
WEBHOOK_URL_ENV = "SUBWAY_ALERT_WEBHOOK_URL"
UI_URL_ENV = "SUBWAY_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DEFAULT_SENDER = "subway-platform@localhost"


class AlertConfigError(ValueError):
    """A channel's variable is set but unusable; the message names the variable only."""


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server and the message's envelope."""

    host: str
    port: int
    user: str | None
    password: str | None
    implicit_tls: bool
    sender: str
    recipients: tuple[str, ...]


def ui_url() -> str:
    """Base URL of the Dagster UI, without a trailing slash."""
    return (os.environ.get(UI_URL_ENV) or DEFAULT_UI_URL).rstrip("/")


def run_url(run_id: str) -> str:
    """Link to a run's page in the Dagster UI."""
    return f"{ui_url()}/runs/{run_id}"


def smtp_settings() -> SmtpSettings | None:
    """The email channel, or None when ``SUBWAY_ALERT_EMAIL_TO`` is unset."""
    recipients = tuple(
        a.strip() for a in (os.environ.get(EMAIL_TO_ENV) or "").split(",") if a.strip()
    )
    if not recipients:
        return None
    raw = os.environ.get(SMTP_URL_ENV) or ""
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise AlertConfigError(
            f"{EMAIL_TO_ENV} is set but {SMTP_URL_ENV} is not an smtp:// or smtps:// URL "
            "(smtp://user:password@host:port)"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as err:
        raise AlertConfigError(f"{SMTP_URL_ENV} has an invalid port") from err
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
        sender=os.environ.get(EMAIL_FROM_ENV) or DEFAULT_SENDER,
        recipients=recipients,
    )


def webhook_url() -> str | None:
    """The webhook channel's URL, or None when ``SUBWAY_ALERT_WEBHOOK_URL`` is unset."""
    url = (os.environ.get(WEBHOOK_URL_ENV) or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        raise AlertConfigError(f"{WEBHOOK_URL_ENV} is not an http(s) URL")
    return url


def secrets() -> list[str]:
    """Values no alert may contain: the SMTP password (raw and URL-encoded), the SMTP URL,
    the webhook URL and its path (where Slack keeps the token)."""
    out: list[str] = []
    smtp = os.environ.get(SMTP_URL_ENV) or ""
    if smtp:
        out.append(smtp)
        password = urlsplit(smtp).password
        if password:
            out.extend([password, unquote(password)])
    hook = (os.environ.get(WEBHOOK_URL_ENV) or "").strip()
    if hook:
        out.append(hook)
        path = urlsplit(hook).path
        if len(path) > 1:
            out.append(path)
    # Longest first, so that a URL is replaced whole before a part of it.
    return sorted({s for s in out if len(s) >= 4}, key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` without the alert channels' secrets and without any credentials that
    :func:`subway_platform.redact.redact` knows (DSNs, keys, passwords)."""
    out = text
    for secret in secrets():
        out = out.replace(secret, "***")
    return redact(out)
