"""Delta tables written by one engine are read, time-travelled and inspected by the other.

Sail writes, delta-spark (Apache Spark 4.2 + Delta Lake 4.4) reads every version and runs
DESCRIBE HISTORY; delta-spark writes, Sail reads every version (Sail has no DESCRIBE
HISTORY: delta-rs reads the history there). delta-rs reads both tables.
"""

from __future__ import annotations

import uuid
from typing import Any

from deltalake import DeltaTable

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.spark import connect_session, embedded_sail_url


def _write_two_versions(spark: Any, url: str) -> None:
    """Version 0: months 201901-201903, 30 rows; version 1: 201902 replaced by 5 rows."""
    first = spark.range(30).selectExpr(
        "id", "concat('20190', cast(id % 3 + 1 as string)) as month", "id * 10 as pass_in"
    )
    first.write.format("delta").mode("overwrite").partitionBy("month").save(url)
    second = spark.range(5).selectExpr(
        "id + 100 as id", "'201902' as month", "cast(7 as bigint) as pass_in"
    )
    (
        second.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", "month = '201902'")
        .save(url)
    )


def _state(spark: Any, url: str, version: int | None = None) -> tuple[int, int]:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    row = reader.load(url).selectExpr("count(*) AS n", "sum(pass_in) AS s").collect()[0]
    return int(row["n"]), int(row["s"])


V0 = (30, sum(i * 10 for i in range(30)))
V1 = (20 + 5, sum(i * 10 for i in range(30) if i % 3 != 1) + 5 * 7)


def _rs(url: str) -> DeltaTable:
    return DeltaTable(url, storage_options=object_storage_from_environment().delta_options())


def test_sail_table_is_read_and_time_travelled_by_delta_spark(
    services: Any, spark_server: str
) -> None:
    url = f"s3://subway/interop-{uuid.uuid4().hex[:8]}/sail_written"
    sail = connect_session(embedded_sail_url())
    _write_two_versions(sail, url)

    spark = connect_session(spark_server)
    assert _state(spark, url) == V1
    assert _state(spark, url, version=0) == V0
    assert _state(spark, url, version=1) == V1
    history = spark.sql(f"DESCRIBE HISTORY delta.`{url}`").orderBy("version").collect()
    assert [h["version"] for h in history] == [0, 1]

    table = _rs(url)
    assert table.version() == 1
    assert table.to_pyarrow_table().num_rows == V1[0]


def test_delta_spark_table_is_read_and_time_travelled_by_sail(
    services: Any, spark_server: str
) -> None:
    url = f"s3://subway/interop-{uuid.uuid4().hex[:8]}/spark_written"
    spark = connect_session(spark_server)
    _write_two_versions(spark, url)

    sail = connect_session(embedded_sail_url())
    assert _state(sail, url) == V1
    assert _state(sail, url, version=0) == V0

    table = _rs(url)
    assert table.version() == 1
    assert table.to_pyarrow_table().num_rows == V1[0]
    # The Delta log says who wrote it: delta-spark on Apache Spark.
    engines = {h.get("engineInfo") for h in table.history()}
    assert engines == {"Apache-Spark/4.2.0 Delta-Lake/4.4.0"}
    operations = [h["operation"] for h in sorted(table.history(), key=lambda h: h["version"])]
    assert operations == ["WRITE", "WRITE"]
