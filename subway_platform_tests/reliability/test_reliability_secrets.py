"""Secrets: a load failing on the mart's credentials leaks the password nowhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
from reliability_support import daily_file, elt_rows, failure_text, run_log_text

from subway_platform.elt_log.mirror import mirror_run
from subway_platform_tests.zone import Zone

REPO = Path(__file__).resolve().parents[2]
MONTH = "201912"


def _with_password(dsn: str, password: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", rf"\1:{password}@", dsn)


def test_wrong_password_cli_run_leaks_nothing(zone: Zone) -> None:
    secret = "WrongPassw0rdXyz"
    zone.upload(daily_file(MONTH))
    env = dict(os.environ, SUBWAY_MART_DSN=_with_password(zone.mart_dsn, secret))
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "subway_platform.definitions",
            "--select",
            "bronze/card_subway_month,gold/subway_passengers,mart/subway_passengers",
            "--partition",
            MONTH,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert "password authentication failed" in done.stdout + done.stderr
    assert secret not in done.stdout and secret not in done.stderr
    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert secret not in run_log_text(instance, run.run_id)
    with psycopg.connect(zone.mart_dsn) as conn:
        mirror_run(instance, run.run_id, conn)
        conn.commit()
    rows = zone.query("SELECT * FROM elt_manager_log WHERE run_id = %s", (run.run_id,))
    assert rows and secret not in str(rows)


def test_malformed_dsn_quoting_the_password_is_redacted(zone: Zone) -> None:
    """libpq quotes the offending token of a malformed URI, here the password itself."""
    secret = "Sup3r%zzSecret"
    zone.upload(daily_file(MONTH))
    # Loaded with the good DSN: a malformed one at load is refused before any run
    # (platform/test_config_errors.py); this is about one that turns bad afterwards.
    from subway_platform.definitions import defs  # noqa: F401 - built (and checked) now

    saved = os.environ["SUBWAY_MART_DSN"]
    os.environ["SUBWAY_MART_DSN"] = _with_password(zone.mart_dsn, secret)
    try:
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    finally:
        os.environ["SUBWAY_MART_DSN"] = saved
    assert not result.success
    text = failure_text(result)
    assert "invalid percent-encoded token" in text and "MartConfigurationError" in text
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    for leaked in (secret, "Sup3r", "zzSecret"):
        assert leaked not in run_log_text(zone.instance, result.run_id)
        assert leaked not in str(elt_rows(zone, result.run_id))
