"""Each row's own share of its step's time (``elt_log/elapsed.py``): the shares of a step
add up to its duration, in proportion to the rows read, evenly when a count is unknown; a
range step's bad month gets its share, not the whole step (``mirror.share_step_time``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subway_platform.elt_log.elapsed import share_elapsed
from subway_platform.elt_log.mirror import share_step_time
from subway_platform.elt_log.row import EltLogRow


def test_a_step_of_one_month_keeps_its_measured_duration() -> None:
    assert share_elapsed(7.25, [17724]) == ([7.25], "measured")
    assert share_elapsed(7.25, [None]) == ([7.25], "measured")
    assert share_elapsed(3.0, []) == ([], "measured")


def test_a_range_step_is_shared_by_rows_read_and_adds_up() -> None:
    shares, method = share_elapsed(12.0, [110, 220, 330])
    assert method == "prorated_rows"
    assert shares == pytest.approx([2.0, 4.0, 6.0])
    assert sum(shares) == 12.0  # exactly: the last share takes what the others leave


def test_awkward_figures_still_add_up_to_the_step() -> None:
    total = 10.0 / 3.0
    shares, method = share_elapsed(total, [17724, 17187, 18001, 1, 0])
    assert method == "prorated_rows"
    assert sum(shares) == pytest.approx(total, abs=1e-12)
    assert shares[4] == 0.0 and all(s >= 0 for s in shares)
    assert shares[0] / shares[1] == pytest.approx(17724 / 17187)


@pytest.mark.parametrize(
    "weights",
    [[100, None, 300], [100, -1, 300], [0, 0, 0]],
    ids=["unknown", "minus-one", "all-zero"],
)
def test_unknown_counts_share_evenly(weights: list[int | None]) -> None:
    shares, method = share_elapsed(9.0, weights)
    assert method == "prorated_even"
    assert shares == pytest.approx([3.0, 3.0, 3.0])
    assert sum(shares) == pytest.approx(9.0, abs=1e-12)


def _row(asset: str, month: str, step: str, read: int, elapsed: float) -> EltLogRow:
    return EltLogRow(
        record_time=START,
        domain="life",
        action="hopt/inc",
        source_type=None,
        source_topic=None,
        source_dpath=None,
        source_object=None,
        target_type=None,
        target_topic=None,
        target_dpath=None,
        target_object=None,
        valid=read >= 0,
        source_read_size=read,
        target_read_size=read,
        cleaned_count=0,
        error_message=None,
        elapsed=elapsed,
        run_id="run",
        job_name="job",
        asset_key=asset,
        partition_key=month,
        step_key=step,
        status="materialized" if read >= 0 else "failed",
        merged_count=0,
        pass_in_sum=None,
        pass_out_sum=None,
        check_outcomes=None,
        error_detail=None,
        step_start=START,
        step_end=START + timedelta(seconds=elapsed),
    )


START = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_rows_of_a_range_step_share_it_by_rows_read() -> None:
    rows = {
        ("bronze/x", m): _row("bronze/x", m, "bronze__x", n, 6.0)
        for m, n in (("201907", 100), ("201908", 200), ("201909", 300))
    }
    gold_key = "gold/subway_passengers"
    rows[(gold_key, "201907")] = _row(gold_key, "201907", "gold__x", 50, 2.5)  # alone
    planned: dict[str, dict[str, set[str] | None]] = {
        "bronze__x": {"bronze/x": {"201907", "201908", "201909"}},
        "gold__x": {gold_key: {"201907"}, "gold/rejects/card_subway_month_rejects": {"201907"}},
    }
    share_step_time(rows, planned)
    bronze = [rows[("bronze/x", m)] for m in ("201907", "201908", "201909")]
    assert [r.elapsed for r in bronze] == pytest.approx([1.0, 2.0, 3.0])
    assert {r.elapsed_method for r in bronze} == {"prorated_rows"}
    gold = rows[(gold_key, "201907")]  # gold's rejects are no hop: gold did its month alone
    assert (gold.elapsed, gold.elapsed_method) == (2.5, "measured")


def test_a_bad_month_of_a_range_gets_its_share_not_the_whole_step() -> None:
    # The step failed for 201908 only: 201907 and 201909 get no row from this run (the
    # follow-up run loads and times them), so 201908 is charged a third of the step.
    rows = {("bronze/x", "201908"): _row("bronze/x", "201908", "bronze__x", -1, 9.0)}
    planned: dict[str, dict[str, set[str] | None]] = {
        "bronze__x": {"bronze/x": {"201907", "201908", "201909"}}
    }
    share_step_time(rows, planned)
    row = rows[("bronze/x", "201908")]
    assert (row.elapsed, row.elapsed_method) == (pytest.approx(3.0), "prorated_even")
