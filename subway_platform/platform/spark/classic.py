"""A classic Spark session whose driver is this process (the run worker), the seed's way.

Built by dagster-pyspark's ``PySparkResource`` (its ``spark_session``) from the settings
delta-spark's ``configure_spark_with_delta_pip`` puts on a builder. That function names
the delta-spark Maven package in ``spark.jars.packages``, which Spark would download
through Ivy when the session starts; the package list is emptied again and ``spark.jars``
points at the jars cached by ``subway-platform spark-jars`` (``platform/spark/jars.py``),
so nothing is downloaded at run time. S3A reads its keys from the environment, never from the conf.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from subway_platform.platform.spark.jars import cached_jars
from subway_platform.platform.spark.server import delta_conf, s3a_conf
from subway_platform.platform.spark.sizing import ExecutorSizing

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_LOCK = threading.Lock()
_CURRENT: dict[str, Any] = {}
APP_NAME = "subway_platform"


def classic_conf(master: str, sizing: ExecutorSizing, extra: dict[str, Any]) -> dict[str, str]:
    """The Spark properties of a classic session on ``master``: Delta, S3A, the cached jars,
    the job's executors and ``extra`` (the resource's ``spark_config``)."""
    conf = {
        **delta_conf(),
        **s3a_conf(os.environ),
        "spark.master": master,
        "spark.app.name": APP_NAME,
        "spark.jars": ",".join(str(p) for p in cached_jars()),
        "spark.jars.packages": "",
        "spark.executorEnv.PYSPARK_PYTHON": sys.executable,
        "spark.pyspark.python": sys.executable,
        "spark.sql.shuffle.partitions": "4",
        **sizing.conf(),
    }
    conf.update({k: str(v) for k, v in extra.items() if k not in ("spark.remote",)})
    return {k: v for k, v in conf.items() if v != "" or k == "spark.jars.packages"}


def delta_pip_conf() -> dict[str, str]:
    """What delta-spark's ``configure_spark_with_delta_pip`` sets on a builder, with its
    Maven package list emptied: the cached jars (``spark.jars``) hold that package."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = configure_spark_with_delta_pip(SparkSession.builder, extra_packages=[])
    options = {str(k): str(v) for k, v in builder._options.items()}  # noqa: SLF001
    packages = options.get("spark.jars.packages", "")
    if "io.delta:delta-spark" not in packages:
        raise RuntimeError(f"configure_spark_with_delta_pip did not name delta-spark: {packages}")
    return {**options, "spark.jars.packages": ""}


def pyspark_resource(conf: dict[str, str]) -> Any:
    """dagster-pyspark's ``PySparkResource`` for ``conf`` plus delta-spark's pip settings,
    set up (its ``spark_session`` is the started classic session)."""
    import dagster as dg
    from dagster_pyspark import PySparkResource

    resource = PySparkResource(spark_config={**delta_pip_conf(), **conf})
    resource.setup_for_execution(dg.build_init_resource_context())
    return resource


def classic_session(master: str, sizing: ExecutorSizing, extra: dict[str, Any]) -> "SparkSession":
    """The process's classic session for ``master`` and ``sizing``: one per process (one
    SparkContext), remade when a step asks for another master or sizing."""
    conf = classic_conf(master, sizing, extra)
    # The driver JVM (this process's child) runs the Python data sources' planning (the mart
    # sink) with PYSPARK_PYTHON from its environment, not the conf: this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    key = repr(sorted(conf.items()))
    with _LOCK:
        session = _CURRENT.get("session")
        if session is not None and _CURRENT.get("key") == key and _usable(session):
            return session
        if session is not None:
            session.stop()
        # pyspark marks the process as "Spark Connect" (SPARK_CONNECT_MODE_ENABLED) once it
        # has made a Connect session, and then its builder makes only Connect sessions and
        # pyspark.sql.functions build Connect columns. A classic session is asked for here:
        # the mark goes (the next Connect session pyspark makes sets it again).
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
        resource = pyspark_resource(conf)
        session = resource.spark_session
        _CURRENT.update(session=session, key=key, resource=resource)
        return session


def _usable(session: "SparkSession") -> bool:
    try:
        return not session.sparkContext._jsc.sc().isStopped()  # noqa: SLF001
    except Exception:  # noqa: BLE001 - a dead JVM: make a new session
        return False


def stop_classic() -> None:
    """Stop the process's classic session (the executors leave the cluster)."""
    with _LOCK:
        session = _CURRENT.pop("session", None)
        _CURRENT.clear()
        if session is not None:
            session.stop()
