"""PostgreSQL IO manager for the mart: month-atomic replacement through COPY.

Writing a partitioned mart asset (its table is partitioned by month, see
``pg_partitions``):

1. The engine's tasks COPY the DataFrame into a fresh staging table with one partition
   per month of the load (``pg_copy``), in parallel, each on its own connection. Nothing
   is collected into the driver.
2. The staged months get their primary key, outside any lock.
3. One transaction takes an advisory lock on (table, month) and swaps the staged month
   partitions in for the old ones. Readers see the old months or the new months, never a
   gap or a mix; a failure anywhere leaves the old months untouched; two loads of the same
   month queue on the lock.

Unpartitioned assets (the station master) replace the whole table: one transaction
deletes its rows and inserts the staged ones. Tables are created with proper column types
(from the DataFrame's schema) and the asset's primary key if missing.
"""

import os
import uuid
from typing import TYPE_CHECKING, Any

import dagster as dg
import psycopg
from psycopg import sql

from subway_platform.elt_log.stats import target_partitions_metadata
from subway_platform.frames import DataFrame
from subway_platform.io_managers.pg_jdbc import jdbc_target
from subway_platform.io_managers.pg_partitions import (
    create_partitioned,
    create_stage,
    finish_stage,
    partition_existing,
    relation_kind,
    swap_months,
)
from subway_platform.partitions import MONTH_COLUMN, context_months, month_bounds
from subway_platform.resources.postgres import MartDatabase, MartUnavailable
from subway_platform.resources.spark import SparkEngine
from subway_platform.retries import retry_transient
from subway_platform.tables import MART_SCHEMA, table_for_key

if TYPE_CHECKING:
    from pyspark.sql import types as T

SCHEMA = MART_SCHEMA
_REGISTERED: set[int] = set()


def pg_type(dtype: "T.DataType") -> str:
    """PostgreSQL column type for a Spark type."""
    from pyspark.sql import types as T

    mapping: dict[type, str] = {
        T.StringType: "text",
        T.LongType: "bigint",
        T.IntegerType: "integer",
        T.ShortType: "smallint",
        T.DoubleType: "double precision",
        T.FloatType: "real",
        T.DateType: "date",
        T.TimestampType: "timestamptz",
        T.BooleanType: "boolean",
    }
    for spark_type, name in mapping.items():
        if isinstance(dtype, spark_type):
            return name
    if isinstance(dtype, T.DecimalType):
        return f"numeric({dtype.precision},{dtype.scale})"
    raise TypeError(f"no PostgreSQL type for Spark type {dtype.simpleString()}")


def ensure_table(
    conn: psycopg.Connection,
    table: str,
    schema: "T.StructType",
    primary_key: list[str],
    partitioned: bool,
) -> int | None:
    """Create the mart table if it is missing: typed columns, primary key, and for a
    partitioned asset ``PARTITION BY LIST (month)``. A plain table left by an earlier
    version is converted to month partitions once; returns the rows it moved then."""
    cols: list[sql.Composable] = [
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(pg_type(f.dataType)))
        for f in schema.fields
    ]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{table}",))
        kind = relation_kind(conn, SCHEMA, table)
        if partitioned:
            if kind is None:
                create_partitioned(conn, SCHEMA, table, cols, primary_key)
            elif kind == "r":
                return partition_existing(conn, SCHEMA, table, cols, primary_key)
            return None
        if kind == "p":
            raise dg.Failure(
                f"mart table {table} is partitioned by month but its asset is not partitioned"
            )
        if kind is None:
            if primary_key:
                cols.append(
                    sql.SQL("PRIMARY KEY ({})").format(
                        sql.SQL(", ").join(sql.Identifier(c) for c in primary_key)
                    )
                )
            conn.execute(
                sql.SQL("CREATE TABLE {}.{} ({})").format(
                    sql.Identifier(SCHEMA), sql.Identifier(table), sql.SQL(", ").join(cols)
                )
            )


def replace_table(conn: psycopg.Connection, table: str, stage: str, columns: list[str]) -> int:
    """In one transaction: the staged rows replace all of an unpartitioned table's rows."""
    target = sql.Identifier(SCHEMA, table)
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"mart:{table}:",))
        conn.execute(sql.SQL("DELETE FROM {}").format(target))
        cur = conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target, col_list, col_list, sql.Identifier(SCHEMA, stage)
            )
        )
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(SCHEMA, stage)))
    return cur.rowcount


class PostgresMartIOManager(dg.ConfigurableIOManager):
    """Stores Spark DataFrames in PostgreSQL mart tables (``SUBWAY_MART_DSN``).

    The table name is the asset's ``table`` metadata (e.g. ``subway_passengers``); the
    primary key its ``primary_key`` metadata. Partitioned assets replace their months
    atomically; unpartitioned ones replace the whole table.
    """

    mart: dg.ResourceDependency[MartDatabase]
    spark: dg.ResourceDependency[SparkEngine]
    dsn_env: str = "SUBWAY_MART_DSN"
    copy_tasks: int = 4
    """Engine tasks (each its own PostgreSQL connection) that COPY into the staging table."""
    sink: str | None = None
    """``SUBWAY_MART_SINK`` when unset (read at each load). ``copy`` (default, faster:
    psycopg COPY from the engine's Python workers) or ``jdbc`` (the PostgreSQL JDBC
    driver, for Apache Spark clusters without Python on the workers).
    Both fill the same staging table, so the month swap is the same."""

    def _table(self, context: dg.InputContext | dg.OutputContext) -> str:
        table = table_for_key(context.asset_key)
        if table is None or table.backend != "postgres":
            raise dg.Failure(f"{context.asset_key.to_user_string()}: no mart table of the platform")
        return table.name

    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        table = self._table(context)
        months = context_months(context)
        primary_key = list(context.definition_metadata.get("primary_key") or [])
        columns = obj.columns
        stage = f"_stage_{table}_{uuid.uuid4().hex[:12]}"
        sink = self.sink or os.environ.get("SUBWAY_MART_SINK") or "copy"
        if sink not in ("copy", "jdbc"):
            raise dg.Failure(f"SUBWAY_MART_SINK must be 'copy' or 'jdbc', not {sink!r}")
        spark = self.spark.spark_session
        session_id = id(spark)
        if sink == "copy" and session_id not in _REGISTERED:
            from subway_platform.io_managers.pg_copy import PostgresCopyDataSource

            spark.dataSource.register(PostgresCopyDataSource)
            _REGISTERED.add(session_id)

        with retry_transient(context), self.mart.connect() as conn:
            moved = ensure_table(conn, table, obj.schema, primary_key, partitioned=bool(months))
            if moved is not None:
                context.log.info(
                    f"mart table {table} converted to month partitions ({moved} rows moved)"
                )
            if months:
                create_stage(conn, SCHEMA, table, stage, months)
            else:
                with conn.transaction():
                    conn.execute(
                        sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
                            sql.Identifier(SCHEMA, stage), sql.Identifier(SCHEMA, table)
                        )
                    )
            try:
                # A shuffle first: Sail 0.7.2 fails a Python data source write straight off
                # a Delta scan of five or more month partitions with "Missing write result
                # for partition 2" (coalesce does not help; repartition does). It also
                # bounds the number of connections.
                # (Apache Spark does not need that shuffle; it stays for both sinks because
                # it also bounds the number of connections.)
                if sink == "jdbc":
                    self._write_jdbc(obj.repartition(self.copy_tasks), stage)
                else:
                    from subway_platform.io_managers.pg_copy import FORMAT_NAME

                    (
                        obj.repartition(self.copy_tasks)
                        .write.format(FORMAT_NAME)
                        .mode("append")
                        .option("table", f"{SCHEMA}.{stage}")
                        .option("columns", ",".join(columns))
                        .option("dsn_env", self.dsn_env)
                        .save()
                    )
                if months:
                    counts = finish_stage(conn, SCHEMA, stage, months, primary_key)
                    swap_months(conn, SCHEMA, table, stage, months)
                else:
                    counts = {"": replace_table(conn, table, stage, columns)}
            finally:
                # On a fresh connection: the loading one may be the one that died.
                self._drop_stage(stage)
        metadata: dict[str, Any] = {
            "dagster/row_count": sum(counts.values()),
            "dagster/table_name": f"{SCHEMA}.{table}",
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name=f.name, type=pg_type(f.dataType)) for f in obj.schema.fields
                ]
            ),
            "postgres/rows_per_partition": dg.MetadataValue.json(counts),
        }
        metadata.update(target_partitions_metadata(context.output_metadata, counts))
        context.add_output_metadata(metadata)

    def _write_jdbc(self, obj: DataFrame, stage: str) -> None:
        """Append ``obj`` to the staging table through the engine's JDBC writer."""
        target = jdbc_target(self.mart.dsn)
        (
            obj.write.format("jdbc")
            .mode("append")
            .option("url", target.url)
            .option("dbtable", f"{SCHEMA}.{stage}")
            .option("user", target.user)
            .option("password", target.password)
            .option("driver", "org.postgresql.Driver")
            .option("batchsize", "10000")
            # Rows arrive in the staging table's own column types (text month, numbers).
            .option("stringtype", "unspecified")
            .save()
        )

    def _drop_stage(self, stage: str) -> None:
        try:
            with self.mart.connect(autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, stage))
                )
        except MartUnavailable:
            # The mart is gone entirely; the unlogged staging table holds no published
            # data and the next load's clean-up removes leftovers.
            pass

    def load_input(self, context: dg.InputContext) -> DataFrame:
        """Read the mart slice back through the engine (for downstream Spark assets)."""
        table = self._table(context)
        months = context_months(context)
        with self.mart.connect() as conn:
            query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(SCHEMA, table))
            params: tuple[str, ...] = ()
            if months:
                query = sql.SQL("{} WHERE {} BETWEEN %s AND %s").format(
                    query, sql.Identifier(MONTH_COLUMN)
                )
                params = month_bounds(months)
            with conn.cursor() as cur:
                cur.execute(query, params)
                names = [d.name for d in cur.description or []]
                rows = cur.fetchall()
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        spark = self.spark.spark_session
        if not rows:
            return spark.createDataFrame(
                [], T.StructType([T.StructField(n, T.StringType()) for n in names])
            )
        return spark.createDataFrame(rows, names).select(*[F.col(n) for n in names])
