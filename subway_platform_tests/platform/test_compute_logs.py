"""Step logs reach S3: the project's dagster.yaml stores compute logs with dagster-aws's
``S3ComputeLogManager`` in the embedded S3 (moto, a separate process on 127.0.0.1), and
the instance reads them back the way the UI's step-log view does."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import dagster as dg

from subway_platform.platform.services import BUCKET, COMPUTE_LOG_BUCKET_ENV

PREFIX = "dagster/compute-logs"


def _printing_job(marker: str) -> dg.JobDefinition:
    @dg.op(name="print_marker")
    def print_marker() -> None:
        """Writes the marker to the step's stdout and stderr."""
        print(f"stdout {marker}", flush=True)
        print(f"stderr {marker}", file=sys.stderr, flush=True)

    return dg.GraphDefinition(name="compute_log_probe", node_defs=[print_marker]).to_job()


def test_step_stdout_and_stderr_are_stored_in_s3_and_read_back(
    services: Any, s3_client: Any
) -> None:
    assert services.env[COMPUTE_LOG_BUCKET_ENV] == BUCKET
    marker = uuid.uuid4().hex
    with dg.DagsterInstance.get() as instance:
        manager = instance.compute_log_manager
        assert type(manager).__module__ == "dagster_aws.s3.compute_log_manager"
        result = _printing_job(marker).execute_in_process(instance=instance)
        assert result.success
        captured = [
            e.dagster_event
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.LOGS_CAPTURED
        ]
        assert captured, "no LOGS_CAPTURED event: the step's output was not captured"
        file_key = captured[0].event_specific_data.file_key

        # The objects are in the embedded S3, under the run's id.
        listed = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        run_keys = [k for k in keys if result.run_id in k]
        assert any(k.endswith(".out") for k in run_keys), keys
        assert any(k.endswith(".err") for k in run_keys), keys
        stdout_key = next(k for k in run_keys if k.endswith(".out"))
        body = s3_client.get_object(Bucket=BUCKET, Key=stdout_key)["Body"].read().decode()
        assert f"stdout {marker}" in body

        # Read back through the instance, as the UI's step-log view does, on a machine
        # that did not run the step: the local copies are gone, so they come from S3.
        log_key = manager.build_log_key_for_run(result.run_id, file_key)
        manager.local_manager.delete_logs(log_key=log_key)
        assert not manager.local_manager.is_capture_complete(log_key)
        data = manager.get_log_data(log_key)
        assert f"stdout {marker}" in (data.stdout or b"").decode()
        assert f"stderr {marker}" in (data.stderr or b"").decode()
        instance.delete_run(result.run_id)
