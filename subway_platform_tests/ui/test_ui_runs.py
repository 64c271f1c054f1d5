"""The UI's own launch paths, through the GraphQL calls the Dagster UI makes, against one
running `subway-platform dev` (its daemon runs everything; nothing runs in this process).

Months are loaded from real portal files put in the dev archive (where loaded files are
kept): the landing sensor watches only the landing bucket, so it starts no runs of its own.
"""

from __future__ import annotations

import shutil

import psycopg

from subway_platform_tests.faults import kill_inside_mart_swap
from subway_platform_tests.ui.dev_platform import DevPlatform
from subway_platform_tests.ui.ui_graphql import (
    DAILY_ASSETS,
    check_statuses,
    launch_backfill,
    launch_partition,
    materializations,
    materialized_partitions,
    reexecute_from_failure,
    run,
    runs_tagged,
    step_statuses,
    wait_backfill,
    wait_run,
)
from subway_platform_tests.zone import REAL, file_totals

MART_STEP = "mart__subway_passengers"
MART_FRESHNESS_STEP = "freshness_mart_card_subway_month"
"""The step of the mart's freshness check (``freshness.py``): planned with a load from the
UI, it evaluates nothing there (only ``freshness_checks_sensor``'s runs evaluate it)."""


def _put_months(dev: DevPlatform, *months: str) -> None:
    for month in months:
        name = f"CARD_SUBWAY_MONTH_{month}.csv"
        shutil.copyfile(REAL / "card_subway_month" / name, dev.archive / name)


def _assert_mart_has(dev: DevPlatform, month: str) -> None:
    """The mart holds the month's file exactly: one row per key, the same passenger sum."""
    totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    with psycopg.connect(dev.env["SUBWAY_MART_DSN"]) as conn:
        found = conn.execute(
            "SELECT count(*), sum(pass_in)::bigint FROM subway_passengers WHERE month = %s",
            (month,),
        ).fetchone()
    assert found == (len(totals["keys"]), totals["pass_in"]), month


def test_asset_backfill_of_a_month_range_is_one_run(dev: DevPlatform) -> None:
    months = ["201901", "201902", "201903"]
    _put_months(dev, *months)
    backfill_id = launch_backfill(dev, DAILY_ASSETS, months)

    backfill = wait_backfill(dev, backfill_id)
    runs = runs_tagged(dev, "dagster/backfill", backfill_id)
    assert backfill["status"] == "COMPLETED_SUCCESS", (backfill, runs)
    assert len(runs) == 1, runs
    assert runs[0]["status"] == "SUCCESS"
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert (
        tags["dagster/asset_partition_range_start"],
        tags["dagster/asset_partition_range_end"],
    ) == ("201901", "201903")
    for path in DAILY_ASSETS:
        assert materialized_partitions(dev, path, months) == set(months), path
    for month in months:
        _assert_mart_has(dev, month)


def test_reexecute_from_failure_runs_only_the_failed_step(dev: DevPlatform) -> None:
    month = "201911"
    _put_months(dev, month)
    # A real fault: PostgreSQL terminates the loader inside the mart's month swap.
    with kill_inside_mart_swap(dev.env["SUBWAY_MART_DSN"], "subway_passengers"):
        first = wait_run(dev, launch_partition(dev, DAILY_ASSETS, month))
    assert first["status"] == "FAILURE", first
    first_steps = step_statuses(first)
    assert first_steps.pop(MART_STEP, None) == "FAILURE", first
    assert first_steps and set(first_steps.values()) == {"SUCCESS"}, first

    # The cause is gone (the trigger is dropped); "Re-execute from failure".
    child = reexecute_from_failure(dev, first["id"])
    assert child["parentRunId"] == first["id"] and child["rootRunId"] == first["id"]
    again = wait_run(dev, child["id"])
    assert again["status"] == "SUCCESS", again
    # Only the mart is loaded again; the mart's freshness check, skipped with the failed
    # step, comes along and reports nothing (only its sensor evaluates it).
    assert step_statuses(again) == {MART_STEP: "SUCCESS", MART_FRESHNESS_STEP: "SUCCESS"}
    tags = {t["key"]: t["value"] for t in again["tags"]}
    assert tags["dagster/partition"] == month
    assert materialized_partitions(dev, ["mart", "subway_passengers"], [month]) == {month}
    _assert_mart_has(dev, month)


def test_single_month_from_the_asset_page(dev: DevPlatform) -> None:
    month = "201907"
    _put_months(dev, month)
    # The lineage page with the data set's three assets selected, then one month ...
    first = wait_run(dev, launch_partition(dev, DAILY_ASSETS, month))
    assert first["status"] == "SUCCESS", first
    _assert_mart_has(dev, month)
    # ... and the mart asset's own page: "Materialize" of that month runs only its step.
    mart = ["mart", "subway_passengers"]
    single = wait_run(dev, launch_partition(dev, [mart], month))
    assert single["status"] == "SUCCESS", single
    # (the UI plans the asset's freshness check too, which reports nothing in a load)
    assert step_statuses(single) == {MART_STEP: "SUCCESS", MART_FRESHNESS_STEP: "SUCCESS"}
    # ... so the overdue latest month paints nothing red in this run: skipped.
    shown = check_statuses(dev, mart, "freshness_check")
    assert shown[single["id"]] == shown[first["id"]] == "SKIPPED", shown
    tags = {t["key"]: t["value"] for t in run(dev, single["id"])["tags"]}
    assert tags["dagster/partition"] == month
    assert (month, single["id"]) in materializations(dev, mart, [month])
    _assert_mart_has(dev, month)
