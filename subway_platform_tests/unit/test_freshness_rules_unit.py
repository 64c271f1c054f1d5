"""Freshness deadlines and verdicts (``freshness_rules.py``), rule by rule, with failing cases."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from subway_platform.datasets import ALL_DATASETS, DAILY, STATION
from subway_platform.freshness_rules import (
    freshness_tables,
    judge_full_refresh,
    judge_month,
    latest_deadline,
    next_deadline,
    overdue_month,
)

SEOUL = ZoneInfo("Asia/Seoul")


def test_deadline_is_midnight_in_seoul_on_the_due_day() -> None:
    # 2026-12-04 15:30 UTC is 2026-12-05 00:30 in Seoul: the 5 December deadline has passed.
    assert latest_deadline(5, datetime(2026, 12, 4, 15, 30, tzinfo=UTC)) == datetime(
        2026, 12, 5, tzinfo=SEOUL
    )
    # 14:59 UTC is 23:59 in Seoul: still the November deadline.
    assert latest_deadline(5, datetime(2026, 12, 4, 14, 59, tzinfo=UTC)) == datetime(
        2026, 11, 5, tzinfo=SEOUL
    )
    assert latest_deadline(10, datetime(2027, 1, 3, tzinfo=SEOUL)) == datetime(
        2026, 12, 10, tzinfo=SEOUL
    )
    assert next_deadline(5, datetime(2026, 12, 5, tzinfo=SEOUL)) == datetime(
        2027, 1, 5, tzinfo=SEOUL
    )
    assert overdue_month(datetime(2027, 1, 5, tzinfo=SEOUL)) == "202612"
    with pytest.raises(ValueError, match="1-28"):
        latest_deadline(31, datetime(2026, 12, 5, tzinfo=UTC))


def test_a_month_not_loaded_by_its_deadline_is_overdue_since_then() -> None:
    now = datetime(2026, 12, 20, tzinfo=SEOUL)
    late = judge_month("mart/subway_passengers", 5, now, loaded=False, last_loaded="201907")
    assert not late.passed and late.overdue_month == "202611"
    assert late.due_by == datetime(2026, 12, 5, tzinfo=SEOUL) and late.fresh_until is None
    assert late.description == (
        "mart/subway_passengers 202611 overdue since 2026-12-05 00:00 Asia/Seoul: "
        "not loaded (last load: 201907)"
    )
    fresh = judge_month("mart/subway_passengers", 5, now, loaded=True, last_loaded=None)
    assert fresh.passed and fresh.overdue_month == "202611"
    assert fresh.fresh_until == datetime(2027, 1, 5, tzinfo=SEOUL)


def test_a_full_refresh_table_is_due_once_a_month() -> None:
    now = datetime(2026, 12, 20, tzinfo=SEOUL)
    # Reloaded after the November deadline: fresh until the January one.
    ok = judge_full_refresh("mart/subway_station", 1, now, datetime(2026, 11, 20, tzinfo=SEOUL))
    assert ok.passed and ok.fresh_until == datetime(2027, 1, 1, tzinfo=SEOUL)
    # Last reloaded before the November deadline: overdue since the December one.
    late = judge_full_refresh("mart/subway_station", 1, now, datetime(2026, 10, 30, tzinfo=SEOUL))
    assert not late.passed and late.due_by == datetime(2026, 12, 1, tzinfo=SEOUL)
    assert "overdue since 2026-12-01 00:00 Asia/Seoul" in late.description
    never = judge_full_refresh("mart/subway_station", 1, now, None)
    assert not never.passed and "never loaded" in never.description


def test_bronze_and_mart_of_every_data_set_with_a_due_day_have_a_freshness_check() -> None:
    keys = {t.key_string for spec in ALL_DATASETS for t in freshness_tables(spec)}
    assert {"bronze/card_subway_month", "mart/subway_passengers"} <= keys
    assert {"bronze/subway_station", "mart/subway_station"} <= keys
    assert DAILY.due_day and STATION.due_day
    assert not any(k.startswith("gold/") for k in keys)


def test_the_jobs_never_run_a_freshness_check() -> None:
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

    from subway_platform.assets import build_assets
    from subway_platform.freshness import freshness_checks
    from subway_platform.freshness_rules import FRESHNESS_CHECK_NAME
    from subway_platform.jobs import dataset_selection, monthly_all_job

    graph = AssetGraph.from_assets([*build_assets(), *freshness_checks()])
    freshness = {k for k in graph.asset_check_keys if k.name == FRESHNESS_CHECK_NAME}
    assert len(freshness) == 2 * len([s for s in ALL_DATASETS if s.due_day])
    for selection in (*(dataset_selection(s) for s in ALL_DATASETS), monthly_all_job.selection):
        checks = selection.resolve_checks(graph)
        assert checks and not checks & freshness  # the loads' own checks, not freshness
