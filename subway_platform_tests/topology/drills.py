"""Helpers of the topology drills: waits, the runs of a month, the mart and the lake."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
import dagster as dg
import psycopg
import pyarrow.compute as pc
from deltalake import DeltaTable

from subway_platform.datasets import dataset_named
from subway_platform.platform.topology import Topology
from subway_platform.tables import tables_of

T = TypeVar("T")
REAL = Path("/work/shared/data/real")
DAILY = "card_subway_month"
SENSOR_TAG = "dagster/sensor_name"
RETRY_TAG = "dagster/retry_number"
PARENT_TAG = "dagster/parent_run_id"
_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


def daily_file(month: str) -> Path:
    """The real daily file of ``month`` (CARD_SUBWAY_MONTH_YYYYMM.csv)."""
    return REAL / DAILY / f"CARD_SUBWAY_MONTH_{month}.csv"


def wait_for(what: str, condition: Callable[[], T | None], timeout: float, topo: Topology) -> T:
    """Poll ``condition`` every 0.2 s until it is truthy; fail with the daemon's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what}; daemon log:\n"
        + topo.log_tail("daemon", 40)
        + "\ncode server log:\n"
        + topo.log_tail("code_server", 20)
    )


def upload(env: dict[str, str], path: Path) -> None:
    """Put a file in the S3 landing zone, as a producer does."""
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket, _, prefix = env["SUBWAY_LANDING_URL"].removeprefix("s3://").partition("/")
    s3.upload_file(str(path), bucket, f"{prefix}/{path.name}")


def month_runs(instance: dg.DagsterInstance, month: str) -> list[dg.DagsterRun]:
    """Runs of ``month`` (sensor runs and their retries), oldest first."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": month}))
    return sorted(runs, key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)


def sensor_run(instance: dg.DagsterInstance, month: str) -> dg.DagsterRun | None:
    """The landing sensor's (first) run of ``month``, not a retry."""
    runs = [
        r
        for r in month_runs(instance, month)
        if r.tags.get(SENSOR_TAG) == "landing_sensor" and RETRY_TAG not in r.tags
    ]
    return runs[0] if runs else None


def run_status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def finished(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun | None:
    run = instance.get_run_by_id(run_id)
    return run if run is not None and run.is_finished else None


def failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run's step and run failure events, as ``kind step: message`` lines."""
    kinds = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    lines = []
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        data = event.event_specific_data if event else None
        error = getattr(data, "error", None)
        reason = getattr(data, "failure_reason", None)
        text = error.to_string() if error is not None else (event.message if event else "")
        lines.append(f"{entry.dagster_event_type} {entry.step_key} {reason}: {text}"[:3000])
    return lines


def step_started(instance: dg.DagsterInstance, run_id: str, layer: str) -> str | None:
    """The key of the run's step of ``layer`` (``mart``) once it has started."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START):
        key = entry.step_key or ""
        if key.startswith(layer + "__"):
            return key
    return None


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int:
    """The run worker's process id, from its "Started process for run" event."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        found = _PID.search(entry.message or "")
        if found:
            return int(found.group(1))
    raise AssertionError(f"run {run_id} has no 'Started process' event")


def mart_month(dsn: str, month: str) -> tuple[int, int, int]:
    """Rows, sum(pass_in), sum(pass_out) of the month in the mart (0s when absent)."""
    with psycopg.connect(dsn) as conn:
        exists = conn.execute("SELECT to_regclass('subway_passengers')").fetchone()
        if exists is None or exists[0] is None:
            return (0, 0, 0)
        row = conn.execute(
            "SELECT count(*), coalesce(sum(pass_in), 0)::bigint, "
            "coalesce(sum(pass_out), 0)::bigint FROM subway_passengers WHERE month = %s",
            (month,),
        ).fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]), int(row[2]))


def elt_rows(dsn: str, run_id: str) -> dict[str, dict[str, Any]]:
    """The ELT log rows of a run by asset key."""
    with psycopg.connect(dsn) as conn:
        exists = conn.execute("SELECT to_regclass('elt_manager_log')").fetchone()
        if exists is None or exists[0] is None:
            return {}
        cur = conn.execute(
            "SELECT asset_key, partition_key, valid, status, error_message, "
            "source_read_size, target_read_size FROM elt_manager_log WHERE run_id = %s",
            (run_id,),
        )
        names = [d.name for d in cur.description or []]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def lake_month_rows(lake: str, layer: str, month: str) -> int:
    """Rows of ``month`` in the data set's Delta table of ``layer`` (bronze or gold), after
    checking that every file the table's current version references exists."""
    tables = tables_of(dataset_named(DAILY))
    ref = tables.bronze if layer == "bronze" else tables.gold
    table = DeltaTable(str(Path(lake) / ref.name))
    missing = [u for u in table.file_uris() if not Path(u.removeprefix("file://")).exists()]
    assert not missing, f"{layer}: the current version references missing files {missing[:3]}"
    data = table.to_pyarrow_dataset().to_table(filter=pc.field("month") == month)
    return data.num_rows


@contextmanager
def hold_mart_lock(dsn: str, month: str) -> Iterator[None]:
    """Hold the advisory lock the mart's month swap takes (``mart:<table>:<month>``)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        key = f"mart:subway_passengers:{month}"
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


def lock_waiters(dsn: str) -> int:
    """Sessions waiting for an advisory lock."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    return int(row[0]) if row else 0


_LOGGED = re.compile(r"^ - \d+ - (?:([a-z0-9_]+) - )?([A-Z_]+) - ")


def assert_events_complete(instance: dg.DagsterInstance, run_id: str, topo: Topology) -> None:
    """Every event the run worker logged (its DEBUG lines in the output of the code server,
    which launched it) is in the run's event log, and every step that started ended."""
    stored: dict[tuple[str | None, str], int] = {}
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None:
            # Stored run events keep their old names (PIPELINE_START for RUN_START).
            kind = entry.dagster_event.event_type_value.replace("PIPELINE_", "RUN_")
            key = (entry.step_key, kind)
            stored[key] = stored.get(key, 0) + 1
    printed: dict[tuple[str | None, str], int] = {}
    log = topo.state_dir / "logs" / "code_server.log"
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        _, sep, rest = line.partition(f" - {run_id}")
        found = _LOGGED.match(rest) if sep else None
        if found:
            key = (found.group(1), found.group(2))
            printed[key] = printed.get(key, 0) + 1
    missing = {k: n for k, n in printed.items() if stored.get(k, 0) < n}
    assert printed, f"the worker of run {run_id} printed no event"
    assert not missing, f"events the worker printed but the event log lacks: {missing}"
    for (step, kind), count in stored.items():
        if kind == "STEP_START":
            ends = stored.get((step, "STEP_SUCCESS"), 0) + stored.get((step, "STEP_FAILURE"), 0)
            assert ends == count, f"step {step} started {count} times, ended {ends}"
