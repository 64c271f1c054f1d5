"""The landing scan: which months a landing file holds when its name does not say.

The portal's hourly file (``서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv``) holds many
months under one name. Reading it to find them is a run, not work for a sensor tick: the
landing sensor requests one run of ``landing_scan_job`` per such file and content tag; the
run downloads the file once, stages it (the same validation as bronze: a bad file fails
here, with its file, line and field named), keeps the staged copy for bronze
(``staged_copies``: bronze reads no landing file twice) and writes a small JSON manifest in
the lake, ``_staging/scans/<data set>-<hash>.json``. The next tick reads the manifest (a
listing and a few small reads), checks the file is still in landing with the same content tag, and
requests the load of the months found, under the same run key as a file whose name gives
its month: exactly once per file content.

Nothing here imports Arrow, Spark or Delta at module level: the sensor imports this module.
"""

import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from subway_platform.datasets import DatasetSpec, dataset_for_file, dataset_named
from subway_platform.partitions import validate_month
from subway_platform.resources.landing import LandingZone, safe_file_name
from subway_platform.resources.storage import StoredObject, join_url
from subway_platform.retries import retry_transient
from subway_platform.staged_copies import save_copy
from subway_platform.tags import (
    DATASET_TAG,
    KIND_TAG,
    SOURCE_ETAG_TAG,
    SOURCE_ETAG_TAG_MAX,
    SOURCE_FILE_TAG,
    SOURCE_FILE_TAG_MAX,
    SOURCE_URL_TAG,
)

SCAN_JOB_NAME = "landing_scan_job"
SCANS_PREFIX = ("_staging", "scans")
"""Where manifests live under the lake root (``SUBWAY_LAKE_URL``)."""


class ScanRequestError(ValueError):
    """A scan run whose tags do not name a landing file of a monthly data set."""


@dataclass(frozen=True)
class ScanManifest:
    """What a scan found in one landing file (one content tag)."""

    dataset: str
    file_name: str
    file_url: str
    etag: str
    """The content tag the file had when it was scanned (S3 ETag or local SHA-256)."""
    months: dict[str, int]
    """Month ``YYYYMM`` -> rows of that month."""
    rows: int
    checksum: str
    """SHA-256 of the bytes scanned."""
    encoding: str
    run_id: str
    scanned_at: str

    @property
    def month_list(self) -> list[str]:
        return sorted(self.months)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes) -> "ScanManifest":
        """Read a manifest; ``ValueError`` (or ``InvalidPartitionKey``) if it is not one."""
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("a scan manifest is a JSON object")
        months = data.get("months")
        if not isinstance(months, dict) or not all(isinstance(v, int) for v in months.values()):
            raise ValueError("a scan manifest's months map each month to its row count")
        texts = ("dataset", "file_name", "file_url", "etag", "checksum", "encoding", "run_id")
        for name in (*texts, "scanned_at"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"a scan manifest's {name} is text")
        if not isinstance(data.get("rows"), int):
            raise ValueError("a scan manifest's rows is a count")
        return cls(
            dataset=data["dataset"],
            file_name=data["file_name"],
            file_url=data["file_url"],
            etag=data["etag"],
            months={validate_month(m): n for m, n in months.items()},
            rows=data["rows"],
            checksum=data["checksum"],
            encoding=data["encoding"],
            run_id=data["run_id"],
            scanned_at=data["scanned_at"],
        )


def scans_url(landing: LandingZone) -> str:
    """The folder of scan manifests in the lake."""
    return join_url(landing.lake_url, *SCANS_PREFIX)


def manifest_url(landing: LandingZone, dataset: str, file_url: str, etag: str) -> str:
    """One manifest per data set, file and content tag; the name is safe on any storage."""
    digest = hashlib.sha256(f"{file_url}\n{etag}".encode()).hexdigest()[:32]
    return join_url(scans_url(landing), f"{dataset}-{digest}.json")


def needs_scan(spec: DatasetSpec, file_name: str) -> bool:
    """True for a monthly data set's file whose name declares no month."""
    return spec.partitioned and spec.file_month(file_name) is None


def scan_request(spec: DatasetSpec, obj: StoredObject) -> dg.RunRequest:
    """One run of ``landing_scan_job`` for one file content (run key ``scan:…``)."""
    return dg.RunRequest(
        run_key=f"scan:{spec.name}:{obj.name}:{obj.etag}",
        job_name=SCAN_JOB_NAME,
        tags={
            SOURCE_FILE_TAG: obj.name[:SOURCE_FILE_TAG_MAX],
            SOURCE_ETAG_TAG: obj.etag[:SOURCE_ETAG_TAG_MAX],
            SOURCE_URL_TAG: obj.url,
            DATASET_TAG: spec.name,
        },
    )


@dataclass(frozen=True)
class ScanTarget:
    """The file a scan run was requested for, from its run tags."""

    spec: DatasetSpec
    url: str
    name: str
    etag: str | None
    """None: scan whatever content the file has now (a run launched by hand)."""

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], landing: LandingZone) -> "ScanTarget":
        name = tags.get(SOURCE_FILE_TAG, "")
        dataset = tags.get(DATASET_TAG, "")
        if not name or not dataset:
            raise ScanRequestError(
                f"a {SCAN_JOB_NAME} run needs the tags {SOURCE_FILE_TAG} (the landing file's "
                f"name) and {DATASET_TAG} (its data set); the landing sensor sets them"
            )
        try:
            spec = dataset_named(dataset)
        except KeyError as err:
            raise ScanRequestError(str(err.args[0])) from None
        if not safe_file_name(name) or dataset_for_file(name) != spec:
            raise ScanRequestError(f"{name!r} is not a file name of data set {spec.name}")
        if not needs_scan(spec, name):
            raise ScanRequestError(
                f"{name}: nothing to scan (the name declares its month, or {spec.name} is "
                "not monthly); the landing sensor loads such files directly"
            )
        url = tags.get(SOURCE_URL_TAG) or join_url(landing.landing_url, name)
        prefix = landing.landing_url.rstrip("/") + "/"
        if not url.startswith(prefix) or url.rsplit("/", 1)[-1] != name or ".." in url:
            raise ScanRequestError(f"{SOURCE_URL_TAG} is not {name} in the landing zone")
        return cls(spec=spec, url=url, name=name, etag=tags.get(SOURCE_ETAG_TAG) or None)


def scan_file(
    target: ScanTarget, obj: StoredObject, landing: LandingZone, run_id: str
) -> ScanManifest:
    """Download and stage the file (raises ``LandingFileError`` for a bad one), and keep the
    raw bytes and the staged copy in the lake for bronze (``staged_copies``): the file is
    read from the landing zone once per content."""
    # Staging (pyarrow) is imported by the run only, never by the sensor.
    from subway_platform.ingest.stage import stage_landing_file

    with tempfile.TemporaryDirectory(prefix="subway_scan_") as tmp:
        local = landing.storage.download(obj.url, Path(tmp) / "file.csv")
        staged = stage_landing_file(
            local, Path(tmp) / "staged.parquet", file_name=obj.name, spec=target.spec
        )
        save_copy(landing, target.spec.name, obj, local, staged, run_id)
    return ScanManifest(
        dataset=target.spec.name,
        file_name=obj.name,
        file_url=obj.url,
        etag=obj.etag,
        months={validate_month(m): n for m, n in sorted(staged.months.items())},
        rows=staged.rows,
        checksum=staged.checksum,
        encoding=staged.encoding,
        run_id=run_id,
        scanned_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


@dg.op(
    name="scan_landing_file",
    out=dg.Out(dg.Nothing),
    description="Downloads the landing file named by the run's tags once, stages it (encoding, "
    "layout and rows checked as bronze does; a bad file fails here with its file, line and "
    "field), keeps the staged copy under the lake's _staging/scanned/ (bronze loads it "
    "instead of reading the file again) and writes the months it holds to a manifest under "
    "_staging/scans/. The landing sensor's next tick requests the load of those months.",
)
def scan_landing_file(
    context: dg.OpExecutionContext, landing: LandingZone
) -> Iterator[dg.Output[None]]:
    from subway_platform.ingest.errors import LandingFileError

    try:
        target = ScanTarget.from_tags(context.run.tags, landing)
    except ScanRequestError as err:
        raise dg.Failure(str(err)) from None
    with retry_transient(context):
        obj = landing.storage.stat(target.url)
    skipped = None
    if obj is None:
        skipped = "no longer in the landing zone (loaded or removed since the request)"
    elif target.etag is not None and obj.etag[:SOURCE_ETAG_TAG_MAX] != target.etag:
        skipped = "replaced since the request (the new upload gets its own scan)"
    if obj is None or skipped is not None:
        context.log.warning(f"{target.name}: {skipped}: nothing scanned")
        yield dg.Output(None, metadata={"file": target.name, "skipped": skipped})
        return
    try:
        with retry_transient(context):
            manifest = scan_file(target, obj, landing, context.run_id)
    except LandingFileError as err:
        raise dg.Failure(str(err)) from None
    url = manifest_url(landing, manifest.dataset, manifest.file_url, manifest.etag)
    with retry_transient(context):
        landing.storage.write_bytes(url, manifest.to_json())
    context.log.info(
        f"{manifest.file_name}: {manifest.rows} rows, months {', '.join(manifest.month_list)}; "
        "the landing sensor requests their load on its next tick"
    )
    yield dg.Output(
        None,
        metadata={
            "file": manifest.file_name,
            "dataset": manifest.dataset,
            "etag": manifest.etag,
            "months": dg.MetadataValue.json(manifest.month_list),
            "rows_per_month": dg.MetadataValue.json(manifest.months),
            "rows": manifest.rows,
            "encoding": manifest.encoding,
            "manifest": url,
        },
    )


@dg.job(
    name=SCAN_JOB_NAME,
    description="Finds the months of a landing file whose name does not say them (the hourly "
    "portal file holds many). Requested by the landing sensor, once per file content; the "
    "sensor then requests the load of the months found.",
    tags={KIND_TAG: "landing_scan"},
)
def landing_scan_job() -> None:
    scan_landing_file()


__all__ = [
    "SCAN_JOB_NAME",
    "ScanManifest",
    "landing_scan_job",
    "manifest_url",
    "needs_scan",
    "scan_request",
    "scans_url",
]
