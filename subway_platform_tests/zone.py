"""Per-test landing zone, archive and lake on the embedded services, and a helper that runs
the platform's real jobs in process (embedded Sail, real Delta on the
embedded S3 endpoint, real PostgreSQL)."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from subway_platform.datasets import ALL_DATASETS
from subway_platform.tables import tables_of

REAL_DATA_ENV = "SUBWAY_REAL_DATA"


def real_data_dir() -> Path:
    """The real portal files: ``SUBWAY_REAL_DATA``, else ``shared/data/real`` beside the
    clone. Missing, the tests that use them fail at collection with one line saying where
    they were looked for and how to point at them."""
    configured = os.environ.get(REAL_DATA_ENV)
    path = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    )
    if not path.is_dir():
        raise FileNotFoundError(
            f"real data files not found at {path}: set {REAL_DATA_ENV} to the directory holding "
            "card_subway_month/, card_subway_time/ and subway_station/"
        )
    return path


def __getattr__(name: str) -> Any:
    """``REAL``: :func:`real_data_dir`, looked up when a test module imports it."""
    if name == "REAL":
        return real_data_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Zone:
    """Where one test's files and tables live, and how to drive the platform there."""

    landing: str
    archive: str
    lake: str
    mart_dsn: str
    s3: Any
    instance: dg.DagsterInstance

    def upload(self, path: Path, name: str | None = None) -> str:
        bucket, _, prefix = self.landing.removeprefix("s3://").partition("/")
        key = f"{prefix}/{name or path.name}"
        self.s3.upload_file(str(path), bucket, key)
        return f"s3://{bucket}/{key}"

    def keys(self, url: str) -> list[str]:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        resp = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
        return sorted(o["Key"].rsplit("/", 1)[-1] for o in resp.get("Contents", []))

    def run(
        self,
        job: str,
        months: list[str] | None = None,
        raise_on_error: bool = True,
        force: bool = False,
    ) -> dg.ExecuteInProcessResult:
        """Run ``job`` in process over ``months``; ``force``: reload unchanged months too
        (the run tag ``subway/force``)."""
        from subway_platform.definitions import defs
        from subway_platform.tags import FORCE_TAG

        tags: dict[str, str] = {FORCE_TAG: "true"} if force else {}
        if months:
            tags |= {
                "dagster/asset_partition_range_start": months[0],
                "dagster/asset_partition_range_end": months[-1],
            }
        return defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, tags=tags, raise_on_error=raise_on_error
        )

    def query(
        self, statement: sql.Composable | str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.mart_dsn) as conn:
            return conn.execute(statement, params).fetchall()

    def mirror(self, run_id: str, columns: str) -> list[dict[str, Any]]:
        """Mirror ``run_id`` into the ELT log as the ELT log sensor does; return its rows
        (``columns``: a constant, comma-separated column list) by asset and month."""
        from subway_platform.elt_log.mirror import mirror_run

        with psycopg.connect(self.mart_dsn) as conn:
            mirror_run(self.instance, run_id, conn)
            conn.commit()
            cur = conn.execute(
                f"SELECT {columns} FROM elt_manager_log "  # noqa: S608 - constant column list
                "WHERE run_id = %s ORDER BY asset_key, partition_key",
                (run_id,),
            )
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def zone(services: Any, s3_client: Any) -> Iterator[Zone]:
    """A fresh landing/archive/lake prefix and mart schema state for one test."""
    run = uuid.uuid4().hex[:8]
    saved = {
        k: os.environ.get(k)
        for k in ("SUBWAY_LANDING_URL", "SUBWAY_ARCHIVE_URL", "SUBWAY_LAKE_URL")
    }
    os.environ["SUBWAY_LANDING_URL"] = f"s3://subway/t{run}/landing"
    os.environ["SUBWAY_ARCHIVE_URL"] = f"s3://subway/t{run}/archive"
    os.environ["SUBWAY_LAKE_URL"] = f"s3://subway/t{run}/lake"
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        # CASCADE: the dashboard's views (elt_dashboard schema) depend on the ELT log.
        for table in (*(tables_of(spec).mart.name for spec in ALL_DATASETS), "elt_manager_log"):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
    with dg.DagsterInstance.ephemeral() as instance:
        yield Zone(
            landing=os.environ["SUBWAY_LANDING_URL"],
            archive=os.environ["SUBWAY_ARCHIVE_URL"],
            lake=os.environ["SUBWAY_LAKE_URL"],
            mart_dsn=services.mart_dsn,
            s3=s3_client,
            instance=instance,
        )
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def file_totals(path: Path, encoding: str = "utf-8") -> dict[str, Any]:
    """Independent reading of a daily file with the csv module: rows, sums, distinct keys."""
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        idx = {name: i for i, name in enumerate(header)}
        rows = [r for r in reader if r]
    return {
        "rows": len(rows),
        "pass_in": sum(int(float(r[idx["승차총승객수"]])) for r in rows),
        "pass_out": sum(int(float(r[idx["하차총승객수"]])) for r in rows),
        "keys": {(r[idx["사용일자"]], r[idx["노선명"]], r[idx["역명"]]) for r in rows},
    }
