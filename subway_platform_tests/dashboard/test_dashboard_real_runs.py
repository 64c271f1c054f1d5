"""The dashboard in Chromium over an ELT log written by real runs: a good month, a month
published with a rejected row, a file that fails, and a run cancelled while it loads. Every
chart draws; the figures on the page are the views' figures; the failures table shows the
failed file and the cancelled run, the rejects table the month with its rejected row; the
valid filter narrows the pie to the failures; the time chart shows each target table's
seconds per day, a one-month step's time measured.
Screenshot: test-artifacts/dashboard-real-runs.png.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from subway_platform.dashboard.cli import import_dashboard
from subway_platform.dashboard.views import ensure_dashboard_views
from subway_platform_tests.zone import Zone

sys.path.insert(0, str(Path(__file__).parent))
from dashboard_cdp import Browser  # noqa: E402
from dashboard_page import ARTIFACTS, CHART_TITLES, DashboardPage  # noqa: E402
from dashboard_real_runs import CANCELLED, REJECTS, make_real_runs  # noqa: E402
from dashboard_running import RunningSuperset  # noqa: E402

SCREENSHOT = ARTIFACTS / "dashboard-real-runs.png"


def _time_bars(data: list[dict[str, Any]]) -> dict[tuple[date, str], float]:
    """(day, target table) -> seconds, from the time chart's data as the page got it: one
    row per day, one column per target table (pivoted by Superset; empty cells null)."""
    out: dict[tuple[date, str], float] = {}
    for row in data:
        day = datetime.fromtimestamp(row["record_day"] / 1000, tz=UTC).date()
        for column, value in row.items():
            if column != "record_day" and value is not None:
                out[(day, column.removeprefix("seconds, "))] = value
    return out


def test_dashboard_on_an_elt_log_of_real_runs(
    zone: Zone, superset: RunningSuperset, dashboard_dsn: str, tmp_path: Path
) -> None:
    runs = make_real_runs(zone, tmp_path)
    with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
        ensure_dashboard_views(conn)
        statuses = dict(
            conn.execute(
                "SELECT run_id, array_agg(DISTINCT status ORDER BY status) FROM elt_manager_log "
                "GROUP BY run_id"
            ).fetchall()
        )
        split = dict(
            conn.execute(
                "SELECT outcome, sum(operations)::int FROM elt_dashboard.status_split GROUP BY 1"
            ).fetchall()
        )
        by_domain = {
            d: (s, f)
            for d, s, f in conn.execute(
                "SELECT domain, sum(success_count)::int, sum(failure_count)::int "
                "FROM elt_dashboard.status_by_domain GROUP BY 1"
            ).fetchall()
        }
        (tables,) = conn.execute("SELECT count(*) FROM elt_dashboard.target_tables").fetchone()
        (records,) = conn.execute(
            "SELECT target_records FROM elt_dashboard.total_records"
        ).fetchone()
        rejected = conn.execute(
            "SELECT run_id, error_message FROM elt_dashboard.loads_with_rejects"
        ).fetchall()
        seconds = {
            (day, table): total
            for day, table, total in conn.execute(
                "SELECT record_day, target_table, sum(elapsed_seconds) "
                "FROM elt_dashboard.daily_time GROUP BY 1, 2"
            ).fetchall()
        }
        steps = conn.execute(
            "SELECT step_key, elapsed, extract(epoch FROM step_end - step_start)::float8, "
            "elapsed_method FROM elt_manager_log WHERE run_id = %s",
            (runs.good,),
        ).fetchall()
    # The log holds each kind of run.
    assert statuses[runs.good] == ["materialized"]
    assert "failed" in statuses[runs.failed]
    assert statuses[runs.cancelled] == ["cancelled"]
    # Only the valid load with a rejected row; the cancelled run's bronze (it had rejected
    # rows too) is a failure, listed with the failures.
    assert [run_id for run_id, _ in rejected] == [runs.rejects]
    assert rejected[0][1].startswith(
        f"gold/subway_passengers {REJECTS}: loaded with 1 rejected rows"
    )
    assert split["failure"] >= 4 and split["success"] >= 6  # failed file + 3 cancelled rows
    # Where the time goes: a one-month step's time is the month's own, measured; every
    # target table of the runs has its seconds in the time chart's view.
    assert {method for *_, method in steps} == {"measured"} and len(steps) == 3
    for step_key, elapsed, duration, _method in steps:
        assert elapsed == pytest.approx(duration, abs=1e-3) and elapsed > 0, step_key
    tables_timed = {table for _day, table in seconds}
    assert {
        "delta bronze/card_subway_month",
        "delta gold/subway_passengers",
        "postgresql subway_passengers",
    } <= tables_timed
    assert all(total > 0 for total in seconds.values())

    import_dashboard(superset.client, zone.mart_dsn)  # the dashboard now reads this log
    browser = Browser()
    try:
        page = DashboardPage(browser, superset)
        page.open()
        states = page.chart_states()
        browser.screenshot(SCREENSHOT)
        assert len(states) == len(CHART_TITLES)
        assert [s for s in states if s["error"] or s["loading"] or not s["drawn"]] == []

        shown = page.chart_data()
        assert {r["outcome"]: r["operations"] for r in shown["ELT status"][0]} == split
        assert {
            r["domain"]: (r["success"], r["failure"]) for r in shown["ELT status by domain"][0]
        } == by_domain
        assert f"{tables:,}" in page.chart_text("ELT target tables")
        # The time chart draws the view's seconds per target table per day.
        assert _time_bars(shown["ELT time per target table"][0]) == pytest.approx(seconds)
        assert f"{records:,}" in page.chart_text("ELT records")
        failures = page.chart_text("Recent ELT failures")
        assert runs.failed_file in failures
        assert f"run cancelled while gold/elt_slow {CANCELLED} was loading" in failures
        assert "loaded with 1 rejected rows" in page.chart_text("ELT loads with rejects")

        answered = page.data_answers()
        page.choose_in_filter("Valid (success / failure)", "failure")
        browser.wait_for(
            f"window.__chartData.slice({answered}).some(a => a.sliceId === "
            f"{page.chart_ids['ELT status']})",
            timeout=120,
        )
        page.wait_settled()
        after = page.chart_data(since=answered)
        assert {r["outcome"]: r["operations"] for r in after["ELT status"][0]} == {
            "failure": split["failure"]
        }
        assert f"{records:,}" in page.chart_text("ELT records")
    finally:
        browser.close()
        import_dashboard(superset.client, dashboard_dsn)  # back to the hand-made rows
