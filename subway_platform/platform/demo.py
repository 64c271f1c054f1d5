"""The headless demo: sample files into the landing zone, both jobs in process, a summary.

Runs against whatever the environment points at (the embedded services when started by
`subway-platform demo`): sample CSV files are uploaded to ``SUBWAY_LANDING_URL``, then
the station master's job and ``monthly_all_job`` (all months in one run, for the data sets
the sample files cover) execute in this process
against the Dagster instance in ``DAGSTER_HOME``, and the row count of every table the
platform wrote is printed: Delta tables read with delta-rs, mart tables in PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dagster as dg
import psycopg
from psycopg import sql

from subway_platform.datasets import ALL_DATASETS, DatasetSpec, dataset_for_file
from subway_platform.partitions import months_between, validate_month
from subway_platform.tags import RANGE_END_TAG, RANGE_START_TAG

DELTA_LAYERS = ("bronze", "gold")
MART_LAYER = "mart"
_MAX_DETAIL = 400  # characters of the first step failure shown in the one-line error


class DemoError(RuntimeError):
    """The demo could not run or a job failed."""


def run_demo(months: list[str]) -> int:
    """Load ``months`` (consecutive ``YYYYMM``) end to end; print a summary; 0 on success."""
    months = consecutive_months(months)
    defs = _definitions()
    with tempfile.TemporaryDirectory(prefix="subway-demo-") as tmp:
        files = _write_samples(Path(tmp), months)
        sampled = _datasets_of(files)
        landing = _required_env("SUBWAY_LANDING_URL")
        for path in files:
            _upload(path, landing)
        print(f"uploaded {len(files)} sample files to {landing}", flush=True)

    with dg.DagsterInstance.get() as instance:
        run_ids = [
            _execute(defs, spec.job_name, instance, tags={})
            for spec in sampled
            if not spec.partitioned
        ]
        monthly = [spec for spec in sampled if spec.partitioned]
        run_ids.append(
            _execute(
                defs,
                "monthly_all_job",
                instance,
                tags={RANGE_START_TAG: months[0], RANGE_END_TAG: months[-1]},
                # Only the data sets the sample files cover (a data set without sample
                # files would fail for want of a landing file).
                assets=[k for spec in monthly for k in _asset_keys(defs, spec)],
            )
        )
        _mirror_elt_log(instance, run_ids)
    _print_summary(_table_keys(defs))
    return 0


def _mirror_elt_log(instance: dg.DagsterInstance, run_ids: list[str]) -> None:
    """Write the runs' rows to elt_manager_log now (the ELT log sensor would, under the
    daemon), so the dashboard shows the demo's history right away."""
    from subway_platform.elt_log.mirror import mirror_run

    with psycopg.connect(_required_env("SUBWAY_MART_DSN")) as conn:
        added = sum(mirror_run(instance, run_id, conn) for run_id in run_ids)
        conn.commit()
    print(f"ELT log: {added} new rows in elt_manager_log", flush=True)


# -- steps -------------------------------------------------------------------------------------
def consecutive_months(months: Sequence[str]) -> list[str]:
    """``months`` validated, sorted and checked to form one consecutive range."""
    if not months:
        raise DemoError("no months given")
    for month in months:
        validate_month(month)
    ordered = sorted(set(months))
    if ordered != months_between(ordered[0], ordered[-1]):
        raise DemoError(
            f"the demo loads one range of consecutive months in one run; got {','.join(ordered)}"
        )
    return ordered


def _definitions() -> dg.Definitions:
    try:
        from subway_platform.definitions import defs
    except ImportError as err:
        raise DemoError(f"the code location subway_platform.definitions is missing: {err}") from err
    return defs


def _write_samples(dest: Path, months: list[str]) -> list[Path]:
    try:
        from subway_platform.sample_data import write_sample_files
    except ImportError as err:
        raise DemoError(f"the sample data generator is missing: {err}") from err
    files = write_sample_files(dest, months)
    if not files:
        raise DemoError("the sample data generator wrote no files")
    return files


def _upload(path: Path, location: str) -> None:
    """Copy one file into the landing location (S3 URL or local directory)."""
    parsed = urlparse(location)
    if parsed.scheme not in ("s3", "s3a"):
        target = Path(location) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        return
    prefix = parsed.path.strip("/")
    key = f"{prefix}/{path.name}" if prefix else path.name
    _s3_client().upload_file(str(path), parsed.netloc, key)


def _s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=_required_env("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )


def _datasets_of(files: list[Path]) -> list[DatasetSpec]:
    """The data sets (in registry order) that the sample files belong to."""
    found = {spec.name for path in files if (spec := dataset_for_file(path.name)) is not None}
    return [spec for spec in ALL_DATASETS if spec.name in found]


def _asset_keys(defs: dg.Definitions, spec: DatasetSpec) -> list[dg.AssetKey]:
    """The assets of a data set's job (``jobs.dataset_selection``), in a stable order."""
    from subway_platform.jobs import dataset_selection

    return sorted(dataset_selection(spec).resolve(defs.resolve_asset_graph()))


def _execute(
    defs: dg.Definitions,
    job_name: str,
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    assets: list[dg.AssetKey] | None = None,
) -> str:
    try:
        job = defs.resolve_job_def(job_name)
    except dg.DagsterInvariantViolationError as err:
        raise DemoError(f"job {job_name} is not defined in subway_platform.definitions") from err
    print(f"running {job_name} {' '.join(f'{k}={v}' for k, v in tags.items())}", flush=True)
    # Step-by-step DEBUG lines belong in the UI (the runs are in the instance); the demo
    # prints warnings, errors and its own summary.
    result = job.execute_in_process(
        instance=instance,
        tags=tags,
        asset_selection=assets,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        failures = [
            f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data.error is not None
        ]
        detail = failures[0] if failures else "see the run's events in Dagster"
        if len(detail) > _MAX_DETAIL:
            detail = detail[:_MAX_DETAIL] + "…"
        raise DemoError(f"{job_name} failed (run {result.run_id}): {detail}")
    return result.run_id


# -- summary -----------------------------------------------------------------------------------
def _table_keys(defs: dg.Definitions) -> list[tuple[str, str]]:
    """(layer, name) of every bronze, gold and mart asset in the code location."""
    keys = []
    for key in defs.resolve_all_asset_keys():
        if len(key.path) == 2 and key.path[0] in (*DELTA_LAYERS, MART_LAYER):
            keys.append((key.path[0], key.path[1]))
    order = {layer: i for i, layer in enumerate((*DELTA_LAYERS, MART_LAYER))}
    return sorted(keys, key=lambda k: (order[k[0]], k[1]))


def _print_summary(tables: list[tuple[str, str]]) -> None:
    from subway_platform.resources.environment import object_storage_from_environment
    from subway_platform.resources.lakehouse import Lakehouse

    lakehouse = Lakehouse(
        lake_url=_required_env("SUBWAY_LAKE_URL"), storage=object_storage_from_environment()
    )
    print(f"{'table':<36} {'rows':>10}")
    with psycopg.connect(_required_env("SUBWAY_MART_DSN")) as conn:
        for layer, name in tables:
            count: int | None
            if layer == MART_LAYER:
                exists = conn.execute("SELECT to_regclass(%s)", (f"public.{name}",)).fetchone()
                rows = (
                    conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
                    ).fetchone()
                    if exists and exists[0] is not None
                    else None
                )
                count = int(rows[0]) if rows else None
            else:
                count = _delta_rows(lakehouse, lakehouse.table_url([layer, name]))
            shown = "not loaded" if count is None else str(count)
            print(f"{layer + '/' + name:<36} {shown:>10}")
    sys.stdout.flush()


def _delta_rows(lakehouse: Any, uri: str) -> int | None:
    """Row count of a Delta table read with delta-rs (Parquet footers only, no Spark);
    None when the table does not exist (a data set without sample files)."""
    from subway_platform.stores.delta_log import open_delta

    table = open_delta(uri, lakehouse.delta_options())
    return None if table is None else int(table.to_pyarrow_dataset().count_rows())


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise DemoError(f"{name} is not set")
    return value
