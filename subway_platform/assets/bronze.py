"""Bronze: landing CSV files as Delta tables, every source field kept as text, plus lineage.

For each month of the step, the bronze asset finds the data set's file in the landing
zone (or, for a rerun, the archive), stages it (encoding detected, layout checked, rows
of other months refused; see ``ingest``), reads the staged copy with Spark and replaces
the month in Delta. A file that its scan run already staged (a name without a month,
``landing_scan.py``) is not read again: bronze loads the scan's staged copy of the same
content (``staged_copies.py``, matched by the landing zone's content tag). Files taken
from the landing zone are moved to the archive only after the bronze write committed, as
the reference jobs did.

The step is a staging of the files (``bronze_staging.py``), a plan (``bronze_frame``: the
staged copies read with their lineage), a publish (the Delta IO manager, on ``yield``)
and a judgment (``judgment.py``: the figures and metadata; ``checks.py``: the checks),
then the archiving of the files when the checks pass.
"""

import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg

from subway_platform.assets.bronze_staging import (
    Staged,
    check_coverage,
    extra_columns,
    raw_copy,
    raw_path,
    renamed_columns,
    stage_all,
)
from subway_platform.assets.judgment import (
    blocking_passed,
    bronze_output_metadata,
    bronze_source_stats,
)
from subway_platform.assets.layer import layer_asset_args
from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.checks import bronze_results, check_specs
from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.hops import HOPS
from subway_platform.frames import DataFrame
from subway_platform.ingest.errors import LandingFileError
from subway_platform.partitions import MONTH_COLUMN, context_months
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.spark import SparkEngine
from subway_platform.retries import retry_transient
from subway_platform.skip_unchanged import SkipPlan, plan_months
from subway_platform.staged_copies import StagedCopy, drop_copies
from subway_platform.stores.delta import DeltaStore
from subway_platform.stores.mart import MartStore
from subway_platform.tables import tables_of

LINEAGE_COLUMNS = ("_source_object", "_source_checksum", "_source_row", "_ingested_at", "_run_id")

BronzeEvent = dg.Output[DataFrame] | CheckEvent | dg.AssetObservation


def bronze_frame(
    spec: DatasetSpec,
    session: Any,
    staged: list[Staged],
    reused: Mapping[str, StagedCopy],
    run_id: str,
) -> DataFrame:
    """Bronze's rows: the staged files read by the engine, with lineage, in the table's
    column order (a lazy plan: the Delta IO manager runs it)."""
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
            .withColumn("_run_id", F.lit(run_id))
        )
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other)
    ordered = [*(c.name for c in spec.columns), "_extra", *LINEAGE_COLUMNS]
    if spec.partitioned:
        ordered.append(MONTH_COLUMN)
    return df.select(*ordered)


def _archive(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    landing: LandingZone,
    staged: list[Staged],
    reused: Mapping[str, StagedCopy],
    workdir: Path,
) -> None:
    """As the reference jobs did: move the ingested landing files to the archive (a scan's
    staged copy is archived from its raw copy, then dropped)."""
    for obj, archived, _result, _url in staged:
        if archived:
            continue
        copy = reused.get(obj.url)
        local = raw_path(workdir, obj) if copy is None else raw_copy(landing, copy, workdir)
        dest = landing.archive(obj, local_copy=local)
        context.log.info(f"archived {obj.name} -> {dest}")
        if copy is not None:
            drop_copies(landing, spec.name, obj.url)


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
        mart_store: MartStore,
    ) -> Iterator[BronzeEvent]:
        skip = _skip_plan(spec, context, landing, delta_store, mart_store)
        if skip is not None:
            yield from _skipped(context, spec, skip.events(spec, check_specs(spec, "bronze")))
            return
        yield from bronze_step(spec, context, spark, landing, delta_store)

    return bronze


def _skip_plan(
    spec: DatasetSpec,
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    delta_store: DeltaStore,
    mart_store: MartStore,
) -> SkipPlan | None:
    """The plan of a step whose months are unchanged since their valid load
    (``skip_unchanged.py``: same file, same code) with that load still in bronze, gold and
    the mart where this run writes them; None: load (a lake or mart rebuilt, moved or
    emptied since is loaded again)."""
    months = context_months(context)
    if not spec.partitioned or not months:
        return None
    with retry_transient(context):
        files = landing.files_for(spec)
        plan = plan_months(context, spec, files, months, landing.reload_unchanged)
        if not plan.skip:
            return None
        tables = tables_of(spec)
        counts = [
            delta_store.rows_per_month(tables.bronze.months(months)),
            delta_store.rows_per_month(tables.gold.months(months)),
            mart_store.rows_per_month(tables.mart.months(months)),
        ]
    missing = sorted({m for found in counts for m in months if not found.get(m)})
    if missing:
        context.log.info(f"unchanged, but not in the tables this run writes: {missing}; loading")
        return None
    return plan


def _skipped(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    events: list[dg.AssetObservation | dg.AssetCheckResult],
) -> Iterator[BronzeEvent]:
    """A skipped step's events: the landing observations, and the valid load's check
    verdicts reported again for each skipped month (against its latest materialization)."""
    observed = [e for e in events if isinstance(e, dg.AssetObservation)]
    verdicts = [e for e in events if isinstance(e, dg.AssetCheckResult)]
    yield from observed
    months = sorted({str(e.partition) for e in observed if e.partition})
    results = {month: verdicts for month in months}
    yield from month_evaluations(context, tables_of(spec).bronze.key, results)


def bronze_step(
    spec: DatasetSpec,
    context: dg.AssetExecutionContext,
    spark: SparkEngine,
    landing: LandingZone,
    delta_store: DeltaStore,
) -> Iterator[BronzeEvent]:
    """One bronze step: stage the files, plan the rows, publish (the Delta IO manager runs
    on ``yield``), judge what landed and, when it reconciles, archive the files."""
    months = context_months(context)
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
                    staged = stage_all(context, spec, landing, months, workdir, bad_months, reused)
            except LandingFileError as err:
                raise dg.Failure(str(err)) from None
            check_coverage(spec, months, staged, bad_months)
            stats = bronze_source_stats(spec, staged)
            frame = bronze_frame(spec, session, staged, reused, context.run_id)
            hop = HOPS[tables_of(spec).bronze.key_string]
            scan_runs = {url: copy.scan_run_id for url, copy in reused.items()}
            metadata = bronze_output_metadata(hop, staged, stats, context.run_id, scan_runs)
            yield dg.Output(frame, metadata=metadata)

            # The Delta write has committed (the IO manager ran on yield): check what landed.
            written = delta_store.read_slice(tables_of(spec).bronze.months(months))
            extra, renamed = extra_columns(staged), renamed_columns(staged)
            missing = staged[0][2].missing_optional
            results = bronze_results(spec, written, months, stats, extra, renamed, missing)
            yield from month_evaluations(context, tables_of(spec).bronze.key, results)
            if not blocking_passed([r for found in results.values() for r in found]):
                context.log.warning(
                    "bronze does not reconcile with its files: they stay in landing"
                )
                return
            _archive(context, spec, landing, staged, reused, workdir)
    finally:
        landing.storage.delete_prefix(staging)
