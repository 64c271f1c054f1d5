"""Gold's figures: what a load of gold counts, measured by Spark jobs and the Delta logs.

Each function returns numbers (per month, ``""`` when unpartitioned) for the judgment
(``judgment.py``) and the checks; none writes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from subway_platform.assets.judgment import unparseable_rows
from subway_platform.checks import bronze_good_stats, first_rejected_rows
from subway_platform.datasets import DatasetSpec
from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import tables_of

if TYPE_CHECKING:  # enrichment imports Spark, which the code location does not load
    from subway_platform.assets.enrichment import MonthCoverage


@dataclass(frozen=True)
class RejectFigures:
    """The rejects of a load, before they are written."""

    bronze_stats: dict[str, dict[str, Any]]
    """Per month: bronze's rows, its good (parseable) rows and sums (``bronze_good_stats``)."""
    unparseable: dict[str, int]
    """Per month: the rows gold rejects."""
    first_rejects: list[dict[str, Any]]
    """The first rejected rows (file, line, reason); empty when none is rejected."""
    stored: dict[str, int]
    """Per month: the rows the rejects table held before this load (its Delta log)."""

    @property
    def write(self) -> bool:
        """Whether the months' rejects are replaced: unless there are none now and none
        stored before, when the table already says so and the write, a full scan of
        bronze, is spared."""
        return any(self.unparseable.values()) or any(self.stored.values())


def reject_figures(
    spec: DatasetSpec, typed: DataFrame, months: list[str], delta_store: DeltaStore
) -> RejectFigures:
    """One scan of bronze, typed, for its good and rejected rows (a second small query for
    the first rejects, only when some row is rejected); the stored rejects from the log."""
    bronze_stats = bronze_good_stats(spec, typed, months)
    unparseable = unparseable_rows(bronze_stats)
    first = first_rejected_rows(spec, typed, months) if any(unparseable.values()) else []
    stored = delta_store.rows_per_month(tables_of(spec).rejects.months(months))
    return RejectFigures(bronze_stats, unparseable, first, stored)


def rejected_rows(
    spec: DatasetSpec, figures: RejectFigures, months: list[str], delta_store: DeltaStore
) -> dict[str, int]:
    """Rows per month in the rejects table after the load (its Delta log when written)."""
    if not figures.write:
        return figures.stored
    return delta_store.rows_per_month(tables_of(spec).rejects.months(months))


def plan_rows(frame: DataFrame, months: list[str]) -> dict[str, int]:
    """Rows of the gold plan per month (``""`` when unpartitioned): one Spark job."""
    from pyspark.sql import functions as F

    month = F.col(MONTH_COLUMN) if months else F.lit("")
    rows = frame.groupBy(month.alias("_k")).agg(F.count(F.lit(1)).alias("rows")).collect()
    return {str(r["_k"] or ""): int(r["rows"]) for r in rows}


def distinct_keys(
    frame: DataFrame, months: list[str], enrichment: Mapping[str, "MonthCoverage"]
) -> dict[str, int]:
    """One gold row per key: the merged plan's rows are its distinct keys (counted by the
    coverage aggregate when there is one, else by a count of the plan)."""
    if enrichment:
        return {month: cov.rows for month, cov in enrichment.items()}
    return plan_rows(frame, months)
