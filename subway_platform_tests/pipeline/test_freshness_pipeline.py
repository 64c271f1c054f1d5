"""Freshness and the ELT log on a real month (issue 22 item 6).

A real 2019 month is loaded the way the asset page loads it (Dagster plans every check of
the selected assets, the freshness checks included) while the latest month is overdue: the
load's ELT log rows are all valid and no check of that run fails. The freshness sensor's
run then fails the freshness check of the mart (and bronze) for the overdue month; the ELT
log gets an ``overdue`` row per overdue table, which the dashboard's failure list shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import psycopg

from subway_platform.dashboard.views import ensure_dashboard_views
from subway_platform.datasets import DAILY
from subway_platform.freshness import CHECKS_SENSOR_NAME
from subway_platform.freshness_rules import (
    FRESHNESS_CHECK_NAME,
    latest_deadline,
    overdue_month,
)
from subway_platform.tables import tables_of
from subway_platform_tests.zone import REAL, Zone

OLD_MONTH = "201907"
COLUMNS = "asset_key, partition_key, valid, status, target_object, error_message"


def _planned_checks(zone: Zone, run_id: str) -> set[tuple[str, str]]:
    records = zone.instance.all_logs(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    )
    planned = [r.get_dagster_event().event_specific_data for r in records]
    return {(p.asset_key.to_user_string(), p.check_name) for p in planned}  # type: ignore[union-attr]


def test_old_month_loads_valid_while_the_latest_is_overdue_and_the_sensor_logs_it(
    zone: Zone,
) -> None:
    from subway_platform.definitions import defs

    tables = tables_of(DAILY)
    due = overdue_month(latest_deadline(DAILY.due_day or 1, datetime.now(UTC)))
    assert due > OLD_MONTH
    zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{OLD_MONTH}.csv")

    # The asset page's materialization: the implicit asset job, the data set's assets.
    keys = [tables.bronze.key, tables.gold.key, tables.mart.key]
    load = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=zone.instance, asset_selection=keys, partition_key=OLD_MONTH
    )
    assert load.success
    # Dagster planned the freshness checks with the load, and they reported nothing:
    # no check of the manual run is red.
    planned = _planned_checks(zone, load.run_id)
    assert (tables.mart.key_string, FRESHNESS_CHECK_NAME) in planned
    evaluations = load.get_asset_check_evaluations()
    errors = [e for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR]
    assert errors and all(e.passed for e in errors)  # (stations_matched, a warning, fails:
    assert not [e for e in evaluations if e.check_name == FRESHNESS_CHECK_NAME]  # no master)
    rows = zone.mirror(load.run_id, COLUMNS)
    assert [(r["asset_key"], r["partition_key"]) for r in rows] == [
        (tables.bronze.key_string, OLD_MONTH),
        (tables.gold.key_string, OLD_MONTH),
        (tables.mart.key_string, OLD_MONTH),
    ]
    assert all(r["valid"] and r["status"] == "materialized" for r in rows), rows
    assert not any("fresh" in (r["error_message"] or "") for r in rows)

    # The freshness sensor asks for its run; in it the mart's freshness check fails.
    sensor = defs.resolve_sensor_def(CHECKS_SENSOR_NAME)
    tick = sensor.evaluate_tick(dg.build_sensor_context(instance=zone.instance, definitions=defs))
    (request,) = tick.run_requests or []
    check_keys = list(request.asset_check_keys or [])
    mart_check = dg.AssetCheckKey(tables.mart.key, FRESHNESS_CHECK_NAME)
    assert mart_check in check_keys
    checking = dg.Definitions.merge(
        defs,
        dg.Definitions(
            jobs=[dg.define_asset_job("freshness_eval", dg.AssetSelection.checks(*check_keys))]
        ),
    )
    run = checking.resolve_job_def("freshness_eval").execute_in_process(
        instance=zone.instance, tags=request.tags
    )
    assert run.success
    failed = {
        e.asset_key.to_user_string(): e for e in run.get_asset_check_evaluations() if not e.passed
    }
    assert tables.mart.key_string in failed and tables.bronze.key_string in failed
    assert f"{due} overdue since" in (failed[tables.mart.key_string].description or "")

    overdue = {r["asset_key"]: r for r in zone.mirror(run.run_id, COLUMNS)}
    mart = overdue[tables.mart.key_string]
    assert mart["partition_key"] == due and mart["status"] == "overdue" and not mart["valid"]
    assert mart["target_object"] == tables.mart.name
    assert mart["error_message"].startswith(f"{tables.mart.key_string} {due} overdue since ")
    assert f"(last load: {OLD_MONTH})" in mart["error_message"]
    assert all(r["status"] == "overdue" and not r["valid"] for r in overdue.values())
    # Nothing changed since: the next tick requests no run (one report per deadline).
    again = sensor.evaluate_tick(
        dg.build_sensor_context(instance=zone.instance, cursor=tick.cursor, definitions=defs)
    )
    assert not again.run_requests
    # The load's rows are untouched by it.
    assert all(r["valid"] for r in zone.mirror(load.run_id, COLUMNS))

    # The dashboard's failure list shows the overdue mart month, not the load.
    with psycopg.connect(zone.mart_dsn) as conn:
        ensure_dashboard_views(conn)
        conn.commit()
        failures = conn.execute(
            "SELECT asset_key, partition_key, error_message, run_id "
            "FROM elt_dashboard.recent_failures"
        ).fetchall()
    assert (tables.mart.key_string, due, mart["error_message"], run.run_id) in failures
    assert not [f for f in failures if f[3] == load.run_id]

    # The mart alone loaded again from its page: its check is skipped there, so the next
    # tick checks it again (and only it), and the UI shows the verdict again.
    reload = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=zone.instance, asset_selection=[tables.mart.key], partition_key=OLD_MONTH
    )
    assert reload.success
    assert not [e for e in reload.get_asset_check_evaluations() if not e.passed]
    after = sensor.evaluate_tick(
        dg.build_sensor_context(instance=zone.instance, cursor=again.cursor, definitions=defs)
    )
    (recheck,) = after.run_requests or []
    assert list(recheck.asset_check_keys or []) == [mart_check]
