"""Jobs users launch from the UI, the CLI and the landing sensor (names are contracts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from subway_platform.datasets import DAILY, HOURLY, STATION, DatasetSpec
from subway_platform.partitions import monthly_partitions

if TYPE_CHECKING:  # what define_asset_job returns; Dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


FRESHNESS_CHECK_NAME = "freshness_check"
"""Dagster's name for the freshness checks of ``freshness.py`` (on bronze assets)."""


def dataset_selection(spec: DatasetSpec) -> dg.AssetSelection:
    """The bronze, gold and mart assets of one data set, with their checks.

    Not the freshness check: it asks whether the latest due month has arrived, which the
    freshness sensor evaluates; inside a load run of other months it would only report
    that (seen: every hourly load ended with a failed ``freshness_check``).
    """
    selection = dg.AssetSelection.assets(
        ["bronze", spec.name], ["gold", spec.gold_asset], ["mart", spec.gold_asset]
    )
    if spec.partitioned and spec.due_day is not None:
        freshness = dg.AssetCheckKey(dg.AssetKey(["bronze", spec.name]), FRESHNESS_CHECK_NAME)
        selection = selection - dg.AssetSelection.checks(freshness)
    return selection


def monthly_dataset_job(name: str, spec: DatasetSpec, what: str) -> UnresolvedAssetJobDefinition:
    """The job loading one monthly data set's months through bronze, gold and mart."""
    return dg.define_asset_job(
        name,
        selection=dataset_selection(spec),
        partitions_def=monthly_partitions,
        description=f"{what} boardings/alightings: landing CSV -> bronze -> gold -> mart, per month.",
        tags={"subway/dataset": spec.name},
    )


daily_passengers_job = monthly_dataset_job("daily_passengers_job", DAILY, "Daily")
hourly_passengers_job = monthly_dataset_job("hourly_passengers_job", HOURLY, "Hourly")
station_job = dg.define_asset_job(
    "station_job",
    selection=dataset_selection(STATION),
    description="Station master: full refresh of bronze, gold and mart.",
    tags={"subway/dataset": STATION.name},
)
monthly_all_job = dg.define_asset_job(
    "monthly_all_job",
    selection=dataset_selection(DAILY) | dataset_selection(HOURLY),
    partitions_def=monthly_partitions,
    description="Every monthly asset (daily and hourly data sets) for a month or a range.",
    tags={"subway/dataset": "all_monthly"},
)

station_schedule = dg.ScheduleDefinition(
    name="station_weekly_schedule",
    job=station_job,
    cron_schedule="0 6 * * 1",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Weekly full refresh of the station master (off by default).",
)

ALL_JOBS = [daily_passengers_job, hourly_passengers_job, station_job, monthly_all_job]
