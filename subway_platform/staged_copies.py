"""The landing scan's staged copies: bronze loads them instead of staging a file again.

A landing file whose name gives no month is downloaded and staged by its scan run
(``landing_scan.py``). The run keeps what it made in the lake, under
``_staging/scanned/<data set>-<file digest>/<content digest>.{csv,parquet,json}``: the raw
bytes (what the archive receives), the staged Parquet file and the staging's facts
(checksum, encoding, rows and sums per month, layout), written last. The content digest
comes from the landing zone's content tag (S3 ETag, or SHA-256 of a local file), which
the facts record too. Bronze asks for the copy of the file's *current* tag: the same tag
means the same bytes, so it reads the staged Parquet file (its months only) and archives
the raw copy, and never downloads or stages the file again. A file replaced since (same
name, new tag) has no copy of its content and is staged anew. The file's folder goes
once bronze has archived the file; a new scan of the same name drops older contents'
copies.

Nothing here imports pyarrow at module level (the sensor imports ``landing_scan``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from subway_platform.resources.landing import LandingZone
from subway_platform.resources.storage import StoredObject, join_url

if TYPE_CHECKING:
    from subway_platform.ingest.stage import StagedFile

COPIES_PREFIX = ("_staging", "scanned")
"""Where staged copies live under the lake root (``SUBWAY_LAKE_URL``)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def copies_url(landing: LandingZone, dataset: str, file_url: str) -> str:
    """The folder of one landing file's staged copies (one per content tag)."""
    return join_url(landing.lake_url, *COPIES_PREFIX, f"{dataset}-{_digest(file_url)}")


def _base_url(landing: LandingZone, dataset: str, obj: StoredObject) -> str:
    return join_url(copies_url(landing, dataset, obj.url), _digest(obj.etag))


@dataclass(frozen=True)
class StagedCopy:
    """A landing file content staged by its scan run: where its parts are, and the facts."""

    etag: str
    """The landing zone's content tag of the bytes that were staged."""
    scan_run_id: str
    raw_url: str
    parquet_url: str
    staged: StagedFile
    """The staging's figures for all the file's months."""


def save_copy(
    landing: LandingZone,
    dataset: str,
    obj: StoredObject,
    raw: Path,
    staged: StagedFile,
    run_id: str,
) -> StagedCopy:
    """Keep the raw bytes, the staged Parquet file and the facts of ``obj``'s content; drop
    the copies of the file's older contents."""
    base = _base_url(landing, dataset, obj)
    copy = StagedCopy(
        etag=obj.etag,
        scan_run_id=run_id,
        raw_url=f"{base}.csv",
        parquet_url=f"{base}.parquet",
        staged=staged,
    )
    landing.storage.upload(raw, copy.raw_url)
    landing.storage.upload(staged.parquet_path, copy.parquet_url)
    facts = {"etag": obj.etag, "scan_run_id": run_id, "staged": staged.facts()}
    # The facts go last: a copy without them is unfinished and never used.
    landing.storage.write_bytes(f"{base}.json", json.dumps(facts, ensure_ascii=False).encode())
    for item in landing.storage.list(copies_url(landing, dataset, obj.url)):
        if not item.url.startswith(f"{base}."):
            landing.storage.delete(item.url)
    return copy


def find_copy(landing: LandingZone, dataset: str, obj: StoredObject) -> StagedCopy | None:
    """The staged copy of ``obj``'s current content (its tag), or None: one small read."""
    from subway_platform.ingest.stage import StagedFile

    base = _base_url(landing, dataset, obj)
    if not landing.storage.exists(f"{base}.json"):
        return None
    try:
        facts = json.loads(landing.storage.read_bytes(f"{base}.json").decode("utf-8"))
        staged = StagedFile.from_facts(facts["staged"], Path(f"{base}.parquet"))
        etag, scan_run_id = str(facts["etag"]), str(facts["scan_run_id"])
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: staging the file again is always correct
    if etag != obj.etag:
        return None
    return StagedCopy(
        etag=etag,
        scan_run_id=scan_run_id,
        raw_url=f"{base}.csv",
        parquet_url=f"{base}.parquet",
        staged=staged,
    )


def drop_copies(landing: LandingZone, dataset: str, file_url: str) -> None:
    """Delete every staged copy of a landing file (it was archived: loaded)."""
    landing.storage.delete_prefix(copies_url(landing, dataset, file_url))


__all__ = ["COPIES_PREFIX", "StagedCopy", "copies_url", "drop_copies", "find_copy", "save_copy"]
