"""Classic mode, the seed's way: ``SUBWAY_SPARK_MASTER=spark://…`` makes the Spark resource a
classic session whose driver is the run worker (here, the test process), on a standalone
master and two workers started from pyspark's own distribution.

- Real months load through the platform's jobs and reconcile to the passenger.
- The Delta log's ``engineInfo`` says Apache Spark / Delta Lake (not Sail).
- The master's JSON lists the run's application, its executors sized as the job's tags
  asked, and nothing was downloaded (no Ivy resolution) when the session started.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from deltalake import DeltaTable

from subway_platform.definitions import build_definitions
from subway_platform.platform.spark.sizing import CORES_TAG, INSTANCES_TAG, MEMORY_TAG
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTHS = ["201901", "201902"]
SIZING = {INSTANCES_TAG: "2", MEMORY_TAG: "1g", CORES_TAG: "1"}


@pytest.fixture(scope="module")
def standalone(services: Any) -> Iterator[Any]:
    from subway_platform.platform.spark.classic import stop_classic
    from subway_platform.platform.spark.server import ApacheSparkServer
    from subway_platform.resources.spark import stop_sessions

    cluster = ApacheSparkServer(
        services.state_dir / "classic", services.env, workers=2, worker_memory="1536m"
    )
    master = cluster.start_cluster()
    saved = {k: os.environ.get(k) for k in ("SUBWAY_SPARK_MASTER", "SPARK_REMOTE")}
    os.environ["SUBWAY_SPARK_MASTER"] = master
    os.environ.pop("SPARK_REMOTE", None)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    stop_sessions()
    # The code location reads SUBWAY_SPARK_MASTER when it loads (the definitions are built
    # once per process): an earlier test in this process built them without it. Rebuild
    # them now, as a code location restarted with the variable would, and again afterwards.
    build_definitions.cache_clear()
    try:
        yield cluster
    finally:
        stop_classic()
        cluster.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        build_definitions.cache_clear()


def _run(zone: Zone, job: str, months: list[str] | None = None) -> Any:
    from subway_platform.definitions import defs

    tags = dict(SIZING)
    if months:
        tags["dagster/asset_partition_range_start"] = months[0]
        tags["dagster/asset_partition_range_end"] = months[-1]
    return defs.resolve_job_def(job).execute_in_process(instance=zone.instance, tags=tags)


def _master_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/json/", timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def test_real_months_reconcile_on_a_classic_session(
    zone: Zone, standalone: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    for month in MONTHS:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")

    assert _run(zone, "station_job").success
    assert _run(zone, "daily_passengers_job", MONTHS).success

    # The session is the classic one, on the standalone master.
    from dagster_pyspark import PySparkResource

    from subway_platform.platform.spark.classic import _CURRENT

    session = _CURRENT["session"]
    assert type(session).__module__ == "pyspark.sql.session"
    assert isinstance(_CURRENT["resource"], PySparkResource)
    assert _CURRENT["resource"].spark_session is session
    # delta-spark's pip settings, with the cached jars instead of a Maven package.
    assert session.conf.get("spark.jars.packages") == ""
    assert "delta-spark" in session.conf.get("spark.jars")
    assert session.sparkContext.master == os.environ["SUBWAY_SPARK_MASTER"]

    rows = zone.query(
        "SELECT month, count(*), sum(pass_in)::bigint, sum(pass_out)::bigint "
        "FROM subway_passengers GROUP BY 1 ORDER BY 1"
    )
    mart = {m: (n, i, o) for m, n, i, o in rows}
    for month in MONTHS:
        totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        assert mart[month] == (len(totals["keys"]), totals["pass_in"], totals["pass_out"])

    for layer in ("bronze/card_subway_month", "gold/subway_passengers"):
        history = DeltaTable(
            f"{zone.lake}/{layer}",
            storage_options=object_storage_from_environment().delta_options(),
        ).history()
        engines = {h.get("engineInfo") for h in history}
        assert engines and all(
            e and e.startswith("Apache-Spark/") and "Delta-Lake/" in e for e in engines
        ), engines

    # The master lists the run's application with two executors of 1 GiB and one core.
    state = _master_json(standalone.master_ui_url)
    apps = [a for a in state["activeapps"] if a["name"] == "subway_platform"]
    assert len(apps) == 1, state["activeapps"]
    assert apps[0]["memoryperexecutor"] == 1024 and apps[0]["cores"] == 2
    used = sorted((w["coresused"], w["memoryused"]) for w in state["workers"])
    assert used == [(1, 1024), (1, 1024)], state["workers"]

    # Nothing was resolved from Maven when the session started.
    out, err = capfd.readouterr()
    assert ":: resolving dependencies" not in out + err and "ivy" not in (out + err).lower()
