"""Ten ELT log rows over three days and three domains, and the figures they must give.

Good loads (one that left 10 rows in rejects), a check failure with a known source
count, failures with unknown counts (-1, the reference's "unknown"), one failure before
the target was known. Days are Seoul days (the dashboard's default zone, UTC+9): the row
at 23:30 UTC on 1 March belongs to 2 March, the row at 14:30 UTC on 3 March (23:30 in
Seoul) to 3 March. The expected figures below were worked out by hand from these rows;
the tests compare them to what the views and Superset compute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from subway_platform.elt_log.row import UNKNOWN_COUNT, EltLogRow

U = UNKNOWN_COUNT


def _row(
    n: int,
    at: str,
    domain: str,
    target: str | None,
    valid: bool,
    source: int,
    target_rows: int,
    error: str | None = None,
    cleaned: int = 0,
) -> EltLogRow:
    return EltLogRow(
        record_time=datetime.fromisoformat(at).replace(tzinfo=UTC),
        domain=domain,
        action="inc",
        source_type="delta",
        source_topic="bronze",
        source_dpath=f"bronze/{domain}",
        source_object=f"bronze_{domain}",
        target_type="delta" if target else None,
        target_topic="gold" if target else None,
        target_dpath=f"gold/{domain}" if target else None,
        target_object=target,
        valid=valid,
        source_read_size=source,
        target_read_size=target_rows,
        cleaned_count=cleaned,
        error_message=error,
        elapsed=n / 2,  # row n took n/2 seconds
        run_id=f"run-{n:02d}",
        job_name="test_job",
        asset_key=f"gold/{domain}",
        partition_key=at[:7],
        step_key=f"step_{n}",
        status="materialized" if valid else "failed",
        merged_count=None,
        pass_in_sum=None,
        pass_out_sum=None,
        check_outcomes=None,
        error_detail=error,
    )


ROWS: list[EltLogRow] = [
    _row(
        1,
        "2024-03-01T01:00:00",
        "daily",
        "gold.daily",
        True,
        100,
        90,
        "gold.daily 2024-03: loaded with 10 rejected rows (no_rows_rejected)",
        cleaned=10,
    ),
    _row(2, "2024-03-01T02:00:00", "hourly", "gold.hourly", True, 200, 200),
    _row(3, "2024-03-01T23:30:00", "station", "gold.station", False, U, U, "boom: disk full"),
    _row(4, "2024-03-02T00:10:00", "daily", "gold.daily", False, 50, U, "check failed: nulls"),
    _row(5, "2024-03-02T05:00:00", "daily", "gold.daily", True, 120, 110),
    _row(6, "2024-03-02T06:00:00", "hourly", "gold.hourly", True, 300, 280),
    _row(7, "2024-03-03T12:00:00", "station", "gold.station", True, 40, 40),
    _row(8, "2024-03-03T13:00:00", "hourly", "mart.hourly", True, 280, 280),
    _row(9, "2024-03-03T14:00:00", "hourly", "mart.hourly", False, U, U, "connection refused"),
    _row(10, "2024-03-03T14:30:00", "daily", None, False, U, U, "no such file"),
]

# Unfiltered figures.
TARGET_TABLES = 4  # gold.daily, gold.hourly, gold.station, mart.hourly
TOTAL_TARGET_RECORDS = 90 + 200 + 110 + 280 + 40 + 280
TOTAL_SOURCE_RECORDS = 100 + 200 + 50 + 120 + 300 + 40 + 280
STATUS_SPLIT = {"success": 6, "failure": 4}
STATUS_BY_DOMAIN = {"daily": (2, 2), "hourly": (3, 1), "station": (1, 1)}  # (success, failure)
DAILY_OPERATIONS = {
    date(2024, 3, 1): (2, 0),
    date(2024, 3, 2): (2, 2),
    date(2024, 3, 3): (2, 2),
}  # Seoul days
DAILY_OPERATIONS_UTC = {
    date(2024, 3, 1): (2, 1),
    date(2024, 3, 2): (2, 1),
    date(2024, 3, 3): (2, 2),
}
DAILY_RECORDS = {
    date(2024, 3, 1): (300, 290),
    date(2024, 3, 2): (470, 390),
    date(2024, 3, 3): (320, 320),
}  # (source rows, target rows)
DAILY_TIME = {
    (date(2024, 3, 1), "delta gold.daily"): 0.5,
    (date(2024, 3, 1), "delta gold.hourly"): 1.0,
    (date(2024, 3, 2), "delta gold.station"): 1.5,
    (date(2024, 3, 2), "delta gold.daily"): 2.0 + 2.5,
    (date(2024, 3, 2), "delta gold.hourly"): 3.0,
    (date(2024, 3, 3), "delta gold.station"): 3.5,
    (date(2024, 3, 3), "delta mart.hourly"): 4.0 + 4.5,
    (date(2024, 3, 3), "gold/daily"): 5.0,  # no target: named by its asset
}  # (Seoul day, target table) -> seconds
RECENT_FAILURES = ["run-10", "run-09", "run-04", "run-03"]  # newest first
LOADS_WITH_REJECTS = ["run-01"]  # valid, 10 of its 100 source rows rejected

# Filtered: domain = hourly, record_time in [2024-03-02, 2024-03-04) -> rows 6, 8, 9.
FILTER_DOMAIN = "hourly"
FILTER_FROM = datetime(2024, 3, 2, tzinfo=UTC)
FILTER_TO = datetime(2024, 3, 4, tzinfo=UTC)
FILTERED_STATUS_SPLIT = {"success": 2, "failure": 1}
FILTERED_DAILY_OPERATIONS = {date(2024, 3, 2): (1, 0), date(2024, 3, 3): (1, 1)}
FILTERED_DAILY_RECORDS = {date(2024, 3, 2): (300, 280), date(2024, 3, 3): (280, 280)}
FILTERED_RECENT_FAILURES = ["run-09"]
FILTERED_DAILY_TIME = {
    (date(2024, 3, 2), "delta gold.hourly"): 3.0,
    (date(2024, 3, 3), "delta mart.hourly"): 4.0 + 4.5,
}
# Filtered: outcome = failure, all time and domains.
FAILURES_BY_DOMAIN = {"daily": (0, 2), "hourly": (0, 1), "station": (0, 1)}
