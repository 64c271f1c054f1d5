"""Freshness: each data set's tables are due by a day of every month, checked by a sensor.

``DatasetSpec.due_day`` says by which day (00:00 in Seoul) a month's landing file must have
been loaded (``freshness_rules.py``). Every table of such a data set that users wait for has
a ``freshness_check``: the bronze table (the file arrived) and the mart table (the month
reached the mart) of each monthly data set, and the station master's bronze and mart
tables (reloaded once a month).

- ``freshness_checks_sensor`` is the only evaluator: it launches a run of the checks whose
  verdict changed, tagged ``subway/freshness=sensor``. In any other run (a load from the
  asset page or the CLI, which Dagster plans with every check of the asset) the check
  reports nothing, so a load of an old month is never marked by the state of the latest
  month (the UI shows the check as skipped in that run) and the ELT log row of the load
  stays the load's.
- The ELT log mirrors each failed evaluation of the sensor's runs as an ``overdue`` row
  (``elt_log/overdue.py``), which the dashboard's failure list shows.
- ``freshness_alert_sensor`` (a run-status sensor) sends each failed freshness evaluation
  through the alert channels of :mod:`subway_platform.alerts` (email, webhook), once per
  run: the sensor's cursor and the run tag ``subway/alert_sent``, as for failed runs.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from subway_platform.alerts.config import AlertChannels, scrub
from subway_platform.alerts.message import Alert, AlertLine
from subway_platform.alerts.sensors import deliver_alert
from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.freshness_rules import (
    FRESHNESS_CHECK_NAME,
    FRESHNESS_TIMEZONE,
    OVERDUE_MONTH_METADATA,
    Verdict,
    freshness_tables,
    judge_full_refresh,
    judge_month,
    seoul_time,
)
from subway_platform.tables import TableRef, dataset_of_key

CHECKS_SENSOR_NAME = "freshness_checks_sensor"
ALERT_SENSOR_NAME = "freshness_alert_sensor"
FRESHNESS_RUN_TAG = "subway/freshness"
"""Run tag of the freshness sensor's runs (value ``sensor``): the only runs whose
freshness checks evaluate. Add it to a run of the checks to evaluate them by hand."""
FRESHNESS_RUN_TAG_VALUE = "sensor"
DUE_BY_METADATA = "subway/due_by"
"""Check metadata: the deadline judged (an overdue table is overdue since then)."""
FRESH_UNTIL_METADATA = "dagster/fresh_until_timestamp"
"""Check metadata (Dagster's name for it): the table cannot be overdue before that moment."""


def _last_loaded_month(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The month of the table's most recent load (the last loaded, not the latest month)."""
    event = instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event else None
    return materialization.partition if materialization else None


def evaluate_freshness(
    instance: dg.DagsterInstance, spec: DatasetSpec, table: TableRef, now: datetime
) -> Verdict:
    """The verdict on one table now, from the instance's materializations only."""
    due_day = spec.due_day
    if due_day is None:
        raise ValueError(f"{spec.name}: no due_day, so no freshness check")
    if spec.partitioned:
        deadline_month = judge_month(table.key_string, due_day, now, True, None).overdue_month
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=table.key, asset_partitions=[deadline_month]),
            limit=1,
        ).records
        latest = None if found else _last_loaded_month(instance, table.key)
        return judge_month(table.key_string, due_day, now, bool(found), latest)
    event = instance.get_latest_materialization_event(table.key)
    last = datetime.fromtimestamp(event.timestamp, UTC) if event else None
    return judge_full_refresh(table.key_string, due_day, now, last)


def _result(key: dg.AssetKey, verdict: Verdict) -> dg.AssetCheckResult:
    metadata: dict[str, dg.RawMetadataValue] = {
        OVERDUE_MONTH_METADATA: verdict.overdue_month,
        DUE_BY_METADATA: dg.MetadataValue.timestamp(verdict.due_by),
    }
    if verdict.fresh_until is not None:
        metadata[FRESH_UNTIL_METADATA] = dg.MetadataValue.timestamp(verdict.fresh_until)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=FRESHNESS_CHECK_NAME,
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=verdict.description,
        metadata=metadata,
    )


def _freshness_check(spec: DatasetSpec, table: TableRef) -> dg.AssetChecksDefinition:
    what = (
        f"the month due by day {spec.due_day} of the next month (00:00 {FRESHNESS_TIMEZONE}) "
        "is loaded"
        if spec.partitioned
        else f"it was reloaded in the month before day {spec.due_day} (00:00 {FRESHNESS_TIMEZONE})"
    )

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK_NAME,
                asset=table.key,
                blocking=False,
                description=f"Fresh while {what}. Evaluated only by {CHECKS_SENSOR_NAME}; "
                "skipped in loads.",
            )
        ],
        can_subset=True,
        name=f"freshness_{table.layer}_{spec.name}",
    )
    def freshness(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        """The table's freshness now, in the freshness sensor's runs only."""
        if context.run.tags.get(FRESHNESS_RUN_TAG) != FRESHNESS_RUN_TAG_VALUE:
            context.log.info(
                f"{table.key_string}: freshness is evaluated by {CHECKS_SENSOR_NAME}, "
                "not in a load: skipped"
            )
            return
        verdict = evaluate_freshness(context.instance, spec, table, datetime.now(UTC))
        context.log.info(verdict.description)
        yield _result(table.key, verdict)

    return freshness


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One freshness check per table of every data set with a ``due_day``."""
    return [
        _freshness_check(spec, table) for spec in ALL_DATASETS for table in freshness_tables(spec)
    ]


@dataclass(frozen=True)
class FreshnessAlert(Alert):
    """An alert about files or tables overdue (the run that checked them did not fail)."""

    @property
    def subject(self) -> str:
        first = self.lines[0]
        more = f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        subject = f"[subway_platform] {first.kind}: {first.dataset} {first.month}".rstrip()
        return scrub(f"{subject}{more}", self.secrets)[:200]

    @property
    def text(self) -> str:
        body = [f"Freshness check run {self.run_id} found tables overdue."]
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
        spec = dataset_of_key(evaluation.asset_key)
        month_value = evaluation.metadata.get(OVERDUE_MONTH_METADATA)
        month = str(month_value.value) if month_value else ""
        due = evaluation.metadata.get(DUE_BY_METADATA)
        since = (
            f"due by {seoul_time(datetime.fromtimestamp(float(due.value), UTC))}"  # type: ignore[arg-type]
            if due
            else "overdue"
        )
        is_file = asset.startswith("bronze/")
        what = (
            f"the landing file for {month or 'the table'} was {since} and has not been loaded: "
            "check the portal and the landing zone"
            if is_file
            else f"{f'{asset} {month}'.strip()} was {since} and is not loaded: check the "
            "loads of its data set"
        )
        lines.append(
            AlertLine(
                dataset=spec.name if spec else asset,
                asset_key=asset,
                month=month,
                kind="file overdue" if is_file else "table overdue",
                message=what,
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
            "a landing file or a mart table not loaded by its due day. Once per checking run."
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


def _state(verdict: Verdict, last_load: float | None) -> str:
    """What the sensor remembers of a table: fresh or not, for which deadline, and its last
    load (a load plans the check, which reports nothing there and shows as skipped: the
    sensor then evaluates it again, so the UI shows the verdict again)."""
    verdict_state = "fresh" if verdict.passed else "overdue"
    return f"{verdict_state}:{int(verdict.due_by.timestamp())}:{last_load or 0:.3f}"


def build_freshness_checks_sensor(
    checks: Sequence[dg.AssetChecksDefinition], minimum_interval_seconds: int = 600
) -> dg.SensorDefinition:
    """The only evaluator of the freshness checks: a run of the checks whose verdict changed.

    Each tick judges every table from the instance (a few event log reads, no run) and
    requests one run, tagged ``subway/freshness=sensor``, of the checks whose verdict
    differs from the one it last requested (the cursor): the first tick checks every table,
    then a table is checked again when it becomes overdue, when its month arrives, when a
    new deadline is judged, or after any load of it (the load skipped the check, and the UI
    shows the latest execution). So an overdue table is reported (UI, alert, ELT log) once
    per deadline, and again after each load of that table while it stays overdue.

    Why not Dagster's ``build_sensor_for_freshness_checks``: it never evaluates a check
    whose latest execution is still planned and that never completed, and a load from the
    asset page plans the freshness checks (they then report nothing, by design): after
    such a load, before the sensor's first run, Dagster's sensor waited forever.
    """
    targets = {
        dg.AssetCheckKey(table.key, FRESHNESS_CHECK_NAME): (spec, table)
        for spec in ALL_DATASETS
        for table in freshness_tables(spec)
    }

    @dg.sensor(
        name=CHECKS_SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        asset_selection=dg.AssetSelection.checks(*checks),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Evaluates the freshness checks (bronze and mart of each data set with a due day): "
            "launches a run of the checks whose verdict changed since its last run "
            "(a table became overdue, its month arrived, a new deadline) or whose table was "
            "loaded since. The only place freshness is evaluated; loads skip the checks."
        ),
    )
    def freshness_checks_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Request a run of the freshness checks whose verdict changed."""
        requested: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        now = datetime.now(UTC)
        changed: list[dg.AssetCheckKey] = []
        for key, (spec, table) in sorted(targets.items(), key=lambda kv: kv[0].to_user_string()):
            last = context.instance.get_latest_materialization_event(table.key)
            verdict = evaluate_freshness(context.instance, spec, table, now)
            state = _state(verdict, last.timestamp if last else None)
            if requested.get(key.to_user_string()) != state:
                requested[key.to_user_string()] = state
                changed.append(key)
        cursor = json.dumps(requested, sort_keys=True)
        if not changed:
            return dg.SensorResult(skip_reason="no table's freshness changed", cursor=cursor)
        context.log.info(
            "freshness: checking " + ", ".join(k.asset_key.to_user_string() for k in changed)
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    asset_check_keys=changed,
                    tags={FRESHNESS_RUN_TAG: FRESHNESS_RUN_TAG_VALUE},
                )
            ],
            cursor=cursor,
        )

    return freshness_checks_sensor


def freshness_definitions(minimum_interval_seconds: int = 30) -> dg.Definitions:
    """The freshness checks, the sensor that evaluates them and the alert sensor."""
    checks = freshness_checks()
    return dg.Definitions(
        asset_checks=checks,
        sensors=[
            build_freshness_checks_sensor(checks),
            build_freshness_alert_sensor(minimum_interval_seconds),
        ],
    )
