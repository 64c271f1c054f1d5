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
TIME_ZONE_ENV = "SUBWAY_DASHBOARD_TZ"
DEFAULT_TIME_ZONE = "Asia/Seoul"
"""Where the dashboard's users are: its daily charts count days of this zone."""
READER_ROLE = "elt_dashboard_reader"

VIEW_NAMES: tuple[str, ...] = (
    "target_tables",
    "total_records",
    "status_split",
    "status_by_domain",
    "daily_operations",
    "daily_records",
    "recent_failures",
    "loads_with_rejects",
    "daily_time",
)
"""One view per chart, in the dashboard's order; ``loads_with_rejects`` lists the valid loads
that left rows in gold/rejects, ``daily_time`` the seconds spent per target table per day."""


def _script(name: str) -> sql.SQL:
    """A static SQL script shipped in this package (no values are interpolated)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return sql.SQL(text)  # type: ignore[arg-type]  # static file text, not user input


def dashboard_time_zone(conn: psycopg.Connection, time_zone: str | None = None) -> str:
    """The zone whose calendar days the daily charts use: ``time_zone`` (the dashboard
    command passes ``SUBWAY_DASHBOARD_TZ``), else ``Asia/Seoul``; refused unless PostgreSQL
    knows it."""
    zone = (time_zone or DEFAULT_TIME_ZONE).strip()
    known = conn.execute(
        "SELECT 1 FROM pg_timezone_names WHERE name = %s UNION ALL "
        "SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = %s LIMIT 1",
        (zone, zone),
    ).fetchone()
    if known is None:
        raise ValueError(
            f"{TIME_ZONE_ENV}={zone[:60]!r} is not a time zone PostgreSQL knows "
            "(use a name such as Asia/Seoul or UTC)"
        )
    return zone


def ensure_dashboard_views(conn: psycopg.Connection, time_zone: str | None = None) -> None:
    """Create the ELT log table if missing, then (re)create schema ``elt_dashboard``'s views,
    with days in ``time_zone`` (see :func:`dashboard_time_zone`)."""
    ensure_elt_log_table(conn)
    zone = dashboard_time_zone(conn, time_zone)
    with conn.transaction():
        # Serialise concurrent creators, as the log table's DDL does.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{DASHBOARD_SCHEMA}",))
        conn.execute(_script("views.sql").format(time_zone=sql.Literal(zone)))


def apply_dashboard_grants(conn: psycopg.Connection) -> None:
    """Create role ``elt_dashboard_reader`` if missing and grant it read access to the views
    and the log table only (run after ``ensure_dashboard_views``)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{READER_ROLE}",))
        conn.execute(_script("grants.sql"))
