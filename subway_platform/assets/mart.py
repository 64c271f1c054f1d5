"""Mart: the gold tables published to PostgreSQL for dashboards and analysts."""

from collections.abc import Iterator

import dagster as dg

from subway_platform.assets.layer import layer_asset_args
from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.checks import mart_results
from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import PartitionStats, source_stats_metadata
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
        source = delta_store.rows_per_month(tables.gold.months(months))
        stats = {
            # The mart copies gold's rows (a repeated key fails its primary key): none
            # cleaned, none merged.
            key: PartitionStats(source_read_size=rows, cleaned_count=0, merged_count=0)
            for key, rows in source.items()
        }
        yield dg.Output(
            gold,
            metadata={
                **{f"elt/{k}": v for k, v in hop.as_dict().items()},
                **source_stats_metadata(stats),
            },
        )
        with retry_transient(context):
            written = mart_store.totals_per_month(tables.mart.months(months), spec.sum_columns)
        yield from month_evaluations(
            context, tables.mart.key, mart_results(spec, gold, months, written)
        )

    return mart_table
