"""One row of ``elt_manager_log`` and the idempotent insert of many.

A row says what one Dagster step did to one (asset, partition) in one run (or, status
``overdue``, that the freshness sensor's run found the table's month not loaded), in the
reference framework's terms (source -> target, counts, valid, error, elapsed) plus ours
(run, asset, partition, step, status, check outcomes, the step's start and end, and how
``elapsed``, the row's own share of the step's time, was obtained).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from subway_platform.elt_log.elapsed import ElapsedMethod
from subway_platform.elt_log.table import ELT_LOG_TABLE, ensure_elt_log_table

RowStatus = Literal[
    "materialized", "check_failed", "unreconciled", "failed", "cancelled", "overdue", "skipped"
]
"""``skipped``: the month's file and code are those of its last valid load; nothing was
written (``skip_unchanged.py``), ``valid`` true, counts 0, the reason in ``error_message``.
``unreconciled``: written, every blocking check passed, but the figures do not add up
(``elt_log/valid.py``). ``overdue``: not a load but a failed freshness evaluation
(``elt_log/overdue.py``)."""

UNKNOWN_COUNT = -1
"""The reference framework's value for a count that is not known (error, no metadata)."""


@dataclass(frozen=True)
class EltLogRow:
    """One (run, asset, partition) outcome, shaped like ``elt_manager_log``."""

    record_time: datetime
    domain: str
    action: str
    source_type: str | None
    source_topic: str | None
    source_dpath: str | None
    source_object: str | None
    target_type: str | None
    target_topic: str | None
    target_dpath: str | None
    target_object: str | None
    valid: bool
    source_read_size: int
    target_read_size: int
    cleaned_count: int
    error_message: str | None
    elapsed: float | None
    run_id: str
    job_name: str | None
    asset_key: str
    partition_key: str
    step_key: str | None
    status: RowStatus
    merged_count: int | None
    pass_in_sum: int | None
    pass_out_sum: int | None
    check_outcomes: dict[str, dict[str, Any]] | None
    error_detail: str | None
    step_start: datetime | None = None
    """When the step's attempt that did this started (``STEP_START``)."""
    step_end: datetime | None = None
    """When that attempt ended (``STEP_SUCCESS``/``STEP_FAILURE``); None if it never did."""
    elapsed_method: ElapsedMethod | None = None
    """How ``elapsed`` was obtained (``elt_log/elapsed.py``): ``measured`` (the step did
    this row alone), ``prorated_rows`` or ``prorated_even`` (its share of a range step)."""


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(EltLogRow))


def _params(row: EltLogRow) -> tuple[Any, ...]:
    values = list(astuple(row))
    at = COLUMNS.index("check_outcomes")
    values[at] = None if row.check_outcomes is None else Jsonb(row.check_outcomes)
    return tuple(values)


def insert_rows(conn: psycopg.Connection, rows: list[EltLogRow], table: str = ELT_LOG_TABLE) -> int:
    """Insert ``rows``, skipping any (run, asset, partition) already logged; return how many
    were new. Creates the table first if it is missing."""
    ensure_elt_log_table(conn, table)
    if not rows:
        return 0
    stmt = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) "
        "ON CONFLICT (run_id, asset_key, partition_key) DO NOTHING"
    ).format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
        values=sql.SQL(", ").join(sql.Placeholder() for _ in COLUMNS),
    )
    inserted = 0
    with conn.transaction(), conn.cursor() as cur:
        # One statement per row so that rowcount tells new rows from conflicts exactly.
        for row in rows:
            cur.execute(stmt, _params(row))
            inserted += cur.rowcount
    return inserted
