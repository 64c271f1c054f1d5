"""The code location the alert test's daemon serves: the platform's alert sensor, two jobs
that fail the way real loads fail, and a sensor that launches them when the test drops a
trigger file (``<job>__<month>``) into ``SUBWAY_ALERT_TEST_TRIGGERS``.

The assets carry the platform's real keys, so the alert names the real data set.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

import subway_platform.assets  # noqa: F401  (checks is imported through the assets package)
from subway_platform.alerts.sensors import build_alert_sensor
from subway_platform.check_judge import RECONCILES_WITH_BRONZE, verdict
from subway_platform.partitions import monthly_partitions
from subway_platform.resources.environment import build_alert_channels

TRIGGER_DIR_ENV = "SUBWAY_ALERT_TEST_TRIGGERS"
LEAKY_PASSWORD = "Leaky-Pa55word"
GOLD_PROBLEM = "17186 rows + 0 rejected != 17187 in bronze"
BRONZE = dg.AssetKey(["bronze", "card_subway_month"])
GOLD = dg.AssetKey(["gold", "subway_passengers"])


@dg.asset(key=BRONZE, partitions_def=monthly_partitions)
def bronze_refuses_file(context: dg.AssetExecutionContext) -> None:
    """Refuses the month's file, naming a DSN with a password (which must never leave)."""
    raise dg.Failure(
        description=f"CARD_SUBWAY_MONTH_{context.partition_key}.csv: line 17188: field "
        f"승차총승객수 is 'x' (target postgresql://loader:{LEAKY_PASSWORD}@127.0.0.1:5999/mart)"
    )


@dg.asset(
    key=GOLD,
    partitions_def=monthly_partitions,
    check_specs=[dg.AssetCheckSpec(RECONCILES_WITH_BRONZE, asset=GOLD, blocking=True)],
)
def gold_loses_a_row(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Written, but the platform's reconciliation verdict fails: one row went missing."""
    problem = f"{context.partition_key}: {GOLD_PROBLEM}"
    return dg.MaterializeResult(
        check_results=[verdict(RECONCILES_WITH_BRONZE, [problem], "rows and sums reconcile")],
    )


@dg.asset(
    key=["mart", "subway_passengers"], deps=[gold_loses_a_row], partitions_def=monthly_partitions
)
def mart_blocked() -> None:
    """Never runs: the blocking check stops it."""


refuse_job = dg.define_asset_job(
    "refuse_file_job", selection=[BRONZE], partitions_def=monthly_partitions
)
blocked_job = dg.define_asset_job(
    "blocked_check_job", selection=[GOLD, mart_blocked.key], partitions_def=monthly_partitions
)


@dg.sensor(
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[refuse_job, blocked_job],
)
def trigger_sensor(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest]:
    """One run per trigger file (the file name is the run key)."""
    for path in sorted(Path(os.environ[TRIGGER_DIR_ENV]).glob("*__*")):
        job, month = path.name.split("__")
        yield dg.RunRequest(run_key=path.name, job_name=job, partition_key=month)


defs = dg.Definitions(
    assets=[bronze_refuses_file, gold_loses_a_row, mart_blocked],
    jobs=[refuse_job, blocked_job],
    sensors=[trigger_sensor, build_alert_sensor(minimum_interval_seconds=2)],
    resources={"alert_channels": build_alert_channels()},
    executor=dg.in_process_executor,
)
