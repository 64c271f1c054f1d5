"""``python -m benchmarks.mart_floor``: what PostgreSQL alone needs for a 100x month.

The mart's part of the 100x target, measured without the platform: COPY 1.85M gold-shaped
rows of one month (the synthetic 100x volume; 126 MiB of CSV) into a table of the mart's
columns on the embedded PostgreSQL, over one connection and over two at once, then build
the primary key the mart table carries, ``(month, use_date, line_no, station_name)``.
Prints the figures. If this alone takes longer than 1.85M rows / 500k rows/s = 3.7 s, no
pipeline that ends in a keyed PostgreSQL table reaches 500k rows/s end to end here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

CREATE = (
    "CREATE TABLE {} (month text NOT NULL, use_date date, line_no text, station_name text, "
    "pass_in bigint, pass_out bigint, reg_date date, source_rows integer, station_id text, "
    "latitude double precision, longitude double precision)"
)
ADD_KEY = "ALTER TABLE floor_one ADD PRIMARY KEY (month, use_date, line_no, station_name)"


def rows_csv(n: int) -> list[bytes]:
    """Two halves of ``n`` distinct gold-shaped rows of January 2019, as CSV."""
    lines = [
        f"201901,2019-01-{1 + i % 31:02d},{i % 20}호선,역{i // 620},{i % 5000},{i % 4000},"
        f"2019-02-03,1,{i % 900},37.5,127.0\n"
        for i in range(n)
    ]
    return ["".join(lines[: n // 2]).encode(), "".join(lines[n // 2 :]).encode()]


def copy(dsn: str, table: str, data: bytes) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(
            sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))
        ) as cp:
            for off in range(0, len(data), 1 << 20):
                cp.write(data[off : off + (1 << 20)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_850_731, help="rows (default: the 100x month)"
    )
    args = parser.parse_args(argv)
    import psycopg
    from psycopg import sql

    from subway_platform.platform.services import EmbeddedServices

    work = Path(tempfile.mkdtemp(prefix="subway-floor-"))
    work.chmod(0o711)  # PostgreSQL runs as its own user and must enter the state dir
    services = EmbeddedServices(work / "state")
    dsn = services.start()["SUBWAY_MART_DSN"]
    try:
        halves = rows_csv(args.rows)
        print(f"{args.rows:,} rows, {sum(map(len, halves)) / 2**20:.1f} MiB of CSV", flush=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for table in ("floor_one", "floor_two"):
                conn.execute(sql.SQL(CREATE).format(sql.Identifier(table)))
        start = time.perf_counter()
        copy(dsn, "floor_one", b"".join(halves))
        one = time.perf_counter() - start
        print(f"COPY, 1 connection:  {one:5.2f} s  {args.rows / one:>10,.0f} rows/s", flush=True)
        start = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(ADD_KEY)
        key = time.perf_counter() - start
        print(f"primary key build:   {key:5.2f} s  {args.rows / key:>10,.0f} rows/s", flush=True)
        start = time.perf_counter()
        threads = [threading.Thread(target=copy, args=(dsn, "floor_two", half)) for half in halves]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        two = time.perf_counter() - start
        print(f"COPY, 2 connections: {two:5.2f} s  {args.rows / two:>10,.0f} rows/s", flush=True)
        best = min(one, two) + key
        print(
            f"mart floor (best COPY + key): {best:.2f} s = {args.rows / best:,.0f} rows/s at most, "
            f"before bronze and gold do anything",
            flush=True,
        )
    finally:
        services.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
