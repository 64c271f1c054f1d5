"""Gold: typed English columns, repeated keys summed, rejects kept with their reason.

One step per data set writes two assets from one read of bronze: ``gold/<gold asset>``
and ``gold/rejects/<data set>_rejects`` (``assets/rejects.py``): the rows that cannot be parsed,
with the reason and their source position, counted as gold's ``cleaned_count``. (The
rejects table appears with the first rejected row; a load with none leaves months that
never had any untouched, and empties those that had some.) Rows repeating a key (e.g. the
same date, line and station twice) are separate real counts: gold sums them, it never
drops one. Passenger tables get the station id and coordinates from ``gold/subway_station``
when that table exists, by a left join that loses no row.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from subway_platform.assets.code_version import code_version
from subway_platform.assets.layer import layer_asset_args
from subway_platform.assets.rejects import (
    REJECTS_OUTPUT,
    month_metadata,
    rejects_description,
    rejects_metadata,
)
from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.checks import bronze_good_stats, first_rejected_rows, gold_results
from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import PartitionStats, source_stats_metadata
from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN, context_months
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import tables_of

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


def plan_rows(frame: DataFrame, months: list[str]) -> dict[str, int]:
    """Rows of the gold plan per month (``""`` when unpartitioned): one Spark job."""
    from pyspark.sql import functions as F

    month = F.col(MONTH_COLUMN) if months else F.lit("")
    rows = frame.groupBy(month.alias("_k")).agg(F.count(F.lit(1)).alias("rows")).collect()
    return {str(r["_k"] or ""): int(r["rows"]) for r in rows}


def gold_source_stats(
    spec: DatasetSpec,
    source: Mapping[str, int],
    rejected: Mapping[str, int],
    bronze_stats: Mapping[str, Mapping[str, Any]],
    distinct_keys: Mapping[str, int],
) -> dict[str, PartitionStats]:
    """Gold's ELT figures per month, each measured on its own (hourly data sets count hour
    rows, 24 per bronze row):

    - ``source_read_size``: bronze's rows (``source``, from bronze's Delta log);
    - ``cleaned_count``: the rows in the rejects table (``rejected``, from its Delta log);
    - ``merged_count``: bronze's good (parseable) rows, from the scan of bronze
      (``bronze_stats``), minus the distinct keys they formed (``distinct_keys``).

    The IO manager adds the rows written. None is a remainder of the others, so the ELT
    log's ``source = target + cleaned + merged`` holds only if the load is whole.
    """
    factor = CELLS_PER_HOURLY_ROW if spec.wide_hours else 1
    stats: dict[str, PartitionStats] = {}
    for key, rows in source.items():
        good = int(bronze_stats.get(key, {}).get("good") or 0)
        stats[key] = PartitionStats(
            source_read_size=rows * factor,
            cleaned_count=rejected.get(key, 0) * factor,
            merged_count=good * factor - distinct_keys.get(key, 0),
            bronze_rows=rows,
            rejected_rows=rejected.get(key, 0),
        )
    return stats


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
    """The gold asset of a data set and its rejects asset, one step reading bronze once.

    Both outputs may be selected alone (``can_subset``): gold alone still keeps its rejects
    table in step (written without a materialization of the rejects asset: gold's checks
    count it); the rejects alone are written without gold.
    """
    tables = tables_of(spec)
    hop = HOPS[tables.gold.key_string]
    bronze_key = tables.bronze.key
    gold_key = tables.gold.key
    quarantine = tables.rejects.key
    join = spec.station_join
    master = dataset_named(join.master) if join is not None else None
    deps = [tables_of(master).gold.key] if master is not None else []
    args = layer_asset_args(spec, "gold", "delta_io_manager")
    shared = {name: args[name] for name in ("io_manager_key", "tags", "owners")}
    description = (
        f"Gold: typed, cleansed and merged. {spec.description} Columns have English "
        f"names; rows repeating ({', '.join(spec.gold_key)}) are summed (source_rows counts them); "
        f"unparseable rows are in {quarantine.to_user_string()} with the reason."
    )

    @dg.multi_asset(
        name=f"gold__{spec.gold_asset}",
        description=description,
        outs={
            "gold": dg.AssetOut(
                key=gold_key,
                description=description,
                metadata=args["metadata"],
                kinds={"spark", "delta"},
                # Required when selected (always yielded then); not required when the
                # step runs for the other output alone (can_subset).
                is_required=False,
                code_version=args["code_version"],
                **shared,
            ),
            REJECTS_OUTPUT: dg.AssetOut(
                key=quarantine,
                description=rejects_description(spec),
                kinds={"spark", "delta"},
                # Required when selected (always yielded then); not required when the
                # step runs for the other output alone (can_subset).
                is_required=False,
                code_version=code_version(spec, "rejects"),
                **shared,
            ),
        },
        ins={"bronze": dg.AssetIn(key=bronze_key)},
        deps=deps,
        internal_asset_deps={"gold": {bronze_key, *deps}, REJECTS_OUTPUT: {bronze_key}},
        partitions_def=args["partitions_def"],
        backfill_policy=args["backfill_policy"],
        group_name=args["group_name"],
        check_specs=args["check_specs"],
        can_subset=True,
    )
    def gold(
        context: dg.AssetExecutionContext,
        bronze: DataFrame,
        spark: SparkEngine,
        delta_store: DeltaStore,
        landing: LandingZone,
    ) -> Iterator[dg.Output[DataFrame | None] | CheckEvent]:
        # Spark code is imported by the step that runs it, not when the code location loads.
        from pyspark.sql import functions as F

        from subway_platform.assets.enrichment import (
            coverage,
            stations_matched_result,
            with_station_matched,
        )
        from subway_platform.assets.transforms import rejects_of, typed_columns

        selected = context.selected_output_names
        months = context_months(context)
        typed = typed_columns(spec, bronze)
        bronze_stats = bronze_good_stats(spec, typed, months)
        unparseable = {
            key: int(s.get("rows") or 0) - int(s.get("good") or 0)
            for key, s in bronze_stats.items()
        }
        first_rejects = (
            first_rejected_rows(spec, typed, months) if any(unparseable.values()) else []
        )
        rejects_slice = tables.rejects.months(months)
        rejects = delta_store.url(tables.rejects)
        # The months' rejects are replaced, unless there are none now and none stored
        # before: then the table already says so (its Delta log) and the write, a full
        # scan of bronze, is spared.
        stored = delta_store.rows_per_month(rejects_slice)
        write = any(unparseable.values()) or any(stored.values())
        frame_of_rejects = rejects_of(spec, bronze, typed) if write else None
        if REJECTS_OUTPUT in selected:
            for month in months:
                figures = month_metadata(
                    spec, unparseable.get(month, 0), bronze_stats.get(month, {})
                )
                context.add_asset_metadata(figures, asset_key=quarantine, partition_key=month)
            # Written by the Delta IO manager under the months' locks; None writes nothing.
            yield dg.Output(
                frame_of_rejects,
                output_name=REJECTS_OUTPUT,
                metadata=rejects_metadata(
                    spec, rejects, unparseable, bronze_stats, first_rejects, write
                ),
            )
        elif frame_of_rejects is not None:
            delta_store.write_slice(rejects_slice, frame_of_rejects)
            context.log.info(f"{quarantine.to_user_string()} not selected: written, not recorded")
        if "gold" not in selected:
            return
        rejected = delta_store.rows_per_month(rejects_slice) if write else stored
        source = delta_store.rows_per_month(tables.bronze.months(months))

        good = typed.filter(F.col("_reject_reason").isNull()).drop(
            "_reject_reason", "_source_object", "_source_row"
        )
        if "_month_value" in good.columns:
            good = good.drop("_month_value")
        frame = gold_frame(spec, good)
        station_reasons: dict[tuple[str, str], str] = {}
        if join is not None and master is not None:
            master_gold = tables_of(master).gold
            station = (
                delta_store.read_slice(master_gold.months(None))
                if delta_store.exists(master_gold)
                else None
            )
            frame, station_reasons = with_station_matched(frame, station, join, master)
        frame = frame.select(*canonical_order(frame.columns))
        checkpoint = None
        if join is not None:
            # Coverage and the Delta write both need the whole gold plan (parse, merge,
            # join). Sail does not cache (persist() is a no-op in 0.7.2), so the plan would
            # run twice (3.0 s of an 8.4 s gold step at 100x). It runs once, into Parquet
            # in the run's staging area; coverage and the write read that.
            checkpoint = landing.staging_url(context.run_id, "gold", spec.gold_asset)
            frame.write.mode("overwrite").parquet(checkpoint)
            frame = spark.spark_session.read.parquet(checkpoint)
        enrichment = coverage(spec, frame, months) if join is not None else {}
        for month, cov in enrichment.items():
            # Numbers per month: the UI plots their history (rows, passengers, rejects, coverage).
            figures = {
                "gold/month_rows": cov.rows,
                "gold/month_pass_in": cov.boardings,
                "gold/month_pass_out": cov.alightings,
                "gold/month_rejected_rows": rejected.get(month, 0),
            }
            context.add_asset_metadata(
                {**figures, **cov.metadata()}, asset_key=gold_key, partition_key=month or None
            )

        # One gold row per key: the merged plan's rows are its distinct keys (counted by
        # the coverage aggregate when there is one, else by a count of the plan).
        keys = (
            {month: cov.rows for month, cov in enrichment.items()}
            if enrichment
            else plan_rows(frame, months)
        )
        stats = gold_source_stats(spec, source, rejected, bronze_stats, keys)
        total_rejected = sum(rejected.values())
        if total_rejected:
            context.log.warning(f"{total_rejected} rows rejected; see {rejects}")
        try:
            yield dg.Output(
                frame,
                output_name="gold",
                metadata={
                    **{f"elt/{k}": v for k, v in hop.as_dict().items()},
                    **source_stats_metadata(stats),
                    "gold/rejected_rows": total_rejected,
                    "gold/rejects_uri": rejects,
                },
            )
        finally:
            # The Delta write has committed (or failed): the checkpoint has served.
            if checkpoint is not None:
                landing.storage.delete_prefix(checkpoint)
        written = delta_store.read_slice(tables.gold.months(months))
        results = gold_results(spec, bronze_stats, written, months, rejected, first_rejects)
        for month, cov in enrichment.items():
            results.setdefault(month, []).append(
                stations_matched_result(spec, {month: cov}, station_reasons)
            )
        yield from month_evaluations(context, gold_key, results)

    return gold
