"""The names of the platform's tables: one ``TableRef`` per table, derived from its spec.

A table's asset key and its address (a path under the lake for a Delta table, a
schema-qualified name for a PostgreSQL table) come from here and nowhere else: the assets,
the IO managers, the stores, the checks, the ELT log's hops, the alerts and the maintenance
job all ask ``tables_of(spec)``. A data set has four tables:

| layer     | asset key                    | address                            |
| --------- | ---------------------------- | ---------------------------------- |
| bronze    | ``bronze/<name>``            | Delta ``<lake>/bronze/<name>``     |
| gold      | ``gold/<gold_asset>``        | Delta ``<lake>/gold/<gold_asset>`` |
| rejects   | ``gold/rejects/<name>_rejects`` | Delta ``<lake>/gold/rejects/<name>``|
| mart      | ``mart/<gold_asset>``        | PostgreSQL ``public.<gold_asset>`` |

Every other table's address is its key's path; the rejects table's is not. Its key ends in
``<name>_rejects`` because the UI labels a node with the key's last component, and
``gold/rejects/<name>`` was drawn as a second ``card_subway_month`` beside bronze; its
Delta path stayed ``gold/rejects/<name>`` so existing lakes keep their rejects.

A ``Slice`` is a table plus the months a step reads or writes; its months are validated
when it is made, so nothing unvalidated reaches a path or a SQL statement through it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.partitions import validate_month

MART_SCHEMA = "public"
"""The PostgreSQL schema of the mart tables (the reference's dashboards read ``public``)."""

Backend = Literal["delta", "postgres"]
Layer = Literal["bronze", "gold", "rejects", "mart", "other"]
"""``other``: a Delta asset outside the data sets' tables (see ``delta_table_for_key``)."""


@dataclass(frozen=True)
class TableRef:
    """One table: its asset key, where it lives and what its layer is."""

    key: dg.AssetKey
    backend: Backend
    layer: Layer
    name: str
    """Delta: the table's path under the lake root (``bronze/card_subway_month``).
    PostgreSQL: the table's name in ``schema`` (``subway_passengers``)."""
    partitioned: bool
    schema: str | None = None
    """PostgreSQL only: the table's schema."""

    @property
    def key_string(self) -> str:
        """The asset key as users write it (``bronze/card_subway_month``)."""
        return self.key.to_user_string()

    @property
    def address(self) -> str:
        """The table's address as the ELT log and messages name it: the lake path of a Delta
        table, ``schema.table`` of a PostgreSQL table."""
        return self.name if self.backend == "delta" else f"{self.schema}.{self.name}"

    @property
    def lake_path(self) -> tuple[str, ...]:
        """A Delta table's path under the lake root, segment by segment."""
        if self.backend != "delta":
            raise ValueError(f"{self.key_string} is a PostgreSQL table, not a Delta table")
        return tuple(self.name.split("/"))

    @property
    def qualified_name(self) -> tuple[str, str]:
        """A PostgreSQL table's (schema, name), for ``psycopg.sql.Identifier``."""
        if self.backend != "postgres" or self.schema is None:
            raise ValueError(f"{self.key_string} is a Delta table, not a PostgreSQL table")
        return self.schema, self.name

    def months(self, months: list[str] | tuple[str, ...] | None) -> Slice:
        """This table restricted to ``months`` (validated); empty or None: the whole table."""
        return Slice(self, tuple(months or ()))


@dataclass(frozen=True)
class Slice:
    """A table and the months a step reads or replaces (none: the whole table)."""

    table: TableRef
    months: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for month in self.months:
            validate_month(month)
        if self.months and not self.table.partitioned:
            raise ValueError(f"{self.table.key_string} is not partitioned by month")

    @property
    def whole(self) -> bool:
        """Whether the slice is the whole table (an unpartitioned table, or no months)."""
        return not self.months


@dataclass(frozen=True)
class DatasetTables:
    """The four tables of a data set."""

    bronze: TableRef
    gold: TableRef
    rejects: TableRef
    mart: TableRef

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.bronze, self.gold, self.rejects, self.mart))

    @property
    def delta(self) -> tuple[TableRef, ...]:
        """The data set's Delta tables (bronze, gold, rejects)."""
        return (self.bronze, self.gold, self.rejects)

    @property
    def logged(self) -> tuple[TableRef, ...]:
        """The tables whose loads are ELT log hops (bronze, gold, mart; rejects are not)."""
        return (self.bronze, self.gold, self.mart)


@functools.cache
def _tables_by_name(name: str) -> DatasetTables:
    spec = next(s for s in ALL_DATASETS if s.name == name)
    return build_tables(spec)


def build_tables(spec: DatasetSpec) -> DatasetTables:
    """The tables of ``spec`` (use ``tables_of`` for a registered data set)."""
    part = spec.partitioned
    return DatasetTables(
        bronze=TableRef(
            dg.AssetKey(["bronze", spec.name]), "delta", "bronze", f"bronze/{spec.name}", part
        ),
        gold=TableRef(
            dg.AssetKey(["gold", spec.gold_asset]),
            "delta",
            "gold",
            f"gold/{spec.gold_asset}",
            part,
        ),
        rejects=TableRef(
            dg.AssetKey(["gold", "rejects", f"{spec.name}_rejects"]),
            "delta",
            "rejects",
            f"gold/rejects/{spec.name}",
            part,
        ),
        mart=TableRef(
            dg.AssetKey(["mart", spec.gold_asset]),
            "postgres",
            "mart",
            spec.gold_asset,
            part,
            MART_SCHEMA,
        ),
    )


def tables_of(spec: DatasetSpec) -> DatasetTables:
    """The tables of a data set (built once per registered data set)."""
    if any(s is spec for s in ALL_DATASETS):
        return _tables_by_name(spec.name)
    return build_tables(spec)


@functools.cache
def _all_tables() -> dict[dg.AssetKey, tuple[DatasetSpec, TableRef]]:
    return {table.key: (spec, table) for spec in ALL_DATASETS for table in tables_of(spec)}


def table_for_key(key: dg.AssetKey | str) -> TableRef | None:
    """The table of an asset key (``AssetKey`` or its string), if it is one of the platform's."""
    found = _all_tables().get(_as_key(key))
    return found[1] if found else None


def dataset_of_key(key: dg.AssetKey | str) -> DatasetSpec | None:
    """The data set an asset key (of any of its four tables) belongs to, if any."""
    found = _all_tables().get(_as_key(key))
    return found[0] if found else None


def delta_table_for_key(key: dg.AssetKey, partitioned: bool) -> TableRef:
    """The Delta table of any asset key: the platform's own table when it is one, else a
    table at the key's path under the lake (an asset of a user's own written for the Delta
    IO manager). Each key segment must be a plain name, so no key escapes the lake."""
    table = table_for_key(key)
    if table is not None:
        if table.backend != "delta":
            raise ValueError(f"{key.to_user_string()} is a PostgreSQL table, not a Delta table")
        return table
    for part in key.path:
        if not part.replace("_", "").replace("-", "").isalnum() or part.startswith("-"):
            raise ValueError(f"asset key segment {part!r} is not a plain table name")
    return TableRef(key, "delta", "other", "/".join(key.path), partitioned)


def _as_key(key: dg.AssetKey | str) -> dg.AssetKey:
    return key if isinstance(key, dg.AssetKey) else dg.AssetKey.from_user_string(key)
