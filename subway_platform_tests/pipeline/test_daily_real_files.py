"""The daily data set, end to end on the real 2019 files: landing -> bronze -> gold -> mart."""

from __future__ import annotations

from datetime import date

import pytest
from deltalake import DeltaTable

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.tags import FORCE_TAG
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTHS = ["201901", "201902", "201903"]


def _mart_by_month(zone: Zone) -> dict[str, tuple[int, int, int]]:
    rows = zone.query(
        "SELECT month, count(*), sum(pass_in)::bigint, sum(pass_out)::bigint "
        "FROM subway_passengers GROUP BY month ORDER BY month"
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.mark.spark_conformance
def test_real_months_reconcile_to_the_passenger(zone: Zone) -> None:
    for month in MONTHS:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")

    assert zone.run("station_job").success
    result = zone.run("daily_passengers_job", MONTHS)
    assert result.success

    mart = _mart_by_month(zone)
    for month in MONTHS:
        totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        rows, pass_in, pass_out = mart[month]
        assert (pass_in, pass_out) == (totals["pass_in"], totals["pass_out"])
        assert rows == len(totals["keys"])
        keys = {
            (d.strftime("%Y%m%d"), line, name)
            for d, line, name in zone.query(
                "SELECT use_date, line_no, station_name FROM subway_passengers WHERE month = %s",
                (month,),
            )
        }
        assert keys == totals["keys"]

    # Every check the run evaluated passed.
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        (e.asset_key.to_user_string(), e.check_name, e.description)
        for e in evaluations
        if not e.passed
    ]
    # Landing files were archived after the load.
    assert zone.keys(zone.landing) == []
    assert zone.keys(zone.archive) == [f"CARD_SUBWAY_MONTH_{m}.csv" for m in MONTHS] + [
        "서울시 역사마스터 정보.csv"
    ]

    # A second implementation (delta-rs) reads the same gold rows and sums.
    gold = DeltaTable(
        f"{zone.lake}/gold/subway_passengers",
        storage_options=object_storage_from_environment().delta_options(),
    )
    table = gold.to_pyarrow_table()
    assert table.num_rows == sum(mart[m][0] for m in MONTHS)
    assert sum(table.column("pass_in").to_pylist()) == sum(mart[m][1] for m in MONTHS)

    # Station ids and coordinates were joined where (line, name) match, without losing rows.
    joined = zone.query("SELECT count(*) FROM subway_passengers WHERE station_id IS NOT NULL")[0][0]
    assert 0 < joined <= sum(mart[m][0] for m in MONTHS)
    first_day = zone.query("SELECT min(use_date) FROM subway_passengers")[0][0]
    assert first_day == date(2019, 1, 1)


@pytest.mark.spark_conformance
def test_month_reload_is_idempotent(zone: Zone) -> None:
    """Month A, then B, then A again (forced): nothing doubles, only A is rewritten."""
    a, b = "201904", "201905"
    for month in (a, b):
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    assert zone.run("daily_passengers_job", [a]).success
    first_a = _mart_by_month(zone)[a]
    assert zone.run("daily_passengers_job", [b]).success
    before = _mart_by_month(zone)
    # Unchanged, A would be skipped (skip_unchanged.py): forced, it is read again from the
    # archive and rewritten.
    from subway_platform.definitions import defs

    forced = defs.resolve_job_def("daily_passengers_job").execute_in_process(
        instance=zone.instance, partition_key=a, tags={FORCE_TAG: "true"}
    )
    assert forced.success
    after = _mart_by_month(zone)
    assert after == before
    assert after[a] == first_a

    bronze = DeltaTable(
        f"{zone.lake}/bronze/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )
    counts: dict[str, int] = {}
    for m in bronze.to_pyarrow_table(columns=["month"]).column("month").to_pylist():
        counts[m] = counts.get(m, 0) + 1
    assert counts == {
        a: file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{a}.csv")["rows"],
        b: file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{b}.csv")["rows"],
    }
    # The rewrite of A is a new Delta version; the previous one stays readable.
    assert bronze.version() >= 2
