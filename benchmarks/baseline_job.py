"""The reference's hand-written daily job, done the classic way, as the yardstick.

A JVM Spark 4 session (pyspark's bundled Spark, ``local[2]``) loads each month like
``load_subway_passengers`` did: read the month's CSV, replace the month in the bronze
table (Parquet partitioned by month, dynamic partition overwrite: the Delta jars cannot be
installed here), then delete the month from PostgreSQL and append the renamed, cast rows
over JDBC. One session loops over the months (kinder to the baseline than one
``spark-submit`` per month). Differences from the reference, all in the baseline's favour:
CSV read from local disk (no S3A jars), no Delta log, no archive move, no ELT log row.

``python -m benchmarks.baseline_job CONFIG_JSON`` prints one JSON line per pass; the
PostgreSQL DSN comes from ``SUBWAY_MART_DSN`` and never appears in output.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

T0 = time.perf_counter()
JDBC_JAR = "/usr/share/java/postgresql.jar"


def jdbc_target(dsn: str) -> tuple[str, dict[str, str]]:
    """JDBC URL (no credentials) and connection properties from a libpq DSN."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    url = f"jdbc:postgresql://{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}/{parts['dbname']}"
    props = {"user": str(parts.get("user", "")), "password": str(parts.get("password", "")),
             "driver": "org.postgresql.Driver"}
    return url, props


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    for name in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE"):
        os.environ.pop(name, None)
    import psycopg
    from psycopg import sql
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    table = config["table"]
    dsn = os.environ["SUBWAY_MART_DSN"]
    url, props = jdbc_target(dsn)
    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("baseline_load_subway_passengers")
        .config("spark.jars", JDBC_JAR)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - start
    print(json.dumps({"imports_s": round(start - T0, 3), "session_s": round(session_s, 3)}), flush=True)

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (use_date text, line_no text, station_name text, "
                "pass_in integer, pass_out integer, reg_date text)"
            ).format(sql.Identifier(table))
        )
    bronze = config["bronze_dir"]
    for n in range(config.get("passes", 1)):
        layers = {"bronze": 0.0, "mart": 0.0}
        rows = 0
        pass_start = time.perf_counter()
        for month in config["months"]:
            t = time.perf_counter()
            raw = spark.read.option("header", True).csv(os.path.join(config["csv_dir"], f"CARD_SUBWAY_MONTH_{month}.csv"))
            raw.withColumn("month", F.lit(month)).write.mode("overwrite").partitionBy("month").parquet(bronze)
            t2 = time.perf_counter()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE use_date LIKE %s").format(sql.Identifier(table)),
                    (f"{month}%",),
                )
            out = spark.read.parquet(bronze).filter(F.col("month") == month).select(
                F.col("사용일자").alias("use_date"),
                F.col("노선명").alias("line_no"),
                F.col("역명").alias("station_name"),
                F.col("승차총승객수").cast("double").cast("int").alias("pass_in"),
                F.col("하차총승객수").cast("double").cast("int").alias("pass_out"),
                F.col("등록일자").alias("reg_date"),
            )
            out.write.jdbc(url, table, mode="append", properties=props)
            t3 = time.perf_counter()
            layers["bronze"] += t2 - t
            layers["mart"] += t3 - t2
        wall = time.perf_counter() - pass_start
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE left(use_date, 6) = ANY(%s)").format(sql.Identifier(table)),
                (config["months"],),
            ).fetchone()[0]
        print(json.dumps({"pass": n + 1, "pass_s": round(wall, 3),
                          "layers": {k: round(v, 3) for k, v in layers.items()},
                          "mart_rows": rows}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
