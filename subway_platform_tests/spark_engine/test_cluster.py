"""The distributed case, for real: a Spark standalone cluster (a master and two worker
processes on loopback, from pyspark's own distribution) behind the Spark Connect server.

- Real 2019 months load through the cluster and reconcile to the passenger.
- A worker process (and the executor it launched) is killed in the middle of a
  multi-month load. The run either recovers through Spark's task retry or fails; either
  way every month in the mart is wholly the old load or wholly the new one, and the ELT
  log says which.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from subway_platform.definitions import build_definitions
from subway_platform.platform.spark.server import descendants
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTHS = ["201901", "201902", "201903"]


@pytest.fixture(scope="module")
def cluster(services: Any) -> Iterator[Any]:
    from subway_platform.platform.processes import ServiceError
    from subway_platform.platform.spark.server import ApacheSparkServer
    from subway_platform.resources.spark import stop_sessions

    def start(name: str) -> tuple[Any, str]:
        server = ApacheSparkServer(
            services.state_dir / name, services.env, workers=2, worker_memory="1536m"
        )
        return server, server.start()

    try:
        server, url = start("spark-cluster")
    except ServiceError as first:
        # Seen once in a full run (2026-11-29): the Connect driver's JVM aborted at start
        # (exit -6) before listening, and its log went with the temporary state dir; the
        # same tests passed alone right after. The error now carries the log's tail; one
        # more start tells a transient abort from a broken setup (a second failure fails).
        print(f"cluster start failed, trying once more: {first}", file=sys.stderr)
        server, url = start("spark-cluster-again")
    saved = os.environ.get("SPARK_REMOTE")
    os.environ["SPARK_REMOTE"] = url
    build_definitions.cache_clear()  # SPARK_REMOTE is read when the code location loads
    try:
        yield server
    finally:
        stop_sessions(url)
        server.stop()
        if saved is None:
            os.environ.pop("SPARK_REMOTE", None)
        else:
            os.environ["SPARK_REMOTE"] = saved
        build_definitions.cache_clear()


def _daily(month: str) -> Path:
    return REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv"


def _mart(zone: Zone) -> dict[str, tuple[int, int, int]]:
    rows = zone.query(
        "SELECT month, count(*), sum(pass_in)::bigint, sum(pass_out)::bigint "
        "FROM subway_passengers GROUP BY 1 ORDER BY 1"
    )
    return {m: (n, i, o) for m, n, i, o in rows}


def _expected(path: Path) -> tuple[int, int, int]:
    totals = file_totals(path)
    return len(totals["keys"]), totals["pass_in"], totals["pass_out"]


def _trimmed(path: Path, out: Path, drop: int) -> Path:
    """The same month without its last ``drop`` data rows: a distinguishable new load."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[: len(lines) - drop]), encoding="utf-8")
    return out


def test_real_months_reconcile_on_the_cluster(zone: Zone, cluster: Any) -> None:
    for month in MONTHS[:2]:
        zone.upload(_daily(month))
    assert zone.run("daily_passengers_job", MONTHS[:2]).success
    assert _mart(zone) == {m: _expected(_daily(m)) for m in MONTHS[:2]}
    # The work ran on the cluster's executors, not in the driver.
    assert cluster.executor_pids()


def test_killed_worker_leaves_every_month_wholly_old_or_new(
    zone: Zone, cluster: Any, tmp_path: Path
) -> None:
    from subway_platform.elt_log.mirror import mirror_run

    for month in MONTHS:
        zone.upload(_daily(month))
    assert zone.run("daily_passengers_job", MONTHS).success
    old = {m: _expected(_daily(m)) for m in MONTHS}
    assert _mart(zone) == old

    new = {}
    for month in MONTHS:
        trimmed = _trimmed(_daily(month), tmp_path / f"CARD_SUBWAY_MONTH_{month}.csv", 50)
        zone.upload(trimmed)
        new[month] = _expected(trimmed)

    outcome: dict[str, Any] = {}

    def load() -> None:
        outcome["result"] = zone.run("daily_passengers_job", MONTHS, raise_on_error=False)

    runner = threading.Thread(target=load)
    runner.start()
    victim = cluster.worker_procs[0]
    # Kill once the run is inside Spark work: bronze is written, gold's plan is running.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not _step_started(zone.instance, "gold"):
        time.sleep(0.2)
    time.sleep(0.5)
    killed = [victim.pid, *descendants(victim.pid)]
    assert len(killed) > 1, "the worker had launched no executor"
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and the executor it launched
    runner.join(timeout=600)
    assert not runner.is_alive()
    result = outcome["result"]

    mart = _mart(zone)
    for month in MONTHS:
        assert mart[month] in (old[month], new[month]), (month, mart[month])

    with psycopg.connect(zone.mart_dsn) as conn:
        mirror_run(zone.instance, result.run_id, conn)
        conn.commit()
    rows = zone.query(
        "SELECT partition_key, valid, status FROM elt_manager_log "
        "WHERE run_id = %s AND asset_key = 'mart/subway_passengers' ORDER BY 1",
        (result.run_id,),
    )
    logged = {p: (v, s) for p, v, s in rows}
    for month in MONTHS:
        if mart[month] == new[month]:
            # The new load is in: the log says the month loaded (valid, success).
            assert logged[month][0] is True, (month, logged, killed)
        else:
            # The old load stayed: the log says this run did not publish the month.
            assert result.success is False
            assert month not in logged or logged[month][0] is False, (month, logged)
    print(f"worker killed; run success={result.success}; mart={mart}; log={logged}")


def _step_started(instance: dg.DagsterInstance, step_prefix: str) -> bool:
    runs = instance.get_runs(limit=1)
    if not runs:
        return False
    records = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START)
    return any((r.step_key or "").startswith(step_prefix) for r in records)
