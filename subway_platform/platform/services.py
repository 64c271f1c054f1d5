"""The embedded platform: PostgreSQL, an S3 API (moto) and optionally a Sail server.

``EmbeddedServices`` starts everything the platform needs on one machine, bound to
127.0.0.1 on free ports, and returns the environment variables that point the code
location at it (the same variables a production deployment sets). Use it as a
context manager; children are also stopped at interpreter exit and on SIGTERM/SIGHUP
(SIGINT unwinds as KeyboardInterrupt through the context manager).

What survives a restart: everything under ``state_dir``: PostgreSQL's data (mart, ELT
log, Dagster runs and asset history), the archive and the Delta lake (local directories
there). The landing zone does NOT: it is moto's S3 server, which keeps objects in memory,
so it starts empty at each start. (Its request recorder, ``MOTO_ENABLE_RECORDING``, cannot
stand in for persistence: replaying a recording re-sends multipart uploads with upload ids
that the new server never issued, so every multipart object silently disappears.)
Nothing re-seeds the landing zone behind your back.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import signal
import sys
import threading
from importlib import resources
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

from subway_platform.platform.postgres import EmbeddedPostgres
from subway_platform.platform.processes import ManagedProcess, ServiceError, free_port
from subway_platform.process_settings import EVENT_BATCH_SIZE

BUCKET = "subway"
COMPUTE_LOG_BUCKET_ENV = "DAGSTER_COMPUTE_LOG_BUCKET"
REGION = "us-east-1"
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _venv_bin(name: str) -> Path:
    """A console script installed next to this interpreter (the project's venv)."""
    return Path(sys.executable).parent / name


class EmbeddedServices:
    """PostgreSQL + moto S3 (+ a Sail Spark Connect server), data kept under ``state_dir``.

    ``start()`` returns the environment to apply (``SUBWAY_*``, ``AWS_*``,
    ``DAGSTER_HOME``, ``DAGSTER_PG_URL``, ``DAGSTER_COMPUTE_LOG_BUCKET`` and, with
    ``sail_server=True``, ``SPARK_REMOTE``).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        sail_server: bool = False,
        sail_mode: str | None = None,
        engine: str = "sail",
        spark_workers: int = 0,
    ) -> None:
        if engine not in ("sail", "spark"):
            raise ValueError(f"engine must be 'sail' or 'spark', not {engine!r}")
        self.state_dir = Path(state_dir).resolve()
        self.sail_server = sail_server
        self.sail_mode = sail_mode
        self.engine = engine
        self.spark_workers = spark_workers
        self.spark: Any = None
        self.postgres = EmbeddedPostgres(
            self.state_dir / "postgres", self.state_dir / "postgres.password"
        )
        self.moto: ManagedProcess | None = None
        self.sail: ManagedProcess | None = None
        self.env: dict[str, str] = {}
        self._lock: IO[str] | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._started = False

    # -- context manager ----------------------------------------------------------------
    def __enter__(self) -> dict[str, str]:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Start every service and return the environment variables that point at them."""
        if self._started:
            return dict(self.env)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._started = True
        atexit.register(self.stop)
        self._install_signal_handlers()
        try:
            self.postgres.start()
            aws = self._start_s3()
            self.env = {
                # Files arrive over the S3 API (what the landing sensor watches); the
                # archive and the Delta lake live in the state dir, because moto keeps
                # S3 in memory only and a restart must not lose the tables.
                "SUBWAY_LANDING_URL": f"s3://{BUCKET}/landing",
                "SUBWAY_ARCHIVE_URL": str((self.state_dir / "archive").resolve()),
                "SUBWAY_LAKE_URL": str((self.state_dir / "lake").resolve()),
                "SUBWAY_MART_DSN": self.postgres.dsn("subway"),
                # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, with which
                # dagster-postgres 0.29.27 fails to store events ("NOTIFY run_events,
                # $1": server-side binding); name the driver it is written for.
                "DAGSTER_PG_URL": self.postgres.dsn("dagster", driver="psycopg2"),
                # Batched event writes (process_settings.py), also in the daemon.
                "DAGSTER_EVENT_BATCH_SIZE": os.environ.get(
                    "DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE
                ),
                **aws,
                # dagster.yaml's S3ComputeLogManager writes step logs to this bucket of the
                # embedded S3 (created above), at AWS_ENDPOINT_URL.
                COMPUTE_LOG_BUCKET_ENV: BUCKET,
                "DAGSTER_HOME": str(self._write_dagster_home()),
            }
            if self.engine == "spark":
                self.env["SPARK_REMOTE"] = self._start_spark(
                    {**aws, "SUBWAY_MART_DSN": self.env["SUBWAY_MART_DSN"]}
                )
            elif self.sail_server:
                # The engine's workers run the mart's COPY writer, which reads
                # SUBWAY_MART_DSN from their own environment.
                self.env["SPARK_REMOTE"] = self._start_sail(
                    {**aws, "SUBWAY_MART_DSN": self.env["SUBWAY_MART_DSN"]}
                )
        except BaseException:
            self.stop()
            raise
        return dict(self.env)

    def stop(self) -> None:
        """Stop every child (Sail, moto, PostgreSQL); safe to call more than once."""
        if not self._started:
            return
        self._started = False
        errors: list[str] = []
        if self.spark is not None:
            from subway_platform.resources.spark import stop_sessions

            stop_sessions(self.spark.url)
            self.spark.stop()
            self.spark = None
        for proc in (self.sail, self.moto):
            if proc is not None:
                proc.stop()
        self.sail = self.moto = None
        try:
            self.postgres.stop()
        except ServiceError as err:
            errors.append(str(err))
        self._restore_signal_handlers()
        atexit.unregister(self.stop)
        self._release_lock()
        if errors:
            raise ServiceError("; ".join(errors))

    def child_pids(self) -> list[int]:
        """Process ids of the servers started (group leaders and the postmaster)."""
        pids = [p.pid for p in (self.moto, self.sail) if p is not None and p.pid is not None]
        pg_pid = self.postgres.server_pid()
        if pg_pid is not None:
            pids.append(pg_pid)
        return pids

    # -- services ------------------------------------------------------------------------
    def _start_s3(self) -> dict[str, str]:
        port = free_port()
        aws = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            # moto accepts any key; fresh ones each start since its data is in memory.
            "AWS_ACCESS_KEY_ID": "subway" + secrets.token_hex(6),
            "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(24),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ALLOW_HTTP": "true",
        }
        self.moto = ManagedProcess(
            "moto S3 server",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **aws},
            log_path=self.state_dir / "logs" / "moto.log",
        )
        self.moto.start()
        self.moto.wait_for_port(port, timeout=60)
        import boto3  # imported here: only this step needs it

        client = boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        )
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if BUCKET not in existing:
            client.create_bucket(Bucket=BUCKET)
        return aws

    def _start_sail(self, aws: dict[str, str]) -> str:
        sail = _venv_bin("sail")
        if not sail.exists():
            found = shutil.which("sail")
            if not found:
                raise ServiceError("the `sail` command (package pysail) was not found")
            sail = Path(found)
        port = free_port()
        # Sail reads and writes the lake itself, so it needs the S3 endpoint and keys (and
        # the mart DSN for the COPY writer that runs on its workers).
        env = {**os.environ, **aws}
        if self.sail_mode:
            env["SAIL_MODE"] = self.sail_mode
        self.sail = ManagedProcess(
            "Sail Spark Connect server",
            [str(sail), "spark", "server", "--ip", "127.0.0.1", "--port", str(port)],
            env=env,
            log_path=self.state_dir / "logs" / "sail.log",
            cwd=self.state_dir,
        )
        self.sail.start()
        self.sail.wait_for_port(port, timeout=120)
        return f"sc://127.0.0.1:{port}"

    def _start_spark(self, aws: dict[str, str]) -> str:
        """An Apache Spark 4.2 Connect server with delta-spark (and a standalone cluster
        of ``spark_workers`` workers when > 0) that reads the lake with these keys."""
        from subway_platform.platform.spark.server import ApacheSparkServer

        self.spark = ApacheSparkServer(
            self.state_dir / "logs" / "spark", {**os.environ, **aws}, workers=self.spark_workers
        )
        return self.spark.start()

    def _write_dagster_home(self) -> Path:
        """``state_dir/dagster_home`` holding the project's ``dagster.yaml`` (refreshed)."""
        home = self.state_dir / "dagster_home"
        home.mkdir(exist_ok=True)
        source = resources.files("subway_platform.platform").joinpath("dagster.yaml")
        (home / "dagster.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        return home

    # -- one live stack per state dir ------------------------------------------------------
    def _take_lock(self) -> None:
        lock = open(self.state_dir / ".lock", "w")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ServiceError(
                f"another subway-platform process is using the state dir {self.state_dir}"
            ) from None
        self._lock = lock

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # -- signals -----------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        # Python may only set handlers from the main thread; elsewhere atexit and the
        # context manager still stop the children.
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in _SIGNALS:
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Unwind like Ctrl-C does, so context managers and atexit stop the children.
        raise SystemExit(128 + signum)
