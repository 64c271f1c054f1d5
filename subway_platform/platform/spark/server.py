"""An Apache Spark 4.2 Connect server with Delta Lake, started from pyspark's distribution.

``ApacheSparkServer`` runs what a user runs on a cluster, on loopback:
- with ``workers=0``, one Spark Connect server whose driver runs tasks in ``local[2]``;
- with ``workers=N``, a Spark standalone cluster (a master and N worker processes,
  ``bin/spark-class``) and a Spark Connect server whose driver uses it.

The server gets the jars that ``jars.resolve_jars`` put in the cache (delta-spark, the
PostgreSQL JDBC driver, hadoop-aws), Delta's SQL extension and catalog, and S3A settings
for the lake's endpoint. S3 keys reach the JVM through the environment (the AWS SDK's
environment credentials provider), never on a command line. Everything binds to
127.0.0.1; ``sc://127.0.0.1:<port>`` is the URL to give ``SPARK_REMOTE``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from subway_platform.platform.processes import ManagedProcess, ServiceError, free_port
from subway_platform.platform.spark.jars import cached_jars, spark_home

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT_S = 180.0


def delta_conf() -> dict[str, str]:
    """Delta Lake's session extension and catalog (what delta-spark's docs prescribe)."""
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }


def s3a_conf(env: Mapping[str, str]) -> dict[str, str]:
    """S3A settings for ``s3://`` and ``s3a://`` paths on the endpoint in ``env``.

    Keys come from the process environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``)
    through the SDK's environment provider, so no secret is part of the Spark conf (which
    the Spark UI and logs show).
    """
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider"
        ),
        "spark.hadoop.fs.s3a.endpoint.region": env.get("AWS_REGION", "us-east-1"),
        # Delta's log on S3 needs a single writer per table: one driver, as here.
        "spark.delta.logStore.s3.impl": "io.delta.storage.S3SingleDriverLogStore",
    }
    endpoint = env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint)
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(parsed.scheme == "https").lower()
    return conf


class ApacheSparkServer:
    """A Spark Connect server with Delta (and optionally a standalone cluster) on loopback.

    ``env`` is the platform's environment (``AWS_*``, ``SUBWAY_MART_DSN``): the server
    and the workers inherit it, so that Python data sources on the workers reach
    PostgreSQL and S3A finds its keys.
    """

    def __init__(
        self,
        log_dir: Path,
        env: Mapping[str, str],
        *,
        port: int | None = None,
        workers: int = 0,
        worker_memory: str = "2g",
        driver_memory: str = "2g",
    ) -> None:
        self.log_dir = Path(log_dir)
        self.base_env = dict(env)
        self.port = port or free_port()
        self.workers = workers
        self.worker_memory = worker_memory
        self.driver_memory = driver_memory
        self.master: ManagedProcess | None = None
        self.worker_procs: list[ManagedProcess] = []
        self.server: ManagedProcess | None = None
        self.master_url: str | None = None
        self.master_ui_url: str | None = None
        """The standalone master's web UI (``<url>/json/`` lists workers and applications)."""

    @property
    def url(self) -> str:
        """The ``sc://`` URL to give ``SPARK_REMOTE``."""
        return f"sc://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(self.base_env)
        home = spark_home()
        env.update(
            {
                "SPARK_HOME": str(home),
                # Python workers must run this venv's interpreter (pyarrow, psycopg, the
                # platform's data sources); without it they run the system python.
                "PYSPARK_PYTHON": sys.executable,
                "PYSPARK_DRIVER_PYTHON": sys.executable,
                "SPARK_LOCAL_IP": "127.0.0.1",
                "SPARK_LOCAL_HOSTNAME": "localhost",
                "SPARK_LOG_DIR": str(self.log_dir),
                "SPARK_WORKER_DIR": str(self.log_dir / "work"),
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        env.setdefault("AWS_REGION", "us-east-1")
        return env

    def start(self) -> str:
        """Start the cluster (if any) and the Connect server; return its ``sc://`` URL."""
        jars = cached_jars()
        env = self._env()
        home = spark_home()
        started = time.monotonic()
        master = "local[2]"
        if self.workers > 0:
            master = self._start_cluster(home, env)
        conf = {
            **delta_conf(),
            **s3a_conf(env),
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.memory": self.driver_memory,
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.executorEnv.PYSPARK_PYTHON": sys.executable,
            "spark.executor.memory": "1g",
            # Task retry: a task lost with its worker is retried on another one.
            "spark.task.maxFailures": "4",
        }
        # Executors inherit SUBWAY_MART_DSN and the AWS keys from the workers' (or the
        # server's) environment, never from the conf, which the Spark UI and logs show.
        argv = [
            str(home / "bin" / "spark-submit"),
            "--class",
            CONNECT_SERVER_CLASS,
            "--master",
            master,
            "--name",
            "subway_platform",
            "--jars",
            ",".join(str(j) for j in jars),
        ]
        for key, value in conf.items():
            argv += ["--conf", f"{key}={value}"]
        argv.append(str(_connect_jar(home)))
        self.server = ManagedProcess(
            "spark-connect", argv, env=env, log_path=self.log_dir / "spark-connect.log"
        )
        self.server.start()
        try:
            self.server.wait_for_port(self.port, timeout=START_TIMEOUT_S)
        except ServiceError:
            self.stop()
            raise
        self.started_in_s = time.monotonic() - started
        return self.url

    def start_cluster(self) -> str:
        """Start only the standalone master and workers (no Connect server), for a classic
        session whose driver is another process; return the ``spark://`` master URL."""
        return self._start_cluster(spark_home(), self._env())

    def _start_cluster(self, home: Path, env: dict[str, str]) -> str:
        port, ui = free_port(), free_port()
        self.master_ui_url = f"http://127.0.0.1:{ui}"
        self.master = ManagedProcess(
            "spark-master",
            [
                str(home / "bin" / "spark-class"),
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui),
            ],
            env=env,
            log_path=self.log_dir / "spark-master.log",
        )
        self.master.start()
        self.master.wait_for_port(port, timeout=START_TIMEOUT_S)
        self.master_url = f"spark://127.0.0.1:{port}"
        for i in range(self.workers):
            wport, wui = free_port(), free_port()
            worker = ManagedProcess(
                f"spark-worker-{i}",
                [
                    str(home / "bin" / "spark-class"),
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(wport),
                    "--webui-port",
                    str(wui),
                    "--cores",
                    "1",
                    "--memory",
                    self.worker_memory,
                    self.master_url,
                ],
                env=env,
                log_path=self.log_dir / f"spark-worker-{i}.log",
            )
            worker.start()
            worker.wait_for_port(wport, timeout=START_TIMEOUT_S)
            self.worker_procs.append(worker)
        return self.master_url

    def executor_pids(self) -> list[int]:
        """PIDs of the executor JVMs the workers launched (children of worker processes)."""
        pids: list[int] = []
        for worker in self.worker_procs:
            if worker.pid is None:
                continue
            pids += descendants(worker.pid)
        return pids

    def stop(self) -> None:
        """Stop the server, then the workers, then the master."""
        for proc in [self.server, *self.worker_procs, self.master]:
            if proc is not None:
                proc.stop(timeout=20)
        self.server, self.master, self.worker_procs = None, None, []

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _connect_jar(home: Path) -> Path:
    found = sorted((home / "jars").glob("spark-connect_2.13-*.jar"))
    if not found:
        raise ServiceError(f"pyspark's distribution has no spark-connect jar in {home / 'jars'}")
    return found[-1]


def descendants(pid: int) -> list[int]:
    """All descendant PIDs of ``pid`` (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
