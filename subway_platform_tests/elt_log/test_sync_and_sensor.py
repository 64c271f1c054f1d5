"""The sync command and the sensor, against real runs on a PostgreSQL-backed instance."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import dagster as dg
import psycopg
import pytest
from elt_log_contract_assets import bronze_demo, gold_fails, month_range_tags, run

from subway_platform.elt_log.mirror import rows_for_run
from subway_platform.elt_log.sensor import elt_log_definitions, elt_log_sensor, finished_runs_after
from subway_platform.elt_log.sync import run_sync, sync_elt_log
from subway_platform.platform.cli import main as cli_main
from subway_platform.resources.postgres import MartDatabase


def row_count(conn: psycopg.Connection, run_id: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM elt_manager_log WHERE run_id = %s", (run_id,))
        return cur.fetchone()[0]


def test_sync_since_mirrors_only_runs_finished_after_it(
    instance: dg.DagsterInstance, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    before_a = datetime.now(UTC)
    run_a = run(instance, [bronze_demo], tags=month_range_tags("202301", "202303"))
    between = datetime.now(UTC)
    run_b = run(instance, [bronze_demo, gold_fails], partition_key="202302")
    assert (row_count(conn, run_a), row_count(conn, run_b)) == (0, 0)

    assert sync_elt_log(instance, conn, since=between) == 2  # run B: bronze ok, gold failed
    assert (row_count(conn, run_a), row_count(conn, run_b)) == (0, 2)

    # The CLI entry point (`subway-platform elt-log sync --since ...`), naive time = UTC.
    since_text = before_a.replace(tzinfo=None).isoformat()
    assert cli_main(["elt-log", "sync", "--since", since_text]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (
        f"elt-log sync: 2 finished run(s) (since {before_a.isoformat()}), "
        "3 new row(s) in elt_manager_log"
    )
    assert (row_count(conn, run_a), row_count(conn, run_b)) == (3, 2)

    # Everything since forever: all already logged, so nothing new.
    assert run_sync(None, os.environ["SUBWAY_MART_DSN"]) == 0
    assert capsys.readouterr().out.strip().endswith("(all time), 0 new row(s) in elt_manager_log")


def test_sync_without_mart_dsn_exits_2(
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SUBWAY_MART_DSN")
    assert cli_main(["elt-log", "sync"]) == 2
    assert "SUBWAY_MART_DSN is not set" in capsys.readouterr().err


def test_sync_with_unreachable_mart_reports_no_password(
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(instance, [bronze_demo], partition_key="202301")  # at least one run to mirror
    capsys.readouterr()  # drop the run's own log lines
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("SUBWAY_MART_DSN", "postgresql://loader:Hunter2-pw@127.0.0.1:1/mart")
    assert cli_main(["elt-log", "sync"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "elt-log sync: failed after 0 run(s): connection failed: connection to server at "
        '"127.0.0.1", port 1 failed: Connection refused Is the server running'
    )
    assert len(err.strip().splitlines()) == 1
    assert "Hunter2-pw" not in err


def test_sensor_mirrors_finished_runs_and_moves_its_cursor(
    instance: dg.DagsterInstance, conn: psycopg.Connection, mart: MartDatabase
) -> None:
    _, start = finished_runs_after(instance, 0, limit=10_000)
    ok_run = run(instance, [bronze_demo], tags=month_range_tags("202301", "202302"))
    failed_run = run(instance, [gold_fails], partition_key="202303")
    assert instance.get_run_by_id(failed_run).status == dg.DagsterRunStatus.FAILURE

    context = dg.build_sensor_context(
        instance=instance,
        cursor=json.dumps({"after_storage_id": start}),
        resources={"mart": mart},
    )
    result = elt_log_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert row_count(conn, ok_run) == 2
    assert row_count(conn, failed_run) == 1
    assert len(rows_for_run(instance, failed_run)) == 1
    resume = json.loads(result.cursor)["after_storage_id"]
    assert resume > start

    again = elt_log_sensor(
        dg.build_sensor_context(
            instance=instance,
            cursor=result.cursor,
            resources={"mart": mart},
        )
    )
    assert again.cursor is None
    assert again.skip_reason is not None
    assert again.skip_reason.skip_message == "no finished run since the last tick"


def test_sensor_pages_successes_and_failures_in_storage_order(
    instance: dg.DagsterInstance,
) -> None:
    _, start = finished_runs_after(instance, 0, limit=10_000)
    first = run(instance, [bronze_demo], partition_key="202301")
    second = run(instance, [gold_fails], partition_key="202301")
    third = run(instance, [bronze_demo], partition_key="202302")

    # One event per kind and page: the success page is full at `first`, so the failure
    # after it must wait for the next page even though it was read.
    seen: list[str] = []
    cursor = start
    for _ in range(5):
        run_ids, cursor = finished_runs_after(instance, cursor, limit=1)
        if not run_ids:
            break
        seen.extend(run_ids)
    assert seen == [first, second, third]


def test_definitions_bind_the_sensor_to_the_mart_resource(mart: MartDatabase) -> None:
    defs = dg.Definitions.merge(elt_log_definitions(), dg.Definitions(resources={"mart": mart}))
    sensor = defs.get_sensor_def("elt_log_sensor")
    assert sensor.required_resource_keys == {"mart"}
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
