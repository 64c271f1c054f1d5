"""The `subway-platform` command: `dev` really starts the UI and stops everything on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platform_proc_tools import (
    descendants,
    processes_mentioning,
    wait_gone,
)

import subway_platform
from subway_platform.platform import cli
from subway_platform.platform.dev_process import DEV_SETS, spawn_dev, wait_for_location
from subway_platform.platform.processes import free_port

REPO_ROOT = Path(subway_platform.__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def test_dev_loads_code_location_and_ctrl_c_stops_every_child(
    new_state_dir: Callable[[str], Path],
) -> None:
    state_dir = new_state_dir("subway-test-dev-")
    port = free_port()
    log_path = state_dir / "dev.log"
    proc = spawn_dev(state_dir, port, log_path)  # without the variables dev must set itself
    try:
        status = wait_for_location(proc, port, 600)
        output = log_path.read_text(errors="replace")
        assert proc.poll() is None, f"subway-platform dev exited early:\n{output[-3000:]}"
        assert status is not None and status[:2] == ("LOADED", None), (
            f"code location not loaded: {status}\n{output[-3000:]}"
        )
        assert f"http://127.0.0.1:{port}" in output

        children = descendants(proc.pid)
        postmaster = (state_dir / "postgres" / "data" / "postmaster.pid").read_text().split()[0]
        children.add(int(postmaster))
        assert len(children) >= 4  # at least moto, Sail, PostgreSQL and dagster dev

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=180) == 0, log_path.read_text(errors="replace")[-3000:]
        assert wait_gone(children) == set()
        assert wait_gone(processes_mentioning(str(state_dir))) == set()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_file_dropped_in_dev_landing_reaches_mart_and_elt_log(
    new_state_dir: Callable[[str], Path],
) -> None:
    """The operator's story: `subway-platform dev` runs; a CSV is uploaded to the landing
    bucket; with no other action the landing sensor requests a run, the daemon runs it,
    and the ELT log sensor mirrors it."""
    import boto3
    import psycopg

    state_dir = new_state_dir("subway-test-dev-e2e-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in DEV_SETS}
    log_path = state_dir / "dev.log"
    proc = spawn_dev(state_dir, port, log_path)
    try:
        status = wait_for_location(proc, port, 600)
        assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
        assert status is not None and status[:2] == ("LOADED", None), status
        dev_env = cli.read_env_file(state_dir)
        assert dev_env["SUBWAY_LANDING_URL"] == "s3://subway/landing"
        # `subway-platform env` prints the same environment for a shell.
        printed = subprocess.run(
            [str(VENV_BIN / "subway-platform"), "env", "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert printed.returncode == 0 and "export SUBWAY_MART_DSN=" in printed.stdout

        s3 = boto3.client(
            "s3",
            endpoint_url=dev_env["AWS_ENDPOINT_URL"],
            region_name=dev_env["AWS_REGION"],
            aws_access_key_id=dev_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=dev_env["AWS_SECRET_ACCESS_KEY"],
        )
        from subway_platform_tests.zone import REAL

        real = REAL / "card_subway_month"
        s3.upload_file(
            str(real / "CARD_SUBWAY_MONTH_201907.csv"),
            "subway",
            "landing/CARD_SUBWAY_MONTH_201907.csv",
        )

        rows: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 480
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            with psycopg.connect(dev_env["SUBWAY_MART_DSN"]) as conn:
                exists = conn.execute("SELECT to_regclass('public.elt_manager_log')").fetchone()
                if exists and exists[0]:
                    rows = conn.execute(
                        "SELECT asset_key, partition_key, valid FROM elt_manager_log "
                        "WHERE partition_key = '201907' ORDER BY asset_key"
                    ).fetchall()
            if len(rows) == 3:
                break
            time.sleep(5)
        assert rows == [
            ("bronze/card_subway_month", "201907", True),
            ("gold/subway_passengers", "201907", True),
            ("mart/subway_passengers", "201907", True),
        ], log_path.read_text(errors="replace")[-3000:]
        with psycopg.connect(dev_env["SUBWAY_MART_DSN"]) as conn:
            count = conn.execute(
                "SELECT count(*) FROM subway_passengers WHERE month = '201907'"
            ).fetchone()
        assert count and count[0] > 0
        assert "Contents" not in s3.list_objects_v2(Bucket="subway", Prefix="landing/")
        assert (state_dir / "archive" / "CARD_SUBWAY_MONTH_201907.csv").is_file()
        # Meanwhile the daemon ran freshness_checks_sensor: the latest months are overdue,
        # and each overdue table is an ELT log row of its own (the load's rows stay valid).
        overdue: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not overdue:
            with psycopg.connect(dev_env["SUBWAY_MART_DSN"]) as conn:
                overdue = conn.execute(
                    "SELECT partition_key, valid, error_message FROM elt_manager_log "
                    "WHERE status = 'overdue' AND asset_key = 'mart/subway_passengers'"
                ).fetchall()
            time.sleep(0 if overdue else 5)
        assert overdue, log_path.read_text(errors="replace")[-3000:]
        month, valid, message = overdue[0]
        assert not valid and month > "201907" and f"{month} overdue since" in message
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert not (state_dir / cli.ENV_FILE).exists()


def test_definitions_validate_with_workspace_yaml(services: Any) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_demo_rejects_months_that_are_not_one_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--months", "201901,201903"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("subway-platform: error: DemoError:")
    assert "consecutive" in err and "\n" not in err


def test_errors_are_one_redacted_line(capsys: pytest.CaptureFixture[str]) -> None:
    def fails() -> int:
        raise RuntimeError("cannot reach postgresql://subway:s3cr3t-pw@127.0.0.1:5432/x\nretry")

    assert cli._guarded(fails) == 1
    err = capsys.readouterr().err
    assert "s3cr3t-pw" not in err
    assert err.count("\n") == 1 and "postgresql://subway:***@127.0.0.1" in err


def test_demo_command_loads_a_month_end_to_end(
    new_state_dir: Callable[[str], Path],
) -> None:
    """`subway-platform demo` in its own state dir: exit 0 and every table filled."""
    state_dir = new_state_dir("subway-test-demo-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUBWAY_", "DAGSTER_"))}
    env.pop("SPARK_REMOTE", None)
    done = subprocess.run(
        [
            str(VENV_BIN / "subway-platform"),
            "demo",
            "--state-dir",
            str(state_dir),
            "--months",
            "201901",
        ],
        cwd=state_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts: dict[str, int] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and "/" in parts[0]:
            counts[parts[0]] = int(parts[1])
    assert {k.split("/")[0] for k in counts} == {"bronze", "gold", "mart"}, done.stdout
    assert all(n > 0 for n in counts.values()), counts
    for name in ("subway_passengers", "subway_passengers_time", "subway_station"):
        assert counts[f"mart/{name}"] == counts[f"gold/{name}"], counts
    # Both runs were mirrored into the ELT log: 3 station rows + 6 monthly rows.
    assert "ELT log: 9 new rows in elt_manager_log" in done.stdout, done.stdout
    assert wait_gone(processes_mentioning(str(state_dir))) == set()
