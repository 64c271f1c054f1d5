"""The alert sensor: Dagster's run-failure sensor, sending each failed run's alert once.

A failed blocking check fails its step, and so its run, in Dagster: the same sensor
reports it, quoting the check's figures from the ELT log message.

Once per run: Dagster's run-status sensor keeps a cursor (the storage id of the last
``RUN_FAILURE`` event handled) in the instance, so a second evaluation, or the daemon
restarted, starts after the runs already handled. The cursor is saved when a tick ends,
so a daemon killed in the middle of a tick would handle its runs again: the tag
``subway/alert_sent`` on the run (the channels that delivered) makes that a no-op.
When first turned on, the sensor starts from "now": it does not alert about old runs.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from subway_platform.alerts.config import AlertChannels, AlertConfigError
from subway_platform.alerts.email_channel import send_email
from subway_platform.alerts.message import Alert, build_alert
from subway_platform.alerts.webhook_channel import post_webhook
from subway_platform.tags import ALERT_SENT_TAG

"""Run tag: comma-separated channels that delivered the run's alert."""
SENSOR_NAME = "failure_alert_sensor"


class AlertDeliveryError(RuntimeError):
    """A configured channel could not deliver (the message names the channel, no secret)."""


def _channels(
    settings: AlertChannels,
) -> tuple[dict[str, Callable[[Alert], object]], list[str]]:
    """Configured channels by name, and configuration errors (one line each)."""
    channels: dict[str, Callable[[Alert], object]] = {}
    errors: list[str] = []
    try:
        smtp = settings.smtp_settings()
        if smtp is not None:
            channels["email"] = lambda alert: send_email(alert, smtp)
    except AlertConfigError as err:
        errors.append(str(err))
    try:
        hook = settings.webhook()
        if hook is not None:
            channels["webhook"] = lambda alert: post_webhook(alert, hook)
    except AlertConfigError as err:
        errors.append(str(err))
    return channels, errors


def deliver_alert(
    instance: dg.DagsterInstance, run: dg.DagsterRun, alert: Alert, settings: AlertChannels
) -> list[str]:
    """Send ``alert`` through every channel of ``settings`` that has not delivered it yet;
    record the ones that did on the run. Return them; raise if any channel failed."""
    channels, errors = _channels(settings)
    done = [c for c in (run.tags.get(ALERT_SENT_TAG) or "").split(",") if c]
    sent: list[str] = []
    for name, send in channels.items():
        if name in done:
            continue
        try:
            send(alert)
            sent.append(name)
        except Exception as err:  # noqa: BLE001 - one channel down must not stop the other
            errors.append(f"{name}: {type(err).__name__}: {' '.join(str(err).split())}")
    if sent:
        instance.add_run_tags(run.run_id, {ALERT_SENT_TAG: ",".join([*done, *sent])})
    if errors:
        raise AlertDeliveryError(settings.scrub(f"run {run.run_id}: " + "; ".join(errors))[:1000])
    return sent


def build_alert_sensor(minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    """The run-failure sensor of this code location's runs (tests evaluate it faster)."""

    @dg.run_failure_sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends an alert when a run fails or a blocking check fails: data set, month, the "
            "ELT log's message and a link to the run, by email (SUBWAY_ALERT_EMAIL_TO over "
            "SUBWAY_SMTP_URL) and/or webhook (SUBWAY_ALERT_WEBHOOK_URL, Slack-compatible). "
            "Once per run."
        ),
    )
    def failure_alert_sensor(
        context: dg.RunFailureSensorContext, alert_channels: AlertChannels
    ) -> None:
        """Build the failed run's alert from its events and send it (nothing when no
        channel is configured or it was sent already)."""
        run = context.dagster_run
        channels, errors = _channels(alert_channels)
        if not channels and not errors:
            context.log.info(f"alerts: no channel configured; run {run.run_id} not reported")
            return
        alert = build_alert(context.instance, run, context.failure_event.message, alert_channels)
        sent = deliver_alert(context.instance, run, alert, alert_channels)
        if sent:
            context.log.info(f"alerts: run {run.run_id} reported by {', '.join(sent)}")
        # None, not a SkipReason: Dagster then goes on to the next failed run in this tick.

    return failure_alert_sensor


def alert_definitions(minimum_interval_seconds: int = 30) -> dg.Definitions:
    """The alert sensor, to merge into the code location."""
    return dg.Definitions(sensors=[build_alert_sensor(minimum_interval_seconds)])
