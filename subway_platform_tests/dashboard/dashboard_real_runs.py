"""An ELT log written by real runs, for the dashboard tests: the platform's monthly job on real
portal files (a good month, a month published with one rejected row, a file that fails), and
a run cancelled for real while it loads (the ELT log tests' run worker, stopped the way
Dagster stops one); each run mirrored into the mart's ``elt_manager_log``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from subway_platform.elt_log.mirror import mirror_run
from subway_platform.elt_log.table import ensure_elt_log_table
from subway_platform_tests.zone import REAL, Zone

ELT_LOG_TESTS = Path(__file__).resolve().parents[1] / "elt_log"
CANCEL_WORKER = ELT_LOG_TESTS / "elt_log_cancel_run.py"
TOKEN_TAG = "test/token"  # the tag elt_log_cancel_run.py puts on its run
INSTANCE_URL_ENV = "SUBWAY_DASHBOARD_TEST_DAGSTER_PG_URL"

GOOD, REJECTS, BROKEN, CANCELLED = "201903", "201910", "201905", "202301"


@dataclass(frozen=True)
class RealRuns:
    """The run ids of each kind of run, mirrored into the mart's ELT log."""

    good: str
    rejects: str
    failed: str
    cancelled: str
    failed_file: str


def _month_file(month: str) -> Path:
    return REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv"


def _with_negative_count(month: str, folder: Path) -> Path:
    """The real month with line 6's alighting count made negative: one rejected row."""
    lines = _month_file(month).read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")
    fields[4] = '"-3"'
    lines[5] = ",".join(fields)
    path = folder / _month_file(month).name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _header_only(month: str, folder: Path) -> Path:
    """The real month's header and no rows: bronze refuses it."""
    header = _month_file(month).read_text(encoding="utf-8").splitlines()[0]
    path = folder / _month_file(month).name
    path.write_text(header + "\n", encoding="utf-8")
    return path


@contextmanager
def postgres_dagster_home(mart_dsn: str, folder: Path) -> Iterator[dg.DagsterInstance]:
    """A DAGSTER_HOME (in ``os.environ`` meanwhile) whose instance stores runs in a new
    database on the mart's PostgreSQL, so a run worker of its own process shares it."""
    database = f"dashboard_runs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(mart_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    parts = conninfo_to_dict(mart_dsn)
    url = (
        f"postgresql+psycopg2://{parts['user']}:{parts['password']}@{parts['host']}:"
        f"{parts['port']}/{database}"
    )
    (folder / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url:\n      env: {INSTANCE_URL_ENV}\n"
        "telemetry:\n  enabled: false\n"
    )
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", INSTANCE_URL_ENV)}
    os.environ["DAGSTER_HOME"] = str(folder)
    os.environ[INSTANCE_URL_ENV] = url
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with psycopg.connect(mart_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def _wait_for_slow_step(
    instance: dg.DagsterInstance, token: str, proc: subprocess.Popen[bytes], timeout: float = 120.0
) -> str:
    """The run's id once bronze is written and the slow gold step is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run's process ended before it could be cancelled"
        runs = instance.get_runs(filters=dg.RunsFilter(tags={TOKEN_TAG: token}))
        if runs:
            kinds = {
                (e.dagster_event.event_type, e.dagster_event.step_key)
                for e in instance.all_logs(runs[0].run_id)
                if e.dagster_event
            }
            if (dg.DagsterEventType.ASSET_MATERIALIZATION, "bronze__elt_demo") in kinds and (
                dg.DagsterEventType.STEP_START,
                "gold__elt_slow",
            ) in kinds:
                return runs[0].run_id
        time.sleep(0.2)
    raise AssertionError("the slow step never started")


def cancelled_run(instance: dg.DagsterInstance, log_file: Path) -> str:
    """A run cancelled while its gold step loads: Dagster is asked to terminate it (the run
    becomes CANCELING, as when a user presses "Terminate") and its process is interrupted,
    as Dagster's run worker is; returns the id of the run, then CANCELED."""
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ELT_LOG_TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    with log_file.open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, str(CANCEL_WORKER), token, CANCELLED],
            cwd=ELT_LOG_TESTS,
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
                proc.wait()
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.CANCELED, log_file.read_text()
    return run_id


def make_real_runs(zone: Zone, folder: Path) -> RealRuns:
    """Run the four kinds of run and mirror each into ``zone``'s mart ELT log."""
    zone.upload(_month_file(GOOD))
    zone.upload(_with_negative_count(REJECTS, folder))
    failed_file = _header_only(BROKEN, folder)
    zone.upload(failed_file)
    good = zone.run("daily_passengers_job", [GOOD])
    rejects = zone.run("daily_passengers_job", [REJECTS])
    failed = zone.run("daily_passengers_job", [BROKEN], raise_on_error=False)
    assert good.success and rejects.success and not failed.success
    home = folder / "dagster_home"
    home.mkdir()
    with postgres_dagster_home(zone.mart_dsn, home) as instance:
        cancelled = cancelled_run(instance, folder / "cancelled_run.log")
        with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
            ensure_elt_log_table(conn)
            for run in (good, rejects, failed):
                assert mirror_run(zone.instance, run.run_id, conn) > 0
            assert mirror_run(instance, cancelled, conn) > 0
    return RealRuns(
        good=good.run_id,
        rejects=rejects.run_id,
        failed=failed.run_id,
        cancelled=cancelled,
        failed_file=failed_file.name,
    )
