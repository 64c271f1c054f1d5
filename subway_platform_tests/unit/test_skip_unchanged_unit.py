"""Skip-if-unchanged's decision (``skip_unchanged.py``) and the landing sources' data
versions (``landing_assets.py``), without a run: which file a month is read from, and when
a step may skip."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from subway_platform.datasets import DAILY, HOURLY, STATION
from subway_platform.landing_assets import landing_key, month_data_version, observations
from subway_platform.resources.storage import StoredObject
from subway_platform.skip_unchanged import (
    Decision,
    MonthLoad,
    current_versions,
    decide,
    is_forced,
    month_source,
)

BRONZE, GOLD, MART = "bronze/card_subway_month", "gold/subway_passengers", "mart/subway_passengers"
VERSIONS = {BRONZE: "b1", GOLD: "g1", MART: "m1"}


def _file(name: str, etag: str, minute: int) -> StoredObject:
    return StoredObject(
        url=f"s3://b/x/{name}",
        name=name,
        size=1,
        etag=etag,
        modified=datetime(2026, 1, 1, 0, minute, tzinfo=UTC),
    )


def _load(source: tuple[str, str] | None = ("F_201907.csv", "e1"), **changes: object) -> MonthLoad:
    fields: dict[str, object] = {
        "run_id": "run-1",
        "source": source,
        "code_versions": dict(VERSIONS),
        "valid": {key: True for key in VERSIONS},
    }
    fields.update(changes)
    return MonthLoad(**fields)  # type: ignore[arg-type]


def _decide(
    current: tuple[str, str] | None, last: MonthLoad | None, forced: bool = False
) -> Decision:
    return decide(["201907"], {"201907": current}, {"201907": last}, VERSIONS, forced)


def test_an_unchanged_month_is_skipped_and_says_why() -> None:
    decision = _decide(("F_201907.csv", "e1"), _load())
    assert decision.skip
    why = decision.reasons["201907"]
    assert "unchanged since its valid load in run run-1" in why and "subway/force=true" in why


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (("F_201907.csv", "e1"), None, "never loaded"),
        (None, _load(), "no landing or archived file"),
        (("F_201907.csv", "e2"), _load(), "file changed"),
        (("F_201907.csv", "e1"), _load(source=None), "recorded no file content tag"),
        (
            ("F_201907.csv", "e1"),
            _load(code_versions={**VERSIONS, GOLD: "g0"}),
            f"{GOLD} code version g1 (last load: g0)",
        ),
        (
            ("F_201907.csv", "e1"),
            _load(code_versions={BRONZE: "b1", GOLD: "g1"}),
            f"{MART} code version m1 (last load: None)",
        ),
        (
            ("F_201907.csv", "e1"),
            _load(valid={BRONZE: True, GOLD: False, MART: True}),
            f"last load of {GOLD} was not valid",
        ),
        (
            ("F_201907.csv", "e1"),
            _load(behind=(MART,)),
            f"{MART} not written since bronze's last load",
        ),
        (
            ("F_201907.csv", "e1"),
            _load(master_reloaded="run-2"),
            "station master was reloaded since (run run-2)",
        ),
    ],
    ids=[
        "never",
        "no-file",
        "new-content",
        "no-tag",
        "new-code",
        "mart-never",
        "invalid",
        "mart-behind",
        "new-master",
    ],
)
def test_a_changed_or_unproven_month_loads(
    current: tuple[str, str] | None, last: MonthLoad | None, expected: str
) -> None:
    decision = _decide(current, last)
    assert not decision.skip
    assert expected in decision.reasons["201907"]


def test_the_force_tag_loads_an_unchanged_month() -> None:
    decision = _decide(("F_201907.csv", "e1"), _load(), forced=True)
    assert not decision.skip and "forced" in decision.reasons["201907"]
    assert is_forced({"subway/force": "true"}) and is_forced({"subway/force": " TRUE "})
    assert not is_forced({"subway/force": "false"}) and not is_forced({})


def test_a_range_skips_only_when_every_month_is_unchanged() -> None:
    months = ["201907", "201908"]
    current = {"201907": ("F_201907.csv", "e1"), "201908": ("F_201908.csv", "e8")}
    same = {"201907": _load(), "201908": _load(source=("F_201908.csv", "e8"))}
    assert decide(months, current, same, VERSIONS, False).skip
    one_new = {**same, "201908": _load(source=("F_201908.csv", "e7"))}
    decision = decide(months, current, one_new, VERSIONS, False)
    assert not decision.skip and "file changed" in decision.reasons["201908"]
    assert "unchanged" in decision.reasons["201907"]
    assert not decide([], {}, {}, VERSIONS, False).skip


def test_the_month_is_read_from_the_file_bronze_would_read() -> None:
    """Landing before archive, newer before older; a file named for another month never."""
    files = [
        (_file("CARD_SUBWAY_MONTH_201907.csv", "archived", 1), True),
        (_file("CARD_SUBWAY_MONTH_201908.csv", "other", 5), False),
    ]
    assert month_source(DAILY, files, "201907") == ("CARD_SUBWAY_MONTH_201907.csv", "archived")
    assert month_source(DAILY, files, "201909") is None
    relanded = [*files, (_file("CARD_SUBWAY_MONTH_201907.csv", "landing", 0), False)]
    assert month_source(DAILY, relanded, "201907") == ("CARD_SUBWAY_MONTH_201907.csv", "landing")
    hourly_name = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv"
    hourly = [(_file(hourly_name, "old", 1), True), (_file(hourly_name, "new", 2), True)]
    assert month_source(HOURLY, hourly, "201907") == (hourly_name, "new")


def test_code_versions_are_the_assets_own() -> None:
    versions = current_versions(DAILY)
    assert set(versions) == {BRONZE, GOLD, MART}
    assert len(set(versions.values())) == 3


def test_observations_carry_the_content_tag_as_data_version() -> None:
    obj = _file("CARD_SUBWAY_MONTH_201907.csv", "abc123", 1)
    [seen] = observations(DAILY, obj, ["201907"])
    assert (
        seen.asset_key == landing_key(DAILY) == dg.AssetKey(["landing", "card_subway_month_files"])
    )
    assert seen.partition == "201907" and seen.data_version == "abc123"
    [whole] = observations(STATION, obj, [])
    assert whole.partition is None and whole.data_version == "abc123"
    two = month_data_version([("a.csv", "1"), ("b.csv", "2")])
    assert two == month_data_version([("b.csv", "2"), ("a.csv", "1")]) and len(two) == 64
    assert two != month_data_version([("a.csv", "1"), ("b.csv", "3")])
