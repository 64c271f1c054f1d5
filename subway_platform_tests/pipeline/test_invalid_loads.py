"""Invalid loads: a clear error or a failed blocking check, and the mart left untouched."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.faults import kill_inside_mart_swap
from subway_platform_tests.reliability.reliability_support import failure_text
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTH = "201910"
SOURCE = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{MONTH}.csv"


def _mart_state(zone: Zone) -> tuple[int, int, int]:
    return zone.query(
        "SELECT count(*), coalesce(sum(pass_in), 0)::bigint, coalesce(sum(pass_out), 0)::bigint "
        "FROM subway_passengers WHERE month = %s",
        (MONTH,),
    )[0]


def _load_good_month(zone: Zone) -> tuple[int, int, int]:
    zone.upload(SOURCE)
    assert zone.run("daily_passengers_job", [MONTH]).success
    state = _mart_state(zone)
    assert state[0] > 0
    return state


def test_rejected_rows_beyond_threshold_block_the_mart(zone: Zone, tmp_path: Path) -> None:
    before = _load_good_month(zone)
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    # 100 rows with a non-numeric count: bronze keeps them (text), gold rejects them.
    bad = [lines[0]] + [
        line.replace(line.split(",")[3], '"n/a"', 1) if i < 100 else line
        for i, line in enumerate(lines[1:])
    ]
    broken = tmp_path / SOURCE.name
    broken.write_text("\n".join(bad) + "\n", encoding="utf-8")
    zone.upload(broken)
    result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)

    failed = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    check = failed[("gold/subway_passengers", "reconciles_with_bronze")]
    assert "100 of" in (check.description or "") and "rejected" in (check.description or "")
    # The blocking check stopped the mart: it still holds the previous load.
    mart_events = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "mart/subway_passengers"
    ]
    assert mart_events == []
    assert _mart_state(zone) == before
    assert _rejects(zone) == 100

    # The corrected file: the month's rejects are replaced by none, the mart is updated.
    zone.upload(SOURCE)
    assert zone.run("daily_passengers_job", [MONTH]).success
    assert _rejects(zone) == 0
    assert _mart_state(zone) == before


def _rejects(zone: Zone) -> int:
    """Rows of MONTH in gold's rejects table (delta-rs, not the platform's engine)."""
    table = DeltaTable(
        f"{zone.lake}/gold/rejects/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )
    return table.to_pyarrow_table(partitions=[("month", "=", MONTH)]).num_rows


def test_file_with_rows_of_another_month_fails_naming_the_line(zone: Zone, tmp_path: Path) -> None:
    before = _load_good_month(zone)
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(f'"{MONTH}', '"201911', 1)
    broken = tmp_path / SOURCE.name
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    zone.upload(broken)
    result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    message = failure.step_failure_data.error.message if failure.step_failure_data.error else ""
    assert SOURCE.name in message and "line 6" in message and "201911" in message
    assert _mart_state(zone) == before
    # The bad upload stays in landing (not archived): nothing is lost.
    assert SOURCE.name in zone.keys(zone.landing)


def test_missing_month_file_is_a_clear_failure(zone: Zone) -> None:
    result = zone.run("daily_passengers_job", ["201812"], raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None and "201812" in error.message and "card_subway_month" in error.message


def test_connection_killed_inside_the_month_swap_keeps_the_previous_month(
    zone: Zone, tmp_path: Path
) -> None:
    """A real fault: PostgreSQL kills the loading session inside the swap transaction,
    right after the old month's partition was detached. The month must stay as it was."""
    before = _load_good_month(zone)
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    changed = tmp_path / SOURCE.name
    changed.write_text("\n".join(lines[:-50]) + "\n", encoding="utf-8")  # a different month content
    zone.upload(changed)
    with kill_inside_mart_swap(zone.mart_dsn, "subway_passengers"):
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
    assert not result.success
    failed_steps = {e.step_key for e in result.get_step_failure_events()}
    assert failed_steps == {"mart__subway_passengers"}
    assert "terminating connection" in failure_text(result)
    assert _mart_state(zone) == before
    # No staging table is left behind.
    assert (
        zone.query("SELECT count(*) FROM pg_tables WHERE starts_with(tablename, %s)", ("_stage_",))[
            0
        ][0]
        == 0
    )
    # The next load of the month goes through.
    assert zone.run("daily_passengers_job", [MONTH]).success
    assert _mart_state(zone)[0] == len(file_totals(changed)["keys"]) < before[0]


def test_a_negative_count_is_a_visible_reject_not_a_silent_one(zone: Zone, tmp_path: Path) -> None:
    """One real row with a negative alighting count: within the threshold, so the month is
    published without it, but the warning check no_rows_rejected fails with the row, its
    boardings (what the mart lacks) and the reason; the ELT log row stays valid (every
    source row accounted for) and says "loaded with 1 rejected rows"; the dashboard lists it."""
    import dagster as dg
    import psycopg

    from subway_platform.checks import NO_ROWS_REJECTED
    from subway_platform.dashboard.views import ensure_dashboard_views
    from subway_platform_tests.reliability.reliability_support import elt_rows

    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")  # line 6 of the file
    boardings = int(float(fields[3].strip('"')))
    fields[4] = '"-3"'
    lines[5] = ",".join(fields)
    broken = tmp_path / SOURCE.name
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    totals = file_totals(SOURCE)

    zone.upload(broken)
    result = zone.run("daily_passengers_job", [MONTH])
    assert result.success
    # Published without the row: exactly its boardings are missing from the mart.
    rows, pass_in, _ = _mart_state(zone)
    assert pass_in == totals["pass_in"] - boardings
    assert _rejects(zone) == 1

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    check = checks[NO_ROWS_REJECTED]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["rejected_rows"].value == 1
    assert check.metadata["rejected_pass_in"].value == boardings
    assert check.metadata["rejected_pass_out"].value == 0
    first = check.metadata["first_reasons"].value
    assert first == [
        {"month": MONTH, "file": SOURCE.name, "line": 6, "reason": "pass_out: bad value '-3'"}
    ]
    assert checks["reconciles_with_bronze"].passed  # 1 row is within the 0.1% threshold

    log = elt_rows(zone, result.run_id)
    valid, status, message, source, target, _ = log["gold/subway_passengers"]
    assert valid is True and status == "materialized"
    assert message.startswith(
        f"gold/subway_passengers {MONTH}: loaded with 1 rejected rows (pass_in {boardings}, "
        f"pass_out 0 not in the mart); first: line 6: pass_out: bad value '-3' (no_rows_rejected)"
    )  # then the station warning: no station master was loaded in this test
    assert len(message) <= 255
    # The reference's rule, with our merged count: source = target + cleaned + merged.
    cleaned, merged = zone.query(
        "SELECT cleaned_count, merged_count FROM elt_manager_log "
        "WHERE run_id = %s AND asset_key = %s",
        (result.run_id, "gold/subway_passengers"),
    )[0]
    assert (cleaned, source) == (1, totals["rows"]) and source == target + cleaned + merged
    assert log["mart/subway_passengers"][:3] == (True, "materialized", None)

    with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
        ensure_dashboard_views(conn)
        shown = conn.execute(
            "SELECT asset_key, partition_key, rejected_rows, outcome "
            "FROM elt_dashboard.loads_with_rejects"
        ).fetchall()
        failures = conn.execute("SELECT count(*) FROM elt_dashboard.recent_failures").fetchone()
    assert shown == [("gold/subway_passengers", MONTH, 1, "success")]
    assert failures == (0,)
