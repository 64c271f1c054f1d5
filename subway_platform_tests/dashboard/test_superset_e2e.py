"""End to end: Superset installed from PyPI, the bundle imported through the REST API,
and every chart's saved query run by Superset against the real views; its figures must
equal what the views give directly (and the hand-worked figures)."""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from subway_platform.dashboard.bundle import DASHBOARD_SLUG
from subway_platform.dashboard.cli import import_dashboard
from subway_platform.dashboard.cli import main as dashboard_main
from subway_platform.platform.processes import ServiceError

sys.path.insert(0, str(Path(__file__).parent))
import dashboard_log_rows as expected  # noqa: E402
from dashboard_running import RunningSuperset  # noqa: E402

TIME_RANGE = "2024-03-02T00:00:00 : 2024-03-04T00:00:00"


def _charts(superset: RunningSuperset) -> dict[str, dict[str, Any]]:
    charts = superset.client.dashboard_charts(DASHBOARD_SLUG)
    return {c["slice_name"]: superset.client.chart(c["id"]) for c in charts}


def _saved_data(superset: RunningSuperset, chart: dict[str, Any]) -> list[list[dict]]:
    result = superset.client.get(f"/api/v1/chart/{chart['id']}/data/")["result"]
    return [r["data"] for r in result]


def _filtered_data(
    superset: RunningSuperset, chart: dict[str, Any], extra_filters: list[dict[str, Any]]
) -> list[list[dict]]:
    """The chart's saved query with the dashboard's filters applied, as the UI sends them."""
    context = json.loads(chart["query_context"])
    context["datasource"] = _datasource(chart)
    for query in context["queries"]:
        query["filters"] = copy.deepcopy(query["filters"]) + extra_filters
        for flt in query["filters"]:
            if flt["op"] == "TEMPORAL_RANGE":
                flt["val"] = TIME_RANGE
    return [r["data"] for r in superset.client.chart_data(context)]


def _datasource(chart: dict[str, Any]) -> dict[str, Any]:
    """The chart's dataset as a query context names it (params hold "<id>__table")."""
    dataset_id, kind = json.loads(chart["params"])["datasource"].split("__")
    return {"id": int(dataset_id), "type": kind}


def _day(epoch_ms: float) -> Any:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date()


def _view(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def test_dashboard_imported_with_nine_charts(superset: RunningSuperset) -> None:
    dashboard = superset.client.dashboard(DASHBOARD_SLUG)
    metadata = json.loads(dashboard["json_metadata"])
    charts = superset.client.dashboard_charts(DASHBOARD_SLUG)
    assert len(charts) == 9
    big_ids = {c["id"] for c in charts if c["form_data"]["viz_type"] == "big_number_total"}
    filters = metadata["native_filter_configuration"]
    assert [f["name"] for f in filters] == ["Time range", "Valid (success / failure)", "Domain"]
    for native_filter in filters:
        assert set(native_filter["scope"]["excluded"]) == big_ids


def test_every_chart_equals_its_view(
    superset: RunningSuperset, dashboard_conn: psycopg.Connection
) -> None:
    charts = _charts(superset)
    assert len(charts) == 9

    (targets,) = _saved_data(superset, charts["ELT target tables"])
    view_targets = _view(dashboard_conn, "SELECT count(*) FROM elt_dashboard.target_tables")
    assert targets == [{"target tables": view_targets[0][0]}]
    assert view_targets[0][0] == expected.TARGET_TABLES

    (records,) = _saved_data(superset, charts["ELT records"])
    view_records = _view(dashboard_conn, "SELECT target_records FROM elt_dashboard.total_records")
    assert records == [{"records": view_records[0][0]}]
    assert view_records[0][0] == expected.TOTAL_TARGET_RECORDS

    (split,) = _saved_data(superset, charts["ELT status"])
    view_split = dict(
        _view(
            dashboard_conn,
            "SELECT outcome, sum(operations) FROM elt_dashboard.status_split GROUP BY 1",
        )
    )
    assert {r["outcome"]: r["operations"] for r in split} == view_split == expected.STATUS_SPLIT

    (by_domain,) = _saved_data(superset, charts["ELT status by domain"])
    view_domain = {
        d: (s, f)
        for d, s, f in _view(
            dashboard_conn,
            "SELECT domain, sum(success_count), sum(failure_count) "
            "FROM elt_dashboard.status_by_domain GROUP BY 1",
        )
    }
    assert {r["domain"]: (r["success"], r["failure"]) for r in by_domain} == view_domain
    assert view_domain == expected.STATUS_BY_DOMAIN

    (daily_ops,) = _saved_data(superset, charts["Daily ELT operations"])
    view_ops = {
        d: (s, f)
        for d, s, f in _view(
            dashboard_conn,
            "SELECT record_day, sum(success_count), sum(failure_count) "
            "FROM elt_dashboard.daily_operations GROUP BY 1",
        )
    }
    assert {_day(r["record_day"]): (r["success"], r["failure"]) for r in daily_ops} == view_ops
    assert view_ops == expected.DAILY_OPERATIONS

    bars, ratio = _saved_data(superset, charts["Daily ELT records"])
    view_records_daily = {
        d: (s, t)
        for d, s, t in _view(
            dashboard_conn,
            "SELECT record_day, sum(source_rows), sum(target_rows) "
            "FROM elt_dashboard.daily_records GROUP BY 1",
        )
    }
    assert (
        {_day(r["record_day"]): (r["source rows"], r["target rows"]) for r in bars}
        == view_records_daily
        == expected.DAILY_RECORDS
    )
    assert {_day(r["record_day"]): r["target / source"] for r in ratio} == pytest.approx(
        {d: t / s for d, (s, t) in expected.DAILY_RECORDS.items()}
    )

    (failures,) = _saved_data(superset, charts["Recent ELT failures"])
    view_failures = _view(
        dashboard_conn,
        "SELECT error_message, source_object, target_object FROM elt_dashboard.recent_failures",
    )
    assert [
        (r["error_message"], r["source_object"], r["target_object"]) for r in failures
    ] == view_failures
    assert len(view_failures) == len(expected.RECENT_FAILURES)

    (rejects,) = _saved_data(superset, charts["ELT loads with rejects"])
    view_rejects = _view(
        dashboard_conn,
        "SELECT asset_key, partition_key, rejected_rows, "
        "error_message FROM elt_dashboard.loads_with_rejects",
    )
    assert [
        (r["asset_key"], r["partition_key"], r["rejected_rows"], r["error_message"])
        for r in rejects
    ] == view_rejects
    assert [r[2] for r in view_rejects] == [10]

    (seconds,) = _saved_data(superset, charts["ELT time per target table"])
    assert {
        (_day(r["record_day"]), r["target_table"]): r["seconds"] for r in seconds
    } == pytest.approx(expected.DAILY_TIME)


def test_charts_with_dashboard_filters_equal_filtered_views(
    superset: RunningSuperset, dashboard_conn: psycopg.Connection
) -> None:
    charts = _charts(superset)
    domain = [{"col": "domain", "op": "IN", "val": [expected.FILTER_DOMAIN]}]
    where = "WHERE domain = %s AND record_time >= %s AND record_time < %s"
    params = (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO)

    (split,) = _filtered_data(superset, charts["ELT status"], domain)
    view_split = dict(
        _view(
            dashboard_conn,
            "SELECT outcome, sum(operations) FROM "
            "elt_dashboard.status_split " + where + " GROUP BY 1",
            params,
        )
    )
    assert {r["outcome"]: r["operations"] for r in split} == view_split
    assert view_split == expected.FILTERED_STATUS_SPLIT

    (daily_ops,) = _filtered_data(superset, charts["Daily ELT operations"], domain)
    assert {
        _day(r["record_day"]): (r["success"], r["failure"]) for r in daily_ops
    } == expected.FILTERED_DAILY_OPERATIONS

    bars, _ratio = _filtered_data(superset, charts["Daily ELT records"], domain)
    assert {
        _day(r["record_day"]): (r["source rows"], r["target rows"]) for r in bars
    } == expected.FILTERED_DAILY_RECORDS

    (seconds,) = _filtered_data(superset, charts["ELT time per target table"], domain)
    assert {
        (_day(r["record_day"]), r["target_table"]): r["seconds"] for r in seconds
    } == pytest.approx(expected.FILTERED_DAILY_TIME)

    (failures,) = _filtered_data(superset, charts["Recent ELT failures"], domain)
    assert [r["error_message"] for r in failures] == ["connection refused"]

    only_failures = [{"col": "outcome", "op": "IN", "val": ["failure"]}]
    context = json.loads(charts["ELT status by domain"]["query_context"])
    context["datasource"] = _datasource(charts["ELT status by domain"])
    context["queries"][0]["filters"] += only_failures
    (result,) = superset.client.chart_data(context)
    assert {
        r["domain"]: (r["success"], r["failure"]) for r in result["data"]
    } == expected.FAILURES_BY_DOMAIN


def test_reimport_overwrites_in_place(superset: RunningSuperset, dashboard_dsn: str) -> None:
    before = sorted(
        (c["id"], c["slice_name"]) for c in superset.client.dashboard_charts(DASHBOARD_SLUG)
    )
    import_dashboard(superset.client, dashboard_dsn)
    after = sorted(
        (c["id"], c["slice_name"]) for c in superset.client.dashboard_charts(DASHBOARD_SLUG)
    )
    assert after == before
    dashboards = superset.client.get("/api/v1/dashboard/")["result"]
    assert [d["slug"] for d in dashboards] == [DASHBOARD_SLUG]


def test_cli_imports_into_existing_superset(
    superset: RunningSuperset,
    dashboard_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SUBWAY_MART_DSN", dashboard_dsn)
    monkeypatch.setenv("SUPERSET_PASSWORD", superset.superset.admin_password)
    code = dashboard_main(["--superset-url", superset.url, "--user", "admin"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{superset.url}/superset/dashboard/{DASHBOARD_SLUG}/" in out
    assert superset.superset.admin_password not in out


def test_cli_refuses_a_taken_port(
    superset: RunningSuperset, dashboard_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBWAY_MART_DSN", dashboard_dsn)
    port = superset.superset.port
    assert port is not None
    with pytest.raises(ServiceError, match=f"port {port} on 127.0.0.1 is already in use"):
        dashboard_main(["--state-dir", str(tmp_path), "--port", str(port), "--no-serve"])
