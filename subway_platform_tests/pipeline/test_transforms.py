"""Gold's Spark parsing agrees with the staging code's Python parsing, value by value."""

from __future__ import annotations

from pyspark.sql import SparkSession

from subway_platform.assets.transforms import count_value, station_id_value
from subway_platform.ingest.values import parse_count
from subway_platform.resources.spark import embedded_sail_url

VALUES = [
    "6199", "34944.0", "9,080", " 12 ", "\t7.", "-3", "+3", "12.5", "1e3", "90,80", "1,2345",
    "", "  ", "abc", "1234567890123456789", "123456789012345678", "0", "007", "1,234,567.00",
]


def test_spark_count_rules_equal_python_rules() -> None:
    spark = SparkSession.builder.remote(embedded_sail_url()).getOrCreate()
    df = spark.createDataFrame([(i, v) for i, v in enumerate(VALUES)], "i int, v string")
    got = [r[0] for r in df.orderBy("i").select(count_value(df.v)).collect()]
    assert got == [parse_count(v) for v in VALUES]


def test_station_ids_padded_or_not_are_one_station() -> None:
    spark = SparkSession.builder.remote(embedded_sail_url()).getOrCreate()
    df = spark.createDataFrame([(i, v) for i, v in enumerate(["0150", "150", "0", "000", " 42 ", ""])], "i int, v string")
    got = [r[0] for r in df.orderBy("i").select(station_id_value(df.v)).collect()]
    assert got == ["150", "150", "0", "0", "42", None]
