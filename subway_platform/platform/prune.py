"""Bound the growth of the platform's history: old Dagster runs and old ELT log rows.

``subway-platform prune --older-than-days N`` deletes, for runs created more than N days
ago that have finished (success, failure, canceled): the run, its event log and its
step logs in S3, through Dagster's own ``instance.delete_run`` and the compute log
manager; and the ``elt_manager_log`` rows recorded more than N days ago (one
parameterized ``DELETE``). Queued and running runs are never touched. Asset
materialization history stays readable only for the runs kept, so choose N longer than
the oldest month anyone inspects in the UI (the mart and the Delta tables keep every
month whatever N is). Tick history has its own retention in dagster.yaml.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from psycopg import sql

from subway_platform.elt_log.table import ELT_LOG_TABLE, ensure_elt_log_table
from subway_platform.redact import redact

MART_DSN_ENV = "SUBWAY_MART_DSN"
FINISHED = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
)
_BATCH = 100


@dataclass(frozen=True)
class Pruned:
    """What one prune deleted."""

    runs: int
    elt_log_rows: int


def prune_runs(instance: dg.DagsterInstance, cutoff: datetime) -> int:
    """Delete finished runs created before ``cutoff``, with their events and step logs."""
    deleted = 0
    while True:
        records = instance.get_run_records(
            filters=dg.RunsFilter(statuses=list(FINISHED), created_before=cutoff),
            limit=_BATCH,
        )
        if not records:
            return deleted
        for record in records:
            run_id = record.dagster_run.run_id
            instance.compute_log_manager.delete_logs(prefix=[run_id])
            instance.delete_run(run_id)
            deleted += 1


def prune_elt_log(conn: psycopg.Connection, cutoff: datetime, table: str = ELT_LOG_TABLE) -> int:
    """Delete ELT log rows recorded before ``cutoff``; return how many."""
    with conn.transaction():
        cursor = conn.execute(
            sql.SQL("DELETE FROM {} WHERE record_time < %s").format(sql.Identifier(table)),
            (cutoff,),
        )
        return cursor.rowcount


def prune(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    older_than: timedelta,
    *,
    now: datetime | None = None,
    table: str = ELT_LOG_TABLE,
) -> Pruned:
    """Delete runs and ELT log rows older than ``older_than`` (measured from ``now``)."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    cutoff = (now or datetime.now(UTC)) - older_than
    return Pruned(
        runs=prune_runs(instance, cutoff), elt_log_rows=prune_elt_log(conn, cutoff, table)
    )


def run_prune(older_than_days: int) -> int:
    """The CLI command on the ``DAGSTER_HOME`` instance and ``SUBWAY_MART_DSN``: one line out,
    exit code 0 (done), 1 (failed) or 2 (not configured / bad argument)."""
    if older_than_days < 1:
        print("prune: --older-than-days must be at least 1", file=sys.stderr)
        return 2
    dsn = os.environ.get(MART_DSN_ENV)
    if not dsn:
        print(f"prune: {MART_DSN_ENV} is not set", file=sys.stderr)
        return 2
    try:
        with dg.DagsterInstance.get() as instance, psycopg.connect(dsn) as conn:
            ensure_elt_log_table(conn)  # a mart that has never mirrored a run has none yet
            done = prune(instance, conn, timedelta(days=older_than_days))
    except Exception as err:  # noqa: BLE001 - a CLI reports any failure as one redacted line
        print(f"prune: failed: {' '.join(redact(str(err)).split())}", file=sys.stderr)
        return 1
    print(
        f"prune: older than {older_than_days} days: {done.runs} run(s) with their events and "
        f"step logs, {done.elt_log_rows} elt_manager_log row(s) deleted"
    )
    return 0
