"""The mart's JDBC path: the engine's own PostgreSQL JDBC writer, for clusters whose Python
workers cannot import psycopg.

It writes into the same staging table as the COPY path (a partitioned parent with one
CHECKed partition per month), so the month swap that follows stays one transaction. It
needs the PostgreSQL JDBC driver on the engine's class path (``subway-platform
spark-server`` puts it there); Sail has no JDBC writer.

The password travels as the ``password`` option, which Spark redacts from plans, the UI
and event logs (``spark.redaction.regex``); it never reaches a log line of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict, make_conninfo


@dataclass(frozen=True)
class JdbcTarget:
    """Where and as whom the JDBC writer connects (``password`` is secret)."""

    url: str
    user: str
    password: str


def jdbc_target(dsn: str) -> JdbcTarget:
    """The JDBC URL and credentials equivalent to a libpq ``dsn`` (URL or key=value)."""
    params = conninfo_to_dict(dsn)
    host = str(params.get("host") or "127.0.0.1")
    if host.startswith("/"):
        raise ValueError("the JDBC mart sink needs a TCP host in SUBWAY_MART_DSN, not a socket")
    port = str(params.get("port") or "5432")
    database = str(params.get("dbname") or params.get("user") or "postgres")
    url = f"jdbc:postgresql://{host}:{port}/{database}"
    if params.get("sslmode"):
        url += f"?sslmode={params['sslmode']}"
    return JdbcTarget(
        url=url, user=str(params.get("user") or ""), password=str(params.get("password") or "")
    )


def without_password(dsn: str) -> tuple[str, str]:
    """``dsn`` as libpq ``key=value`` text without its password, and the password (``""``
    when none): the COPY sink passes them as separate options, the password under a name
    Spark redacts."""
    params = conninfo_to_dict(dsn)
    password = str(params.pop("password", None) or "")
    return make_conninfo(**{k: str(v) for k, v in params.items()}), password
