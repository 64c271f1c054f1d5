"""The Spark engine: a Spark Connect session on embedded Sail or on any Spark Connect server.

With ``SPARK_REMOTE`` unset, the first session in a process starts Sail (``pysail``) inside
the process on 127.0.0.1 and every later session reuses it; it stops at interpreter exit.
``SAIL_MODE=local-cluster`` (read by Sail itself) runs Sail's driver and workers as
separate processes. With ``SPARK_REMOTE=sc://host:port`` the session connects there: a
Spark 4 Connect server with Delta Lake, or a Sail cluster.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

import dagster as dg
from dagster_pyspark import PySparkResource
from dagster_pyspark.resources import spark_session_from_config
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
    """The Spark Connect URL: ``remote``, else ``SPARK_REMOTE``, else embedded Sail."""
    return remote or os.environ.get("SPARK_REMOTE") or embedded_sail_url()


class SparkEngine(PySparkResource):
    """Spark Connect session for the pipeline's DataFrame and SQL work.

    ``remote`` defaults to ``SPARK_REMOTE`` (read when the session starts); empty means
    embedded Sail in this process.
    Built on dagster-pyspark's ``PySparkResource``: ``spark_config`` entries are passed to
    the session builder, with ``spark.remote`` set from ``remote``.
    """

    spark_config: dict[str, Any] = {}
    remote: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        config = dict(self.spark_config)
        config["spark.remote"] = spark_remote_url(self.remote or None)
        self._spark_session = spark_session_from_config(config)

    @property
    def spark_session(self) -> SparkSession:
        if self._spark_session is None:
            config = dict(self.spark_config)
            config["spark.remote"] = spark_remote_url(self.remote or None)
            self._spark_session = spark_session_from_config(config)
        return self._spark_session
