"""The landing sensor: a new or changed CSV in the landing zone requests a run for its months.

A file is identified by its path and content tag (S3 ETag, or SHA-256 of a local file), so
an identical re-upload does nothing and a corrected upload reloads its month(s). Run keys
carry the same identity, so even a reset cursor cannot load a file twice. Each tick lists
at most ``max_files_per_tick`` files, resuming where the last tick stopped; a complete pass
forgets files that have left the landing zone (they were archived after their load).

A tick only lists files and compares their tags; it never reads a file. A file whose name
gives its month (or of an unpartitioned data set) gets its load run at once. A monthly
data set's file whose name gives none (the hourly portal file holds many months) gets one
run of ``landing_scan_job`` (``landing_scan.py``), which finds its months and leaves a
manifest in the lake; a later tick reads the manifest and requests the load of those
months under the same run key, and deletes the manifest on the tick after that.

Each load it requests is also recorded as an observation of the data set's landing source
asset (``landing_assets.py``), one per month, with the file's content tag as data
version: the UI shows the month's bronze, gold and mart stale from that tick on, until
the load has run. A file whose name gives no month is observed when its scan's manifest
gives its months. An identical re-upload is neither requested nor observed again.

S3 lists only completed uploads (a multipart upload appears when it completes), so a
half-written object is never seen. In a local landing directory, names starting with
``.`` or ending in ``.part``/``.tmp`` are in flight and files younger than
``settle_seconds`` are left for a later tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg

from subway_platform.datasets import DatasetSpec, dataset_for_file, dataset_named
from subway_platform.jobs import DATASET_JOBS
from subway_platform.landing_assets import observations
from subway_platform.landing_scan import (
    ScanManifest,
    landing_scan_job,
    needs_scan,
    scan_request,
    scans_url,
)
from subway_platform.partitions import InvalidPartitionKey, validate_month
from subway_platform.resources.landing import LandingZone, safe_file_name
from subway_platform.resources.storage import StoredObject, is_s3
from subway_platform.staged_copies import drop_copies
from subway_platform.tags import (
    LOCK_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    SOURCE_ETAG_TAG,
    SOURCE_ETAG_TAG_MAX,
    SOURCE_FILE_TAG,
    SOURCE_FILE_TAG_MAX,
)

IN_FLIGHT_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


@dataclass
class LandingCursor:
    """Where the listing stopped, which files (url -> content tag) were already requested,
    which files the current pass has listed so far, and the scan manifests whose load the
    last tick requested (deleted by the next tick, once that request is recorded)."""

    after: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    this_pass: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> "LandingCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            after=data.get("after"),
            seen=dict(data.get("seen", {})),
            this_pass=list(data.get("this_pass", [])),
            loads=list(data.get("loads", [])),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "after": self.after,
                "seen": self.seen,
                "this_pass": self.this_pass,
                "loads": self.loads,
            },
            ensure_ascii=False,
        )


def request_for_file(spec: DatasetSpec, obj: StoredObject) -> dg.RunRequest:
    """What a new or changed file gets: its load run when its name gives its month (or its
    data set is unpartitioned), else one scan run that finds its months (``landing_scan``).

    Raises ``InvalidPartitionKey`` when the name declares a month that is not ``YYYYMM``.
    """
    if needs_scan(spec, obj.name):
        return scan_request(spec, obj)
    named = spec.file_month(obj.name)
    return run_request_for(spec, obj, [validate_month(named)] if named is not None else [])


def run_request_for(spec: DatasetSpec, obj: StoredObject, months: list[str]) -> dg.RunRequest:
    """One run for a file: its month, its months as one single-run range, or a full refresh."""
    identity = f"{spec.name}:{obj.name}:{obj.etag}"
    tags = {
        SOURCE_FILE_TAG: obj.name[:SOURCE_FILE_TAG_MAX],
        SOURCE_ETAG_TAG: obj.etag[:SOURCE_ETAG_TAG_MAX],
    }
    if not months:
        return dg.RunRequest(
            run_key=identity,
            job_name=spec.job_name,
            tags={**tags, LOCK_TAG: spec.name},
        )
    if len(months) == 1:
        return dg.RunRequest(
            run_key=identity,
            job_name=spec.job_name,
            partition_key=months[0],
            tags={**tags, LOCK_TAG: f"{spec.name}:{months[0]}"},
        )
    return dg.RunRequest(
        run_key=identity,
        job_name=spec.job_name,
        tags={
            **tags,
            RANGE_START_TAG: months[0],
            RANGE_END_TAG: months[-1],
            LOCK_TAG: f"{spec.name}:{months[0]}-{months[-1]}",
        },
    )


def evaluate_landing(
    context: dg.SensorEvaluationContext, landing: LandingZone, max_files: int, settle_seconds: float
) -> dg.SensorResult:
    """Request the loads that finished scans found, then list one page of the landing
    zone and request runs for new or changed files. Reads no landing file."""
    cursor = LandingCursor.parse(context.cursor)
    seen_files: list[dg.AssetObservation] = []
    requests = scanned_loads(context, landing, cursor, max_files, seen_files)
    listed = list(
        landing.storage.list(landing.landing_url, start_after=cursor.after, limit=max_files)
    )
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
            request = request_for_file(spec, obj)
        except InvalidPartitionKey as err:
            # The run would fail the same way; record the file so it is not retried
            # every tick, and say why. A corrected upload has a new tag and is picked up.
            context.log.warning(f"landing sensor: {err}")
            cursor.seen[obj.url] = obj.etag
            continue
        requests.append(request)
        cursor.seen[obj.url] = obj.etag
        if not needs_scan(spec, obj.name):  # a scanned file is observed with its months
            named = spec.file_month(obj.name)
            seen_files += observations(
                spec, obj, [named] if named else [], run_key=request.run_key or ""
            )
    if len(listed) < max_files:
        # A complete pass: forget files that have left the landing zone, start over.
        present = set(cursor.this_pass)
        cursor.seen = {url: tag for url, tag in cursor.seen.items() if url in present}
        cursor.after, cursor.this_pass = None, []
    else:
        cursor.after = listed[-1].url
    return dg.SensorResult(run_requests=requests, asset_events=seen_files, cursor=cursor.dump())


def scanned_loads(
    context: dg.SensorEvaluationContext,
    landing: LandingZone,
    cursor: LandingCursor,
    limit: int,
    seen_files: list[dg.AssetObservation],
) -> list[dg.RunRequest]:
    """Load runs for the months that scan runs found: one listing of the manifests, one
    small read and one HEAD of the landing file per new manifest. Each month requested is
    appended to ``seen_files`` as an observation of its landing source.

    A manifest whose load the last tick requested is deleted now: the tick's cursor was
    recorded with its run requests, so that request is not lost if a tick fails between
    the two. Its run key is the file's (``run_request_for``), so a reset cursor that
    requests it again launches nothing twice.
    """
    requested_before = set(cursor.loads)
    cursor.loads = []
    requests: list[dg.RunRequest] = []
    listed = 0
    for item in landing.storage.list(scans_url(landing), limit=limit):
        listed += 1
        if item.url in requested_before:
            requested_before.discard(item.url)
            landing.storage.delete(item.url)
            continue
        request, problem = _load_for_manifest(landing, item, seen_files)
        if request is None:
            context.log.warning(f"landing sensor: scan manifest {item.name}: {problem}; removed")
            landing.storage.delete(item.url)
            continue
        requests.append(request)
        cursor.loads.append(item.url)
    if listed >= limit:  # not every manifest was listed: keep the rest for the next tick
        cursor.loads += sorted(requested_before)
    return requests


def _load_for_manifest(
    landing: LandingZone, item: StoredObject, seen_files: list[dg.AssetObservation]
) -> tuple[dg.RunRequest | None, str]:
    """The load run of a manifest's months (observed in ``seen_files``), or None and why
    there is none."""
    if not item.name.endswith(".json"):
        return None, "not a manifest (.json)"
    try:
        manifest = ScanManifest.parse(landing.storage.read_bytes(item.url))
        spec = dataset_named(manifest.dataset)
    except (ValueError, KeyError) as err:
        return None, f"unreadable ({err})"
    if not manifest.file_url.startswith(landing.landing_url.rstrip("/") + "/"):
        return None, f"{manifest.file_name} is not in the landing zone"
    obj = landing.storage.stat(manifest.file_url)
    if obj is None:
        # Removed by hand before its load: nothing will load the scan's staged copy.
        drop_copies(landing, manifest.dataset, manifest.file_url)
        return None, f"{manifest.file_name} has left the landing zone (loaded or removed)"
    if obj.etag != manifest.etag:
        return None, f"{manifest.file_name} was replaced after its scan (it gets its own scan)"
    if not manifest.months:
        return None, f"{manifest.file_name} holds no month"
    request = run_request_for(spec, obj, manifest.month_list)
    seen_files += observations(spec, obj, manifest.month_list, run_key=request.run_key or "")
    return request, ""


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


LANDING_SENSOR_INTERVAL_SECONDS = 1
"""Below the sensor daemon's own loop (a pass every 5 s), so that every pass ticks: a tick
lists one page of landing and reads no file, and an upload waits 2.5 s on average for its
tick instead of 15 (issue 23 item 4). At 5 s exactly, a pass that came a few milliseconds
early was skipped and the sensor ticked every 10 s."""


@dg.sensor(
    name="landing_sensor",
    minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[*DATASET_JOBS.values(), landing_scan_job],
    description="Watches SUBWAY_LANDING_URL for new or changed CSV files and requests a run "
    "of the matching data set's job for the months each file holds (exactly once per "
    "file content). A monthly file whose name gives no month first gets a landing_scan_job "
    "run, which finds its months; a later tick requests their load. Ticks read no file.",
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
