"""PostgreSQL connections for the mart and the ELT log (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from subway_platform.redact import redact


class MartDatabase(dg.ConfigurableResource):
    """The PostgreSQL database holding the mart tables and ``elt_manager_log``.

    ``dsn`` comes from ``SUBWAY_MART_DSN`` (``postgresql://user:password@host:port/db``);
    it is never logged or shown: errors are redacted.
    """

    dsn: str
    connect_timeout: int = 10

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A new connection, closed on exit. Connection errors carry no credentials."""
        try:
            conn = psycopg.connect(
                self.dsn, autocommit=autocommit, connect_timeout=self.connect_timeout,
                application_name="subway_platform",
            )
        except psycopg.OperationalError as err:
            raise MartUnavailable(redact(str(err))) from None
        try:
            yield conn
        finally:
            conn.close()


class MartUnavailable(RuntimeError):
    """The mart database could not be reached (message redacted); retried by run policies."""
