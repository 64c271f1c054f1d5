"""Mirror one Dagster run into ``elt_manager_log``: one row per (asset, partition).

- Every materialized asset partition gives a row with the counts its asset put in the
  ``elt/partitions`` metadata, its own share of the step's time (``elapsed``: the step's
  duration for a step of one month, a share by rows read in a range step, so a range's
  months add up to the step; ``elt_log/elapsed.py``), the step's start and end, and
  ``valid`` true only when its figures add up (``source = target + cleaned + merged``,
  ``elt_log/valid.py``) and every ERROR-severity check evaluated on it in the run passed.
  Else the status is ``check_failed`` (a blocking check failed) or ``unreconciled`` (only
  the figures disagree), and ``error_message`` says which figures disagree (``source 17724
  != target 17715 + cleaned 0 + merged 8``) and quotes the failed checks' problems of that
  month. A valid row whose WARN checks failed for its month quotes them in ``error_message``
  (``loaded with 1 rejected rows …``): valid, but not silent.
- Every asset partition a failed step was going to write and did not gives a row with
  ``valid`` false, counts -1 and the redacted error (status ``failed``). When the step's
  ``dagster.Failure`` names bad months (``subway/bad_months``: a range of months with one
  bad file), only those months get the row, each with its own reason (``201908:
  CARD_SUBWAY_MONTH_201908.csv: line 6: …``); the range's good months get no row from
  this run (the follow-up run of ``range_runs.py`` loads and logs them). So too when a
  step failed because blocking checks failed for some months only (their ``problems``
  metadata names them): those months have their ``check_failed`` rows, the others
  keep their valid rows.
- A month bronze skipped because its file and code are those of its last valid load
  (``skip_unchanged.py``; an observation carrying ``subway/skipped``) gives a ``skipped``
  row for each of bronze, gold and mart: ``valid`` true, counts 0 (nothing read or
  written), the reason in ``error_message``; bronze's row has the step's duration.
- Other assets that were skipped or never reached write nothing: the log records what ran.
- Gold's rejects assets (``gold/rejects/<data set>_rejects``, written by the gold step beside gold)
  are no hop: their rows are gold's ``cleaned_count``, and they get no row of their own
  (nor when their step fails or the run is cancelled).
- A run that failed with no step failing (its run worker was killed, its node lost: run
  monitoring marks it failed): each asset partition of a step it started and never
  finished gets a ``failed`` row saying the run worker died, with Dagster's message as
  detail; when no step was in flight (it died between steps, or before the first), the
  planned asset partitions it never wrote get that row. Without it such a run left no
  trace in the log.
- Freshness evaluations (the freshness sensor's runs) never judge a load: each failed one
  gets an ``overdue`` row of its own instead (``overdue.py``): the overdue table, the month
  due, ``valid`` false, and since when it is overdue.
- A cancelled run: every row above becomes ``valid`` false with status ``cancelled`` (counts
  of what was written kept), and each planned asset partition it never reached gets a
  ``cancelled`` row with counts -1.

Descriptive fields missing from an asset's metadata (an asset that does not follow the
contract) come from :data:`subway_platform.elt_log.hops.HOPS`, counts from -1.
Mirroring is idempotent: rows already logged for (run, asset, partition) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import psycopg

from subway_platform.assets.rejects import REJECTS_ASSETS
from subway_platform.elt_log.check_text import (
    check_failure_detail,
    check_failure_message,
    failed_error_checks,
    failed_warning_checks,
    fails_for,
)
from subway_platform.elt_log.elapsed import share_elapsed
from subway_platform.elt_log.error_text import (
    detail_text,
    error_detail,
    error_message,
    short_message,
    without_class_paths,
)
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.overdue import (
    is_freshness,
    load_checks,
    overdue_partition,
    overdue_row,
)
from subway_platform.elt_log.row import UNKNOWN_COUNT, EltLogRow, RowStatus, insert_rows
from subway_platform.elt_log.run_events import (
    CheckOutcome,
    Materialization,
    RunEvents,
    Skip,
    StepFailure,
    StepSpan,
    month_failures,
    read_run_events,
)
from subway_platform.elt_log.stats import PartitionStats, partition_stats
from subway_platform.elt_log.valid import judge_load
from subway_platform.partitions import InvalidPartitionKey, months_between, validate_month
from subway_platform.redact import redact
from subway_platform.tables import dataset_of_key
from subway_platform.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

METADATA_PREFIX = "elt/"
HOP_FIELDS: tuple[str, ...] = (
    "domain",
    "action",
    "source_type",
    "source_topic",
    "source_dpath",
    "source_object",
    "target_type",
    "target_topic",
    "target_dpath",
    "target_object",
)
NOT_HOPS: frozenset[str] = REJECTS_ASSETS
"""Asset keys the ELT log does not log (gold's rejects: part of gold's hop)."""
UNKNOWN_TEXT = "unknown"
"""``domain``/``action`` of an asset with neither metadata nor a known hop (NOT NULL columns)."""


_log = dg.get_dagster_logger("subway_platform.elt_log")


def _partition_key(raw: str | None) -> str | None:
    """``""`` for an unpartitioned asset, the validated month, or None to skip the key."""
    if raw is None or raw == "":
        return ""
    try:
        return validate_month(raw)
    except InvalidPartitionKey as err:
        # Only month partitions exist in this project; anything else is not ours to log.
        _log.warning(f"elt_log: skipping partition: {err}")
        return None


def run_partitions(tags: Mapping[str, str]) -> list[str]:
    """The months a run was launched for, from its partition tags (empty if none)."""
    if tags.get(PARTITION_TAG):
        key = _partition_key(tags[PARTITION_TAG])
        return [key] if key else []
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        try:
            return months_between(start, end)
        except InvalidPartitionKey as err:
            _log.warning(f"elt_log: ignoring partition range tags: {err}")
    return []


_MONTH_GROUP = re.compile(r"\(\?P<month>[^)]*\)")


def _hop_defaults(asset_key: str, partition: str) -> dict[str, str | None]:
    """The asset's hop from HOPS; a landing file pattern with a month group becomes the
    month's file name (``CARD_SUBWAY_MONTH_202302.csv``), which is what an operator
    looks for in the log."""
    hop = HOPS.get(asset_key)
    if hop is None:
        return {name: None for name in HOP_FIELDS}
    out: dict[str, str | None] = dict(hop.as_dict())
    pattern = out["source_object"] or ""
    if partition and _MONTH_GROUP.search(pattern):
        out["source_object"] = _MONTH_GROUP.sub(partition, pattern).replace("\\.", ".")
    return out


def _hop_fields(asset_key: str, metadata: Mapping[str, Any], partition: str) -> dict[str, Any]:
    defaults = _hop_defaults(asset_key, partition)
    out: dict[str, Any] = {}
    for name in HOP_FIELDS:
        value = metadata.get(METADATA_PREFIX + name)
        out[name] = defaults[name] if value is None else str(value)
    override = partition_stats(metadata, partition).source_object
    if override:
        out["source_object"] = override
    for name in ("domain", "action"):
        out[name] = out[name] or UNKNOWN_TEXT
    # Paths may be URLs with credentials in them: never let one into the log.
    return {name: None if value is None else redact(value) for name, value in out.items()}


def _logged_sum(asset_key: str, stats: PartitionStats, log_column: str) -> int | None:
    """The ELT log's ``log_column`` (``pass_in_sum``/``pass_out_sum``) of a partition: the
    total of the sum columns the asset's data set maps to it (``DatasetSpec.log_sums``);
    null when the data set maps none, or a figure is missing. An asset of no registered
    data set is logged by the default names (``pass_in``, ``pass_out``)."""
    spec = dataset_of_key(asset_key)
    default = (log_column.removesuffix("_sum"),)
    names = spec.log_sums.get(log_column, ()) if spec is not None else default
    values = [stats.sums.get(name) for name in names]
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _count(value: int | None) -> int:
    """A count from the partition's statistics, or -1 (the reference's "unknown")."""
    return UNKNOWN_COUNT if value is None else value


def _outcomes(
    checks: list[CheckOutcome], asset_key: str, partition: str
) -> dict[str, dict[str, Any]] | None:
    """Check outcomes for one asset partition; a check evaluated more than once passes only
    if every evaluation passed. Evaluations without a partition cover every partition, but
    one that reports its problems per month fails only for those months (a range run's bad
    month does not make its good months invalid)."""
    evaluations: dict[str, list[CheckOutcome]] = {}
    for check in checks:
        if check.asset_key == asset_key and check.partition in (None, "", partition):
            evaluations.setdefault(check.check_name, []).append(check)
    out: dict[str, dict[str, Any]] = {}
    for name, evals in evaluations.items():
        failing = [e.severity for e in evals if fails_for(e, partition)]
        error = dg.AssetCheckSeverity.ERROR.value
        severity = error if error in failing else (failing or [evals[-1].severity])[0]
        out[name] = {"passed": not failing, "severity": severity}
    return out or None


def _checks_pass(outcomes: dict[str, dict[str, Any]] | None) -> bool:
    return all(
        o["passed"] or o["severity"] != dg.AssetCheckSeverity.ERROR.value
        for o in (outcomes or {}).values()
    )


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _step_times(span: StepSpan | None, timestamp: float) -> dict[str, Any]:
    """``step_start`` and ``step_end`` of the step attempt that was running at ``timestamp``."""
    start, end = span.attempt_at(timestamp) if span else (None, None)
    return {
        "step_start": None if start is None else _when(start),
        "step_end": None if end is None else _when(end),
    }


def _planned_rows(planned: Mapping[str, set[str] | None]) -> set[tuple[str, str]]:
    """The (asset, partition) rows a step's plan covers (hops only; ``""`` unpartitioned)."""
    out: set[tuple[str, str]] = set()
    for asset_key, partitions in planned.items():
        if asset_key in NOT_HOPS:
            continue
        for raw in [""] if partitions is None else sorted(partitions):
            partition = _partition_key(raw)
            if partition is not None:
                out.add((asset_key, partition))
    return out


def share_step_time(
    rows: dict[tuple[str, str], EltLogRow],
    planned: Mapping[str, Mapping[str, set[str] | None]],
) -> None:
    """Give each row its own share of its step's time (``elt_log/elapsed.py``): the rows
    of one step attempt share its duration by the rows each read, so that they add up to
    it; a step that did one row keeps its measured duration. A range step that failed for
    some of its months only logs those months (the others are loaded and logged by the
    follow-up run): the months without a row keep their share, unknown, so each logged
    month gets its even share, not the whole step."""
    attempts: dict[tuple[str, datetime], list[tuple[str, str]]] = {}
    for key, row in rows.items():
        if row.step_key and row.step_start is not None and row.elapsed is not None:
            attempts.setdefault((row.step_key, row.step_start), []).append(key)
    for (step_key, _start), keys in attempts.items():
        keys.sort()
        total = max(rows[k].elapsed or 0.0 for k in keys)
        weights: list[int | None] = [
            rows[k].source_read_size if rows[k].source_read_size >= 0 else None for k in keys
        ]
        unlogged = _planned_rows(planned.get(step_key, {})) - set(rows)
        shares, method = share_elapsed(total, weights + [None] * len(unlogged))
        for key, share in zip(keys, shares, strict=False):
            rows[key] = replace(rows[key], elapsed=share, elapsed_method=method)


def _materialized_row(
    run: dg.DagsterRun, events: RunEvents, mat: Materialization, partition: str
) -> EltLogRow:
    stats = partition_stats(mat.metadata, partition)
    outcomes = _outcomes(events.checks, mat.asset_key, partition)
    verdict = judge_load(stats, _checks_pass(outcomes))
    valid = verdict.valid
    status: RowStatus = "materialized"
    if not verdict.checks_passed:
        status = "check_failed"
    elif verdict.figures_problem is not None:
        status = "unreconciled"
    span = events.spans.get(mat.step_key) if mat.step_key else None
    message = detail = None
    figures = [verdict.figures_problem] if verdict.figures_problem else []
    if not valid:
        failed = failed_error_checks(events.checks, mat.asset_key, partition)
        counts = {
            "read": _count(stats.source_read_size),
            "written": _count(stats.target_read_size),
            "cleaned": _count(stats.cleaned_count),
        }
        # The figures that disagree first ("source 17724 != target 17715 + cleaned 0 +
        # merged 8"), then the failed blocking checks' problems.
        message = check_failure_message(failed, mat.asset_key, partition, counts, figures)
        what = "; ".join(
            [*figures, *(["blocking check(s) failed"] if not verdict.checks_passed else [])]
        )
        detail = check_failure_detail(failed, mat.asset_key, partition, what)
    elif warned := failed_warning_checks(events.checks, mat.asset_key, partition):
        # Valid (every row accounted for), but an operator must see it: "loaded with 3
        # rejected rows (pass_in 9361, pass_out 0 not in the mart); first: line 5: …".
        message = check_failure_message(warned, mat.asset_key, partition, {})
        detail = check_failure_detail(warned, mat.asset_key, partition, "warning check(s) failed")
    return EltLogRow(
        record_time=_when(mat.timestamp),
        **_hop_fields(mat.asset_key, mat.metadata, partition),
        valid=valid,
        source_read_size=_count(stats.source_read_size),
        target_read_size=_count(stats.target_read_size),
        cleaned_count=_count(stats.cleaned_count),
        error_message=message,
        elapsed=span.elapsed_at(mat.timestamp) if span else None,
        **_step_times(span, mat.timestamp),
        run_id=run.run_id,
        job_name=run.job_name,
        asset_key=mat.asset_key,
        partition_key=partition,
        step_key=mat.step_key,
        status=status,
        merged_count=_count(stats.merged_count),
        pass_in_sum=_logged_sum(mat.asset_key, stats, "pass_in_sum"),
        pass_out_sum=_logged_sum(mat.asset_key, stats, "pass_out_sum"),
        check_outcomes=outcomes,
        error_detail=detail,
    )


def _failed_row(
    run: dg.DagsterRun,
    events: RunEvents,
    failure: StepFailure,
    asset_key: str,
    partition: str,
    message: str | None = None,
) -> EltLogRow:
    span = events.spans.get(failure.step_key)
    return EltLogRow(
        record_time=_when(failure.timestamp),
        **_hop_fields(asset_key, {}, partition),
        valid=False,
        source_read_size=UNKNOWN_COUNT,
        target_read_size=UNKNOWN_COUNT,
        cleaned_count=UNKNOWN_COUNT,
        error_message=short_message(message) if message else error_message(failure.error),
        elapsed=span.elapsed_at(failure.timestamp) if span else None,
        **_step_times(span, failure.timestamp),
        run_id=run.run_id,
        job_name=run.job_name,
        asset_key=asset_key,
        partition_key=partition,
        step_key=failure.step_key,
        status="failed",
        merged_count=UNKNOWN_COUNT,
        pass_in_sum=None,
        pass_out_sum=None,
        check_outcomes=_outcomes(events.checks, asset_key, partition),
        error_detail=error_detail(failure.error),
    )


def _skipped_row(
    run: dg.DagsterRun, events: RunEvents, skip: Skip, asset_key: str, partition: str
) -> EltLogRow:
    """A month not loaded again, unchanged since its valid load: valid, nothing written."""
    span = events.spans.get(skip.step_key) if skip.step_key else None
    own_step = skip.step_key is not None and asset_key.replace("/", "__") == skip.step_key
    return EltLogRow(
        record_time=_when(skip.timestamp),
        **_hop_fields(asset_key, {}, partition),
        valid=True,
        source_read_size=0,
        target_read_size=0,
        cleaned_count=0,
        error_message=short_message(f"skipped: {skip.reason}"),
        elapsed=span.elapsed_at(skip.timestamp) if span and own_step else None,
        run_id=run.run_id,
        job_name=run.job_name,
        asset_key=asset_key,
        partition_key=partition,
        step_key=skip.step_key,
        status="skipped",
        merged_count=0,
        pass_in_sum=None,
        pass_out_sum=None,
        check_outcomes=None,
        error_detail=None,
    )


def rows_for_run(instance: dg.DagsterInstance, run_id: str) -> list[EltLogRow]:
    """The ELT log rows of one run, read from its events (nothing is written)."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"no Dagster run with id {run_id!r}"[:200])
    events = read_run_events(instance, run_id)
    overdue = [check for check in events.checks if is_freshness(check) and not check.passed]
    events = replace(events, checks=load_checks(events.checks))
    rows: dict[tuple[str, str], EltLogRow] = {}
    for mat in events.materializations:
        if mat.asset_key in NOT_HOPS:
            continue
        partition = _partition_key(mat.partition)
        if partition is not None:
            # A partition written twice in one run (a retried step): the last write counts.
            rows[(mat.asset_key, partition)] = _materialized_row(run, events, mat, partition)

    for skip in events.skips:
        partition = _partition_key(skip.partition)
        for asset_key in skip.asset_keys:
            if partition is None or asset_key in NOT_HOPS or (asset_key, partition) in rows:
                continue
            rows[(asset_key, partition)] = _skipped_row(run, events, skip, asset_key, partition)

    launched_for = run_partitions(run.tags)
    for failure in events.failures:
        # A range step that names its bad months failed for those months only: the others
        # were fine and are loaded by the follow-up run (range_runs.py), not marked invalid.
        bad = month_failures(events, failure)
        # The plan says which assets the step was to write; the run's tags which months.
        for asset_key, planned in events.planned.get(failure.step_key, {}).items():
            if asset_key in NOT_HOPS:
                continue
            if planned is None:
                partitions: list[str | None] = [""]
            else:
                partitions = [_partition_key(p) for p in (launched_for or sorted(planned))]
                if bad:
                    partitions = [p for p in partitions if p in bad]
            for partition in partitions:
                if partition is None:
                    continue
                written = rows.get((asset_key, partition))
                if written is not None:
                    # The step wrote the asset, then failed (e.g. archiving the landing
                    # file): the load is not valid, the counts of what was written stay.
                    if written.step_key == failure.step_key and written.status in (
                        "materialized",
                        "unreconciled",
                    ):
                        rows[(asset_key, partition)] = replace(
                            written,
                            valid=False,
                            status="failed",
                            error_message=error_message(failure.error),
                            error_detail=error_detail(failure.error),
                        )
                    continue
                month_message = without_class_paths(bad[partition]) if partition in bad else None
                rows[(asset_key, partition)] = _failed_row(
                    run, events, failure, asset_key, partition, month_message
                )
    if run.status == dg.DagsterRunStatus.FAILURE and not events.failures:
        _mark_died(run, events, rows, launched_for)
    if run.status == dg.DagsterRunStatus.CANCELED:
        _mark_cancelled(run, events, rows, launched_for)
    share_step_time(rows, events.planned)
    for check in overdue:
        month = overdue_partition(check)
        if month is not None and (check.asset_key, month) not in rows:
            hop = _hop_fields(check.asset_key, {}, month)
            rows[(check.asset_key, month)] = overdue_row(
                run, check, month, hop, events.last_timestamp
            )
    return sorted(rows.values(), key=lambda r: (r.record_time, r.asset_key, r.partition_key))


WORKER_DIED = "the run worker died"
"""Start of the ELT log message of an asset partition whose run's process died."""


def _mark_died(
    run: dg.DagsterRun,
    events: RunEvents,
    rows: dict[tuple[str, str], EltLogRow],
    launched_for: list[str],
) -> None:
    """A failed run without a failed step: its process died (or it never ran). The asset
    partitions of the steps in flight (else every planned one it did not write) get a
    ``failed`` row saying so, Dagster's failure message as detail."""
    in_flight = {key for key, span in events.spans.items() if span.unfinished}
    failed_at = events.failed.timestamp if events.failed else events.last_timestamp
    dagster_says = events.failed.message if events.failed else "run failed"
    for step_key, assets in events.planned.items():
        if in_flight and step_key not in in_flight:
            continue
        span = events.spans.get(step_key)
        for asset_key, planned in assets.items():
            if asset_key in NOT_HOPS:
                continue
            months = [""] if planned is None else (launched_for or sorted(planned))
            for month in months:
                partition = _partition_key(month)
                if partition is None or (asset_key, partition) in rows:
                    continue
                where = f"{asset_key} {partition}".strip()
                if step_key in in_flight:
                    message = f"{WORKER_DIED} while {where} was loading; not loaded: rerun it"
                else:
                    message = f"{WORKER_DIED} before {where} was loaded: rerun it"
                rows[(asset_key, partition)] = EltLogRow(
                    record_time=_when(failed_at),
                    **_hop_fields(asset_key, {}, partition),
                    valid=False,
                    source_read_size=UNKNOWN_COUNT,
                    target_read_size=UNKNOWN_COUNT,
                    cleaned_count=UNKNOWN_COUNT,
                    error_message=short_message(message),
                    elapsed=failed_at - span.starts[-1] if span and span.starts else None,
                    run_id=run.run_id,
                    job_name=run.job_name,
                    asset_key=asset_key,
                    partition_key=partition,
                    step_key=step_key,
                    status="failed",
                    merged_count=UNKNOWN_COUNT,
                    pass_in_sum=None,
                    pass_out_sum=None,
                    check_outcomes=None,
                    error_detail=detail_text(dagster_says),
                    step_start=_when(span.starts[-1]) if span and span.starts else None,
                )


def _mark_cancelled(
    run: dg.DagsterRun,
    events: RunEvents,
    rows: dict[tuple[str, str], EltLogRow],
    launched_for: list[str],
) -> None:
    """A cancelled run: every row it wrote keeps its counts but is not valid (the run did
    not finish what it was launched for), the step that was interrupted says so, and every
    asset partition of the plan that it never reached gets a row too, so that an operator
    sees what is missing. All have status ``cancelled``."""
    cancelled_at = events.cancelled.timestamp if events.cancelled else events.last_timestamp
    dagster_says = events.cancelled.message if events.cancelled else "run cancelled"
    for key, row in list(rows.items()):
        where = f"{row.asset_key} {row.partition_key}".strip()
        if row.status == "failed":
            message = f"run cancelled while {where} was loading: rerun it"
        else:
            written = f" ({row.target_read_size} rows)" if row.target_read_size >= 0 else ""
            message = (
                f"run cancelled after {where} was written{written}; "
                "the rest of the run did not run: rerun it"
            )
        detail = "\n\n".join(t for t in (dagster_says, row.error_detail) if t)
        rows[key] = replace(
            row,
            valid=False,
            status="cancelled",
            error_message=short_message(message),
            error_detail=detail_text(detail),
        )
    for step_key, assets in events.planned.items():
        for asset_key, planned in assets.items():
            if asset_key in NOT_HOPS:
                continue
            months = [""] if planned is None else (launched_for or sorted(planned))
            for month in months:
                partition = _partition_key(month)
                if partition is None or (asset_key, partition) in rows:
                    continue
                where = f"{asset_key} {partition}".strip()
                rows[(asset_key, partition)] = EltLogRow(
                    record_time=_when(cancelled_at),
                    **_hop_fields(asset_key, {}, partition),
                    valid=False,
                    source_read_size=UNKNOWN_COUNT,
                    target_read_size=UNKNOWN_COUNT,
                    cleaned_count=UNKNOWN_COUNT,
                    error_message=short_message(
                        f"run cancelled before {where} was loaded: rerun it"
                    ),
                    elapsed=None,
                    run_id=run.run_id,
                    job_name=run.job_name,
                    asset_key=asset_key,
                    partition_key=partition,
                    step_key=step_key,
                    status="cancelled",
                    merged_count=UNKNOWN_COUNT,
                    pass_in_sum=None,
                    pass_out_sum=None,
                    check_outcomes=None,
                    error_detail=detail_text(dagster_says),
                )


def mirror_run(instance: dg.DagsterInstance, run_id: str, conn: psycopg.Connection) -> int:
    """Write one run's rows to ``elt_manager_log``; return how many were new."""
    return insert_rows(conn, rows_for_run(instance, run_id))
