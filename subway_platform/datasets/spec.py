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
    bronze_table: str
    gold_table: str
    mart_table: str
    gold_asset: str
    """Gold/mart asset name (``gold/<gold_asset>``, ``mart/<gold_asset>``)."""
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
    fails the bronze asset's freshness check and raises an alert. None: no freshness check."""
    station_match_target_pct: float = 99.5
    """Passenger data sets: share of a month's boardings (in %) that must get a station id
    and coordinates; below it the ``stations_matched`` warning check fails."""

    @property
    def partitioned(self) -> bool:
        return self.month_column is not None

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
