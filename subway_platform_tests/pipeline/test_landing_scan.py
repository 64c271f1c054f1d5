"""The landing scan (issue 14 item 6): a monthly file whose name gives no month gets one
``landing_scan_job`` run, then the load of the months it found, exactly once per file
content; a bad file fails its scan run with the file and line named."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import psycopg
import pytest

from subway_platform.alerts.config import AlertChannels
from subway_platform.alerts.message import build_alert
from subway_platform.elt_log.mirror import mirror_run
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.landing import LandingZone
from subway_platform.sample_data import HOURLY_FILE_NAME, write_sample_files
from subway_platform.sensors import LandingSensorSettings, landing_sensor
from subway_platform_tests.conftest import RunningServices
from subway_platform_tests.zone import REAL, Zone

MONTHS = ["202001", "202002", "202003"]
SCANS = "_staging/scans"


def _landing(zone: Zone) -> LandingZone:
    return LandingZone(
        landing_url=zone.landing,
        archive_url=zone.archive,
        lake_url=zone.lake,
        storage=object_storage_from_environment(),
    )


def _tick(
    zone: Zone, cursor: str | None, handler: logging.Handler | None = None
) -> tuple[list[dg.RunRequest], str | None]:
    """One landing sensor tick in a fresh context: its run requests and its cursor."""
    with dg.build_sensor_context(
        instance=zone.instance,
        cursor=cursor,
        resources={
            "landing": _landing(zone),
            "landing_sensor_settings": LandingSensorSettings(settle_seconds=0),
        },
    ) as context:
        if handler is not None:
            context.log.addHandler(handler)
        result = landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return list(result.run_requests or []), result.cursor


def _execute(zone: Zone, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """Run a requested run in process, as the daemon would launch it."""
    from subway_platform.definitions import defs

    return defs.resolve_job_def(request.job_name).execute_in_process(
        instance=zone.instance,
        partition_key=request.partition_key,
        tags=request.tags,
        raise_on_error=False,
    )


def _etag(zone: Zone, name: str) -> str:
    bucket, _, prefix = zone.landing.removeprefix("s3://").partition("/")
    return str(zone.s3.head_object(Bucket=bucket, Key=f"{prefix}/{name}")["ETag"]).strip('"')


def _manifests(zone: Zone) -> list[str]:
    return zone.keys(f"{zone.lake}/{SCANS}")


def _scan_metadata(result: dg.ExecuteInProcessResult) -> Mapping[str, object]:
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: getattr(v, "value", v) for k, v in output.event_specific_data.metadata.items()}


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="cp949", newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("cp949"))


def _totals(path: Path) -> dict[str, tuple[int, int]]:
    """Month -> (boardings, alightings), read independently with the csv module."""
    header, *data = _rows(path)
    ins = [i for i, h in enumerate(header) if h.endswith("승차인원")]
    outs = [i for i, h in enumerate(header) if h.endswith("하차인원")]
    totals: dict[str, tuple[int, int]] = {}
    for row in data:
        pass_in, pass_out = totals.get(row[0], (0, 0))
        totals[row[0]] = (
            pass_in + sum(int(float(row[i].replace(",", ""))) for i in ins),
            pass_out + sum(int(float(row[i].replace(",", ""))) for i in outs),
        )
    return totals


def _mart(zone: Zone) -> dict[str, tuple[int, int]]:
    rows = zone.query(
        "SELECT month, sum(pass_in)::bigint, sum(pass_out)::bigint FROM subway_passengers_time "
        "GROUP BY month ORDER BY month"
    )
    return {month: (pass_in, pass_out) for month, pass_in, pass_out in rows}


def test_unnamed_multi_month_file_is_scanned_once_then_its_months_load(
    zone: Zone, tmp_path: Path
) -> None:
    files = write_sample_files(tmp_path / "gen", MONTHS)
    hourly = next(f for f in files if f.name == HOURLY_FILE_NAME)
    zone.upload(hourly)
    etag = _etag(zone, hourly.name)

    # The tick reads no file: it requests one scan run of this content.
    [scan], cursor = _tick(zone, None)
    assert scan.job_name == "landing_scan_job" and scan.partition_key is None
    assert scan.run_key == f"scan:card_subway_time:{hourly.name}:{etag}"
    assert scan.tags["subway/source_file"] == hourly.name
    assert scan.tags["subway/source_etag"] == etag
    assert scan.tags["subway/dataset"] == "card_subway_time"
    assert _tick(zone, cursor)[0] == []  # nothing new until the scan has run

    scanned = _execute(zone, scan)
    assert scanned.success
    metadata = _scan_metadata(scanned)
    assert metadata["months"] == MONTHS
    assert metadata["rows"] == len(_rows(hourly)) - 1
    assert len(_manifests(zone)) == 1

    # The next tick requests the months' load under the file's own run key.
    [load], after_load = _tick(zone, cursor)
    assert load.job_name == "hourly_passengers_job"
    assert load.run_key == f"card_subway_time:{hourly.name}:{etag}"
    assert load.tags["dagster/asset_partition_range_start"] == MONTHS[0]
    assert load.tags["dagster/asset_partition_range_end"] == MONTHS[-1]
    # A tick that failed after that one would find the manifest and ask the same run again
    # (same run key: Dagster launches it once), so no load is lost.
    assert [r.run_key for r in _tick(zone, cursor)[0]] == [load.run_key]

    loaded = _execute(zone, load)
    assert loaded.success
    assert _mart(zone) == _totals(hourly)
    assert zone.keys(zone.landing) == [] and zone.keys(zone.archive) == [hourly.name]
    nothing, cursor = _tick(zone, after_load)
    assert nothing == []
    assert _manifests(zone) == []  # deleted once its load request was recorded

    # The same bytes uploaded again: the tick asks for the same scan run key, which
    # Dagster's daemon refuses to launch a second time for this sensor: nothing runs.
    zone.upload(hourly)
    [again], cursor = _tick(zone, cursor)
    assert again.run_key == scan.run_key
    assert _tick(zone, cursor)[0] == []

    # A corrected upload (new content, same name): scanned and loaded again.
    header, *data = _rows(hourly)
    fix = next(i for i, row in enumerate(data) if row[0] == "202002")
    data[fix][3] = str(int(float(data[fix][3])) + 1000)
    corrected = tmp_path / hourly.name
    _write_rows(corrected, [header, *data])
    zone.upload(corrected)
    [rescan], cursor = _tick(zone, cursor)
    assert rescan.job_name == "landing_scan_job" and rescan.run_key != scan.run_key
    assert _execute(zone, rescan).success
    [reload], cursor = _tick(zone, cursor)
    assert reload.run_key == f"card_subway_time:{hourly.name}:{_etag(zone, hourly.name)}"
    assert reload.run_key != load.run_key
    assert _execute(zone, reload).success
    expected = _totals(corrected)
    assert expected["202002"][0] == _totals(hourly)["202002"][0] + 1000
    assert _mart(zone) == expected
    assert _tick(zone, cursor)[0] == [] and _manifests(zone) == []


def test_bad_unnamed_real_file_fails_its_scan_then_the_corrected_upload_loads(
    zone: Zone, tmp_path: Path
) -> None:
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    lines = source.read_bytes().split(b"\n")
    lines[5] = lines[5].rsplit(b",", 2)[0]  # line 6 loses its last two fields
    bad = tmp_path / HOURLY_FILE_NAME
    bad.write_bytes(b"\n".join(lines))
    zone.upload(bad)
    [scan], cursor = _tick(zone, None)
    failed = _execute(zone, scan)
    assert not failed.success
    [failure] = failed.get_step_failure_events()
    error = failure.step_failure_data.error
    assert error is not None
    assert f"{HOURLY_FILE_NAME}: line 6: expected" in error.message
    assert _manifests(zone) == []
    assert _tick(zone, cursor)[0] == []  # no retry of the same content every tick
    # The ELT log mirrors asset steps; a scan run has none, so it adds no row. The failed
    # run's alert quotes the step's error (the file and line), not only the job's name.
    with psycopg.connect(zone.mart_dsn) as conn:
        assert mirror_run(zone.instance, failed.run_id, conn) == 0
    run = zone.instance.get_run_by_id(failed.run_id)
    assert run is not None
    alert = build_alert(zone.instance, run, "Steps failed: ['scan_landing_file'].", AlertChannels())
    assert alert.subject == "[subway_platform] run failed: landing_scan_job"
    assert f"- scan_landing_file: {HOURLY_FILE_NAME}: line 6: expected" in alert.text

    zone.upload(source, HOURLY_FILE_NAME)
    [rescan], cursor = _tick(zone, cursor)
    assert rescan.job_name == "landing_scan_job" and rescan.run_key != scan.run_key
    scanned = _execute(zone, rescan)
    assert scanned.success and _scan_metadata(scanned)["months"] == ["202210"]
    [load], cursor = _tick(zone, cursor)
    assert load.partition_key == "202210" and load.job_name == "hourly_passengers_job"
    assert _execute(zone, load).success
    assert _mart(zone) == _totals(source)


def test_manifest_of_a_replaced_file_is_dropped(
    zone: Zone, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file replaced between its scan and the next tick: the old scan's months are not
    loaded (the file no longer has that content); the new content gets its own scan."""
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    zone.upload(source, HOURLY_FILE_NAME)
    [scan], cursor = _tick(zone, None)
    assert _execute(zone, scan).success
    files = write_sample_files(tmp_path, ["202001"], scale=0.1)
    zone.upload(next(f for f in files if f.name == HOURLY_FILE_NAME))
    with caplog.at_level(logging.WARNING):
        requests, cursor = _tick(zone, cursor, caplog.handler)
    assert [r.job_name for r in requests] == ["landing_scan_job"]
    assert requests[0].run_key != scan.run_key
    assert "was replaced after its scan" in caplog.text
    assert _manifests(zone) == []

    # A scan run of content that was replaced before it ran scans nothing.
    stale = _execute(zone, scan)
    assert stale.success and "replaced since the request" in str(_scan_metadata(stale)["skipped"])
    assert _manifests(zone) == []
    assert _execute(zone, requests[0]).success
    [load], _ = _tick(zone, cursor)
    assert load.partition_key == "202001"


def _landing_gets(services: RunningServices, zone: Zone, name: str) -> int:
    """GET requests for the landing file ``name`` in moto's request log (its server logs
    every request it answers): how often the file's bytes left the landing zone."""
    bucket, _, prefix = zone.landing.removeprefix("s3://").partition("/")
    wanted = f"/{bucket}/{prefix}/{name}"
    log = (services.state_dir / "logs" / "moto.log").read_text(encoding="utf-8", errors="replace")
    paths = re.findall(r'"GET (\S+) HTTP/[0-9.]+"', log)
    return sum(1 for path in paths if unquote(path.split("?", 1)[0]) == wanted)


def _source_files(result: dg.ExecuteInProcessResult) -> list[dict[str, object]]:
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("bronze__card_subway_time")
        if "source/files" in m.metadata
    ]
    files = materialization.metadata["source/files"].value
    assert isinstance(files, list)
    return files


def test_real_unnamed_file_is_read_from_landing_once_per_content(
    zone: Zone, services: RunningServices, tmp_path: Path
) -> None:
    """Issue 23 item 3: the load reuses its scan's staged copy (same content tag), so the
    landing file is downloaded once per content, counted on the S3 server; a replaced file
    (same name, new bytes) is staged anew and its new figures load."""
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    zone.upload(source, HOURLY_FILE_NAME)
    before = _landing_gets(services, zone, HOURLY_FILE_NAME)
    [scan], cursor = _tick(zone, None)
    scanned = _execute(zone, scan)
    assert scanned.success
    read_by_scan = _landing_gets(services, zone, HOURLY_FILE_NAME) - before
    assert read_by_scan == 1
    copies = zone.keys(f"{zone.lake}/_staging/scanned")
    assert sorted(name.rsplit(".", 1)[1] for name in copies) == ["csv", "json", "parquet"]

    [load], cursor = _tick(zone, cursor)
    loaded = _execute(zone, load)
    assert loaded.success
    assert _landing_gets(services, zone, HOURLY_FILE_NAME) - before == read_by_scan  # no read
    [file] = _source_files(loaded)
    assert file["staged_by_run"] == scanned.run_id and file["checksum"] == _sha256(source)
    assert _mart(zone) == _totals(source)
    assert zone.keys(zone.archive) == [HOURLY_FILE_NAME]
    assert (zone.s3.get_object(Bucket="subway", Key=_archive_key(zone))["Body"].read()) == (
        source.read_bytes()
    )
    assert zone.keys(f"{zone.lake}/_staging/scanned") == []  # dropped once archived

    # Same name, new content: its own scan reads it once, its load reads it not at all.
    header, *data = _rows(source)
    data[0][3] = str(int(float(data[0][3])) + 777)
    corrected = tmp_path / HOURLY_FILE_NAME
    _write_rows(corrected, [header, *data])
    zone.upload(corrected)
    before = _landing_gets(services, zone, HOURLY_FILE_NAME)
    [rescan], cursor = _tick(zone, cursor)
    rescanned = _execute(zone, rescan)
    assert rescanned.success
    [reload], cursor = _tick(zone, cursor)
    reloaded = _execute(zone, reload)
    assert reloaded.success
    assert _landing_gets(services, zone, HOURLY_FILE_NAME) - before == 1
    [file] = _source_files(reloaded)
    assert file["staged_by_run"] == rescanned.run_id
    assert file["checksum"] == _sha256(corrected)
    expected = _totals(corrected)
    assert expected["202210"][0] == _totals(source)["202210"][0] + 777
    assert _mart(zone) == expected


def test_file_replaced_after_its_scan_is_staged_anew_by_its_load(
    zone: Zone, services: RunningServices, tmp_path: Path
) -> None:
    """A staged copy serves only the content it was made from: a file replaced between its
    scan and its load is downloaded and staged by bronze, which loads the new figures."""
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    zone.upload(source, HOURLY_FILE_NAME)
    [scan], cursor = _tick(zone, None)
    assert _execute(zone, scan).success
    [load], cursor = _tick(zone, cursor)
    header, *data = _rows(source)
    data[1][4] = str(int(float(data[1][4])) + 5)
    replaced = tmp_path / HOURLY_FILE_NAME
    _write_rows(replaced, [header, *data])
    zone.upload(replaced)
    before = _landing_gets(services, zone, HOURLY_FILE_NAME)
    loaded = _execute(zone, load)
    assert loaded.success
    assert _landing_gets(services, zone, HOURLY_FILE_NAME) - before == 1
    [file] = _source_files(loaded)
    assert file["staged_by_run"] == loaded.run_id and file["checksum"] == _sha256(replaced)
    assert _mart(zone) == _totals(replaced) != _totals(source)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _archive_key(zone: Zone) -> str:
    return f"{zone.archive.removeprefix('s3://subway/')}/{HOURLY_FILE_NAME}"


def test_staged_copy_of_a_file_removed_before_its_load_is_dropped(
    zone: Zone, caplog: pytest.LogCaptureFixture
) -> None:
    """A scanned file deleted from landing by hand: the next tick drops its manifest and the
    scan's staged copy (nothing would ever load it)."""
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    url = zone.upload(source, HOURLY_FILE_NAME)
    [scan], cursor = _tick(zone, None)
    assert _execute(zone, scan).success
    assert len(zone.keys(f"{zone.lake}/_staging/scanned")) == 3
    bucket, _, key = url.removeprefix("s3://").partition("/")
    zone.s3.delete_object(Bucket=bucket, Key=key)
    with caplog.at_level(logging.WARNING):
        requests, _ = _tick(zone, cursor, caplog.handler)
    assert requests == []
    assert "has left the landing zone" in caplog.text
    assert _manifests(zone) == [] and zone.keys(f"{zone.lake}/_staging/scanned") == []
