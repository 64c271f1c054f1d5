"""The alert sensor's once-per-run guarantees, evaluated in process (not by a daemon: the
sensor is evaluated with ``SensorDefinition.evaluate_tick`` on a PostgreSQL-backed instance,
the failed run is a real in-process run, the SMTP server and HTTP receiver are real).

- Dagster's run-status cursor: a second evaluation after the first does not see the run
  again, even when a channel that did not deliver it (the webhook, added later) is on.
- The ``subway/alert_sent`` tag: an evaluation from an old cursor (a daemon that died
  before saving its cursor) does not resend by a channel that delivered already.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from alerts_servers import INSTANCE_URL_ENV, SMTP_PASSWORD, SmtpServer, WebhookReceiver

from subway_platform.alerts.config import AlertChannels, AlertConfigError
from subway_platform.alerts.sensors import build_alert_sensor
from subway_platform.partitions import monthly_partitions
from subway_platform.resources.environment import build_alert_channels
from subway_platform.tags import ALERT_SENT_TAG

SECRET = "Hidden-Pa55"


@dg.asset(key=["bronze", "card_subway_time"], partitions_def=monthly_partitions)
def bronze_hourly_fails() -> None:
    """Fails with a password in its message."""
    raise ConnectionError(f"could not connect with password={SECRET}")


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None) -> str:
    """One evaluation, with the alert channels as the code location would load them now."""
    resources = {"alert_channels": build_alert_channels()}
    data = sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    )
    assert data.cursor is not None
    return data.cursor


def test_cursor_and_tag_send_each_alert_once_per_channel(
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    alert_dagster_home: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, url = alert_dagster_home
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv(INSTANCE_URL_ENV, url)
    monkeypatch.setenv("SUBWAY_ALERT_EMAIL_TO", "oncall@example.org")
    monkeypatch.setenv("SUBWAY_SMTP_URL", smtp_server.url)
    monkeypatch.delenv("SUBWAY_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("SUBWAY_UI_URL", raising=False)
    sensor = build_alert_sensor()
    with dg.DagsterInstance.get() as instance:
        start = _tick(sensor, instance, None)  # first evaluation: the cursor starts at "now"
        result = dg.materialize(
            [bronze_hourly_fails], instance=instance, partition_key="202210", raise_on_error=False
        )
        run_id = result.run_id

        after_first = _tick(sensor, instance, start)
        assert len(smtp_server.mailbox.messages) == 1
        assert instance.get_run_by_id(run_id).tags[ALERT_SENT_TAG] == "email"

        monkeypatch.setenv("SUBWAY_ALERT_WEBHOOK_URL", webhook_receiver.url)
        _tick(sensor, instance, after_first)
        assert (len(smtp_server.mailbox.messages), len(webhook_receiver.requests)) == (1, 0)

        _tick(sensor, instance, start)  # as if the first cursor had never been saved
        assert (len(smtp_server.mailbox.messages), len(webhook_receiver.requests)) == (1, 1)
        assert instance.get_run_by_id(run_id).tags[ALERT_SENT_TAG] == "email,webhook"

    text = webhook_receiver.requests[0]["json"]["text"]
    assert text.splitlines() == [
        "[subway_platform] failed: card_subway_time 202210",
        f"Dagster run {run_id} of job __ephemeral_asset_job__ failed.",
        "- data set card_subway_time, month 202210, bronze/card_subway_time failed: "
        "ConnectionError: could not connect with password=***",
        f"Run: http://127.0.0.1:3000/runs/{run_id}",
    ]
    mail = smtp_server.mailbox.messages[0]["content"].decode()
    for secret in (SECRET, SMTP_PASSWORD, webhook_receiver.url):
        assert secret not in mail and secret not in text


def test_email_without_a_usable_server_url_names_the_variable_only() -> None:
    bad = "mail.example.org:25 user=x password=Sekr1t-pw"
    channels = AlertChannels(email_to="oncall@example.org", smtp_url=bad)
    with pytest.raises(AlertConfigError) as err:
        channels.smtp_settings()
    assert "SUBWAY_SMTP_URL is not an smtp:// or smtps:// URL" in str(err.value)
    assert "Sekr1t-pw" not in str(err.value) and "Sekr1t-pw" not in repr(channels)
    assert AlertChannels(smtp_url=bad).smtp_settings() is None  # no recipient: the channel is off
