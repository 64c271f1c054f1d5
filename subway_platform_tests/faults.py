"""Real PostgreSQL faults for the mart's month swap (no test double: the server kills the
loading session itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

# An event trigger runs inside the DDL's own transaction: when the loader's swap alters the
# mart table (detaching the old month, or attaching a new one), the session is terminated
# there, in the middle of the swap transaction.
_ARM = [
    "CREATE FUNCTION kill_swap() RETURNS event_trigger LANGUAGE plpgsql AS $$ "
    "DECLARE obj record; BEGIN "
    "FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP "
    "IF obj.object_identity = {identity} THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
    "END IF; END LOOP; END $$",
    "CREATE EVENT TRIGGER kill_swap ON ddl_command_end WHEN TAG IN ('ALTER TABLE') "
    "EXECUTE FUNCTION kill_swap()",
]
_DISARM = ["DROP EVENT TRIGGER IF EXISTS kill_swap", "DROP FUNCTION IF EXISTS kill_swap()"]


@contextmanager
def kill_inside_mart_swap(dsn: str, table: str) -> Iterator[None]:
    """While active, a load that swaps months of ``public.<table>`` dies inside the swap."""
    identity = psycopg.sql.Literal(f"public.{table}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL(_ARM[0]).format(identity=identity))
        conn.execute(_ARM[1])
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for statement in _DISARM:
                conn.execute(statement)
