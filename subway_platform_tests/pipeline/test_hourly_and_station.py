"""The hourly data set on the real CP949 portal file, and the station master."""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg
import pytest
from deltalake import DeltaTable

from subway_platform.elt_log.mirror import rows_for_run
from subway_platform.elt_log.month_figures import MONTH_ROWS, MONTH_SECONDS
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.zone import REAL, Zone

HOURLY_NAME = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보_202210.csv"


def _hourly_totals(path: Path) -> tuple[int, int, int]:
    with path.open(encoding="cp949", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if r]
    ins = [i for i, h in enumerate(header) if h.endswith("승차인원")]
    outs = [i for i, h in enumerate(header) if h.endswith("하차인원")]
    return (
        len(rows),
        sum(int(float(r[i].replace(",", ""))) for r in rows for i in ins),
        sum(int(float(r[i].replace(",", ""))) for r in rows for i in outs),
    )


@pytest.mark.spark_conformance
def test_real_hourly_file_reconciles(zone: Zone) -> None:
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    zone.upload(source, HOURLY_NAME)
    result = zone.run("hourly_passengers_job", ["202210"])
    assert result.success
    rows, pass_in, pass_out = _hourly_totals(source)
    count, mart_in, mart_out, hours = zone.query(
        "SELECT count(*), sum(pass_in)::bigint, sum(pass_out)::bigint, count(DISTINCT hour) "
        "FROM subway_passengers_time WHERE month = '202210'"
    )[0]
    assert (mart_in, mart_out) == (pass_in, pass_out)
    assert hours == 24
    # One row per (line, station, hour) after summing repeated stations.
    stations = zone.query(
        "SELECT count(DISTINCT (line_no, station_name)) FROM subway_passengers_time "
        "WHERE month = '202210'"
    )[0][0]
    assert count == stations * 24 and stations <= rows
    # Every check passes but the station warning: no station master was loaded here.
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert failed == {"stations_matched"}
    gold = DeltaTable(
        f"{zone.lake}/gold/subway_passengers_time",
        storage_options=object_storage_from_environment().delta_options(),
    )
    assert sum(gold.to_pyarrow_table(columns=["pass_in"]).column("pass_in").to_pylist()) == pass_in
    # The ELT log: gold's figures in hour rows (24 per file row), merged measured (good
    # rows x 24 - distinct (line, station, hour) keys), and they add up: every load valid.
    logged = {r.asset_key: r for r in rows_for_run(zone.instance, result.run_id)}
    assert all(r.valid and r.status == "materialized" for r in logged.values())
    hourly = logged["gold/subway_passengers_time"]
    assert (hourly.source_read_size, hourly.cleaned_count) == (rows * 24, 0)
    assert (hourly.target_read_size, hourly.merged_count) == (count, rows * 24 - count)


@pytest.mark.spark_conformance
def test_station_master_loads_with_one_row_per_station(zone: Zone) -> None:
    source = REAL / "subway_station" / "station_master_utf8.csv"
    zone.upload(source, "서울시 역사마스터 정보.csv")
    result = zone.run("station_job")
    assert result.success
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = {(str(int(r["역사_ID"])), r["호선"]) for r in rows}
    mart = zone.query("SELECT station_id, line_no, latitude FROM subway_station")
    assert {(r[0], r[1]) for r in mart} == ids
    assert all(r[2] is not None for r in mart)
    # The unpartitioned ELT rows: the file's rows, one gold row per station; valid.
    logged = {r.asset_key: r for r in rows_for_run(zone.instance, result.run_id)}
    assert all(r.valid and r.partition_key == "" for r in logged.values())
    gold = logged["gold/subway_station"]
    assert (gold.source_read_size, gold.target_read_size) == (len(rows), len(mart))
    assert gold.merged_count == len(rows) - len(mart) - gold.cleaned_count >= 0
    # Each step did its table alone: its time is measured, and the UI plots it.
    assert {r.elapsed_method for r in logged.values()} == {"measured"}
    for entry in zone.instance.all_logs(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ):
        assert entry.dagster_event is not None
        mat = entry.dagster_event.event_specific_data.materialization
        key = mat.asset_key.to_user_string()
        if key in logged:
            assert mat.metadata[MONTH_ROWS].value == logged[key].target_read_size
            assert 0 < mat.metadata[MONTH_SECONDS].value <= (logged[key].elapsed or 0) + 1e-3


@pytest.mark.spark_conformance
def test_passengers_before_and_after_the_station_master_keep_one_schema(zone: Zone) -> None:
    """A month loaded before the station master exists, then again after: same gold
    schema (the join changes the plan's column order), station ids filled the second time."""
    month = "201902"
    zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    assert zone.run("daily_passengers_job", [month]).success
    assert zone.query("SELECT count(station_id) FROM subway_passengers")[0][0] == 0
    gold_uri = f"{zone.lake}/gold/subway_passengers"
    before = (
        DeltaTable(gold_uri, storage_options=object_storage_from_environment().delta_options())
        .schema()
        .to_arrow()
    )

    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")
    assert zone.run("station_job").success
    assert zone.run("daily_passengers_job", [month]).success
    after = (
        DeltaTable(gold_uri, storage_options=object_storage_from_environment().delta_options())
        .schema()
        .to_arrow()
    )
    assert [f.name for f in before] == [f.name for f in after]
    assert zone.query("SELECT count(station_id) FROM subway_passengers")[0][0] > 0


def test_corrected_hourly_upload_wins_over_the_archived_multi_month_file(
    zone: Zone, tmp_path: Path
) -> None:
    """A month first loaded from a two-month portal file (then archived) is reloaded from a
    newer upload that holds only that month: the newer file is used, the other month is
    untouched."""
    from subway_platform.sample_data import write_sample_files

    files = write_sample_files(tmp_path / "gen", ["202001", "202002"])
    hourly = next(f for f in files if "시간대별" in f.name)
    zone.upload(hourly)
    assert zone.run("hourly_passengers_job", ["202001", "202002"]).success
    before = dict(
        zone.query("SELECT month, sum(pass_in)::bigint FROM subway_passengers_time GROUP BY month")
    )

    lines = hourly.read_bytes().decode("cp949").splitlines()
    february = [line for line in lines[1:] if line.startswith('"202002"')]
    corrected = tmp_path / "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보_202002.csv"
    corrected.write_bytes(("\r\n".join([lines[0], *february[:-10]]) + "\r\n").encode("cp949"))
    zone.upload(corrected)
    assert zone.run("hourly_passengers_job", ["202002"]).success
    after = dict(
        zone.query("SELECT month, sum(pass_in)::bigint FROM subway_passengers_time GROUP BY month")
    )
    assert after["202001"] == before["202001"]
    assert after["202002"] < before["202002"]
    assert zone.keys(zone.archive) == sorted([hourly.name, corrected.name])
