"""What each asset's load is, in the ELT log's terms: source and target of one hop.

The reference framework logged every ingest as ``source_type/topic/dpath/object`` ->
``target_type/topic/dpath/object``. Each of our assets is one such hop; this module
describes them from the data set specs so that the assets' metadata and the ELT log rows
of failed steps (which have no metadata) say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.tables import TableRef, tables_of


@dataclass(frozen=True)
class Hop:
    """The source and target of one asset's load, as the ELT log records them."""

    domain: str
    action: str
    """``inc`` for a month replaced (delete the month, insert it), ``full`` for a full refresh;
    prefixed with the spec's ``record_prefix`` when it has one (``fare/inc``)."""
    source_type: str
    source_topic: str
    source_dpath: str
    source_object: str
    target_type: str
    target_topic: str
    target_dpath: str
    target_object: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _hop(spec: DatasetSpec, action: str, source: TableRef | None, target: TableRef) -> Hop:
    """The hop from ``source`` (None: the landing zone) to ``target``."""
    target_type = "delta" if target.backend == "delta" else "postgresql"
    target_dpath = f"{target.layer}/{spec.domain}" if target.backend == "delta" else target.schema
    if source is None:
        origin = ("csv", "landing", "landing", spec.file_patterns[0])
    else:
        origin = ("delta", source.layer, f"{source.layer}/{spec.domain}", source.name)
    return Hop(
        spec.domain, action, *origin, target_type, target.layer, target_dpath or "", target.name
    )


def hops_for(spec: DatasetSpec) -> dict[str, Hop]:
    """The three hops of a data set, keyed by asset key string (``bronze/card_subway_month``).

    Each physical table has its own ``target_object`` (``TableRef.name``): a Delta table is
    named by its path in the lake (``gold/subway_passengers``), a mart table by its
    PostgreSQL name (``subway_passengers``). With bare names, gold and mart (and, for the
    station master, bronze too) shared one object, and "distinct target objects" counted
    nine tables as five.
    """
    action = "inc" if spec.partitioned else "full"
    if spec.record_prefix:
        action = f"{spec.record_prefix}/{action}"
    tables = tables_of(spec)
    return {
        tables.bronze.key_string: _hop(spec, action, None, tables.bronze),
        tables.gold.key_string: _hop(spec, action, tables.bronze, tables.gold),
        tables.mart.key_string: _hop(spec, action, tables.gold, tables.mart),
    }


HOPS: dict[str, Hop] = {key: hop for spec in ALL_DATASETS for key, hop in hops_for(spec).items()}
"""Every asset's hop, keyed by asset key string."""
