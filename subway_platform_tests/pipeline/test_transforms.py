"""Gold's Spark parsing agrees with the staging code's Python parsing, value by value, on
each engine (Spark conformance: on Sail and on Apache Spark)."""

from __future__ import annotations

import os

import pytest

from subway_platform.assets.transforms import count_value, station_id_value
from subway_platform.ingest.values import parse_count
from subway_platform.resources.spark import connect_session, spark_remote_url

VALUES = [
    "6199",
    "34944.0",
    "9,080",
    " 12 ",
    "\t7.",
    "-3",
    "+3",
    "12.5",
    "1e3",
    "90,80",
    "1,2345",
    "",
    "  ",
    "abc",
    "1234567890123456789",
    "123456789012345678",
    "0",
    "007",
    "1,234,567.00",
]


@pytest.mark.spark_conformance
def test_spark_count_rules_equal_python_rules(on_engine: str) -> None:
    spark = connect_session(spark_remote_url(os.environ.get("SPARK_REMOTE")))
    df = spark.createDataFrame([(i, v) for i, v in enumerate(VALUES)], "i int, v string")
    got = [r[0] for r in df.orderBy("i").select(count_value(df.v)).collect()]
    assert got == [parse_count(v) for v in VALUES]


@pytest.mark.spark_conformance
def test_station_ids_padded_or_not_are_one_station(on_engine: str) -> None:
    spark = connect_session(spark_remote_url(os.environ.get("SPARK_REMOTE")))
    df = spark.createDataFrame(
        [(i, v) for i, v in enumerate(["0150", "150", "0", "000", " 42 ", ""])], "i int, v string"
    )
    got = [r[0] for r in df.orderBy("i").select(station_id_value(df.v)).collect()]
    assert got == ["150", "150", "0", "0", "42", None]


@pytest.mark.spark_conformance
def test_gold_checks_flag_repeated_keys_and_unreconciled_rows(on_engine: str) -> None:
    """The gold checks on frames built by hand: a key twice and a row lost must fail."""
    from subway_platform.assets.transforms import typed_columns
    from subway_platform.checks import (
        KEYS_UNIQUE,
        RECONCILES_WITH_BRONZE,
        bronze_good_stats,
        gold_results,
    )
    from subway_platform.datasets import DAILY

    spark = connect_session(spark_remote_url(os.environ.get("SPARK_REMOTE")))
    cols = [c.name for c in DAILY.columns]
    bronze_rows = [
        ("20190701", "2호선", None, "강남", "10", "20", "20190704", "f.csv", 2, "201907"),
        ("20190701", "2호선", None, "역삼", "5", "6", "20190704", "f.csv", 3, "201907"),
    ]
    schema = ", ".join(
        [
            *(f"`{c}` string" for c in cols),
            "_source_object string",
            "_source_row long",
            "month string",
        ]
    )
    bronze = spark.createDataFrame(bronze_rows, schema)
    gold = spark.createDataFrame(
        [("201907", "강남", 1, 10, 20), ("201907", "강남", 1, 10, 20)],
        "month string, station_name string, source_rows long, pass_in long, pass_out long",
    ).selectExpr(
        "month",
        "DATE'2019-07-01' AS use_date",
        "'2호선' AS line_no",
        "station_name",
        "source_rows",
        "pass_in",
        "pass_out",
    )
    judged = gold_results(
        DAILY,
        bronze_good_stats(DAILY, typed_columns(DAILY, bronze), ["201907"]),
        gold,
        ["201907"],
        {"201907": 0},
    )
    assert list(judged) == ["201907"]
    results = {r.check_name: r for r in judged["201907"]}
    assert not results[KEYS_UNIQUE].passed
    assert "1 keys appear more than once" in (results[KEYS_UNIQUE].description or "")
    assert not results[RECONCILES_WITH_BRONZE].passed  # 역삼 is missing, 강남 doubled
