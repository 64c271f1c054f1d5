"""The landing sensor: a new or changed CSV in the landing zone requests a run for its months.

A file is identified by its path and content tag (S3 ETag, or SHA-256 of a local file), so
an identical re-upload does nothing and a corrected upload reloads its month(s). Run keys
carry the same identity, so even a reset cursor cannot load a file twice. Each tick lists
at most ``max_files_per_tick`` files, resuming where the last tick stopped; a complete pass
forgets files that have left the landing zone (they were archived after their load).

S3 lists only completed uploads (a multipart upload appears when it completes), so a
half-written object is never seen. In a local landing directory, names starting with
``.`` or ending in ``.part``/``.tmp`` are in flight and files younger than
``settle_seconds`` are left for a later tick.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from subway_platform.datasets import DatasetSpec, dataset_for_file
from subway_platform.ingest.errors import LandingFileError
from subway_platform.jobs import DATASET_JOBS
from subway_platform.partitions import InvalidPartitionKey, validate_month
from subway_platform.resources.landing import LandingZone, safe_file_name
from subway_platform.resources.storage import StoredObject, is_s3

IN_FLIGHT_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


@dataclass
class LandingCursor:
    """Where the listing stopped, which files (url -> content tag) were already requested,
    and which files the current pass has listed so far."""

    after: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    this_pass: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> "LandingCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            after=data.get("after"),
            seen=dict(data.get("seen", {})),
            this_pass=list(data.get("this_pass", [])),
        )

    def dump(self) -> str:
        return json.dumps(
            {"after": self.after, "seen": self.seen, "this_pass": self.this_pass},
            ensure_ascii=False,
        )


def file_months(spec: DatasetSpec, obj: StoredObject, landing: LandingZone) -> list[str]:
    """Months a file holds: from its name when the name says, else from its rows."""
    named = spec.file_month(obj.name)
    if named is not None:
        return [validate_month(named)]
    if not spec.partitioned:
        return []
    # Staging (pyarrow) is imported only for the rare file whose name gives no month.
    from subway_platform.ingest.stage import stage_landing_file

    with tempfile.TemporaryDirectory(prefix="subway_sensor_") as tmp:
        local = landing.storage.download(obj.url, Path(tmp) / "file.csv")
        staged = stage_landing_file(
            local, Path(tmp) / "staged.parquet", file_name=obj.name, spec=spec
        )
    return sorted(validate_month(m) for m in staged.months)


def run_request_for(spec: DatasetSpec, obj: StoredObject, months: list[str]) -> dg.RunRequest:
    """One run for a file: its month, its months as one single-run range, or a full refresh."""
    identity = f"{spec.name}:{obj.name}:{obj.etag}"
    tags = {"subway/source_file": obj.name[:200], "subway/source_etag": obj.etag[:64]}
    if not months:
        return dg.RunRequest(
            run_key=identity,
            job_name=spec.job_name,
            tags={**tags, "subway/lock": spec.name},
        )
    if len(months) == 1:
        return dg.RunRequest(
            run_key=identity,
            job_name=spec.job_name,
            partition_key=months[0],
            tags={**tags, "subway/lock": f"{spec.name}:{months[0]}"},
        )
    return dg.RunRequest(
        run_key=identity,
        job_name=spec.job_name,
        tags={
            **tags,
            "dagster/asset_partition_range_start": months[0],
            "dagster/asset_partition_range_end": months[-1],
            "subway/lock": f"{spec.name}:{months[0]}-{months[-1]}",
        },
    )


def evaluate_landing(
    context: dg.SensorEvaluationContext, landing: LandingZone, max_files: int, settle_seconds: float
) -> dg.SensorResult:
    """List one page of the landing zone and request runs for new or changed files."""
    cursor = LandingCursor.parse(context.cursor)
    listed = list(
        landing.storage.list(landing.landing_url, start_after=cursor.after, limit=max_files)
    )
    requests: list[dg.RunRequest] = []
    now = datetime.now(timezone.utc)
    for obj in listed:
        cursor.this_pass.append(obj.url)
        reason = _ignore_reason(obj, now, settle_seconds)
        spec = None if reason else dataset_for_file(obj.name)
        if reason is None and spec is None:
            reason = "matches no data set's file pattern"
        if reason is not None:
            context.log.info(f"landing sensor ignored {obj.name!r}: {reason}")
            if "younger" in reason:
                cursor.this_pass.pop()  # look again next pass
            continue
        assert spec is not None
        if cursor.seen.get(obj.url) == obj.etag:
            continue
        try:
            months = file_months(spec, obj, landing)
        except (LandingFileError, InvalidPartitionKey) as err:
            # The run would fail the same way; record the file so it is not retried
            # every tick, and say why. A corrected upload has a new tag and is picked up.
            context.log.warning(f"landing sensor: {err}")
            cursor.seen[obj.url] = obj.etag
            continue
        requests.append(run_request_for(spec, obj, months))
        cursor.seen[obj.url] = obj.etag
    if len(listed) < max_files:
        # A complete pass: forget files that have left the landing zone, start over.
        present = set(cursor.this_pass)
        cursor.seen = {url: tag for url, tag in cursor.seen.items() if url in present}
        cursor.after, cursor.this_pass = None, []
    else:
        cursor.after = listed[-1].url
    return dg.SensorResult(run_requests=requests, cursor=cursor.dump())


def _ignore_reason(obj: StoredObject, now: datetime, settle_seconds: float) -> str | None:
    if not safe_file_name(obj.name):
        return "unsafe file name (path characters, hidden, too long or unprintable)"
    if obj.name.lower().endswith(IN_FLIGHT_SUFFIXES):
        return "upload in progress"
    if not obj.name.lower().endswith(".csv"):
        return "not a .csv file"
    if not is_s3(obj.url) and (now - obj.modified).total_seconds() < settle_seconds:
        return f"younger than {settle_seconds:.0f} s (still being written?)"
    return None


class LandingSensorSettings(dg.ConfigurableResource):
    """Bounds of one landing-sensor tick."""

    max_files_per_tick: int = 500
    settle_seconds: float = 10.0


@dg.sensor(
    name="landing_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=list(DATASET_JOBS.values()),
    description="Watches SUBWAY_LANDING_URL for new or changed CSV files and requests a run "
    "of the matching data set's job for the months each file holds (exactly once per "
    "file content).",
)
def landing_sensor(
    context: dg.SensorEvaluationContext,
    landing: LandingZone,
    landing_sensor_settings: LandingSensorSettings,
) -> dg.SensorResult:
    return evaluate_landing(
        context,
        landing,
        landing_sensor_settings.max_files_per_tick,
        landing_sensor_settings.settle_seconds,
    )
