"""What the reliability tests compare before and after a bad load: the mart month, the
Delta tables (read with delta-rs AND with Spark), the run's failure text and ELT log rows."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pyarrow.compute as pc
from deltalake import DeltaTable
from pyspark.sql import functions as F

from subway_platform.elt_log.mirror import mirror_run
from subway_platform.ingest.values import parse_count
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.spark import SparkEngine
from subway_platform_tests.zone import REAL, Zone

DAILY_DIR = REAL / "card_subway_month"
BRONZE = "bronze/card_subway_month"
GOLD = "gold/subway_passengers"


def daily_file(month: str) -> Path:
    """The real daily file of ``month`` (2019 only)."""
    return DAILY_DIR / f"CARD_SUBWAY_MONTH_{month}.csv"


@dataclass(frozen=True)
class DeltaMonth:
    """One month of a Delta table as delta-rs reads it, and the table version."""

    version: int
    rows: int
    pass_in: int | None
    pass_out: int | None


def mart_month(zone: Zone, month: str) -> tuple[int, int, int]:
    """Rows, sum(pass_in), sum(pass_out) of the mart table for ``month``."""
    return zone.query(
        "SELECT count(*), coalesce(sum(pass_in), 0)::bigint, coalesce(sum(pass_out), 0)::bigint "
        "FROM subway_passengers WHERE month = %s",
        (month,),
    )[0]


def spark() -> Any:
    """The same Spark Connect session the platform uses (embedded Sail in this process)."""
    return SparkEngine(remote=os.environ.get("SPARK_REMOTE")).spark_session


def _count_sum(values: Any) -> int:
    """Sum of a count column: gold holds integers, bronze the source text (``"34944.0"``)."""
    return sum(parse_count(str(v)) or 0 for v in values.to_pylist() if v is not None)


def delta_month(zone: Zone, table: str, month: str, version: int | None = None) -> DeltaMonth:
    """``month`` of ``<lake>/<table>`` read with delta-rs (optionally at ``version``)."""
    dt = DeltaTable(
        f"{zone.lake}/{table}",
        version=version,
        storage_options=object_storage_from_environment().delta_options(),
    )
    data = dt.to_pyarrow_table(partitions=[("month", "=", month)])
    cols = (
        ("pass_in", "pass_out")
        if "pass_in" in data.column_names
        else ("승차총승객수", "하차총승객수")
    )
    sums = [_count_sum(data.column(c)) if c in data.column_names else None for c in cols]
    return DeltaMonth(dt.version(), data.num_rows, sums[0], sums[1])


def assert_engines_agree(
    zone: Zone, table: str, months: Iterable[str], version: int | None = None
) -> None:
    """delta-rs and Spark read the same rows and sums for each month (design.md: Sail is
    young; every Delta table is read back by a second implementation)."""
    url = f"{zone.lake}/{table}"
    reader = spark().read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    df = reader.load(url)
    for month in months:
        rs = delta_month(zone, table, month, version)
        part = df.filter(F.col("month") == month)
        if "pass_in" in df.columns:
            got = part.agg(F.count(F.lit(1)), F.sum("pass_in"), F.sum("pass_out")).collect()[0]
            spark_view = (got[0], got[1] or 0, got[2] or 0)
        else:
            texts = part.select("승차총승객수", "하차총승객수").toArrow()
            spark_view = (texts.num_rows, _count_sum(texts.column(0)), _count_sum(texts.column(1)))
        assert spark_view == (rs.rows, rs.pass_in or 0, rs.pass_out or 0), (
            table,
            month,
            version,
            spark_view,
            rs,
        )


def snapshot(zone: Zone, month: str) -> dict[str, Any]:
    """Everything a failed load of ``month`` must leave unchanged."""
    return {
        "mart": mart_month(zone, month),
        BRONZE: delta_month(zone, BRONZE, month),
        GOLD: delta_month(zone, GOLD, month),
    }


def load_good_month(zone: Zone, month: str) -> dict[str, Any]:
    """Load the real file of ``month`` and return its snapshot (non-empty everywhere)."""
    zone.upload(daily_file(month))
    assert zone.run("daily_passengers_job", [month]).success
    state = snapshot(zone, month)
    assert state["mart"][0] > 0 and state[GOLD].rows == state["mart"][0]
    return state


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure's error messages (cause chain included), one string."""
    parts: list[str] = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause or error.context
    return "\n".join(parts)


def elt_rows(zone: Zone, run_id: str) -> dict[str, tuple[Any, ...]]:
    """The run's ELT log rows after mirroring: asset key -> (valid, status, error_message,
    source_read_size, target_read_size, partition_key)."""
    with psycopg.connect(zone.mart_dsn) as conn:
        mirror_run(zone.instance, run_id, conn)
        conn.commit()
    rows = zone.query(
        "SELECT asset_key, valid, status, error_message, source_read_size, target_read_size, "
        "partition_key "
        "FROM elt_manager_log WHERE run_id = %s",
        (run_id,),
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def run_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every event of a run serialized: messages, errors, metadata, tags."""
    logs = instance.all_logs(run_id)
    run = instance.get_run_by_id(run_id)
    return "\n".join(dg.serialize_value(e) for e in logs) + json.dumps(
        dict(run.tags) if run else {}
    )


def rejected_in_gold(zone: Zone, month: str) -> int:
    """Rows of ``month`` in gold's rejects table."""
    dt = DeltaTable(
        f"{zone.lake}/gold/rejects/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )
    data = dt.to_pyarrow_table(partitions=[("month", "=", month)])
    return int(pc.count(data.column("reason")).as_py())
