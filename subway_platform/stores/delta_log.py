"""Delta tables through delta-rs and Spark, without Dagster: the functions the Delta store
is made of.

Metadata (does the table exist, rows per month, version, schema) is read from the Delta log
with ``deltalake`` (delta-rs), never by a scan. Writes go through the engine (Sail or
Apache Spark): ``replaceWhere`` replaces exactly the months of a write.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg

from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN, month_bounds
from subway_platform.resources.locks import TableLocks

if TYPE_CHECKING:
    from deltalake import DeltaTable


def open_delta(url: str, options: Mapping[str, str]) -> "DeltaTable | None":
    """The Delta table at ``url``, or None if there is none yet. ``options``: delta-rs
    storage options (``Lakehouse.delta_options()``)."""
    from deltalake import DeltaTable

    opts = dict(options)
    if not DeltaTable.is_deltatable(url, storage_options=opts):
        return None
    return DeltaTable(url, storage_options=opts)


def partition_rows(
    url: str, months: list[str] | None, options: Mapping[str, str]
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
    locks: TableLocks | None,
    options: Mapping[str, str],
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


def _write_delta(df: DataFrame, url: str, months: list[str], options: Mapping[str, str]) -> None:
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
