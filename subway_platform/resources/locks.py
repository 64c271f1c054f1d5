"""Locks per (table, month) across processes, held in PostgreSQL.

Delta's protocol detects two writers replacing the same month, but Sail 0.7.2 commits
both (seen in the reliability suite: two `dagster asset materialize` runs of one month
left it twice in bronze). Apache Spark with delta-spark does detect it and fails the
second commit (a concurrent-modification conflict): there the locks are not needed for
correctness, only to turn that failure into a wait, so both engines behave alike. The
first write of a table also takes its ``create`` lock (see ``io_managers.delta``). The run queue keeps runs launched through the daemon apart;
these locks also cover runs that bypass it (in-process runs, the CLI's `asset
materialize`). They are PostgreSQL session advisory locks on the mart database: released
when the connection closes, so a crashed writer never leaves a month locked.
"""


from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from psycopg import sql

from subway_platform.resources.postgres import MartDatabase


class TableLocks(dg.ConfigurableResource):
    """Serialises writers of the same table slices (``SUBWAY_MART_DSN`` holds the locks)."""

    mart: dg.ResourceDependency[MartDatabase]

    @contextmanager
    def hold(self, table: str, months: list[str]) -> Iterator[None]:
        """Hold the locks of ``table``'s ``months`` (the whole table when none) until exit."""
        keys = sorted(f"{table}:{m}" for m in (months or [""]))  # one order: no deadlock
        with self.mart.connect(autocommit=True) as conn:
            for key in keys:
                conn.execute(sql.SQL("SELECT pg_advisory_lock(hashtext(%s))"), (f"lock:{key}",))
            try:
                yield
            finally:
                for key in keys:
                    conn.execute(sql.SQL("SELECT pg_advisory_unlock(hashtext(%s))"), (f"lock:{key}",))
