"""The Spark engine: a Spark Connect session on embedded Sail or on any Spark Connect server,
or a classic Spark session (the seed's way) through dagster-pyspark's ``PySparkResource``.

With ``SPARK_REMOTE`` unset, the first session in a process starts Sail (``pysail``) inside
the process on 127.0.0.1 and every later session reuses it; it stops at interpreter exit.
``SAIL_MODE=local-cluster`` (read by Sail itself) runs Sail's driver and workers as
separate processes. With ``SPARK_REMOTE=sc://host:port`` the session connects there: a
Spark 4 Connect server with Delta Lake, or a Sail cluster. With ``SUBWAY_SPARK_MASTER``
(``spark://…``, ``k8s://…``, ``local[N]``; set as the resource's ``master``) the session is
classic: its driver is the run worker, built by ``platform/spark/classic.py`` with
delta-spark's ``configure_spark_with_delta_pip`` on the cached jars, and its executors are
sized per job (the ``subway/spark.executor.*`` run tags, else this resource's fields).
"""

import atexit
import os
import threading
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

from subway_platform.platform.spark.sizing import ExecutorSizing, sizing_from_tags
from subway_platform.resources.masking import MaskedResource

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_LOCK = threading.Lock()
_EMBEDDED: Any = None
_EMBEDDED_URL: str | None = None


def embedded_sail_url() -> str:
    """Start Sail in this process once (bound to 127.0.0.1) and return its ``sc://`` URL."""
    global _EMBEDDED, _EMBEDDED_URL
    with _LOCK:
        if _EMBEDDED_URL is None:
            # Sail's S3 client reads these; without them it may probe cloud metadata.
            os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
            # Sail logs every session and plan at INFO; keep warnings unless asked.
            os.environ.setdefault("RUST_LOG", "warn")
            from pysail.spark import SparkConnectServer

            server = SparkConnectServer(ip="127.0.0.1", port=0)
            server.start(background=True)
            host, port = server.listening_address
            _EMBEDDED, _EMBEDDED_URL = server, f"sc://{host}:{port}"
            atexit.register(_stop_embedded)
        return _EMBEDDED_URL


def _stop_embedded() -> None:
    global _EMBEDDED, _EMBEDDED_URL
    with _LOCK:
        if _EMBEDDED is not None:
            try:
                _EMBEDDED.stop()
            finally:
                _EMBEDDED, _EMBEDDED_URL = None, None


def spark_remote_url(remote: str | None) -> str:
    """The Spark Connect URL: ``remote``, else embedded Sail."""
    return remote or embedded_sail_url()


_SESSIONS: "dict[str, SparkSession]" = {}


def connect_session(url: str, config: dict[str, Any] | None = None) -> "SparkSession":
    """The process's Spark Connect session for ``url``: one per URL, made on first use.

    pyspark's ``getOrCreate`` returns whatever default session exists, whatever its URL;
    a process that talks to two engines (the test suite, the benchmark) needs one
    session per engine, so sessions are kept here by URL and re-made once stopped.
    """
    from pyspark.sql import SparkSession

    with _LOCK:
        session = _SESSIONS.get(url)
        if session is not None and not session.is_stopped and not _alive(session):
            # The server ended the session (Sail releases idle sessions; a restarted
            # server knows none): make a new one instead of failing every call.
            session = None
        if session is None or session.is_stopped:
            builder = SparkSession.builder.remote(url)
            for key, value in (config or {}).items():
                builder = builder.config(key, value)
            session = builder.create()
            _SESSIONS[url] = session
        return session


def _alive(session: "SparkSession") -> bool:
    """Whether the server still runs ``session`` (one small config round trip)."""
    try:
        session.conf.get("spark.sql.session.timeZone")
    except Exception:  # noqa: BLE001 - any failure means the session cannot be used
        return False
    return True


def stop_sessions(url: str | None = None) -> None:
    """Stop the sessions on ``url`` (all when None), before that server goes away."""
    with _LOCK:
        for key in [k for k in _SESSIONS if url is None or k == url]:
            session = _SESSIONS.pop(key)
            if not session.is_stopped:
                session.stop()


class SparkEngine(MaskedResource):
    """Spark Connect session for the pipeline's DataFrame and SQL work.

    ``remote`` is ``SPARK_REMOTE`` (wired by ``resources/environment.py`` when the code
    location loads); empty means embedded Sail in this process. A URL is either embedded
    Sail, a Sail server or an Apache Spark 4.2 Connect server with delta-spark
    (``subway-platform spark-server``).
    ``spark_config`` entries are passed to the session builder (as dagster-pyspark's
    ``PySparkResource`` does; this resource does not build on it because importing it
    imports pyspark, which only a step that runs Spark should pay for).
    """

    spark_config: dict[str, Any] = {}
    remote: str | None = None
    master: str | None = None
    """Classic Spark master (``SUBWAY_SPARK_MASTER``); exclusive with ``remote``."""
    executor_instances: int | None = None
    """Executors of a classic session; a run's ``subway/spark.executor.instances`` tag wins."""
    executor_memory: str | None = None
    """Memory per executor (``2g``); a run's ``subway/spark.executor.memory`` tag wins."""
    executor_cores: int | None = None
    """Cores per executor; a run's ``subway/spark.executor.cores`` tag wins."""
    _spark_session: Any = PrivateAttr(default=None)
    _sizing: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._spark_session = None
        run = context.run
        tags = dict(run.tags) if run is not None else {}
        self._sizing = sizing_from_tags(
            tags,
            ExecutorSizing(self.executor_instances, self.executor_memory, self.executor_cores),
        )

    @property
    def sizing(self) -> ExecutorSizing:
        """The executors a classic session asks for (run tags over this resource's fields)."""
        if self._sizing is None:
            self._sizing = sizing_from_tags(
                {},
                ExecutorSizing(self.executor_instances, self.executor_memory, self.executor_cores),
            )
        return self._sizing

    @property
    def spark_session(self) -> "SparkSession":
        """The session, made on first use in the step (connecting is not free)."""
        if self._spark_session is None and self.master:
            from subway_platform.platform.spark.classic import classic_session

            self._spark_session = classic_session(self.master, self.sizing, self.spark_config)
        if self._spark_session is None:
            url = spark_remote_url(self.remote or None)
            config = {k: v for k, v in self.spark_config.items() if k != "spark.remote"}
            self._spark_session = connect_session(url, config)
        return self._spark_session
