"""Station enrichment on the real files (the twelve 2019 daily months, the 202210 hourly
file, a 2019 month rewritten in the 2015-2016 spellings) joined with the real station master
through the matching rules (``assets/station_match.py``), and each rule on the engine with
names built for it."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from psycopg import sql

from subway_platform.assets.enrichment import (
    STATIONS_MATCHED,
    with_station,
    with_station_matched,
)
from subway_platform.datasets import STATION, StationJoin
from subway_platform.resources.spark import connect_session, spark_remote_url
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


def _stations_matched_per_month(
    result: dg.ExecuteInProcessResult,
) -> dict[str, dg.AssetCheckEvaluation]:
    """The run's ``stations_matched`` evaluations: one per month of the run."""
    found = [e for e in result.get_asset_check_evaluations() if e.check_name == STATIONS_MATCHED]
    per_month = {str(e.partition): e for e in found}
    assert len(per_month) == len(found)
    return per_month


def _stations_matched(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (found,) = _stations_matched_per_month(result).values()
    return found


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
    # One verdict per month, each listing that month's pairs.
    checks = _stations_matched_per_month(daily)
    assert sorted(checks) == sorted(MONTHS_2019)
    pairs: dict[tuple[str, str], int] = {}
    for month, check in checks.items():
        assert check.passed and check.severity == dg.AssetCheckSeverity.WARN, month
        unmatched = check.metadata["unmatched"].value
        assert isinstance(unmatched, list)
        for p in unmatched:
            assert p["months"] == [month]
            pair = (p["line_no"], p["station_name"])
            pairs[pair] = pairs.get(pair, 0) + p["boardings"]
        assert check.metadata["unmatched_boardings"].value == measured[month][0] - round(
            measured[month][0] * measured[month][2] / 100
        )
    assert ("경의선", "계양") in pairs and pairs[("경의선", "계양")] > 0
    # Nothing else is left: every other spelling is covered by the station spec's aliases.
    assert set(pairs) <= {("경의선", "계양"), ("경의선", "검암"), ("경의선", "김포공항")}
    assert "경의선" in STATION.line_aliases
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


def _master_frame(spark: Any, rows: list[tuple[str, str, str, float, float]]) -> Any:
    return spark.createDataFrame(
        rows,
        "station_id string, station_name string, line_no string, latitude double, longitude double",
    )


@pytest.mark.spark_conformance
def test_each_matching_rule_on_the_engine_with_names_built_for_it(on_engine: str) -> None:
    """``with_station`` on the engine, with (line, station) pairs built for each rule: every
    row stays once, the rules' matches get ids and coordinates, an ambiguous parenthesised
    name and an unknown one get none, and ``with_station_matched`` names them with the reason."""
    spark = connect_session(spark_remote_url(os.environ.get("SPARK_REMOTE")))
    master = _master_frame(
        spark,
        [
            ("101", "가나(다라구청)", "1호선", 37.1, 127.1),
            ("201", "카타(파하)", "2호선", 37.2, 127.2),
            ("202", "카타(거너)", "2호선", 37.3, 127.3),
            ("203", "잠실새내", "2호선", 37.4, 127.4),  # was 신천 (renamed 2016)
            ("902", "두리", "9호선(연장)", 37.5, 127.5),
            ("951", "세시", "경의중앙선", 37.6, 127.6),
        ],
    )
    gold = spark.createDataFrame(
        [
            ("01호선", "가나", 10),  # line number padded, name without its parenthesis
            ("1호선", "가나(지하)", 20),  # another parenthesised part
            ("2호선", "카타", 30),  # ambiguous on the line: no match
            ("2호선", "신천", 40),  # the old name
            ("9호선2단계", "두리", 50),  # section suffix on both sides
            ("경의선", "세시", 60),  # merged line
            ("2호선", "없는역", 70),  # nowhere
            ("2호선", "신천", 80),  # a second row of a pair: still once each
        ],
        "line_no string, station_name string, pass_in long",
    )
    join = StationJoin(master="subway_station")
    enriched = with_station(gold, master, join, STATION)
    got = sorted((r["pass_in"], r["station_id"], r["latitude"]) for r in enriched.collect())
    assert got == [
        (10, "101", 37.1),
        (20, "101", 37.1),
        (30, None, None),
        (40, "203", 37.4),
        (50, "902", 37.5),
        (60, "951", 37.6),
        (70, None, None),
        (80, "203", 37.4),
    ]
    _, unmatched = with_station_matched(gold, master, join, STATION)
    assert unmatched == {
        ("2호선", "카타"): "ambiguous: 카타(거너), 카타(파하)",
        ("2호선", "없는역"): "not on the line",
    }


@pytest.mark.spark_conformance
def test_old_spellings_of_real_stations_match_the_real_master(on_engine: str) -> None:
    """Spellings of the 2015-2016 kind, built from the real master's stations (names without
    their parenthesised part, old names, the 9호선 sections): all find their station."""
    spark = connect_session(spark_remote_url(os.environ.get("SPARK_REMOTE")))
    with (REAL / "subway_station" / "station_master_utf8.csv").open(encoding="utf-8") as f:
        rows = [
            (r["역사_ID"], r["역사명"], r["호선"], float(r["위도"]), float(r["경도"]))
            for r in csv.DictReader(f)
        ]
    master = _master_frame(spark, rows)
    ids = {(line, name): sid for sid, name, line, _, _ in rows}
    built = {
        ("2호선", "잠실"): ids[("2호선", "잠실(송파구청)")],
        ("8호선", "잠실"): ids[("8호선", "잠실(송파구청)")],
        ("1호선", "청량리"): ids[("1호선", "청량리(서울시립대입구)")],
        ("4호선", "총신대입구"): ids[("4호선", "총신대입구(이수)")],
        ("9호선2단계", "봉은사"): ids[("9호선(연장)", "봉은사")],
        ("9호선2~3단계", "올림픽공원"): ids[("9호선(연장)", "올림픽공원(한국체대)")],
        ("2호선", "신천"): ids[("2호선", "잠실새내")],
        ("공항철도 1호선", "마곡나루(서울식물원)"): ids[("공항철도1호선", "마곡나루")],
    }
    gold = spark.createDataFrame(
        [(line, name, 1) for line, name in built], "line_no string, station_name string, n int"
    )
    enriched = with_station(gold, master, StationJoin(master="subway_station"), STATION)
    got = {(r["line_no"], r["station_name"]): r["station_id"] for r in enriched.collect()}
    assert got == built


def _aged_copy(source: Path, target: Path) -> None:
    """``source`` (a real 2019 daily file) written with the spellings of the 2015-2016 files:
    station names without their parenthesised part, 잠실새내 under its old name 신천 (renamed
    2016-12), and 9호선2~3단계 as 9호선2단계. Every other byte of a row stays."""
    with (
        source.open(encoding="utf-8", newline="") as f,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader, writer = csv.reader(f), csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(next(reader))
        for row in reader:
            name = re.sub(r"\(.*\)$", "", row[2])
            row[2] = "신천" if name == "잠실새내" else name
            row[1] = "9호선2단계" if row[1] == "9호선2~3단계" else row[1]
            writer.writerow(row)


def test_a_month_in_old_spellings_gets_its_stations(zone: Zone, tmp_path: Path) -> None:
    """A real month rewritten in the old spellings (about 82.5% of its boardings matched
    the station master under the former exact join on aliases) is enriched like the real one
    and keeps every passenger."""
    month = "201903"
    aged = tmp_path / f"CARD_SUBWAY_MONTH_{month}.csv"
    _aged_copy(REAL / "card_subway_month" / aged.name, aged)
    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")
    assert zone.run("station_job").success
    zone.upload(aged)
    result = zone.run("daily_passengers_job", [month])
    assert result.success
    pass_in, pass_out, pct = _mart_coverage(zone, "subway_passengers")[month]
    totals = file_totals(REAL / "card_subway_month" / aged.name)
    assert (pass_in, pass_out) == (totals["pass_in"], totals["pass_out"])
    print(f"\n{month} in old spellings: {pct:.3f}% of boardings have a station")
    assert pct >= TARGET_PCT
    unmatched = _stations_matched(result).metadata["unmatched"].value
    assert isinstance(unmatched, list)
    assert {(p["line_no"], p["station_name"]) for p in unmatched} <= {
        ("경의선", "계양"),
        ("경의선", "검암"),
        ("경의선", "김포공항"),
    }
    names = {
        r[0] for r in zone.query(sql.SQL("SELECT DISTINCT station_name FROM subway_passengers"))
    }
    assert "신천" in names and "잠실" in names and "잠실(송파구청)" not in names
