"""Overdue tables in the ELT log: one row per failed freshness evaluation.

The freshness sensor's runs (``freshness.py``) load nothing; each failed
``freshness_check`` evaluation of such a run becomes a row of its own: status
``overdue``, ``valid`` false, the overdue table's hop (its source and target, as its loads
are logged), the month that is due as partition key (``""`` for the station master),
counts -1 (nothing was read or written), and the check's finding as ``error_message``
(``mart/subway_passengers 202611 overdue since 2026-12-05 00:00 Asia/Seoul: not loaded
(last load: 201907)``). The dashboard's failure list shows it like any invalid row.

A freshness evaluation never counts toward a load's row: :func:`load_checks` leaves them
out before a load is judged (a load of an old month is valid whatever the latest month).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from subway_platform.elt_log.check_text import check_failure_detail
from subway_platform.elt_log.error_text import short_message, without_class_paths
from subway_platform.elt_log.row import UNKNOWN_COUNT, EltLogRow
from subway_platform.elt_log.run_events import CheckOutcome
from subway_platform.freshness_rules import FRESHNESS_CHECK_NAME, OVERDUE_MONTH_METADATA
from subway_platform.partitions import InvalidPartitionKey, validate_month


def is_freshness(check: CheckOutcome) -> bool:
    """Whether ``check`` is a freshness evaluation (the sensor's), not a load's check."""
    return check.check_name == FRESHNESS_CHECK_NAME


def load_checks(checks: Sequence[CheckOutcome]) -> list[CheckOutcome]:
    """The evaluations that judge a load: every one but the freshness checks."""
    return [check for check in checks if not is_freshness(check)]


def overdue_partition(check: CheckOutcome) -> str | None:
    """The month a failed freshness evaluation found overdue (``""``: a full-refresh
    table), or None when it is not a month (not ours to log)."""
    month = str(check.metadata.get(OVERDUE_MONTH_METADATA) or check.partition or "")
    if not month:
        return ""
    try:
        return validate_month(month)
    except InvalidPartitionKey:
        return None


def overdue_row(
    run: dg.DagsterRun,
    check: CheckOutcome,
    partition: str,
    hop_fields: Mapping[str, Any],
    fallback_time: float,
) -> EltLogRow:
    """The ``overdue`` row of one failed freshness evaluation of ``run``."""
    where = f"{check.asset_key} {partition}".strip()
    message = check.description or f"{where} overdue"
    return EltLogRow(
        record_time=datetime.fromtimestamp(check.timestamp or fallback_time, tz=UTC),
        **hop_fields,
        valid=False,
        source_read_size=UNKNOWN_COUNT,
        target_read_size=UNKNOWN_COUNT,
        cleaned_count=UNKNOWN_COUNT,
        error_message=short_message(without_class_paths(message)),
        elapsed=None,
        run_id=run.run_id,
        job_name=run.job_name,
        asset_key=check.asset_key,
        partition_key=partition,
        step_key=check.step_key,
        status="overdue",
        merged_count=None,
        pass_in_sum=None,
        pass_out_sum=None,
        check_outcomes={check.check_name: {"passed": False, "severity": check.severity}},
        error_detail=check_failure_detail([check], check.asset_key, partition, "overdue"),
    )
