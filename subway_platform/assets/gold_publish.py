"""Gold's publish: what the gold step reads and writes, all through the stores.

The rejects are written by the Delta IO manager when their asset is selected, else by the
``DeltaStore`` directly; gold itself is written by the Delta IO manager on ``yield``. The
station master is read through the store, and the enriched plan is checkpointed once in
the run's staging area so that its coverage and its write do not compute it twice.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from subway_platform.assets.gold_figures import RejectFigures
from subway_platform.assets.rejects import REJECTS_OUTPUT, month_metadata, rejects_metadata
from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.frames import DataFrame
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import tables_of


def station_table(spec: DatasetSpec, delta_store: DeltaStore) -> DataFrame | None:
    """The station master's gold table a passenger table is enriched with (None for a data
    set without a station join, or before the master's first load)."""
    join = spec.station_join
    if join is None:
        return None
    master_gold = tables_of(dataset_named(join.master)).gold
    if not delta_store.exists(master_gold):
        return None
    return delta_store.read_slice(master_gold.months(None))


def publish_rejects(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    delta_store: DeltaStore,
    frame: DataFrame | None,
    figures: RejectFigures,
    months: list[str],
) -> Iterator[dg.Output[DataFrame | None]]:
    """The months' rejects (``frame``, None when the write is spared): the rejects output,
    with its metadata and each month's numbers, when the rejects asset is selected; else
    written through the store without a materialization (gold's checks count them)."""
    tables = tables_of(spec)
    quarantine = tables.rejects.key
    if REJECTS_OUTPUT in context.selected_output_names:
        for month in months:
            numbers = month_metadata(
                spec, figures.unparseable.get(month, 0), figures.bronze_stats.get(month, {})
            )
            context.add_asset_metadata(numbers, asset_key=quarantine, partition_key=month)
        # Written by the Delta IO manager under the months' locks; None writes nothing.
        yield dg.Output(
            frame,
            output_name=REJECTS_OUTPUT,
            metadata=rejects_metadata(
                spec,
                delta_store.url(tables.rejects),
                figures.unparseable,
                figures.bronze_stats,
                figures.first_rejects,
                figures.write,
            ),
        )
    elif frame is not None:
        delta_store.write_slice(tables.rejects.months(months), frame)
        context.log.info(f"{quarantine.to_user_string()} not selected: written, not recorded")


@contextmanager
def checkpointed(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    frame: DataFrame,
    spark: SparkEngine,
    landing: LandingZone,
) -> Iterator[DataFrame]:
    """The gold plan to compute once: for an enriched table, the plan run into Parquet in
    the run's staging area and read back, deleted when the block ends (the Delta write
    has committed, or failed); else the plan itself.

    Coverage and the Delta write both need the whole plan (parse, merge, join). Sail does
    not cache (persist() is a no-op in 0.7.2), so the plan would run twice (3.0 s of an
    8.4 s gold step at 100x)."""
    if spec.station_join is None:
        yield frame
        return
    checkpoint = landing.staging_url(context.run_id, "gold", spec.gold_asset)
    frame.write.mode("overwrite").parquet(checkpoint)
    try:
        yield spark.spark_session.read.parquet(checkpoint)
    finally:
        landing.storage.delete_prefix(checkpoint)
