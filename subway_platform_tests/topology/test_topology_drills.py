"""The production topology as separate processes, driven as an operator would, and four
crash drills against it. One topology per module; the tests run in order and each loads
its own months. Times to detect and recover are printed (``-s``) and asserted against the
dagster.yaml settings (run monitoring polls every 5 s).

- a month uploaded to S3 -> the daemon's landing sensor -> a run in its own process
  (launched by the code server) -> the mart, reconciled with the file, and the ELT log;
- kill -9 the run worker during the mart step;
- kill -9 the daemon right after the landing sensor requested runs;
- restart PostgreSQL (instance and mart) during a run.
"""

from __future__ import annotations

import os
import signal
import time

import dagster as dg
import pytest
from dagster._core.events import RunFailureReason

from subway_platform.elt_log.mirror import WORKER_DIED
from subway_platform.platform.topology import LOCATION_NAME, Topology
from subway_platform_tests.topology.conftest import Running
from subway_platform_tests.topology.drills import (
    PARENT_TAG,
    assert_events_complete,
    daily_file,
    elt_rows,
    failures,
    finished,
    hold_mart_lock,
    lake_month_rows,
    lock_waiters,
    mart_month,
    month_runs,
    sensor_run,
    step_started,
    upload,
    wait_for,
    worker_pid,
)
from subway_platform_tests.zone import file_totals

pytestmark = pytest.mark.topology

SENSOR_WAIT = 120.0
"""The landing sensor ticks every 30 s; a run of one month takes well under a minute."""
RUN_WAIT = 240.0
MONITORING_INTERVAL = 5.0


def _expected(month: str) -> tuple[int, int, int]:
    totals = file_totals(daily_file(month))
    return (len(totals["keys"]), totals["pass_in"], totals["pass_out"])


def _archived(env: dict[str, str], month: str) -> bool:
    return (
        os.path.exists(os.path.join(env["SUBWAY_ARCHIVE_URL"], daily_file(month).name))
        if not env["SUBWAY_ARCHIVE_URL"].startswith("s3://")
        else True
    )


def test_a_month_goes_from_an_s3_upload_to_the_mart(topology: Running) -> None:
    topo, instance, env = topology.topology, topology.instance, topology.env
    month = "201904"
    upload(env, daily_file(month))
    began = time.monotonic()
    topo.start_service("daemon")
    run = wait_for("the landing sensor's run", lambda: sensor_run(instance, month), 90, topo)
    done = wait_for("the run to end", lambda: finished(instance, run.run_id), RUN_WAIT, topo)
    elapsed = time.monotonic() - began
    assert done.status == dg.DagsterRunStatus.SUCCESS, topo.log_tail("daemon")
    print(f"\n[topology] upload -> mart, month {month}: {elapsed:.1f} s")
    assert mart_month(env["SUBWAY_MART_DSN"], month) == _expected(month)
    assert _archived(env, month)
    # The run ran in its own process, not in the daemon's or the code server's.
    pid = worker_pid(instance, run.run_id)
    assert pid not in (topo.pid("daemon"), topo.pid("code_server"), os.getpid())
    rows = wait_for(
        "the ELT log rows", lambda: elt_rows(env["SUBWAY_MART_DSN"], run.run_id), 90, topo
    )
    assert set(rows) == {
        "bronze/card_subway_month",
        "gold/subway_passengers",
        "mart/subway_passengers",
    }
    assert all(r["valid"] and r["partition_key"] == month for r in rows.values())
    assert rows["mart/subway_passengers"]["target_read_size"] == _expected(month)[0]


def test_b_kill_the_run_worker_during_the_mart_step(topology: Running) -> None:
    topo, instance, env = topology.topology, topology.instance, topology.env
    dsn, month = env["SUBWAY_MART_DSN"], "201905"
    alerts_before = len(topology.webhook.received)
    upload(env, daily_file(month))
    run = wait_for(
        "the landing sensor's run", lambda: sensor_run(instance, month), SENSOR_WAIT, topo
    )
    # The test holds the month's mart lock, so the mart step stops in the middle: its
    # month is staged and it waits to swap it in. Then its worker is killed.
    with hold_mart_lock(dsn, month):
        wait_for(
            "the mart step", lambda: step_started(instance, run.run_id, "mart"), RUN_WAIT, topo
        )
        wait_for("the mart step to wait for the swap", lambda: lock_waiters(dsn) > 0, 120, topo)
        pid = worker_pid(instance, run.run_id)
        gold_rows = lake_month_rows(env["SUBWAY_LAKE_URL"], "gold", month)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        assert not finished(instance, run.run_id)

    # Until the retry's mart step starts, the month in the mart stays wholly old (absent).
    seen: set[tuple[int, int, int]] = set()

    def detected() -> dg.DagsterRun | None:
        seen.add(mart_month(dsn, month))
        got = finished(instance, run.run_id)
        return got

    failed = wait_for("the run marked failed", detected, 60, topo)
    detect = time.monotonic() - killed
    assert failed.status == dg.DagsterRunStatus.FAILURE
    retry = wait_for(
        "the retry run",
        lambda: next((r for r in month_runs(instance, month) if r.tags.get(PARENT_TAG)), None),
        60,
        topo,
    )

    def retry_mart_started() -> str | None:
        seen.add(mart_month(dsn, month))
        return step_started(instance, retry.run_id, "mart")

    wait_for("the retry's mart step", retry_mart_started, RUN_WAIT, topo)
    assert seen == {(0, 0, 0)}, f"the mart showed a partial month after the kill: {seen}"
    # The lake: gold of the month was complete before the mart step, and still is; every
    # file the current Delta versions reference exists (no half-written version).
    assert lake_month_rows(env["SUBWAY_LAKE_URL"], "gold", month) == gold_rows > 0
    assert lake_month_rows(env["SUBWAY_LAKE_URL"], "bronze", month) > 0

    done = wait_for("the retry to end", lambda: finished(instance, retry.run_id), RUN_WAIT, topo)
    recover = time.monotonic() - killed
    assert done.status == dg.DagsterRunStatus.SUCCESS, topo.log_tail("daemon")
    print(
        f"\n[drill] kill -9 run worker during mart: detected (run FAILURE) in {detect:.1f} s, "
        f"recovered (retry SUCCESS, month loaded) in {recover:.1f} s"
    )
    assert detect <= 2 * MONITORING_INTERVAL + 5
    # Exactly one retry, and the month loaded once, reconciling with the file.
    retries = [r for r in month_runs(instance, month) if r.tags.get(PARENT_TAG)]
    assert [r.run_id for r in retries] == [retry.run_id]
    assert mart_month(dsn, month) == _expected(month)

    # The ELT log says the run worker died; the retry's mart row is valid.
    rows = wait_for(
        "the killed run's ELT log rows",
        lambda: (r := elt_rows(dsn, run.run_id)) and "mart/subway_passengers" in r and r,
        90,
        topo,
    )
    mart_row = rows["mart/subway_passengers"]
    assert not mart_row["valid"] and mart_row["status"] == "failed"
    assert mart_row["error_message"].startswith(WORKER_DIED)
    retry_rows = wait_for("the retry's ELT log rows", lambda: elt_rows(dsn, retry.run_id), 90, topo)
    assert retry_rows["mart/subway_passengers"]["valid"]
    assert retry_rows["mart/subway_passengers"]["target_read_size"] == _expected(month)[0]

    # One alert for the killed run, naming the month and the dead worker (the freshness
    # sensor may alert about other data sets' overdue files meanwhile: not about this run).
    def about_runs() -> list[str]:
        texts = [str(a) for a in topology.webhook.received[alerts_before:]]
        return [t for t in texts if run.run_id in t or retry.run_id in t]

    wait_for("the alert", lambda: about_runs() or None, 90, topo)
    time.sleep(3)
    alerts = about_runs()
    assert len(alerts) == 1, alerts
    assert month in alerts[0] and WORKER_DIED in alerts[0] and retry.run_id not in alerts[0]


def test_c_kill_the_daemon_after_the_sensor_requested_runs(topology: Running) -> None:
    topo, instance, env = topology.topology, topology.instance, topology.env
    months = ["201906", "201907"]
    for month in months:
        upload(env, daily_file(month))

    def requested() -> list[dg.DagsterRun] | None:
        runs = [sensor_run(instance, m) for m in months]
        return None if None in runs else [r for r in runs if r is not None]

    runs = wait_for("the sensor's runs", requested, SENSOR_WAIT, topo)
    topo.kill("daemon")
    states = [instance.get_run_by_id(r.run_id).status.value for r in runs]  # type: ignore[union-attr]
    restarted = time.monotonic()
    topo.start_service("daemon")
    # A run the daemon had marked STARTING but not yet handed to the code server when it
    # died never starts: run monitoring fails it after start_timeout_seconds and run
    # retries launch it again. A run already handed over runs to the end.
    first = [
        wait_for("the run to end", lambda r=r: finished(instance, r.run_id), RUN_WAIT, topo)
        for r in runs
    ]
    final = [_retried_to_the_end(instance, run, topo) for run in first]
    recover = time.monotonic() - restarted
    print(
        f"\n[drill] kill -9 daemon after the sensor tick (runs were {states}, ended "
        f"{[d.status.value for d in first]}): both months loaded {recover:.1f} s after the restart"
    )
    assert [d.status for d in final] == [dg.DagsterRunStatus.SUCCESS] * 2, topo.log_tail("daemon")
    for run in first:
        if run.status != dg.DagsterRunStatus.SUCCESS:
            assert _start_timed_out(instance, run.run_id), topo.log_tail("daemon")
    # A few more sensor ticks: no file gets a second sensor run (only retries of a run
    # that never started), and each month is loaded once.
    time.sleep(35)
    for month in months:
        assert [r.run_id for r in month_runs(instance, month) if PARENT_TAG not in r.tags] == [
            r.run_id for r in runs if r.tags["dagster/partition"] == month
        ]
        assert mart_month(env["SUBWAY_MART_DSN"], month) == _expected(month)


def _retried_to_the_end(
    instance: dg.DagsterInstance, run: dg.DagsterRun, topo: Topology
) -> dg.DagsterRun:
    """``run`` if it succeeded, else its retry once that has ended."""
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return run
    month = run.tags["dagster/partition"]
    retry = wait_for(
        "the retry run",
        lambda: next(
            (r for r in month_runs(instance, month) if r.tags.get(PARENT_TAG) == run.run_id),
            None,
        ),
        60,
        topo,
    )
    return wait_for("the retry to end", lambda: finished(instance, retry.run_id), RUN_WAIT, topo)


def _start_timed_out(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether run monitoring failed ``run_id`` for not starting in time."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if getattr(data, "failure_reason", None) == RunFailureReason.START_TIMEOUT:
            return True
    return False


def test_d_stop_the_code_server_while_runs_are_queued(topology: Running) -> None:
    """Two runs queued, the code server stopped, the daemon dequeuing meanwhile: the runs
    wait (dagster.yaml's max_user_code_failure_retries) and both succeed once it is back."""
    from dagster_graphql import DagsterGraphQLClient

    topo, instance = topology.topology, topology.instance
    topo.stop_service("daemon")  # nothing dequeues: submitted runs wait in the queue
    client = DagsterGraphQLClient("127.0.0.1", port_number=topo.ui_port)
    run_ids = [
        client.submit_job_execution(
            "delta_maintenance_job",
            repository_location_name=LOCATION_NAME,
            tags={"subway/lock": "drill:maintenance"},
        )
        for _ in range(2)
    ]
    assert [instance.get_run_by_id(r).status for r in run_ids] == [  # type: ignore[union-attr]
        dg.DagsterRunStatus.QUEUED
    ] * 2
    topo.stop_service("code_server")
    topo.start_service("daemon")
    time.sleep(15)  # the queue daemon's loops run while the code location is down
    during = [instance.get_run_by_id(r).status.value for r in run_ids]  # type: ignore[union-attr]
    restarted = time.monotonic()
    topo.start_service("code_server")
    done = [
        wait_for("the queued run to end", lambda r=r: finished(instance, r), RUN_WAIT, topo)
        for r in run_ids
    ]
    recover = time.monotonic() - restarted
    print(
        f"\n[drill] code server stopped with 2 queued runs (during the outage: {during}): "
        f"both ran {recover:.1f} s after the code server restarted"
    )
    assert [d.status for d in done] == [dg.DagsterRunStatus.SUCCESS] * 2, during


def test_e_restart_postgresql_during_a_run(topology: Running) -> None:
    topo, instance, env = topology.topology, topology.instance, topology.env
    dsn, month = env["SUBWAY_MART_DSN"], "201908"
    upload(env, daily_file(month))
    run = wait_for("the sensor's run", lambda: sensor_run(instance, month), SENSOR_WAIT, topo)
    wait_for("the gold step", lambda: step_started(instance, run.run_id, "gold"), RUN_WAIT, topo)
    began = time.monotonic()
    outage = topo.restart_postgres()
    # The test's own instance held pooled connections to the old server: a fresh one.
    instance = dg.DagsterInstance.get()
    first = wait_for("the run to end", lambda: finished(instance, run.run_id), RUN_WAIT, topo)
    final = first
    if first.status != dg.DagsterRunStatus.SUCCESS:
        retry = wait_for(
            f"the retry of a run that failed with {failures(instance, first.run_id)}",
            lambda: next((r for r in month_runs(instance, month) if r.tags.get(PARENT_TAG)), None),
            90,
            topo,
        )
        final = wait_for(
            "the retry to end", lambda: finished(instance, retry.run_id), RUN_WAIT, topo
        )
    recover = time.monotonic() - began
    print(
        f"\n[drill] PostgreSQL restarted during gold (down {outage:.1f} s): first run "
        f"{first.status.value}, month loaded {recover:.1f} s after the restart began"
    )
    assert final.status == dg.DagsterRunStatus.SUCCESS
    assert mart_month(dsn, month) == _expected(month)
    for run_id in {first.run_id, final.run_id}:
        assert_events_complete(instance, run_id, topo)
