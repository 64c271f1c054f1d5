"""Faults injected while a load runs. Every table ends fully old or fully new, the error is
clear and secret-free, and the ELT log says what happened."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from pyspark.sql import functions as F
from reliability_support import (
    BRONZE,
    GOLD,
    assert_engines_agree,
    daily_file,
    delta_month,
    elt_rows,
    failure_text,
    load_good_month,
    mart_month,
    run_log_text,
    snapshot,
    spark,
)

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.stores.delta_log import write_delta
from subway_platform_tests.zone import Zone, file_totals

MONTH = "201908"
NAME = f"CARD_SUBWAY_MONTH_{MONTH}.csv"


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shorter_month(tmp_path: Path) -> Path:
    """The month's real file without its last 200 rows: a different, valid load."""
    lines = daily_file(MONTH).read_bytes().rstrip(b"\r\n").split(b"\r\n")
    path = tmp_path / NAME
    path.write_bytes(b"\r\n".join(lines[:-200]) + b"\r\n")
    return path


KILL_MID_COPY = [
    "CREATE SEQUENCE rel_copy_rows",
    # Kills the COPY's own session once 5000 rows have arrived across the engine's tasks.
    "CREATE FUNCTION rel_kill_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF nextval('rel_copy_rows') > 5000 THEN "
    "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
    "RETURN NEW; END $$",
    # The staging table gets a fresh name per load: arm it as soon as it is created.
    "CREATE FUNCTION rel_arm_stage() RETURNS event_trigger LANGUAGE plpgsql AS $$ "
    "DECLARE obj record; BEGIN "
    "FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() "
    "WHERE command_tag = 'CREATE TABLE' LOOP "
    # The staging table is partitioned by month: arm the partitioned parent (its row
    # trigger is cloned onto every month partition).
    "IF obj.object_identity LIKE 'public._stage_subway_passengers%' "
    "AND (SELECT relkind FROM pg_class WHERE oid = obj.objid) = 'p' THEN "
    "EXECUTE format('CREATE TRIGGER rel_kill_copy BEFORE INSERT ON %s FOR EACH ROW "
    "EXECUTE FUNCTION rel_kill_copy()', obj.objid::regclass); END IF; END LOOP; END $$",
    "CREATE EVENT TRIGGER rel_arm_stage ON ddl_command_end WHEN TAG IN ('CREATE TABLE') "
    "EXECUTE FUNCTION rel_arm_stage()",
]
DISARM = [
    "DROP EVENT TRIGGER IF EXISTS rel_arm_stage",
    "DROP FUNCTION IF EXISTS rel_arm_stage()",
    "DROP FUNCTION IF EXISTS rel_kill_copy() CASCADE",
    "DROP SEQUENCE IF EXISTS rel_copy_rows",
]


def killed(text: str) -> bool:
    """The error of a session the server terminated: libpq reports the server's FATAL
    message, or, when the socket closed before it was read (a COPY still sending), that
    the server closed the connection."""
    return "terminating connection" in text or "server closed the connection unexpectedly" in text


def test_connection_killed_mid_copy_keeps_the_mart_month(zone: Zone, tmp_path: Path) -> None:
    before = load_good_month(zone, MONTH)
    new_file = _shorter_month(tmp_path)
    zone.upload(new_file)
    with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
        for statement in KILL_MID_COPY:
            conn.execute(statement)
    try:
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
        copied = zone.query("SELECT last_value FROM rel_copy_rows")[0][0]
    finally:
        with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
            for statement in DISARM:
                conn.execute(statement)
    assert not result.success
    assert 5000 < copied < before["mart"][0]  # it died in the middle of the COPY
    assert {e.step_key for e in result.get_step_failure_events()} == {"mart__subway_passengers"}
    assert killed(failure_text(result))
    # Mart: fully old. Bronze and gold: fully new (they committed before the mart step).
    assert mart_month(zone, MONTH) == before["mart"]
    totals = file_totals(new_file)
    assert delta_month(zone, GOLD, MONTH).rows == len(totals["keys"])
    assert delta_month(zone, GOLD, MONTH).pass_in == totals["pass_in"]
    assert delta_month(zone, BRONZE, MONTH).rows == totals["rows"]
    assert (
        zone.query("SELECT count(*) FROM pg_tables WHERE starts_with(tablename, %s)", ("_stage_",))[
            0
        ][0]
        == 0
    )
    log = elt_rows(zone, result.run_id)
    assert log[BRONZE][0] is True and log[GOLD][0] is True
    assert log["mart/subway_passengers"][:2] == (False, "failed")
    # The short message is Dagster's IO-manager wrapper (see docs/reliability.md); the
    # detail column carries the cause.
    detail = zone.query(
        "SELECT error_detail FROM elt_manager_log WHERE run_id = %s AND asset_key = %s",
        (result.run_id, "mart/subway_passengers"),
    )[0][0]
    assert killed(detail)
    assert_engines_agree(zone, BRONZE, [MONTH])
    assert_engines_agree(zone, GOLD, [MONTH])


def test_mart_down_at_start_is_retried_then_fails_redacted(zone: Zone, tmp_path: Path) -> None:
    before = load_good_month(zone, MONTH)
    zone.upload(_shorter_month(tmp_path))
    secret = "Cl0sedPortSecret"
    with _env(SUBWAY_MART_DSN=f"postgresql://subway:{secret}@127.0.0.1:{_closed_port()}/subway"):
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    # The first step that needs PostgreSQL is bronze (its Delta write takes the month's
    # lock there): retried with backoff, then a clear failure; nothing was written.
    assert len(retries) == 3 and all(e.step_key == "bronze__card_subway_month" for e in retries)
    text = failure_text(result)
    assert "Connection refused" in text or "connection failed" in text, text[:400]
    assert secret not in run_log_text(zone.instance, result.run_id)
    assert mart_month(zone, MONTH) == before["mart"]
    log = elt_rows(zone, result.run_id)
    assert log[BRONZE][:2] == (False, "failed")
    assert snapshot(zone, MONTH) == before
    assert secret not in str(zone.query("SELECT * FROM elt_manager_log"))


def test_landing_bucket_missing_is_a_clear_failure(zone: Zone) -> None:
    before = load_good_month(zone, MONTH)
    with _env(SUBWAY_LANDING_URL="s3://no-such-landing-bucket/landing"):
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {"bronze__card_subway_month"}
    text = failure_text(result)
    assert "NoSuchBucket" in text, text[:400]
    assert snapshot(zone, MONTH) == before
    assert elt_rows(zone, result.run_id)[BRONZE][:2] == (False, "failed")


def test_archive_unwritable_keeps_the_file_in_landing(zone: Zone, tmp_path: Path) -> None:
    """The archive can be listed but not written (its path is a regular file): bronze is
    written, then the move fails; the file stays in landing and the log says invalid."""
    zone.upload(daily_file(MONTH))
    blocker = tmp_path / "archive-is-a-file"
    blocker.write_text("not a directory")
    with _env(SUBWAY_ARCHIVE_URL=str(blocker)):
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {"bronze__card_subway_month"}
    text = failure_text(result)
    assert "Not a directory" in text or "File exists" in text, text[:400]
    assert zone.keys(zone.landing) == [NAME]  # not lost, not half-moved
    assert (
        delta_month(zone, BRONZE, MONTH).rows == file_totals(daily_file(MONTH))["rows"]
    )  # fully new
    # Downstream never ran: the mart table was never even created.
    assert zone.query("SELECT to_regclass('public.subway_passengers')")[0][0] is None
    assert_engines_agree(zone, BRONZE, [MONTH])
    log = elt_rows(zone, result.run_id)
    assert log[BRONZE][0] is False and log[BRONZE][1] == "failed" and log[BRONZE][2]


@pytest.mark.spark_conformance
def test_failed_delta_write_leaves_the_previous_version(zone: Zone) -> None:
    """A write whose tasks fail at run time, in the middle of the write (rows past the
    10,000th raise): the Delta commit never happens. (Killing the engine's processes
    mid-load is the cluster test in ``spark_engine/test_cluster.py``.)"""
    before = load_good_month(zone, MONTH)
    session = spark()
    url = f"{zone.lake}/{GOLD}"

    gold = session.read.format("delta").load(url).filter(F.col("month") == MONTH)
    row_id = F.monotonically_increasing_id()
    failing = gold.withColumn(
        "pass_in",
        F.when(
            row_id > 10_000, F.raise_error(F.lit("injected failure in the middle of a Delta write"))
        ).otherwise(row_id),
    )
    with pytest.raises(Exception, match="injected failure"):
        write_delta(failing, url, [MONTH], None, object_storage_from_environment().delta_options())
    assert delta_month(zone, GOLD, MONTH) == before[GOLD]
    assert_engines_agree(zone, GOLD, [MONTH])
