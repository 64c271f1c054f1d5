"""The production topology on one machine: Dagster's three services as separate processes.

On top of :class:`~subway_platform.platform.services.EmbeddedServices` (PostgreSQL, the S3
API, a Sail server), this starts on 127.0.0.1:

- the code location's gRPC server:
  ``dagster code-server start -m subway_platform.definitions -h 127.0.0.1 -p N``;
- the daemon: ``dagster-daemon run -w deploy/workspace.yaml`` (sensors, the run queue,
  run monitoring, run retries);
- the webserver: ``dagster-webserver -w deploy/workspace.yaml -h 127.0.0.1 -p M``.

The workspace points at the code server (host and port from ``SUBWAY_CODE_SERVER_HOST``
and ``SUBWAY_CODE_SERVER_PORT``); ``DAGSTER_HOME`` holds the project's dagster.yaml
(PostgreSQL instance storage, queued runs, run monitoring and retries). Each run is its
own process (``dagster api execute_run``), launched by the code server.

:meth:`Topology.kill` (SIGKILL to one service's process, like a crash) and
:meth:`Topology.restart` are what the crash drills use.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

from subway_platform.platform.processes import ManagedProcess, ServiceError, free_port
from subway_platform.platform.services import EmbeddedServices

Service = Literal["code_server", "daemon", "webserver"]
SERVICES: tuple[Service, ...] = ("code_server", "daemon", "webserver")
LOCATION_NAME = "subway_platform"
CODE_MODULE = "subway_platform.definitions"
HOST = "127.0.0.1"
WORKSPACE_TEXT = """\
load_from:
  - grpc_server:
      host:
        env: SUBWAY_CODE_SERVER_HOST
      port:
        env: SUBWAY_CODE_SERVER_PORT
      location_name: subway_platform
"""
"""deploy/workspace.yaml without its comments (used when the package runs outside the
repository, where deploy/ is absent)."""


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def workspace_file(state_dir: Path) -> Path:
    """The repository's deploy/workspace.yaml, or a copy of it written in ``state_dir``."""
    repo_file = Path(__file__).resolve().parents[2] / "deploy" / "workspace.yaml"
    if repo_file.is_file():
        return repo_file
    path = state_dir / "workspace.yaml"
    path.write_text(WORKSPACE_TEXT, encoding="utf-8")
    return path


class Topology:
    """Embedded services + code server + daemon + webserver, each its own process.

    ``start()`` returns the environment (the services' plus the code server's host and
    port and the UI's URL). Use it as a context manager.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        webserver: bool = True,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.services = EmbeddedServices(self.state_dir, sail_server=True)
        self.extra_env = dict(extra_env or {})
        self.with_webserver = webserver
        self.env: dict[str, str] = {}
        self.workspace: Path | None = None
        self.code_port = 0
        self.ui_port = 0
        self.procs: dict[Service, ManagedProcess] = {}

    def __enter__(self) -> dict[str, str]:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def ui_url(self) -> str:
        """The webserver's URL."""
        return f"http://{HOST}:{self.ui_port}"

    def start(self, *, daemon: bool = True) -> dict[str, str]:
        """Start the services, create Dagster's tables, then the three Dagster services
        (``daemon=False``: all but the daemon, started later with ``start_service``)."""
        try:
            env = self.services.start()
            self.code_port, self.ui_port = free_port(), free_port()
            self.env = {
                **os.environ,
                **env,
                **self.extra_env,
                "SUBWAY_CODE_SERVER_HOST": HOST,
                "SUBWAY_CODE_SERVER_PORT": str(self.code_port),
            }
            self.workspace = workspace_file(self.state_dir)
            self._init_storage()
            for name in SERVICES:
                if (name != "webserver" or self.with_webserver) and (name != "daemon" or daemon):
                    self.start_service(name)
        except BaseException:
            self.stop()
            raise
        return dict(self.env)

    def _init_storage(self) -> None:
        """Create Dagster's tables once, before the three services race to."""
        from subway_platform.platform.processes import run_checked

        code = "import dagster; dagster.DagsterInstance.get().dispose()"
        run_checked([sys.executable, "-c", code], what="creating Dagster's tables", env=self.env)

    def _argv(self, name: Service) -> list[str]:
        workspace = str(self.workspace)
        if name == "code_server":
            return [
                _bin("dagster"), "code-server", "start", "-m", CODE_MODULE,
                "-h", HOST, "-p", str(self.code_port), "--location-name", LOCATION_NAME,
            ]  # fmt: skip
        if name == "daemon":
            return [_bin("dagster-daemon"), "run", "-w", workspace]
        return [
            _bin("dagster-webserver"), "-w", workspace, "-h", HOST, "-p", str(self.ui_port),
        ]  # fmt: skip

    def start_service(self, name: Service, timeout: float = 180.0) -> None:
        """Start one service and wait until it is ready (a port, or the daemon's heartbeat
        process being alive a moment)."""
        proc = ManagedProcess(
            f"dagster {name}",
            self._argv(name),
            env=self.env,
            log_path=self.state_dir / "logs" / f"{name}.log",
            cwd=self.state_dir,
        )
        proc.start()
        self.procs[name] = proc
        if name == "code_server":
            proc.wait_for_port(self.code_port, timeout)
        elif name == "webserver":
            proc.wait_for_port(self.ui_port, timeout)

    def pid(self, name: Service) -> int:
        """Process id of a running service."""
        proc = self.procs.get(name)
        if proc is None or proc.pid is None:
            raise ServiceError(f"{name} is not running")
        return proc.pid

    def kill(self, name: Service) -> None:
        """SIGKILL the service's process only (a crash: what it started is left alone)."""
        proc = self.procs.pop(name)
        assert proc.popen is not None
        try:
            os.kill(proc.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.popen.wait()

    def stop_service(self, name: Service) -> None:
        """Stop a service cleanly (SIGTERM to its process group, SIGKILL after 15 s)."""
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def restart(self, name: Service) -> float:
        """(Re)start a stopped or killed service; return the seconds until it was ready."""
        if name in self.procs:
            self.stop_service(name)
        began = time.monotonic()
        self.start_service(name)
        return time.monotonic() - began

    def restart_postgres(self) -> float:
        """Restart the embedded PostgreSQL (instance storage and mart) on the same port, as
        an operator's ``pg_ctl restart``; return the seconds it took (the outage)."""
        began = time.monotonic()
        self.services.postgres.restart()
        return time.monotonic() - began

    def log_tail(self, name: Service, lines: int = 40) -> str:
        """The last lines of a service's log (redacted)."""
        proc = self.procs.get(name)
        if proc is not None:
            return proc.log_tail(lines)
        path = self.state_dir / "logs" / f"{name}.log"
        return ManagedProcess(name, [], env={}, log_path=path).log_tail(lines)

    def stop(self) -> None:
        """Stop the webserver, the daemon, the code server, then the embedded services."""
        for name in reversed(SERVICES):
            self.stop_service(name)
        self.services.stop()
