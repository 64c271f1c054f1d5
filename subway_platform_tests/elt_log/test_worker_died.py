"""A run whose worker is killed (SIGKILL, no step failure) reaches the ELT log: the run
executes in a process of its own; the test kills it while the slow gold step runs, then
marks the run failed with the message Dagster's run monitoring records for a dead worker
(the daemon's part; the topology drills do it with the real daemon)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import psycopg
from test_cancelled_runs import HERE, MONTH, _wait_for_slow_step
from test_mirror import logged

from subway_platform.alerts.config import AlertChannels
from subway_platform.alerts.message import build_alert
from subway_platform.elt_log.mirror import WORKER_DIED, mirror_run

MONITORING_SAYS = "Detected run worker status WorkerStatus.FAILED. Marking run {} as failed."


def _killed_run(instance: dg.DagsterInstance, tmp_path: Path) -> str:
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    with (tmp_path / "run.log").open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "elt_log_cancel_run.py"), token, MONTH],
            cwd=HERE,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            run_id = _wait_for_slow_step(instance, token, proc)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.STARTED  # nobody noticed
    instance.report_run_failed(run, MONITORING_SAYS.format(run_id))
    return run_id


def test_killed_run_worker_gets_a_failed_row_for_the_step_in_flight(
    instance: dg.DagsterInstance, conn: psycopg.Connection, tmp_path: Path
) -> None:
    run_id = _killed_run(instance, tmp_path)
    assert mirror_run(instance, run_id, conn) == 2
    rows = logged(conn, run_id)
    assert {k: (r["valid"], r["status"]) for k, r in rows.items()} == {
        ("bronze/elt_demo", MONTH): (True, "materialized"),
        ("gold/elt_slow", MONTH): (False, "failed"),
    }
    gold = rows[("gold/elt_slow", MONTH)]
    assert gold["error_message"] == (
        f"{WORKER_DIED} while gold/elt_slow {MONTH} was loading; not loaded: rerun it"
    )
    assert gold["step_key"] == "gold__elt_slow" and gold["target_read_size"] == -1
    assert "Marking run" in gold["error_detail"] and run_id in gold["error_detail"]
    assert gold["elapsed"] is not None and gold["elapsed"] > 0
    assert mirror_run(instance, run_id, conn) == 0  # idempotent

    # The alert names the month and says the worker died (not "no step failed").
    alert = build_alert(instance, instance.get_run_by_id(run_id), MONITORING_SAYS, AlertChannels())
    assert [(line.asset_key, line.month) for line in alert.lines] == [("gold/elt_slow", MONTH)]
    assert WORKER_DIED in alert.text


def test_run_failed_before_any_step_logs_its_planned_assets(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    """A run marked failed before its worker started a step (e.g. its worker never came
    up): every planned asset partition gets a row, none is valid."""
    from elt_log_contract_assets import bronze_demo, gold_slow, mart_slow

    assets = [bronze_demo, gold_slow, mart_slow]
    defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("died_early", assets)])
    job = defs.resolve_job_def("died_early")
    run = instance.create_run_for_job(
        job,
        tags={"dagster/partition": MONTH},
        asset_selection=frozenset(job.asset_layer.executable_asset_keys),
    )
    instance.report_run_failed(run, "Run timed out due to taking longer than 180 seconds to start.")
    assert mirror_run(instance, run.run_id, conn) == 3
    rows = logged(conn, run.run_id)
    assert all(not r["valid"] and r["status"] == "failed" for r in rows.values())
    assert rows[("mart/elt_slow", MONTH)]["error_message"] == (
        f"{WORKER_DIED} before mart/elt_slow {MONTH} was loaded: rerun it"
    )
