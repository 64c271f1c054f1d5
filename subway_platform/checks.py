"""Asset checks that flag invalid loads, built from the data set specs.

Each check reads back what its asset just wrote (Delta through the engine, the mart
through the mart store) and reconciles it with the layer before, month by month:

- bronze ``reconciles_with_landing`` (blocking): rows and passenger sums equal the
  landing file's; no requested month is empty.
- bronze ``source_schema_matches_spec`` (warning): new, missing or renamed columns.
- gold ``reconciles_with_bronze`` (blocking): bronze rows = rejected + merged-into-gold
  rows; gold sums = the sums of bronze's good rows; rejects within the threshold.
- gold ``keys_unique`` (blocking): one gold row per key after merging.
- gold ``no_rows_rejected`` (warning): fails whenever a load quarantines rows, with their
  number, passenger sums and first reasons; above the spec's ``reject_threshold`` the
  blocking ``reconciles_with_bronze`` fails too and the mart keeps its previous month.
- gold ``stations_matched`` (warning, passenger data sets): enough of each month's
  boardings got a station id and coordinates (``assets/enrichment.py``).
- mart ``matches_gold`` (blocking for anything downstream): same rows and sums as gold.

Blocking checks stop downstream assets in the same run: an invalid bronze or gold month
never reaches the mart.

Every check is partitioned like its asset: a run over a range of months records one
evaluation per month and check (``check_events.py``), so one bad month is red in the UI
and the others green. The figures come from one aggregate per table and step
(``check_figures.py``); each month is judged on its own, by pure functions
(``check_judge.py``). The ELT log reads the same per-month evaluations.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.check_figures import (
    FIRST_REASONS,
    bronze_figures,
    bronze_good_stats,
    first_rejected_rows,
    gold_figures,
    gold_totals,
)
from subway_platform.check_judge import (
    KEYS_UNIQUE,
    MATCHES_GOLD,
    NO_ROWS_REJECTED,
    RECONCILES_WITH_BRONZE,
    RECONCILES_WITH_LANDING,
    SOURCE_SCHEMA_MATCHES_SPEC,
    STATIONS_MATCHED,
    judge_gold,
    judge_landing,
    judge_mart,
    judge_schema,
    rejects_result,
)
from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.stats import PartitionStats
from subway_platform.partitions import monthly_partitions
from subway_platform.tables import tables_of

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = [
    "FIRST_REASONS",
    "KEYS_UNIQUE",
    "MATCHES_GOLD",
    "NO_ROWS_REJECTED",
    "RECONCILES_WITH_BRONZE",
    "RECONCILES_WITH_LANDING",
    "SOURCE_SCHEMA_MATCHES_SPEC",
    "STATIONS_MATCHED",
    "MonthResults",
    "bronze_good_stats",
    "bronze_results",
    "check_specs",
    "first_rejected_rows",
    "gold_results",
    "mart_results",
    "rejects_result",
]

MonthResults = dict[str, list[dg.AssetCheckResult]]
"""Month (``""`` when unpartitioned) -> the results of that month's checks."""


def check_specs(spec: DatasetSpec, layer: str) -> list[dg.AssetCheckSpec]:
    """The checks an asset of ``layer`` reports with each materialization."""
    key = getattr(tables_of(spec), layer).key
    names: dict[str, list[tuple[str, bool, str]]] = {
        "bronze": [
            (
                RECONCILES_WITH_LANDING,
                True,
                "Bronze rows and passenger sums equal the landing file's, per month; "
                "no month empty.",
            ),
            (
                SOURCE_SCHEMA_MATCHES_SPEC,
                False,
                "The landing file's columns match the data set spec "
                "(new, missing or renamed columns are named).",
            ),
        ],
        "gold": [
            (
                RECONCILES_WITH_BRONZE,
                True,
                "Bronze rows = rejected rows + rows merged into gold; "
                "gold sums = sums of bronze's good rows; rejects within the threshold.",
            ),
            (KEYS_UNIQUE, True, "One gold row per key after summing repeated keys."),
            (
                NO_ROWS_REJECTED,
                False,
                "Warning: no row was rejected (quarantined in "
                f"{tables_of(spec).rejects.key_string}). "
                "Reports the rejected rows, their passenger sums (missing from the mart) and "
                "the first reasons; beyond the data set's threshold "
                f"({spec.reject_threshold:.1%}) {RECONCILES_WITH_BRONZE} blocks.",
            ),
        ],
        "mart": [
            (
                MATCHES_GOLD,
                True,
                "The mart's rows and passenger sums equal gold's for the loaded months.",
            ),
        ],
    }
    if layer == "gold" and spec.station_join is not None:
        names["gold"].append(
            (
                STATIONS_MATCHED,
                False,
                f"Warning: at least {spec.station_match_target_pct}% of each month's boardings "
                "get a station id and coordinates (line and station names normalised through "
                "the station spec's aliases); lists the unmatched (line, station) pairs with "
                "their boardings.",
            )
        )
    partitions = monthly_partitions if spec.partitioned else None
    with warnings.catch_warnings():
        # Partitioned checks are a "preview" in Dagster 1.13; we rely on them on purpose
        # (one verdict per month in the UI), so the code location's load does not warn.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                name=name,
                asset=key,
                blocking=blocking,
                description=desc,
                partitions_def=partitions,
            )
            for name, blocking, desc in names[layer]
        ]


def bronze_results(
    spec: DatasetSpec,
    bronze: DataFrame,
    months: list[str],
    stats: Mapping[str, PartitionStats],
    extra_columns: list[str],
    renamed: dict[str, str],
    missing_optional: list[str],
) -> MonthResults:
    """Reconcile bronze (read back) with the landing files' statistics, month by month. The
    schema drift of the run's files is reported on each month they loaded."""
    found = bronze_figures(spec, bronze, months)
    return {
        key: [
            judge_landing(
                spec.sum_columns, key, stats.get(key) or PartitionStats(), found.get(key, {})
            ),
            judge_schema(extra_columns, renamed, missing_optional),
        ]
        for key in (months or list(stats) or [""])
    }


def gold_results(
    spec: DatasetSpec,
    bronze_stats: dict[str, dict[str, Any]],
    gold: DataFrame,
    months: list[str],
    rejected: dict[str, int],
    first_rejects: list[dict[str, Any]] | None = None,
) -> MonthResults:
    """Reconcile gold (read back) with bronze (``bronze_good_stats``) and the rejects table
    (``rejected``, rows per month from its Delta log), month by month: rows, sums, key
    uniqueness, reject share, and the warning on rejected rows (``first_rejects``: the first
    rejected rows, ``first_rejected_rows``)."""
    totals, dup_keys = gold_figures(spec, gold, months)
    out: MonthResults = {}
    for key in months or list(bronze_stats) or [""]:
        out[key] = [
            *judge_gold(
                spec.sum_columns,
                spec.gold_key,
                spec.reject_threshold,
                24 if spec.wide_hours else 1,
                key,
                bronze_stats.get(key, {}),
                totals.get(key, {}),
                dup_keys.get(key, 0),
                rejected.get(key, 0),
            ),
            rejects_result(
                spec,
                {key: bronze_stats.get(key, {})},
                {key: rejected.get(key, 0)},
                [r for r in first_rejects or [] if r["month"] == key],
            ),
        ]
    return out


def mart_results(
    spec: DatasetSpec, gold: DataFrame, months: list[str], mart_stats: dict[str, dict[str, Any]]
) -> MonthResults:
    """Compare the mart's rows and sums (``mart_stats``: ``MartStore.totals_per_month`` of
    the loaded months) with gold's (engine), month by month."""
    totals = gold_totals(spec, gold, months)
    return {
        key: [judge_mart(spec.sum_columns, key, totals.get(key, {}), mart_stats.get(key, {}))]
        for key in months or [""]
    }
