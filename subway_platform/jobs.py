"""Jobs users launch from the UI, the CLI and the landing sensor (names are contracts)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, STATION, DatasetSpec
from subway_platform.freshness_rules import FRESHNESS_CHECK_NAME, freshness_tables
from subway_platform.partitions import monthly_partitions
from subway_platform.tables import tables_of
from subway_platform.tags import DATASET_TAG

if TYPE_CHECKING:  # what define_asset_job returns; Dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


def dataset_selection(spec: DatasetSpec) -> dg.AssetSelection:
    """The bronze, gold, gold's rejects and mart assets of one data set, with their checks.

    Not the freshness checks (bronze, mart): they ask whether the latest due month has
    arrived, which only the freshness sensor evaluates; inside a load run of other months
    they would only report that (seen: every hourly load ended with a failed
    ``freshness_check``).
    """
    selection = dg.AssetSelection.assets(*(table.key for table in tables_of(spec)))
    freshness = [dg.AssetCheckKey(t.key, FRESHNESS_CHECK_NAME) for t in freshness_tables(spec)]
    if freshness:
        selection = selection - dg.AssetSelection.checks(*freshness)
    return selection


def dataset_job(spec: DatasetSpec) -> UnresolvedAssetJobDefinition:
    """The job loading one data set: its months (monthly data sets) or a full refresh."""
    what = "per month" if spec.partitioned else "full refresh"
    return dg.define_asset_job(
        spec.job_name,
        selection=dataset_selection(spec),
        partitions_def=monthly_partitions if spec.partitioned else None,
        description=f"{spec.description} Landing CSV -> bronze -> gold -> mart, {what}.",
        tags={DATASET_TAG: spec.name},
    )


DATASET_JOBS: dict[str, UnresolvedAssetJobDefinition] = {
    spec.name: dataset_job(spec) for spec in ALL_DATASETS
}
"""Each data set's job, by data set name (generated from the registry of specs)."""

MONTHLY_DATASETS: tuple[DatasetSpec, ...] = tuple(s for s in ALL_DATASETS if s.partitioned)

monthly_all_job = dg.define_asset_job(
    "monthly_all_job",
    selection=reduce(operator.or_, (dataset_selection(s) for s in MONTHLY_DATASETS)),
    partitions_def=monthly_partitions,
    description="Every monthly asset ("
    + ", ".join(s.name for s in MONTHLY_DATASETS)
    + ") for a month or a range.",
    tags={DATASET_TAG: "all_monthly"},
)

station_schedule = dg.ScheduleDefinition(
    name="station_weekly_schedule",
    job=DATASET_JOBS[STATION.name],
    cron_schedule="0 6 * * 1",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Weekly full refresh of the station master (off by default).",
)

ALL_JOBS = [*DATASET_JOBS.values(), monthly_all_job]
RANGE_JOBS = [DATASET_JOBS[s.name] for s in MONTHLY_DATASETS] + [monthly_all_job]
"""The jobs whose runs may cover a range of months (one run for several partitions)."""
