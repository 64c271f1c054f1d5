"""One real `subway-platform dev` (PostgreSQL, moto S3, Sail, Dagster webserver + daemon on
127.0.0.1) for the UI tests, and the HTTP GraphQL calls the Dagster UI makes to it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subway_platform.platform import cli
from subway_platform.platform.processes import free_port

VENV_BIN = Path(sys.executable).parent
LOCATION = "subway_platform"
START_TIMEOUT = 600.0

# The variables `dev` must set itself: a test session's own values would leak into it.
_DEV_SETS = (
    "DAGSTER_HOME",
    "SPARK_REMOTE",
    "SUBWAY_MART_DSN",
    "DAGSTER_PG_URL",
    "SUBWAY_LANDING_URL",
    "SUBWAY_ARCHIVE_URL",
    "SUBWAY_LAKE_URL",
    "AWS_ENDPOINT_URL",
)

_WORKSPACE_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""


class GraphQLError(RuntimeError):
    """The webserver answered with GraphQL errors."""


@dataclass
class DevPlatform:
    """A running `subway-platform dev`: its UI URL, environment and state dir."""

    process: subprocess.Popen[bytes]
    port: int
    state_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)  # holds a password
    repository: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def archive(self) -> Path:
        """The dev archive (a directory in the state dir): files here are loadable months."""
        return Path(self.env["SUBWAY_ARCHIVE_URL"])

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one query to /graphql as the UI does; return ``data`` or raise GraphQLError."""
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise GraphQLError(json.dumps(payload["errors"])[:3000])
        return payload["data"]


def _location(port: int) -> tuple[str, str | None, str] | None:
    """(loadStatus, load error, repository name) of the code location, or None."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": _WORKSPACE_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None
    workspace = (payload.get("data") or {}).get("workspaceOrError") or {}
    for entry in workspace.get("locationEntries", []):
        if entry["name"] == LOCATION:
            loaded = entry["locationOrLoadError"] or {}
            error = loaded.get("message") if loaded.get("__typename") == "PythonError" else None
            repos = [r["name"] for r in loaded.get("repositories", [])]
            return entry["loadStatus"], error, repos[0] if repos else ""
    return None


def start_dev(state_dir: Path) -> DevPlatform:
    """Start `subway-platform dev` on a free port; return once the code location is loaded."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in _DEV_SETS}
    log_path = state_dir / "dev.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "subway-platform"),
                "dev",
                "--state-dir",
                str(state_dir),
                "--port",
                str(port),
            ],
            cwd=state_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = DevPlatform(process=process, port=port, state_dir=state_dir, log_path=log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"subway-platform dev exited early:\n{dev.log_tail()}")
            status = _location(port)
            if status is not None and (status[0] == "LOADED" or status[1]):
                break
            time.sleep(2)
        if status is None or status[:2] != ("LOADED", None):
            raise RuntimeError(f"code location not loaded: {status}\n{dev.log_tail()}")
        dev.repository = status[2]
        dev.env = cli.read_env_file(state_dir)
        dev.archive.mkdir(parents=True, exist_ok=True)
        return dev
    except BaseException:
        stop_dev(dev)
        raise


def stop_dev(dev: DevPlatform) -> None:
    """Ctrl-C, as a person stops it; SIGKILL of its process group only if that hangs."""
    if dev.process.poll() is None:
        dev.process.send_signal(signal.SIGINT)
        try:
            dev.process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(dev.process.pid, signal.SIGKILL)
            dev.process.wait()


def remove_state_dir(state_dir: Path) -> None:
    shutil.rmtree(state_dir, ignore_errors=True)
