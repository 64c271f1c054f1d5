"""Turn the mart's DSN (``SUBWAY_MART_DSN``) into what Superset needs to connect to it.

Superset stores a SQLAlchemy URI; the bundle carries it with the password masked and
the password travels separately in the import request, so it is never written to a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from subway_platform.dashboard.bundle import MASKED_PASSWORD


@dataclass(frozen=True)
class SupersetDatabase:
    """The mart as Superset sees it: a masked SQLAlchemy URI and the password apart."""

    masked_uri: str
    password: str | None

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"SupersetDatabase(masked_uri={self.masked_uri!r}, password=***)"


def superset_database(dsn: str) -> SupersetDatabase:
    """Parse a libpq DSN (URL or key=value) into a psycopg2 SQLAlchemy URI for Superset."""
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    host = params.get("host", "127.0.0.1")
    if host.startswith("/"):
        raise ValueError("SUBWAY_MART_DSN must name a TCP host for Superset, not a socket dir")
    port = params.get("port", "5432")
    user = params.get("user", "postgres")
    dbname = params.get("dbname", user)
    password = params.get("password") or None
    credentials = quote(user, safe="")
    if password is not None:
        credentials += f":{MASKED_PASSWORD}"
    uri = f"postgresql+psycopg2://{credentials}@{host}:{port}/{quote(dbname, safe='')}"
    return SupersetDatabase(masked_uri=uri, password=password)
