"""Freshness: each monthly data set's file is due by a day of the following month.

``DatasetSpec.due_day`` says by which day (00:00 in Seoul) a month's landing file must have
been loaded. Dagster's own time-partition freshness check on the bronze asset fails once
that deadline has passed without a materialization of the month (the last complete month
as of the deadline): the UI shows a failed ``freshness_check`` on ``bronze/<data set>``.

- ``freshness_checks_sensor`` (Dagster's ``build_sensor_for_freshness_checks``) evaluates
  the checks when they may have changed (the daemon runs it).
- ``freshness_alert_sensor`` (a run-status sensor) sends each failed freshness evaluation
  through the alert channels of :mod:`subway_platform.alerts` (email, webhook), once per
  run: the sensor's cursor and the run tag ``subway/alert_sent``, as for failed runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from subway_platform.alerts.config import AlertChannels, scrub
from subway_platform.alerts.message import Alert, AlertLine
from subway_platform.alerts.sensors import deliver_alert
from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.jobs import FRESHNESS_CHECK_NAME as JOBS_FRESHNESS_CHECK_NAME
from subway_platform.tables import tables_of

FRESHNESS_TIMEZONE = "Asia/Seoul"
"""The portal publishes on Seoul's calendar; deadlines are midnight there."""
FRESHNESS_CHECK_NAME = JOBS_FRESHNESS_CHECK_NAME
"""The name Dagster gives the checks its freshness factories build."""
CHECKS_SENSOR_NAME = "freshness_checks_sensor"
ALERT_SENSOR_NAME = "freshness_alert_sensor"
_DATASET_OF_BRONZE = {tables_of(spec).bronze.key_string: spec for spec in ALL_DATASETS}


def deadline_cron(spec: DatasetSpec) -> str:
    """Cron of the data set's monthly deadline: midnight starting day ``due_day``."""
    if spec.due_day is None or not 1 <= spec.due_day <= 28:
        raise ValueError(f"{spec.name}: due_day must be a day 1-28, not {spec.due_day!r}")
    return f"0 0 {spec.due_day} * *"


def overdue_month(deadline: datetime) -> str:
    """The month due by ``deadline``: the one before the deadline's month (``YYYYMM``)."""
    local = deadline.astimezone(ZoneInfo(FRESHNESS_TIMEZONE))
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year:04d}{month:02d}"


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One Dagster time-partition freshness check per monthly data set's bronze asset."""
    checks: list[dg.AssetChecksDefinition] = []
    for spec in ALL_DATASETS:
        if spec.partitioned and spec.due_day is not None:
            with warnings.catch_warnings():
                # Dagster 1.13 prefers FreshnessPolicy, which has no monthly due day nor a
                # check result an alert can be sent from; these factories are still supported.
                warnings.simplefilter("ignore", dg.SupersessionWarning)
                checks += dg.build_time_partition_freshness_checks(
                    assets=[tables_of(spec).bronze.key],
                    deadline_cron=deadline_cron(spec),
                    timezone=FRESHNESS_TIMEZONE,
                    severity=dg.AssetCheckSeverity.ERROR,
                )
    return checks


@dataclass(frozen=True)
class FreshnessAlert(Alert):
    """An alert about files that did not arrive (the run that checked them did not fail)."""

    @property
    def subject(self) -> str:
        first = self.lines[0]
        more = f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        return scrub(
            f"[subway_platform] file overdue: {first.dataset} {first.month}{more}", self.secrets
        )[:200]

    @property
    def text(self) -> str:
        body = [f"Freshness check run {self.run_id} found monthly files missing."]
        body += [
            f"- data set {line.dataset}, month {line.month}, {line.asset_key}: {line.message}"
            for line in self.lines
        ]
        body.append(f"Run: {self.link}")
        return scrub("\n".join(body), self.secrets)


def freshness_alert(
    instance: dg.DagsterInstance, run: dg.DagsterRun, channels: AlertChannels
) -> FreshnessAlert | None:
    """The alert for a run's failed freshness evaluations, or None when all passed."""
    lines: list[AlertLine] = []
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().asset_check_evaluation_data
        if evaluation.check_name != FRESHNESS_CHECK_NAME or evaluation.passed:
            continue
        asset = evaluation.asset_key.to_user_string()
        spec = _DATASET_OF_BRONZE.get(asset)
        tick = evaluation.metadata.get("dagster/latest_cron_tick_timestamp")
        deadline = (
            datetime.fromtimestamp(float(tick.value), ZoneInfo(FRESHNESS_TIMEZONE))
            if tick
            else None
        )  # type: ignore[arg-type]
        month = overdue_month(deadline) if deadline else ""
        due = f"due by {deadline:%Y-%m-%d %H:%M} {FRESHNESS_TIMEZONE}" if deadline else "overdue"
        lines.append(
            AlertLine(
                dataset=spec.name if spec else asset,
                asset_key=asset,
                month=month,
                kind="file overdue",
                message=f"the landing file for {month} was {due} and has not been loaded: "
                "check the portal and the landing zone",
            )
        )
    if not lines:
        return None
    return FreshnessAlert(
        run_id=run.run_id,
        job_name=run.job_name,
        lines=tuple(lines),
        fallback=None,
        link=channels.run_url(run.run_id),
        secrets=channels.secrets(),
    )


def build_freshness_alert_sensor(minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    """Run-status sensor: every successful run that evaluated a failing freshness check."""

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name=ALERT_SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends an alert (email and/or webhook, as failed runs) when a freshness check finds "
            "a monthly landing file not loaded by its due day. Once per checking run."
        ),
    )
    def freshness_alert_sensor(
        context: dg.RunStatusSensorContext, alert_channels: AlertChannels
    ) -> None:
        """Alert about the run's failed freshness checks (nothing if none, or no channel)."""
        run = context.dagster_run
        alert = freshness_alert(context.instance, run, alert_channels)
        if alert is None:
            return
        # No channel configured: sends nothing.
        sent = deliver_alert(context.instance, run, alert, alert_channels)
        context.log.info(
            f"freshness: run {run.run_id} reported by {', '.join(sent) or 'no channel'}"
        )

    return freshness_alert_sensor


def freshness_definitions(minimum_interval_seconds: int = 30) -> dg.Definitions:
    """The freshness checks, the sensor that evaluates them and the alert sensor."""
    checks = freshness_checks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        evaluator = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name=CHECKS_SENSOR_NAME,
            minimum_interval_seconds=3600,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return dg.Definitions(
        asset_checks=checks,
        sensors=[evaluator, build_freshness_alert_sensor(minimum_interval_seconds)],
    )
