"""Mart tables in PostgreSQL, without Dagster: the functions the mart store is made of.

Creating a table from a DataFrame's schema (typed columns, primary key, month partitions),
the staging table of an unpartitioned load and its whole-table replacement, and the
aggregates the checks compare with gold. The month partitions themselves (stage, swap) are
in ``mart_partitions``. Every statement is composed with ``psycopg.sql``.
"""

from typing import TYPE_CHECKING, Any

import dagster as dg
import psycopg
from psycopg import sql

from subway_platform.partitions import MONTH_COLUMN, month_bounds
from subway_platform.stores.mart_partitions import (
    create_partitioned,
    partition_existing,
    relation_kind,
)

if TYPE_CHECKING:
    from pyspark.sql import types as T


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
    schema_name: str,
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
        kind = relation_kind(conn, schema_name, table)
        if partitioned:
            if kind is None:
                create_partitioned(conn, schema_name, table, cols, primary_key)
            elif kind == "r":
                return partition_existing(conn, schema_name, table, cols, primary_key)
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
                sql.SQL("CREATE TABLE {} ({})").format(
                    sql.Identifier(schema_name, table), sql.SQL(", ").join(cols)
                )
            )
    return None


def create_plain_stage(conn: psycopg.Connection, schema_name: str, table: str, stage: str) -> None:
    """The staging table of an unpartitioned load: ``table``'s columns, unlogged."""
    with conn.transaction():
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
                sql.Identifier(schema_name, stage), sql.Identifier(schema_name, table)
            )
        )


def replace_table(
    conn: psycopg.Connection, schema_name: str, table: str, stage: str, columns: list[str]
) -> int:
    """In one transaction, under the table's lock: the staged rows replace all of an
    unpartitioned table's rows."""
    target = sql.Identifier(schema_name, table)
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"mart:{table}:",))
        conn.execute(sql.SQL("DELETE FROM {}").format(target))
        cur = conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target, col_list, col_list, sql.Identifier(schema_name, stage)
            )
        )
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema_name, stage)))
    return cur.rowcount


def drop_table(conn: psycopg.Connection, schema_name: str, table: str) -> None:
    """Drop ``table`` if it exists (a load's staging table)."""
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema_name, table)))


def month_totals(
    conn: psycopg.Connection,
    schema_name: str,
    table: str,
    months: list[str],
    by_month: bool,
    sum_columns: tuple[str, ...] | list[str] = (),
) -> dict[str, dict[str, Any]]:
    """Rows and the sums of ``sum_columns`` in one query: per month of ``months`` (none:
    every month) when ``by_month``, else of the whole table under ``""``. A month without
    rows is absent; a missing table: ``{}``."""
    if relation_kind(conn, schema_name, table) is None:
        return {}
    sums = [sql.SQL("sum({})::bigint").format(sql.Identifier(n)) for n in sum_columns]
    select = sql.SQL(", ").join([sql.SQL("count(*)"), *sums])
    target = sql.Identifier(schema_name, table)
    month = sql.Identifier(MONTH_COLUMN)
    if by_month and months:
        cur = conn.execute(
            sql.SQL("SELECT {}, {} FROM {} WHERE {} BETWEEN %s AND %s GROUP BY 1").format(
                month, select, target, month
            ),
            month_bounds(months),
        )
    elif by_month:
        cur = conn.execute(
            sql.SQL("SELECT {}, {} FROM {} GROUP BY 1").format(month, select, target)
        )
    else:
        cur = conn.execute(sql.SQL("SELECT '', {} FROM {}").format(select, target))
    out: dict[str, dict[str, Any]] = {}
    for row in cur.fetchall():
        if months and str(row[0]) not in months:
            continue
        out[str(row[0])] = {"rows": row[1], **dict(zip(sum_columns, row[2:], strict=True))}
    return out


def select_rows(
    conn: psycopg.Connection, schema_name: str, table: str, months: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """The columns (name, PostgreSQL type name such as ``int8`` or ``numeric(12,2)``) and
    rows of ``months`` of ``table`` (none: every row)."""
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema_name, table))
    params: tuple[str, ...] = ()
    if months:
        query = sql.SQL("{} WHERE {} BETWEEN %s AND %s").format(query, sql.Identifier(MONTH_COLUMN))
        params = month_bounds(months)
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns: list[tuple[str, str]] = []
        for d in cur.description or []:
            info = conn.adapters.types.get(d.type_code)
            name = info.name if info is not None else "text"
            if name == "numeric" and d.precision is not None:
                name = f"numeric({d.precision},{d.scale or 0})"
            columns.append((d.name, name))
        at = [c for c, _ in columns].index(MONTH_COLUMN) if months else -1
        rows = [r for r in cur.fetchall() if at < 0 or r[at] in months]
    return columns, rows


_SPARK_TYPES = {
    "text": "string",
    "varchar": "string",
    "int8": "bigint",
    "int4": "int",
    "int2": "smallint",
    "float8": "double",
    "float4": "float",
    "date": "date",
    "timestamptz": "timestamp",
    "bool": "boolean",
}


def spark_ddl(columns: list[tuple[str, str]]) -> str:
    """A Spark DDL schema (``a bigint, b string``) for PostgreSQL columns (``select_rows``)."""
    fields = []
    for name, pg_name in columns:
        if pg_name.startswith("numeric("):
            spark = pg_name.replace("numeric", "decimal")
        elif pg_name in _SPARK_TYPES:
            spark = _SPARK_TYPES[pg_name]
        else:
            raise TypeError(f"no Spark type for PostgreSQL type {pg_name} of column {name}")
        fields.append(f"`{name}` {spark}")
    return ", ".join(fields)
