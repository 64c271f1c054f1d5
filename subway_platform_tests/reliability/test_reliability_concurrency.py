"""Concurrency: two loads of one month at once, and a landing sensor restarted between ticks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from reliability_support import (
    BRONZE,
    GOLD,
    assert_engines_agree,
    daily_file,
    delta_month,
    mart_month,
)

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.landing import LandingZone
from subway_platform.sensors import LandingSensorSettings, landing_sensor
from subway_platform_tests.zone import Zone, file_totals

REPO = Path(__file__).resolve().parents[2]
MONTH = "201911"
SELECT = "bronze/card_subway_month,gold/subway_passengers,mart/subway_passengers"


@pytest.mark.spark_conformance
def test_two_runs_of_one_month_at_once_never_interleave(zone: Zone) -> None:
    """Two run workers (processes, each with its own engine) load the same month at once.

    Sail commits two concurrent replaceWhere writes of one month (no conflict detection);
    the platform's per-(table, month) locks (resources/locks.py) serialise them."""
    zone.upload(daily_file(MONTH))
    cmd = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "-m",
        "subway_platform.definitions",
        "--select",
        SELECT,
        "--partition",
        MONTH,
    ]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=REPO,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes, outputs[0][-3000:] + outputs[1][-3000:]
    totals = file_totals(daily_file(MONTH))
    # Exactly one copy of the month everywhere, whatever the interleaving was.
    assert mart_month(zone, MONTH) == (len(totals["keys"]), totals["pass_in"], totals["pass_out"])
    bronze = delta_month(zone, BRONZE, MONTH)
    assert (bronze.rows, bronze.pass_in, bronze.pass_out) == (
        totals["rows"],
        totals["pass_in"],
        totals["pass_out"],
    )
    gold = delta_month(zone, GOLD, MONTH)
    assert (gold.rows, gold.pass_in, gold.pass_out) == (
        len(totals["keys"]),
        totals["pass_in"],
        totals["pass_out"],
    )
    assert_engines_agree(zone, BRONZE, [MONTH])
    assert_engines_agree(zone, GOLD, [MONTH])
    assert zone.keys(zone.archive) == [daily_file(MONTH).name] and zone.keys(zone.landing) == []


def _tick(zone: Zone, cursor: str | None) -> dg.SensorResult:
    """One tick in a fresh context: all the sensor keeps between ticks is its cursor."""
    with dg.build_sensor_context(
        instance=zone.instance,
        cursor=cursor,
        resources={
            "landing": LandingZone(
                landing_url=zone.landing,
                archive_url=zone.archive,
                lake_url=zone.lake,
                storage=object_storage_from_environment(),
            ),
            "landing_sensor_settings": LandingSensorSettings(
                settle_seconds=0, max_files_per_tick=2
            ),
        },
    ) as context:
        result = landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_sensor_restarted_between_ticks_misses_nothing_twice_nothing(zone: Zone) -> None:
    months = ["201901", "201902", "201903", "201904", "201905"]
    for month in months[:3]:
        zone.upload(daily_file(month))
    requested: list[str] = []
    cursor: str | None = None
    for tick in range(8):
        if tick == 1:  # files arriving between ticks, before and after the cursor
            for month in months[3:]:
                zone.upload(daily_file(month))
        result = _tick(zone, cursor)
        requested += [r.partition_key or "" for r in result.run_requests or []]
        cursor = result.cursor
    assert sorted(requested) == months
