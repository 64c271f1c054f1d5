"""The steps' judgment (``assets/judgment.py``): pure functions of figures, without an
engine or a table, each with a case that would catch a wrong figure."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from subway_platform.assets.enrichment import MonthCoverage
from subway_platform.assets.judgment import (
    blocking_passed,
    bronze_output_metadata,
    bronze_source_stats,
    gold_month_metadata,
    gold_output_metadata,
    mart_source_stats,
    unparseable_rows,
)
from subway_platform.datasets import dataset_named
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.stats import SOURCE_STATS_METADATA, PartitionStats
from subway_platform.ingest.stage import StagedFile
from subway_platform.resources.storage import StoredObject
from subway_platform.tables import tables_of

DAILY = dataset_named("card_subway_month")


def _result(passed: bool, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key="x", check_name="c", passed=passed, severity=severity)


def test_unparseable_rows_are_rows_minus_good_ones() -> None:
    stats = {"201907": {"rows": 10, "good": 7}, "201908": {"rows": 5, "good": None}}
    assert unparseable_rows(stats) == {"201907": 3, "201908": 5}


def test_only_a_failed_error_check_blocks() -> None:
    warn_failed = _result(False, dg.AssetCheckSeverity.WARN)
    error_passed = _result(True, dg.AssetCheckSeverity.ERROR)
    assert blocking_passed([warn_failed, error_passed])
    assert not blocking_passed([error_passed, _result(False, dg.AssetCheckSeverity.ERROR)])


def test_gold_month_numbers_come_from_its_coverage_and_rejects() -> None:
    cov = MonthCoverage(rows=4, matched_rows=3, boardings=100, matched_boardings=90, alightings=80)
    numbers = gold_month_metadata(cov, 2)
    assert numbers["gold/month_rows"] == 4
    assert numbers["gold/month_pass_in"] == 100
    assert numbers["gold/month_pass_out"] == 80
    assert numbers["gold/month_rejected_rows"] == 2
    assert numbers["enrichment/boardings_matched_pct"] == 90.0
    assert numbers["enrichment/unmatched_boardings"] == 10


def test_gold_output_metadata_names_its_hop_and_rejects() -> None:
    hop = HOPS[tables_of(DAILY).gold.key_string]
    stats = {"201907": PartitionStats(source_read_size=5, cleaned_count=1, merged_count=0)}
    metadata = gold_output_metadata(hop, stats, 1, "file:///lake/rejects")
    assert metadata["gold/rejected_rows"] == 1
    assert metadata["gold/rejects_uri"] == "file:///lake/rejects"
    assert {f"elt/{k}" for k in hop.as_dict()} <= set(metadata)
    assert SOURCE_STATS_METADATA in metadata


def test_the_mart_reads_gold_rows_and_merges_or_cleans_none() -> None:
    stats = mart_source_stats({"201907": 17716, "201908": 0})
    assert stats["201907"] == PartitionStats(
        source_read_size=17716, cleaned_count=0, merged_count=0
    )
    assert stats["201908"].source_read_size == 0


def _staged(name: str, months: dict[str, int], sums: dict[str, dict[str, int]]) -> StagedFile:
    return StagedFile(
        file_name=name,
        checksum=f"sum-{name}",
        encoding="cp949",
        rows=sum(months.values()),
        columns=["사용일자"],
        renamed={"호선명": "노선명"},
        extra_columns=["비고"],
        missing_optional=[],
        months=months,
        sums=sums,
        unparseable={},
        parquet_path=Path("/nowhere"),
    )


def test_bronze_figures_and_metadata_per_file_and_month() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    a = StoredObject(url="s3://l/a.csv", name="a.csv", size=1, etag="e", modified=when)
    b = StoredObject(url="s3://l/b.csv", name="b.csv", size=1, etag="f", modified=when)
    staged = [
        (a, False, _staged("a.csv", {"201907": 3}, {"201907": {"pass_in": 30}}), "u1"),
        (b, True, _staged("b.csv", {"201908": 2}, {"201908": {"pass_in": 20}}), "u2"),
    ]
    stats = bronze_source_stats(DAILY, staged)
    assert stats["201907"].source_read_size == 3 and stats["201908"].source_read_size == 2
    assert stats["201907"].source_object == "a.csv"
    assert stats["201908"].source_checksum == "sum-b.csv"
    assert stats["201907"].sums["pass_in"] == 30 and stats["201907"].merged_count == 0
    hop = HOPS[tables_of(DAILY).bronze.key_string]
    metadata = bronze_output_metadata(hop, staged, stats, "run-1", {a.url: "scan-9"})
    files = metadata["source/files"].value
    assert [(f["name"], f["from"], f["staged_by_run"]) for f in files] == [
        ("a.csv", "landing", "scan-9"),
        ("b.csv", "archive", "run-1"),
    ]
    assert metadata["elt/source_object"] == "a.csv, b.csv"
    assert metadata["source/extra_columns"].value == ["비고"]
