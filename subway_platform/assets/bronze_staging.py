"""Bronze's staging: the landing (or archived) files that hold a step's months, staged.

Each month comes from one file: landing files before archived ones, newer before older,
so that a corrected upload wins. A file is downloaded, its encoding detected and its
layout checked, and it is written as Parquet in the run's staging area (``ingest``); a
landing file that its scan run already staged is not read again (``staged_copies.py``).
A requested month that no file holds, or whose own file is bad, fails the step.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.run_events import BAD_MONTHS_METADATA, GOOD_MONTHS_METADATA
from subway_platform.ingest.errors import LandingFileError
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.storage import StoredObject, is_s3
from subway_platform.staged_copies import StagedCopy, find_copy

if TYPE_CHECKING:
    from subway_platform.ingest.stage import StagedFile

Staged = tuple[StoredObject, bool, "StagedFile", str]
"""A staged file: the file, whether it came from the archive, the staging's figures (rows
per month, checksum, sums, columns) and the URL of its staged Parquet copy."""


def choose_files(
    spec: DatasetSpec, landing: LandingZone, months: list[str]
) -> list[tuple[StoredObject, bool]]:
    """Files that hold the step's months (by name where the name declares a month)."""
    files = landing.files_for(spec)
    if not spec.partitioned:
        landing_first = [f for f in files if not f[1]] or files
        # Station master: the newest upload is the truth.
        return sorted(landing_first, key=lambda f: f[0].modified)[-1:] if landing_first else []
    named = [f for f in files if spec.file_month(f[0].name) is not None]
    if named or not spec.wide_hours:
        chosen = [f for f in named if spec.file_month(f[0].name) in months]
        unnamed = [f for f in files if spec.file_month(f[0].name) is None]
        return chosen + unnamed
    return files


def raw_path(workdir: Path, obj: StoredObject) -> Path:
    """Where a landing or archived file is downloaded for the step (kept until archived)."""
    return workdir / "raw" / obj.name


def _reuse_copy(
    context: dg.AssetExecutionContext,
    copy: StagedCopy,
    obj: StoredObject,
    archived: bool,
    remaining: set[str],
) -> Staged | None:
    """The scan's staged copy of ``obj`` for the months still to load (None: it has none)."""
    result = copy.staged.only_months(remaining)
    if result.rows == 0:
        context.log.info(f"{obj.name}: no rows for the months still to load; not used")
        return None
    context.log.info(
        f"staged {obj.name} (landing, content {obj.etag}) by scan run "
        f"{copy.scan_run_id}: its staged copy is loaded, the file is not read again "
        f"({result.rows} rows, months {', '.join(sorted(result.months))})"
    )
    return (obj, archived, result, copy.parquet_url)


def _stage_download(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    landing: LandingZone,
    file: tuple[StoredObject, bool, str | None],
    workdir: Path,
    out: Path,
    months: list[str],
    remaining: set[str],
    bad_months: dict[str, str],
) -> Staged | None:
    """``file`` (object, archived, the month its name declares) downloaded and staged for
    the months still to load, its Parquet copy uploaded to the run's staging area. None
    when it holds none of them, or when it is the bad file of one month of a range (the
    month goes to ``bad_months`` and leaves ``remaining``)."""
    from subway_platform.ingest.stage import stage_landing_file

    obj, archived, file_month = file
    local = landing.storage.download(obj.url, raw_path(workdir, obj))
    try:
        result = stage_landing_file(
            local,
            out,
            file_name=obj.name,
            spec=spec,
            months=sorted(remaining) if spec.partitioned else None,
        )
    except LandingFileError as err:
        if file_month is None or file_month not in remaining or len(months) < 2:
            raise  # not tied to one month of a range: the whole step fails as before
        bad_months[file_month] = f"{file_month}: {err}"
        remaining.discard(file_month)
        context.log.error(f"month {file_month} not loaded: {err}")
        return None
    if spec.partitioned and result.rows == 0:
        context.log.info(f"{obj.name}: no rows for the months still to load; not used")
        return None
    url = landing.staging_url(context.run_id, spec.name, out.name)
    landing.storage.upload(out, url)
    context.log.info(
        f"staged {obj.name} ({'archive' if archived else 'landing'}, {result.encoding}, "
        f"{result.rows} rows, months {', '.join(sorted(result.months)) or '-'})"
    )
    return (obj, archived, result, url)


def stage_all(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    landing: LandingZone,
    months: list[str],
    workdir: Path,
    bad_months: dict[str, str],
    reused: dict[str, StagedCopy],
) -> list[Staged]:
    """Stage the files that hold the step's months, each month from one file.

    Landing files come before archived ones and newer before older, so a corrected upload
    wins over what was loaded before; a month already taken from one file is not read
    again from another (an hourly file may hold many months). In a range of months, a
    month whose own file (named for it) cannot be staged is put in ``bad_months`` (month ->
    reason naming it) and the other months are still staged, so that the step's failure
    can say which months were bad and which were fine. A landing file that its scan run
    staged is not downloaded: its staged copy (same content tag) is used for the months
    still to load, and put in ``reused`` (file URL -> copy).
    """
    staged: list[Staged] = []
    remaining = set(months)
    candidates = sorted(
        choose_files(spec, landing, months), key=lambda f: (f[1], -f[0].modified.timestamp())
    )
    for obj, archived in candidates:
        if spec.partitioned and not remaining:
            break
        file_month = spec.file_month(obj.name) if spec.partitioned else None
        if file_month is not None and file_month in bad_months:
            continue  # an older file must not stand in for the month's bad upload
        copy = None
        if spec.partitioned and file_month is None and not archived:
            copy = find_copy(landing, spec.name, obj)
        if copy is not None:
            entry = _reuse_copy(context, copy, obj, archived, remaining)
            if entry is not None:
                reused[obj.url] = copy
        else:
            out = workdir / "staged" / f"{len(staged):04d}.parquet"
            file = (obj, archived, file_month)
            entry = _stage_download(
                context, spec, landing, file, workdir, out, months, remaining, bad_months
            )
        if entry is not None:
            remaining -= set(entry[2].months)
            staged.append(entry)
    return staged


def raw_copy(landing: LandingZone, copy: StagedCopy, workdir: Path) -> Path | None:
    """The scan's raw copy as a local file for the archive (not the landing file again):
    the lake's own file when the lake is local, else downloaded from the lake when the
    archive is local; None when landing and archive are both S3 (a server-side copy)."""
    if not is_s3(copy.raw_url):
        return Path(copy.raw_url)
    if is_s3(landing.archive_url):
        return None
    return landing.storage.download(copy.raw_url, workdir / "raw_copy" / "file.csv")


def extra_columns(staged: list[Staged]) -> list[str]:
    """Columns the staged files have that the spec does not declare, sorted."""
    return sorted({c for *_, r, _u in staged for c in r.extra_columns})


def renamed_columns(staged: list[Staged]) -> dict[str, str]:
    """Headers of the staged files read under another name (header -> declared name)."""
    return {k: v for *_, r, _u in staged for k, v in r.renamed.items()}


def check_coverage(
    spec: DatasetSpec, months: list[str], staged: list[Staged], bad_months: dict[str, str]
) -> None:
    """Every requested month was found in some file and none was bad; else the step fails
    naming the bad months (and, for a range, carrying them and the good ones as metadata
    for the ELT log and the ``range_run_sensor``)."""
    if not spec.partitioned:
        if not staged:
            raise dg.Failure(f"no {spec.name} file in the landing zone or the archive")
        return
    found = {month for *_, result, _url in staged for month in result.months}
    missing = [m for m in months if m not in found and m not in bad_months]
    if missing and len(months) < 2:
        raise dg.Failure(
            f"no landing or archived {spec.name} file holds month(s) {', '.join(missing)}"
        )
    bad = {
        **bad_months,
        **{m: f"{m}: no landing or archived {spec.name} file holds this month" for m in missing},
    }
    if not bad:
        return
    bad = {m: bad[m] for m in months if m in bad}
    good = [m for m in months if m not in bad]
    raise dg.Failure(
        f"{spec.name}: month(s) {', '.join(bad)} of {months[0]}-{months[-1]} cannot be loaded; "
        f"nothing was written by this step (fine: {', '.join(good) or 'none'}). "
        + "; ".join(bad.values()),
        metadata={
            BAD_MONTHS_METADATA: dg.MetadataValue.json(bad),
            GOOD_MONTHS_METADATA: dg.MetadataValue.json(good),
        },
    )
