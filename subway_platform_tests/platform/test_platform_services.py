"""The embedded services, really started: PostgreSQL, moto's S3 server, restarts, signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from platform_proc_tools import alive, wait_gone

from subway_platform.platform.services import EmbeddedServices


def test_postgres_round_trip(services: Any) -> None:
    with psycopg.connect(services.mart_dsn) as conn:
        conn.execute("CREATE TABLE platform_round_trip (month text, riders bigint)")
        conn.execute(
            "INSERT INTO platform_round_trip VALUES (%s, %s), (%s, %s)",
            ("201901", 10, "201902", 32),
        )
        total = conn.execute("SELECT sum(riders) FROM platform_round_trip").fetchone()
        conn.execute("DROP TABLE platform_round_trip")
    assert total == (42,)


def test_postgres_listens_on_loopback_with_password_only(services: Any) -> None:
    dsn = services.mart_dsn
    assert "@127.0.0.1:" in dsn
    with psycopg.connect(dsn) as conn:
        listen = conn.execute("SHOW listen_addresses").fetchone()
        encryption = conn.execute("SHOW password_encryption").fetchone()
        databases = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert listen == ("127.0.0.1",)
    assert encryption == ("scram-sha-256",)
    assert {"subway", "dagster"} <= databases
    wrong = dsn.replace(dsn.split("//")[1].split("@")[0], "subway:wrong-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()
    password_file = services.state_dir / "postgres.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


def test_s3_write_list_read(services: Any, s3_client: Any) -> None:
    body = "사용일자,노선명,역명\n20190101,2호선,강남\n".encode()
    key = "platform-test/landing/CARD_SUBWAY_MONTH_201901.csv"
    s3_client.put_object(Bucket="subway", Key=key, Body=body)
    listed = s3_client.list_objects_v2(Bucket="subway", Prefix="platform-test/")
    assert [o["Key"] for o in listed["Contents"]] == [key]
    assert s3_client.get_object(Bucket="subway", Key=key)["Body"].read() == body
    s3_client.delete_object(Bucket="subway", Key=key)
    assert "Contents" not in s3_client.list_objects_v2(Bucket="subway", Prefix="platform-test/")


def test_environment_points_at_loopback(services: Any) -> None:
    env = services.env
    assert env["SUBWAY_LANDING_URL"] == "s3://subway/landing"
    # moto keeps S3 in memory: archive and lake persist in the state dir instead.
    assert env["SUBWAY_ARCHIVE_URL"] == str((services.state_dir / "archive").resolve())
    assert env["SUBWAY_LAKE_URL"] == str((services.state_dir / "lake").resolve())
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://subway:")
    assert env["DAGSTER_PG_URL"].endswith("/dagster")
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "SPARK_REMOTE" not in env  # the test session uses Sail in process
    assert (Path(env["DAGSTER_HOME"]) / "dagster.yaml").is_file()
    assert os.environ["SUBWAY_MART_DSN"] == services.mart_dsn


def test_restart_reuses_postgres_data_and_leaves_no_process(
    new_state_dir: Callable[[str], Path],
) -> None:
    state_dir = new_state_dir("subway-test-restart-")
    first = EmbeddedServices(state_dir)
    with first as env:
        with psycopg.connect(env["SUBWAY_MART_DSN"]) as conn:
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES (%s)", ("survives a restart",))
        started = set(first.child_pids())
        assert len(started) == 2  # moto and the postmaster
    assert wait_gone(started) == set()

    with EmbeddedServices(state_dir) as env_again:
        with psycopg.connect(env_again["SUBWAY_MART_DSN"]) as conn:
            rows = conn.execute("SELECT note FROM kept").fetchall()
    assert rows == [("survives a restart",)]
    # Same generated password, new port: data and credentials are kept, ports are not.
    assert env_again["SUBWAY_MART_DSN"].split("@")[0] == env["SUBWAY_MART_DSN"].split("@")[0]


def test_second_stack_on_same_state_dir_is_refused(
    new_state_dir: Callable[[str], Path],
) -> None:
    state_dir = new_state_dir("subway-test-lock-")
    with EmbeddedServices(state_dir):
        with pytest.raises(RuntimeError, match="another subway-platform process"):
            EmbeddedServices(state_dir).start()


_CHILD = """
import sys, time
from pathlib import Path
from subway_platform.platform.services import EmbeddedServices
services = EmbeddedServices(Path(sys.argv[1]))
services.start()
print(" ".join(str(p) for p in services.child_pids()), flush=True)
time.sleep(600)
"""


def test_sigterm_stops_every_service(
    new_state_dir: Callable[[str], Path],
) -> None:
    state_dir = new_state_dir("subway-test-sigterm-")
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(state_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    pids = {int(p) for p in proc.stdout.readline().split()}
    assert len(pids) == 2 and all(alive(p) for p in pids)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    assert wait_gone(pids) == set()
