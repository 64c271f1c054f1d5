"""Small real assets that follow the ELT metadata contract, and helpers to run them.

They do no I/O of their own: each returns the ``elt/*`` metadata the platform's assets
emit (the contract under test) with fixed counts, or fails the way a load fails.
"""

import time
from datetime import UTC, datetime
from typing import Any

import dagster as dg

import subway_platform.assets  # noqa: F401  (checks is imported through the assets package)
from subway_platform.check_judge import RECONCILES_WITH_BRONZE, verdict
from subway_platform.partitions import monthly_partitions

MONTHS = ["202301", "202302", "202303"]

# partition -> counts the bronze asset reports (source = target + cleaned + merged).
BRONZE_COUNTS: dict[str, dict[str, Any]] = {
    "202301": {
        "source_read_size": 110,
        "target_read_size": 100,
        "cleaned_count": 4,
        "merged_count": 6,
        "pass_in": 5000,
        "pass_out": 4900,
    },
    "202302": {
        "source_read_size": 220,
        "target_read_size": 210,
        "cleaned_count": 0,
        "merged_count": 10,
        "pass_in": 6000,
        "pass_out": 5950,
        "source_object": "CARD_SUBWAY_MONTH_202302.csv",
    },
    "202303": {
        "source_read_size": 330,
        "target_read_size": 330,
        "cleaned_count": 0,
        "merged_count": 0,
        "pass_in": None,
        "pass_out": None,
    },
}
BRONZE_HOP = {
    "elt/domain": "life",
    "elt/action": "inc",
    "elt/source_type": "csv",
    "elt/source_topic": "landing",
    "elt/source_dpath": "landing",
    "elt/source_object": "CARD_SUBWAY_MONTH_*.csv",
    "elt/target_type": "delta",
    "elt/target_topic": "bronze",
    "elt/target_dpath": "bronze/life",
    "elt/target_object": "elt_demo",
}
GOLD_HOP = {
    "elt/domain": "life",
    "elt/action": "inc",
    "elt/source_type": "delta",
    "elt/source_topic": "bronze",
    "elt/source_dpath": "bronze/life",
    "elt/source_object": "elt_demo",
    "elt/target_type": "delta",
    "elt/target_topic": "gold",
    "elt/target_dpath": "gold/life",
    "elt/target_object": "elt_demo",
}
FAILING_PASSWORD = "s3cr3t-Pa55"
FAILING_DSN = f"postgresql://loader:{FAILING_PASSWORD}@127.0.0.1:5999/mart"

_monthly = {"partitions_def": monthly_partitions, "backfill_policy": dg.BackfillPolicy.single_run()}


def _metadata(hop: dict[str, str], parts: dict[str, Any]) -> dict[str, Any]:
    return {**hop, "elt/partitions": dg.MetadataValue.json(parts)}


@dg.asset(key=["bronze", "elt_demo"], **_monthly)
def bronze_demo(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Reports the fixed bronze counts of each month it is run for."""
    parts = {month: BRONZE_COUNTS[month] for month in context.partition_keys}
    return dg.MaterializeResult(metadata=_metadata(BRONZE_HOP, parts))


@dg.asset(
    key=["gold", "elt_demo"],
    deps=[bronze_demo],
    **_monthly,
    check_specs=[dg.AssetCheckSpec("sums_reconcile", asset=dg.AssetKey(["gold", "elt_demo"]))],
)
def gold_demo(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every row kept; its non-blocking WARN check fails, which must not invalidate it."""
    parts = {
        month: {
            "source_read_size": 100,
            "target_read_size": 100,
            "cleaned_count": 0,
            "merged_count": 0,
            "pass_in": 5000,
            "pass_out": 4900,
        }
        for month in context.partition_keys
    }
    return dg.MaterializeResult(
        metadata=_metadata(GOLD_HOP, parts),
        check_results=[
            dg.AssetCheckResult(
                check_name="sums_reconcile",
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
            )
        ],
    )


@dg.asset(key=["bronze", "card_subway_month"], **_monthly)
def bronze_without_metadata(context: dg.AssetExecutionContext) -> None:
    """An asset that does not follow the contract: its rows come from HOPS, counts -1."""


@dg.asset(key=["gold", "elt_fails"], deps=[bronze_demo], **_monthly)
def gold_fails(context: dg.AssetExecutionContext) -> None:
    """Fails like a load whose database is down, with credentials in the message."""
    raise ConnectionError(f"could not connect to {FAILING_DSN}: connection refused")


@dg.asset(key=["mart", "elt_never"], deps=[gold_fails], **_monthly)
def mart_never(context: dg.AssetExecutionContext) -> None:
    """Downstream of a failure: never runs, so it must leave no row."""


@dg.asset(
    key=["bronze", "elt_checked"],
    **_monthly,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_reconcile",
            asset=dg.AssetKey(["bronze", "elt_checked"]),
            blocking=True,
        )
    ],
)
def bronze_checked(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Written, but its blocking ERROR check fails (10 read, 8 written, nothing explained)."""
    parts = {
        month: {
            "source_read_size": 10,
            "target_read_size": 8,
            "cleaned_count": 0,
            "merged_count": 0,
            "pass_in": 70,
            "pass_out": 60,
        }
        for month in context.partition_keys
    }
    return dg.MaterializeResult(
        metadata=_metadata({**BRONZE_HOP, "elt/target_object": "elt_checked"}, parts),
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_reconcile",
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        ],
    )


GOLD_PROBLEM = "17186 rows + 0 rejected != 17187 in bronze"
"""What the platform's gold reconciliation reports for a month that lost a row."""


@dg.asset(
    key=["gold", "elt_reconciled"],
    **_monthly,
    check_specs=[
        dg.AssetCheckSpec(
            RECONCILES_WITH_BRONZE,
            asset=dg.AssetKey(["gold", "elt_reconciled"]),
            blocking=True,
        )
    ],
)
def gold_reconciled(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Written, but the platform's own verdict (``check_judge.verdict``) fails for the last month
    of the run only, with a password in a second problem (which must be redacted)."""
    months = context.partition_keys
    parts = {
        m: {
            "source_read_size": 17187,
            "target_read_size": 17186,
            "cleaned_count": 0,
            "merged_count": 1,
            "pass_in": 1,
            "pass_out": 1,
        }
        for m in months
    }
    problems = [
        f"{months[-1]}: {GOLD_PROBLEM}",
        f"{months[-1]}: pass_in 5 in gold, 6 in {FAILING_DSN}",
    ]
    return dg.MaterializeResult(
        metadata=_metadata({**GOLD_HOP, "elt/target_object": "elt_reconciled"}, parts),
        check_results=[verdict(RECONCILES_WITH_BRONZE, problems, "rows and sums reconcile")],
    )


UNRECONCILED = {
    "source_read_size": 17724,
    "target_read_size": 17715,
    "cleaned_count": 0,
    "merged_count": 8,
    "pass_in": 1,
    "pass_out": 1,
}
"""Figures that do not add up: one source row neither written, cleaned nor merged."""


@dg.asset(
    key=["gold", "elt_unreconciled"],
    **_monthly,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_reconcile", asset=dg.AssetKey(["gold", "elt_unreconciled"]), blocking=True
        )
    ],
)
def gold_unreconciled(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Written, its blocking check passes, but its figures do not add up (``UNRECONCILED``)
    for the last month of the run; the other months' figures do."""
    months = context.partition_keys
    whole = {**UNRECONCILED, "target_read_size": 17716}
    parts = {m: UNRECONCILED if m == months[-1] else whole for m in months}
    return dg.MaterializeResult(
        metadata=_metadata({**GOLD_HOP, "elt/target_object": "elt_unreconciled"}, parts),
        check_results=[dg.AssetCheckResult(check_name="rows_reconcile", passed=True)],
    )


@dg.asset(key=["bronze", "elt_bad_file"], **_monthly)
def bronze_bad_file(context: dg.AssetExecutionContext) -> None:
    """Refuses its file the way the ingest code does: a ``dagster.Failure`` for people."""
    raise dg.Failure(description="CARD_SUBWAY_MONTH_202301.csv: line 17188: field 5 is 'x'")


@dg.asset(key=["gold", "elt_slow"], deps=[bronze_demo], **_monthly)
def gold_slow(context: dg.AssetExecutionContext) -> None:
    """A load that takes minutes: the cancellation test stops the run while it runs."""
    for _ in range(1200):
        time.sleep(0.1)


@dg.asset(key=["mart", "elt_slow"], deps=[gold_slow], **_monthly)
def mart_slow(context: dg.AssetExecutionContext) -> None:
    """After the slow load: never reached in a cancelled run."""


@dg.asset(key=["mart", "elt_after_check"], deps=[bronze_checked], **_monthly)
def mart_after_check(context: dg.AssetExecutionContext) -> None:
    """Blocked by the failed check: never runs."""


@dg.asset(key=["bronze", "elt_station"])
def bronze_station() -> dg.MaterializeResult:
    """An unpartitioned full load: its counts sit under the partition key ``""``."""
    parts = {
        "": {
            "source_read_size": 50,
            "target_read_size": 49,
            "cleaned_count": 1,
            "merged_count": 0,
            "pass_in": None,
            "pass_out": None,
        }
    }
    hop = {**BRONZE_HOP, "elt/action": "full", "elt/target_object": "elt_station"}
    return dg.MaterializeResult(metadata=_metadata(hop, parts))


@dg.asset(key=["gold", "elt_station_fails"], deps=[bronze_station])
def gold_station_fails() -> None:
    """An unpartitioned asset that fails."""
    raise ValueError(f"bad config password={FAILING_PASSWORD} for station load")


def month_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of a single-run backfill of ``first``..``last``."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def run(
    instance: dg.DagsterInstance,
    assets: list[Any],
    tags: dict[str, str] | None = None,
    partition_key: str | None = None,
) -> str:
    """Materialize ``assets`` in process on ``instance``; return the run id."""
    result = dg.materialize(
        assets,
        instance=instance,
        tags=tags,
        partition_key=partition_key,
        raise_on_error=False,
    )
    return result.run_id


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
