"""The fourth data set (paid/free boardings, ``datasets/pay_free.py``) end to end.

It was added as its spec file plus its entry in the registry; this test shows everything
else follows from the spec: the landing sensor picks its job, bronze, gold (every declared
column kept, repeated keys summed, the station join) and the mart load with their checks,
the ELT log rows (its own domain, action prefix and sums) and the dashboard's domain chart.

No real file of this data set was found in public repositories, so the file is built in
the portal's documented layout (Seoul open data ``CardSubwayPayFree``) from the real
201904 daily file: each (line, station)'s month totals, split into paid and free riders.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from pathlib import Path

import dagster as dg
import psycopg
from deltalake import DeltaTable

from subway_platform.dashboard.views import ensure_dashboard_views
from subway_platform.datasets import ALL_DATASETS
from subway_platform.datasets.pay_free import PAY_FREE
from subway_platform.elt_log.mirror import mirror_run
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.pipeline.test_landing_sensor import _evaluate
from subway_platform_tests.zone import REAL, Zone

MONTH = "201904"
FILE_NAME = f"CARD_SUBWAY_PAY_FREE_{MONTH}.csv"
HEADER = [
    "사용월",
    "호선명",
    "지하철역",
    "유임승차인원",
    "무임승차인원",
    "유임하차인원",
    "무임하차인원",
    "작업일자",
]
SUMS = ("paid_in", "free_in", "paid_out", "free_out")


def _write_pay_free_file(dest: Path) -> dict[str, object]:
    """A month file in the portal's layout, and what it holds, read independently."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with (REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{MONTH}.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            key = (row["노선명"].strip(), row["역명"].strip())
            totals[key][0] += int(float(row["승차총승객수"]))
            totals[key][1] += int(float(row["하차총승객수"]))
    rows: list[list[str]] = []
    for i, ((line, station), (board, alight)) in enumerate(sorted(totals.items())):
        free_in, free_out = board // 7, alight // 8
        values = [board - free_in, free_in, alight - free_out, free_out]
        if i == 0:
            # The same key twice (a split row): gold sums it, never drops one.
            half = [v // 2 for v in values]
            rows.append([MONTH, line, station, *map(str, half), "20190502"])
            values = [v - h for v, h in zip(values, half, strict=True)]
        rows.append(
            [MONTH, line, station, *(f"{v:,}" if v > 999 else str(v) for v in values), "20190503"]
        )
    with dest.open("w", encoding="cp949", errors="strict", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    sums = [sum(v[i] for v in (_ints(r) for r in rows)) for i in range(4)]
    return {"rows": len(rows), "keys": len(totals), "sums": dict(zip(SUMS, sums, strict=True))}


def _ints(row: list[str]) -> list[int]:
    return [int(v.replace(",", "")) for v in row[3:7]]


def _sensor_request(zone: Zone) -> dg.RunRequest:
    """The one run the landing sensor requests for the zone's landing files."""
    requests = _evaluate(zone, None).run_requests or []
    assert len(requests) == 1, requests
    return requests[0]


def test_fourth_dataset_is_registered_from_its_spec_alone(services: object) -> None:
    """The code location loads (its configuration: the embedded services') with the fourth
    dataset's assets, jobs and sensor target from its spec alone."""
    from subway_platform.definitions import defs

    assert PAY_FREE in ALL_DATASETS
    job = defs.resolve_job_def("pay_free_passengers_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {
        "bronze/card_subway_pay_free",
        "gold/subway_passengers_pay_free",
        "gold/rejects/card_subway_pay_free_rejects",
        "mart/subway_passengers_pay_free",
    }
    monthly_all = defs.resolve_job_def("monthly_all_job")
    assert keys <= {k.to_user_string() for k in monthly_all.asset_layer.executable_asset_keys}
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert "pay_free_passengers_job" in {j.name for j in sensor.jobs}


def test_fourth_dataset_flows_landing_to_mart_with_checks_log_and_dashboard(
    zone: Zone, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    # The station master first, so gold gets station ids and coordinates.
    zone.upload(REAL / "subway_station" / "station_master_utf8.csv", "서울시 역사마스터 정보.csv")
    assert zone.run("station_job").success
    source = tmp_path / FILE_NAME
    expected = _write_pay_free_file(source)
    zone.upload(source)

    request = _sensor_request(zone)
    assert (request.job_name, request.partition_key) == ("pay_free_passengers_job", MONTH)
    from subway_platform.definitions import defs

    run = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=zone.instance, partition_key=request.partition_key, tags=request.tags
    )
    assert run.success
    evaluations = run.get_asset_check_evaluations()
    assert {e.asset_key.to_user_string() for e in evaluations} >= {
        "bronze/card_subway_pay_free",
        "gold/subway_passengers_pay_free",
        "mart/subway_passengers_pay_free",
    }
    failed = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed}
    assert failed == set(), failed

    # Gold keeps every declared column, sums the repeated key, and has the station join.
    gold = (
        DeltaTable(
            f"{zone.lake}/gold/subway_passengers_pay_free",
            storage_options=object_storage_from_environment().delta_options(),
        )
        .to_pyarrow_table()
        .to_pylist()
    )
    declared = {c.target for c in PAY_FREE.columns}
    assert declared | {"source_rows", "station_id", "latitude", "longitude"} <= set(gold[0])
    assert len(gold) == expected["keys"]
    assert sum(r["source_rows"] for r in gold) == expected["rows"]
    assert [r["source_rows"] for r in gold].count(2) == 1
    assert {name: sum(r[name] for r in gold) for name in SUMS} == expected["sums"]
    assert sum(1 for r in gold if r["latitude"] is not None) > 0.9 * len(gold)

    # The mart has the month, to the passenger.
    mart = zone.query(
        "SELECT count(*), sum(paid_in)::bigint, sum(free_in)::bigint, sum(paid_out)::bigint, "
        "sum(free_out)::bigint FROM subway_passengers_pay_free WHERE month = %s",
        (MONTH,),
    )[0]
    assert mart == (expected["keys"], *expected["sums"].values())

    # ELT log: the spec's domain, action prefix and sums (boardings = paid + free).
    with psycopg.connect(zone.mart_dsn) as conn:
        assert mirror_run(zone.instance, run.run_id, conn) == 3
        conn.commit()
        ensure_dashboard_views(conn)
        conn.commit()
        log = conn.execute(
            "SELECT asset_key, domain, action, valid, source_read_size, pass_in_sum, pass_out_sum "
            "FROM elt_manager_log WHERE run_id = %s ORDER BY asset_key",
            (run.run_id,),
        ).fetchall()
        domains = dict(
            conn.execute(
                "SELECT domain, sum(success_count)::int FROM elt_dashboard.status_by_domain "
                "GROUP BY domain"
            ).fetchall()
        )
    sums = expected["sums"]
    assert [row[:4] for row in log] == [
        ("bronze/card_subway_pay_free", "fare", "fare/inc", True),
        ("gold/subway_passengers_pay_free", "fare", "fare/inc", True),
        ("mart/subway_passengers_pay_free", "fare", "fare/inc", True),
    ]
    bronze = log[0]
    assert bronze[4:] == (
        expected["rows"],
        sums["paid_in"] + sums["free_in"],
        sums["paid_out"] + sums["free_out"],
    )
    assert domains["fare"] == 3

    # Nothing of the run is left in the lake's staging area (bronze's staged file, gold's
    # checkpoint).
    bucket, _, lake_prefix = zone.lake.removeprefix("s3://").partition("/")
    left = zone.s3.list_objects_v2(Bucket=bucket, Prefix=f"{lake_prefix}/_staging/{run.run_id}/")
    assert left.get("KeyCount", 0) == 0, [o["Key"] for o in left.get("Contents", [])]
