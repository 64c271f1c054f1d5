"""One real `subway-platform dev` (PostgreSQL, moto S3, Sail, Dagster webserver + daemon on
127.0.0.1) for the UI tests, and the HTTP GraphQL calls the Dagster UI makes to it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subway_platform.platform import cli
from subway_platform.platform.dev_process import spawn_dev, wait_for_location
from subway_platform.platform.processes import free_port

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 600.0


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


def start_dev(state_dir: Path) -> DevPlatform:
    """Start `subway-platform dev` on a free port; return once the code location is loaded."""
    port = free_port()
    log_path = state_dir / "dev.log"
    process = spawn_dev(state_dir, port, log_path)
    dev = DevPlatform(process=process, port=port, state_dir=state_dir, log_path=log_path)
    try:
        status = wait_for_location(process, port, START_TIMEOUT)
        if process.poll() is not None:
            raise RuntimeError(f"subway-platform dev exited early:\n{dev.log_tail()}")
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
