"""A run cancelled after bronze was written reaches the ELT log, through a real cancellation:
the run executes in a process of its own; the test asks Dagster to terminate it (the run
becomes CANCELING, as when a user presses "Terminate") and interrupts that process, as
Dagster's run worker is interrupted; Dagster then reports the run CANCELED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import psycopg
from elt_log_cancel_run import TOKEN_TAG
from elt_log_contract_assets import BRONZE_COUNTS
from test_mirror import logged

from subway_platform.elt_log.mirror import mirror_run
from subway_platform.elt_log.sensor import finished_runs_after
from subway_platform.elt_log.sync import finished_run_ids

HERE = Path(__file__).parent
MONTH = "202301"


def _wait_for_slow_step(
    instance: dg.DagsterInstance, token: str, proc: subprocess.Popen[bytes], timeout: float = 120.0
) -> str:
    """The run's id once bronze is written and the slow gold step is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run's process ended before it could be cancelled"
        runs = instance.get_runs(filters=dg.RunsFilter(tags={TOKEN_TAG: token}))
        if runs:
            run_id = runs[0].run_id
            kinds = {
                (e.dagster_event.event_type, e.dagster_event.step_key)
                for e in instance.all_logs(run_id)
                if e.dagster_event
            }
            if (dg.DagsterEventType.ASSET_MATERIALIZATION, "bronze__elt_demo") in kinds and (
                dg.DagsterEventType.STEP_START,
                "gold__elt_slow",
            ) in kinds:
                return run_id
        time.sleep(0.2)
    raise AssertionError("the slow step never started")


def test_run_cancelled_after_bronze_is_logged_invalid_with_what_it_wrote(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    tmp_path: Path,
) -> None:
    _, before = finished_runs_after(instance, 0, limit=10_000)
    token = uuid.uuid4().hex
    output = (tmp_path / "run.log").open("wb")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "elt_log_cancel_run.py"), token, MONTH],
        cwd=HERE,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        run_id = _wait_for_slow_step(instance, token, proc)
        instance.report_run_canceling(instance.get_run_by_id(run_id))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        output.close()
    run = instance.get_run_by_id(run_id)
    assert run.status == dg.DagsterRunStatus.CANCELED, (tmp_path / "run.log").read_text()

    # The sensor and the sync command both see the cancelled run.
    seen, _ = finished_runs_after(instance, before, limit=10_000)
    assert run_id in seen
    assert run_id in list(finished_run_ids(instance, None))

    assert mirror_run(instance, run_id, conn) == 3
    rows = logged(conn, run_id)
    assert {k: (r["valid"], r["status"]) for k, r in rows.items()} == {
        ("bronze/elt_demo", MONTH): (False, "cancelled"),
        ("gold/elt_slow", MONTH): (False, "cancelled"),
        ("mart/elt_slow", MONTH): (False, "cancelled"),
    }
    bronze = rows[("bronze/elt_demo", MONTH)]
    counts = BRONZE_COUNTS[MONTH]
    # What the run had written keeps its counts.
    assert (
        bronze["source_read_size"],
        bronze["target_read_size"],
        bronze["cleaned_count"],
        bronze["pass_in_sum"],
    ) == (
        counts["source_read_size"],
        counts["target_read_size"],
        counts["cleaned_count"],
        counts["pass_in"],
    )
    assert bronze["error_message"] == (
        f"run cancelled after bronze/elt_demo {MONTH} was written (100 rows); "
        "the rest of the run did not run: rerun it"
    )
    gold = rows[("gold/elt_slow", MONTH)]
    assert (
        gold["error_message"] == f"run cancelled while gold/elt_slow {MONTH} was loading: rerun it"
    )
    assert gold["target_read_size"] == -1 and gold["step_key"] == "gold__elt_slow"
    mart = rows[("mart/elt_slow", MONTH)]
    assert (
        mart["error_message"] == f"run cancelled before mart/elt_slow {MONTH} was loaded: rerun it"
    )
    assert mart["record_time"] >= bronze["record_time"]
    assert mirror_run(instance, run_id, conn) == 0  # idempotent
