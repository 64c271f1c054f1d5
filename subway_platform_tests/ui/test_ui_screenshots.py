"""The Dagster UI as a person sees it, in headless Chromium (the dashboard test's CDP
driver): the asset lineage (global, by group, and one data set's group with its three
assets) and a partitioned asset's Partitions page render with the platform's assets and
months in them. Screenshots are kept in test-artifacts/ (as the dashboard test keeps
its own): ui-global-lineage.png, ui-asset-lineage.png and ui-asset-partitions.png."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from subway_platform.partitions import monthly_partitions
from subway_platform.platform.dev_process import LOCATION
from subway_platform_tests.ui.dev_platform import DevPlatform

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
from dashboard_cdp import Browser  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
GROUPS = ["card_subway_month", "card_subway_time", "subway_station"]
COMMUNITY_DIALOG = "Join the Dagster community"


def _text_has_all(words: list[str]) -> str:
    """A JavaScript condition: the page's visible text holds every word."""
    return f"{json.dumps(words)}.every(w => document.body.innerText.includes(w))"


def _dismiss_community_dialog(browser: Browser) -> None:
    """Dagster's first-visit "Join the Dagster community" dialog covers the page: Skip it,
    as a person does (it may open a moment after the page)."""
    try:
        browser.wait_for(_text_has_all([COMMUNITY_DIALOG]), timeout=15)
    except TimeoutError:
        return
    browser.evaluate(
        "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Skip').click()"
    )
    browser.wait_for(f"!{_text_has_all([COMMUNITY_DIALOG])}", timeout=30)


def test_asset_lineage_and_partitions_page_render(dev: DevPlatform) -> None:
    months = monthly_partitions.get_partition_keys()
    partitions_label = f"{len(months)} partitions"
    shots = ["ui-global-lineage.png", "ui-asset-lineage.png", "ui-asset-partitions.png"]
    for name in shots:
        (ARTIFACTS / name).unlink(missing_ok=True)
    browser = Browser()
    try:
        # Lineage (the sidebar's "Lineage"): the global graph, one node per asset group.
        browser.navigate(f"{dev.url}/asset-groups")
        browser.wait_for(_text_has_all(["Global asset lineage", *GROUPS]), timeout=180)
        _dismiss_community_dialog(browser)
        browser.screenshot(ARTIFACTS / shots[0])

        # The daily data set's group: bronze -> gold (and its rejects) -> mart drawn as asset
        # nodes, each with its partitions and checks, and the station master as an upstream
        # link. A node is labelled with its key's last component: the rejects node says so.
        browser.navigate(f"{dev.url}/locations/{LOCATION}/asset-groups/card_subway_month/lineage")
        browser.wait_for(
            _text_has_all(
                [
                    "card_subway_month",
                    "card_subway_month_rejects",
                    "subway_passengers",
                    "subway_station",
                    partitions_label,
                    "Asset checks",
                ]
            ),
            timeout=180,
        )
        nodes = browser.evaluate(
            f"document.body.innerText.split({json.dumps(partitions_label)}).length - 1"
        )
        assert nodes == 4, f"expected bronze, gold, its rejects and mart nodes, found {nodes}"
        # Each node is a foreignObject whose text starts with its label (the key's last
        # component): the rejects node is no second card_subway_month.
        names = ["card_subway_month_rejects", "card_subway_month", "subway_passengers"]
        labels = browser.evaluate(
            "[...document.querySelectorAll('foreignObject')]"
            f".filter(n => n.textContent.includes({json.dumps(partitions_label)}))"
            f".map(n => {json.dumps(names)}.find(w => n.textContent.startsWith(w))"
            " || n.textContent)"
        )
        assert sorted(labels) == [
            "card_subway_month",
            "card_subway_month_rejects",
            "subway_passengers",  # gold and mart: contract keys, told apart by their kinds
            "subway_passengers",
        ], labels
        _dismiss_community_dialog(browser)
        browser.screenshot(ARTIFACTS / shots[1])

        # A partitioned asset's page, Partitions tab: every month of the definition,
        # newest first, with the status filters.
        browser.navigate(f"{dev.url}/assets/mart/subway_passengers?view=partitions")
        browser.wait_for(
            _text_has_all(
                [
                    "subway_passengers",
                    f"{len(months)} Partitions Selected",
                    "Materialized (",
                    "Missing (",
                    months[-1],
                ]
            ),
            timeout=180,
        )
        _dismiss_community_dialog(browser)
        browser.screenshot(ARTIFACTS / shots[2])
    finally:
        browser.close()
    for name in shots:
        assert (ARTIFACTS / name).stat().st_size > 20_000, name
