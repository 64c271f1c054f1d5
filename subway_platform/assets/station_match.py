"""Rules that match a passenger file's (line, station name) to the station master.

Pure Python on the few hundred distinct pairs of a load; the Spark join then uses the
resolved table (``assets/enrichment.py``). The rules, in order, for each candidate line:

1. **Lines by rule.** Whitespace is dropped (``공항철도 1호선`` = ``공항철도1호선``), a line
   number loses its zero padding or gains its ``호선`` (``01호선`` = ``1`` = ``1호선``), and
   a section suffix is dropped (``9호선2단계``, ``9호선2~3단계``, ``9호선(연장)``,
   ``신분당선(연장2)``, ``7호선(인천)`` -> the line itself). Lines that were merged under a
   new name (``경의선`` + ``중앙선`` -> ``경의중앙선`` in 2014, ``분당선`` + ``수인선`` ->
   ``수인분당선`` in 2020) are tried as further candidates, only when the name is not
   found on the file's own line: the real station master keeps ``중앙선`` and
   ``경의중앙선`` side by side.
2. **Exact name** (whitespace dropped).
3. **With or without the parenthesised part**: ``잠실`` matches ``잠실(송파구청)`` and the
   other way round, and ``청량리(지하)`` matches ``청량리(서울시립대입구)``, when exactly one
   station of the line has that name before its parenthesis. Two such stations on the
   line: no match (ambiguous), never a guess.
4. **Historical renames** (``datasets/station_renames.csv``, sources named in it): the
   other name of a renamed station, through rules 2 and 3.

Spellings that no rule explains stay declared in the station spec's ``line_aliases`` and
``station_aliases``, applied first.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_SPACES = re.compile(r"\s+")
_PAREN = re.compile(r"^(?P<base>.+?)\s*\((?P<inner>[^()]*)\)$")
_LINE_NUMBER = re.compile(r"^0*(?P<n>\d+)(호선)?$")
_LINE_SECTION = re.compile(r"^(?P<line>.+?)(\d+(~\d+)?단계|\([^()]*\))$")

MERGED_LINES: Mapping[str, tuple[str, ...]] = {
    # 2014-12: 경의선 and 중앙선 run through as 경의중앙선 (Korail).
    "경의선": ("경의중앙선",),
    "중앙선": ("경의중앙선",),
    "경의중앙선": ("경의선", "중앙선"),
    # 2020-09: 분당선 and 수인선 run through as 수인분당선 (Korail).
    "분당선": ("수인분당선",),
    "수인선": ("수인분당선",),
    "수인분당선": ("분당선", "수인선"),
}
"""Line key -> further lines to try, in order, when a name is not found on its own line."""


def line_key(line: str) -> str:
    """The rule-normalised line: no whitespace, no zero padding, no section suffix."""
    key = _SPACES.sub("", line)
    section = _LINE_SECTION.match(key)
    if section:
        key = section.group("line")
    number = _LINE_NUMBER.match(key)
    return f"{int(number.group('n'))}호선" if number else key


def name_key(name: str) -> str:
    """The station name without whitespace."""
    return _SPACES.sub("", name)


def base_name(name: str) -> str:
    """``name_key`` without a trailing parenthesised part: ``잠실(송파구청)`` -> ``잠실``."""
    key = name_key(name)
    paren = _PAREN.match(key)
    return paren.group("base") if paren else key


@dataclass(frozen=True)
class Rename:
    """One historical rename from ``station_renames.csv``."""

    old_name: str
    new_name: str
    line: str
    year: int


@cache
def load_renames() -> tuple[Rename, ...]:
    """The renames table shipped with the package (``#`` lines are its header comment)."""
    text = (
        resources.files("subway_platform.datasets")
        .joinpath("station_renames.csv")
        .read_text("utf-8")
    )
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return tuple(
        Rename(r["old_name"].strip(), r["new_name"].strip(), r["line"].strip(), int(r["year"]))
        for r in csv.DictReader(lines)
    )


@dataclass(frozen=True)
class MasterStation:
    """One station master row, as the join needs it."""

    line: str
    name: str
    station_id: str | None
    latitude: float | None
    longitude: float | None


@dataclass
class _Line:
    exact: dict[str, list[MasterStation]] = field(default_factory=dict)
    by_base: dict[str, set[str]] = field(default_factory=dict)
    """base name -> the distinct name keys of the line's stations with that base."""


@dataclass(frozen=True)
class Resolution:
    """What the rules made of one (line, name) pair."""

    station: MasterStation | None
    rule: str
    """``exact``, ``parenthesis``, ``rename``, or why there is no match."""


def _first(stations: list[MasterStation]) -> MasterStation:
    # Several master rows for one key (a station listed twice): the smallest id, like a
    # GROUP BY ... min(station_id) would.
    return min(stations, key=lambda s: (s.station_id is None, s.station_id or "", s.name))


class StationIndex:
    """The station master indexed by line key and name, with the rules above."""

    def __init__(
        self,
        stations: Iterable[MasterStation],
        line_aliases: Mapping[str, str] | None = None,
        station_aliases: Mapping[str, str] | None = None,
        renames: Iterable[Rename] | None = None,
    ) -> None:
        self._line_aliases = {k.strip(): v.strip() for k, v in (line_aliases or {}).items()}
        self._station_aliases = {k.strip(): v.strip() for k, v in (station_aliases or {}).items()}
        self._lines: dict[str, _Line] = {}
        for station in stations:
            entry = self._lines.setdefault(self._line(station.line), _Line())
            key = name_key(self._station(station.name))
            entry.exact.setdefault(key, []).append(station)
            entry.by_base.setdefault(base_name(key), set()).add(key)
        self._renames: dict[str, list[tuple[str, str]]] = {}
        for rename in load_renames() if renames is None else renames:
            restrict = line_key(rename.line) if rename.line else ""
            for a, b in ((rename.old_name, rename.new_name), (rename.new_name, rename.old_name)):
                self._renames.setdefault(name_key(a), []).append((name_key(b), restrict))

    def _line(self, line: str) -> str:
        stripped = line.strip()
        return line_key(self._line_aliases.get(stripped, stripped))

    def _station(self, name: str) -> str:
        stripped = name.strip()
        return self._station_aliases.get(stripped, stripped)

    def _on_line(self, line: _Line, name: str) -> Resolution:
        if name in line.exact:
            return Resolution(_first(line.exact[name]), "exact")
        names = line.by_base.get(base_name(name), set())
        if len(names) == 1:
            return Resolution(_first(line.exact[next(iter(names))]), "parenthesis")
        if len(names) > 1:
            return Resolution(None, f"ambiguous: {', '.join(sorted(names))}")
        return Resolution(None, "not on the line")

    def resolve(self, line: str, name: str) -> Resolution:
        """The master station of a file's (line, name), or ``None`` and the reason."""
        key = self._line(line)
        station = name_key(self._station(name))
        candidates = [key, *MERGED_LINES.get(key, ())]
        known = [c for c in candidates if c in self._lines]
        if not known:
            return Resolution(None, f"line {key} not in the station master")
        reasons: list[str] = []
        for candidate in known:
            found = self._on_line(self._lines[candidate], station)
            if found.station is not None:
                return found
            reasons.append(found.rule)
        for candidate in known:
            for spelling in (station, base_name(station)):
                for other, restrict in self._renames.get(spelling, ()):
                    if restrict and restrict != candidate:
                        continue
                    found = self._on_line(self._lines[candidate], other)
                    if found.station is not None:
                        return Resolution(found.station, "rename")
        ambiguous = [r for r in reasons if r.startswith("ambiguous")]
        return Resolution(None, ambiguous[0] if ambiguous else "not on the line")


def match_pairs(
    index: StationIndex, pairs: Iterable[tuple[str, str]]
) -> tuple[dict[tuple[str, str], MasterStation], dict[tuple[str, str], str]]:
    """Resolve every (line, name) pair: the matched ones, and the unmatched ones with the
    reason (``not on the line``, ``ambiguous: …``, ``line … not in the station master``)."""
    matched: dict[tuple[str, str], MasterStation] = {}
    unmatched: dict[tuple[str, str], str] = {}
    for pair in pairs:
        found = index.resolve(*pair)
        if found.station is None:
            unmatched[pair] = found.rule
        else:
            matched[pair] = found.station
    return matched, unmatched
