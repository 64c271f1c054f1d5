"""`subway-platform spark-server --workers 1`, started as a user starts it: a standalone
master and worker plus a Spark Connect server with Delta, on loopback, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from subway_platform.platform.processes import free_port
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.spark import connect_session, stop_sessions


def test_spark_server_command_serves_delta_on_a_standalone_cluster(
    services: Any, tmp_path: Path
) -> None:
    port = free_port()
    log_dir = tmp_path / "spark-logs"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "subway-platform"),
            "spark-server",
            "--workers",
            "1",
            "--port",
            str(port),
            "--log-dir",
            str(log_dir),
        ],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = None
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("SPARK_REMOTE="):
                url = line.strip().split("=", 1)[1]
        assert url == f"sc://127.0.0.1:{port}", lines
        # A master and a worker log: the driver really uses a standalone cluster.
        assert (log_dir / "spark-master.log").is_file()
        assert (log_dir / "spark-worker-0.log").is_file()

        spark = connect_session(url)
        target = f"s3://subway/spark-server-{port}/probe"
        frame = spark.createDataFrame([("201901", 3), ("201902", 4)], "month string, riders long")
        frame.write.format("delta").mode("overwrite").partitionBy("month").save(target)
        assert spark.read.format("delta").load(target).count() == 2
        assert spark.sql(f"DESCRIBE HISTORY delta.`{target}`").count() == 1
        stop_sessions(url)
        history = DeltaTable(
            target, storage_options=object_storage_from_environment().delta_options()
        ).history()
        assert history[0]["engineInfo"].startswith("Apache-Spark/4.2.0 Delta-Lake/4.4.0")

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
