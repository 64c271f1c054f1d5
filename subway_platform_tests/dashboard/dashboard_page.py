"""The ELT dashboard page as a person uses it, for the browser tests: log in through the
page, open the dashboard, wait until every chart has drawn, read the charts, choose a value
in a native filter of the filter bar and apply it.

What each chart shows is read from the chart data the page itself fetched: a script run
before Superset's own records every ``/api/v1/chart/data`` answer (the pie and the bars
are drawn on a canvas, whose figures the DOM does not hold).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from subway_platform.dashboard.bundle import CHARTS, DASHBOARD_SLUG
from subway_platform.dashboard.server import ADMIN_USER

sys.path.insert(0, str(Path(__file__).parent))
from dashboard_cdp import Browser  # noqa: E402
from dashboard_running import RunningSuperset  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHART_TITLES = tuple(chart.title for chart in CHARTS)
BIG_NUMBERS = tuple(chart.title for chart in CHARTS if not chart.filterable)

# The web login form needs a CSRF token bound to the browser's session: get one with an
# API token, then post the form from the page so the session cookie lands in the browser.
_LOGIN_JS = """
(async () => {
  const login = await fetch('/api/v1/security/login', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: %(user)s, password: %(password)s, provider: 'db'})});
  const token = (await login.json()).access_token;
  const csrf = await fetch('/api/v1/security/csrf_token/',
    {headers: {Authorization: 'Bearer ' + token}, credentials: 'same-origin'});
  const form = new URLSearchParams({username: %(user)s, password: %(password)s,
                                    csrf_token: (await csrf.json()).result});
  const done = await fetch('/login/', {method: 'POST', body: form, credentials: 'same-origin',
                                       redirect: 'follow'});
  const me = await fetch('/api/v1/me/', {credentials: 'same-origin'});
  return [login.status, csrf.status, done.status, done.url, me.status].join(' ');
})()
"""

# Every chart data answer the page receives, with the chart's id (slice_id) it was for.
_RECORD_CHART_DATA_JS = """
(() => {
  window.__chartData = [];
  const original = window.fetch;
  window.fetch = async function (input, init) {
    const response = await original.apply(this, arguments);
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (url.includes('/api/v1/chart/data')) {
      let sliceId = null;
      try { sliceId = JSON.parse((init && init.body) || '{}').form_data.slice_id; } catch (e) {}
      if (sliceId == null) {
        const m = decodeURIComponent(url).match(/"slice_id":\\s*(\\d+)/);
        sliceId = m ? Number(m[1]) : null;
      }
      response.clone().json().then(
        body => window.__chartData.push({sliceId, status: response.status,
                                         result: (body.result || []).map(r => r.data)}),
        () => window.__chartData.push({sliceId, status: response.status, result: null}));
    }
    return response;
  };
})();
"""

_CHART_STATE_JS = """
(() => {
  const holders = [...document.querySelectorAll('[data-test="chart-grid-component"]')];
  return holders.map(h => ({
    title: (h.querySelector('[data-test="editable-title"], .header-title') || {}).innerText
           || '',
    loading: !!h.querySelector('[data-test="loading-indicator"], .loading'),
    error: !!h.querySelector('[data-test="error-alert"], .alert-danger, [role="alert"]'),
    drawn: !!h.querySelector('canvas, svg, table, .header-line, [data-test="big-number"]'),
    text: h.innerText.slice(0, 200),
  }));
})()
"""

_HOLDERS = "[...document.querySelectorAll('[data-test=\"chart-grid-component\"]')]"
_SETTLED_JS = (
    f"{_HOLDERS}.every(h => !h.querySelector('[data-test=\"loading-indicator\"], .loading') "
    '&& h.querySelector(\'canvas, svg, table, [data-test="error-alert"], .alert-danger, '
    '[role="alert"], .ant-empty, [data-test="empty-state"]\'))'
)


class DashboardPage:
    """The dashboard open in one headless Chromium, logged in as the admin."""

    def __init__(self, browser: Browser, superset: RunningSuperset) -> None:
        self.browser = browser
        self.superset = superset
        self.chart_ids = {
            c["slice_name"]: c["id"] for c in superset.client.dashboard_charts(DASHBOARD_SLUG)
        }

    def open(self) -> None:
        """Log in through the page (up to three tries) and open the dashboard, settled."""
        self.browser.add_script_on_new_document(_RECORD_CHART_DATA_JS)
        login_js = _LOGIN_JS % {
            "user": json.dumps(ADMIN_USER),
            "password": json.dumps(self.superset.superset.admin_password),
        }
        attempts = []
        # Seen once in many runs: the form post left the session logged out (401). A
        # person would log in again; so do we, up to three times, and report each try.
        for _ in range(3):
            self.browser.navigate(f"{self.superset.url}/login/")
            attempts.append(self.browser.evaluate(login_js))
            if attempts[-1].endswith(" 200"):
                break
        assert attempts[-1].endswith(" 200"), f"browser login failed: {attempts}"
        self.browser.navigate(f"{self.superset.url}/superset/dashboard/{DASHBOARD_SLUG}/")
        self.browser.wait_for(f"{_HOLDERS}.length === {len(CHART_TITLES)}", timeout=180)
        self.wait_settled()
        # The valid and domain filters loaded their values from the views.
        self.browser.wait_for(
            "document.querySelectorAll('[data-test=\"form-item-value\"] .ant-select').length >= 2",
            timeout=120,
        )

    def wait_settled(self) -> None:
        """Until every chart drew something (or an error / empty state), none loading, and
        ECharts' grow-in animation is over (a screenshot shows the final picture); scrolled to
        the top."""
        self.browser.wait_for(_SETTLED_JS, timeout=180)
        self.browser.evaluate("window.scrollTo(0, 0)")
        time.sleep(3)

    def chart_states(self) -> list[dict[str, Any]]:
        """Per chart on the page: title, loading, error, drawn, its first 200 characters."""
        return list(self.browser.evaluate(_CHART_STATE_JS))

    def chart_text(self, title: str) -> str:
        """The text a chart shows (a big number's figure and subheader, a table's rows)."""
        return str(
            self.browser.evaluate(
                f"{_HOLDERS}.find(h => h.innerText.includes({json.dumps(title)})).innerText"
            )
        )

    def charts_answered_since(self, since: int) -> str:
        """JavaScript: how many distinct charts got data after the first ``since`` answers."""
        ids = json.dumps(sorted(self.chart_ids.values()))
        return (
            f"(new Set(window.__chartData.slice({since}).map(a => a.sliceId)"
            f".filter(i => {ids}.includes(i)))).size"
        )

    def data_answers(self) -> int:
        """How many chart data answers the page has received so far."""
        return int(self.browser.evaluate("window.__chartData.length"))

    def chart_data(self, since: int = 0) -> dict[str, list[list[dict[str, Any]]]]:
        """The latest data the page fetched for each chart (title -> one list per query),
        counting only answers after the first ``since``."""
        answers = self.browser.evaluate(f"window.__chartData.slice({since})")
        titles = {chart_id: title for title, chart_id in self.chart_ids.items()}
        latest: dict[str, list[list[dict[str, Any]]]] = {}
        for answer in answers:
            if answer["sliceId"] not in titles:
                continue  # a native filter's values, not a chart's data
            assert answer["status"] == 200, answer
            latest[titles[answer["sliceId"]]] = answer["result"]
        return latest

    def choose_in_filter(self, filter_name: str, value: str) -> None:
        """Open the filter bar's select named ``filter_name``, click ``value`` among its
        options, close the list and press "Apply filters"."""
        select = (
            "[...document.querySelectorAll('[data-test=\"filter-control-name\"]')]"
            f".find(n => n.innerText.trim().startsWith({json.dumps(filter_name)}))"
            ".closest('.ant-form-item, [data-test=\"form-item-value\"], div:has(.ant-select)')"
            ".querySelector('.ant-select-selector')"
        )
        self.browser.click(select)
        option = (
            "[...document.querySelectorAll('.ant-select-dropdown:not(.ant-select-dropdown-hidden)"
            f" .ant-select-item-option')].find(o => o.innerText.trim() === {json.dumps(value)})"
        )
        self.browser.wait_for(option, timeout=60)
        # The list grows in with an animation: click once it stands still.
        self.browser.wait_for(
            '!document.querySelector(\'.ant-select-dropdown[class*="-enter"], '
            '.ant-select-dropdown[class*="-appear"]\')',
            timeout=30,
        )
        self.browser.click(option)
        self.browser.wait_for(f"{select}.innerText.includes({json.dumps(value)})", timeout=30)
        self.browser.press_key("Escape", "Escape", 27)
        apply_button = (
            "[...document.querySelectorAll('[data-test=\"filterbar-action-buttons\"] button')]"
            ".find(b => b.innerText.trim() === 'Apply filters' && !b.disabled)"
        )
        try:
            self.browser.wait_for(apply_button, timeout=30)
        except TimeoutError as error:
            buttons = self.browser.evaluate(
                "[...document.querySelectorAll('button')].map(b => [b.innerText.trim(), "
                "b.disabled, b.getAttribute('data-test'), b.closest('[data-test]') && "
                "b.closest('[data-test]').getAttribute('data-test')])"
            )
            raise AssertionError(
                f"no enabled 'Apply filters' button; buttons: {buttons}"
            ) from error
        self.browser.click(apply_button)
