"""One process that runs platform jobs in process, as a test or a notebook would.

``python -m benchmarks.inproc_worker PLAN_JSON``: the plan is a list of actions run in
order, ``{"upload": [[local_path, name], ...]}`` (into ``SUBWAY_LANDING_URL``) or
``{"run": label, "job": name, "months": [...], "profile": optional .prof path}``. Each run is
``job.execute_in_process`` against the instance of ``DAGSTER_HOME`` (PostgreSQL storage,
as users run it) followed by ``mirror_run`` into ``elt_manager_log`` (what the sensor
does after each run); both are inside the timed wall. One JSON line per run on stdout.
A fresh process per plan keeps memory figures per plan and makes the first run pay the
real start-up: imports, definitions, the embedded Sail start.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

T0 = time.perf_counter()


def _upload(pairs: list[list[str]]) -> None:
    import boto3

    bucket, _, prefix = os.environ["SUBWAY_LANDING_URL"].removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]
    )
    for path, name in pairs:
        client.upload_file(path, bucket, f"{prefix}/{name}")


def run_job(job: str, months: list[str]) -> dict[str, Any]:
    import dagster as dg
    import psycopg

    from benchmarks.run_events import run_report
    from subway_platform.definitions import defs
    from subway_platform.elt_log.mirror import mirror_run

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        if len(months) == 1:
            kwargs: dict[str, Any] = {"partition_key": months[0]}
        elif months:
            kwargs = {
                "tags": {
                    "dagster/asset_partition_range_start": months[0],
                    "dagster/asset_partition_range_end": months[-1],
                }
            }
        else:
            kwargs = {}
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, raise_on_error=False, **kwargs
        )
        executed = time.perf_counter()
        with psycopg.connect(os.environ["SUBWAY_MART_DSN"]) as conn:
            logged = mirror_run(instance, result.run_id, conn)
            conn.commit()
        done = time.perf_counter()
        report = run_report(instance, result.run_id)
    report.update(
        success=result.success,
        wall_s=round(done - started, 3),
        execute_s=round(executed - started, 3),
        mirror_s=round(done - executed, 3),
        elt_log_rows=logged,
    )
    return report


def main() -> None:
    plan = json.loads(sys.argv[1])
    import dagster  # noqa: F401 - timed: Dagster's import is part of start-up

    from subway_platform.definitions import defs  # noqa: F401 - built here, as a code location load

    print(json.dumps({"imports_s": round(time.perf_counter() - T0, 3)}), flush=True)
    for action in plan:
        if "upload" in action:
            _upload(action["upload"])
            continue
        profile_to = action.get("profile")
        if profile_to:
            import cProfile

            profiler = cProfile.Profile()
            report = profiler.runcall(run_job, action["job"], action.get("months", []))
            profiler.dump_stats(profile_to)
        else:
            report = run_job(action["job"], action.get("months", []))
        report["label"] = action["run"]
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
