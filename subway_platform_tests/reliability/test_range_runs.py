"""A range of months with one bad month: the good months are published, only the bad one
is logged invalid (naming it), and the follow-up run happens once (issue 13, item 3b).

Real files: 201907 and 201909 as published, 201908 with one truncated row. 201908 was
loaded before from its good file, so the bad upload must leave that load as it was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg

from subway_platform.elt_log.run_events import BAD_MONTHS_METADATA, GOOD_MONTHS_METADATA
from subway_platform.range_runs import (
    EXCLUDED_MONTHS_TAG,
    FOLLOW_UP_TAG,
    follow_up_requests,
    range_run_sensor,
)
from subway_platform_tests.reliability.reliability_support import (
    BRONZE,
    GOLD,
    daily_file,
    elt_rows,
    load_good_month,
    mart_month,
    snapshot,
)
from subway_platform_tests.zone import Zone, file_totals

FIRST, BAD, LAST = "201907", "201908", "201909"
BAD_LINE = 18


def _truncated_copy(tmp_path: Path) -> Path:
    """The real 201908 file with line 18 cut after its third field (a truncated upload)."""
    source = daily_file(BAD)
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[BAD_LINE - 1] = ",".join(lines[BAD_LINE - 1].split(",")[:3])
    broken = tmp_path / source.name
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return broken


def _evaluate(zone: Zone, run: dg.DagsterRun, event: dg.DagsterEvent) -> list[dg.RunRequest] | None:
    """One evaluation of the run failure sensor for ``run``, against the test's instance."""
    context = dg.build_run_status_sensor_context(
        sensor_name="range_run_sensor", dagster_event=event, dagster_instance=zone.instance,
        dagster_run=run,
    ).for_run_failure()
    result = range_run_sensor(context)
    assert result is None or isinstance(result, list)
    return result


def _mart_matches_file(zone: Zone, month: str) -> None:
    totals = file_totals(daily_file(month))
    assert mart_month(zone, month) == (len(totals["keys"]), totals["pass_in"], totals["pass_out"])


def test_bad_middle_month_does_not_stop_the_good_months(zone: Zone, tmp_path: Path) -> None:
    before = load_good_month(zone, BAD)
    zone.upload(daily_file(FIRST))
    zone.upload(_truncated_copy(tmp_path))
    zone.upload(daily_file(LAST))

    failed = zone.run("daily_passengers_job", [FIRST, LAST], raise_on_error=False)
    assert not failed.success
    [failure] = failed.get_step_failure_events()
    assert failure.step_key == "bronze__card_subway_month"
    data = failure.step_failure_data
    assert data.user_failure_data is not None
    metadata = {k: v.value for k, v in data.user_failure_data.metadata.items()}
    assert list(metadata[BAD_MONTHS_METADATA]) == [BAD]
    assert metadata[GOOD_MONTHS_METADATA] == [FIRST, LAST]
    assert data.error is not None and f"month(s) {BAD} of {FIRST}-{LAST}" in data.error.message
    # Nothing of the range was written; the bad month keeps its earlier load.
    assert snapshot(zone, BAD) == before
    assert mart_month(zone, FIRST)[0] == mart_month(zone, LAST)[0] == 0

    # The ELT log of the failed run: the bad month only, invalid, its message naming it.
    rows = elt_rows(zone, failed.run_id)
    assert list(rows) == [BRONZE]
    valid, status, message, source, target, partition = rows[BRONZE]
    assert (valid, status, partition, source, target) == (False, "failed", BAD, -1, -1)
    assert message.startswith(f"{BAD}: {daily_file(BAD).name}: line {BAD_LINE}:"), message
    assert len(message) <= 255 and "dagster." not in message and FIRST not in message

    # The sensor asks for the good months: two runs, as a range cannot skip 201908.
    requests = _evaluate(zone, failed.dagster_run, failed.get_run_failure_event())
    assert requests is not None
    assert [(r.job_name, r.partition_key) for r in requests] == [
        ("daily_passengers_job", FIRST), ("daily_passengers_job", LAST)
    ]
    for request in requests:
        assert request.tags[FOLLOW_UP_TAG] == failed.run_id
        assert request.tags[EXCLUDED_MONTHS_TAG] == BAD
        assert request.run_key and failed.run_id in request.run_key

    from subway_platform.definitions import defs

    follow_ups = [
        defs.resolve_job_def(r.job_name).execute_in_process(
            instance=zone.instance, partition_key=r.partition_key, tags=r.tags
        )
        for r in requests
    ]
    assert all(run.success for run in follow_ups)
    _mart_matches_file(zone, FIRST)
    _mart_matches_file(zone, LAST)
    # Still the earlier good load (the tables' versions moved: other months were written).
    after = snapshot(zone, BAD)
    assert after["mart"] == before["mart"]
    for table in (BRONZE, GOLD):
        assert replace(after[table], version=0) == replace(before[table], version=0)

    # Exactly once: a new evaluation (a restarted sensor) asks for nothing, and a
    # follow-up run is never followed up itself.
    assert _evaluate(zone, failed.dagster_run, failed.get_run_failure_event()) is None
    tagged = zone.instance.get_runs(filters=dg.RunsFilter(tags={FOLLOW_UP_TAG: failed.run_id}))
    assert sorted(r.run_id for r in tagged) == sorted(r.run_id for r in follow_ups)
    assert isinstance(follow_up_requests(zone.instance, follow_ups[0].dagster_run), dg.SkipReason)

    # The whole ELT log of the range: 201908 is the one invalid row; the good months
    # are valid, logged by their follow-up runs.
    for run in follow_ups:
        elt_rows(zone, run.run_id)
    invalid = zone.query(
        "SELECT asset_key, partition_key FROM elt_manager_log WHERE NOT valid AND partition_key IN (%s, %s, %s)",
        (FIRST, BAD, LAST),
    )
    assert invalid == [(BRONZE, BAD)]
    valid_months = zone.query(
        "SELECT DISTINCT partition_key FROM elt_manager_log WHERE valid AND run_id = ANY(%s) ORDER BY 1",
        ([r.run_id for r in follow_ups],),
    )
    assert valid_months == [(FIRST,), (LAST,)]


def test_range_with_every_month_bad_logs_each_month_and_asks_for_no_follow_up(zone: Zone) -> None:
    """No file holds 201812 nor 201901: both months are named bad (one ELT log row each,
    naming its month), no month is good, so the sensor asks for nothing."""
    failed = zone.run("daily_passengers_job", ["201812", "201901"], raise_on_error=False)
    assert not failed.success
    assert _evaluate(zone, failed.dagster_run, failed.get_run_failure_event()) is None
    assert zone.instance.get_runs(filters=dg.RunsFilter(tags={FOLLOW_UP_TAG: failed.run_id})) == []
    elt_rows(zone, failed.run_id)
    log = zone.query(
        "SELECT asset_key, partition_key, valid, error_message FROM elt_manager_log "
        "WHERE run_id = %s ORDER BY partition_key",
        (failed.run_id,),
    )
    assert [row[:3] for row in log] == [(BRONZE, "201812", False), (BRONZE, "201901", False)]
    assert [row[3] for row in log] == [
        f"{month}: no landing or archived card_subway_month file holds this month"
        for month in ("201812", "201901")
    ]
