"""Station enrichment on the real files: the twelve 2019 daily months and the 202210 hourly
file, joined with the real station master through the station spec's aliases."""

from __future__ import annotations

import dagster as dg
from psycopg import sql

from subway_platform.assets.enrichment import STATIONS_MATCHED
from subway_platform.datasets import STATION
from subway_platform_tests.pipeline.test_hourly_and_station import HOURLY_NAME, _hourly_totals
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTHS_2019 = [f"2019{m:02d}" for m in range(1, 13)]
TARGET_PCT = 99.5


def _mart_coverage(zone: Zone, table: str) -> dict[str, tuple[int, int, float]]:
    """Per month, from the mart: boardings, alightings, % of boardings with a station id and
    coordinates (an independent reading of what the platform reports)."""
    rows = zone.query(
        sql.SQL(
            "SELECT month, sum(pass_in)::bigint, sum(pass_out)::bigint, "
            "sum(pass_in) FILTER (WHERE station_id IS NOT NULL AND latitude IS NOT NULL "
            "AND longitude IS NOT NULL)::bigint FROM {} GROUP BY month"
        ).format(sql.Identifier(table))
    )
    return {m: (pin, pout, 100.0 * (matched or 0) / pin) for m, pin, pout, matched in rows}


def _gold_metadata(zone: Zone, asset: str, month: str) -> dict[str, object]:
    records = zone.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["gold", asset]), asset_partitions=[month]),
        limit=1,
    ).records
    assert records, f"no gold/{asset} materialization for {month}"
    materialization = records[0].asset_materialization
    assert materialization is not None
    return {k: v.value for k, v in materialization.metadata.items()}


def _stations_matched(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    found = [e for e in result.get_asset_check_evaluations() if e.check_name == STATIONS_MATCHED]
    assert len(found) == 1
    return found[0]


def test_real_months_get_stations_for_at_least_99_5_percent_of_boardings(zone: Zone) -> None:
    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")
    assert zone.run("station_job").success
    for month in MONTHS_2019:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    zone.upload(REAL / "card_subway_time" / "hourly_202210_cp949.csv", HOURLY_NAME)
    daily = zone.run("daily_passengers_job", MONTHS_2019)
    hourly = zone.run("hourly_passengers_job", ["202210"])
    assert daily.success and hourly.success

    measured = {
        **_mart_coverage(zone, "subway_passengers"),
        **_mart_coverage(zone, "subway_passengers_time"),
    }
    print("\nboardings with a station id and coordinates:")
    for month, (_, _, pct) in sorted(measured.items()):
        print(f"  {month}: {pct:.3f}%")
    assert sorted(measured) == [*MONTHS_2019, "202210"]

    for month in MONTHS_2019:
        # The join neither loses nor multiplies a passenger.
        totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        pass_in, pass_out, pct = measured[month]
        assert (pass_in, pass_out) == (totals["pass_in"], totals["pass_out"])
        assert pct >= TARGET_PCT, month
        metadata = _gold_metadata(zone, "subway_passengers", month)
        assert abs(float(metadata["enrichment/boardings_matched_pct"]) - pct) < 0.001, month  # type: ignore[arg-type]
        assert metadata["enrichment/unmatched_boardings"] == round(pass_in * (100 - pct) / 100)
        assert (metadata["gold/month_pass_in"], metadata["gold/month_pass_out"]) == (
            pass_in,
            pass_out,
        )
        assert (
            metadata["gold/month_rows"] == len(totals["keys"])
            and metadata["gold/month_rejected_rows"] == 0
        )
    _, hourly_in, hourly_out = _hourly_totals(REAL / "card_subway_time" / "hourly_202210_cp949.csv")
    pass_in, pass_out, pct = measured["202210"]
    assert (pass_in, pass_out) == (hourly_in, hourly_out)
    assert pct >= TARGET_PCT
    metadata = _gold_metadata(zone, "subway_passengers_time", "202210")
    assert abs(float(metadata["enrichment/boardings_matched_pct"]) - pct) < 0.001  # type: ignore[arg-type]

    # The warning check passes (every month above target) and still names what is left, as
    # the files wrote it: a few 경의선 rows at airport-railway stations, and 평택지제 (not in
    # this station master).
    check = _stations_matched(daily)
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    unmatched = check.metadata["unmatched"].value
    assert isinstance(unmatched, list)
    pairs = {(p["line_no"], p["station_name"]): p for p in unmatched}
    assert ("경의선", "계양") in pairs and pairs[("경의선", "계양")]["boardings"] > 0
    # Nothing else is left: every other spelling is covered by the station spec's aliases.
    assert set(pairs) <= {("경의선", "계양"), ("경의선", "검암"), ("경의선", "김포공항")}
    assert "경의선" in STATION.line_aliases
    assert check.metadata["unmatched_boardings"].value == sum(
        measured[m][0] - round(measured[m][0] * measured[m][2] / 100) for m in MONTHS_2019
    )
    hourly_check = _stations_matched(hourly)
    hourly_pairs = {
        (p["line_no"], p["station_name"]) for p in hourly_check.metadata["unmatched"].value
    }  # type: ignore[union-attr]
    assert ("경부선", "평택지제") in hourly_pairs
    assert hourly_pairs <= {("경부선", "평택지제"), ("경의선", "계양"), ("경의선", "검암")}
    assert hourly_check.passed


def test_month_without_station_master_fails_the_warning_check_but_loads(zone: Zone) -> None:
    """No station master yet: the month reaches the mart (the check does not block) and the
    warning check fails, listing the busiest unmatched stations with their boardings."""
    month = "201906"
    zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    result = zone.run("daily_passengers_job", [month])
    assert result.success
    check = _stations_matched(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    assert check.metadata["unmatched_boardings"].value == totals["pass_in"]
    assert check.metadata["problems"].value == {
        month: [f"0.00% of {totals['pass_in']} boardings have a station (target {TARGET_PCT}%)"]
    }
    listed = check.metadata["unmatched"].value
    assert isinstance(listed, list) and len(listed) == 50
    assert listed[0]["boardings"] >= listed[-1]["boardings"] > 0
    metadata = _gold_metadata(zone, "subway_passengers", month)
    assert metadata["enrichment/boardings_matched_pct"] == 0.0
    assert (
        zone.query("SELECT sum(pass_in)::bigint FROM subway_passengers")[0][0] == totals["pass_in"]
    )
