"""Hostile input: file names and partition keys that must never reach a path or SQL, and a
scan of the package for SQL built by string formatting."""

from __future__ import annotations

import ast
import logging
import os
from pathlib import Path

import dagster as dg
import pytest
from pyspark.sql import SparkSession
from reliability_support import (
    assert_engines_agree,
    daily_file,
    load_good_month,
    mart_month,
    snapshot,
    spark,
)

import subway_platform
from subway_platform.datasets import DAILY
from subway_platform.io_managers.delta import DeltaLakeIOManager
from subway_platform.io_managers.postgres import PostgresMartIOManager
from subway_platform.partitions import InvalidPartitionKey, validate_month
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.postgres import MartDatabase
from subway_platform.resources.spark import SparkEngine
from subway_platform.sensors import LandingSensorSettings, landing_sensor
from subway_platform.stores.delta_log import month_predicate, write_delta
from subway_platform.stores.mart import MartStore
from subway_platform_tests.zone import Zone

HOSTILE_NAMES = [
    "CARD_SUBWAY_MONTH_201907'.csv",
    'CARD_SUBWAY_MONTH_201907".csv',
    "CARD_SUBWAY_MONTH_201907;DROP TABLE subway_passengers.csv",
    "CARD_SUBWAY_MONTH_201907.csv;",
    "..CARD_SUBWAY_MONTH_201907.csv",
    "CARD_SUBWAY_MONTH_201907..csv",
    "CARD_SUBWAY_MONTH_２０１９07.csv",  # full-width digits: \d matches them
    "CARD_SUBWAY_MONTH_٢٠١٩07.csv",  # Arabic-Indic digits
    "CARD_SUBWAY_MONTH_201907" + "0" * 250 + ".csv",
    "CARD_SUBWAY_MONTH_201907\t.csv",
]
HOSTILE_KEYS = [
    "2019-07",
    "201913",
    "201900",
    "20197",
    "２０１９07",
    "201907'; DROP TABLE subway_passengers;--",
    "201907 OR 1=1",
    "../201907",
    "",
]


def _landing(zone: Zone) -> LandingZone:
    return LandingZone(
        landing_url=zone.landing,
        archive_url=zone.archive,
        lake_url=zone.lake,
        storage=object_storage_from_environment(),
    )


def _upload_bytes(zone: Zone, name: str, data: bytes) -> None:
    bucket, _, prefix = zone.landing.removeprefix("s3://").partition("/")
    zone.s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=data)


def test_hostile_file_names_are_refused_by_sensor_and_bronze(
    zone: Zone, caplog: pytest.LogCaptureFixture
) -> None:
    content = daily_file("201907").read_bytes()
    for name in HOSTILE_NAMES:
        _upload_bytes(zone, name, content)
    # A key with a path below the landing prefix: its base name is what the platform sees.
    _upload_bytes(zone, "sub/../x/CARD_SUBWAY_MONTH_201907.csv;", content)
    assert len(zone.keys(zone.landing)) == len(HOSTILE_NAMES) + 1

    with (
        dg.build_sensor_context(
            instance=zone.instance,
            resources={
                "landing": _landing(zone),
                "landing_sensor_settings": LandingSensorSettings(settle_seconds=0),
            },
        ) as context,
        caplog.at_level(logging.INFO),
    ):
        context.log.addHandler(caplog.handler)
        result = landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert not result.run_requests
    for name in HOSTILE_NAMES:
        if name.isascii():
            assert f"ignored {name!r}" in caplog.text, name
    # Non-ASCII digits match the file pattern's \d, then fail month validation (logged).
    assert "invalid month partition key '２０１９07'" in caplog.text
    assert "invalid month partition key '٢٠١٩07'" in caplog.text

    assert _landing(zone).files_for(DAILY) == []
    result = zone.run("daily_passengers_job", ["201907"], raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert (
        error is not None
        and "no landing or archived card_subway_month file holds month(s) 201907" in error.message
    )
    # Nothing was moved or deleted: every hostile file is where it was uploaded.
    assert len(zone.keys(zone.landing)) == len(HOSTILE_NAMES) + 1
    assert zone.keys(zone.archive) == []


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_validate_month_refuses(key: str) -> None:
    with pytest.raises(InvalidPartitionKey):
        validate_month(key)
    with pytest.raises(InvalidPartitionKey):
        month_predicate([key, key])


def test_io_managers_refuse_hostile_keys_before_sql_or_paths(zone: Zone) -> None:
    load_good_month(zone, "201907")
    before = snapshot(zone, "201907")
    session = spark()
    frame = session.createDataFrame([("201907", "x")], "month string, station_name string")
    mart_io = PostgresMartIOManager(
        store=MartStore(
            mart=MartDatabase(dsn=zone.mart_dsn),
            spark=SparkEngine(remote=os.environ.get("SPARK_REMOTE")),
        )
    )
    delta_io = DeltaLakeIOManager(
        lakehouse=Lakehouse(lake_url=zone.lake, storage=object_storage_from_environment()),
        spark=SparkEngine(remote=os.environ.get("SPARK_REMOTE")),
    )
    for key in HOSTILE_KEYS[:-1]:
        for manager, asset in (
            (mart_io, ["mart", "subway_passengers"]),
            (delta_io, ["gold", "subway_passengers"]),
        ):
            context = dg.build_output_context(
                asset_key=dg.AssetKey(asset),
                definition_metadata={"partition_expr": "month"},
                asset_partition_key_range=dg.PartitionKeyRange(key, key),
            )
            with pytest.raises(InvalidPartitionKey):
                manager.handle_output(context, frame)
    assert snapshot(zone, "201907") == before
    assert_engines_agree(zone, "gold/subway_passengers", ["201907"])
    # No staging table was created for any of them.
    assert (
        zone.query("SELECT count(*) FROM pg_tables WHERE starts_with(tablename, %s)", ("_stage_",))[
            0
        ][0]
        == 0
    )


def test_runs_with_hostile_range_tags_fail_cleanly(zone: Zone) -> None:
    load_good_month(zone, "201907")
    before = mart_month(zone, "201907")
    for key in ("201907'; DROP TABLE subway_passengers;--", "2019-07", "201913"):
        try:
            result = zone.run("daily_passengers_job", [key, key], raise_on_error=False)
        except Exception as err:  # Dagster may refuse the range before any step runs
            text = str(err)
        else:
            assert not result.success, key
            text = "\n".join(
                e.step_failure_data.error.message
                for e in result.get_step_failure_events()
                if e.step_failure_data.error
            ) or str(result.dagster_run.status)
        assert key in text or "invalid month partition key" in text or "FAILURE" in text, (
            key,
            text[:300],
        )
        assert mart_month(zone, "201907") == before, key  # the table exists, unchanged
    assert zone.query("SELECT to_regclass('public.subway_passengers') IS NOT NULL")[0][0]


_SQL_WORDS = (
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "DELETE ",
    "DROP ",
    "CREATE ",
    "ALTER ",
    "GRANT ",
    "COPY ",
    "TRUNCATE ",
    " WHERE ",
)
# Spark (not PostgreSQL) predicates built from keys that month_predicate validates itself.
_ALLOWED = {("io_managers/delta.py", "month_predicate")}


def _formatted_strings(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every f-string, ``"..." % x`` and ``"...".format(...)`` with its literal text."""
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            found.append((node, text))
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            found.append((node, node.left.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
        ):
            found.append((node, node.func.value.value))
    return found


def _enclosing_function(tree: ast.AST, target: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            n is target for n in ast.walk(node)
        ):
            return node.name
    return "<module>"


def test_no_sql_is_built_by_string_formatting() -> None:
    root = Path(subway_platform.__file__).parent
    offenders: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root).as_posix()
        for node, text in _formatted_strings(tree):
            # SQL in this package is written in upper case; prose ("a copy of") is not.
            if (
                any(word in text for word in _SQL_WORDS)
                and (rel, _enclosing_function(tree, node)) not in _ALLOWED
            ):
                offenders.append(f"{rel}:{node.lineno}: {text[:60]!r}")
        # Whatever the text, nothing formatted may be passed to execute() or sql.SQL().
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "SQL")
            ):
                first = node.args[0] if node.args else None
                if first is not None and any(first is n for n, _ in _formatted_strings(first)):
                    offenders.append(
                        f"{rel}:{node.lineno}: formatted string passed to {node.func.attr}()"
                    )
    assert offenders == [], "\n".join(offenders)


@pytest.mark.spark_conformance
def test_replace_where_predicate_validates_its_keys(zone: Zone) -> None:
    """The Spark replaceWhere predicate is the one place SQL text is formatted: a key that
    is not a month never gets there, even when write_delta is called directly."""
    assert month_predicate(["201901", "201903"]) == "`month` >= '201901' AND `month` <= '201903'"
    session: SparkSession = spark()
    frame = session.createDataFrame([("201907", 1)], "month string, n long")
    url = f"{zone.lake}/hostile/predicate"
    write_delta(frame, url, ["201907"], None, object_storage_from_environment().delta_options())
    with pytest.raises(InvalidPartitionKey):
        write_delta(
            frame,
            url,
            ["201907' OR '1'='1"],
            None,
            object_storage_from_environment().delta_options(),
        )
    assert session.read.format("delta").load(url).count() == 1
