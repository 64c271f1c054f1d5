"""Configuration errors are one line: the variable named, an example given, no secret echoed.

The checks of ``subway_platform.configuration`` on their own, then through what users run:
the Dagster instance and the code location against the real embedded PostgreSQL, the
``dagster`` CLI and the ``subway-platform`` command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

import subway_platform
from subway_platform.configuration import (
    ConfigurationError,
    check_environment,
    dagster_pg_url,
    environment_problems,
)

REPO_ROOT = Path(subway_platform.__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SECRET = "Hunter2Secret"

GOOD_PRODUCTION = {
    "SUBWAY_LANDING_URL": "s3://datalake/datasource",
    "SUBWAY_ARCHIVE_URL": "s3a://datalake/archive",
    "SUBWAY_LAKE_URL": "/data/lake",
    "SUBWAY_MART_DSN": f"postgresql://etl:{SECRET}@db:5432/mart?sslmode=require",
    "SPARK_REMOTE": "sc://spark-connect:15002/;token=abc",
    "SAIL_MODE": "local-cluster",
    "AWS_ENDPOINT_URL": "http://minio:9000",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "minioadmin",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_EC2_METADATA_DISABLED": "true",
}
REQUIRED = ("SUBWAY_LANDING_URL", "SUBWAY_ARCHIVE_URL", "SUBWAY_LAKE_URL", "SUBWAY_MART_DSN")


def _assert_one_clear_line(message: str, name: str) -> None:
    assert "\n" not in message
    assert name in message
    assert f"e.g. {name}=" in message
    for leaked in (SECRET, "Hunter2", "Secret%zz"):
        assert leaked not in message


def test_good_values_pass() -> None:
    assert environment_problems(GOOD_PRODUCTION) == []
    check_environment(GOOD_PRODUCTION)
    # The other accepted forms: key=value DSN, local Spark, no keys at all.
    check_environment(
        {
            **{k: GOOD_PRODUCTION[k] for k in REQUIRED},
            "SUBWAY_MART_DSN": f"host=db port=5432 dbname=mart user=etl password={SECRET}",
            "SPARK_REMOTE": "local[2]",
        }
    )


def test_the_embedded_platform_configuration_passes(services: Any) -> None:
    assert environment_problems(services.env) == []


@pytest.mark.parametrize("name", REQUIRED)
def test_missing_required_variable_is_named_with_an_example(name: str) -> None:
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != name}
    with pytest.raises(ConfigurationError) as caught:
        check_environment(env)
    message = str(caught.value)
    _assert_one_clear_line(message, name)
    assert f"{name} (" in message and ") is not set" in message
    # An empty value is as missing as an absent one.
    with pytest.raises(ConfigurationError, match=f"{name} .* is not set"):
        check_environment({**GOOD_PRODUCTION, name: ""})


MALFORMED = [
    ("SUBWAY_LANDING_URL", f"gs://key:{SECRET}@datalake/landing", "scheme 'gs'"),
    ("SUBWAY_LANDING_URL", f"s3://key:{SECRET}@datalake/landing", "holds credentials"),
    ("SUBWAY_ARCHIVE_URL", "s3://Bad_Bucket/archive", "valid bucket"),
    ("SUBWAY_LAKE_URL", "data/lake", "relative path"),
    ("SUBWAY_LAKE_URL", "/data/lake\n", "whitespace"),
    ("SUBWAY_MART_DSN", f"mysql://etl:{SECRET}@db:3306/mart", "scheme 'mysql'"),
    ("SUBWAY_MART_DSN", f"postgresql+psycopg2://etl:{SECRET}@db/mart", "no +driver"),
    ("SUBWAY_MART_DSN", f"postgresql://etl:{SECRET}%zz@db/mart", "%-escapes"),
    ("SUBWAY_MART_DSN", f"garbage{SECRET}", "not a valid PostgreSQL connection string"),
    ("SUBWAY_MART_DSN", f"postgresql://etl:{SECRET}@db:port/mart", "not a number"),
    ("SPARK_REMOTE", f"spark-connect:15002;token={SECRET}", "not a Spark Connect URL"),
    ("SPARK_REMOTE", f"sc://:15002/;token={SECRET}", "no host"),
    ("SAIL_MODE", "turbo", "local-cluster"),
    ("AWS_ENDPOINT_URL", f"minio:9000/{SECRET}", "http://"),
    ("AWS_ENDPOINT_URL", f"http://admin:{SECRET}@minio:9000", "holds credentials"),
    ("AWS_REGION", "US East 1", "region name"),
    ("AWS_SECRET_ACCESS_KEY", f"{SECRET} {SECRET}", "whitespace"),
    ("AWS_EC2_METADATA_DISABLED", "false", "must be true"),
    ("DAGSTER_HOME", "relative/home", "absolute path"),
    ("DAGSTER_HOME", "/no/such/dagster/home", "existing directory"),
]


@pytest.mark.parametrize(
    ("name", "value", "why"), MALFORMED, ids=[f"{n}-{w}" for n, _, w in MALFORMED]
)
def test_malformed_value_is_named_with_an_example_and_not_echoed(
    name: str, value: str, why: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_environment({**GOOD_PRODUCTION, name: value})
    message = str(caught.value)
    _assert_one_clear_line(message, name)
    assert why in message
    assert value not in message
    # Only the bad variable is blamed.
    assert [p.split(" ", 1)[0] for p in environment_problems({**GOOD_PRODUCTION, name: value})] == [
        name
    ]


def test_half_a_key_pair_is_named() -> None:
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != "AWS_SECRET_ACCESS_KEY"}
    with pytest.raises(ConfigurationError) as caught:
        check_environment(env)
    _assert_one_clear_line(str(caught.value), "AWS_SECRET_ACCESS_KEY")
    assert "AWS_ACCESS_KEY_ID is" in str(caught.value)


def test_every_problem_in_one_line() -> None:
    env = {**GOOD_PRODUCTION, "SUBWAY_LAKE_URL": "gs://x/y", "SAIL_MODE": "fast"}
    del env["SUBWAY_MART_DSN"]
    message = str(pytest.raises(ConfigurationError, check_environment, env).value)
    assert "\n" not in message
    assert message.count("; ") == 2
    for name in ("SUBWAY_LAKE_URL", "SAIL_MODE", "SUBWAY_MART_DSN"):
        assert f"e.g. {name}=" in message


# -- DAGSTER_PG_URL ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"]
)
def test_dagster_pg_url_gets_the_psycopg2_driver(scheme: str) -> None:
    rest = f"dagster:{SECRET}@db:5432/dagster?sslmode=require"
    assert dagster_pg_url(f"{scheme}://{rest}") == f"postgresql+psycopg2://{rest}"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "is not set"),
        ("", "is not set"),
        (f"mysql://dagster:{SECRET}@db/dagster", "scheme 'mysql'"),
        (f"garbage{SECRET}", "is not a URL"),
        (f"postgresql://dagster:{SECRET}@db:port/dagster", "not a valid URL"),
        (f"postgresql://dagster:{SECRET}@/dagster", "has no host"),
        (f"postgresql://dagster:{SECRET}@db:5432", "names no database"),
    ],
)
def test_unusable_dagster_pg_url_is_one_line(value: str | None, why: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        dagster_pg_url(value)
    message = str(caught.value)
    _assert_one_clear_line(message, "DAGSTER_PG_URL")
    assert why in message


@dg.op
def _probe_step() -> int:
    """One step, so that a run stores a handful of events."""
    return 1


def test_plain_postgresql_url_runs_against_the_real_instance(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What most people write: postgresql:// with no driver. Before, storing the first
    event failed with ``psycopg.OperationalError: the connection is closed``."""
    plain = services.env["DAGSTER_PG_URL"].replace("postgresql+psycopg2://", "postgresql://")
    assert plain.startswith("postgresql://")
    monkeypatch.setenv("DAGSTER_PG_URL", plain)
    job = dg.GraphDefinition(name="config_plain_url_probe", node_defs=[_probe_step]).to_job()
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.run_storage._engine.url.drivername == "postgresql+psycopg2"
        result = job.execute_in_process(instance=instance)
        assert result.success
        stored = instance.all_logs(result.run_id)
        assert any(e.dagster_event and e.dagster_event.is_step_success for e in stored)
        instance.delete_run(result.run_id)


def _dagster(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "dagster"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    """The last line on stderr: where a traceback puts the exception's message."""
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


# Fails while loading, before any run: nothing is materialized.
MATERIALIZE = [
    "asset",
    "materialize",
    "-m",
    "subway_platform.definitions",
    "--select",
    "mart/subway_station",
]


def test_code_location_loads_with_a_plain_postgresql_url(services: Any) -> None:
    """The real code location and instance, through the CLI, with DAGSTER_PG_URL as users
    write it."""
    plain = services.env["DAGSTER_PG_URL"].replace("postgresql+psycopg2://", "postgresql://")
    done = _dagster(
        ["definitions", "validate", "-w", "workspace.yaml"], {**os.environ, "DAGSTER_PG_URL": plain}
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_location_refuses_a_bad_mart_dsn_in_one_last_line(services: Any) -> None:
    env = {**os.environ, "SUBWAY_MART_DSN": f"mysql://etl:{SECRET}@db:3306/mart"}
    done = _dagster(MATERIALIZE, env)
    assert done.returncode != 0
    last = _last_line(done)
    assert last.startswith(
        "subway_platform.configuration.ConfigurationError: configuration: SUBWAY_MART_DSN"
    )
    _assert_one_clear_line(last, "SUBWAY_MART_DSN")
    assert SECRET not in done.stdout + done.stderr


def test_instance_refuses_a_mysql_url_in_one_last_line(services: Any) -> None:
    env = {**os.environ, "DAGSTER_PG_URL": f"mysql://dagster:{SECRET}@db:3306/dagster"}
    done = _dagster(MATERIALIZE, env)
    assert done.returncode != 0
    last = _last_line(done)
    assert last.startswith(
        "subway_platform.configuration.ConfigurationError: configuration: DAGSTER_PG_URL"
    )
    _assert_one_clear_line(last, "DAGSTER_PG_URL")
    assert SECRET not in done.stdout + done.stderr


def test_subway_platform_command_prints_the_one_line(services: Any) -> None:
    env = {**os.environ, "DAGSTER_PG_URL": f"garbage-{SECRET}"}
    done = subprocess.run(
        [str(VENV_BIN / "subway-platform"), "elt-log", "sync"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "subway-platform: error: ConfigurationError: configuration: DAGSTER_PG_URL"
    )
    assert done.stderr.count("\n") == 1
    _assert_one_clear_line(done.stderr.strip(), "DAGSTER_PG_URL")
