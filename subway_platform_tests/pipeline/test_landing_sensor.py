"""The landing sensor against the embedded S3 endpoint, and sensor -> run -> mart + ELT log."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from subway_platform.elt_log.mirror import mirror_run
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.landing import LandingZone
from subway_platform.sample_data import write_sample_files
from subway_platform.sensors import LandingSensorSettings, landing_sensor
from subway_platform_tests.zone import REAL, Zone


def _evaluate(
    zone: Zone, cursor: str | None, handler: logging.Handler | None = None
) -> dg.SensorResult:
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
            "landing_sensor_settings": LandingSensorSettings(settle_seconds=0),
        },
    ) as context:
        if handler is not None:
            context.log.addHandler(handler)  # the sensor's own log, as shown on the tick
        result = landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_new_file_requests_one_run_exactly_once(
    zone: Zone, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    zone.upload(REAL / "card_subway_month" / "CARD_SUBWAY_MONTH_201906.csv")
    first = _evaluate(zone, None)
    assert len(first.run_requests or []) == 1
    request = (first.run_requests or [])[0]
    assert request.job_name == "daily_passengers_job"
    assert request.partition_key == "201906"
    assert request.run_key and request.run_key.startswith(
        "card_subway_month:CARD_SUBWAY_MONTH_201906.csv:"
    )

    again = _evaluate(zone, first.cursor)
    assert not again.run_requests

    # A corrected upload (new content, same name) reloads its month.
    changed = tmp_path / "CARD_SUBWAY_MONTH_201906.csv"
    changed.write_bytes(
        (REAL / "card_subway_month" / "CARD_SUBWAY_MONTH_201906.csv")
        .read_bytes()
        .rstrip(b"\n")
        .rsplit(b"\n", 1)[0]
        + b"\n"
    )
    zone.upload(changed)
    corrected = _evaluate(zone, again.cursor)
    assert len(corrected.run_requests or []) == 1
    assert (corrected.run_requests or [])[0].run_key != request.run_key

    # Unrelated files are ignored, with the reason in the log.
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("hello")
    zone.upload(unrelated)
    other_csv = tmp_path / "weather_201906.csv"
    other_csv.write_text("a,b\n1,2\n")
    zone.upload(other_csv)
    with caplog.at_level(logging.INFO):
        ignored = _evaluate(zone, corrected.cursor, caplog.handler)
    assert not ignored.run_requests
    text = caplog.text
    assert "notes.txt" in text and "not a .csv file" in text
    assert "weather_201906.csv" in text and "matches no data set" in text


def test_multi_month_hourly_file_requests_one_scan_then_one_range_run(
    zone: Zone, tmp_path: Path
) -> None:
    """A file whose name gives no month: the tick requests a scan run (it reads no file);
    after the scan, a tick requests its months as one single-run range."""
    files = write_sample_files(tmp_path, ["202001", "202002", "202003"])
    hourly = next(f for f in files if "시간대별" in f.name)
    zone.upload(hourly)
    result = _evaluate(zone, None)
    [scan] = result.run_requests or []
    assert scan.job_name == "landing_scan_job" and scan.partition_key is None
    assert scan.run_key and scan.run_key.startswith(f"scan:card_subway_time:{hourly.name}:")
    from subway_platform.definitions import defs

    ran = defs.resolve_job_def(scan.job_name).execute_in_process(
        instance=zone.instance, tags=scan.tags
    )
    assert ran.success
    after = _evaluate(zone, result.cursor)
    [request] = after.run_requests or []
    assert request.job_name == "hourly_passengers_job"
    assert request.tags["dagster/asset_partition_range_start"] == "202001"
    assert request.tags["dagster/asset_partition_range_end"] == "202003"
    assert request.run_key == scan.run_key.removeprefix("scan:")


def test_sensor_to_mart_and_elt_log(zone: Zone) -> None:
    """A file dropped in landing ends in the mart and the ELT log, and is archived."""
    zone.upload(REAL / "card_subway_month" / "CARD_SUBWAY_MONTH_201908.csv")
    result = _evaluate(zone, None)
    request = (result.run_requests or [])[0]
    from subway_platform.definitions import defs

    run = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=zone.instance, partition_key=request.partition_key, tags=request.tags
    )
    assert run.success
    assert zone.query("SELECT count(*) FROM subway_passengers WHERE month = '201908'")[0][0] > 0
    assert zone.keys(zone.landing) == []
    assert zone.keys(zone.archive) == ["CARD_SUBWAY_MONTH_201908.csv"]
    with psycopg.connect(zone.mart_dsn) as conn:
        assert mirror_run(zone.instance, run.run_id, conn) == 3
        conn.commit()
    rows = zone.query(
        "SELECT asset_key, partition_key, valid, source_read_size, target_read_size, "
        "cleaned_count, source_object, target_object FROM elt_manager_log "
        "WHERE run_id = %s ORDER BY asset_key",
        (run.run_id,),
    )
    assert [r[0] for r in rows] == [
        "bronze/card_subway_month",
        "gold/subway_passengers",
        "mart/subway_passengers",
    ]
    assert all(r[1] == "201908" and r[2] is True for r in rows)
    bronze, gold, mart = rows
    assert bronze[3] == bronze[4] > 0 and bronze[6] == "CARD_SUBWAY_MONTH_201908.csv"
    assert gold[3] == bronze[4] and gold[5] == 0 and gold[4] <= gold[3]
    assert mart[3] == gold[4] == mart[4] and mart[7] == "subway_passengers"
