"""Bronze: landing CSV files as Delta tables, every source field kept as text, plus lineage.

For each month of the step, the bronze asset finds the data set's file in the landing
zone (or, for a rerun, the archive), stages it (encoding detected, layout checked, rows
of other months refused; see ``ingest``), reads the staged copy with Spark and replaces
the month in Delta. A file that its scan run already staged (a name without a month,
``landing_scan.py``) is not read again: bronze loads the scan's staged copy of the same
content (``staged_copies.py``, matched by the landing zone's content tag). Files taken
from the landing zone are moved to the archive only after the bronze write committed, as
the reference jobs did. A month unchanged since its valid load is skipped
(``skip_unchanged.py``): bronze writes nothing, and gold and mart are skipped with it.
"""

import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.assets.layer import layer_asset_args
from subway_platform.checks import bronze_results, check_specs
from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.run_events import BAD_MONTHS_METADATA, GOOD_MONTHS_METADATA
from subway_platform.elt_log.stats import PartitionStats, source_stats_metadata
from subway_platform.frames import DataFrame
from subway_platform.ingest.errors import LandingFileError
from subway_platform.partitions import MONTH_COLUMN, context_months
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.spark import SparkEngine
from subway_platform.resources.storage import StoredObject, is_s3
from subway_platform.retries import retry_transient
from subway_platform.skip_unchanged import plan_months
from subway_platform.staged_copies import StagedCopy, drop_copies, find_copy
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import tables_of

if TYPE_CHECKING:
    from subway_platform.ingest.stage import StagedFile

LINEAGE_COLUMNS = ("_source_object", "_source_checksum", "_source_row", "_ingested_at", "_run_id")


def _choose_files(
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


def _raw_path(workdir: Path, obj: StoredObject) -> Path:
    """Where a landing or archived file is downloaded for the step (kept until archived)."""
    return workdir / "raw" / obj.name


def _stage_all(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    landing: LandingZone,
    months: list[str],
    workdir: Path,
    bad_months: dict[str, str],
    reused: dict[str, StagedCopy],
) -> list[tuple[StoredObject, bool, "StagedFile", str]]:
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
    from subway_platform.ingest.stage import stage_landing_file

    staged: list[tuple[StoredObject, bool, "StagedFile", str]] = []
    remaining = set(months)
    candidates = sorted(
        _choose_files(spec, landing, months), key=lambda f: (f[1], -f[0].modified.timestamp())
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
            result = copy.staged.only_months(remaining)
            if result.rows == 0:
                context.log.info(f"{obj.name}: no rows for the months still to load; not used")
                continue
            remaining -= set(result.months)
            reused[obj.url] = copy
            staged.append((obj, archived, result, copy.parquet_url))
            context.log.info(
                f"staged {obj.name} (landing, content {obj.etag}) by scan run "
                f"{copy.scan_run_id}: its staged copy is loaded, the file is not read again "
                f"({result.rows} rows, months {', '.join(sorted(result.months))})"
            )
            continue
        local = landing.storage.download(obj.url, _raw_path(workdir, obj))
        out = workdir / "staged" / f"{len(staged):04d}.parquet"
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
            continue
        if spec.partitioned and result.rows == 0:
            context.log.info(f"{obj.name}: no rows for the months still to load; not used")
            continue
        remaining -= set(result.months)
        url = landing.staging_url(context.run_id, spec.name, out.name)
        landing.storage.upload(out, url)
        staged.append((obj, archived, result, url))
        context.log.info(
            f"staged {obj.name} ({'archive' if archived else 'landing'}, {result.encoding}, "
            f"{result.rows} rows, months {', '.join(sorted(result.months)) or '-'})"
        )
    return staged


def _raw_copy(landing: LandingZone, copy: StagedCopy, workdir: Path) -> Path | None:
    """The scan's raw copy as a local file for the archive (not the landing file again):
    the lake's own file when the lake is local, else downloaded from the lake when the
    archive is local; None when landing and archive are both S3 (a server-side copy)."""
    if not is_s3(copy.raw_url):
        return Path(copy.raw_url)
    if is_s3(landing.archive_url):
        return None
    return landing.storage.download(copy.raw_url, workdir / "raw_copy" / "file.csv")


def _check_coverage(
    spec: DatasetSpec,
    months: list[str],
    staged: list[tuple[StoredObject, bool, "StagedFile", str]],
    bad_months: dict[str, str],
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


def _source_stats(
    spec: DatasetSpec, staged: list[tuple[StoredObject, bool, "StagedFile", str]]
) -> dict[str, PartitionStats]:
    """What the landing files hold per month: rows, file, checksum and the sums."""
    stats: dict[str, PartitionStats] = {}
    for obj, _archived, result, _url in staged:
        per_month = result.months if spec.partitioned else {"": result.rows}
        for month, rows in per_month.items():
            sums = result.sums.get(month, {})
            stats[month] = PartitionStats(
                source_read_size=rows,
                cleaned_count=0,
                # Bronze keeps every row of the file as it is: nothing merged.
                merged_count=0,
                source_object=obj.name,
                source_checksum=result.checksum,
                sums={name: sums.get(name) for name in spec.sum_columns},
            )
    return stats


def _bronze_output(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    session: Any,
    staged: list[tuple[StoredObject, bool, "StagedFile", str]],
    stats: dict[str, PartitionStats],
    reused: dict[str, StagedCopy],
) -> dg.Output[DataFrame]:
    """Bronze rows (staged files read by the engine, with lineage) and their metadata."""
    from pyspark.sql import functions as F

    ingested_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    frames: list[DataFrame] = []
    for obj, _archived, result, url in staged:
        read = session.read.parquet(url)
        if obj.url in reused:  # a scan's copy holds all the file's months
            read = read.where(F.col(MONTH_COLUMN).isin(sorted(result.months)))
        frames.append(
            read.withColumn("_source_object", F.lit(obj.name))
            .withColumn("_source_checksum", F.lit(result.checksum))
            .withColumn("_ingested_at", F.lit(ingested_at))
            .withColumn("_run_id", F.lit(context.run_id))
        )
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other)
    ordered = [*(c.name for c in spec.columns), "_extra", *LINEAGE_COLUMNS]
    if spec.partitioned:
        ordered.append(MONTH_COLUMN)
    first = staged[0][2]
    return dg.Output(
        df.select(*ordered),
        metadata={
            **{f"elt/{k}": v for k, v in HOPS[tables_of(spec).bronze.key_string].as_dict().items()},
            "elt/source_object": ", ".join(sorted({o.name for o, *_ in staged})),
            **source_stats_metadata(stats),
            "source/files": dg.MetadataValue.json(
                [
                    {
                        "name": o.name,
                        "etag": o.etag,
                        "from": "archive" if a else "landing",
                        "checksum": r.checksum,
                        "encoding": r.encoding,
                        "rows": r.rows,
                        "months": r.months,
                        "staged_by_run": reused[o.url].scan_run_id
                        if o.url in reused
                        else context.run_id,
                    }
                    for o, a, r, _ in staged
                ]
            ),
            "source/columns": dg.MetadataValue.json(first.columns),
            "source/renamed_columns": dg.MetadataValue.json(first.renamed),
            "source/extra_columns": dg.MetadataValue.json(
                sorted({c for *_, r, _u in staged for c in r.extra_columns})
            ),
            "source/missing_optional_columns": dg.MetadataValue.json(first.missing_optional),
        },
    )


def build_bronze_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    """The bronze asset of a data set: landing file -> Delta, text columns plus lineage."""

    @dg.asset(
        key=tables_of(spec).bronze.key,
        description=f"Bronze copy of the landing files. {spec.description} Every source field is "
        "kept as text under its Korean header, with lineage columns (_source_object, "
        "_source_checksum, _source_row, _ingested_at, _run_id).",
        kinds={"spark", "delta"},
        **layer_asset_args(spec, "bronze", "delta_io_manager"),
    )
    def bronze(
        context: dg.AssetExecutionContext,
        spark: SparkEngine,
        landing: LandingZone,
        delta_store: DeltaStore,
    ) -> Iterator[dg.Output[DataFrame] | dg.AssetCheckResult | dg.AssetObservation]:
        months = context_months(context)
        if spec.partitioned:
            # Months whose file and code are those of their valid load: nothing to write.
            with retry_transient(context):
                plan = plan_months(context, spec, landing.files_for(spec), months)
            if plan.skip:
                yield from plan.events(spec, check_specs(spec, "bronze"))
                return
        session = spark.spark_session
        staging = landing.staging_url(context.run_id, spec.name)
        try:
            # The downloaded files stay until they are archived (no second download).
            with tempfile.TemporaryDirectory(prefix="subway_stage_") as tmp:
                workdir = Path(tmp)
                bad_months: dict[str, str] = {}
                reused: dict[str, StagedCopy] = {}
                try:
                    with retry_transient(context):
                        staged = _stage_all(
                            context, spec, landing, months, workdir, bad_months, reused
                        )
                except LandingFileError as err:
                    raise dg.Failure(str(err)) from None
                _check_coverage(spec, months, staged, bad_months)
                stats = _source_stats(spec, staged)
                yield _bronze_output(context, spec, session, staged, stats, reused)

                # The Delta write has committed (the IO manager ran on yield): check what landed.
                written = delta_store.read_slice(tables_of(spec).bronze.months(months))
                results = bronze_results(
                    spec,
                    written,
                    months,
                    stats,
                    sorted({c for *_, r, _u in staged for c in r.extra_columns}),
                    {k: v for *_, r, _u in staged for k, v in r.renamed.items()},
                    staged[0][2].missing_optional,
                )
                yield from results
                if not all(r.passed for r in results if r.severity == dg.AssetCheckSeverity.ERROR):
                    context.log.warning(
                        "bronze does not reconcile with its files: they stay in landing"
                    )
                    return
                # As the reference jobs did: move the ingested files to the archive.
                for obj, archived, _result, _url in staged:
                    if archived:
                        continue
                    copy = reused.get(obj.url)
                    local = (
                        _raw_path(workdir, obj)
                        if copy is None
                        else _raw_copy(landing, copy, workdir)
                    )
                    dest = landing.archive(obj, local_copy=local)
                    context.log.info(f"archived {obj.name} -> {dest}")
                    if copy is not None:
                        drop_copies(landing, spec.name, obj.url)
        finally:
            landing.storage.delete_prefix(staging)

    return bronze
