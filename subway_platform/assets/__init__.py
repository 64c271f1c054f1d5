"""Bronze, gold and mart assets, built from the data set specs."""

import warnings
from collections.abc import Sequence

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, DatasetSpec


def build_assets(specs: Sequence[DatasetSpec] = ALL_DATASETS) -> list[dg.AssetsDefinition]:
    """Four assets per data set (of ``specs``: the registered ones unless a test gives
    others): bronze, gold and its rejects (one step), mart."""
    # Imported here, not by the package: ``subway_platform.checks`` imports
    # ``assets.transforms``, and a package that imported its asset modules (which import
    # the checks) would make that a cycle.
    from subway_platform.assets.bronze import build_bronze_asset
    from subway_platform.assets.gold import build_gold_asset
    from subway_platform.assets.mart import build_mart_asset

    out: list[dg.AssetsDefinition] = []
    with warnings.catch_warnings():
        # The single-run backfill policy is a deliberate choice (a range of months is one
        # Spark plan; see README); Dagster flags the parameter as beta on every import.
        warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
        for spec in specs:
            out += [build_bronze_asset(spec), build_gold_asset(spec), build_mart_asset(spec)]
    return out
