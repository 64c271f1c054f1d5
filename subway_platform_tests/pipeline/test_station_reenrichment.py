"""A station master change re-enriches exactly the affected passenger months, on real files:
three 2019 daily months loaded with the real master; the master reloaded with one station's
coordinates corrected (지축 on 일산선, which 201902 does not hold), then with a station
removed; ``station_master_sensor`` (evaluated against the test instance) requests one run
of ``reenrichment_job`` naming exactly the affected months; the run gives those months'
gold and mart rows the new coordinates, leaves the others' files untouched, and says how
many rows gained, lost or changed coordinates in its metadata and ELT log rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import dagster as dg
from psycopg import sql

from subway_platform.assets.station_match import MasterStation, StationIndex
from subway_platform.datasets import STATION
from subway_platform.reenrichment.sensor import ReenrichmentSettings, station_master_sensor
from subway_platform_tests.zone import REAL, Zone

MONTHS = ["201901", "201902", "201903"]
MASTER = REAL / "subway_station" / "station_master_utf8.csv"
MASTER_NAME = "서울시 역사마스터 정보.csv"
DAILY = "card_subway_month"


def _master_rows() -> list[dict[str, str]]:
    with MASTER.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _resolved(rows: list[dict[str, str]], line: str, name: str) -> MasterStation:
    index = StationIndex(
        (
            MasterStation(r["호선"], r["역사명"], r["역사_ID"], float(r["위도"]), float(r["경도"]))
            for r in rows
        ),
        STATION.line_aliases,
        STATION.station_aliases,
    )
    found = index.resolve(line, name).station
    assert found is not None
    return found


def _write_master(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _file_rows(month: str, line: str, name: str) -> int:
    with (REAL / DAILY / f"CARD_SUBWAY_MONTH_{month}.csv").open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return len({r[0] for r in reader if r and (r[1], r[2]) == (line, name)})


def _tick(zone: Zone, cursor: str | None, max_months: int = 12) -> tuple[Any, str | None]:
    from subway_platform.resources.environment import build_resources

    with dg.build_sensor_context(
        instance=zone.instance,
        cursor=cursor,
        resources={
            "lakehouse": build_resources()["lakehouse"],
            "reenrichment_settings": ReenrichmentSettings(max_months_per_run=max_months),
        },
    ) as context:
        result = station_master_sensor(context)
    return result, context.cursor if not isinstance(result, dg.SensorResult) else result.cursor


def _gold_files(zone: Zone) -> dict[str, set[str]]:
    from deltalake import DeltaTable

    from subway_platform.resources.environment import build_resources

    with dg.build_resources({"lakehouse": build_resources()["lakehouse"]}) as resources:
        lakehouse = resources.lakehouse
        url = lakehouse.table_url(dg.AssetKey(["gold", "subway_passengers"]))
        actions = DeltaTable(url, storage_options=lakehouse.delta_options()).get_add_actions(
            flatten=True
        )
    import pyarrow as pa

    table = pa.table(actions)
    out: dict[str, set[str]] = {}
    for path, month in zip(
        table.column("path").to_pylist(), table.column("partition.month").to_pylist(), strict=True
    ):
        out.setdefault(month, set()).add(path)
    return out


def _mart_coordinates(zone: Zone, line: str, name: str) -> dict[str, set[tuple[Any, ...]]]:
    rows = zone.query(
        sql.SQL(
            "SELECT month, station_id, latitude, longitude FROM {} "
            "WHERE line_no = %s AND station_name = %s"
        ).format(sql.Identifier("subway_passengers")),
        (line, name),
    )
    out: dict[str, set[tuple[Any, ...]]] = {}
    for month, sid, lat, lon in rows:
        out.setdefault(month, set()).add((sid, lat, lon))
    return out


def _run(zone: Zone, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    from subway_platform.definitions import defs

    return defs.resolve_job_def("reenrichment_job").execute_in_process(
        run_config=request.run_config, instance=zone.instance, tags=request.tags
    )


def _changes(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {
        (m.asset_key.to_user_string(), m.partition): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("reenrich_station_months")
    }


def test_a_station_master_change_reenriches_exactly_the_affected_months(
    zone: Zone, tmp_path: Path
) -> None:
    rows = _master_rows()
    zone.upload(MASTER, MASTER_NAME)
    assert zone.run("station_job").success
    for month in MONTHS:
        zone.upload(REAL / DAILY / f"CARD_SUBWAY_MONTH_{month}.csv")
    assert zone.run("daily_passengers_job", MONTHS).success

    # The master as loaded: nothing to do, and the cursor remembers it.
    result, cursor = _tick(zone, None)
    assert isinstance(result, dg.SensorResult) and not result.run_requests
    result, cursor = _tick(zone, cursor)
    assert isinstance(result, dg.SkipReason)

    # 1. 지축 (일산선 in the files) corrected: 201901 and 201903 hold it, 201902 does not.
    jichuk = _resolved(rows, "일산선", "지축")
    assert jichuk.latitude is not None
    corrected = [
        {**r, "위도": str(round(jichuk.latitude + 0.01, 6))}
        if (r["역사_ID"], r["역사명"]) == (jichuk.station_id, jichuk.name)
        else r
        for r in rows
    ]
    assert corrected != rows
    zone.upload(_write_master(corrected, tmp_path / "corrected.csv"), MASTER_NAME)
    assert zone.run("station_job").success
    before_files = _gold_files(zone)
    before_mart = _mart_coordinates(zone, "일산선", "지축")
    assert set(before_mart) == {"201901", "201903"}
    untouched_mart = zone.query(
        sql.SQL(
            "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t WHERE month = %s"
        ).format(sql.Identifier("subway_passengers")),
        ("201902",),
    )

    result, cursor = _tick(zone, cursor)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    request = result.run_requests[0]
    config = request.run_config["ops"]["reenrich_station_months"]["config"]
    assert config == {"months": {DAILY: ["201901", "201903"]}}
    run = _run(zone, request)
    assert run.success

    new = (jichuk.station_id, round(jichuk.latitude + 0.01, 6), jichuk.longitude)
    after_mart = _mart_coordinates(zone, "일산선", "지축")
    assert set(after_mart) == {"201901", "201903"}
    for month in ("201901", "201903"):
        ((sid, lat, lon),) = after_mart[month]
        assert (sid, round(lat, 6), lon) == new
    after_files = _gold_files(zone)
    assert after_files["201902"] == before_files["201902"]
    assert all(after_files[m].isdisjoint(before_files[m]) for m in ("201901", "201903"))
    assert (
        zone.query(
            sql.SQL(
                "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t WHERE month = %s"
            ).format(sql.Identifier("subway_passengers")),
            ("201902",),
        )
        == untouched_mart
    )
    changes = _changes(run)
    assert set(changes) == {
        (asset, month)
        for asset in ("gold/subway_passengers", "mart/subway_passengers")
        for month in ("201901", "201903")
    }
    for (_, month), metadata in changes.items():
        assert (
            metadata["reenrichment/rows_changed_coordinates"]
            == _file_rows(month, "일산선", "지축")
            > 0
        )
        assert metadata["reenrichment/rows_gained_coordinates"] == 0
        assert metadata["reenrichment/rows_lost_coordinates"] == 0
    logged = zone.mirror(
        run.run_id,
        "asset_key, partition_key, valid, source_object, source_read_size, target_read_size",
    )
    assert [(r["asset_key"], r["partition_key"], r["valid"]) for r in logged] == [
        (asset, month, True)
        for asset in ("gold/subway_passengers", "mart/subway_passengers")
        for month in ("201901", "201903")
    ]
    for row in logged:
        rows_changed = _file_rows(row["partition_key"], "일산선", "지축")
        assert (
            f"0 rows gained coordinates, 0 lost them, {rows_changed} changed them"
            in (row["source_object"])
        )
        assert row["source_read_size"] == row["target_read_size"] > 0
    # Done: the next tick has nothing left.
    result, cursor = _tick(zone, cursor)
    assert isinstance(result, dg.SkipReason)

    # 2. A station removed, with a bound of two months a run: 을지로4가 (2호선) is in every
    # month; the first run takes 201901 and 201902, the next tick 201903.
    gone = _resolved(corrected, "2호선", "을지로4가")
    removed = [r for r in corrected if (r["역사_ID"], r["역사명"]) != (gone.station_id, gone.name)]
    zone.upload(_write_master(removed, tmp_path / "removed.csv"), MASTER_NAME)
    assert zone.run("station_job").success
    result, cursor = _tick(zone, cursor, max_months=2)
    assert isinstance(result, dg.SensorResult)
    first = result.run_requests[0]
    assert first.run_config["ops"]["reenrich_station_months"]["config"] == {
        "months": {DAILY: ["201901", "201902"]}
    }
    run = _run(zone, first)
    assert run.success
    result, cursor = _tick(zone, cursor, max_months=2)
    assert isinstance(result, dg.SensorResult)
    second = result.run_requests[0]
    assert second.run_config["ops"]["reenrich_station_months"]["config"] == {
        "months": {DAILY: ["201903"]}
    }
    run2 = _run(zone, second)
    assert run2.success
    for one in (run, run2):
        for (asset, month), metadata in _changes(one).items():
            assert (
                metadata["reenrichment/rows_lost_coordinates"]
                == _file_rows(month, "2호선", "을지로4가")
                > 0
            ), (asset, month)
            assert metadata["reenrichment/rows_changed_coordinates"] == 0
    lost = _mart_coordinates(zone, "2호선", "을지로4가")
    assert set(lost) == set(MONTHS) and all(v == {(None, None, None)} for v in lost.values())
    # 지축 keeps its corrected coordinates.
    assert all(
        (sid, round(lat, 6), lon) == new
        for values in _mart_coordinates(zone, "일산선", "지축").values()
        for sid, lat, lon in values
    )
    result, cursor = _tick(zone, cursor, max_months=2)
    assert isinstance(result, dg.SkipReason)
