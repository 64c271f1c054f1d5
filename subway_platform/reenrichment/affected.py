"""Which passenger months a new station master re-enriches: the pure rule.

A gold month holds, for each (line, station) pair its file wrote, the enrichment its load
gave it: ``(station_id, latitude, longitude)``. The new master resolves the same pairs
(``assets/station_match.py``, a few hundred per month). A pair the new master matches
should carry that station's id and coordinates; a pair it does not match carries no
coordinates, and keeps a station id only if it had no coordinates before (then the id is
the file's own, never the master's). A month is affected iff one of its pairs' stored
enrichment differs from that expectation; its rows are counted as gaining, losing or
changing coordinates (or changing only their station id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from subway_platform.assets.station_match import MasterStation

Enrichment = tuple[str | None, float | None, float | None]
"""``(station_id, latitude, longitude)`` of a gold row (``None``: null)."""
StoredGroup = tuple[str, str, Enrichment]
"""``(line, station as the file wrote it, stored enrichment)``."""


def has_coordinates(enrichment: Enrichment) -> bool:
    """Whether the row has both coordinates."""
    return enrichment[1] is not None and enrichment[2] is not None


def expected_enrichment(stored: Enrichment, resolved: MasterStation | None) -> Enrichment:
    """What a row with ``stored`` enrichment carries under the new master's resolution of
    its pair (``None``: no match)."""
    if resolved is not None:
        return (resolved.station_id, resolved.latitude, resolved.longitude)
    own = None if has_coordinates(stored) else stored[0]
    return (own, None, None)


@dataclass(frozen=True)
class MonthChange:
    """How the rows of one month change under the new master."""

    gained: int = 0
    """Rows without coordinates that get them."""
    lost: int = 0
    """Rows with coordinates that lose them (their station left the master, or no rule
    matches it any more)."""
    moved: int = 0
    """Rows whose coordinates change (a corrected station)."""
    ids_changed: int = 0
    """Rows whose station id changes while their coordinates do not."""

    @property
    def rows(self) -> int:
        """Rows whose enrichment changes."""
        return self.gained + self.lost + self.moved + self.ids_changed

    def metadata(self) -> dict[str, int]:
        """Numeric metadata of the month's re-enrichment (the UI plots them)."""
        return {
            "reenrichment/rows_gained_coordinates": self.gained,
            "reenrichment/rows_lost_coordinates": self.lost,
            "reenrichment/rows_changed_coordinates": self.moved,
            "reenrichment/rows_changed_station_id": self.ids_changed,
        }

    def summary(self) -> str:
        """One line for the ELT log."""
        return (
            f"{self.gained} rows gained coordinates, {self.lost} lost them, "
            f"{self.moved} changed them, {self.ids_changed} changed station id only"
        )


def month_change(
    groups: Mapping[StoredGroup, int], resolved: Mapping[tuple[str, str], MasterStation]
) -> MonthChange:
    """The change of one month: ``groups`` maps (line, station, stored enrichment) to its
    rows; ``resolved`` the pairs the new master matches."""
    gained = lost = moved = ids = 0
    for (line, station, stored), rows in groups.items():
        new = expected_enrichment(stored, resolved.get((line, station)))
        if new == stored:
            continue
        before, after = has_coordinates(stored), has_coordinates(new)
        if after and not before:
            gained += rows
        elif before and not after:
            lost += rows
        elif before and after and (stored[1], stored[2]) != (new[1], new[2]):
            moved += rows
        else:
            ids += rows
    return MonthChange(gained, lost, moved, ids)


def month_changes(
    stored: Mapping[str, Mapping[StoredGroup, int]],
    resolved: Mapping[tuple[str, str], MasterStation],
) -> dict[str, MonthChange]:
    """The affected months only, each with its change (months whose enrichment stays are
    left out)."""
    out: dict[str, MonthChange] = {}
    for month, groups in sorted(stored.items()):
        change = month_change(groups, resolved)
        if change.rows:
            out[month] = change
    return out


def pairs_of(stored: Mapping[str, Mapping[StoredGroup, int]]) -> list[tuple[str, str]]:
    """The distinct (line, station) pairs of the stored months, sorted."""
    return sorted({(line, station) for groups in stored.values() for line, station, _ in groups})


def first_months(
    affected: Mapping[str, Iterable[str]], limit: int
) -> tuple[dict[str, list[str]], int]:
    """At most ``limit`` months (oldest first, data sets in name order at equal months) of
    ``affected`` (data set -> months), and how many are left for a later run."""
    ordered = sorted((m, name) for name, months in affected.items() for m in months)
    chosen: dict[str, list[str]] = {}
    for month, name in ordered[: max(limit, 0)]:
        chosen.setdefault(name, []).append(month)
    return chosen, max(len(ordered) - max(limit, 0), 0)
