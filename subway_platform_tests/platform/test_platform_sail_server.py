"""The shared Sail Spark Connect server: reachable, in the mode asked, writing Delta to S3."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from deltalake import DeltaTable
from platform_proc_tools import wait_gone

from subway_platform.platform.services import EmbeddedServices
from subway_platform.resources.spark import connect_session


def test_sail_server_local_cluster_writes_delta_to_embedded_s3(
    new_state_dir: Callable[[str], Path],
) -> None:
    state_dir = new_state_dir("subway-test-sail-")
    embedded = EmbeddedServices(state_dir, sail_server=True, sail_mode="local-cluster")
    saved = dict(os.environ)
    try:
        with embedded as env:
            assert env["SPARK_REMOTE"].startswith("sc://127.0.0.1:")
            assert embedded.sail is not None and embedded.sail.pid is not None
            sail_env = Path(f"/proc/{embedded.sail.pid}/environ").read_bytes().split(b"\0")
            assert b"SAIL_MODE=local-cluster" in sail_env
            assert f"AWS_ENDPOINT_URL={env['AWS_ENDPOINT_URL']}".encode() in sail_env

            os.environ.update(env)
            # Not builder.getOrCreate(): it returns any default session, whatever its URL.
            spark = connect_session(env["SPARK_REMOTE"])
            try:
                frame = spark.createDataFrame(
                    [("201901", 3), ("201902", 4)], "month string, riders long"
                )
                uri = f"{env['SUBWAY_LAKE_URL']}/probe/sail_server"
                frame.write.format("delta").mode("overwrite").partitionBy("month").save(uri)
                assert spark.read.format("delta").load(uri).count() == 2
            finally:
                spark.stop()

            # A second implementation reads what Sail wrote (design.md: guard Sail's Delta).
            options = {
                "AWS_ENDPOINT_URL": env["AWS_ENDPOINT_URL"],
                "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
                "AWS_REGION": env["AWS_REGION"],
                "AWS_ALLOW_HTTP": "true",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            rows = DeltaTable(uri, storage_options=options).to_pyarrow_table().to_pylist()
            assert sorted((r["month"], r["riders"]) for r in rows) == [("201901", 3), ("201902", 4)]
            started = set(embedded.child_pids())
        assert wait_gone(started) == set()
    finally:
        os.environ.clear()
        os.environ.update(saved)
