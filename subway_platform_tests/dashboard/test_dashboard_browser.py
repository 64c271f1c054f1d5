"""The dashboard as a person uses it: headless Chromium logs in to the local Superset, opens
the dashboard, and every one of the nine charts renders without an error state; then, in the
native filter bar, the valid filter is set to "failure" (valid = false) and applied: the pie
and the bar charts change to the failed operations only, the two big numbers stay as they were.

Screenshots are kept as test artifacts: test-artifacts/dashboard.png (as opened) and
test-artifacts/dashboard-valid-false.png (the filter applied)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import dashboard_log_rows as expected  # noqa: E402
from dashboard_cdp import Browser  # noqa: E402
from dashboard_page import ARTIFACTS, BIG_NUMBERS, CHART_TITLES, DashboardPage  # noqa: E402
from dashboard_running import RunningSuperset  # noqa: E402

BEFORE = ARTIFACTS / "dashboard.png"
AFTER = ARTIFACTS / "dashboard-valid-false.png"
VALID_FILTER = "Valid (success / failure)"


def _split(data: list[list[dict]]) -> dict[str, int]:
    return {r["outcome"]: r["operations"] for r in data[0]}


def _by_domain(data: list[list[dict]]) -> dict[str, tuple[int, int]]:
    return {r["domain"]: (r["success"], r["failure"]) for r in data[0]}


def _daily(data: list[list[dict]]) -> dict[object, tuple[int, int]]:
    return {
        datetime.fromtimestamp(r["record_day"] / 1000, tz=UTC).date(): (r["success"], r["failure"])
        for r in data[0]
    }


def test_dashboard_renders_and_the_valid_filter_changes_pie_and_bars(
    superset: RunningSuperset,
) -> None:
    browser = Browser()
    try:
        page = DashboardPage(browser, superset)
        page.open()
        browser.wait_for(
            "document.body.innerText.includes('2 options') && "
            "document.body.innerText.includes('3 options')",
            timeout=120,
        )
        states = page.chart_states()
        browser.screenshot(BEFORE)
        assert page.chart_states() == states  # the screenshot changed nothing
        assert len(states) == len(CHART_TITLES) == 9
        errors = [s for s in states if s["error"] or s["loading"] or not s["drawn"]]
        assert errors == [], errors
        page_text = browser.evaluate("document.body.innerText")
        for title in CHART_TITLES:
            assert title in page_text
        assert "connection refused" in page_text  # the failures table has rows
        assert "loaded with 10 rejected rows" in page.chart_text("ELT loads with rejects")
        assert BEFORE.stat().st_size > 10_000

        before = page.chart_data()
        assert set(before) == set(CHART_TITLES)
        assert _split(before["ELT status"]) == expected.STATUS_SPLIT
        assert _by_domain(before["ELT status by domain"]) == expected.STATUS_BY_DOMAIN
        assert _daily(before["Daily ELT operations"]) == expected.DAILY_OPERATIONS
        big_before = {title: page.chart_text(title) for title in BIG_NUMBERS}
        assert f"{expected.TARGET_TABLES}" in big_before["ELT target tables"]

        answered = page.data_answers()
        page.choose_in_filter(VALID_FILTER, "failure")
        # The six charts in the filters' scope ask for their data again.
        browser.wait_for(f"{page.charts_answered_since(answered)} >= 6", timeout=120)
        page.wait_settled()
        browser.screenshot(AFTER)
        after = page.chart_data(since=answered)

        assert _split(after["ELT status"]) == {"failure": expected.STATUS_SPLIT["failure"]}
        assert _by_domain(after["ELT status by domain"]) == expected.FAILURES_BY_DOMAIN
        daily_after = _daily(after["Daily ELT operations"])
        assert sum(s for s, _ in daily_after.values()) == 0
        assert sum(f for _, f in daily_after.values()) == expected.STATUS_SPLIT["failure"]
        for title in (
            "ELT status",
            "ELT status by domain",
            "Daily ELT operations",
            "Daily ELT records",
        ):
            assert after[title] != before[title], title
        # The big numbers ignore the filters: not asked again, showing the same figures.
        assert not set(BIG_NUMBERS) & set(after)
        assert {title: page.chart_text(title) for title in BIG_NUMBERS} == big_before
        # A valid load with rejects is not a failure: its table empties under the filter.
        assert after["ELT loads with rejects"] == [[]]
        states_after = page.chart_states()
        assert [s for s in states_after if s["error"] or s["loading"]] == []
        assert AFTER.stat().st_size > 10_000
    finally:
        browser.close()
