"""The ELT log after real pipeline runs: good months, a month blocked by a check, a bad file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from subway_platform.elt_log.month_figures import MONTH_ROWS, MONTH_SECONDS
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTHS = ["201907", "201908", "201909"]
COLUMNS = (
    "asset_key, partition_key, domain, action, source_type, source_object, target_type, "
    "target_object, valid, status, source_read_size, target_read_size, cleaned_count, "
    "merged_count, pass_in_sum, pass_out_sum, error_message, elapsed, elapsed_method, "
    "step_key, step_start, step_end"
)
TIME_COLUMNS = ("elapsed_method", "step_key", "step_start", "step_end")


def test_single_run_backfill_logs_one_row_per_asset_and_month(zone: Zone) -> None:
    for month in MONTHS:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    result = zone.run("daily_passengers_job", MONTHS)
    assert result.success
    rows = zone.mirror(result.run_id, COLUMNS)
    assert len(rows) == 9
    by = {(r["asset_key"], r["partition_key"]): r for r in rows}
    for month in MONTHS:
        totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        bronze = by[("bronze/card_subway_month", month)]
        gold = by[("gold/subway_passengers", month)]
        mart = by[("mart/subway_passengers", month)]
        assert bronze | {"elapsed": None} | dict.fromkeys(TIME_COLUMNS) == {
            "asset_key": "bronze/card_subway_month",
            "partition_key": month,
            "domain": "life",
            "action": "hopt/inc",
            "source_type": "csv",
            "source_object": f"CARD_SUBWAY_MONTH_{month}.csv",
            "target_type": "delta",
            "target_object": "bronze/card_subway_month",
            "valid": True,
            "status": "materialized",
            "source_read_size": totals["rows"],
            "target_read_size": totals["rows"],
            "cleaned_count": 0,
            "merged_count": 0,
            "pass_in_sum": totals["pass_in"],
            "pass_out_sum": totals["pass_out"],
            "error_message": None,
            "elapsed": None,
            **dict.fromkeys(TIME_COLUMNS),
        }
        assert gold["source_read_size"] == totals["rows"]
        assert gold["target_read_size"] == len(totals["keys"])
        assert gold["cleaned_count"] == 0
        assert gold["merged_count"] == totals["rows"] - len(totals["keys"]) > 0
        assert gold["valid"] is True and gold["target_type"] == "delta"
        assert mart["source_read_size"] == mart["target_read_size"] == len(totals["keys"])
        assert mart["target_type"] == "postgresql" and mart["target_object"] == "subway_passengers"
        assert all(r["elapsed"] and r["elapsed"] > 0 for r in (bronze, gold, mart))
    materialized = {
        (m.asset_key.to_user_string(), m.partition): m.metadata
        for entry in zone.instance.all_logs(
            result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        if entry.dagster_event is not None
        and (m := entry.dagster_event.event_specific_data.materialization) is not None
    }
    # Where the time goes: each month has its share of its range step, by the rows it
    # read, and the shares add up to the step's duration (from its start to its end).
    for asset in ("bronze/card_subway_month", "gold/subway_passengers", "mart/subway_passengers"):
        months = [by[(asset, m)] for m in MONTHS]
        assert {r["elapsed_method"] for r in months} == {"prorated_rows"}
        assert len({(r["step_key"], r["step_start"], r["step_end"]) for r in months}) == 1
        step = (months[0]["step_end"] - months[0]["step_start"]).total_seconds()
        assert sum(r["elapsed"] for r in months) == pytest.approx(step, abs=1e-3)
        first, second = months[0], months[1]
        assert first["elapsed"] / second["elapsed"] == pytest.approx(
            first["source_read_size"] / second["source_read_size"], rel=1e-6
        )
        # The UI plots each month's duration and rows (numeric metadata of its materialization).
        for month in MONTHS:
            metadata = materialized[(asset, month)]
            written = by[(asset, month)]["target_read_size"]
            assert metadata[MONTH_ROWS] == dg.MetadataValue.int(written)
            seconds = metadata[MONTH_SECONDS]
            assert isinstance(seconds, dg.FloatMetadataValue)
            assert 0 < seconds.value <= by[(asset, month)]["elapsed"] + 1e-3
    # Mirroring again adds nothing.
    assert len(zone.mirror(result.run_id, COLUMNS)) == 9


def test_blocked_month_and_bad_file_are_logged_invalid(zone: Zone, tmp_path: Path) -> None:
    month = "201911"
    source = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    rejected = [lines[0]] + [
        line.replace(line.split(",")[4], '"-5"', 1) if i < 200 else line
        for i, line in enumerate(lines[1:])
    ]
    bad = tmp_path / source.name
    bad.write_text("\n".join(rejected) + "\n", encoding="utf-8")
    zone.upload(bad)
    blocked = zone.run("daily_passengers_job", [month], raise_on_error=False)
    rows = {r["asset_key"]: r for r in zone.mirror(blocked.run_id, COLUMNS)}
    assert rows["bronze/card_subway_month"]["valid"] is True
    gold = rows["gold/subway_passengers"]
    assert gold["valid"] is False and gold["status"] == "check_failed"
    assert gold["cleaned_count"] == 200
    assert "mart/subway_passengers" not in rows  # never reached
    # gold/rejects/card_subway_month was written by gold's step but is no hop: no row.
    assert set(rows) == {"bronze/card_subway_month", "gold/subway_passengers"}

    other = "201912"
    wrong = tmp_path / f"CARD_SUBWAY_MONTH_{other}.csv"
    wrong.write_text("\n".join([lines[0], *lines[1:20]]) + "\n", encoding="utf-8")  # November rows
    zone.upload(wrong)
    failed = zone.run("daily_passengers_job", [other], raise_on_error=False)
    assert not failed.success
    rows = {r["asset_key"]: r for r in zone.mirror(failed.run_id, COLUMNS)}
    assert list(rows) == ["bronze/card_subway_month"]
    row = rows["bronze/card_subway_month"]
    assert row["valid"] is False and row["status"] == "failed"
    assert (row["source_read_size"], row["target_read_size"], row["cleaned_count"]) == (-1, -1, -1)
    assert wrong.name in row["error_message"] and "line 2" in row["error_message"]
    assert len(row["error_message"]) <= 255
