"""The pure rule of re-enrichment: which months a new station master affects, and how
many of their rows gain, lose or change coordinates."""

from __future__ import annotations

from subway_platform.assets.station_match import MasterStation
from subway_platform.reenrichment.affected import (
    MonthChange,
    expected_enrichment,
    first_months,
    month_changes,
    pairs_of,
)

A = MasterStation("1호선", "가나", "101", 37.1, 127.1)
A_MOVED = MasterStation("1호선", "가나", "101", 37.15, 127.1)
B = MasterStation("2호선", "다라", "201", 37.2, 127.2)


def test_a_matched_pair_gets_the_master_station_and_an_unmatched_one_keeps_only_its_own_id() -> (
    None
):
    assert expected_enrichment((None, None, None), A) == ("101", 37.1, 127.1)
    assert expected_enrichment(("101", 37.0, 127.0), A) == ("101", 37.1, 127.1)
    # Had coordinates: its id came from the master, it goes with them.
    assert expected_enrichment(("101", 37.1, 127.1), None) == (None, None, None)
    # Had none: its id is the file's own, it stays.
    assert expected_enrichment(("0150", None, None), None) == ("0150", None, None)


def test_only_months_whose_pairs_change_are_affected_with_their_rows_counted() -> None:
    stored = {
        "201901": {
            ("1호선", "가나", ("101", 37.1, 127.1)): 31,
            ("2호선", "다라", ("201", 37.2, 127.2)): 31,
        },
        "201902": {("2호선", "다라", ("201", 37.2, 127.2)): 28},
        "201903": {
            ("1호선", "가나", ("101", 37.1, 127.1)): 30,
            ("3호선", "마바", (None, None, None)): 30,
        },
    }
    # 가나 corrected: the months that hold it, and only its rows.
    moved = {("1호선", "가나"): A_MOVED, ("2호선", "다라"): B}
    assert month_changes(stored, moved) == {
        "201901": MonthChange(moved=31),
        "201903": MonthChange(moved=30),
    }
    # The same master: nothing.
    assert month_changes(stored, {("1호선", "가나"): A, ("2호선", "다라"): B}) == {}
    # 다라 removed, 마바 added.
    changed = {
        ("1호선", "가나"): A,
        ("3호선", "마바"): MasterStation("3호선", "마바", "301", 37.3, 127.3),
    }
    got = month_changes(stored, changed)
    assert got == {
        "201901": MonthChange(lost=31),
        "201902": MonthChange(lost=28),
        "201903": MonthChange(gained=30),
    }
    assert got["201903"].metadata()["reenrichment/rows_gained_coordinates"] == 30
    assert got["201901"].rows == 31
    # A new id at the same place: counted apart.
    renumbered = {("1호선", "가나"): MasterStation("1호선", "가나", "111", 37.1, 127.1)}
    assert month_changes({"201901": {("1호선", "가나", ("101", 37.1, 127.1)): 5}}, renumbered) == {
        "201901": MonthChange(ids_changed=5)
    }
    assert pairs_of(stored) == [("1호선", "가나"), ("2호선", "다라"), ("3호선", "마바")]


def test_a_run_takes_at_most_the_bound_oldest_first_and_says_how_many_are_left() -> None:
    affected = {"card_subway_time": ["202210"], "card_subway_month": ["201903", "201901"]}
    assert first_months(affected, 2) == ({"card_subway_month": ["201901", "201903"]}, 1)
    assert first_months(affected, 12) == (
        {"card_subway_month": ["201901", "201903"], "card_subway_time": ["202210"]},
        0,
    )
    assert first_months({}, 5) == ({}, 0)
