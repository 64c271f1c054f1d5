"""The PostgreSQL table ``elt_manager_log``: the reference framework's ELT log, kept compatible.

The first seventeen columns are the reference's (same names, compatible types) so that
existing dashboards keep working; the rest are ours and make each row traceable to a
Dagster run, asset, partition and step. ``(run_id, asset_key, partition_key)`` is unique,
which is what makes mirroring idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

ELT_LOG_TABLE = "elt_manager_log"

_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    record_time      timestamptz      NOT NULL,
    domain           text             NOT NULL,
    action           text             NOT NULL,
    source_type      text,
    source_topic     text,
    source_dpath     text,
    source_object    text,
    target_type      text,
    target_topic     text,
    target_dpath     text,
    target_object    text,
    valid            boolean          NOT NULL,
    source_read_size bigint           NOT NULL,
    target_read_size bigint           NOT NULL,
    cleaned_count    bigint           NOT NULL,
    error_message    varchar(255),
    elapsed          double precision,
    id               bigserial        PRIMARY KEY,
    run_id           text             NOT NULL,
    job_name         text,
    asset_key        text             NOT NULL,
    partition_key    text             NOT NULL DEFAULT '',
    step_key         text,
    status           text             NOT NULL,
    merged_count     bigint,
    pass_in_sum      bigint,
    pass_out_sum     bigint,
    check_outcomes   jsonb,
    error_detail     text,
    mirrored_at      timestamptz      NOT NULL DEFAULT now(),
    step_start       timestamptz,
    step_end         timestamptz,
    elapsed_method   text,
    CONSTRAINT {unique_name} UNIQUE (run_id, asset_key, partition_key)
);
-- Tables created by earlier versions: add the columns they lack (idempotent).
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS error_detail text;
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS step_start timestamptz;
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS step_end timestamptz;
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS elapsed_method text;
CREATE INDEX IF NOT EXISTS {idx_time} ON {table} (record_time DESC);
CREATE INDEX IF NOT EXISTS {idx_domain} ON {table} (domain, record_time DESC);
CREATE INDEX IF NOT EXISTS {idx_target} ON {table} (target_object, record_time DESC);
CREATE INDEX IF NOT EXISTS {idx_failures} ON {table} (record_time DESC) WHERE NOT valid;
"""


def ensure_elt_log_table(conn: psycopg.Connection, table: str = ELT_LOG_TABLE) -> None:
    """Create ``elt_manager_log`` and its dashboard indexes if they are missing."""
    stmt = sql.SQL(_DDL).format(
        table=sql.Identifier(table),
        unique_name=sql.Identifier(f"{table}_run_asset_partition_key"),
        idx_time=sql.Identifier(f"{table}_record_time_idx"),
        idx_domain=sql.Identifier(f"{table}_domain_idx"),
        idx_target=sql.Identifier(f"{table}_target_idx"),
        idx_failures=sql.Identifier(f"{table}_failures_idx"),
    )
    with conn.transaction():
        # Serialise concurrent creators (two runs starting at once).
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{table}",))
        conn.execute(stmt)
