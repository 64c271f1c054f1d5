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

import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy.exc
from dagster import Field
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import (
    DagsterPostgresException,
    get_token_provider_from_config,
    pg_url_from_config,
)

from subway_platform.configuration import DAGSTER_PG_URL, dagster_pg_url

# Threads of one process that may hold a connection at once beyond the kept one (the
# daemon's sensor and run-queue threads, the webserver's requests); beyond that they wait.
MAX_OVERFLOW = 20
# Connections are recycled after an hour so a long-lived daemon survives server restarts.
POOL_RECYCLE_S = 3600
# How long a storage call waits out a lost server (a restart, a failover) before failing.
RECONNECT_WINDOW_S = 60.0
# The calls a run worker makes on every event and step: retried when the connection is
# lost mid-statement. dagster-postgres retries only opening a connection (about 6 s).
RETRIED_CALLS = {
    "_event_log_storage": (
        "store_event",
        "store_event_batch",
        "get_records_for_run",
        "get_logs_for_run",
    ),
    "_run_storage": ("handle_run_event", "add_run_tags", "get_run_records", "get_runs"),
}

_log = logging.getLogger(__name__)


def retried_on_lost_connection(call: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``call``, tried again (0.5, 1, 2, 4, 5 s ... apart, for up to RECONNECT_WINDOW_S)
    when PostgreSQL cut its connection; any other error is raised at once.

    A write cut after the server committed it but before it answered is written twice: a
    repeated event line, never a lost one.
    """

    @functools.wraps(call)
    def retrying(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + RECONNECT_WINDOW_S
        delay = 0.5
        while True:
            try:
                return call(*args, **kwargs)
            except (sqlalchemy.exc.OperationalError, DagsterPostgresException) as err:
                if time.monotonic() + delay > deadline:
                    raise
                _log.warning(
                    "instance database: %s lost its connection (%s); again in %.1f s",
                    name,
                    type(err.__cause__ or err).__name__,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    return retrying


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
        self.survive_restarts()

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

    def survive_restarts(self) -> None:
        """Retry the run worker's storage calls across a lost connection (a PostgreSQL
        restart cuts statements in flight: "server closed the connection unexpectedly"),
        so a restart does not fail the step that was logging (test_instance_storage_restart,
        the topology's PostgreSQL drill)."""
        for attribute, names in RETRIED_CALLS.items():
            storage = getattr(self, attribute)
            for name in names:
                setattr(storage, name, retried_on_lost_connection(getattr(storage, name), name))

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
