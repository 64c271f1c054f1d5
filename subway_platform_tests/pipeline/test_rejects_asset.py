"""Gold's rejects as a real asset: materialized by gold's step with its own metadata,
never an ELT log row of its own, its table left alone when there is nothing to reject."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from deltalake import DeltaTable

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.reliability.reliability_support import elt_rows
from subway_platform_tests.zone import REAL, Zone

MONTH = "201910"
CLEAN_MONTH = "201911"
REJECTS = dg.AssetKey(["gold", "rejects", "card_subway_month_rejects"])
GOLD = dg.AssetKey(["gold", "subway_passengers"])


def _source(month: str) -> Path:
    return REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv"


def _rejects_table(zone: Zone) -> DeltaTable:
    return DeltaTable(
        f"{zone.lake}/gold/rejects/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )


def _rejects_rows(zone: Zone, month: str) -> int:
    table = _rejects_table(zone)
    return table.to_pyarrow_table(partitions=[("month", "=", month)]).num_rows


def _materializations(
    result: dg.ExecuteInProcessResult, key: dg.AssetKey
) -> dict[str | None, dg.AssetMaterialization]:
    out: dict[str | None, dg.AssetMaterialization] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key == key:
            out[mat.partition] = mat
    return out


@pytest.mark.spark_conformance
def test_rejects_asset_is_materialized_with_its_metadata_and_not_logged(
    zone: Zone, tmp_path: Path
) -> None:
    lines = _source(MONTH).read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")  # line 6 of the file
    boardings = int(float(fields[3].strip('"')))
    fields[4] = '"-3"'
    lines[5] = ",".join(fields)
    broken = tmp_path / _source(MONTH).name
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    zone.upload(broken)

    result = zone.run("daily_passengers_job", [MONTH])
    assert result.success
    mats = _materializations(result, REJECTS)
    assert list(mats) == [MONTH]
    meta = {k: v.value for k, v in mats[MONTH].metadata.items()}
    assert meta["rejects/month_rows"] == 1
    assert meta["rejects/month_pass_in"] == boardings
    assert meta["rejects/month_pass_out"] == 0
    assert meta["rejects/rows"] == 1
    assert meta["rejects/rows_per_partition"] == {MONTH: 1}
    assert meta["rejects/first_reasons"] == [
        {"month": MONTH, "file": broken.name, "line": 6, "reason": "pass_out: bad value '-3'"}
    ]
    assert meta["rejects/table_written"] is True
    assert meta["dagster/uri"] == f"{zone.lake}/gold/rejects/card_subway_month"
    # From the Delta IO manager, which wrote it: the month's rows as its log counts them.
    assert meta["dagster/row_count"] == 1
    assert meta["delta/rows_per_partition"] == {MONTH: 1}
    assert "elt/partitions" not in meta and "elt/source_stats" not in meta
    # Written by gold's step, from the same read of bronze.
    steps = {
        e.asset_key.to_user_string(): e.step_key for e in result.get_asset_materialization_events()
    }
    assert (
        steps[REJECTS.to_user_string()] == steps[GOLD.to_user_string()] == "gold__subway_passengers"
    )
    assert _rejects_rows(zone, MONTH) == 1

    # The ELT log has its three hops only; the reject is gold's cleaned_count.
    rows = elt_rows(zone, result.run_id)
    assert set(rows) == {
        "bronze/card_subway_month",
        "gold/subway_passengers",
        "mart/subway_passengers",
    }
    cleaned = zone.query(
        "SELECT cleaned_count FROM elt_manager_log WHERE run_id = %s AND asset_key = %s",
        (result.run_id, GOLD.to_user_string()),
    )
    assert cleaned == [(1,)]

    # A month with nothing to reject and nothing stored: materialized (0 rows), table untouched.
    version = _rejects_table(zone).version()
    zone.upload(_source(CLEAN_MONTH))
    clean = zone.run("daily_passengers_job", [CLEAN_MONTH])
    assert clean.success
    mats = _materializations(clean, REJECTS)
    assert list(mats) == [CLEAN_MONTH]
    meta = {k: v.value for k, v in mats[CLEAN_MONTH].metadata.items()}
    assert meta["rejects/month_rows"] == 0 and meta["rejects/rows"] == 0
    assert meta["rejects/table_written"] is False and meta["dagster/row_count"] == 0
    assert meta["rejects/first_reasons"] == []
    assert _rejects_table(zone).version() == version
    assert _rejects_rows(zone, MONTH) == 1
    assert set(elt_rows(zone, clean.run_id)) == set(rows)


def test_gold_selected_without_its_rejects_keeps_the_rejects_table_in_step(
    zone: Zone, tmp_path: Path
) -> None:
    """``dagster asset materialize --select bronze/…,gold/…,mart/…`` (no rejects asset):
    gold's step still replaces the month's rejects, so gold's checks count the right rows;
    the rejects asset gets no materialization from that run."""
    lines = _source(MONTH).read_text(encoding="utf-8").splitlines()
    bad = [lines[0]] + [
        line.replace(line.split(",")[3], '"n/a"', 1) if i < 3 else line
        for i, line in enumerate(lines[1:])
    ]
    broken = tmp_path / _source(MONTH).name
    broken.write_text("\n".join(bad) + "\n", encoding="utf-8")
    zone.upload(broken)
    assert zone.run("daily_passengers_job", [MONTH]).success
    assert _rejects_rows(zone, MONTH) == 3

    from subway_platform.definitions import defs

    zone.upload(_source(MONTH))
    selection = [
        dg.AssetKey(["bronze", "card_subway_month"]),
        GOLD,
        dg.AssetKey(["mart", "subway_passengers"]),
    ]
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=zone.instance, asset_selection=selection, partition_key=MONTH
    )
    assert result.success
    assert _materializations(result, REJECTS) == {}
    assert _rejects_rows(zone, MONTH) == 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["reconciles_with_bronze"] and checks["no_rows_rejected"]
    assert set(elt_rows(zone, result.run_id)) == {
        "bronze/card_subway_month",
        "gold/subway_passengers",
        "mart/subway_passengers",
    }
