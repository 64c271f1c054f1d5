"""The station matching rules, each on names built for it (not taken from the real files)."""

from __future__ import annotations

from subway_platform.assets.station_match import (
    MasterStation,
    Rename,
    StationIndex,
    base_name,
    line_key,
    load_renames,
    match_pairs,
)


def _station(line: str, name: str, station_id: str) -> MasterStation:
    return MasterStation(line, name, station_id, 37.5, 127.0)


MASTER = (
    _station("1호선", "가나(다라구청)", "101"),
    _station("1호선", "마바", "102"),
    _station("2호선", "사아", "201"),
    _station("2호선", "사아(자차)", "202"),  # same base as 사아: exact names still match
    _station("2호선", "카타(파하)", "203"),
    _station("2호선", "카타(거너)", "204"),  # two stations with base 카타: ambiguous
    _station("2호선", "새이름", "205"),
    _station("9호선", "하나", "901"),
    _station("9호선(연장)", "두리", "902"),
    _station("경의중앙선", "세시", "951"),
    _station("중앙선", "네시", "961"),
    _station("공항철도1호선", "다섯", "971"),
)
RENAMES = (Rename("옛이름", "새이름", "2호선", 2016), Rename("옛다른", "마바", "", 2009))


def _index() -> StationIndex:
    return StationIndex(MASTER, {}, {}, RENAMES)


def _id(line: str, name: str) -> str | None:
    found = _index().resolve(line, name).station
    return None if found is None else found.station_id


def test_line_names_are_normalised_by_rule() -> None:
    assert {line_key(s) for s in ("1호선", "01호선", "1", " 1 호선 ")} == {"1호선"}
    assert {line_key(s) for s in ("9호선2단계", "9호선2~3단계", "9호선(연장)", "9호선")} == {
        "9호선"
    }
    assert line_key("공항철도 1호선") == "공항철도1호선"
    assert line_key("신분당선(연장2)") == "신분당선"
    assert line_key("인천1호선") == "인천1호선"  # a number inside a name is not a line number
    assert line_key("경의중앙선") == "경의중앙선"


def test_a_line_spelling_finds_the_masters_line() -> None:
    assert _id("01호선", "마바") == "102"
    assert _id("1", "마바") == "102"
    assert _id("9호선2단계", "두리") == "902"  # master: 9호선(연장)
    assert _id("9호선2~3단계", "하나") == "901"
    assert _id("공항철도 1호선", "다섯") == "971"


def test_merged_lines_are_tried_only_where_the_master_has_them() -> None:
    # 경의선 is not in the master: its stations are found on 경의중앙선.
    assert _id("경의선", "세시") == "951"
    # 중앙선 is: its own stations stay on it, others are looked up on 경의중앙선.
    assert _id("중앙선", "네시") == "961"
    assert _id("중앙선", "세시") == "951"
    # A line with no merge stays on its own: 1호선's station is not on 2호선.
    assert _id("2호선", "마바") is None


def test_a_name_matches_with_or_without_its_parenthesised_part() -> None:
    assert base_name("가나(다라구청)") == "가나" and base_name("가나") == "가나"
    assert _id("1호선", "가나") == "101"  # file without, master with
    assert _id("1호선", "가나(지하)") == "101"  # another parenthesised part
    assert _id("2호선", "새이름(역앞)") == "205"  # file with, master without
    assert _id("1호선", "가 나 (다라구청)") == "101"  # whitespace is not part of a name


def test_an_ambiguous_parenthesised_match_is_no_match() -> None:
    found = _index().resolve("2호선", "카타")
    assert found.station is None
    assert found.rule == "ambiguous: 카타(거너), 카타(파하)"
    # Exact names still match even where the base is shared.
    assert _id("2호선", "사아") == "201" and _id("2호선", "사아(자차)") == "202"
    assert _id("2호선", "카타(파하)") == "203"
    # And a base shared by two stations does not match a third spelling.
    assert _index().resolve("2호선", "사아(새부제)").station is None


def test_historical_renames_map_old_names_both_ways() -> None:
    assert _id("2호선", "옛이름") == "205"
    assert _id("2호선", "옛이름(부제)") == "205"
    assert _id("1호선", "옛다른") == "102"  # a rename for every line
    # A rename restricted to a line applies there only.
    assert _id("1호선", "옛이름") is None
    # The master older than the file: the new name finds the old one.
    old_master = StationIndex([_station("2호선", "옛이름", "77")], {}, {}, RENAMES)
    assert old_master.resolve("2호선", "새이름").station is not None


def test_declared_aliases_apply_first() -> None:
    index = StationIndex(MASTER, {"일호선": "1호선"}, {"마바역": "마바"}, ())
    assert index.resolve("일호선", "마바역").rule == "exact"


def test_unmatched_pairs_come_back_with_the_reason() -> None:
    matched, unmatched = match_pairs(
        _index(), [("1호선", "가나"), ("2호선", "카타"), ("2호선", "없는역"), ("99호선", "가나")]
    )
    assert set(matched) == {("1호선", "가나")}
    assert unmatched == {
        ("2호선", "카타"): "ambiguous: 카타(거너), 카타(파하)",
        ("2호선", "없는역"): "not on the line",
        ("99호선", "가나"): "line 99호선 not in the station master",
    }


def test_the_shipped_renames_table_holds_real_renames() -> None:
    renames = {(r.old_name, r.new_name): r for r in load_renames()}
    assert renames[("신천", "잠실새내")].year == 2016
    assert renames[("성내", "잠실나루")].line == "2호선"
    assert ("동대문운동장", "동대문역사문화공원") in renames
    assert all(r.old_name != r.new_name and 1990 < r.year < 2100 for r in renames.values())


def test_the_check_metadata_lists_unmatched_pairs_with_the_reason() -> None:
    from subway_platform.assets.enrichment import MonthCoverage, stations_matched_result
    from subway_platform.datasets import DAILY

    month = MonthCoverage(
        rows=3,
        matched_rows=1,
        boardings=100,
        matched_boardings=40,
        unmatched={("2호선", "카타"): 50, ("2호선", "없는역"): 10},
    )
    reasons = {("2호선", "카타"): "ambiguous: 카타(거너), 카타(파하)"}
    result = stations_matched_result(DAILY, {"201501": month}, reasons)
    assert not result.passed
    listed = result.metadata["unmatched"].value
    assert listed == [
        {
            "line_no": "2호선",
            "station_name": "카타",
            "boardings": 50,
            "months": ["201501"],
            "reason": "ambiguous: 카타(거너), 카타(파하)",
        },
        {"line_no": "2호선", "station_name": "없는역", "boardings": 10, "months": ["201501"]},
    ]
