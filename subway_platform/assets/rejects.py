"""Gold's rejected rows as an asset: ``gold/rejects/<data set>_rejects`` beside each gold asset.

Rows gold cannot parse (a negative or non-numeric count, a bad date) are quarantined in
the Delta table ``<lake>/gold/rejects/<data set>`` with their reason and source position
(file, line). The gold step writes both tables from one read of bronze, so the rejects
asset is the second output of gold's step (``assets/gold.py``), partitioned like its data
set, downstream of bronze in the lineage graph. It is no hop of the ELT log: its rows are
gold's ``cleaned_count`` there, and the mirror writes no row for it.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.tables import tables_of

REJECTS_OUTPUT = "rejects"
"""Name of the rejects output of a gold step."""


def rejects_key(spec: DatasetSpec) -> dg.AssetKey:
    """The rejects asset of a data set, ``gold/rejects/card_subway_month_rejects`` (the UI
    labels it ``card_subway_month_rejects``, not bronze's name); its Delta table stays at
    ``<lake>/gold/rejects/card_subway_month`` (``tables_of(spec).rejects``)."""
    return tables_of(spec).rejects.key


REJECTS_ASSETS: frozenset[str] = frozenset(rejects_key(s).to_user_string() for s in ALL_DATASETS)
"""Every rejects asset key (``gold/rejects/<data set>_rejects``): not logged by the ELT log."""


def rejects_description(spec: DatasetSpec) -> str:
    """What the UI says about a data set's rejects asset."""
    return (
        f"Rows of bronze/{spec.name} that gold/{spec.gold_asset} could not parse, with the "
        "reason (column `reason`) and the source file and line (`_source_object`, "
        "`_source_row`). Written by gold's step, month by month; a load with none replaces "
        "its months' earlier rejects. Metadata: rows rejected per month and the first reasons."
    )


def rejects_metadata(
    spec: DatasetSpec,
    url: str,
    rejected: Mapping[str, int],
    bronze_stats: Mapping[str, Mapping[str, Any]],
    first_reasons: list[dict[str, Any]],
    written: bool,
) -> dict[str, Any]:
    """The rejects output's metadata: rows rejected per partition (what the load writes),
    their passenger sums, the first reasons (file, line, reason) and the table's URI.
    ``written`` is False when the table was left as it was (nothing to reject and nothing
    stored for these months: the write, a full scan of bronze, is spared)."""
    sums = {
        f"rejects/{name}": sum(int(s.get(f"rejected_{name}") or 0) for s in bronze_stats.values())
        for name in spec.sum_columns
    }
    metadata: dict[str, Any] = {
        "dagster/uri": url,
        "rejects/rows": sum(rejected.values()),
        **sums,
        "rejects/rows_per_partition": dg.MetadataValue.json(dict(rejected)),
        "rejects/first_reasons": dg.MetadataValue.json(first_reasons),
        "rejects/table_written": written,
    }
    if not written:
        metadata["dagster/row_count"] = 0
    return metadata


def month_metadata(spec: DatasetSpec, rejected: int, stats: Mapping[str, Any]) -> dict[str, int]:
    """Numbers of one month's rejects (plotted by the UI across loads)."""
    return {
        "rejects/month_rows": rejected,
        **{
            f"rejects/month_{name}": int(stats.get(f"rejected_{name}") or 0)
            for name in spec.sum_columns
        },
    }
