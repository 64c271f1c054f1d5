"""``python -m benchmarks.engine_floor``: what embedded Sail alone needs for a 100x month.

The bronze and gold part of the 100x target (600k rows/s per layer: 3.1 s for the
1,850,731 rows of the synthetic 100x month), measured without the platform, as
``mart_floor.py`` does for PostgreSQL. On a local directory, with the embedded Sail the
platform uses (one process, ``local`` mode):

1. ``parquet -> delta``: read a Parquet file of gold-shaped rows and write it as a new
   Delta table partitioned by month (what every bronze and gold write does at least);
2. ``aggregate``: one ``groupBy(month)`` with a count and two sums over the same Parquet
   (one check scan);
3. ``parse + aggregate``: the same after gold's text parsing (regular expressions on two
   count columns and a date), i.e. one scan of typed bronze;
   ``parse + merge keys + write``: gold's one unavoidable pass, reduced to its core:
   parse, sum rows repeating the key (1.85M distinct keys here) and write the month;
4. for comparison, ``delta-rs`` (``deltalake.write_deltalake``) writing the same Arrow
   table without an engine, and ``pyarrow`` writing the Parquet file.

With ``--sample`` the same engine cases run on the platform's own 100x month instead
(``sample_data`` at 100x, staged by ``ingest``: real-shaped Korean names, dates and counts
as text) with the platform's own expressions (``typed_columns``, ``gold_frame``) and no
Dagster, no checks, no station join: the smallest reproduction of a bronze write, gold's
core pass and one check scan.

Prints seconds and rows/s per case (best of ``--repeat``). If 1. alone is slower than
3.1 s, no bronze or gold step that writes its month once through Sail reaches 600k rows/s
on this machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def gold_shaped(n: int) -> Any:
    """``n`` distinct rows of January 2019 with the mart's columns, as an Arrow table,
    with the two counts also as text (what bronze holds)."""
    import numpy as np
    import pyarrow as pa

    i = np.arange(n)
    days = 1 + i % 31
    pass_in = i % 5000
    pass_out = i % 4000
    return pa.table(
        {
            "month": pa.array(["201901"] * n),
            "use_date_text": pa.array([f"201901{d:02d}" for d in days]),
            "line_no": pa.array([f"{k}호선" for k in i % 20]),
            "station_name": pa.array([f"역{k}" for k in i // 620]),
            "pass_in": pa.array(pass_in, pa.int64()),
            "pass_out": pa.array(pass_out, pa.int64()),
            "pass_in_text": pa.array([str(v) for v in pass_in]),
            "pass_out_text": pa.array([f"{v}.0" for v in pass_out]),
            "source_rows": pa.array(np.ones(n, dtype=np.int64)),
            "station_id": pa.array([str(k) for k in i % 900]),
            "latitude": pa.array(np.full(n, 37.5)),
            "longitude": pa.array(np.full(n, 127.0)),
        }
    )


def best(repeat: int, fn: Any) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_850_731, help="default: the 100x month")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sample", action="store_true", help="the platform's staged 100x month and expressions"
    )
    args = parser.parse_args(argv)
    if args.sample:
        return sample_floor(args.repeat)

    import pyarrow.parquet as pq
    from deltalake import write_deltalake
    from pyspark.sql import functions as F

    from subway_platform.assets.transforms import count_value, date_value
    from subway_platform.resources.spark import connect_session, embedded_sail_url

    work = Path(tempfile.mkdtemp(prefix="engine-floor-"))
    try:
        table = gold_shaped(args.rows)
        source = work / "gold.parquet"
        figures: dict[str, float] = {}
        figures["pyarrow: write parquet"] = best(args.repeat, lambda: pq.write_table(table, source))
        counter = iter(range(1000))

        def fresh() -> str:
            return str(work / f"delta{next(counter)}")

        figures["delta-rs: write_deltalake"] = best(
            args.repeat,
            lambda: write_deltalake(fresh(), table, partition_by=["month"], mode="overwrite"),
        )
        spark = connect_session(embedded_sail_url())
        df = spark.read.parquet(str(source))
        figures["sail: parquet -> delta"] = best(
            args.repeat,
            lambda: df.write.format("delta").mode("overwrite").partitionBy("month").save(fresh()),
        )
        figures["sail: aggregate"] = best(
            args.repeat,
            lambda: df.groupBy("month")
            .agg(F.count(F.lit(1)), F.sum("pass_in"), F.sum("pass_out"))
            .collect(),
        )
        parsed = df.select(
            "month",
            count_value(F.col("pass_in_text")).alias("a"),
            count_value(F.col("pass_out_text")).alias("b"),
            date_value(F.col("use_date_text")).alias("d"),
        )
        figures["sail: parse + aggregate"] = best(
            args.repeat,
            lambda: parsed.groupBy("month").agg(F.count("d"), F.sum("a"), F.sum("b")).collect(),
        )
        keyed = df.select(
            "month",
            date_value(F.col("use_date_text")).alias("use_date"),
            "line_no",
            "station_name",
            count_value(F.col("pass_in_text")).alias("pass_in"),
            count_value(F.col("pass_out_text")).alias("pass_out"),
        )
        merged = keyed.groupBy("month", "use_date", "line_no", "station_name").agg(
            F.count(F.lit(1)).alias("source_rows"),
            F.sum("pass_in").alias("pass_in"),
            F.sum("pass_out").alias("pass_out"),
        )
        figures["sail: parse + merge keys + write"] = best(
            args.repeat,
            lambda: merged.write.format("delta")
            .mode("overwrite")
            .partitionBy("month")
            .save(fresh()),
        )
        figures["sail: parse + write delta"] = best(
            args.repeat,
            lambda: parsed.write.format("delta")
            .mode("overwrite")
            .partitionBy("month")
            .save(fresh()),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"{args.rows:,} rows, best of {args.repeat}; load average {load[0]:.2f}")
    print(f"{'case':<32} {'s':>7} {'rows/s':>10}")
    for name, seconds in figures.items():
        print(f"{name:<32} {seconds:>7.2f} {args.rows / seconds:>10,.0f}")
    return 0


def sample_floor(repeat: int) -> int:
    """The engine cases on the platform's own staged 100x month (see the module docstring)."""
    import numpy as np
    from pyspark.sql import functions as F

    from subway_platform.assets.gold_plan import gold_frame
    from subway_platform.assets.transforms import typed_columns
    from subway_platform.datasets import DAILY
    from subway_platform.ingest.stage import stage_landing_file
    from subway_platform.resources.spark import connect_session, embedded_sail_url
    from subway_platform.sample_data.generate import _stations, write_daily_file

    work = Path(tempfile.mkdtemp(prefix="engine-floor-"))
    try:
        write_daily_file(work, "201901", _stations(100.0), np.random.default_rng([7, 201901]))
        source = work / "CARD_SUBWAY_MONTH_201901.csv"
        staged_path = work / "staged.parquet"
        figures: dict[str, float] = {}
        start = time.perf_counter()
        staged = stage_landing_file(
            source, staged_path, file_name=source.name, spec=DAILY, months=["201901"]
        )
        figures["ingest: stage the CSV (pyarrow)"] = time.perf_counter() - start
        rows = staged.rows
        counter = iter(range(1000))

        def fresh() -> str:
            return str(work / f"delta{next(counter)}")

        spark = connect_session(embedded_sail_url())
        bronze_df = spark.read.parquet(str(staged_path)).withColumn("_source_object", F.lit("f"))
        figures["sail: bronze write (staged -> delta)"] = best(
            repeat,
            lambda: bronze_df.write.format("delta")
            .mode("overwrite")
            .partitionBy("month")
            .save(fresh()),
        )
        bronze_url = fresh()
        bronze_df.write.format("delta").mode("overwrite").partitionBy("month").save(bronze_url)
        bronze = spark.read.format("delta").load(bronze_url)
        typed = typed_columns(DAILY, bronze)
        figures["sail: parse + aggregate (a check scan)"] = best(
            repeat,
            lambda: typed.groupBy("month")
            .agg(F.count(F.lit(1)), F.sum("pass_in"), F.sum("pass_out"))
            .collect(),
        )
        good = typed.filter(F.col("_reject_reason").isNull()).drop(
            "_reject_reason", "_source_object", "_source_row", "_month_value"
        )
        gold = gold_frame(DAILY, good)
        figures["sail: gold core (parse, merge, write)"] = best(
            repeat,
            lambda: gold.write.format("delta").mode("overwrite").partitionBy("month").save(fresh()),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"{rows:,} rows of the staged 100x sample month, best of {repeat}; load {load[0]:.2f}")
    print(f"{'case':<40} {'s':>7} {'rows/s':>10}")
    for name, seconds in figures.items():
        print(f"{name:<40} {seconds:>7.2f} {rows / seconds:>10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
