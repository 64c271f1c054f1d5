"""What one Dagster run did, read from its event log: the facts the ELT log is made of.

Only public event fields are read (``EventLogEntry.dagster_event`` and its
``event_specific_data``, as returned by ``DagsterInstance.all_logs``):

- ``ASSET_MATERIALIZATION``: asset, partition, output metadata, time, step;
- ``ASSET_CHECK_EVALUATION``: check outcome per asset (and partition, when given), with
  its description and metadata;
- ``STEP_START`` / ``STEP_SUCCESS`` / ``STEP_FAILURE``: each step's duration and error
  (and the metadata of a ``dagster.Failure``);
- ``ASSET_MATERIALIZATION_PLANNED``: which assets each step was going to materialize
  (the run's plan, so a failed step's assets are known although it wrote nothing);
- ``RUN_CANCELED``: when a cancelled run stopped;
- ``RUN_FAILURE``: when a failed run was marked failed, and Dagster's message (run
  monitoring's, when the run worker died);
- ``ASSET_OBSERVATION`` carrying ``subway/skipped``: a month bronze skipped, unchanged
  since its valid load (``skip_unchanged.py``), the reason and the assets not written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster import DagsterEventType

from subway_platform.partitions import InvalidPartitionKey, validate_month

BAD_MONTHS_METADATA = "subway/bad_months"
"""Metadata of a step's ``dagster.Failure``: month -> why that month cannot be loaded."""
GOOD_MONTHS_METADATA = "subway/good_months"
"""Metadata of a step's ``dagster.Failure``: the step's months that were fine (not written)."""

SKIPPED_METADATA = "subway/skipped"
"""Observation metadata of a month skipped, unchanged (``skip_unchanged.py``): why."""
SKIPPED_ASSETS_METADATA = "subway/skipped_assets"
"""Observation metadata of a month skipped, unchanged: the assets it was not written to."""

_STEP_END = (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)


@dataclass(frozen=True)
class Materialization:
    """An asset partition written by a step."""

    asset_key: str
    partition: str | None
    timestamp: float
    step_key: str | None
    metadata: dict[str, Any]
    """Raw metadata values (``MetadataValue.value``) keyed by label."""


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check evaluation of the run."""

    asset_key: str
    check_name: str
    partition: str | None
    passed: bool
    severity: str
    description: str | None = None
    """What the check found (a failed check lists its problems)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Raw metadata values; ``problems`` (month -> problems) when the check reports them."""
    step_key: str | None = None
    """The step that evaluated the check."""
    blocking: bool = False
    """A failed blocking check fails its step (and skips what depends on the asset)."""
    timestamp: float | None = None
    """When the evaluation was recorded."""


@dataclass(frozen=True)
class StepFailure:
    """A step that ended in ``STEP_FAILURE``."""

    step_key: str
    timestamp: float
    error: Any
    """``SerializableErrorInfo`` (message, stack, cls_name, cause, context) or None."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Raw metadata values of the ``dagster.Failure`` the step raised (empty otherwise);
    ``subway/bad_months`` names the months a range step could not load."""

    def bad_months(self) -> dict[str, str]:
        """Month -> reason for each month the failure names as bad (empty when the failure
        is not tied to months: then every month of the step failed). Keys that are not
        months ``YYYYMM`` are dropped."""
        named = self.metadata.get(BAD_MONTHS_METADATA)
        if not isinstance(named, dict):
            return {}
        out: dict[str, str] = {}
        for month, reason in named.items():
            try:
                out[validate_month(month)] = str(reason)
            except InvalidPartitionKey:
                continue
        return out


@dataclass(frozen=True)
class Skip:
    """A month a step skipped, unchanged since its valid load: nothing written."""

    partition: str | None
    timestamp: float
    step_key: str | None
    reason: str
    asset_keys: tuple[str, ...]
    """The assets the month was not written to (bronze, gold, mart)."""


@dataclass(frozen=True)
class RunCancelled:
    """The run's ``RUN_CANCELED`` event: when, and Dagster's message about it."""

    timestamp: float
    message: str


@dataclass(frozen=True)
class RunFailed:
    """The run's ``RUN_FAILURE`` event: when, and Dagster's message about it."""

    timestamp: float
    message: str


@dataclass
class StepSpan:
    """Start and end times of a step's attempts (a retried step has several)."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)

    def attempt_at(self, timestamp: float) -> tuple[float | None, float | None]:
        """Start and end of the attempt that was running at ``timestamp`` (None when not
        known: no attempt had started, or it never ended)."""
        start = max((s for s in self.starts if s <= timestamp), default=None)
        if start is None:
            return None, None
        return start, min((e for e in self.ends if e >= timestamp), default=None)

    def elapsed_at(self, timestamp: float) -> float | None:
        """Seconds of the attempt that was running at ``timestamp`` (start to end)."""
        start, end = self.attempt_at(timestamp)
        return None if start is None or end is None else end - start

    @property
    def unfinished(self) -> bool:
        """An attempt started and never ended (its process died)."""
        return len(self.starts) > len(self.ends)


@dataclass
class RunEvents:
    """The parts of one run's event log that the ELT log needs."""

    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failures: list[StepFailure] = field(default_factory=list)
    spans: dict[str, StepSpan] = field(default_factory=lambda: defaultdict(StepSpan))
    planned: dict[str, dict[str, set[str] | None]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    """step key -> {asset key: planned partition keys, or None when unpartitioned}."""
    skips: list[Skip] = field(default_factory=list)
    """Months skipped, unchanged (``subway/skipped`` observations)."""
    cancelled: RunCancelled | None = None
    """Set when the run was cancelled."""
    failed: RunFailed | None = None
    """Set when the run failed."""
    last_timestamp: float = 0.0
    """Time of the run's last event."""


def _metadata_values(metadata: dict[str, dg.MetadataValue]) -> dict[str, Any]:
    return {label: value.value for label, value in metadata.items()}


def read_run_events(instance: dg.DagsterInstance, run_id: str) -> RunEvents:
    """Collect materializations, check outcomes, step spans, failures and planned assets."""
    out = RunEvents()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        out.last_timestamp = max(out.last_timestamp, entry.timestamp)
        if event is None:
            continue
        kind = event.event_type
        # A union of ~25 payload classes; the event type says which one this is.
        data: Any = event.event_specific_data
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            mat = data.materialization
            out.materializations.append(
                Materialization(
                    asset_key=mat.asset_key.to_user_string(),
                    partition=mat.partition,
                    timestamp=entry.timestamp,
                    step_key=event.step_key,
                    metadata=_metadata_values(dict(mat.metadata)),
                )
            )
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            out.checks.append(
                CheckOutcome(
                    asset_key=data.asset_key.to_user_string(),
                    check_name=data.check_name,
                    partition=data.partition,
                    passed=bool(data.passed),
                    severity=data.severity.value,
                    description=data.description,
                    metadata=_metadata_values(dict(data.metadata or {})),
                    step_key=event.step_key,
                    blocking=bool(data.blocking),
                    timestamp=entry.timestamp,
                )
            )
        elif kind == DagsterEventType.STEP_START and event.step_key:
            out.spans[event.step_key].starts.append(entry.timestamp)
        elif kind in _STEP_END and event.step_key:
            out.spans[event.step_key].ends.append(entry.timestamp)
            if kind == DagsterEventType.STEP_FAILURE:
                user = data.user_failure_data
                out.failures.append(
                    StepFailure(
                        event.step_key,
                        entry.timestamp,
                        data.error,
                        _metadata_values(dict(user.metadata or {})) if user else {},
                    )
                )
        elif kind == DagsterEventType.ASSET_OBSERVATION:
            seen = data.asset_observation
            values = _metadata_values(dict(seen.metadata))
            reason, assets = values.get(SKIPPED_METADATA), values.get(SKIPPED_ASSETS_METADATA)
            if isinstance(reason, str) and isinstance(assets, list):
                out.skips.append(
                    Skip(
                        seen.partition,
                        entry.timestamp,
                        event.step_key,
                        reason,
                        tuple(str(a) for a in assets),
                    )
                )
        elif kind == DagsterEventType.RUN_CANCELED:
            out.cancelled = RunCancelled(entry.timestamp, event.message or "run cancelled")
        elif kind == DagsterEventType.RUN_FAILURE:
            out.failed = RunFailed(entry.timestamp, event.message or "run failed")
        elif kind == DagsterEventType.ASSET_MATERIALIZATION_PLANNED and event.step_key:
            planned = data
            assets = out.planned[event.step_key]
            key = planned.asset_key.to_user_string()
            # Storages either log one event per partition or one with a subset.
            if planned.partitions_subset is not None:
                keys = set(planned.partitions_subset.get_partition_keys())
            elif planned.partition is not None:
                keys = {planned.partition}
            else:
                keys = None
            if keys is None:
                assets.setdefault(key, None)
            else:
                assets[key] = (assets.get(key) or set()) | keys
    return out


BLOCKING_CHECK_ERROR = "DagsterAssetCheckFailedError"
"""Class of the error Dagster fails a step with when a blocking check of it failed."""


def month_failures(events: RunEvents, failure: StepFailure) -> dict[str, str]:
    """Month -> reason (naming the month) for each month ``failure`` is tied to, or empty
    when the failure concerns every month of its step.

    A step is tied to months when its ``dagster.Failure`` names them
    (``subway/bad_months``), or when it failed because blocking checks failed and each of
    them reported its problems per month (``problems`` metadata, as the platform's
    checks do): the months with problems are the bad ones.
    """
    named = failure.bad_months()
    if named:
        return named
    error = failure.error
    causes: list[Any] = []
    while error is not None and len(causes) < 20:
        causes.append(error)
        error = error.cause or error.context
    if not any(e.cls_name == BLOCKING_CHECK_ERROR for e in causes):
        return {}
    failed = [
        c
        for c in events.checks
        if c.step_key == failure.step_key
        and c.blocking
        and not c.passed
        and c.severity == dg.AssetCheckSeverity.ERROR.value
    ]
    out: dict[str, str] = {}
    for check in failed:
        problems = check.metadata.get("problems")
        if not isinstance(problems, dict) or not problems:
            return {}
        for month, found in problems.items():
            try:
                validate_month(month)
            except InvalidPartitionKey:
                return {}  # an unpartitioned asset's problems: not tied to a month
            text = "; ".join(str(p) for p in found) if isinstance(found, list) else str(found)
            reason = f"{check.asset_key} {month}: {text} ({check.check_name})"
            out[month] = f"{out[month]}; {reason}" if month in out else reason
    return out
