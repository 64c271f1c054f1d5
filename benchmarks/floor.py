"""The floor: a hand-written single-machine loader, what a team would write on one machine.

``python -m benchmarks.floor CONFIG_JSON`` (``run.py`` starts it; the DSN comes from
``SUBWAY_MART_DSN`` and never appears in output). For each landing file:

1. **read**: the bytes, decoded (UTF-8 with or without BOM, else CP949) and parsed as CSV,
   every value as text (values are quoted, counts look like ``"34944.0"``);
2. **transform**: counts as float then integer, ``use_date`` as a date, the month from it,
   repeated ``(use_date, line_no, station_name)`` keys summed (``source_rows`` counts them),
   as the platform's gold does for the daily data set;
3. **copy**: ``CREATE TABLE <table>_<month>_new`` with ``CHECK (month = …)``, the month's
   rows serialised as CSV and sent with psycopg's ``COPY``;
4. **swap**: primary key ``(month, use_date, line_no, station_name)`` built on the new
   table, then one transaction detaches and drops the old month partition of ``<table>``
   (partitioned by ``LIST (month)``, as the platform's mart table) and attaches the new
   one under its name.

Its own table (``floor_subway_passengers``), so the platform's rows are untouched. Favoured
against the platform: local files, no archive, no lake, no checks, no ELT log, no station
join. ``"engine"``: ``polars`` or ``duckdb`` for read and transform. Prints one JSON line
per file: seconds per step, rows in and out, and the month's sums.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
COLUMNS = ["use_date", "line_no", "station_name", "pass_in", "pass_out", "reg_date"]
KEY = ["month", "use_date", "line_no", "station_name"]
MART = ["month", "use_date", "line_no", "station_name", "pass_in", "pass_out", "reg_date"]
CREATE_PARENT = (
    "CREATE TABLE IF NOT EXISTS {} (month text NOT NULL, use_date date NOT NULL, "
    "line_no text NOT NULL, station_name text NOT NULL, pass_in bigint, pass_out bigint, "
    "reg_date text, source_rows bigint) PARTITION BY LIST (month)"
)


def utf8(raw: bytes) -> bytes:
    """The file's bytes as UTF-8 without BOM (the real files are CP949 or UTF-8)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:]
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        return raw.decode("cp949").encode("utf-8")


def polars_month(data: bytes) -> tuple[Any, dict[str, float]]:
    """Read and transform with Polars: the merged rows (a DataFrame) and step seconds."""
    import polars as pl

    t = time.perf_counter()
    raw = pl.read_csv(
        io.BytesIO(data),
        has_header=True,
        new_columns=COLUMNS,
        schema_overrides=dict.fromkeys(COLUMNS, pl.String),
        infer_schema=False,
    )
    t1 = time.perf_counter()
    typed = raw.select(
        pl.col("use_date").str.slice(0, 6).alias("month"),
        pl.col("use_date").str.strptime(pl.Date, "%Y%m%d"),
        pl.col("line_no").str.strip_chars(),
        pl.col("station_name").str.strip_chars(),
        pl.col("pass_in").cast(pl.Float64).cast(pl.Int64),
        pl.col("pass_out").cast(pl.Float64).cast(pl.Int64),
        pl.col("reg_date"),
    )
    merged = typed.group_by(KEY).agg(
        pl.col("pass_in").sum(),
        pl.col("pass_out").sum(),
        pl.col("reg_date").max(),
        pl.len().cast(pl.Int64).alias("source_rows"),
    )
    t2 = time.perf_counter()
    return merged, {"read": t1 - t, "transform": t2 - t1, "rows_in": raw.height}


def duckdb_month(data: bytes, work: Path) -> tuple[Any, dict[str, float]]:
    """Read and transform with DuckDB (through a UTF-8 temporary file), as Polars above."""
    import duckdb

    t = time.perf_counter()
    path = work / "floor-input.csv"
    path.write_bytes(data)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true, "
        "names = ?)",
        [str(path), COLUMNS],
    ).fetchall()
    t1 = time.perf_counter()
    merged = con.sql(
        "SELECT left(use_date, 6) AS month, strptime(use_date, '%Y%m%d')::date AS use_date, "
        "trim(line_no) AS line_no, trim(station_name) AS station_name, "
        "sum(pass_in::double::bigint)::bigint AS pass_in, "
        "sum(pass_out::double::bigint)::bigint AS pass_out, max(reg_date) AS reg_date, "
        "count(*)::bigint AS source_rows FROM raw GROUP BY ALL"
    ).pl()
    t2 = time.perf_counter()
    return merged, {"read": t1 - t, "transform": t2 - t1, "rows_in": merged["source_rows"].sum()}


def load_month(conn: Any, table: str, month: str, frame: Any) -> dict[str, float]:
    """COPY one month into a new table, key it, swap it in as the month's partition."""
    from psycopg import sql

    new, part = f"{table}_{month}_new", f"{table}_{month}"
    t = time.perf_counter()
    payload = frame.select([*MART, "source_rows"]).write_csv(include_header=False).encode()
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(new)))
    conn.execute(
        sql.SQL("CREATE TABLE {new} (LIKE {parent}, CONSTRAINT {chk} CHECK (month = {m}))").format(
            new=sql.Identifier(new),
            parent=sql.Identifier(table),
            chk=sql.Identifier(f"{new}_month"),
            m=sql.Literal(month),
        )
    )
    with conn.cursor().copy(
        sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(new), sql.SQL(", ").join(map(sql.Identifier, [*MART, "source_rows"]))
        )
    ) as cp:
        for off in range(0, len(payload), 1 << 20):
            cp.write(payload[off : off + (1 << 20)])
    conn.commit()
    t1 = time.perf_counter()
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
            sql.Identifier(new), sql.SQL(", ").join(map(sql.Identifier, KEY))
        )
    )
    conn.commit()
    t2 = time.perf_counter()
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (part,)).fetchone()
    if exists and exists[0]:
        conn.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(table), sql.Identifier(part)
            )
        )
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(part)))
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(new), sql.Identifier(part))
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
            sql.Identifier(table), sql.Identifier(part), sql.Literal(month)
        )
    )
    conn.commit()
    t3 = time.perf_counter()
    return {"copy": t1 - t, "key": t2 - t1, "swap": t3 - t2}


def month_sums(conn: Any, table: str, month: str) -> dict[str, int]:
    """Rows and summed counts of a month in a mart table (untimed verification)."""
    from psycopg import sql

    row = conn.execute(
        sql.SQL(
            "SELECT count(*), coalesce(sum(pass_in), 0), coalesce(sum(pass_out), 0) "
            "FROM {} WHERE month = %s"
        ).format(sql.Identifier(table)),
        (month,),
    ).fetchone()
    rows, pin, pout = row if row else (0, 0, 0)
    return {"rows": int(rows), "pass_in": int(pin), "pass_out": int(pout)}


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    import psycopg
    from psycopg import sql

    table, engine = config["table"], config.get("engine", "polars")
    work = Path(config.get("work_dir", "/tmp"))
    start = time.perf_counter()
    with psycopg.connect(os.environ["SUBWAY_MART_DSN"]) as conn:
        conn.execute(sql.SQL(CREATE_PARENT).format(sql.Identifier(table)))
        conn.commit()
        print(json.dumps({"imports_s": round(start - T0, 3)}), flush=True)
        for name in config["files"]:
            t = time.perf_counter()
            data = utf8(Path(name).read_bytes())
            decode = time.perf_counter() - t
            if engine == "duckdb":
                frame, steps = duckdb_month(data, work)
            else:
                frame, steps = polars_month(data)
            steps["read"] += decode
            for month in sorted(frame.get_column("month").unique().to_list()):
                import polars as pl

                part = frame.filter(pl.col("month") == month)
                steps.update(load_month(conn, table, month, part))
                print(
                    json.dumps(
                        {
                            "file": Path(name).name,
                            "month": month,
                            "rows_out": part.height,
                            "steps": {k: round(v, 3) for k, v in steps.items() if k != "rows_in"},
                            "rows_in": steps["rows_in"],
                            "sums": month_sums(conn, table, month),
                        }
                    ),
                    flush=True,
                )
        print(json.dumps({"total_s": round(time.perf_counter() - start, 3)}), flush=True)


if __name__ == "__main__":
    main()
