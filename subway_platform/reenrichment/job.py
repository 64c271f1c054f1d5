"""``reenrichment_job``: re-enrich passenger gold months from the current station master,
and publish them to the mart.

One op, one run, any set of months (Dagster cannot put non-contiguous partitions in one
run of a partitioned asset job; the months come in the run config, from
``station_master_sensor``). For each data set, the months still affected when the step
runs (``affected.py``, measured again on the lake) are read from gold, given the new
master's station id and coordinates for their (line, station) pairs, and written back:
gold's months replaced in one Delta write, then the mart's months swapped in one
transaction (``DeltaStore`` / ``MartStore``: each month replaced wholly or left as it
was). Each rewritten gold and mart month gets an ``AssetMaterialization`` with the rows
that gained, lost or changed coordinates, so the UI and the ELT log see it.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from subway_platform.assets.gold_plan import canonical_order
from subway_platform.datasets import ALL_DATASETS, DatasetSpec, dataset_named
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import PARTITIONS_METADATA, PartitionStats, stats_metadata
from subway_platform.frames import DataFrame
from subway_platform.reenrichment.affected import MonthChange, month_changes, pairs_of
from subway_platform.reenrichment.stored import master_index, stored_enrichment
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.landing import LandingZone
from subway_platform.retries import retry_transient
from subway_platform.stores.delta import DeltaStore
from subway_platform.stores.mart import MartStore
from subway_platform.tables import tables_of
from subway_platform.tags import KIND_TAG


def enriched_datasets() -> tuple[DatasetSpec, ...]:
    """The partitioned data sets whose gold is enriched from a station master."""
    return tuple(s for s in ALL_DATASETS if s.station_join is not None and s.partitioned)


class ReenrichmentConfig(dg.Config):
    """The months to re-enrich, by data set name (``card_subway_month``: [``201903``])."""

    months: dict[str, list[str]]


def _reenriched(gold: DataFrame, lookup: DataFrame, spec: DatasetSpec) -> DataFrame:
    """``gold`` with station id and coordinates from ``lookup`` (the new master's matches,
    keyed by the pair as the file wrote it); a row of an unmatched pair keeps its station
    id only if it had no coordinates (the file's own id) and loses its coordinates."""
    from pyspark.sql import functions as F

    assert spec.station_join is not None
    join = spec.station_join
    keyed = gold.join(
        lookup,
        on=(gold[join.line_column] == lookup["_line"])
        & (gold[join.station_column] == lookup["_station"]),
        how="left",
    )
    own = F.when(F.col("latitude").isNull() & F.col("longitude").isNull(), F.col("station_id"))
    frame = (
        keyed.withColumn(
            "station_id",
            F.when(F.col("_matched").isNotNull(), F.col("_station_id")).otherwise(own),
        )
        .withColumn("latitude", F.col("_latitude"))
        .withColumn("longitude", F.col("_longitude"))
        .drop("_line", "_station", "_station_id", "_latitude", "_longitude", "_matched")
    )
    return frame.select(*canonical_order(frame.columns))


def _lookup(spark: Any, resolved: Mapping[tuple[str, str], Any]) -> DataFrame:
    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        StringType,
        StructField,
        StructType,
    )

    schema = StructType(
        [
            StructField("_line", StringType(), False),
            StructField("_station", StringType(), False),
            StructField("_station_id", StringType(), True),
            StructField("_latitude", DoubleType(), True),
            StructField("_longitude", DoubleType(), True),
            StructField("_matched", BooleanType(), False),
        ]
    )
    rows = [
        (line, name, s.station_id, s.latitude, s.longitude, True)
        for (line, name), s in sorted(resolved.items())
    ]
    return spark.createDataFrame(rows, schema)


def _materializations(
    spec: DatasetSpec,
    changes: Mapping[str, MonthChange],
    gold_rows: Mapping[str, int],
    mart_rows: Mapping[str, int],
    master_version: int | None,
) -> list[dg.AssetMaterialization]:
    tables = tables_of(spec)
    out: list[dg.AssetMaterialization] = []
    for table, written, read in (
        (tables.gold, gold_rows, gold_rows),
        (tables.mart, mart_rows, gold_rows),
    ):
        hop = HOPS[table.key_string].as_dict()
        for month, change in changes.items():
            stats = PartitionStats(
                source_read_size=read.get(month, 0),
                cleaned_count=0,
                merged_count=0,
                target_read_size=written.get(month, 0),
            )
            master = tables_of(dataset_named(spec.station_join.master)).gold  # type: ignore[union-attr]
            out.append(
                dg.AssetMaterialization(
                    asset_key=table.key,
                    partition=month,
                    description=f"Re-enriched from {master.key_string}: {change.summary()}.",
                    metadata={
                        **{f"elt/{k}": v for k, v in hop.items()},
                        # The ELT log's source of this load: the station master, and what
                        # it changed (the row says how many rows gained or lost coordinates).
                        "elt/source_type": "delta",
                        "elt/source_topic": master.layer,
                        "elt/source_object": (
                            f"{master.name}"
                            + ("" if master_version is None else f" v{master_version}")
                            + f": {change.summary()}"
                        ),
                        PARTITIONS_METADATA: stats_metadata({month: stats}),
                        **change.metadata(),
                        "dagster/row_count": written.get(month, 0),
                    },
                )
            )
    return out


@dg.op(
    name="reenrich_station_months",
    description="Re-enriches passenger gold months with the current station master's "
    "ids and coordinates, and replaces the same months in the mart.",
)
def reenrich_station_months(
    context: dg.OpExecutionContext,
    config: ReenrichmentConfig,
    delta_store: DeltaStore,
    mart_store: MartStore,
    lakehouse: Lakehouse,
    landing: LandingZone,
) -> None:
    from subway_platform.assets.station_match import match_pairs
    from subway_platform.stores.delta_log import open_delta

    options = lakehouse.delta_options()
    for name, requested in sorted(config.months.items()):
        spec = dataset_named(name)
        if spec.station_join is None or not requested:
            continue
        tables = tables_of(spec)
        master_table = tables_of(dataset_named(spec.station_join.master)).gold
        master_url = lakehouse.url_of(master_table)
        index = master_index(master_url, options, dataset_named(spec.station_join.master))
        opened = open_delta(master_url, options)
        master_version = None if opened is None else opened.version()
        stored = stored_enrichment(spec, lakehouse.url_of(tables.gold), options, sorted(requested))
        resolved, _ = match_pairs(index, pairs_of(stored))
        changes = month_changes(stored, resolved)
        unchanged = sorted(set(requested) - set(changes))
        if unchanged:
            context.log.info(f"{name}: {', '.join(unchanged)} already as the master says")
        if not changes:
            continue
        lookup = _lookup(delta_store.spark.spark_session, resolved)
        # Month by month: a slice of several months is read and replaced by their range,
        # and the affected months need not be contiguous. Each month is recorded as soon
        # as its gold and mart are rewritten.
        for month in sorted(changes):
            gold_rows, mart_rows = _rewrite_month(
                context, spec, month, lookup, delta_store, mart_store, landing
            )
            for event in _materializations(
                spec, {month: changes[month]}, gold_rows, mart_rows, master_version
            ):
                context.log_event(event)
            context.log.info(f"{name} {month}: re-enriched, {changes[month].summary()}")


def _rewrite_month(
    context: dg.OpExecutionContext,
    spec: DatasetSpec,
    month: str,
    lookup: DataFrame,
    delta_store: DeltaStore,
    mart_store: MartStore,
    landing: LandingZone,
) -> tuple[dict[str, int], dict[str, int]]:
    """Re-enrich one gold month and publish it to the mart: rows written per month in
    gold and in the mart."""
    tables = tables_of(spec)
    spark = delta_store.spark.spark_session
    frame = _reenriched(delta_store.read_slice(tables.gold.months([month])), lookup, spec)
    # Gold is read and rewritten: the new month goes through Parquet in the run's staging
    # area first, so the Delta write never reads the files it replaces.
    checkpoint = landing.staging_url(context.run_id, "reenrichment", spec.gold_asset, month)
    try:
        frame.write.mode("overwrite").parquet(checkpoint)
        gold = delta_store.write_slice(tables.gold.months([month]), spark.read.parquet(checkpoint))
    finally:
        landing.storage.delete_prefix(checkpoint)
    with retry_transient(context):
        mart = mart_store.write_slice(
            tables.mart.months([month]),
            delta_store.read_slice(tables.gold.months([month])),
            list(spec.gold_key),
        )
    return gold.rows, mart.rows


@dg.job(
    name="reenrichment_job",
    description="Re-enriches the passenger months a station master change affects (gold "
    "and mart), as requested by station_master_sensor.",
    tags={KIND_TAG: "reenrichment"},
)
def reenrichment_job() -> None:
    reenrich_station_months()
