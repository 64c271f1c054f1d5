"""The checks' judgment (``check_judge.py``), rule by rule, each with a failing case, on
figures written by hand: no engine, no service."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from subway_platform.check_judge import (
    KEYS_UNIQUE,
    MATCHES_GOLD,
    NO_ROWS_REJECTED,
    RECONCILES_WITH_BRONZE,
    RECONCILES_WITH_LANDING,
    SOURCE_SCHEMA_MATCHES_SPEC,
    judge_gold,
    judge_landing,
    judge_mart,
    judge_schema,
    rejects_result,
    verdict,
)
from subway_platform.checks import check_specs
from subway_platform.datasets import ALL_DATASETS, DAILY, HOURLY
from subway_platform.elt_log.stats import PartitionStats
from subway_platform.partitions import monthly_partitions

MONTH = "201907"
SUMS = ("pass_in", "pass_out")


def _problems(result: dg.AssetCheckResult) -> dict[str, Any]:
    found = result.metadata.get("problems")
    return {} if found is None else dict(found.value)  # type: ignore[union-attr]


def _landing(rows: int, pass_in: int = 10, pass_out: int = 20) -> PartitionStats:
    return PartitionStats(source_read_size=rows, sums={"pass_in": pass_in, "pass_out": pass_out})


# --- bronze: reconciles_with_landing -------------------------------------------------


def test_landing_equal_rows_and_sums_pass() -> None:
    result = judge_landing(SUMS, MONTH, _landing(3), {"rows": 3, "pass_in": 10, "pass_out": 20})
    assert result.check_name == RECONCILES_WITH_LANDING
    assert result.passed and result.description == "rows and sums reconcile"
    assert result.metadata["per_partition"].value == {  # type: ignore[attr-defined]
        MONTH: {
            "landing_rows": 3,
            "bronze_rows": 3,
            "landing_pass_in": 10,
            "bronze_pass_in": 10,
            "landing_pass_out": 20,
            "bronze_pass_out": 20,
        }
    }


def test_landing_month_without_rows_fails() -> None:
    result = judge_landing(SUMS, MONTH, _landing(0, 0, 0), {"pass_in": 0, "pass_out": 0})
    assert not result.passed
    assert _problems(result) == {MONTH: ["no rows"]}


def test_landing_row_count_differs_fails() -> None:
    result = judge_landing(SUMS, MONTH, _landing(4), {"rows": 3, "pass_in": 10, "pass_out": 20})
    assert not result.passed
    assert _problems(result) == {MONTH: ["3 bronze rows, landing file has 4"]}


def test_landing_sum_differs_fails() -> None:
    result = judge_landing(SUMS, MONTH, _landing(3), {"rows": 3, "pass_in": 11, "pass_out": 20})
    assert not result.passed
    assert _problems(result) == {MONTH: ["pass_in 11 in bronze, 10 in the landing file"]}


def test_landing_unpartitioned_table_is_named_table() -> None:
    result = judge_landing((), "", PartitionStats(source_read_size=2), {"rows": 1})
    assert result.description == "table: 1 bronze rows, landing file has 2"
    assert _problems(result) == {"": ["1 bronze rows, landing file has 2"]}


# --- bronze: source_schema_matches_spec (warning) ------------------------------------


def test_schema_without_drift_passes_even_with_optional_columns_absent() -> None:
    result = judge_schema([], {}, ["역ID"])
    assert result.check_name == SOURCE_SCHEMA_MATCHES_SPEC
    assert result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "optional columns absent: ['역ID']" in (result.description or "")


@pytest.mark.parametrize(("extra", "renamed"), [(["새컬럼"], {}), ([], {"승차": "승차총승객수"})])
def test_schema_new_or_renamed_column_warns(extra: list[str], renamed: dict[str, str]) -> None:
    result = judge_schema(extra, renamed, [])
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN


# --- gold: reconciles_with_bronze and keys_unique ------------------------------------


def _gold(
    bronze: dict[str, Any],
    gold: dict[str, Any],
    dup_keys: int = 0,
    rejected: int = 0,
    hours: int = 1,
    threshold: float = 0.001,
) -> dict[str, dg.AssetCheckResult]:
    results = judge_gold(
        SUMS, DAILY.gold_key, threshold, hours, MONTH, bronze, gold, dup_keys, rejected
    )
    return {str(r.check_name): r for r in results}


GOOD_BRONZE = {"rows": 1000, "pass_in": 500, "pass_out": 400}
GOOD_GOLD = {"rows": 990, "source_rows": 1000, "pass_in": 500, "pass_out": 400}


def test_gold_reconciled_and_unique_passes() -> None:
    results = _gold(GOOD_BRONZE, GOOD_GOLD)
    assert results[RECONCILES_WITH_BRONZE].passed and results[KEYS_UNIQUE].passed
    assert results[KEYS_UNIQUE].description == "unique on use_date, line_no, station_name"


def test_gold_rows_lost_fail() -> None:
    results = _gold(GOOD_BRONZE, {**GOOD_GOLD, "source_rows": 999})
    assert _problems(results[RECONCILES_WITH_BRONZE]) == {
        MONTH: ["999 rows + 0 rejected != 1000 in bronze"]
    }


def test_gold_rejected_rows_count_in_the_reconciliation() -> None:
    results = _gold(GOOD_BRONZE, {**GOOD_GOLD, "source_rows": 999}, rejected=1)
    assert results[RECONCILES_WITH_BRONZE].passed  # 999 + 1 = 1000, 0.1% is the threshold


def test_gold_hour_rows_are_24_per_bronze_row() -> None:
    bronze = {"rows": 10, "pass_in": 5, "pass_out": 4}
    ok = _gold(bronze, {"rows": 240, "source_rows": 240, "pass_in": 5, "pass_out": 4}, hours=24)
    assert ok[RECONCILES_WITH_BRONZE].passed
    bad = _gold(bronze, {"rows": 239, "source_rows": 239, "pass_in": 5, "pass_out": 4}, hours=24)
    assert _problems(bad[RECONCILES_WITH_BRONZE]) == {
        MONTH: ["239 hour rows (24 per bronze row) + 0 rejected != 240 in bronze"]
    }


def test_gold_rejects_beyond_the_threshold_fail() -> None:
    results = _gold(GOOD_BRONZE, {**GOOD_GOLD, "source_rows": 998}, rejected=2)
    assert _problems(results[RECONCILES_WITH_BRONZE]) == {
        MONTH: ["2 of 1000 rows rejected (threshold 0.1%)"]
    }


def test_gold_sum_differs_from_bronze_good_rows_fails() -> None:
    results = _gold(GOOD_BRONZE, {**GOOD_GOLD, "pass_out": 401})
    assert _problems(results[RECONCILES_WITH_BRONZE]) == {
        MONTH: ["pass_out 401 in gold, 400 in bronze's good rows"]
    }


def test_gold_repeated_keys_fail_keys_unique_only() -> None:
    results = _gold(GOOD_BRONZE, GOOD_GOLD, dup_keys=3)
    assert results[RECONCILES_WITH_BRONZE].passed
    assert _problems(results[KEYS_UNIQUE]) == {MONTH: ["3 keys appear more than once in 990 rows"]}


# --- gold: no_rows_rejected (warning) ------------------------------------------------


def test_no_rejects_pass() -> None:
    result = rejects_result(DAILY, {MONTH: {"rows": 10, "good": 10}}, {MONTH: 0}, [])
    assert result.check_name == NO_ROWS_REJECTED
    assert result.passed and result.description == "no row rejected"


def test_rejected_rows_warn_with_their_sums_and_first_reason() -> None:
    first = [{"month": MONTH, "file": "f.csv", "line": 18, "reason": "pass_in: 'n/a'"}]
    bronze = {MONTH: {"rows": 10, "good": 9, "rejected_pass_in": 0, "rejected_pass_out": 7}}
    result = rejects_result(DAILY, bronze, {MONTH: 1}, first)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert _problems(result) == {
        MONTH: [
            "loaded with 1 rejected rows (pass_in 0, pass_out 7 not in the mart); "
            "first: line 18: pass_in: 'n/a'"
        ]
    }
    assert result.metadata["rejected_rows"].value == 1  # type: ignore[attr-defined]


# --- mart: matches_gold --------------------------------------------------------------


def test_mart_equal_to_gold_passes() -> None:
    figures = {"rows": 5, "pass_in": 10, "pass_out": 9}
    assert judge_mart(SUMS, MONTH, figures, dict(figures)).passed
    assert judge_mart(SUMS, MONTH, {}, {}).passed  # a month absent from both


@pytest.mark.parametrize("field", ["rows", "pass_in", "pass_out"])
def test_mart_differing_from_gold_fails(field: str) -> None:
    gold = {"rows": 5, "pass_in": 10, "pass_out": 9}
    result = judge_mart(SUMS, MONTH, gold, {**gold, field: gold[field] - 1})
    assert result.check_name == MATCHES_GOLD and not result.passed
    assert _problems(result) == {
        MONTH: [f"{field} {gold[field] - 1} in the mart, {gold[field]} in gold"]
    }


# --- the verdict and the specs -------------------------------------------------------


def test_verdict_groups_problems_by_month_and_caps_its_description() -> None:
    result = verdict("c", [f"{MONTH}: {'x' * 600}", f"201908: {'y' * 600}"], "fine")
    assert not result.passed and len(result.description or "") == 1000
    assert set(_problems(result)) == {MONTH, "201908"}
    assert verdict("c", [], "fine").description == "fine"


def test_every_check_is_partitioned_like_its_asset() -> None:
    for spec in ALL_DATASETS:
        for layer in ("bronze", "gold", "mart"):
            for check in check_specs(spec, layer):
                expected = monthly_partitions if spec.partitioned else None
                assert check.partitions_def == expected, (spec.name, layer, check.name)
    assert HOURLY.partitioned
