"""Delta table maintenance (delta_maintenance_job) on each engine.

On Apache Spark it runs delta-spark's OPTIMIZE and VACUUM; on Sail, which has neither,
delta-rs. Either way: reloads leave many files; compaction brings them down without
changing a row; the default retention keeps time travel; a zero retention removes the
files only old versions needed.
"""

from __future__ import annotations

from typing import Any

import pytest
from deltalake import DeltaTable

from subway_platform_tests.zone import REAL, Zone

MONTHS = ["201901", "201902"]


def _table(zone: Zone) -> DeltaTable:
    from subway_platform.resources.environment import object_storage_from_environment

    return DeltaTable(
        f"{zone.lake}/bronze/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )


def _sums(table: DeltaTable) -> tuple[int, dict[str, int]]:
    data = table.to_pyarrow_table(columns=["month"])
    counts: dict[str, int] = {}
    for month in data.column("month").to_pylist():
        counts[month] = counts.get(month, 0) + 1
    return data.num_rows, counts


def _maintain(zone: Zone, retention_hours: int | None = None) -> dict[str, Any]:
    from subway_platform.definitions import defs

    config = {} if retention_hours is None else {"retention_hours": retention_hours}
    result = defs.resolve_job_def("delta_maintenance_job").execute_in_process(
        instance=zone.instance,
        run_config={"ops": {"maintain_delta_tables": {"config": config}}},
    )
    assert result.success
    return result.output_for_node("maintain_delta_tables")


def test_compaction_and_vacuum_keep_every_row_and_the_time_travel_window(
    zone: Zone, on_engine: str
) -> None:
    engine = on_engine
    for month in MONTHS:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    assert zone.run("daily_passengers_job", MONTHS).success
    # A reload of each month, one at a time (forced: the files are unchanged): more files,
    # replaced files kept for time travel.
    for month in MONTHS:
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        assert zone.run("daily_passengers_job", [month], force=True).success
    before = _table(zone)
    rows_before = _sums(before)
    first_version_rows = _sums(_table_at(zone, 0))

    report = _maintain(zone)
    bronze = report["bronze/card_subway_month"]
    assert bronze["engine"] == ("delta-spark" if engine == "spark" else "delta-rs")
    after = _table(zone)
    # Small data: compaction leaves exactly one file per month partition.
    assert bronze["files_after"] == len(after.file_uris()) == len(MONTHS)
    assert bronze["files_before"] >= bronze["files_after"]
    assert _sums(after) == rows_before
    # Inside the retention window, version 0 is still readable.
    assert _sums(_table_at(zone, 0)) == first_version_rows

    # With no retention, the files only old versions needed are removed from storage.
    _maintain(zone, retention_hours=0)
    assert _sums(_table(zone)) == rows_before
    with pytest.raises(Exception):  # noqa: B017,PT011 - delta-rs raises its own error types
        _table_at(zone, 0).to_pyarrow_table()


def _table_at(zone: Zone, version: int) -> DeltaTable:
    table = _table(zone)
    table.load_as_version(version)
    return table
