"""Issue 22 items 1 and 3 on real files: the landing files are observed sources (a corrected
upload marks its month stale before it loads), and a month unchanged since its valid load
is skipped and logged, unless the run is forced."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
from dagster._core.definitions.data_version import (
    CachingStaleStatusResolver,
    StaleCauseCategory,
    StaleStatus,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.loader import LoadingContextForTest

from subway_platform.datasets import DAILY
from subway_platform.elt_log.mirror import mirror_run, rows_for_run
from subway_platform.landing_assets import landing_key
from subway_platform.tables import tables_of
from subway_platform.tags import FORCE_TAG
from subway_platform_tests.pipeline.test_landing_sensor import _evaluate
from subway_platform_tests.zone import REAL, Zone

MONTH = "201906"
FILE = f"CARD_SUBWAY_MONTH_{MONTH}.csv"


def _record(zone: Zone, result: dg.SensorResult) -> list[dg.AssetObservation]:
    """Store the tick's observations as the sensor daemon does; return them."""
    seen = [e for e in result.asset_events or [] if isinstance(e, dg.AssetObservation)]
    for event in seen:
        zone.instance.report_runless_asset_event(event)
    return seen


def _load(
    zone: Zone, request: dg.RunRequest | None = None, **tags: str
) -> dg.ExecuteInProcessResult:
    from subway_platform.definitions import defs

    run = defs.resolve_job_def(DAILY.job_name).execute_in_process(
        instance=zone.instance,
        partition_key=MONTH,
        tags={**(request.tags if request else {}), **tags},
    )
    assert run.success
    return run


def _status(zone: Zone) -> tuple[dict[str, StaleStatus], CachingStaleStatusResolver]:
    from subway_platform.definitions import defs

    graph = defs.get_repository_def().asset_graph
    resolver = CachingStaleStatusResolver(
        zone.instance, graph, LoadingContextForTest(zone.instance)
    )
    tables = tables_of(DAILY)
    return {t.key_string: resolver.get_status(t.key, MONTH) for t in tables.logged}, resolver


def _mart_rows(zone: Zone) -> int:
    return zone.query("SELECT count(*) FROM subway_passengers WHERE month = %s", (MONTH,))[0][0]


def test_a_corrected_upload_marks_its_month_stale_before_it_loads(
    zone: Zone, tmp_path: Path
) -> None:
    zone.upload(REAL / "card_subway_month" / FILE)
    first = _evaluate(zone, None)
    [request] = first.run_requests or []
    [seen] = _record(zone, first)
    etag = zone.s3.head_object(
        Bucket=zone.landing.removeprefix("s3://").split("/", 1)[0],
        Key=f"{zone.landing.removeprefix('s3://').split('/', 1)[1]}/{FILE}",
    )["ETag"].strip('"')
    assert seen.asset_key == landing_key(DAILY) and seen.partition == MONTH
    assert seen.data_version == etag
    _load(zone, request)
    fresh, _ = _status(zone)
    assert set(fresh.values()) == {StaleStatus.FRESH}, fresh

    corrected = tmp_path / FILE
    text = (REAL / "card_subway_month" / FILE).read_bytes()
    corrected.write_bytes(text.rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n")
    zone.upload(corrected)
    tick = _evaluate(zone, first.cursor)
    [again] = _record(zone, tick)
    assert again.partition == MONTH and again.data_version not in (None, etag)
    # Before any run, the month's bronze is stale: its landing month changed. (Dagster
    # 1.13 marks the asset whose input changed; gold and mart are reloaded with it, in the
    # same job.)
    stale, resolver = _status(zone)
    assert stale[tables_of(DAILY).bronze.key_string] == StaleStatus.STALE, stale
    bronze = tables_of(DAILY).bronze.key
    causes = resolver.get_stale_causes(bronze, MONTH)
    assert [c.category for c in causes] == [StaleCauseCategory.DATA]
    assert causes[0].dependency == AssetKeyPartitionKey(landing_key(DAILY), MONTH)
    other = resolver.get_status(bronze, "201905")
    assert other == StaleStatus.MISSING

    [reload] = tick.run_requests or []
    _load(zone, reload)
    after, _ = _status(zone)
    assert set(after.values()) == {StaleStatus.FRESH}, after


def test_an_unchanged_month_is_skipped_and_logged_and_a_forced_one_reloads(zone: Zone) -> None:
    zone.upload(REAL / "card_subway_month" / FILE)
    first = _load(zone)
    rows = _mart_rows(zone)
    assert rows > 0
    logged = {r.asset_key: r for r in rows_for_run(zone.instance, first.run_id)}
    assert {r.status for r in logged.values()} == {"materialized"}
    assert all(r.valid for r in logged.values())
    tables = tables_of(DAILY)

    def last_materialization(run_id: str) -> list[str]:
        return [
            e.asset_key.to_user_string()
            for e in zone.instance.all_logs(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            )
            for e in [e.get_dagster_event()]
        ]

    # The file now sits in the archive, with the same content: nothing to do.
    assert zone.keys(zone.landing) == [] and zone.keys(zone.archive) == [FILE]
    skipped = _load(zone)
    assert last_materialization(skipped.run_id) == []
    assert _mart_rows(zone) == rows
    with psycopg.connect(zone.mart_dsn) as conn:
        assert mirror_run(zone.instance, skipped.run_id, conn) == 3
        conn.commit()
    got = zone.query(
        "SELECT asset_key, status, valid, target_read_size, error_message FROM elt_manager_log "
        "WHERE run_id = %s AND partition_key = %s ORDER BY asset_key",
        (skipped.run_id, MONTH),
    )
    assert [(r[0], r[1], r[2], r[3]) for r in got] == [
        (t.key_string, "skipped", True, 0)
        for t in sorted(tables.logged, key=lambda t: t.key_string)
    ]
    for row in got:
        assert f"unchanged since its valid load in run {first.run_id}" in row[4]
        assert FILE in row[4] and FORCE_TAG in row[4]

    forced = _load(zone, **{FORCE_TAG: "true"})
    assert sorted(last_materialization(forced.run_id)) == sorted([t.key_string for t in tables])
    reloaded = rows_for_run(zone.instance, forced.run_id)
    assert len(reloaded) == 3
    assert all(r.valid and r.status == "materialized" for r in reloaded), reloaded
    assert _mart_rows(zone) == rows

    # The mart emptied since (a rebuilt database, another mart): the unchanged month is not
    # where this run writes it, so it loads instead of being skipped.
    zone.query("DELETE FROM subway_passengers WHERE month = %s RETURNING month", (MONTH,))
    refilled = _load(zone)
    assert sorted(last_materialization(refilled.run_id)) == sorted([t.key_string for t in tables])
    assert _mart_rows(zone) == rows
