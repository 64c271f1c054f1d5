"""Freshness on a real PostgreSQL-backed Dagster instance: the freshness check of
bronze/card_subway_month fails, in a run of the freshness sensor, while the month due by
its day (spec ``due_day``) is not loaded; in any other run it reports nothing. The freshness
alert sensor sends it once by email (aiosmtpd) and webhook (HTTP on loopback) without
secrets, and the check passes once the month is in."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from alerts_servers import INSTANCE_URL_ENV, SMTP_PASSWORD, SmtpServer, WebhookReceiver

from subway_platform.datasets import DAILY
from subway_platform.freshness import (
    FRESHNESS_RUN_TAG,
    FRESHNESS_RUN_TAG_VALUE,
    build_freshness_alert_sensor,
    freshness_checks,
)
from subway_platform.freshness_rules import FRESHNESS_CHECK_NAME, FRESHNESS_TIMEZONE, overdue_month
from subway_platform.partitions import monthly_partitions
from subway_platform.resources.environment import build_alert_channels

BRONZE = dg.AssetKey(["bronze", DAILY.name])


@dg.asset(key=BRONZE, partitions_def=monthly_partitions)
def bronze_daily_stub() -> None:
    """Stands in for the bronze asset: the freshness check reads only the instance."""


def _expected_month() -> str:
    """The month the check expects now: due by the latest passed ``due_day`` in Seoul."""
    now = datetime.now(ZoneInfo(FRESHNESS_TIMEZONE))
    deadline = now.replace(day=DAILY.due_day or 1, hour=0, minute=0, second=0, microsecond=0)
    if deadline > now:
        deadline = (
            deadline.replace(month=deadline.month - 1)
            if deadline.month > 1
            else deadline.replace(year=deadline.year - 1, month=12)
        )
    return overdue_month(deadline)


def _run_freshness(
    instance: dg.DagsterInstance, by_sensor: bool = True
) -> dg.ExecuteInProcessResult:
    """A run of the check, tagged as the freshness sensor tags its runs (or not)."""
    checks = [c for c in freshness_checks() if BRONZE in {k.asset_key for k in c.check_keys}]
    defs = dg.Definitions(
        assets=[bronze_daily_stub],
        asset_checks=checks,
        jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*checks))],
    )
    tags = {FRESHNESS_RUN_TAG: FRESHNESS_RUN_TAG_VALUE} if by_sensor else {}
    return defs.resolve_job_def("freshness").execute_in_process(instance=instance, tags=tags)


def _tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
) -> str | None:
    resources = {"alert_channels": build_alert_channels()}
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return sensor.evaluate_tick(context).cursor


def test_missing_month_fails_the_freshness_check_and_alerts_once(
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
    monkeypatch.setenv("SUBWAY_ALERT_WEBHOOK_URL", webhook_receiver.url)
    month = _expected_month()
    sensor = build_freshness_alert_sensor()
    with dg.DagsterInstance.get() as instance:
        cursor = _tick(sensor, instance, None)  # first tick: starts from now
        # An older month is loaded, the one due is not.
        instance.report_runless_asset_event(dg.AssetMaterialization(BRONZE, partition="201907"))
        # Outside the freshness sensor's runs the check evaluates nothing: no red, no alert.
        elsewhere = _run_freshness(instance, by_sensor=False)
        assert elsewhere.success and not elsewhere.get_asset_check_evaluations()
        cursor = _tick(sensor, instance, cursor)
        assert not smtp_server.mailbox.messages and not webhook_receiver.requests
        result = _run_freshness(instance)
        assert result.success  # a failed check does not fail the run ...
        (evaluation,) = result.get_asset_check_evaluations()
        assert evaluation.check_name == FRESHNESS_CHECK_NAME and not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert month in (evaluation.description or "")
        assert "overdue since" in (evaluation.description or "")
        assert "last load: 201907" in (evaluation.description or "")
        # ... and the UI's latest evaluation of the check is the failure.
        key = dg.AssetCheckKey(BRONZE, FRESHNESS_CHECK_NAME)
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        assert latest.run_id == result.run_id

        cursor = _tick(sensor, instance, cursor)
        assert len(smtp_server.mailbox.messages) == 1 and len(webhook_receiver.requests) == 1
        mail = email.message_from_bytes(
            smtp_server.mailbox.messages[0]["content"], policy=email.policy.default
        )
        mail_text = f"{mail['Subject']}\n{mail.get_content()}"  # type: ignore[union-attr]
        text = webhook_receiver.requests[0]["json"]["text"]
        for shown in (mail_text, text):
            assert f"file overdue: {DAILY.name} {month}" in shown
            assert f"/runs/{result.run_id}" in shown
            assert SMTP_PASSWORD not in shown and webhook_receiver.url not in shown
        assert "has not been loaded" in text

        # Once per run: another tick sends nothing more.
        cursor = _tick(sensor, instance, cursor)
        assert len(smtp_server.mailbox.messages) == 1 and len(webhook_receiver.requests) == 1

        # The month arrives: the check passes, no alert.
        instance.report_runless_asset_event(dg.AssetMaterialization(BRONZE, partition=month))
        passed = _run_freshness(instance)
        assert all(e.passed for e in passed.get_asset_check_evaluations())
        _tick(sensor, instance, cursor)
        assert len(smtp_server.mailbox.messages) == 1 and len(webhook_receiver.requests) == 1
