"""What a landing sensor tick imports, in a fresh process: neither Spark nor Delta nor
Arrow. Listing an S3 landing zone needs boto3 (botocore's client; its import is paid once
per code server process, on the first S3 tick); a local landing directory needs none. A
file whose name gives no month gets a scan run, not a read in the tick; a scan's manifest
is read as JSON."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from subway_platform_tests.structure.probe import HEAVY, config_env, run_probe

_TICK = """
import json, sys
import dagster as dg
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.sensors import LandingSensorSettings, landing_sensor

with dg.DagsterInstance.ephemeral() as instance, dg.build_sensor_context(
    instance=instance,
    resources={{
        "landing": LandingZone(landing_url={landing!r}, archive_url={archive!r}, lake_url={lake!r},
                               storage=object_storage_from_environment()),
        "landing_sensor_settings": LandingSensorSettings(settle_seconds=0),
    }},
) as context:
    result = landing_sensor(context)
print(json.dumps({{
    "requests": [(r.job_name, r.partition_key) for r in result.run_requests or []],
    "ranges": [
        r.tags.get("dagster/asset_partition_range_start", "")
        + "-"
        + r.tags.get("dagster/asset_partition_range_end", "")
        for r in result.run_requests or []
    ],
    "imported": [m for m in {heavy!r} if m in sys.modules],
}}))
"""

_FILE = "CARD_SUBWAY_MONTH_201907.csv"


def test_local_landing_tick_imports_no_heavy_library(tmp_path: Path) -> None:
    env = config_env(tmp_path)
    (tmp_path / "landing" / _FILE).write_text(
        "사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n"
    )
    report = run_probe(
        _TICK.format(
            landing=env["SUBWAY_LANDING_URL"],
            archive=env["SUBWAY_ARCHIVE_URL"],
            lake=env["SUBWAY_LAKE_URL"],
            heavy=HEAVY,
        ),
        env,
    )
    assert report["requests"] == [["daily_passengers_job", "201907"]]
    assert report["imported"] == []


def test_s3_landing_tick_imports_boto3_only(services: Any, s3_client: Any, tmp_path: Path) -> None:
    """On S3 the tick lists through boto3; Spark, Delta and Arrow stay out."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    s3_client.put_object(Bucket="subway", Key=f"{prefix}/landing/{_FILE}", Body=b"x\n")
    env = {**config_env(tmp_path), **services.env}
    report = run_probe(
        _TICK.format(
            landing=f"s3://subway/{prefix}/landing",
            archive=f"s3://subway/{prefix}/archive",
            lake=str(tmp_path / "lake"),
            heavy=HEAVY,
        ),
        env,
    )
    assert report["requests"] == [["daily_passengers_job", "201907"]]
    assert sorted(report["imported"]) == ["boto3", "botocore"]


_HOURLY = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv"


def test_tick_of_a_file_without_month_or_with_a_scan_manifest_imports_nothing_heavy(
    tmp_path: Path,
) -> None:
    """A multi-month file whose name gives no month: one scan run, the file unread (its
    bytes are not even a valid CSV here). Then, with a scan manifest for it in the lake:
    the load of the manifest's months. Neither tick imports Arrow, Spark or Delta."""
    from subway_platform.landing_scan import ScanManifest, manifest_url
    from subway_platform.resources.landing import LandingZone
    from subway_platform.resources.storage import ObjectStorage, sha256_file

    env = config_env(tmp_path)
    hourly = tmp_path / "landing" / _HOURLY
    hourly.write_bytes(b"not read by the tick\n")
    tick = _TICK.format(
        landing=env["SUBWAY_LANDING_URL"],
        archive=env["SUBWAY_ARCHIVE_URL"],
        lake=env["SUBWAY_LAKE_URL"],
        heavy=HEAVY,
    )
    report = run_probe(tick, env)
    assert report["requests"] == [["landing_scan_job", None]]
    assert report["imported"] == []

    etag = sha256_file(hourly)
    manifest = ScanManifest(
        dataset="card_subway_time",
        file_name=_HOURLY,
        file_url=str(hourly),
        etag=etag,
        months={"202208": 10, "202209": 12},
        rows=22,
        checksum=etag,
        encoding="cp949",
        run_id="r1",
        scanned_at="2026-11-29T00:00:00+00:00",
    )
    landing = LandingZone(
        landing_url=env["SUBWAY_LANDING_URL"],
        archive_url=env["SUBWAY_ARCHIVE_URL"],
        lake_url=env["SUBWAY_LAKE_URL"],
        storage=ObjectStorage(),
    )
    url = manifest_url(landing, manifest.dataset, manifest.file_url, etag)
    landing.storage.write_bytes(url, manifest.to_json())
    report = run_probe(tick, env)
    # The load of the two months (the file itself, unseen by this fresh cursor, asks
    # for its scan again: the same run key, which Dagster launches once).
    assert report["requests"] == [["hourly_passengers_job", None], ["landing_scan_job", None]]
    assert report["ranges"] == ["202208-202209", "-"]
    assert report["imported"] == []
