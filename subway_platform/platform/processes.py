"""Child processes of the embedded platform: free ports, readiness waits, clean stops.

Every server the platform starts runs in its own process group (its own session), so
that stopping it also stops whatever it forked, and a Ctrl-C in the terminal reaches
only the `subway-platform` command, which then stops its children in order.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """An embedded service could not be found, started or reached."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def child_setup() -> None:
    """Prepare a server child between fork and exec (pass as ``preexec_fn``).

    - its own session and process group, stopped as a whole by ``stop_process_group``;
    - SIGINT/SIGTERM back to their defaults: a parent started in the background of a
      shell ignores SIGINT, and ignored signals are inherited across exec, which would
      make the child deaf to the Ctrl-C we forward;
    - SIGTERM from the kernel if the parent dies (even by SIGKILL), so a killed
      `subway-platform` leaves no server behind (Linux only; skipped elsewhere).
    """
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class ManagedProcess:
    """A server started as the leader of its own process group, stopped with its group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process, its output appended to ``log_path``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=child_setup,  # noqa: PLW1509 - started from the main thread
            )

    @property
    def pid(self) -> int | None:
        """Process id of the group leader, or None before start."""
        return self.popen.pid if self.popen else None

    def log_tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of the process's log (redacted, each cut at 300
        characters), so an error still says why after a temporary state dir is gone."""
        from subway_platform.redact import redact

        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = [line[:300] for line in text.splitlines()[-lines:]]
        return redact("\n".join(tail)) or "(empty log)"

    def wait_for_port(self, port: int, timeout: float) -> None:
        """Wait until ``port`` accepts connections; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self.popen.returncode} before listening "
                    f"on 127.0.0.1:{port}; see {self.log_path}; its last lines:\n" + self.log_tail()
                )
            if port_accepts(port):
                return
            time.sleep(0.1)
        raise ServiceError(
            f"{self.name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s; "
            f"see {self.log_path}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Signal the whole process group, wait, then SIGKILL what is left."""
        if self.popen is None:
            return
        stop_process_group(self.popen, sig, timeout)
        self.popen = None


def stop_process_group(popen: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    """Send ``sig`` to the group led by ``popen``, wait ``timeout``, then SIGKILL the group."""
    pgid = popen.pid
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    # Members of the group may outlive the leader (workers it forked): kill them too.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    popen.wait()


def run_checked(
    argv: Sequence[str], *, what: str, env: Mapping[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a short command; raise ServiceError with its output when it fails."""
    done = subprocess.run(  # noqa: PLW1510 - checked below, with the output in the error
        list(argv),
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        **kwargs,  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        tail = " | ".join(output[-5:])
        raise ServiceError(f"{what} failed (exit {done.returncode}): {tail}")
    return done
