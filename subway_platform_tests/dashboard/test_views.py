"""The elt_dashboard views over a real PostgreSQL ELT log: exact figures per chart, with
and without the dashboard's filters (applied as WHERE on the filter columns)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from subway_platform.dashboard.cli import create_views
from subway_platform.dashboard.views import (
    DASHBOARD_SCHEMA,
    DEFAULT_TIME_ZONE,
    TIME_ZONE_ENV,
    VIEW_NAMES,
    apply_dashboard_grants,
    ensure_dashboard_views,
)
from subway_platform.datasets import ALL_DATASETS
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.row import insert_rows

sys.path.insert(0, str(Path(__file__).parent))
import dashboard_log_rows as expected  # noqa: E402


def test_views_are_recreated_idempotently(dashboard_conn: psycopg.Connection) -> None:
    ensure_dashboard_views(dashboard_conn)
    names = [
        r[0]
        for r in dashboard_conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s "
            "ORDER BY table_name",
            (DASHBOARD_SCHEMA,),
        )
    ]
    assert names == sorted(VIEW_NAMES)


def test_big_numbers(dashboard_conn: psycopg.Connection) -> None:
    targets = dashboard_conn.execute(
        "SELECT target_object FROM elt_dashboard.target_tables ORDER BY 1"
    ).fetchall()
    assert [t[0] for t in targets] == ["gold.daily", "gold.hourly", "gold.station", "mart.hourly"]
    assert len(targets) == expected.TARGET_TABLES
    totals = dashboard_conn.execute(
        "SELECT operations, target_records, source_records FROM elt_dashboard.total_records"
    ).fetchall()
    assert totals == [
        (len(expected.ROWS), expected.TOTAL_TARGET_RECORDS, expected.TOTAL_SOURCE_RECORDS)
    ]


def test_status_split(dashboard_conn: psycopg.Connection) -> None:
    rows = dashboard_conn.execute(
        "SELECT outcome, sum(operations) FROM elt_dashboard.status_split GROUP BY 1"
    ).fetchall()
    assert dict(rows) == expected.STATUS_SPLIT
    filtered = dashboard_conn.execute(
        "SELECT outcome, sum(operations) FROM elt_dashboard.status_split "
        "WHERE domain = %s AND record_time >= %s AND record_time < %s GROUP BY 1",
        (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO),
    ).fetchall()
    assert dict(filtered) == expected.FILTERED_STATUS_SPLIT


def test_status_by_domain(dashboard_conn: psycopg.Connection) -> None:
    query = (
        "SELECT domain, sum(success_count), sum(failure_count) "
        "FROM elt_dashboard.status_by_domain WHERE outcome = ANY(%s) GROUP BY 1"
    )
    rows = dashboard_conn.execute(query, (["success", "failure"],)).fetchall()
    assert {d: (s, f) for d, s, f in rows} == expected.STATUS_BY_DOMAIN
    failures = dashboard_conn.execute(query, (["failure"],)).fetchall()
    assert {d: (s, f) for d, s, f in failures} == expected.FAILURES_BY_DOMAIN
    by_valid = dashboard_conn.execute(
        "SELECT count(*) FROM elt_dashboard.status_by_domain WHERE NOT valid"
    ).fetchone()
    assert by_valid == (expected.STATUS_SPLIT["failure"],)


def test_daily_operations(dashboard_conn: psycopg.Connection) -> None:
    query = sql.SQL(
        "SELECT record_day, sum(success_count), sum(failure_count) "
        "FROM elt_dashboard.daily_operations {where} GROUP BY 1"
    )
    rows = dashboard_conn.execute(query.format(where=sql.SQL(""))).fetchall()
    assert {d: (s, f) for d, s, f in rows} == expected.DAILY_OPERATIONS
    where = sql.SQL("WHERE domain = %s AND record_time >= %s AND record_time < %s")
    filtered = dashboard_conn.execute(
        query.format(where=where),
        (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO),
    ).fetchall()
    assert {d: (s, f) for d, s, f in filtered} == expected.FILTERED_DAILY_OPERATIONS


def test_daily_records_and_ratio(dashboard_conn: psycopg.Connection) -> None:
    rows = dashboard_conn.execute(
        "SELECT record_day, sum(source_rows), sum(target_rows), "
        "sum(target_rows)::float8 / nullif(sum(source_rows), 0) "
        "FROM elt_dashboard.daily_records GROUP BY 1"
    ).fetchall()
    assert {d: (s, t) for d, s, t, _ in rows} == expected.DAILY_RECORDS
    for day, source, target, ratio in rows:
        assert ratio == pytest.approx(float(target) / float(source)), day
    filtered = dashboard_conn.execute(
        "SELECT record_day, sum(source_rows), sum(target_rows) FROM elt_dashboard.daily_records "
        "WHERE domain = %s AND record_time >= %s AND record_time < %s GROUP BY 1",
        (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO),
    ).fetchall()
    assert {d: (s, t) for d, s, t in filtered} == expected.FILTERED_DAILY_RECORDS
    # Unknown counts (-1) are NULL, never subtracted.
    unknown = dashboard_conn.execute(
        "SELECT count(*) FROM elt_dashboard.daily_records WHERE target_rows IS NULL"
    ).fetchone()
    assert unknown == (4,)


def test_daily_time_per_target_table(dashboard_conn: psycopg.Connection) -> None:
    rows = dashboard_conn.execute(
        "SELECT record_day, target_table, sum(elapsed_seconds) FROM elt_dashboard.daily_time "
        "GROUP BY 1, 2"
    ).fetchall()
    assert {(d, t): s for d, t, s in rows} == pytest.approx(expected.DAILY_TIME)
    filtered = dashboard_conn.execute(
        "SELECT record_day, target_table, sum(elapsed_seconds) FROM elt_dashboard.daily_time "
        "WHERE domain = %s AND record_time >= %s AND record_time < %s GROUP BY 1, 2",
        (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO),
    ).fetchall()
    assert {(d, t): s for d, t, s in filtered} == pytest.approx(expected.FILTERED_DAILY_TIME)


def test_recent_failures_newest_first(dashboard_conn: psycopg.Connection) -> None:
    rows = dashboard_conn.execute(
        "SELECT run_id, source_object, target_object, error_message "
        "FROM elt_dashboard.recent_failures"
    ).fetchall()
    assert [r[0] for r in rows] == expected.RECENT_FAILURES
    assert rows[1] == ("run-09", "bronze_hourly", "mart.hourly", "connection refused")
    filtered = dashboard_conn.execute(
        "SELECT run_id FROM elt_dashboard.recent_failures "
        "WHERE domain = %s AND record_time >= %s AND record_time < %s "
        "ORDER BY record_time DESC",
        (expected.FILTER_DOMAIN, expected.FILTER_FROM, expected.FILTER_TO),
    ).fetchall()
    assert [r[0] for r in filtered] == expected.FILTERED_RECENT_FAILURES
    none_when_success = dashboard_conn.execute(
        "SELECT count(*) FROM elt_dashboard.recent_failures WHERE outcome = %s", ("success",)
    ).fetchone()
    assert none_when_success == (0,)


def test_loads_with_rejects_lists_valid_loads_that_left_rows(
    dashboard_conn: psycopg.Connection,
) -> None:
    rows = dashboard_conn.execute(
        "SELECT run_id, outcome, rejected_rows FROM elt_dashboard.loads_with_rejects"
    ).fetchall()
    assert [r[0] for r in rows] == expected.LOADS_WITH_REJECTS
    assert rows[0][1:] == ("success", 10)


def test_reader_role_reads_only_views_and_log(
    dashboard_dsn: str, dashboard_conn: psycopg.Connection
) -> None:
    apply_dashboard_grants(dashboard_conn)
    apply_dashboard_grants(dashboard_conn)  # idempotent
    dashboard_conn.execute("DROP TABLE IF EXISTS public.not_for_dashboard")
    dashboard_conn.execute("CREATE TABLE public.not_for_dashboard (x int)")
    dashboard_conn.execute("DROP ROLE IF EXISTS dashboard_test_login")
    dashboard_conn.execute(
        sql.SQL(
            "CREATE ROLE dashboard_test_login LOGIN PASSWORD {} IN ROLE elt_dashboard_reader"
        ).format(sql.Literal("reader-test-pw"))
    )
    try:
        reader_dsn = make_conninfo(
            dashboard_dsn, user="dashboard_test_login", password="reader-test-pw"
        )
        with psycopg.connect(reader_dsn, autocommit=True) as reader:
            for view in VIEW_NAMES:
                reader.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(
                        sql.Identifier(DASHBOARD_SCHEMA, view)
                    )
                ).fetchone()
            assert reader.execute("SELECT count(*) FROM public.elt_manager_log").fetchone() == (
                len(expected.ROWS),
            )
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("SELECT * FROM public.not_for_dashboard")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("DELETE FROM public.elt_manager_log")
    finally:
        dashboard_conn.execute("DROP OWNED BY dashboard_test_login")
        dashboard_conn.execute("DROP ROLE dashboard_test_login")
        dashboard_conn.execute("DROP TABLE public.not_for_dashboard")


def test_target_tables_counts_physical_tables(dashboard_conn: psycopg.Connection) -> None:
    # A Delta table and a PostgreSQL table of the same name are two tables.
    extra = [
        replace(
            expected.ROWS[0],
            run_id="run-tt-1",
            target_type="postgresql",
            target_topic="mart",
            target_object="gold.daily",
        ),
        replace(expected.ROWS[0], run_id="run-tt-2"),  # same table again: no new row
    ]
    with dashboard_conn.transaction(force_rollback=True):
        assert insert_rows(dashboard_conn, extra) == 2
        rows = dashboard_conn.execute(
            "SELECT target_type, target_topic, target_object, operations "
            "FROM elt_dashboard.target_tables WHERE target_object = %s ORDER BY 1",
            ("gold.daily",),
        ).fetchall()
        assert rows == [("delta", "gold", "gold.daily", 4), ("postgresql", "mart", "gold.daily", 1)]
        total = dashboard_conn.execute(
            "SELECT count(*) FROM elt_dashboard.target_tables"
        ).fetchone()
        assert total == (expected.TARGET_TABLES + 1,)


def test_every_platform_table_is_its_own_target() -> None:
    """Three tables per data set (twelve for the four data sets), each a distinct target."""
    objects = {hop.target_object for hop in HOPS.values()}
    assert len(HOPS) == len(objects) == 3 * len(ALL_DATASETS) == 12


def _daily(conn: psycopg.Connection) -> dict[object, tuple[int, int]]:
    rows = conn.execute(
        "SELECT record_day, sum(success_count), sum(failure_count) "
        "FROM elt_dashboard.daily_operations GROUP BY 1"
    ).fetchall()
    return {d: (s, f) for d, s, f in rows}


def test_days_follow_the_configured_time_zone(
    dashboard_conn: psycopg.Connection, dashboard_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fixture installed the views with the default zone, Asia/Seoul.
    assert DEFAULT_TIME_ZONE == "Asia/Seoul"
    assert _daily(dashboard_conn) == expected.DAILY_OPERATIONS
    with dashboard_conn.transaction(force_rollback=True):
        ensure_dashboard_views(dashboard_conn, time_zone="UTC")
        assert _daily(dashboard_conn) == expected.DAILY_OPERATIONS_UTC
        ensure_dashboard_views(dashboard_conn, time_zone="America/Los_Angeles")  # UTC-8
        assert min(_daily(dashboard_conn)) == date(2024, 2, 29)
    # The dashboard command passes SUBWAY_DASHBOARD_TZ; a zone PostgreSQL does not know
    # is refused, and the views stay as they were.
    monkeypatch.setenv(TIME_ZONE_ENV, "Mars/Olympus'; DROP TABLE x; --")
    with pytest.raises(ValueError, match="is not a time zone PostgreSQL knows"):
        create_views(dashboard_dsn)
    assert _daily(dashboard_conn) == expected.DAILY_OPERATIONS
