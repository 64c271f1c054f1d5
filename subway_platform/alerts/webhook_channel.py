"""The webhook channel: Slack-compatible JSON (``{"text": ...}``) POSTed to
``SUBWAY_ALERT_WEBHOOK_URL`` (Slack incoming webhooks, Mattermost, Teams workflows, ...)."""

from __future__ import annotations

import json
import urllib.request

from subway_platform.alerts.message import Alert

TIMEOUT_SECONDS = 30.0


def webhook_payload(alert: Alert) -> dict[str, str]:
    """The JSON body: Slack's ``text`` field, subject first."""
    return {"text": f"{alert.subject}\n{alert.text}"}


def post_webhook(alert: Alert, url: str) -> int:
    """POST the alert; return the HTTP status. A non-2xx answer raises ``HTTPError``."""
    request = urllib.request.Request(
        url,
        data=json.dumps(webhook_payload(alert), ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked in config
        return int(response.status)
