"""``subway-platform elt-log sync``: mirror finished runs into the ELT log on demand.

For history the sensor never saw (runs from before it was turned on, a mart restored from
backup) and for operators who want the log now. Safe to repeat: rows already logged are
kept as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import psycopg

from subway_platform.elt_log.mirror import mirror_run
from subway_platform.redact import redact
from subway_platform.resources.postgres import MartDatabase

MART_DSN_ENV = "SUBWAY_MART_DSN"
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
_PAGE = 100


def as_utc(when: datetime | None) -> datetime | None:
    """``when`` in UTC; a naive value is taken to be UTC already."""
    if when is None:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def finished_run_ids(instance: dg.DagsterInstance, since: datetime | None) -> Iterator[str]:
    """Ids of runs that succeeded, failed or were cancelled (last updated) after ``since``,
    newest first.

    A naive ``since`` is UTC. Run storage compares against naive UTC timestamps and drops
    the offset without converting, so an aware ``since`` is converted to UTC first."""
    since = as_utc(since)
    filters = dg.RunsFilter(statuses=FINISHED, updated_after=since)
    cursor: str | None = None
    while True:
        records = instance.get_run_records(filters=filters, limit=_PAGE, cursor=cursor)
        for record in records:
            yield record.dagster_run.run_id
        if len(records) < _PAGE:
            return
        cursor = records[-1].dagster_run.run_id


def sync_elt_log(
    instance: dg.DagsterInstance, conn: psycopg.Connection, since: datetime | None
) -> int:
    """Mirror every finished run since ``since`` (all when None); return the new rows."""
    return sum(mirror_run(instance, run_id, conn) for run_id in finished_run_ids(instance, since))


def run_sync(since: datetime | None, dsn: str | None) -> int:
    """The CLI command: mirror with the ``DAGSTER_HOME`` instance into the mart at ``dsn``
    (the command passes ``SUBWAY_MART_DSN``), print one line, return the process exit code
    (0 ok, 1 failed, 2 not configured)."""
    since = as_utc(since)
    if not dsn:
        print(f"elt-log sync: {MART_DSN_ENV} is not set", file=sys.stderr)
        return 2
    try:
        instance = dg.DagsterInstance.get()
    except dg.DagsterError as err:
        print(f"elt-log sync: no Dagster instance: {redact(str(err))}", file=sys.stderr)
        return 2
    runs = rows = 0
    try:
        with instance, MartDatabase(dsn=dsn).connect() as conn:
            for run_id in finished_run_ids(instance, since):
                rows += mirror_run(instance, run_id, conn)
                runs += 1
    except Exception as err:  # noqa: BLE001 - a CLI reports any failure as one redacted line
        reason = " ".join(redact(str(err)).split())  # one line, as promised
        print(f"elt-log sync: failed after {runs} run(s): {reason}", file=sys.stderr)
        return 1
    scope = f"since {since.isoformat()}" if since else "all time"
    print(f"elt-log sync: {runs} finished run(s) ({scope}), {rows} new row(s) in elt_manager_log")
    return 0
