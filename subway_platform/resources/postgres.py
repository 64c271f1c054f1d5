"""PostgreSQL connections for the mart and the ELT log (psycopg 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import psycopg

from subway_platform.redact import redact
from subway_platform.resources.masking import MaskedResource


class MartDatabase(MaskedResource):
    """The PostgreSQL database holding the mart tables and ``elt_manager_log``.

    ``dsn`` comes from ``SUBWAY_MART_DSN`` (``postgresql://user:password@host:port/db``);
    it is never logged or shown: errors are redacted, ``repr``/``str`` mask the password.
    """

    _dsn_fields: ClassVar[frozenset[str]] = frozenset({"dsn"})

    dsn: str
    connect_timeout: int = 10

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A new connection, closed on exit. Connection errors carry no credentials."""
        try:
            conn = psycopg.connect(
                self.dsn,
                autocommit=autocommit,
                connect_timeout=self.connect_timeout,
                application_name="subway_platform",
            )
        except psycopg.OperationalError as err:
            raise MartUnavailable(self._scrub(str(err))) from None
        except psycopg.Error as err:
            # A malformed DSN (ProgrammingError): libpq quotes the offending part, which
            # can be the password itself ('invalid percent-encoded token: "..."').
            raise MartConfigurationError(self._scrub(str(err))) from None
        try:
            yield conn
        finally:
            conn.close()

    def _scrub(self, text: str) -> str:
        """``text`` redacted, and without this resource's own password (which may not be
        in the environment when the DSN comes from run configuration)."""
        found = re.search(r"://[^:/@\s]*:([^@\s]+)@", self.dsn) or re.search(
            r"(?i)password\s*=\s*(\S+)", self.dsn
        )
        out = redact(text)
        if found and found.group(1):
            out = out.replace(found.group(1), "***")
        return out


class MartConfigurationError(ValueError):
    """The mart DSN cannot be used as written (message redacted); never retried."""


class MartUnavailable(RuntimeError):
    """The mart database could not be reached (message redacted); retried by run policies."""
