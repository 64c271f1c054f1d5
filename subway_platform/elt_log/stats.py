"""The ELT contract: the statistics of one load, partition by partition, typed.

An asset reports what it read from its source and what it cleaned and merged, per partition
(month ``YYYYMM``, or ``""`` for an unpartitioned asset), as the output metadata
``elt/source_stats``. Its IO manager adds what landed in the target
(:meth:`PartitionStats.with_target`) and publishes the whole as ``elt/partitions``, which
the ELT log mirror turns into ``elt_manager_log`` rows (``elt_log/mirror.py``). Nothing
else reads or writes these metadata entries.

Both entries are JSON metadata with the reference framework's flat keys
(``source_read_size``, ``cleaned_count``, ``target_read_size``, ``merged_count``,
``source_object``, ``source_checksum``, ``bronze_rows``, ``rejected_rows``) beside the data
set's sum columns (``pass_in``, ``pass_out``, ``paid``, …). The keys are the same as before
these classes existed, so the events of older runs read the same (:meth:`from_metadata`
takes any such dict and ignores what it does not know).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import dagster as dg

SOURCE_STATS_METADATA = "elt/source_stats"
"""Output metadata of an asset: partition -> what it read (:class:`PartitionStats`)."""
PARTITIONS_METADATA = "elt/partitions"
"""Output metadata added by the IO manager: partition -> read and written figures."""

_COUNT_FIELDS = (
    "source_read_size",
    "cleaned_count",
    "target_read_size",
    "merged_count",
    "bronze_rows",
    "rejected_rows",
)
_TEXT_FIELDS = ("source_object", "source_checksum")


def _int_or_none(value: Any) -> int | None:
    """An integer figure, or None for anything else (missing, text, a boolean, a float)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class PartitionStats:
    """What one load read and wrote for one partition. None means "not known"; the ELT log
    writes an unknown count as -1 and an unknown sum as null."""

    source_read_size: int | None = None
    """Rows read from the source (for the hourly data set's gold: hour rows, 24 per bronze row)."""
    cleaned_count: int | None = None
    """Source rows left out as invalid: gold's rejected rows (in the same unit as
    ``source_read_size``)."""
    target_read_size: int | None = None
    """Rows in the target's partition after the write (the IO manager's figure)."""
    merged_count: int | None = None
    """Source rows combined into others by summing repeated keys, measured by the asset:
    gold's good source rows minus the distinct keys they formed (in the unit of
    ``source_read_size``); 0 for a hop that merges nothing (bronze, the mart)."""
    source_object: str | None = None
    """The source file the partition came from (bronze)."""
    source_checksum: str | None = None
    """SHA-256 of that file's bytes (bronze)."""
    bronze_rows: int | None = None
    """Bronze rows of the partition (gold)."""
    rejected_rows: int | None = None
    """Bronze rows gold rejected (gold)."""
    sums: Mapping[str, int | None] = field(default_factory=dict)
    """The data set's sum columns (``pass_in`` …) -> total read; None when not known."""

    def __post_init__(self) -> None:
        known = {f.name for f in fields(self)}
        clash = sorted(known & set(self.sums))
        if clash:
            raise ValueError(f"sum column(s) {', '.join(clash)} clash with ELT statistics fields")

    def to_metadata(self) -> dict[str, Any]:
        """The JSON object of this partition: known figures under their keys, then the sums."""
        out: dict[str, Any] = {}
        for name in (*_COUNT_FIELDS, *_TEXT_FIELDS):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.sums)
        return out

    @classmethod
    def from_metadata(cls, entry: Mapping[str, Any]) -> "PartitionStats":
        """Read one partition's JSON object (of this version or an older run). A figure of
        the wrong type counts as unknown; every other integer (or null) entry is a sum."""
        counts = {name: _int_or_none(entry.get(name)) for name in _COUNT_FIELDS}
        texts = {
            name: value if isinstance(value := entry.get(name), str) else None
            for name in _TEXT_FIELDS
        }
        sums = {
            str(name): value
            for name, value in entry.items()
            if name not in _COUNT_FIELDS
            and name not in _TEXT_FIELDS
            and (value is None or _int_or_none(value) is not None)
        }
        return cls(**counts, **texts, sums=sums)

    def with_target(self, target_rows: int) -> "PartitionStats":
        """These source figures completed with the rows written (``target_read_size``).

        Nothing else is derived: ``merged_count`` is the asset's own measurement, never the
        remainder ``source - target - cleaned`` (with the remainder, the ELT log's figure
        rule held by construction and could not fail; ``elt_log/valid.py``)."""
        return replace(self, target_read_size=target_rows)


def stats_metadata(stats: Mapping[str, PartitionStats]) -> dg.JsonMetadataValue:
    """Partition -> statistics as one JSON metadata value."""
    return dg.MetadataValue.json({key: s.to_metadata() for key, s in stats.items()})


def stats_from_metadata(value: Any) -> dict[str, PartitionStats]:
    """Partition -> statistics from a JSON metadata value or its raw value (as the run's
    events give it); empty when there is none. Entries that are not objects are skipped."""
    raw = value.value if isinstance(value, dg.JsonMetadataValue) else value
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(key): PartitionStats.from_metadata(entry)
        for key, entry in raw.items()
        if isinstance(entry, Mapping)
    }


def source_stats_metadata(stats: Mapping[str, PartitionStats]) -> dict[str, dg.MetadataValue]:
    """An asset's ``elt/source_stats`` output metadata entry."""
    return {SOURCE_STATS_METADATA: stats_metadata(stats)}


def partition_stats(metadata: Mapping[str, Any], partition: str) -> PartitionStats:
    """One partition's ``elt/partitions`` statistics from a materialization's raw metadata
    (all unknown when the asset reported none)."""
    entry = stats_from_metadata(metadata.get(PARTITIONS_METADATA)).get(partition)
    return entry if entry is not None else PartitionStats()


def target_partitions_metadata(
    output_metadata: Mapping[str, Any], target_rows: dict[str, int]
) -> dict[str, Any]:
    """``elt/partitions`` metadata: the output's source statistics joined with rows written.

    The asset reports what it read (``elt/source_stats`` in ``output_metadata``); the write
    adds what landed in the target (:meth:`PartitionStats.with_target`). An output that
    reports no source statistics is no ELT hop (gold's rejects): it gets none.
    """
    source = output_metadata.get(SOURCE_STATS_METADATA)
    if source is None:
        return {}
    stats = stats_from_metadata(source)
    out = {
        key: stats.get(key, PartitionStats()).with_target(target)
        for key, target in target_rows.items()
    }
    return {PARTITIONS_METADATA: stats_metadata(out)}
