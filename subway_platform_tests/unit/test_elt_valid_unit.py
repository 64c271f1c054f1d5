"""The ELT log's ``valid`` rule (``elt_log/valid.py``), rule by rule, each with a failing
case; and gold's figures (``assets/gold.py``), measured, not derived from one another."""

from __future__ import annotations

import pytest

from subway_platform.assets.judgment import gold_source_stats
from subway_platform.datasets import dataset_named
from subway_platform.elt_log.stats import PartitionStats
from subway_platform.elt_log.valid import figures_problem, judge_load


def _stats(source: int | None, target: int | None, cleaned: int | None, merged: int | None):
    return PartitionStats(
        source_read_size=source, target_read_size=target, cleaned_count=cleaned, merged_count=merged
    )


def test_figures_that_add_up_are_valid() -> None:
    assert figures_problem(_stats(17724, 17716, 0, 8)) is None
    assert figures_problem(_stats(110, 100, 4, 6)) is None
    assert figures_problem(_stats(0, 0, 0, 0)) is None
    assert judge_load(_stats(17724, 17716, 0, 8), checks_passed=True).valid


def test_figures_that_do_not_add_up_say_which() -> None:
    # The checks passed, the figures do not add up: not valid, and the reason names them.
    verdict = judge_load(_stats(17724, 17715, 0, 8), checks_passed=True)
    assert not verdict.valid and verdict.checks_passed
    assert verdict.figures_problem == "source 17724 != target 17715 + cleaned 0 + merged 8"
    # One too many is as wrong as one too few.
    assert figures_problem(_stats(10, 8, 1, 2)) == "source 10 != target 8 + cleaned 1 + merged 2"


def test_a_failed_blocking_check_makes_figures_that_add_up_invalid() -> None:
    verdict = judge_load(_stats(110, 100, 4, 6), checks_passed=False)
    assert not verdict.valid and verdict.figures_problem is None


@pytest.mark.parametrize(
    ("figures", "problem"),
    [
        ((10, 8, 2, None), "merged unknown"),
        ((None, 8, 0, 0), "source unknown"),
        ((10, None, None, 0), "target, cleaned unknown"),
    ],
)
def test_a_load_that_reports_some_figures_must_report_all(
    figures: tuple[int | None, ...], problem: str
) -> None:
    assert figures_problem(_stats(*figures)) == problem
    assert not judge_load(_stats(*figures), checks_passed=True).valid


def test_a_negative_figure_is_refused_even_when_the_sum_holds() -> None:
    # target > source: a remainder would have "explained" it with merged = -2.
    assert figures_problem(_stats(10, 12, 0, -2)) == "merged -2 < 0"
    assert figures_problem(_stats(-1, -1, 0, 0)) == "source -1 < 0; target -1 < 0"


def test_an_asset_without_figures_is_judged_by_its_checks_alone() -> None:
    assert judge_load(PartitionStats(), checks_passed=True).valid
    assert not judge_load(PartitionStats(), checks_passed=False).valid


def test_gold_measures_merged_as_good_rows_minus_distinct_keys() -> None:
    daily = dataset_named("card_subway_month")
    stats = gold_source_stats(
        daily,
        source={"201901": 100, "201902": 50},
        rejected={"201901": 3},
        bronze_stats={"201901": {"rows": 100, "good": 97}, "201902": {"rows": 50, "good": 50}},
        distinct_keys={"201901": 90, "201902": 50},
    )
    first = stats["201901"]
    assert (first.source_read_size, first.cleaned_count, first.merged_count) == (100, 3, 7)
    assert (first.bronze_rows, first.rejected_rows) == (100, 3)
    assert stats["201902"].merged_count == 0
    # With the rows written (the IO manager's figure) the load is whole:
    assert figures_problem(first.with_target(90)) is None
    # A rejects table that lost a row no longer adds up (a remainder would have hidden it).
    lost = gold_source_stats(
        daily,
        source={"201901": 100},
        rejected={"201901": 2},
        bronze_stats={"201901": {"rows": 100, "good": 97}},
        distinct_keys={"201901": 90},
    )["201901"]
    assert figures_problem(lost.with_target(90)) == (
        "source 100 != target 90 + cleaned 2 + merged 7"
    )


def test_hourly_gold_counts_hour_rows() -> None:
    hourly = dataset_named("card_subway_time")
    stats = gold_source_stats(
        hourly,
        source={"201901": 600},
        rejected={"201901": 1},
        bronze_stats={"201901": {"rows": 600, "good": 599}},
        distinct_keys={"201901": 14352},
    )["201901"]
    assert (stats.source_read_size, stats.cleaned_count) == (14400, 24)
    assert stats.merged_count == 599 * 24 - 14352
    assert figures_problem(stats.with_target(14352)) is None
