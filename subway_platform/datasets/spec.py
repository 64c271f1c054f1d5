"""Declarative description of a landing data set.

Everything that differs between the daily, hourly and station files lives in a
``DatasetSpec``: how the landing files are named, which source columns exist (with the
aliases the portal has used over the years), how each becomes a typed gold column, where
the month comes from, and which columns are summed for reconciliation. The ingest code,
the assets, the IO managers, the checks and the ELT log are generic over specs, so a
fourth data set is a new spec, not new IO code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["text", "date", "month", "count", "float", "station_id"]
"""How a source text value becomes a gold value.

- ``text``: trimmed string.
- ``date``: ``YYYYMMDD`` (also ``YYYY-MM-DD``) -> DATE.
- ``month``: ``YYYYMM`` -> the partition key string.
- ``count``: non-negative integer; accepts ``6199``, ``"34944.0"``, ``"9,080"``.
- ``float``: decimal number (coordinates).
- ``station_id``: text id; leading zeros removed so ``0150`` and ``150`` are one station.
"""


_DELTA_UNSAFE = re.compile(r"[ ,;{}()\n\t=]")


def delta_safe(name: str) -> str:
    """``name`` with the characters delta-spark refuses in column names (without column
    mapping) replaced by ``_``: the spelling bronze stores. A header that differs from
    its canonical name only by these characters is the same column, not a rename."""
    return _DELTA_UNSAFE.sub("_", name)


@dataclass(frozen=True)
class SourceColumn:
    """One column of a landing file and the gold column it becomes."""

    name: str
    """Canonical source header (Korean, as the portal names it, Delta-safe: see
    ``delta_safe``). Bronze uses this name."""
    target: str
    """English gold / mart column name."""
    kind: ColumnKind = "text"
    aliases: tuple[str, ...] = ()
    """Other headers the portal has used for the same column (e.g. 호선명 for 노선명)."""
    required: bool = True


ColumnRole = Literal["key", "sum", "carried", "enrichment", "unpivoted"]
"""What gold does with a column: ``key`` identifies a row; ``sum`` is added up over rows
repeating a key (and reconciled across layers); ``carried`` is kept with one value per key
(the latest for dates, else the smallest); ``enrichment`` comes from the station master;
``unpivoted`` (hourly layout) becomes rows of ``hour``, ``pass_in``, ``pass_out``."""

ELT_LOG_SUM_COLUMNS = ("pass_in_sum", "pass_out_sum")
"""The ELT log's sum columns (``elt_manager_log``): what a data set's sums are logged as."""

STATION_ENRICHMENT = ("station_id", "latitude", "longitude")
"""Gold columns a station join adds (``station_id`` only where the file has none)."""


@dataclass(frozen=True)
class StationJoin:
    """How a passenger data set's gold rows find their station in the station master."""

    master: str = "subway_station"
    """The station master data set (its spec's ``name``)."""
    line_column: str = "line_no"
    station_column: str = "station_name"


@dataclass(frozen=True)
class DatasetSpec:
    """A landing data set and its bronze, gold and mart tables."""

    name: str
    """Short name, used in asset keys: ``bronze/<name>``."""
    description: str
    domain: str
    """Subject area written to the ELT log's ``domain`` column (the reference used ``life``)."""
    file_patterns: tuple[str, ...]
    """Regular expressions matched against the landing file's base name. A named group
    ``month`` (YYYYMM) ties a file to one month; without it, months come from the rows."""
    columns: tuple[SourceColumn, ...]
    gold_asset: str
    """Gold/mart asset name (``gold/<gold_asset>``, ``mart/<gold_asset>``) and the mart's
    PostgreSQL table name; every table's key and address derive from it and ``name``
    (``subway_platform.tables``)."""
    job_name: str
    """The job loading this data set (bronze, gold, mart), launched from the UI, the CLI
    (``dagster job launch -j <job_name>``) and the landing sensor. A contract: keep it."""
    month_column: str | None
    """Source column whose first six characters are the row's month, or None when the
    data set is not partitioned."""
    gold_key: tuple[str, ...]
    """Gold columns that identify a row; rows repeating a key are summed, never dropped."""
    sum_columns: tuple[str, ...] = ()
    """Gold count columns whose totals must reconcile across landing, bronze, gold, mart."""
    wide_hours: bool = False
    """Hourly layout: 24 pairs of ``HH시-HH시 승차인원``/``하차인원`` columns, unpivoted in gold."""
    reject_threshold: float = 0.001
    """Largest share of a month's rows that gold may reject before the load is invalid."""
    line_aliases: dict[str, str] = field(default_factory=dict)
    """Station master only: line names other files write (or the master itself splits a line
    into) -> the one line name the station join uses (``공항철도 1호선`` -> ``공항철도1호선``).
    Applied to both sides of the (line, station) join; the tables keep the names as written."""
    station_aliases: dict[str, str] = field(default_factory=dict)
    """Station master only: station names other files write -> the master's spelling
    (``낙성대(강감찬)`` -> ``낙성대``), applied like ``line_aliases``."""
    due_day: int | None = None
    """Monthly data sets: day of the following month by which the month's landing file is
    due (``5``: the 201907 file by 5 August, 00:00 Asia/Seoul). A month still not loaded then
    fails the freshness check of the bronze and mart tables and raises an alert. A full-refresh
    data set (the station master) must be reloaded once a month, by this day. None: no
    freshness check (``freshness_rules.py``)."""
    station_match_target_pct: float = 99.5
    """Passenger data sets: share of a month's boardings (in %) that must get a station id
    and coordinates; below it the ``stations_matched`` warning check fails."""
    station_join: StationJoin | None = None
    """Passenger data sets: gold gets ``station_id``, ``latitude`` and ``longitude`` from the
    station master by this join (a left join that loses no row). None: no enrichment."""
    record_prefix: str = ""
    """Prefix of the ELT log's ``action`` (the reference's ``record_prefix``: ``hopt`` ->
    ``hopt/inc``); empty: plain ``inc``/``full``."""
    elt_log_sums: dict[str, tuple[str, ...]] | None = None
    """ELT log sum column (``pass_in_sum``, ``pass_out_sum``) -> the gold sum columns whose
    total it records; a column left out is logged as null. None: ``pass_in`` and
    ``pass_out`` are logged as themselves when the data set sums them."""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.job_name:
            problems.append("job_name is empty")
        targets = {c.target for c in self.columns}
        produced = targets | ({"hour", "pass_in", "pass_out"} if self.wide_hours else set())
        for key in self.gold_key:
            if key not in produced:
                problems.append(f"gold_key column {key!r} is no column's target")
        for name in self.sum_columns:
            if name not in produced:
                problems.append(f"sum column {name!r} is no column's target")
        for log_column, sums in self.log_sums.items():
            if log_column not in ELT_LOG_SUM_COLUMNS:
                problems.append(f"elt_log_sums: {log_column!r} is not one of {ELT_LOG_SUM_COLUMNS}")
            problems += [
                f"elt_log_sums[{log_column!r}]: {n!r} is not a sum column"
                for n in sums
                if n not in self.sum_columns
            ]
        if self.station_join is not None:
            for col in (self.station_join.line_column, self.station_join.station_column):
                if col not in produced:
                    problems.append(f"station_join column {col!r} is no column's target")
        if self.record_prefix and not re.fullmatch(r"[a-z][a-z0-9_]*", self.record_prefix):
            problems.append(f"record_prefix {self.record_prefix!r} is not a lower-case word")
        if problems:
            raise ValueError(f"data set spec {self.name!r}: " + "; ".join(problems))

    @property
    def partitioned(self) -> bool:
        return self.month_column is not None

    @property
    def log_sums(self) -> dict[str, tuple[str, ...]]:
        """``elt_log_sums``, or its default (see there)."""
        if self.elt_log_sums is not None:
            return self.elt_log_sums
        return {
            f"{name}_sum": (name,) for name in ("pass_in", "pass_out") if name in self.sum_columns
        }

    def role(self, target: str) -> ColumnRole:
        """What gold does with the gold column ``target`` (see ``ColumnRole``)."""
        if target in self.gold_key or (target == "month" and self.partitioned):
            return "key"
        if target in self.sum_columns:
            return "sum"
        if self.wide_hours and re.fullmatch(r"h\d\d_(in|out)", target):
            return "unpivoted"
        if self.station_join is not None and target in STATION_ENRICHMENT:
            return "enrichment" if target != "station_id" else "carried"
        return "carried"

    def carried_columns(self) -> dict[str, Literal["min", "max"]]:
        """Gold columns kept with one value per key, and how: ``max`` (the latest) for
        dates, ``min`` otherwise. Every declared column is a key, a sum, unpivoted or
        carried, so gold keeps every column the spec declares."""
        return {
            c.target: "max" if c.kind == "date" else "min"
            for c in self.columns
            if self.role(c.target) == "carried"
        }

    def column(self, name: str) -> SourceColumn:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}: no source column {name!r}")

    def header_lookup(self) -> dict[str, str]:
        """Map every accepted header spelling (canonical and aliases) to the canonical name."""
        lookup: dict[str, str] = {}
        for col in self.columns:
            lookup[col.name] = col.name
            for alias in col.aliases:
                lookup[alias] = col.name
        return lookup

    def match_file(self, file_name: str) -> re.Match[str] | None:
        """Return the pattern match if ``file_name`` (a base name) belongs to this data set."""
        for pattern in self.file_patterns:
            found = re.fullmatch(pattern, file_name)
            if found:
                return found
        return None

    def sum_sources(self, sum_column: str) -> tuple[str, ...]:
        """Source columns whose values add up to gold's ``sum_column``.

        For the hourly layout ``pass_in`` is the sum of every ``…승차인원`` column
        (targets ``hNN_in``); otherwise it is the one column whose target is ``sum_column``.
        """
        suffix = "_in" if sum_column == "pass_in" else "_out" if sum_column == "pass_out" else None
        if self.wide_hours and suffix:
            return tuple(c.name for c in self.columns if re.fullmatch(r"h\d\d" + suffix, c.target))
        return tuple(c.name for c in self.columns if c.target == sum_column)

    def file_month(self, file_name: str) -> str | None:
        """The month a file's name declares (``CARD_SUBWAY_MONTH_201907.csv`` -> ``201907``)."""
        found = self.match_file(file_name)
        if found and "month" in found.groupdict():
            return found.group("month")
        return None
