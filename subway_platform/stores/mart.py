"""The mart store: reads and writes the PostgreSQL mart tables, month by month.

Writing a slice of a partitioned mart table (partitioned by ``LIST (month)``, see
``mart_partitions``):

1. The engine's tasks fill a fresh staging table with one partition per month of the
   slice, in parallel, each on its own connection: through COPY (``mart_copy``, the
   default sink) or the engine's JDBC writer (``mart_jdbc``). Nothing is collected into
   the driver.
2. The staged months get their primary key, outside any lock.
3. One transaction takes an advisory lock per (table, month) and swaps the staged month
   partitions in for the old ones. Readers see the old months or the new months, never a
   gap or a mix; a failure anywhere leaves the old months untouched; two loads of the same
   month queue on the lock.

An unpartitioned table (the station master) is replaced whole: one transaction under the
table's lock deletes its rows and inserts the staged ones. Tables are created with proper
column types (from the DataFrame's schema) and the primary key if missing.
"""

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import dagster as dg

from subway_platform.frames import DataFrame
from subway_platform.resources.postgres import MartDatabase, MartUnavailable
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.mart_jdbc import jdbc_target, without_password
from subway_platform.stores.mart_partitions import create_stage, finish_stage, swap_months
from subway_platform.stores.mart_tables import (
    create_plain_stage,
    drop_table,
    ensure_table,
    month_totals,
    pg_type,
    replace_table,
    select_rows,
    spark_ddl,
)
from subway_platform.tables import Slice, TableRef

MartSink = Literal["copy", "jdbc"]
_REGISTERED: set[int] = set()
"""Spark sessions the COPY data source is registered with."""


@dataclass(frozen=True)
class WrittenMart:
    """What a mart write left in the table."""

    table: str
    """``schema.table``."""
    rows: dict[str, int]
    """Rows per month of the written months (``""``: the whole unpartitioned table)."""
    schema: dg.TableSchema
    converted_rows: int | None = None
    """Rows moved when a plain table of an earlier version became month partitions."""

    def metadata(self) -> dict[str, Any]:
        """Dagster output metadata of the write (row count, table, schema, rows per month)."""
        return {
            "dagster/row_count": sum(self.rows.values()),
            "dagster/table_name": self.table,
            "dagster/column_schema": self.schema,
            "postgres/rows_per_partition": dg.MetadataValue.json(self.rows),
        }


class MartStore(dg.ConfigurableResource):
    """The PostgreSQL mart tables (``SUBWAY_MART_DSN``): the only reader and writer of them."""

    mart: dg.ResourceDependency[MartDatabase]
    spark: dg.ResourceDependency[SparkEngine]
    sink: MartSink = "copy"
    """How the engine fills the staging table (``SUBWAY_MART_SINK``): ``copy`` (psycopg
    COPY from the engine's Python workers, the faster) or ``jdbc`` (the PostgreSQL JDBC
    driver, for Apache Spark clusters without Python on the workers). Both fill the same
    staging table, so the month swap is the same."""
    copy_tasks: int = 4
    """Engine tasks (each its own PostgreSQL connection) that fill the staging table."""

    def write_slice(self, part: Slice, df: DataFrame, primary_key: list[str]) -> WrittenMart:
        """Replace the slice's months with ``df`` (a whole table: all of its rows) in one
        transaction, under the (table, month) locks: every month is replaced completely,
        or, on any failure, none is and the previous rows stay."""
        schema_name, table = _names(part.table)
        months = list(part.months)
        stage = f"_stage_{table}_{uuid.uuid4().hex[:12]}"
        with self.mart.connect() as conn:
            moved = ensure_table(conn, schema_name, table, df.schema, primary_key, bool(months))
            if months:
                create_stage(conn, schema_name, table, stage, months)
            else:
                create_plain_stage(conn, schema_name, table, stage)
            try:
                self._fill_stage(df, schema_name, stage)
                if months:
                    counts = finish_stage(conn, schema_name, stage, months, primary_key)
                    swap_months(conn, schema_name, table, stage, months)
                else:
                    counts = {"": replace_table(conn, schema_name, table, stage, df.columns)}
            finally:
                # On a fresh connection: the loading one may be the one that died.
                self._drop_stage(schema_name, stage)
        return WrittenMart(
            table=part.table.address,
            rows=counts,
            schema=dg.TableSchema(
                columns=[
                    dg.TableColumn(name=f.name, type=pg_type(f.dataType)) for f in df.schema.fields
                ]
            ),
            converted_rows=moved,
        )

    def rows_per_month(self, part: Slice) -> dict[str, int]:
        """Rows per month of the slice (every month of the slice, 0 when absent; a whole
        table: every month it has, ``""`` when unpartitioned)."""
        totals = self.totals_per_month(part)
        if part.months:
            return {m: int(totals.get(m, {}).get("rows") or 0) for m in part.months}
        return {k: int(v["rows"]) for k, v in totals.items()}

    def totals_per_month(
        self, part: Slice, sum_columns: tuple[str, ...] | list[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """Rows and the sums of ``sum_columns`` per month of the slice, in one query
        (``{"rows": n, column: sum, ...}``; a month without rows is absent)."""
        schema_name, table = _names(part.table)
        with self.mart.connect() as conn:
            return month_totals(
                conn, schema_name, table, list(part.months), part.table.partitioned, sum_columns
            )

    def read_slice(self, part: Slice) -> DataFrame:
        """The slice's rows as a Spark DataFrame (read through the driver: the mart's
        tables are the small, aggregated end of the pipeline)."""
        schema_name, table = _names(part.table)
        with self.mart.connect() as conn:
            columns, rows = select_rows(conn, schema_name, table, list(part.months))
        return self.spark.spark_session.createDataFrame(rows, spark_ddl(columns))

    def _fill_stage(self, df: DataFrame, schema_name: str, stage: str) -> None:
        """Append ``df`` to the staging table through the configured sink."""
        # A shuffle first: Sail 0.7.2 fails a Python data source write straight off a Delta
        # scan of five or more month partitions with "Missing write result for partition 2"
        # (coalesce does not help; repartition does). It also bounds the number of
        # connections, which is why it stays for both sinks and engines.
        shuffled = df.repartition(self.copy_tasks)
        if self.sink == "jdbc":
            target = jdbc_target(self.mart.dsn)
            (
                shuffled.write.format("jdbc")
                .mode("append")
                .option("url", target.url)
                .option("dbtable", f"{schema_name}.{stage}")
                .option("user", target.user)
                .option("password", target.password)
                .option("driver", "org.postgresql.Driver")
                .option("batchsize", "10000")
                # Rows arrive in the staging table's own column types (text month, numbers).
                .option("stringtype", "unspecified")
                .save()
            )
            return
        from subway_platform.stores.mart_copy import FORMAT_NAME, PostgresCopyDataSource

        spark = self.spark.spark_session
        if id(spark) not in _REGISTERED:
            spark.dataSource.register(PostgresCopyDataSource)
            _REGISTERED.add(id(spark))
        conninfo, password = without_password(self.mart.dsn)
        (
            shuffled.write.format(FORMAT_NAME)
            .mode("append")
            .option("table", f"{schema_name}.{stage}")
            .option("columns", ",".join(df.columns))
            .option("conninfo", conninfo)
            .option("password", password)
            .save()
        )

    def _drop_stage(self, schema_name: str, stage: str) -> None:
        try:
            with self.mart.connect(autocommit=True) as conn:
                drop_table(conn, schema_name, stage)
        except MartUnavailable:
            # The mart is gone entirely; the unlogged staging table holds no published
            # data and the next load's clean-up removes leftovers.
            pass


def _names(table: TableRef) -> tuple[str, str]:
    try:
        return table.qualified_name
    except ValueError as err:
        raise dg.Failure(str(err)) from None
