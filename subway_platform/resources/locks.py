"""Locks per (table, month) across processes, held in PostgreSQL.

Delta's protocol detects two writers replacing the same month, but Sail 0.7.2 commits
both (seen in the reliability suite: two `dagster asset materialize` runs of one month
left it twice in bronze). Apache Spark with delta-spark does detect it and fails the
second commit (a concurrent-modification conflict): there the locks are not needed for
correctness, only to turn that failure into a wait, so both engines behave alike. The
first write of a table also takes its ``create`` lock (see ``io_managers.delta``). The run
queue keeps runs launched through the daemon apart; these locks also cover runs that
bypass it (in-process runs, the CLI's `asset materialize`). They are PostgreSQL session
advisory locks on the mart database: released when the connection closes, so a crashed
writer never leaves a month locked.

When that database is down, nothing is written: the locks are taken before any Delta
write starts, so :class:`LockDatabaseUnavailable` (one line naming the database by
host:port/dbname, never the password) fails the step with every table at its previous
version. It is a :class:`MartUnavailable`, so the step is retried with backoff first.

When the lock's session ends in the middle of a write (PostgreSQL restarted, the backend
killed), the lock is gone and another writer could enter; the write itself goes on and
commits (nothing tells Spark). The release notices and raises :class:`LockLost`, also
retried: the step writes its months again under a new lock, and since every write
replaces its months wholly (``replaceWhere``), whatever a concurrent writer did to them
meanwhile is replaced too.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from subway_platform.resources.postgres import MartDatabase, MartUnavailable


class LockDatabaseUnavailable(MartUnavailable):
    """The lock database could not be reached: no lock taken, nothing written."""


class LockLost(MartUnavailable):
    """A lock's session ended while it was held (the write under it has completed)."""


def database_name(dsn: str) -> str:
    """``host:port/dbname`` of ``dsn`` for messages: no user, no password."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(SUBWAY_MART_DSN unparseable)"
    host = info.get("host") or info.get("hostaddr") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or '?'}"


def slices_text(table: str, months: list[str]) -> str:
    """``table`` and the months locked, for messages (a long range as first..last)."""
    if not months or months == [""]:
        return f"{table} (whole table)"
    shown = [m or "(whole table)" for m in months]
    if len(shown) > 3:
        return f"{table} months {shown[0]}..{shown[-1]} ({len(shown)})"
    return f"{table} {', '.join(shown)}"


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


class TableLocks(dg.ConfigurableResource):
    """Serialises writers of the same table slices (``SUBWAY_MART_DSN`` holds the locks).

    If that database is unreachable, the step fails before writing anything, naming it
    (host:port/dbname); if a lock's session is lost during a write, the step is retried.
    """

    mart: dg.ResourceDependency[MartDatabase]

    @contextmanager
    def hold(self, table: str, months: list[str]) -> Iterator[None]:
        """Hold the locks of ``table``'s ``months`` (the whole table when none) until exit.

        Raises :class:`LockDatabaseUnavailable` before the body runs when the database is
        unreachable, and :class:`LockLost` after it when the locks' session ended meanwhile.
        """
        keys = sorted(f"{table}:{m}" for m in (months or [""]))  # one order: no deadlock
        where = database_name(self.mart.dsn)
        session = ExitStack()
        try:
            conn = session.enter_context(self.mart.connect(autocommit=True))
            for key in keys:
                conn.execute(sql.SQL("SELECT pg_advisory_lock(hashtext(%s))"), (f"lock:{key}",))
        except (MartUnavailable, psycopg.OperationalError) as err:
            session.close()
            raise LockDatabaseUnavailable(
                f"lock database {where} (SUBWAY_MART_DSN) unreachable, so nothing was "
                f"written to {slices_text(table, months)}: {self.mart._scrub(_first_line(err))}"
            ) from None
        with session:
            try:
                yield
            except BaseException:
                self._release(conn, keys)  # the body's error is the one to report
                raise
            lost = self._release(conn, keys)
        if lost is not None:
            raise LockLost(
                f"lock of {slices_text(table, months)} lost during the write: its session "
                f"on {where} ended ({self.mart._scrub(lost)}); another writer may have "
                "written these months meanwhile; writing them again (retry or rerun) replaces them"
            )

    @staticmethod
    def _release(conn: psycopg.Connection, keys: list[str]) -> str | None:
        """Release ``keys``; None when all were still held, else why they were not."""
        try:
            for key in keys:
                row = conn.execute(
                    sql.SQL("SELECT pg_advisory_unlock(hashtext(%s))"), (f"lock:{key}",)
                ).fetchone()
                if not row or row[0] is not True:
                    return f"{key} was no longer held"
        except psycopg.Error as err:
            return _first_line(err)
        return None
