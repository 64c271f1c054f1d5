"""The reference's hand-written daily job, done its own way, as the yardstick.

What ``load_subway_passengers`` did (``../shared/docs/reference.md``), on JVM Spark with
delta-spark, started as a classic ``spark-submit`` job: pyspark's bundled Spark 4.2,
``local[2]``, the platform's cached jars (delta-spark 4.4.0, delta-storage, the PostgreSQL
JDBC driver, hadoop-aws) on ``--jars`` and Delta's session extension and catalog in the
conf. For each month, three hops, each a delete-by-month then insert (an overwrite when
the table is new), as the framework-applied version ran them:

1. CSV -> Delta bronze (``bronze/life/CARD_SUBWAY_MONTH``, every column as text):
   ``DELETE FROM delta.`…` WHERE 사용일자 LIKE 'YYYYMM%'`` then append;
2. bronze -> Delta gold (``gold/subway_passengers``, columns renamed, counts as double);
3. gold -> PostgreSQL ``baseline_subway_passengers``: ``DELETE … WHERE use_date LIKE
   'YYYYMM%'`` with psycopg, then the rows with ``pass_in``/``pass_out`` cast to int,
   appended over JDBC.

Every row of the file reaches the mart (no merge of repeated keys, no cleansing rule
that drops a row on these files). Differences from the reference, all in the baseline's
favour: the CSV is read from local disk (not S3A), no archive move, no ELT log row, no
checks, errors are not caught.

Run it as the reference ran it, one job per month or one job for all months::

    spark-submit --master local[2] --jars <cached jars> --conf <Delta conf> \\
        benchmarks/baseline_job.py CONFIG_JSON

(``submit_argv`` builds that command line.) The job prints one JSON line with its
imports and session start, then one per pass over the months; the PostgreSQL DSN comes
from ``SUBWAY_MART_DSN`` and never appears in output or on the command line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
BRONZE = "bronze/life/CARD_SUBWAY_MONTH"
GOLD = "gold/subway_passengers"


def jdbc_target(dsn: str) -> tuple[str, dict[str, str]]:
    """JDBC URL (no credentials) and connection properties from a libpq DSN."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    url = (
        f"jdbc:postgresql://{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}"
        f"/{parts['dbname']}"
    )
    props = {
        "user": str(parts.get("user", "")),
        "password": str(parts.get("password", "")),
        "driver": "org.postgresql.Driver",
    }
    return url, props


def submit_argv(config: Mapping[str, Any]) -> list[str]:
    """``spark-submit`` of this file: local[2], the cached jars, Delta's conf."""
    from subway_platform.platform.spark.jars import cached_jars, spark_home
    from subway_platform.platform.spark.server import delta_conf

    conf = {
        **delta_conf(),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": "2g",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "2",
    }
    argv = [
        str(spark_home() / "bin" / "spark-submit"),
        "--master",
        "local[2]",
        "--name",
        "baseline_load_subway_passengers",
        "--jars",
        ",".join(str(j) for j in cached_jars()),
    ]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    return [*argv, str(Path(__file__).resolve()), json.dumps(dict(config))]


def submit_env(env: Mapping[str, str]) -> dict[str, str]:
    """The job's environment: pyspark's Spark home, this venv's Python, loopback only."""
    from subway_platform.platform.spark.jars import spark_home

    out = {
        k: v
        for k, v in env.items()
        if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")
    }
    out.update(
        SPARK_HOME=str(spark_home()),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOCAL_HOSTNAME="localhost",
    )
    return out


def all_at_once(spark: Any, config: dict[str, Any], url: str, props: dict[str, str]) -> None:
    """The strongest JVM variant: one read of all the files, one Parquet write, one JDBC write.

    What a JVM user writes for a backfill: no per-month loop, the months' rows replaced in
    the table with one ``DELETE`` then one append of all rows."""
    import psycopg
    from psycopg import sql
    from pyspark.sql import functions as F

    table, months = config["table"], config["months"]
    dsn = os.environ["SUBWAY_MART_DSN"]
    paths = [os.path.join(config["csv_dir"], f"CARD_SUBWAY_MONTH_{m}.csv") for m in months]
    parquet = os.path.join(config["lake_dir"], "gold_parquet")
    t = time.perf_counter()
    raw = spark.read.option("header", True).csv(paths)
    raw.select(
        F.col("사용일자").alias("use_date"),
        F.col("노선명").alias("line_no"),
        F.col("역명").alias("station_name"),
        F.col("승차총승객수").cast("double").alias("pass_in"),
        F.col("하차총승객수").cast("double").alias("pass_out"),
        F.col("등록일자").alias("reg_date"),
    ).write.mode("overwrite").parquet(parquet)
    t1 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE left(use_date, 6) = ANY(%s)").format(
                sql.Identifier(table)
            ),
            (months,),
        )
    spark.read.parquet(parquet).select(
        "use_date",
        "line_no",
        "station_name",
        F.col("pass_in").cast("int").alias("pass_in"),
        F.col("pass_out").cast("int").alias("pass_out"),
        "reg_date",
    ).write.jdbc(url, table, mode="append", properties=props)
    t2 = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE left(use_date, 6) = ANY(%s)").format(
                sql.Identifier(table)
            ),
            (months,),
        ).fetchone()
    print(
        json.dumps(
            {
                "pass": 1,
                "pass_s": round(t2 - t, 3),
                "layers": {"bronze": round(t1 - t, 3), "gold": 0.0, "mart": round(t2 - t1, 3)},
                "mart_rows": row[0] if row else 0,
            }
        ),
        flush=True,
    )


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    import psycopg
    from psycopg import sql
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    table = config["table"]
    dsn = os.environ["SUBWAY_MART_DSN"]
    url, props = jdbc_target(dsn)
    start = time.perf_counter()
    spark = SparkSession.builder.getOrCreate()  # master, jars, conf: from spark-submit
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - start
    print(
        json.dumps({"imports_s": round(start - T0, 3), "session_s": round(session_s, 3)}),
        flush=True,
    )

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (use_date text, line_no text, station_name text, "
                "pass_in integer, pass_out integer, reg_date text)"
            ).format(sql.Identifier(table))
        )
    bronze = os.path.join(config["lake_dir"], BRONZE)
    gold = os.path.join(config["lake_dir"], GOLD)

    parquet = config.get("format", "delta") == "parquet"

    def delsert(path: str, frame: Any, date_column: str, month: str) -> None:
        """The reference's hop: delete the month from the Delta table, then append.

        With ``"format": "parquet"`` (the fastest JVM variant: no Delta log), the month's
        directory ``month=YYYYMM`` is overwritten instead."""
        if parquet:
            frame.write.mode("overwrite").parquet(os.path.join(path, f"month={month}"))
        elif os.path.isdir(os.path.join(path, "_delta_log")):
            spark.sql(f"DELETE FROM delta.`{path}` WHERE `{date_column}` LIKE '{month}%'")
            frame.write.format("delta").mode("append").save(path)
        else:
            frame.write.format("delta").mode("overwrite").save(path)

    def month_of(path: str, date_column: str, month: str) -> Any:
        """The month just written, read back from the table."""
        if parquet:
            return spark.read.parquet(os.path.join(path, f"month={month}"))
        return spark.read.format("delta").load(path).filter(F.col(date_column).startswith(month))

    if config.get("mode") == "all-at-once":
        all_at_once(spark, config, url, props)
        spark.stop()
        return

    for n in range(config.get("passes", 1)):
        layers = {"bronze": 0.0, "gold": 0.0, "mart": 0.0}
        pass_start = time.perf_counter()
        for month in config["months"]:
            t = time.perf_counter()
            raw = spark.read.option("header", True).csv(
                os.path.join(config["csv_dir"], f"CARD_SUBWAY_MONTH_{month}.csv")
            )
            delsert(bronze, raw, "사용일자", month)
            t1 = time.perf_counter()
            renamed = month_of(bronze, "사용일자", month).select(
                F.col("사용일자").alias("use_date"),
                F.col("노선명").alias("line_no"),
                F.col("역명").alias("station_name"),
                F.col("승차총승객수").cast("double").alias("pass_in"),
                F.col("하차총승객수").cast("double").alias("pass_out"),
                F.col("등록일자").alias("reg_date"),
            )
            delsert(gold, renamed, "use_date", month)
            t2 = time.perf_counter()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE use_date LIKE %s").format(sql.Identifier(table)),
                    (f"{month}%",),
                )
            out = month_of(gold, "use_date", month).select(
                "use_date",
                "line_no",
                "station_name",
                F.col("pass_in").cast("int").alias("pass_in"),
                F.col("pass_out").cast("int").alias("pass_out"),
                "reg_date",
            )
            out.write.jdbc(url, table, mode="append", properties=props)
            t3 = time.perf_counter()
            layers["bronze"] += t1 - t
            layers["gold"] += t2 - t1
            layers["mart"] += t3 - t2
        wall = time.perf_counter() - pass_start
        # Untimed: what reached the mart, to compare with the landing files.
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE left(use_date, 6) = ANY(%s)").format(
                    sql.Identifier(table)
                ),
                (config["months"],),
            ).fetchone()
        print(
            json.dumps(
                {
                    "pass": n + 1,
                    "pass_s": round(wall, 3),
                    "layers": {k: round(v, 3) for k, v in layers.items()},
                    "mart_rows": row[0] if row else 0,
                }
            ),
            flush=True,
        )
    spark.stop()


if __name__ == "__main__":
    main()
