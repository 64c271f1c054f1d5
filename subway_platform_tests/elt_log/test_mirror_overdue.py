"""Freshness in the ELT log: a failed freshness evaluation is an ``overdue`` row of its own
and never changes the row of a load, even when both are in one run."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import psycopg

from subway_platform.datasets import DAILY
from subway_platform.elt_log.mirror import mirror_run, rows_for_run
from subway_platform.freshness import FRESHNESS_RUN_TAG, FRESHNESS_RUN_TAG_VALUE, freshness_checks
from subway_platform.freshness_rules import (
    FRESHNESS_CHECK_NAME,
    latest_deadline,
    overdue_month,
)
from subway_platform.partitions import monthly_partitions

BRONZE = dg.AssetKey(["bronze", DAILY.name])


@dg.asset(key=BRONZE, partitions_def=monthly_partitions)
def bronze_old_month() -> dg.MaterializeResult:
    """Stands in for a load of an old month (no counts: the row's counts are -1)."""
    return dg.MaterializeResult()


def test_overdue_row_beside_a_valid_load_of_an_old_month(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    (check,) = [c for c in freshness_checks() if BRONZE in {k.asset_key for k in c.check_keys}]
    due = overdue_month(latest_deadline(DAILY.due_day or 1, datetime.now(UTC)))
    # A run that loads 201907 AND evaluates freshness (the sensor's tag): the check fails.
    result = dg.materialize(
        [bronze_old_month, check],
        instance=instance,
        partition_key="201907",
        tags={FRESHNESS_RUN_TAG: FRESHNESS_RUN_TAG_VALUE},
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == FRESHNESS_CHECK_NAME and not evaluation.passed

    rows = {(r.asset_key, r.partition_key): r for r in rows_for_run(instance, result.run_id)}
    assert set(rows) == {(BRONZE.to_user_string(), "201907"), (BRONZE.to_user_string(), due)}
    load = rows[(BRONZE.to_user_string(), "201907")]
    assert load.valid and load.status == "materialized" and load.error_message is None
    assert load.check_outcomes is None  # the freshness evaluation is not the load's
    overdue = rows[(BRONZE.to_user_string(), due)]
    assert not overdue.valid and overdue.status == "overdue"
    assert overdue.source_object == f"CARD_SUBWAY_MONTH_{due}.csv"
    assert overdue.target_object == "bronze/card_subway_month"
    assert (overdue.source_read_size, overdue.target_read_size, overdue.cleaned_count) == (
        -1,
        -1,
        -1,
    )
    assert overdue.error_message and len(overdue.error_message) <= 255
    assert overdue.error_message.startswith(f"bronze/card_subway_month {due} overdue since ")
    assert overdue.error_message.endswith("not loaded (last load: 201907)")
    assert overdue.check_outcomes == {FRESHNESS_CHECK_NAME: {"passed": False, "severity": "ERROR"}}
    assert overdue.error_detail and "overdue" in overdue.error_detail

    assert mirror_run(instance, result.run_id, conn) == 2
    assert mirror_run(instance, result.run_id, conn) == 0  # idempotent
