"""Dagster instance storage in PostgreSQL that keeps its connections open.

dagster-postgres 0.29.27 opens a new PostgreSQL connection for every event it stores and
every run it reads (SQLAlchemy ``NullPool``); only the webserver swaps in a pool. With a
password-checked (SCRAM) connection costing about 6-7 ms here, a twelve-month run through
``dagster asset materialize`` opened 305 connections: 2.0 s of an 11 s run (cProfile, see
benchmarks/README.md). This class is dagster-postgres' own storage with the pool the
webserver uses (``optimize_for_webserver``: one kept connection per storage, overflow for
concurrent threads, no statement timeout) switched on in every process: the CLI, run
workers, the daemon and tests.
"""

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

# Threads of one process that may hold a connection at once beyond the kept one (the
# daemon's sensor and run-queue threads, the webserver's requests); beyond that they wait.
MAX_OVERFLOW = 20
# Connections are recycled after an hour so a long-lived daemon survives server restarts.
POOL_RECYCLE_S = 3600


class PooledPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage (runs, events, schedules) over pooled connections."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: ConfigurableClassData | None = None, token_provider: Any = None) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self.pool()

    def pool(self) -> None:
        """Give each of the three storages a pool (statement timeout 0 = none)."""
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage.optimize_for_webserver(statement_timeout=0, pool_recycle=POOL_RECYCLE_S,
                                           max_overflow=MAX_OVERFLOW)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,  # type: ignore[override]
                          config_value: Mapping[str, Any]) -> "PooledPostgresStorage":
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )
