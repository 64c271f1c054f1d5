"""The Delta store: reads and writes the lake's Delta tables, month by month.

A partitioned table is partitioned by ``month``; writing a slice replaces exactly its months
(``replaceWhere``) under the (table, month) locks, reading a slice reads exactly its months.
An unpartitioned table is overwritten whole. What a write left (rows per month, version,
schema) comes from the Delta log through delta-rs, not from a rescan.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg

from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN, slice_months
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta_log import open_delta, partition_rows, table_schema, write_delta
from subway_platform.tables import Slice, TableRef


@dataclass(frozen=True)
class WrittenDelta:
    """What a Delta write left in the table."""

    url: str
    version: int
    rows: dict[str, int]
    """Rows per month of the written months (``""``: the whole unpartitioned table)."""
    schema: dg.TableSchema

    def metadata(self) -> dict[str, Any]:
        """Dagster output metadata of the write (row count, URI, schema, version)."""
        return {
            "dagster/row_count": sum(self.rows.values()),
            "dagster/uri": self.url,
            "dagster/column_schema": self.schema,
            "delta/version": self.version,
            "delta/rows_per_partition": dg.MetadataValue.json(self.rows),
        }


class DeltaStore(dg.ConfigurableResource):
    """The lake's Delta tables (bronze, gold, rejects): the only reader and writer of them."""

    lakehouse: dg.ResourceDependency[Lakehouse]
    spark: dg.ResourceDependency[SparkEngine]
    locks: dg.ResourceDependency[TableLocks]

    def url(self, table: TableRef) -> str:
        """Where ``table`` lives in the lake."""
        return self.lakehouse.url_of(table)

    def exists(self, table: TableRef) -> bool:
        """Whether ``table`` has been written."""
        return open_delta(self.url(table), self.lakehouse.delta_options()) is not None

    def rows_per_month(self, part: Slice) -> dict[str, int]:
        """Rows per month of the slice, from the Delta log (every month of the slice, 0
        when absent; a whole table: every month it has, ``""`` when unpartitioned)."""
        return partition_rows(
            self.url(part.table), list(part.months) or None, self.lakehouse.delta_options()
        )

    def read_slice(self, part: Slice) -> DataFrame:
        """The slice's rows, as a Spark DataFrame (a lazy read of its months)."""
        df = self.spark.spark_session.read.format("delta").load(self.url(part.table))
        return slice_months(df, list(part.months))

    def write_slice(self, part: Slice, df: DataFrame) -> WrittenDelta:
        """Replace the slice's months with ``df`` (a whole table: overwrite it), under the
        (table, month) locks; the previous months stay whole if the write fails."""
        url = self.url(part.table)
        months = list(part.months)
        if months and MONTH_COLUMN not in df.columns:
            raise dg.Failure(f"{part.table.key_string}: no {MONTH_COLUMN} column")
        options = self.lakehouse.delta_options()
        with self.locks.hold(url, months):
            write_delta(df, url, months, self.locks, options)
        table = open_delta(url, options)
        if table is None:
            raise RuntimeError(f"Delta write to {url} left no table")
        return WrittenDelta(
            url=url,
            version=table.version(),
            rows=partition_rows(url, months or None, options),
            schema=table_schema(table),
        )
