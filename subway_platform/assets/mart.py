"""Mart: the gold tables published to PostgreSQL for dashboards and analysts.

The step's plan is gold itself; the mart IO manager publishes it through the
``MartStore`` on ``yield``; the judgment is its figures (``judgment.py``) and the mart's
check against gold (``checks.py``).
"""

from collections.abc import Iterator

import dagster as dg

from subway_platform.assets.judgment import hop_metadata, mart_source_stats
from subway_platform.assets.layer import layer_asset_args
from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.checks import mart_results
from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import source_stats_metadata
from subway_platform.frames import DataFrame
from subway_platform.partitions import context_months
from subway_platform.retries import retry_transient
from subway_platform.stores.delta import DeltaStore
from subway_platform.stores.mart import MartStore
from subway_platform.tables import tables_of


def build_mart_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    """The mart asset of a data set: its gold table, month by month, in PostgreSQL."""
    tables = tables_of(spec)
    hop = HOPS[tables.mart.key_string]
    gold_key = tables.gold.key
    metadata: dict[str, object] = {
        "dagster/table_name": tables.mart.address,
        "primary_key": list(spec.gold_key),
    }

    @dg.asset(
        key=tables.mart.key,
        description=f"PostgreSQL table {tables.mart.address}: gold published for dashboards. "
        f"{spec.description} Each load replaces its month(s) atomically.",
        ins={"gold": dg.AssetIn(key=gold_key)},
        kinds={"postgres"},
        **layer_asset_args(spec, "mart", "mart_io_manager", metadata),
    )
    def mart_table(
        context: dg.AssetExecutionContext,
        gold: DataFrame,
        delta_store: DeltaStore,
        mart_store: MartStore,
    ) -> Iterator[dg.Output[DataFrame] | CheckEvent]:
        months = context_months(context)
        stats = mart_source_stats(delta_store.rows_per_month(tables.gold.months(months)))
        yield dg.Output(gold, metadata={**hop_metadata(hop), **source_stats_metadata(stats)})
        with retry_transient(context):
            written = mart_store.totals_per_month(tables.mart.months(months), spec.sum_columns)
        yield from month_evaluations(
            context, tables.mart.key, mart_results(spec, gold, months, written)
        )

    return mart_table
