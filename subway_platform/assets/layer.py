"""What every asset of a layer shares: partitioning, single-run backfills, IO manager,
group, tags and the layer's checks, all derived from the data set spec."""

from typing import Any

import dagster as dg

from subway_platform.assets.code_version import CodeLayer, code_version
from subway_platform.checks import check_specs
from subway_platform.datasets import DatasetSpec
from subway_platform.landing_assets import landing_key
from subway_platform.partitions import monthly_partitions

OWNERS = ["team:data-platform"]
"""Who answers for the platform's assets (shown in the UI and its catalog)."""


def layer_asset_args(
    spec: DatasetSpec, layer: CodeLayer, io_manager_key: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``@dg.asset`` of ``spec``'s asset in ``layer``.

    A partitioned data set gets month partitions and a single-run backfill policy (a
    range of months is one run); its tables are partitioned by ``partitions.MONTH_COLUMN``.
    The code version is derived from the spec and the layer's code (``code_version.py``):
    the UI flags materializations made by other code as stale. Bronze depends on the data
    set's observed landing source (``landing_assets.py``): a changed file marks it stale.
    Bronze's output is optional: a month unchanged since its last valid load is skipped
    (``skip_unchanged.py``) and then writes nothing, and gold and mart are skipped with it.
    """
    partitioned = spec.partitioned
    all_metadata = dict(metadata or {})
    bronze = layer == "bronze"
    return {
        **({"deps": [landing_key(spec)], "output_required": False} if bronze else {}),
        "partitions_def": monthly_partitions if partitioned else None,
        "backfill_policy": dg.BackfillPolicy.single_run() if partitioned else None,
        "io_manager_key": io_manager_key,
        "metadata": all_metadata,
        "group_name": spec.name,
        "tags": {"layer": layer},
        "owners": OWNERS,
        "code_version": code_version(spec, layer),
        "check_specs": check_specs(spec, layer),
    }
