"""`subway-platform prune`: old finished runs (with their events and step logs in S3) and old
ELT log rows go; recent ones, and runs not finished, stay. Real embedded PostgreSQL, a
Dagster instance built from the project's dagster.yaml on a database of its own."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

import subway_platform
from subway_platform.elt_log.table import ensure_elt_log_table
from subway_platform.platform.cli import main
from subway_platform.platform.prune import prune

REPO_ROOT = Path(subway_platform.__file__).resolve().parent.parent
COMPUTE_LOG_PREFIX = "dagster/compute-logs/"


@dg.op
def _say() -> None:
    """Prints a line, so that the run has step logs in S3."""
    print("prune probe")


_JOB = dg.GraphDefinition(name="prune_probe", node_defs=[_say]).to_job()


@pytest.fixture
def own_instance(
    services: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The project's dagster.yaml on a new database of the embedded PostgreSQL."""
    database = f"prune_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    parts = conninfo_to_dict(services.mart_dsn)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv(
        "DAGSTER_PG_URL",
        f"postgresql+psycopg2://{parts['user']}:{parts['password']}@{parts['host']}:"
        f"{parts['port']}/{database}",
    )
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@pytest.fixture
def elt_table(services: Any) -> Iterator[tuple[psycopg.Connection, str]]:
    """A connection to the mart and an ELT log table of this test's own."""
    table = f"elt_manager_log_prune_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        ensure_elt_log_table(conn, table)
        try:
            yield conn, table
        finally:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def _insert_row(conn: psycopg.Connection, table: str, record_time: datetime, run_id: str) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (record_time, domain, action, valid, source_read_size, "
            "target_read_size, cleaned_count, run_id, asset_key, status) "
            "VALUES (%s, 'subway', 'load', true, 1, 1, 0, %s, 'mart/probe', 'SUCCESS')"
        ).format(sql.Identifier(table)),
        (record_time, run_id),
    )


def _compute_log_keys(s3_client: Any, run_id: str) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket="subway", Prefix=COMPUTE_LOG_PREFIX)
    return [o["Key"] for o in listed.get("Contents", []) if run_id in o["Key"]]


def test_prune_deletes_old_finished_runs_and_elt_rows_only(
    own_instance: dg.DagsterInstance,
    elt_table: tuple[psycopg.Connection, str],
    s3_client: Any,
) -> None:
    instance = own_instance
    conn, table = elt_table
    old_run = _JOB.execute_in_process(instance=instance).run_id
    between = datetime.now(UTC)
    new_run = _JOB.execute_in_process(instance=instance).run_id
    pending = instance.create_run_for_job(_JOB)  # created, never finished
    assert _compute_log_keys(s3_client, old_run)
    _insert_row(conn, table, between - timedelta(days=40), old_run)
    _insert_row(conn, table, between + timedelta(seconds=1), new_run)

    # As seen 30 days after `between`, with a 30-day bound: the cutoff falls between the runs.
    done = prune(instance, conn, timedelta(days=30), now=between + timedelta(days=30), table=table)

    assert (done.runs, done.elt_log_rows) == (1, 1)
    assert instance.get_run_by_id(old_run) is None
    assert not instance.all_logs(old_run)
    assert not _compute_log_keys(s3_client, old_run)
    assert instance.get_run_by_id(new_run) is not None
    assert instance.all_logs(new_run)
    assert instance.get_run_by_id(pending.run_id) is not None  # not finished: kept
    left = conn.execute(sql.SQL("SELECT run_id FROM {}").format(sql.Identifier(table))).fetchall()
    assert left == [(new_run,)]


def test_prune_command_keeps_recent_history(
    own_instance: dg.DagsterInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = _JOB.execute_in_process(instance=own_instance).run_id
    assert main(["prune", "--older-than-days", "1"]) == 0
    out = capsys.readouterr().out
    assert "0 run(s)" in out
    assert own_instance.get_run_by_id(run_id) is not None
    assert main(["prune", "--older-than-days", "0"]) == 2
