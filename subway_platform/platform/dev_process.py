"""`subway-platform dev` as a child process: started with a clean environment, and asked
through its webserver's GraphQL whether the code location has loaded. What the benchmarks
and the tests that drive a whole dev platform share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LOCATION = "subway_platform"

DEV_SETS = (
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "SPARK_REMOTE",
    "SUBWAY_MART_DSN",
    "SUBWAY_LANDING_URL",
    "SUBWAY_ARCHIVE_URL",
    "SUBWAY_LAKE_URL",
    "AWS_ENDPOINT_URL",
)
"""The variables `dev` sets itself: the caller's own values must not leak into it."""

_WORKSPACE_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""

LocationStatus = tuple[str, str | None, str]
"""(load status, load error or None, repository name) of the code location."""


def spawn_dev(
    state_dir: Path, port: int, log_path: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `subway-platform dev` of this interpreter's environment in its own process
    group, its output to ``log_path``, without the variables it sets itself."""
    env = {k: v for k, v in os.environ.items() if k not in DEV_SETS}
    command = str(Path(sys.executable).parent / "subway-platform")
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [command, "dev", "--state-dir", str(state_dir), "--port", str(port)],
            cwd=cwd or state_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def location_status(port: int) -> LocationStatus | None:
    """The code location's status as the UI sees it, or None (webserver not answering, or
    the location not listed yet)."""
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


def wait_for_location(
    process: subprocess.Popen[bytes], port: int, timeout: float, poll: float = 2.0
) -> LocationStatus | None:
    """Poll until the code location has loaded or failed to load, ``process`` has exited,
    or ``timeout`` seconds have passed; return the last status seen."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline and process.poll() is None:
        status = location_status(port)
        if status is not None and (status[0] == "LOADED" or status[1]):
            break
        time.sleep(poll)
    return status
