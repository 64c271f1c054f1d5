"""What every asset of a layer shares: partitioning, single-run backfills, IO manager,
group, tags and the layer's checks, all derived from the data set spec."""

from typing import Any

import dagster as dg

from subway_platform.checks import check_specs
from subway_platform.datasets import DatasetSpec
from subway_platform.partitions import monthly_partitions

OWNERS = ["team:data-platform"]
"""Who answers for the platform's assets (shown in the UI and its catalog)."""
CODE_VERSION = "2026.11.1"
"""Bump when the parsing, merging or enrichment of a layer changes what it writes: the UI
then flags materializations made by older code."""


def layer_asset_args(
    spec: DatasetSpec, layer: str, io_manager_key: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``@dg.asset`` of ``spec``'s asset in ``layer``.

    A partitioned data set gets month partitions and a single-run backfill policy (a
    range of months is one run); its tables are partitioned by ``partitions.MONTH_COLUMN``.
    """
    partitioned = spec.partitioned
    all_metadata = dict(metadata or {})
    return {
        "partitions_def": monthly_partitions if partitioned else None,
        "backfill_policy": dg.BackfillPolicy.single_run() if partitioned else None,
        "io_manager_key": io_manager_key,
        "metadata": all_metadata,
        "group_name": spec.name,
        "tags": {"layer": layer},
        "owners": OWNERS,
        "code_version": CODE_VERSION,
        "check_specs": check_specs(spec, layer),
    }
