"""Fixtures of the dashboard tests: a database of their own on the shared PostgreSQL, the
test log rows in it, and a real Superset (installed once per machine, cached) serving
the imported dashboard.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from subway_platform.dashboard.api import SupersetClient
from subway_platform.dashboard.cli import import_dashboard
from subway_platform.dashboard.install import cached_venv_dir, ensure_superset_venv
from subway_platform.dashboard.server import ADMIN_USER, LocalSuperset
from subway_platform.dashboard.views import ensure_dashboard_views
from subway_platform.elt_log.row import insert_rows
from subway_platform.platform.processes import free_port

sys.path.insert(0, str(Path(__file__).parent))
from dashboard_log_rows import ROWS  # noqa: E402
from dashboard_running import RunningSuperset  # noqa: E402

TEST_DB = "elt_dashboard_test"


@pytest.fixture(scope="session")
def dashboard_dsn(services: object) -> str:
    """DSN of a fresh database holding only this folder's ELT log rows and the views.

    Its own database, so rows other test folders write to the mart's log never change
    the figures asserted here.
    """
    mart_dsn: str = services.mart_dsn  # type: ignore[attr-defined]
    with psycopg.connect(mart_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEST_DB))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DB)))
    dsn = make_conninfo(mart_dsn, dbname=TEST_DB)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_dashboard_views(conn)
        assert insert_rows(conn, ROWS) == len(ROWS)
    return dsn


@pytest.fixture
def dashboard_conn(dashboard_dsn: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the dashboard test database."""
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def superset(dashboard_dsn: str) -> Iterator[RunningSuperset]:
    """Install (once per machine, cached under ~/.cache), initialise, serve and import."""
    venv = ensure_superset_venv(cached_venv_dir())
    home = Path(tempfile.mkdtemp(prefix="subway-superset-"))
    local = LocalSuperset(home, venv)
    try:
        local.initialise()
        url = local.start(free_port())
        client = SupersetClient(url)
        client.login(ADMIN_USER, local.admin_password)
        import_dashboard(client, dashboard_dsn)
        yield RunningSuperset(url=url, client=client, superset=local)
    finally:
        local.stop()
        shutil.rmtree(home, ignore_errors=True)
