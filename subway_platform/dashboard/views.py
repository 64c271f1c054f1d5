"""The dashboard's SQL views (schema ``elt_dashboard``) and its read-only role.

The views in ``views.sql`` give each chart of the ELT monitoring dashboard its data,
read from ``public.elt_manager_log``; ``grants.sql`` defines ``elt_dashboard_reader``, a
role that can read only those views and the log table.
"""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg import sql

from subway_platform.elt_log.table import ensure_elt_log_table

DASHBOARD_SCHEMA = "elt_dashboard"
READER_ROLE = "elt_dashboard_reader"

VIEW_NAMES: tuple[str, ...] = (
    "target_tables",
    "total_records",
    "status_split",
    "status_by_domain",
    "daily_operations",
    "daily_records",
    "recent_failures",
)
"""One view per chart, in the dashboard's order."""


def _script(name: str) -> sql.SQL:
    """A static SQL script shipped in this package (no values are interpolated)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return sql.SQL(text)  # type: ignore[arg-type]  # static file text, not user input


def ensure_dashboard_views(conn: psycopg.Connection) -> None:
    """Create the ELT log table if missing, then (re)create schema ``elt_dashboard``'s views."""
    ensure_elt_log_table(conn)
    with conn.transaction():
        # Serialise concurrent creators, as the log table's DDL does.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{DASHBOARD_SCHEMA}",))
        conn.execute(_script("views.sql"))


def apply_dashboard_grants(conn: psycopg.Connection) -> None:
    """Create role ``elt_dashboard_reader`` if missing and grant it read access to the views
    and the log table only (run after ``ensure_dashboard_views``)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{READER_ROLE}",))
        conn.execute(_script("grants.sql"))
