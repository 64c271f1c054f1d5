"""The Delta writes' lock database (the mart's PostgreSQL, ``SUBWAY_MART_DSN``) down.

Every Delta write takes its per-(table, month) advisory lock there first
(``resources/locks.py``). Down before a load: the step fails before any Delta commit with
one line naming the database (host:port/dbname, no password) and saying nothing was
written; every table stays at its version, no file is added, the landing file stays. The
ELT log cannot be written either: its sensor fails its tick without moving its cursor and
mirrors the failed run once the database is back. Lost in the middle of a write (the
session killed, as a restart does): the write commits, the release notices and says so.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType
from reliability_support import (
    BRONZE,
    GOLD,
    daily_file,
    delta_month,
    failure_text,
    load_good_month,
    run_log_text,
    spark,
)

from subway_platform.elt_log.sensor import elt_log_sensor
from subway_platform.io_managers.delta import DeltaLakeIOManager
from subway_platform.partitions import monthly_partitions
from subway_platform.platform import postgres as embedded_postgres
from subway_platform.platform.postgres import EmbeddedPostgres
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import LockLost, TableLocks
from subway_platform.resources.postgres import MartDatabase, MartUnavailable
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta_log import write_delta
from subway_platform_tests.conftest import make_state_dir
from subway_platform_tests.zone import Zone, file_totals

LOADED, DOWN_MONTH = "201907", "201908"
RIDERS_SCHEMA = StructType([StructField("month", StringType()), StructField("riders", LongType())])


class LockDatabase:
    """A PostgreSQL server of its own (the session's serves the other tests), stopped
    and started again on the same port, as a restarted database server would be."""

    def __init__(self, root: Path) -> None:
        self.server = EmbeddedPostgres(root / "postgres", root / "postgres.password")
        self.server.start()
        assert self.server.port is not None
        self.port = self.server.port
        self.dsn = self.server.dsn("subway")
        self.password = self.server.password()

    def stop(self) -> None:
        self.server.stop()

    def start_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(embedded_postgres, "free_port", lambda: self.port)
            self.server.start()

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture
def lock_db(monkeypatch: pytest.MonkeyPatch, on_engine: str) -> Iterator[LockDatabase]:
    """The mart (and so the lock) database of this test: ``SUBWAY_MART_DSN`` points at it."""
    root = make_state_dir("subway-test-lockdb-")
    db = LockDatabase(root)
    monkeypatch.setenv("SUBWAY_MART_DSN", db.dsn)
    try:
        yield db
    finally:
        db.stop()
        shutil.rmtree(root, ignore_errors=True)


def lake_files(zone: Zone) -> list[str]:
    """Every object under the test's lake prefix (data files and Delta logs)."""
    bucket, _, prefix = zone.lake.removeprefix("s3://").partition("/")
    pages = zone.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def versions(zone: Zone) -> dict[str, int]:
    """Version of every Delta table of the test's lake that exists."""
    out: dict[str, int] = {}
    for table in (BRONZE, GOLD, "gold/rejects/card_subway_month"):
        url = f"{zone.lake}/{table}"
        if DeltaTable.is_deltatable(
            url, storage_options=object_storage_from_environment().delta_options()
        ):
            out[table] = DeltaTable(
                url, storage_options=object_storage_from_environment().delta_options()
            ).version()
    return out


def sensor_tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    mart = MartDatabase(dsn=os.environ["SUBWAY_MART_DSN"], connect_timeout=3)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"mart": mart})
    result = elt_log_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_lock_database_down_writes_nothing_then_the_month_loads_when_it_is_back(
    zone: Zone, lock_db: LockDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone.upload(daily_file(LOADED))
    assert zone.run("daily_passengers_job", [LOADED]).success
    before_versions, before_files = versions(zone), lake_files(zone)
    assert set(before_versions) >= {BRONZE, GOLD}
    before_bronze = delta_month(zone, BRONZE, LOADED)

    lock_db.stop()
    zone.upload(daily_file(DOWN_MONTH))
    failed = zone.run("daily_passengers_job", [DOWN_MONTH], raise_on_error=False)

    assert not failed.success
    retries = [e for e in failed.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 3 and {e.step_key for e in retries} == {"bronze__card_subway_month"}
    assert {e.step_key for e in failed.get_step_failure_events()} == {"bronze__card_subway_month"}
    text = failure_text(failed)
    line = next((x for x in text.splitlines() if "lock database" in x), "")
    assert f"lock database 127.0.0.1:{lock_db.port}/subway (SUBWAY_MART_DSN) unreachable" in line, (
        text
    )
    assert f"nothing was written to {zone.lake}/{BRONZE} {DOWN_MONTH}" in line, line
    assert "Connection refused" in line, line
    assert lock_db.password not in run_log_text(zone.instance, failed.run_id)
    # Nothing written: same versions, not one new object in the lake, the file still waits.
    assert versions(zone) == before_versions
    # Not one new object in any table. Bronze's staging copy of the file (written before
    # the Delta write, outside every table) may be left under _staging/<run id>/ until
    # its generator is closed: no reader looks there.
    new_files = set(lake_files(zone)) - set(before_files)
    staging = f"{zone.lake.removeprefix('s3://').partition('/')[2]}/_staging/{failed.run_id}/"
    assert all(key.startswith(staging) for key in new_files), new_files
    assert set(before_files) <= set(lake_files(zone))
    assert delta_month(zone, BRONZE, DOWN_MONTH).rows == 0
    assert delta_month(zone, BRONZE, LOADED) == before_bronze
    assert daily_file(DOWN_MONTH).name in zone.keys(zone.landing)

    # The ELT log lives in the same database: the sensor's tick fails, its cursor stays.
    with pytest.raises(MartUnavailable, match=f"port {lock_db.port} failed"):
        sensor_tick(zone.instance, None)

    lock_db.start_again(monkeypatch)
    caught_up = sensor_tick(zone.instance, None)
    assert caught_up.cursor is not None
    logged = lock_db.query(
        "SELECT valid, status, error_message FROM elt_manager_log "
        "WHERE run_id = %s AND asset_key = %s AND partition_key = %s",
        (failed.run_id, BRONZE, DOWN_MONTH),
    )
    assert len(logged) == 1 and logged[0][:2] == (False, "failed"), logged
    assert f"lock database 127.0.0.1:{lock_db.port}/subway" in logged[0][2], logged
    assert lock_db.password not in str(lock_db.query("SELECT * FROM elt_manager_log"))

    loaded = zone.run("daily_passengers_job", [DOWN_MONTH])
    assert loaded.success
    totals = file_totals(daily_file(DOWN_MONTH))
    assert delta_month(zone, BRONZE, DOWN_MONTH).rows == totals["rows"]
    assert delta_month(zone, GOLD, DOWN_MONTH).pass_in == totals["pass_in"]
    mart = lock_db.query(
        "SELECT count(*), sum(pass_in)::bigint FROM subway_passengers WHERE month = %s",
        (DOWN_MONTH,),
    )[0]
    assert mart == (len(totals["keys"]), totals["pass_in"])
    kept = delta_month(zone, BRONZE, LOADED)  # the other month untouched by either run
    assert (kept.rows, kept.pass_in) == (before_bronze.rows, before_bronze.pass_in)

    # The next tick mirrors the successful run too, from where the last one stopped.
    sensor_tick(zone.instance, caught_up.cursor)
    valid = lock_db.query(
        "SELECT valid FROM elt_manager_log WHERE run_id = %s AND asset_key = %s",
        (loaded.run_id, BRONZE),
    )
    assert valid == [(True,)]


@pytest.mark.spark_conformance
def test_lock_session_killed_mid_write_is_reported_after_the_commit(
    zone: Zone, tmp_path: Path
) -> None:
    """The lock's backend is terminated from inside the write's tasks (what a PostgreSQL
    restart does to the session): the write goes on and commits, the lock was free for
    any other writer meanwhile, and the release raises ``LockLost`` saying so."""
    month = DOWN_MONTH
    before = load_good_month(zone, month)[GOLD]
    url = f"{zone.lake}/{GOLD}"
    marker = str(tmp_path / "lock-session-killed")
    dsn = zone.mart_dsn

    @F.udf(returnType=LongType())
    def kill_lock_sessions_once(value: int) -> int:
        import os as os_

        import psycopg as pg

        try:
            os_.close(os_.open(marker, os_.O_CREAT | os_.O_EXCL | os_.O_WRONLY))
        except FileExistsError:
            return value
        with pg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            )
        return value

    frame = spark().read.format("delta").load(url).filter(F.col("month") == month)
    frame = frame.withColumn("pass_in", kill_lock_sessions_once(F.col("pass_in")))
    locks = TableLocks(mart=MartDatabase(dsn=dsn))
    with pytest.raises(LockLost) as lost:
        with locks.hold(url, [month]):
            write_delta(
                frame, url, [month], locks, object_storage_from_environment().delta_options()
            )
            # The lock is free while its holder still runs: another writer could enter.
            with psycopg.connect(dsn, autocommit=True) as other:
                key = f"lock:{url}:{month}"
                taken = other.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
                ).fetchone()
                other.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            assert taken == (True,)
    assert Path(marker).exists()
    message = str(lost.value)
    assert f"lock of {url} {month} lost during the write" in message, message
    assert "127.0.0.1:" in message and "/subway ended" in message, message
    assert "another writer may have written these months" in message
    password = psycopg.conninfo.conninfo_to_dict(dsn)["password"]
    assert password and password not in message
    # The write committed under the lost lock: one version more, the same month.
    after = delta_month(zone, GOLD, month)
    assert after.version == before.version + 1
    assert (after.rows, after.pass_in, after.pass_out) == (
        before.rows,
        before.pass_in,
        before.pass_out,
    )
    assert "\n" not in message


def test_lock_lost_in_a_run_is_retried_and_the_month_written_once(
    zone: Zone, tmp_path: Path
) -> None:
    """The same kill inside a run's Delta write (the platform's IO manager and locks): the
    release raises ``LockLost``, the step is retried, and the retry writes the month again
    under a new lock, so it holds exactly one copy of the month."""
    armed, marker = str(tmp_path / "armed"), str(tmp_path / "lock-session-killed")
    dsn = zone.mart_dsn
    session = spark()  # a Connect session first: pyspark builds Connect UDFs only then

    @F.udf(returnType=LongType())
    def kill_lock_sessions_once(value: int) -> int:
        import os as os_

        import psycopg as pg

        if not os_.path.exists(armed):
            return value
        try:
            os_.close(os_.open(marker, os_.O_CREAT | os_.O_EXCL | os_.O_WRONLY))
        except FileExistsError:
            return value
        with pg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            )
        return value

    @dg.asset(
        key=["lockdemo", "riders"],
        partitions_def=monthly_partitions,
        metadata={"partition_expr": "month"},
        io_manager_key="delta_io_manager",
    )
    def riders(context: dg.AssetExecutionContext) -> Any:
        month = context.partition_key
        frame = session.createDataFrame([(month, n) for n in range(1_000)], RIDERS_SCHEMA)
        return frame.withColumn("riders", kill_lock_sessions_once(F.col("riders")))

    locks = TableLocks(mart=MartDatabase(dsn=dsn))
    io_manager = DeltaLakeIOManager(
        lakehouse=Lakehouse(lake_url=zone.lake, storage=object_storage_from_environment()),
        spark=SparkEngine(remote=os.environ.get("SPARK_REMOTE")),
        locks=locks,
    )

    def run(month: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [riders],
            partition_key=month,
            instance=zone.instance,
            resources={"delta_io_manager": io_manager},
            raise_on_error=False,
        )

    assert run("201906").success  # the table exists: the next write is a replaceWhere
    url = f"{zone.lake}/lockdemo/riders"
    first = DeltaTable(
        url, storage_options=object_storage_from_environment().delta_options()
    ).version()
    Path(armed).touch()
    result = run(LOADED)

    assert result.success
    assert Path(marker).exists()
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    assert "transient error (LockLost)" in run_log_text(zone.instance, result.run_id)
    table = DeltaTable(url, storage_options=object_storage_from_environment().delta_options())
    assert table.version() == first + 2  # the write under the lost lock, then the retry's
    data = table.to_pyarrow_table()
    months = data.column("month").to_pylist()
    assert months.count(LOADED) == 1_000 and months.count("201906") == 1_000
