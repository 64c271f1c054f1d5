"""The embedded PostgreSQL: the system's binaries, a data directory under the state dir.

It holds the mart, the ELT log (database ``subway``) and Dagster's instance storage
(database ``dagster``). ``initdb`` runs once; later starts reuse the data. The server
listens on 127.0.0.1 only, on a port chosen at each start, and requires a password
(SCRAM) that is generated once and kept in a 0600 file in the state dir.

PostgreSQL refuses to run as root. When this process is root (containers, CI), the
server runs as the system's ``postgres`` user (or ``nobody``), which must be able to
enter the state dir.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shlex
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from subway_platform.platform.processes import ServiceError, free_port, run_checked

PG_USER = "subway"
DATABASES = ("subway", "dagster")
"""``subway``: mart and ELT log; ``dagster``: Dagster instance storage."""

# A unix socket path longer than this does not fit in sockaddr_un (107 bytes on Linux).
_MAX_SOCKET_DIR = 90


def find_pg_binary(name: str) -> Path:
    """Path of a PostgreSQL server binary (``initdb``, ``pg_ctl``): PATH, then Debian's dirs."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parent.parent.name)
        if Path(p).parent.parent.name.isdigit()
        else 0,
        reverse=True,
    )
    if candidates:
        return Path(candidates[0])
    raise ServiceError(
        f"PostgreSQL's {name} was not found in PATH or /usr/lib/postgresql/*/bin: "
        "install the server binaries (Debian/Ubuntu: apt-get install postgresql)"
    )


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``root`` (``root/data``, ``root/run``)."""

    def __init__(self, root: Path, password_file: Path) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.socket_dir = root / "run"
        self.log_file = root / "postgres.log"
        self.password_file = password_file
        self.port: int | None = None
        self._initdb = find_pg_binary("initdb")
        self._pg_ctl = find_pg_binary("pg_ctl")
        self._owner = _server_account()

    # -- the password ---------------------------------------------------------------
    def password(self) -> str:
        """The server password, generated on first use and kept in a 0600 file."""
        if not self.password_file.exists():
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        os.chmod(self.password_file, 0o600)
        return self.password_file.read_text().strip()

    def dsn(self, database: str, driver: str | None = None) -> str:
        """``postgresql://`` URL of ``database`` (``postgresql+driver://`` for SQLAlchemy)."""
        if self.port is None:
            raise ServiceError("PostgreSQL is not running")
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{PG_USER}:{self.password()}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """initdb if needed, start the server on a free port, create the databases."""
        self._prepare_root()
        if not (self.data_dir / "PG_VERSION").exists():
            self._init_cluster()
        self._stop_leftover()
        self.port = free_port()
        socket_dir = str(self.socket_dir) if len(str(self.socket_dir)) <= _MAX_SOCKET_DIR else ""
        # pg_ctl hands -o to the server through /bin/sh, hence the quoting.
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={shlex.quote(socket_dir)}",
            ]
        )
        # The server gets its own session so that a Ctrl-C in the terminal does not
        # reach it before the databases are cleanly stopped by stop().
        run_checked(
            [
                str(self._pg_ctl),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
            ],
            what=f"pg_ctl start (log: {self.log_file})",
            start_new_session=True,
            **self._as_owner(),
        )
        self._create_databases()

    def stop(self) -> None:
        """Fast shutdown (disconnects clients, no recovery needed on the next start)."""
        if self.port is None:
            return
        self.port = None
        run_checked(
            [str(self._pg_ctl), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"],
            what="pg_ctl stop",
            **self._as_owner(),
        )

    def restart(self) -> None:
        """Fast shutdown and start on the same port, as an operator's ``pg_ctl restart``:
        every client connection is cut; new ones succeed once it is back."""
        if self.port is None:
            raise ServiceError("PostgreSQL is not running")
        run_checked(
            [str(self._pg_ctl), "restart", "-D", str(self.data_dir), "-l", str(self.log_file)]
            + ["-m", "fast", "-w", "-t", "60"],
            what="pg_ctl restart",
            start_new_session=True,
            **self._as_owner(),
        )

    def server_pid(self) -> int | None:
        """Process id of the postmaster from ``postmaster.pid``, if it exists."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    # -- internals ----------------------------------------------------------------------
    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._owner is not None:
            uid, gid = self._owner
            _check_traversable(self.root, uid)
            for path in (self.root, self.socket_dir):
                os.chown(path, uid, gid)
            os.chmod(self.root, 0o700)

    def _init_cluster(self) -> None:
        # initdb reads the password from a file the server account can read; the
        # copy is removed right after.
        pwfile = self.root / ".initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.password() + "\n")
        if self._owner is not None:
            os.chown(pwfile, *self._owner)
        try:
            run_checked(
                [
                    str(self._initdb),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                what="initdb",
                **self._as_owner(),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# subway_platform: loopback only, passwords hashed with SCRAM\n"
                "listen_addresses = '127.0.0.1'\n"
                "password_encryption = 'scram-sha-256'\n"
            )

    def _stop_leftover(self) -> None:
        """Stop a server left running by a previous run that was killed.

        The caller holds the state dir's lock, so a running server here belongs to no
        live session.
        """
        status = subprocess.run(
            [str(self._pg_ctl), "status", "-D", str(self.data_dir)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            **self._as_owner(),
        )
        if status.returncode == 0:
            run_checked(
                [str(self._pg_ctl), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"],
                what="pg_ctl stop (leftover server)",
                **self._as_owner(),
            )

    def _create_databases(self) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            for name in DATABASES:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def _as_owner(self) -> dict[str, Any]:
        if self._owner is None:
            return {}
        uid, gid = self._owner
        return {"user": uid, "group": gid, "extra_groups": []}


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise ServiceError(
        "PostgreSQL cannot run as root and neither a 'postgres' nor a 'nobody' user exists"
    )


def _check_traversable(path: Path, uid: int) -> None:
    """Fail clearly if the server account cannot enter every parent of ``path``."""
    for parent in path.resolve().parents:
        info = parent.stat()
        if info.st_uid == uid:
            continue
        if not info.st_mode & stat.S_IXOTH:
            raise ServiceError(
                f"PostgreSQL runs as uid {uid} (it refuses root) and cannot enter {parent}: "
                "choose a state dir whose parents are world-searchable (chmod o+x)"
            )
