"""Each row's own share of its step's time (``elt_log/elapsed.py``): the shares of a step
add up to its duration, in proportion to the rows read, evenly when a count is unknown."""

from __future__ import annotations

import pytest

from subway_platform.elt_log.elapsed import share_elapsed


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
