"""Where landing files arrive, where they are archived, and where staged copies go."""

from pathlib import Path

import dagster as dg

from subway_platform.datasets import DatasetSpec
from subway_platform.partitions import InvalidPartitionKey, validate_month
from subway_platform.resources.storage import ObjectStorage, StoredObject, join_url

_MAX_NAME = 200


def safe_file_name(name: str) -> bool:
    """A landing file name we accept: a plain base name, no path tricks, bounded length."""
    return (
        0 < len(name) <= _MAX_NAME
        and "/" not in name
        and "\\" not in name
        and name not in (".", "..")
        and not name.startswith(".")
        and all(ch.isprintable() for ch in name)
        and ".." not in name
    )


def _declares_valid_month(spec: DatasetSpec, name: str) -> bool:
    """False when the name declares a month that is not six ASCII digits ``YYYYMM``."""
    month = spec.file_month(name)
    if month is None:
        return True
    try:
        validate_month(month)
    except InvalidPartitionKey:
        return False
    return True


class LandingZone(dg.ConfigurableResource):
    """The landing zone (``SUBWAY_LANDING_URL``), archive (``SUBWAY_ARCHIVE_URL``) and the
    lake root (``SUBWAY_LAKE_URL``) whose ``_staging/`` holds normalised copies of files
    while a run reads them."""

    landing_url: str
    archive_url: str
    lake_url: str
    storage: dg.ResourceDependency[ObjectStorage]
    reload_unchanged: bool = False
    """Load every month asked for, even one unchanged since its valid load
    (``SUBWAY_RELOAD_UNCHANGED=true``; the benchmarks, or a process that must reload). A
    run's ``subway/force=true`` tag does the same for that run alone."""

    def staging_url(self, run_id: str, *parts: str) -> str:
        return join_url(self.lake_url, "_staging", run_id, *parts)

    def files_for(self, spec: DatasetSpec) -> list[tuple[StoredObject, bool]]:
        """Files of a data set in the landing zone and the archive: (file, in_archive).

        Landing files come first; an archived file whose name is also in landing is
        superseded by the landing copy (a re-upload).
        """
        found: list[tuple[StoredObject, bool]] = []
        seen: set[str] = set()
        for url, archived in ((self.landing_url, False), (self.archive_url, True)):
            for obj in self.storage.list(url):
                if not safe_file_name(obj.name) or not spec.match_file(obj.name):
                    continue
                if not _declares_valid_month(spec, obj.name):
                    # e.g. full-width digits, which the patterns' \d also matches.
                    continue
                if obj.name in seen:
                    continue
                seen.add(obj.name)
                found.append((obj, archived))
        return found

    def archive(self, obj: StoredObject, local_copy: Path | None = None) -> str:
        """Move a landing file to the archive (copy, verify, then delete); return its new URL.

        ``local_copy``: the bytes that were loaded, already on local disk (no second download).
        """
        dest = join_url(self.archive_url, obj.name)
        self.storage.move(obj.url, dest, local_copy=local_copy)
        return dest
