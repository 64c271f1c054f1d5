"""Gold: typed English columns, repeated keys summed, rejects kept with their reason.

Rows that cannot be parsed go to the Delta table ``<lake>/gold/rejects/<data set>`` with
the reason and their source position, and are counted. (The table appears with the first
rejected row; a load with none leaves months that never had any untouched, and empties
those that had some.) Rows repeating a key (e.g. the
same date, line and station twice) are separate real counts: gold sums them, it never
drops one. Passenger tables get the station id and coordinates from ``gold/subway_station``
when that table exists, by a left join that loses no row.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from subway_platform.assets.layer import layer_asset_args
from subway_platform.checks import (
    bronze_good_stats,
    first_rejected_rows,
    gold_results,
    rejects_result,
)
from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import PartitionStats, source_stats_metadata
from subway_platform.frames import DataFrame
from subway_platform.io_managers.delta import (
    open_delta,
    partition_rows,
    write_delta,
)
from subway_platform.partitions import MONTH_COLUMN, context_months, slice_months
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.spark import SparkEngine

CELLS_PER_HOURLY_ROW = 24


def gold_frame(spec: DatasetSpec, typed_good: DataFrame) -> DataFrame:
    """Merge good rows on the gold key: counts summed, merged rows counted in ``source_rows``."""
    from pyspark.sql import functions as F

    from subway_platform.assets.transforms import unpivot_hours

    rows = unpivot_hours(typed_good) if spec.wide_hours else typed_good
    keys = (
        [MONTH_COLUMN, *[k for k in spec.gold_key if k != MONTH_COLUMN]]
        if spec.partitioned
        else list(spec.gold_key)
    )
    aggs: list[Any] = [F.count(F.lit(1)).cast("bigint").alias("source_rows")]
    for name in spec.sum_columns:
        aggs.append(F.sum(name).cast("bigint").alias(name))
    # Every other declared column is carried: one value per key (see DatasetSpec.role).
    pick = {"min": F.min, "max": F.max}
    for name, how in spec.carried_columns().items():
        if name in rows.columns and name not in keys:
            aggs.append(pick[how](name).alias(name))
    return rows.groupBy(*keys).agg(*aggs)


GOLD_COLUMN_ORDER = (
    "month",
    "use_date",
    "hour",
    "line_no",
    "station_name",
    "station_id",
    "pass_in",
    "pass_out",
    "source_rows",
    "reg_date",
    "latitude",
    "longitude",
)


def canonical_order(columns: list[str]) -> list[str]:
    """Gold columns in one fixed order, whatever the plan produced (a join moves its keys
    first), so every write of a table has the same schema."""
    known = [c for c in GOLD_COLUMN_ORDER if c in columns]
    return known + sorted(c for c in columns if c not in GOLD_COLUMN_ORDER)


def build_gold_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    """The gold asset of a data set, built from its bronze asset."""
    hop = HOPS[f"gold/{spec.gold_asset}"]
    bronze_key = dg.AssetKey(["bronze", spec.name])
    join = spec.station_join
    master = dataset_named(join.master) if join is not None else None
    deps = [dg.AssetKey(["gold", master.gold_asset])] if master is not None else []

    @dg.asset(
        key=["gold", spec.gold_asset],
        description=f"Gold: typed, cleansed and merged. {spec.description} Columns have English "
        f"names; rows repeating ({', '.join(spec.gold_key)}) are summed (source_rows counts them); "
        "unparseable rows are in gold/rejects with the reason.",
        ins={"bronze": dg.AssetIn(key=bronze_key)},
        deps=deps,
        kinds={"spark", "delta"},
        **layer_asset_args(spec, "gold", "delta_io_manager"),
    )
    def gold(
        context: dg.AssetExecutionContext,
        bronze: DataFrame,
        spark: SparkEngine,
        lakehouse: Lakehouse,
        locks: TableLocks,
    ) -> Iterator[dg.Output[DataFrame] | dg.AssetCheckResult]:
        # Spark code is imported by the step that runs it, not when the code location loads.
        from pyspark.sql import functions as F

        from subway_platform.assets.enrichment import (
            coverage,
            stations_matched_result,
            with_station,
        )
        from subway_platform.assets.transforms import rejects_of, typed_columns

        months = context_months(context)
        typed = typed_columns(spec, bronze)
        bronze_stats = bronze_good_stats(spec, typed, months)
        unparseable = sum(
            int(s.get("rows") or 0) - int(s.get("good") or 0) for s in bronze_stats.values()
        )
        rejects = lakehouse.rejects_url(spec)
        with locks.hold(rejects, months):
            # The months' rejects are replaced, unless there are none now and none stored
            # before: then the table already says so (its Delta log) and the write, a full
            # scan of bronze, is spared.
            rejected = partition_rows(rejects, months or None)
            if unparseable or any(rejected.values()):
                write_delta(rejects_of(spec, bronze, typed), rejects, months, locks)
                rejected = partition_rows(rejects, months or None)
        source = partition_rows(lakehouse.table_url(bronze_key), months or None)
        first_rejects = first_rejected_rows(spec, typed, months) if unparseable else []

        good = typed.filter(F.col("_reject_reason").isNull()).drop(
            "_reject_reason", "_source_object", "_source_row"
        )
        if "_month_value" in good.columns:
            good = good.drop("_month_value")
        frame = gold_frame(spec, good)
        if join is not None and master is not None:
            station_url = lakehouse.table_url(["gold", master.gold_asset])
            station = (
                spark.spark_session.read.format("delta").load(station_url)
                if open_delta(station_url) is not None
                else None
            )
            frame = with_station(frame, station, join, master)
        frame = frame.select(*canonical_order(frame.columns))
        enrichment = coverage(spec, frame, months) if join is not None else {}
        for month, cov in enrichment.items():
            # Numbers per month, so the UI plots their history (rows, passengers, rejects, coverage).
            figures = {
                "gold/month_rows": cov.rows,
                "gold/month_pass_in": cov.boardings,
                "gold/month_pass_out": cov.alightings,
                "gold/month_rejected_rows": rejected.get(month, 0),
            }
            context.add_asset_metadata({**figures, **cov.metadata()}, partition_key=month or None)

        factor = CELLS_PER_HOURLY_ROW if spec.wide_hours else 1
        stats = {
            key: PartitionStats(
                source_read_size=rows * factor,
                cleaned_count=rejected.get(key, 0) * factor,
                bronze_rows=rows,
                rejected_rows=rejected.get(key, 0),
            )
            for key, rows in source.items()
        }
        total_rejected = sum(rejected.values())
        if total_rejected:
            context.log.warning(f"{total_rejected} rows rejected; see {rejects}")
        yield dg.Output(
            frame,
            metadata={
                **{f"elt/{k}": v for k, v in hop.as_dict().items()},
                **source_stats_metadata(stats),
                "gold/rejected_rows": total_rejected,
                "gold/rejects_uri": rejects,
            },
        )
        written = slice_months(
            spark.spark_session.read.format("delta").load(lakehouse.table_url(context.asset_key)),
            months,
        )
        yield from gold_results(spec, bronze_stats, written, months, rejected)
        yield rejects_result(spec, bronze_stats, rejected, first_rejects)
        if enrichment:
            yield stations_matched_result(spec, enrichment)

    return gold
