"""A Spark Python data source that bulk-loads a DataFrame into a PostgreSQL table with COPY.

Each engine task streams its Arrow batches as CSV through psycopg's
``COPY … FROM STDIN (FORMAT csv)`` on its own connection, so nothing is collected into the
driver and no row goes through Python one at a time. It works wherever Spark 4's Python
data sources run: embedded Sail, a Sail cluster, or a Spark 4 Connect server whose Python
workers have psycopg installed.

The mart store passes where to connect as options, like the JDBC sink: ``conninfo`` (the
DSN without its password) and ``password``, an option name Spark redacts from plans, the
UI and event logs (``spark.redaction.regex``). The engine's workers need no environment of
their own, and no log line of ours shows the password.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from subway_platform.redact import redact

FORMAT_NAME = "subway_pg_copy"


@dataclass
class CopyCommitMessage(WriterCommitMessage):
    """What one task loaded."""

    rows: int


class PostgresCopyDataSource(DataSource):
    """Write-only data source ``subway_pg_copy``: options ``table`` (schema-qualified as
    ``schema.table``), ``columns`` (comma-separated, in DataFrame order), ``conninfo``
    (libpq key=value, without the password) and ``password``."""

    @classmethod
    def name(cls) -> str:
        return FORMAT_NAME

    def writer(self, schema: StructType, overwrite: bool) -> "PostgresCopyWriter":
        return PostgresCopyWriter(dict(self.options))


class PostgresCopyWriter(DataSourceArrowWriter):
    """Streams each task's Arrow batches into ``COPY … FROM STDIN (FORMAT csv)``."""

    def __init__(self, options: dict[str, str]) -> None:
        self.schema_name, self.table = options["table"].split(".", 1)
        self.columns = options["columns"].split(",")
        self.conninfo = options["conninfo"]
        self.password = options.get("password") or None

    def write(self, iterator: Iterator[pa.RecordBatch]) -> CopyCommitMessage:
        import psycopg
        from psycopg import sql

        stmt = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(self.schema_name),
            sql.Identifier(self.table),
            sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
        )
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        rows = 0
        try:
            conn = psycopg.connect(
                self.conninfo, password=self.password, application_name="subway_platform_copy"
            )
        except psycopg.Error as err:
            # The message can quote the DSN (a malformed one) and reaches the step failure.
            text = redact(str(err))
            if self.password and len(self.password) >= 4:
                text = text.replace(self.password, "***")
            raise RuntimeError(f"loading {self.table}: cannot connect: {text}") from None
        with conn:
            with conn.cursor() as cur, cur.copy(stmt) as copy:
                for batch in iterator:
                    if batch.num_rows == 0:
                        continue
                    buf = io.BytesIO()
                    pacsv.write_csv(batch.select(self.columns), buf, write_options=options)
                    copy.write(buf.getbuffer())
                    rows += batch.num_rows
            conn.commit()
        return CopyCommitMessage(rows=rows)

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        """Nothing to do: the mart store publishes the staged rows in one transaction."""

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        """Nothing to undo here: the mart store drops the staging table."""
