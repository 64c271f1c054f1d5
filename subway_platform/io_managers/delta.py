"""Delta Lake IO manager for Spark DataFrames (bronze and gold).

The table of asset ``bronze/card_subway_month`` lives where the lakehouse resource says
(``<lake>/bronze/card_subway_month``). A partitioned table is partitioned by the ``month``
column (``partitions.MONTH_COLUMN``): writing replaces exactly the months of the step
(Delta ``replaceWhere``) and loading reads exactly the requested months. Unpartitioned
assets are overwritten.

Output metadata comes from the Delta log through ``deltalake`` (delta-rs), never from a
rescan of the data: rows of the written months (file statistics), table version, URI and
schema.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.elt_log.stats import (
    PARTITIONS_METADATA,
    SOURCE_STATS_METADATA,
    PartitionStats,
    stats_from_metadata,
    stats_metadata,
)
from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN, context_months, month_bounds, slice_months
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.spark import SparkEngine
from subway_platform.resources.storage import delta_storage_options
from subway_platform.retries import retry_transient

if TYPE_CHECKING:
    from deltalake import DeltaTable


def asset_metadata(context: dg.InputContext | dg.OutputContext) -> Mapping[str, Any]:
    """The asset's definition metadata (for an input: the upstream asset's)."""
    if isinstance(context, dg.InputContext):
        upstream = context.upstream_output
        return upstream.definition_metadata if upstream is not None else {}
    return context.definition_metadata


def open_delta(url: str, options: Mapping[str, str] | None = None) -> "DeltaTable | None":
    """The Delta table at ``url``, or None if there is none yet. ``options``: delta-rs
    storage options (``Lakehouse.delta_options()``); None: from the environment."""
    from deltalake import DeltaTable

    opts = dict(options) if options is not None else delta_storage_options()
    if not DeltaTable.is_deltatable(url, storage_options=opts):
        return None
    return DeltaTable(url, storage_options=opts)


def partition_rows(
    url: str, months: list[str] | None = None, options: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Rows per month of a Delta table, from the file statistics in its log (no data scan).

    For an unpartitioned table the total is under the key ``""``.
    """
    import pyarrow as pa

    table = open_delta(url, options)
    if table is None:
        return {}
    actions = pa.table(table.get_add_actions(flatten=True))
    counts: dict[str, int] = {}
    part_col = f"partition.{MONTH_COLUMN}"
    keys = (
        actions.column(part_col).to_pylist()
        if part_col in actions.column_names
        else [""] * actions.num_rows
    )
    for key, n in zip(keys, actions.column("num_records").to_pylist(), strict=True):
        if n is None:
            raise RuntimeError(f"{url}: a data file has no row count statistics")
        counts[key or ""] = counts.get(key or "", 0) + int(n)
    if months is not None:
        return {m: counts.get(m, 0) for m in months}
    return counts


def table_schema(table: "DeltaTable") -> dg.TableSchema:
    """The Delta table's columns and Arrow types, for ``dagster/column_schema``."""
    import pyarrow as pa

    schema = pa.schema(table.schema().to_arrow())
    return dg.TableSchema(columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in schema])


def month_predicate(months: list[str]) -> str:
    """Spark SQL predicate selecting ``months``, for Delta ``replaceWhere``.

    Spark takes the predicate as text (no parameters), so the keys are validated here,
    whatever the caller did: only six ASCII digits forming a month reach the text.
    """
    first, last = month_bounds(months)
    return f"`{MONTH_COLUMN}` >= '{first}' AND `{MONTH_COLUMN}` <= '{last}'"


def write_delta(
    df: DataFrame,
    url: str,
    months: list[str],
    locks: TableLocks | None = None,
    options: Mapping[str, str] | None = None,
) -> None:
    """Replace ``months`` of the table at ``url`` with ``df`` (or overwrite it all).

    The caller holds the locks of ``months``. The first write of a partitioned table
    creates it, and two writers of different months can both find it missing: on
    Apache Spark delta-spark then fails the second commit (a concurrent-creation conflict,
    seen when the landing sensor's run raced a CLI run), on Sail the second plain
    overwrite would replace the first writer's months. So creation also takes the
    table's ``create`` lock (from ``locks``) and checks again under it.
    """
    if months and open_delta(url, options) is None and locks is not None:
        with locks.hold(url, ["create"]):
            _write_delta(df, url, months, options)
    else:
        _write_delta(df, url, months, options)


def _write_delta(
    df: DataFrame, url: str, months: list[str], options: Mapping[str, str] | None
) -> None:
    writer = df.write.format("delta")
    # Sail 0.7.2 on S3 fails an overwrite with replaceWhere when the table does not exist
    # yet ("No commit files found in _delta_log"); a plain overwrite creates it with
    # exactly these months, which is the same result. (delta-spark needs no such detour;
    # the same code path keeps both engines' tables identical.)
    if months and open_delta(url, options) is not None:
        writer = (
            writer.mode("overwrite")
            .option("replaceWhere", month_predicate(months))
            .partitionBy(MONTH_COLUMN)
        )
    elif months:
        writer = writer.mode("overwrite").partitionBy(MONTH_COLUMN)
    else:
        writer = writer.mode("overwrite").option("overwriteSchema", "true")
    writer.save(url)


class DeltaLakeIOManager(dg.ConfigurableIOManager):
    """Stores Spark DataFrames as Delta Lake tables where the lakehouse puts them
    (``SUBWAY_LAKE_URL``). Partitioned outputs replace exactly their months; unpartitioned
    outputs overwrite.
    """

    lakehouse: dg.ResourceDependency[Lakehouse]
    spark: dg.ResourceDependency[SparkEngine]
    locks: dg.ResourceDependency[TableLocks]

    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        months = context_months(context)
        url = self.lakehouse.table_url(context.asset_key)
        if months and MONTH_COLUMN not in obj.columns:
            raise dg.Failure(f"{context.asset_key.to_user_string()}: no {MONTH_COLUMN} column")
        options = self.lakehouse.delta_options()
        with retry_transient(context), self.locks.hold(url, months):
            write_delta(obj, url, months, self.locks, options)

        table = open_delta(url, options)
        assert table is not None, f"Delta write to {url} left no table"
        rows = partition_rows(url, months or None, options)
        written = sum(rows.values())
        metadata: dict[str, Any] = {
            "dagster/row_count": written,
            "dagster/uri": url,
            "dagster/column_schema": table_schema(table),
            "delta/version": table.version(),
            "delta/rows_per_partition": dg.MetadataValue.json(rows),
        }
        metadata.update(elt_partitions(context, rows))
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> DataFrame:
        url = self.lakehouse.table_url(context.asset_key)
        spark = self.spark.spark_session
        df = spark.read.format("delta").load(url)
        return slice_months(df, context_months(context))


def elt_partitions(context: dg.OutputContext, target_rows: dict[str, int]) -> dict[str, Any]:
    """``elt/partitions`` metadata: the asset's source statistics joined with rows written.

    The asset reports what it read (``elt/source_stats``); the IO manager adds what landed in
    the target (:meth:`PartitionStats.with_target`: ``target_read_size`` and
    ``merged_count``, rows combined by summing). An output that reports no source
    statistics is no ELT hop (gold's rejects): it gets none.
    """
    source = context.output_metadata.get(SOURCE_STATS_METADATA)
    if source is None:
        return {}
    stats = stats_from_metadata(source)
    out = {
        key: stats.get(key, PartitionStats()).with_target(target)
        for key, target in target_rows.items()
    }
    return {PARTITIONS_METADATA: stats_metadata(out)}
