"""The command lines of the README, in subprocesses, against the project's dagster.yaml
(PostgreSQL storage, queued runs) with a real daemon: launch, backfill, materialize."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from subway_platform.elt_log.mirror import rows_for_run
from subway_platform.freshness_rules import FRESHNESS_CHECK_NAME
from subway_platform_tests.zone import REAL, Zone


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dagster"), *args],
        cwd=REPO,
        env=dict(os.environ),
        text=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def daemon(zone: Zone) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` for the project's workspace (dequeues runs, runs backfills)."""
    proc = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_for_runs(
    instance: dg.DagsterInstance, tag: str, count: int, timeout: float = 420
) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"subway/test": tag}))
        if len(runs) >= count and all(r.is_finished for r in runs):
            return runs
        time.sleep(2)
    raise AssertionError(
        f"runs tagged {tag} did not finish: {[(r.run_id, r.status) for r in runs]}"
    )


def _failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The failure messages of a run's steps and of the run itself, for assertion output."""
    records = instance.all_logs(run_id)
    out = []
    for record in records:
        event = record.dagster_event
        if event is None or event.event_type_value not in ("STEP_FAILURE", "RUN_FAILURE"):
            continue
        error = getattr(event.event_specific_data, "error", None)
        chain = []
        while error is not None:
            chain.append(error.message.strip()[:1500])
            error = error.cause
        out.append(f"{record.message}: {' <- '.join(chain)}")
    return out


def _mart_months(zone: Zone) -> dict[str, int]:
    return dict(zone.query("SELECT month, count(*) FROM subway_passengers GROUP BY month"))


def test_job_launch_and_single_run_backfill(zone: Zone, daemon: subprocess.Popen[bytes]) -> None:
    for month in ("201901", "201902", "201903", "201904"):
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    tag = uuid.uuid4().hex[:8]
    instance = dg.DagsterInstance.get()

    launched = _run_cli(
        "job",
        "launch",
        "-w",
        "workspace.yaml",
        "-j",
        "daily_passengers_job",
        "--tags",
        json.dumps({"dagster/partition": "201901", "subway/test": tag}),
    )
    assert launched.returncode == 0, launched.stderr[-2000:]
    [run] = _wait_for_runs(instance, tag, 1)
    assert run.status == dg.DagsterRunStatus.SUCCESS, _failures(instance, run.run_id)
    assert _mart_months(zone).get("201901", 0) > 0

    backfill_tag = uuid.uuid4().hex[:8]
    # A multi-month load as ONE run from the CLI: the partition range tags (what the UI's
    # single-run backfill sets). `dagster job backfill` would make one run per month.
    backfill = _run_cli(
        "job",
        "launch",
        "-w",
        "workspace.yaml",
        "-j",
        "daily_passengers_job",
        "--tags",
        json.dumps(
            {
                "dagster/asset_partition_range_start": "201902",
                "dagster/asset_partition_range_end": "201904",
                "subway/test": backfill_tag,
            }
        ),
    )
    assert backfill.returncode == 0, backfill.stderr[-2000:]
    runs = _wait_for_runs(instance, backfill_tag, 1)
    # Single-run backfill policy: three months, one run.
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert runs[0].tags.get("dagster/asset_partition_range_start") == "201902"
    assert runs[0].tags.get("dagster/asset_partition_range_end") == "201904"
    months = _mart_months(zone)
    assert all(months.get(m, 0) > 0 for m in ("201901", "201902", "201903", "201904"))


def test_asset_materialize_partition_range(zone: Zone) -> None:
    for month in ("201905", "201906"):
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    started = time.time()
    done = _run_cli(
        "asset",
        "materialize",
        "-m",
        "subway_platform.definitions",
        "--select",
        "bronze/card_subway_month,gold/subway_passengers,mart/subway_passengers",
        "--partition-range",
        "201905...201906",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    months = _mart_months(zone)
    assert months.get("201905", 0) > 0 and months.get("201906", 0) > 0
    # Old months, loaded while the latest month is overdue: Dagster planned the assets'
    # freshness checks with them, which evaluated nothing, and every ELT log row is valid.
    instance = dg.DagsterInstance.get()
    [run] = instance.get_runs(
        filters=dg.RunsFilter(job_name="__ASSET_JOB", created_after=_utc(started)), limit=1
    )
    planned = instance.all_logs(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    )
    planned_data = [p.get_dagster_event().event_specific_data for p in planned]
    assert FRESHNESS_CHECK_NAME in {getattr(p, "check_name", None) for p in planned_data}
    evaluated = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    names = {e.get_dagster_event().asset_check_evaluation_data.check_name for e in evaluated}
    assert names and FRESHNESS_CHECK_NAME not in names
    rows = rows_for_run(instance, run.run_id)
    assert len(rows) == 6 and all(r.valid and r.status == "materialized" for r in rows), rows
