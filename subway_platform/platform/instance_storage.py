"""Dagster instance storage in PostgreSQL that keeps its connections open.

dagster-postgres 0.29.27 opens a new PostgreSQL connection for every event it stores and
every run it reads (SQLAlchemy ``NullPool``); only the webserver swaps in a pool. With a
password-checked (SCRAM) connection costing about 6-7 ms here, a twelve-month run through
``dagster asset materialize`` opened 305 connections: 2.0 s of an 11 s run (cProfile, see
benchmarks/README.md). This class is dagster-postgres' own storage with the pool the
webserver uses (``optimize_for_webserver``: one kept connection per storage, overflow for
concurrent threads, no statement timeout) switched on in every process: the CLI, run
workers, the daemon and tests.

The URL comes from the variable named by ``postgres_url_env`` (``DAGSTER_PG_URL`` in
dagster.yaml), read here rather than through Dagster's ``env:`` so that a missing or
unusable value is one line naming the variable (``ConfigurationError``) instead of a
config-system error. Any ``postgresql://`` URL works: it is given the psycopg2 driver that
dagster-postgres 0.29 is written for (with SQLAlchemy 2.1's default, psycopg 3, storing
events fails with ``the connection is closed``). ``postgres_url`` / ``postgres_db``, as in
dagster-postgres, still take precedence and are normalised the same way.
"""

import os
from collections.abc import Mapping
from typing import Any

from dagster import Field
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from subway_platform.configuration import DAGSTER_PG_URL, dagster_pg_url

# Threads of one process that may hold a connection at once beyond the kept one (the
# daemon's sensor and run-queue threads, the webserver's requests); beyond that they wait.
MAX_OVERFLOW = 20
# Connections are recycled after an hour so a long-lived daemon survives server restarts.
POOL_RECYCLE_S = 3600


class PooledPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage (runs, events, schedules) over pooled connections."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self.pool()

    def pool(self) -> None:
        """Give each of the three storages a pool (statement timeout 0 = none)."""
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage.optimize_for_webserver(
                statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=MAX_OVERFLOW
            )
            # A kept connection dies with a PostgreSQL restart; without a ping on checkout the
            # next query fails ("server closed the connection unexpectedly", seen in the
            # restart drill). dagster-postgres passes no pool_pre_ping, so set the pool's.
            storage._engine.pool._pre_ping = True  # noqa: SLF001 - SQLAlchemy's pre-ping flag

    @classmethod
    def config_type(cls) -> dict[str, Any]:  # type: ignore[override]
        """dagster-postgres' schema plus ``postgres_url_env``: the variable holding the URL."""
        postgres_url_env = Field(str, is_required=False, default_value=DAGSTER_PG_URL)
        return {**DagsterPostgresStorage.config_type(), "postgres_url_env": postgres_url_env}

    @classmethod
    def from_config_value(
        cls,
        inst_data: ConfigurableClassData | None,  # type: ignore[override]
        config_value: Mapping[str, Any],
    ) -> "PooledPostgresStorage":
        return cls(
            postgres_url=postgres_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )


def postgres_url_from_config(config_value: Mapping[str, Any]) -> str:
    """The storage's SQLAlchemy URL (``postgresql+psycopg2://``) from dagster.yaml's config.

    Raises ``ConfigurationError`` (one line, no password) when it is missing or unusable.
    """
    if config_value.get("postgres_url") or config_value.get("postgres_db"):
        return dagster_pg_url(pg_url_from_config(config_value), "postgres_url in dagster.yaml")
    name = config_value.get("postgres_url_env") or DAGSTER_PG_URL
    return dagster_pg_url(os.environ.get(name), name)
