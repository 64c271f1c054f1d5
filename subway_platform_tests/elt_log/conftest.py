"""Fixtures of the ELT log tests: a PostgreSQL-backed Dagster instance of their own.

The instance lives in a fresh database on the session's embedded PostgreSQL (the same
server as the mart), so its runs are only this folder's: the sync command and the sensor,
which read every finished run of the instance, see exactly the runs these tests made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from subway_platform.elt_log.table import ensure_elt_log_table
from subway_platform.resources.postgres import MartDatabase

INSTANCE_URL_ENV = "SUBWAY_ELT_LOG_TEST_DAGSTER_PG_URL"

_DAGSTER_YAML = f"""\
storage:
  postgres:
    postgres_url:
      env: {INSTANCE_URL_ENV}
telemetry:
  enabled: false
"""


def _url_with_database(dsn: str, database: str) -> str:
    parts = conninfo_to_dict(dsn)
    # The explicit driver matters: SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3,
    # with which dagster-postgres's `NOTIFY run_events, %(id)s` fails (server-side binding).
    return (
        f"postgresql+psycopg2://{parts['user']}:{parts['password']}@{parts['host']}:{parts['port']}"
        f"/{database}"
    )


@pytest.fixture(scope="module")
def dagster_home(services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A DAGSTER_HOME whose instance stores runs and events in a new PostgreSQL database."""
    database = f"elt_log_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text(_DAGSTER_YAML)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        patch.setenv(INSTANCE_URL_ENV, _url_with_database(services.mart_dsn, database))
        yield home
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


@pytest.fixture(scope="module")
def instance(dagster_home: Path) -> Iterator[dg.DagsterInstance]:
    """The PostgreSQL-backed Dagster instance of ``dagster_home``."""
    with dg.DagsterInstance.get() as inst:
        yield inst


@pytest.fixture
def conn(services) -> Iterator[psycopg.Connection]:
    """A connection to the mart database, where ``elt_manager_log`` lives (created)."""
    with psycopg.connect(make_conninfo(services.mart_dsn), autocommit=True) as connection:
        ensure_elt_log_table(connection)
        yield connection


@pytest.fixture
def mart(services) -> MartDatabase:
    """The mart resource as the sensor receives it."""
    return MartDatabase(dsn=services.mart_dsn)
