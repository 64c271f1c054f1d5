"""What each asset's load is, in the ELT log's terms: source and target of one hop.

The reference framework logged every ingest as ``source_type/topic/dpath/object`` ->
``target_type/topic/dpath/object``. Each of our assets is one such hop; this module
describes them from the data set specs so that the assets' metadata and the ELT log rows
of failed steps (which have no metadata) say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from subway_platform.datasets import ALL_DATASETS, DatasetSpec


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


def _layer_dpath(table: str) -> tuple[str, str]:
    layer, name = table.split("/", 1)
    return layer, name


def hops_for(spec: DatasetSpec) -> dict[str, Hop]:
    """The three hops of a data set, keyed by asset key string (``bronze/card_subway_month``).

    Each physical table has its own ``target_object``: a Delta table is named by its path
    in the lake (``gold/subway_passengers``), a mart table by its PostgreSQL name
    (``subway_passengers``). With bare names, gold and mart (and, for the station master,
    bronze too) shared one object, and "distinct target objects" counted nine tables as five.
    """
    action = "inc" if spec.partitioned else "full"
    if spec.record_prefix:
        action = f"{spec.record_prefix}/{action}"
    bronze_layer, _ = _layer_dpath(spec.bronze_table)
    gold_layer, _ = _layer_dpath(spec.gold_table)
    return {
        f"bronze/{spec.name}": Hop(
            spec.domain,
            action,
            "csv",
            "landing",
            "landing",
            spec.file_patterns[0],
            "delta",
            bronze_layer,
            f"{bronze_layer}/{spec.domain}",
            spec.bronze_table,
        ),
        f"gold/{spec.gold_asset}": Hop(
            spec.domain,
            action,
            "delta",
            bronze_layer,
            f"{bronze_layer}/{spec.domain}",
            spec.bronze_table,
            "delta",
            gold_layer,
            f"{gold_layer}/{spec.domain}",
            spec.gold_table,
        ),
        f"mart/{spec.gold_asset}": Hop(
            spec.domain,
            action,
            "delta",
            gold_layer,
            f"{gold_layer}/{spec.domain}",
            spec.gold_table,
            "postgresql",
            "mart",
            "public",
            spec.mart_table,
        ),
    }


HOPS: dict[str, Hop] = {key: hop for spec in ALL_DATASETS for key, hop in hops_for(spec).items()}
"""Every asset's hop, keyed by asset key string."""
