"""Mirroring real in-process runs into ``elt_manager_log`` on the embedded PostgreSQL."""

from __future__ import annotations

from typing import Any

import dagster as dg
import psycopg
import pytest
from elt_log_contract_assets import (
    BRONZE_COUNTS,
    FAILING_DSN,
    FAILING_PASSWORD,
    GOLD_PROBLEM,
    MONTHS,
    bronze_bad_file,
    bronze_checked,
    bronze_demo,
    bronze_station,
    bronze_without_metadata,
    gold_demo,
    gold_fails,
    gold_reconciled,
    gold_station_fails,
    gold_unreconciled,
    mart_after_check,
    mart_never,
    month_range_tags,
    run,
    utc,
)
from psycopg.rows import dict_row

from subway_platform.elt_log.mirror import mirror_run, rows_for_run
from subway_platform.elt_log.table import ensure_elt_log_table

HOP_COLUMNS = (
    "domain",
    "action",
    "source_type",
    "source_topic",
    "source_dpath",
    "source_object",
    "target_type",
    "target_topic",
    "target_dpath",
    "target_object",
)


def logged(conn: psycopg.Connection, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The run's rows in the table, keyed by (asset key, partition key)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM elt_manager_log WHERE run_id = %s", (run_id,))
        return {(r["asset_key"], r["partition_key"]): r for r in cur.fetchall()}


def step_span(instance: dg.DagsterInstance, run_id: str, step_key: str) -> tuple[float, float]:
    """STEP_START and STEP_SUCCESS/FAILURE times of a step, read from the event log."""
    start = end = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key != step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            start = entry.timestamp
        if event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            end = entry.timestamp
    assert start is not None and end is not None
    return start, end


def event_times(
    instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType
) -> dict[tuple[str, str], float]:
    """(asset, partition) -> time of its materialization, or step key -> time for failures."""
    out: dict[tuple[str, str], float] = {}
    for entry in instance.all_logs(run_id, of_type=kind):
        event = entry.dagster_event
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            out[(mat.asset_key.to_user_string(), mat.partition or "")] = entry.timestamp
        else:
            out[(event.step_key, "")] = entry.timestamp
    return out


def test_single_run_backfill_logs_one_row_per_asset_and_month(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(
        instance,
        [bronze_demo, gold_demo, bronze_without_metadata],
        tags=month_range_tags("202301", "202303"),
    )
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS

    assert mirror_run(instance, run_id, conn) == 9
    rows = logged(conn, run_id)
    assert sorted(rows) == sorted(
        (asset, month)
        for asset in ("bronze/elt_demo", "gold/elt_demo", "bronze/card_subway_month")
        for month in MONTHS
    )
    mats = event_times(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    bronze_start, bronze_end = step_span(instance, run_id, "bronze__elt_demo")

    for month in MONTHS:
        row = rows[("bronze/elt_demo", month)]
        counts = BRONZE_COUNTS[month]
        assert {c: row[c] for c in HOP_COLUMNS} == {
            "domain": "life",
            "action": "inc",
            "source_type": "csv",
            "source_topic": "landing",
            "source_dpath": "landing",
            # 202302 names its own file; the others keep the asset's source object.
            "source_object": counts.get("source_object", "CARD_SUBWAY_MONTH_*.csv"),
            "target_type": "delta",
            "target_topic": "bronze",
            "target_dpath": "bronze/life",
            "target_object": "elt_demo",
        }
        assert row["valid"] is True
        assert row["status"] == "materialized"
        assert (
            row["source_read_size"],
            row["target_read_size"],
            row["cleaned_count"],
            row["merged_count"],
            row["pass_in_sum"],
            row["pass_out_sum"],
        ) == (
            counts["source_read_size"],
            counts["target_read_size"],
            counts["cleaned_count"],
            counts["merged_count"],
            counts["pass_in"],
            counts["pass_out"],
        )
        # Our validity rule holds for the contract's counts: source = target + cleaned + merged.
        assert row["source_read_size"] == (
            row["target_read_size"] + row["cleaned_count"] + row["merged_count"]
        )
        assert row["error_message"] is None and row["error_detail"] is None
        assert row["check_outcomes"] is None
        assert row["step_key"] == "bronze__elt_demo"
        assert row["job_name"] == "__ephemeral_asset_job__"
        materialized_at = utc(mats[("bronze/elt_demo", month)])
        assert abs((row["record_time"] - materialized_at).total_seconds()) < 1e-5
        # The month's own share of the range step, by the rows it read (110:220:330).
        share = BRONZE_COUNTS[month]["source_read_size"] / 660
        assert row["elapsed"] == pytest.approx((bronze_end - bronze_start) * share, abs=1e-6)
        assert row["elapsed_method"] == "prorated_rows"
        assert abs((row["step_start"] - utc(bronze_start)).total_seconds()) < 1e-5
        assert abs((row["step_end"] - utc(bronze_end)).total_seconds()) < 1e-5

        gold = rows[("gold/elt_demo", month)]
        # A failed WARN check is recorded but does not make the load invalid.
        assert gold["valid"] is True and gold["status"] == "materialized"
        assert gold["check_outcomes"] == {"sums_reconcile": {"passed": False, "severity": "WARN"}}
        assert (gold["source_read_size"], gold["target_read_size"], gold["pass_in_sum"]) == (
            100,
            100,
            5000,
        )

        fallback = rows[("bronze/card_subway_month", month)]
        # No elt/* metadata: descriptive fields from HOPS, counts unknown (-1).
        assert {c: fallback[c] for c in HOP_COLUMNS} == {
            "domain": "life",
            "action": "hopt/inc",
            "source_type": "csv",
            "source_topic": "landing",
            "source_dpath": "landing",
            "source_object": f"CARD_SUBWAY_MONTH_{month}.csv",
            "target_type": "delta",
            "target_topic": "bronze",
            "target_dpath": "bronze/life",
            "target_object": "bronze/card_subway_month",
        }
        assert (
            fallback["source_read_size"],
            fallback["target_read_size"],
            fallback["cleaned_count"],
            fallback["merged_count"],
        ) == (-1, -1, -1, -1)
        assert fallback["pass_in_sum"] is None and fallback["valid"] is True
        # Its counts are unknown: the step's time is shared evenly.
        assert fallback["elapsed_method"] == "prorated_even"

    # Summed over the range's months, each step's elapsed is the step's duration.
    for asset, step in (
        ("bronze/elt_demo", "bronze__elt_demo"),
        ("gold/elt_demo", "gold__elt_demo"),
        ("bronze/card_subway_month", "bronze__card_subway_month"),
    ):
        start, end = step_span(instance, run_id, step)
        assert sum(rows[(asset, m)]["elapsed"] for m in MONTHS) == pytest.approx(
            end - start, abs=1e-6
        )


def test_failed_step_logs_redacted_error_and_nothing_for_skipped_assets(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(
        instance, [bronze_demo, gold_fails, mart_never], tags=month_range_tags("202301", "202303")
    )
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE

    assert mirror_run(instance, run_id, conn) == 6
    rows = logged(conn, run_id)
    # mart/elt_never never ran: no row, not even a failed one.
    assert sorted(rows) == sorted(
        [("bronze/elt_demo", m) for m in MONTHS] + [("gold/elt_fails", m) for m in MONTHS]
    )
    failed_at = event_times(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
    start, end = step_span(instance, run_id, "gold__elt_fails")
    expected_message = (
        "ConnectionError: could not connect to "
        "postgresql://loader:***@127.0.0.1:5999/mart: connection refused"
    )
    for month in MONTHS:
        row = rows[("gold/elt_fails", month)]
        assert row["valid"] is False and row["status"] == "failed"
        assert (
            row["source_read_size"],
            row["target_read_size"],
            row["cleaned_count"],
            row["merged_count"],
        ) == (-1, -1, -1, -1)
        assert row["pass_in_sum"] is None and row["pass_out_sum"] is None
        assert row["error_message"] == expected_message
        assert FAILING_PASSWORD not in row["error_detail"]
        assert FAILING_DSN not in row["error_detail"]
        assert 'Error occurred while executing op "gold__elt_fails"' in row["error_detail"]
        assert "caused by: " + expected_message in row["error_detail"]
        assert len(row["error_detail"]) <= 4000
        assert row["step_key"] == "gold__elt_fails"
        failure_at = utc(failed_at[("gold__elt_fails", "")])
        assert abs((row["record_time"] - failure_at).total_seconds()) < 1e-5
        # Counts unknown (-1): each month has an even share of the failed step.
        assert row["elapsed"] == pytest.approx((end - start) / len(MONTHS), abs=1e-6)
        assert row["elapsed_method"] == "prorated_even"
        # Not an asset of the data set specs and no metadata: unknown descriptive fields.
        assert (row["domain"], row["action"], row["target_object"]) == ("unknown", "unknown", None)
        assert rows[("bronze/elt_demo", month)]["valid"] is True


def test_failed_blocking_check_marks_the_load_invalid(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [bronze_checked, mart_after_check], partition_key="202302")
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE

    assert mirror_run(instance, run_id, conn) == 1
    rows = logged(conn, run_id)
    assert list(rows) == [("bronze/elt_checked", "202302")]  # mart/elt_after_check: blocked
    row = rows[("bronze/elt_checked", "202302")]
    assert row["valid"] is False
    assert row["status"] == "check_failed"
    assert row["check_outcomes"] == {"rows_reconcile": {"passed": False, "severity": "ERROR"}}
    assert (
        row["source_read_size"],
        row["target_read_size"],
        row["cleaned_count"],
        row["merged_count"],
        row["pass_in_sum"],
        row["pass_out_sum"],
    ) == (10, 8, 0, 0, 70, 60)
    assert row["target_object"] == "elt_checked"
    # Its figures do not add up either (two rows neither written, cleaned nor merged): said
    # first. The check has no description: it is named, with the row's figures.
    assert row["error_message"] == (
        "bronze/elt_checked 202302: source 10 != target 8 + cleaned 0 + merged 0; "
        "check rows_reconcile failed (10 read, 8 written, 0 cleaned)"
    )
    assert row["error_detail"].startswith(
        "bronze/elt_checked 202302: source 10 != target 8 + cleaned 0 + merged 0; "
        "blocking check(s) failed\n\ncheck rows_reconcile (ERROR)"
    )


def test_figures_that_do_not_add_up_make_the_load_invalid(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    """Every check passed and the run succeeded, but one month's figures do not add up
    (source = target + cleaned + merged): that month is not valid, and says which figures."""
    run_id = run(instance, [gold_unreconciled], tags=month_range_tags("202301", "202302"))
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS

    assert mirror_run(instance, run_id, conn) == 2
    rows = logged(conn, run_id)
    bad = rows[("gold/elt_unreconciled", "202302")]
    assert (bad["valid"], bad["status"]) == (False, "unreconciled")
    assert bad["check_outcomes"] == {"rows_reconcile": {"passed": True, "severity": "ERROR"}}
    assert (
        bad["source_read_size"],
        bad["target_read_size"],
        bad["cleaned_count"],
        bad["merged_count"],
    ) == (17724, 17715, 0, 8)
    assert bad["error_message"] == (
        "gold/elt_unreconciled 202302: source 17724 != target 17715 + cleaned 0 + merged 8"
    )
    assert bad["error_detail"] == (
        "gold/elt_unreconciled 202302: source 17724 != target 17715 + cleaned 0 + merged 8"
    )
    good = rows[("gold/elt_unreconciled", "202301")]
    assert (good["valid"], good["status"], good["error_message"]) == (True, "materialized", None)


def test_failed_check_message_quotes_the_months_figures_redacted(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [gold_reconciled], tags=month_range_tags("202301", "202302"))
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE

    assert mirror_run(instance, run_id, conn) == 2
    rows = logged(conn, run_id)
    bad = rows[("gold/elt_reconciled", "202302")]
    assert (bad["valid"], bad["status"]) == (False, "check_failed")
    assert bad["error_message"] == (
        f"gold/elt_reconciled 202302: {GOLD_PROBLEM}; pass_in 5 in gold, 6 in "
        "postgresql://loader:***@127.0.0.1:5999/mart (reconciles_with_bronze)"
    )
    detail = bad["error_detail"]
    assert "201607" not in detail and FAILING_PASSWORD not in detail
    assert f"202302: {GOLD_PROBLEM}" in detail  # the check's description, in full
    assert '"problems": {"202302": [' in detail
    # A check evaluated once for the whole run names its months (problems per month): the
    # month with no problem of its own was written and reconciles, so it stays valid
    # (issue 13, 3b: only the bad month of a range is invalid; range_runs.py publishes it).
    other = rows[("gold/elt_reconciled", "202301")]
    assert (other["valid"], other["status"], other["error_message"]) == (True, "materialized", None)
    assert len(bad["error_message"]) <= 255 and FAILING_PASSWORD not in bad["error_message"]


def test_deliberate_failure_message_has_no_class_path(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [bronze_bad_file], partition_key="202301")
    assert mirror_run(instance, run_id, conn) == 1
    row = logged(conn, run_id)[("bronze/elt_bad_file", "202301")]
    assert row["error_message"] == "CARD_SUBWAY_MONTH_202301.csv: line 17188: field 5 is 'x'"
    assert "dagster._core" in row["error_detail"]  # the full text keeps the class path


def test_unpartitioned_assets_log_the_empty_partition_key(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [bronze_station, gold_station_fails])

    assert mirror_run(instance, run_id, conn) == 2
    rows = logged(conn, run_id)
    assert sorted(rows) == [("bronze/elt_station", ""), ("gold/elt_station_fails", "")]
    ok = rows[("bronze/elt_station", "")]
    assert (ok["action"], ok["target_object"], ok["valid"], ok["status"]) == (
        "full",
        "elt_station",
        True,
        "materialized",
    )
    assert (ok["source_read_size"], ok["target_read_size"], ok["cleaned_count"]) == (50, 49, 1)
    failed = rows[("gold/elt_station_fails", "")]
    assert failed["error_message"] == "ValueError: bad config password=*** for station load"
    assert FAILING_PASSWORD not in failed["error_detail"]


def test_mirroring_twice_adds_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [bronze_demo, gold_fails], tags=month_range_tags("202301", "202302"))
    expected = rows_for_run(instance, run_id)
    assert len(expected) == 4

    assert mirror_run(instance, run_id, conn) == 4
    first = logged(conn, run_id)
    assert mirror_run(instance, run_id, conn) == 0
    second = logged(conn, run_id)
    assert second == first  # same rows, same ids: nothing rewritten
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM elt_manager_log WHERE run_id = %s", (run_id,))
        assert cur.fetchone() == (4,)


def test_table_of_an_earlier_version_gets_error_detail(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS elt_log_v1")
    ensure_elt_log_table(conn, "elt_log_v1")
    conn.execute("ALTER TABLE elt_log_v1 DROP COLUMN error_detail")  # as the first version
    try:
        for _ in range(2):  # idempotent
            ensure_elt_log_table(conn, "elt_log_v1")
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                ("elt_log_v1",),
            )
        ]
        assert columns[-1] == "error_detail" and columns.count("error_detail") == 1
        assert "error_message" in columns
    finally:
        conn.execute("DROP TABLE elt_log_v1")


def test_table_of_an_earlier_version_gets_the_step_times(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS elt_log_v2")
    ensure_elt_log_table(conn, "elt_log_v2")
    for column in ("step_start", "step_end", "elapsed_method"):  # as before issue 22
        conn.execute(f"ALTER TABLE elt_log_v2 DROP COLUMN {column}")  # noqa: S608 - constant
    conn.execute(
        "INSERT INTO elt_log_v2 (record_time, domain, action, valid, source_read_size, "
        "target_read_size, cleaned_count, elapsed, run_id, asset_key, status) "
        "VALUES (now(), 'life', 'hopt/inc', true, 10, 10, 0, 4.5, 'old-run', 'gold/x', "
        "'materialized')"
    )
    try:
        for _ in range(2):  # idempotent
            ensure_elt_log_table(conn, "elt_log_v2")
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT * FROM elt_log_v2")
            (old,) = cur.fetchall()
        # The old row keeps its values; the new columns are empty for it.
        assert (old["elapsed"], old["source_read_size"], old["run_id"]) == (4.5, 10, "old-run")
        assert (old["step_start"], old["step_end"], old["elapsed_method"]) == (None, None, None)
    finally:
        conn.execute("DROP TABLE elt_log_v2")
