"""Range runs with a bad month: the good months are published by a follow-up run.

A range of months (a UI backfill, ``dagster job launch`` with partition range tags, one
multi-month landing file) is ONE run, because the load assets use
``BackfillPolicy.single_run()``; Dagster cannot fail one partition of such a step
(dagster-io/dagster#17836). So when bronze finds a bad month in a range (its file cannot
be parsed, or no file holds it), the step fails naming the bad months in its
``dagster.Failure`` metadata (``subway/bad_months``) without writing anything, and the
ELT log marks only those months invalid. A blocking check that fails for some months
(its ``problems`` metadata names them) fails its step the same way: Dagster skips the
steps after it for every month, the ELT log marks only the months with problems.

This module's ``range_run_sensor`` watches the load jobs' failed runs. For a run over two
or more months whose every failed step is tied to bad months (named by the failure, or
by the failed blocking checks' problems), it launches the same job
for the remaining good months: one run per unbroken stretch of good months (a bad month
in the middle of 201907-201909 gives a run for 201907 and one for 201909; a range cannot
skip a month), tagged ``subway/follow_up_of=<run id>`` and
``subway/excluded_months=<bad months>``. Each request has a run key, and runs already
tagged as follow-ups of the failed run are not requested again, so a restarted sensor
launches nothing twice. A follow-up run that fails is not followed up (no loops), nor is a
failure not tied to months (a Spark or PostgreSQL outage fails every month: rerun it).
"""

import dagster as dg

from subway_platform.elt_log.mirror import run_partitions
from subway_platform.elt_log.run_events import month_failures, read_run_events
from subway_platform.jobs import RANGE_JOBS
from subway_platform.tags import (
    DATASET_TAG,
    EXCLUDED_MONTHS_TAG,
    FOLLOW_UP_TAG,
    LOCK_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
)


def good_stretches(launched: list[str], bad: set[str]) -> list[list[str]]:
    """The unbroken stretches of ``launched`` (consecutive months) without a bad month."""
    stretches: list[list[str]] = []
    current: list[str] = []
    for month in launched:
        if month in bad:
            if current:
                stretches.append(current)
            current = []
        else:
            current.append(month)
    if current:
        stretches.append(current)
    return stretches


def follow_up_requests(
    instance: dg.DagsterInstance, run: dg.DagsterRun
) -> list[dg.RunRequest] | dg.SkipReason:
    """The follow-up runs for a failed range run, or why there are none."""
    if FOLLOW_UP_TAG in run.tags:
        return dg.SkipReason(f"run {run.run_id} is itself a follow-up run: not followed up")
    launched = run_partitions(run.tags)
    if len(launched) < 2:
        return dg.SkipReason(f"run {run.run_id} was not over a range of months")
    events = read_run_events(instance, run.run_id)
    failures = events.failures
    named = [month_failures(events, failure) for failure in failures]
    if not failures or not all(named):
        return dg.SkipReason(
            f"run {run.run_id} did not fail for named months only: rerun it once the cause is fixed"
        )
    bad = {month for months in named for month in months}
    stretches = good_stretches(launched, bad)
    if not stretches:
        return dg.SkipReason(f"run {run.run_id}: every month of its range was bad")
    done = instance.get_runs(filters=dg.RunsFilter(tags={FOLLOW_UP_TAG: run.run_id}), limit=1)
    if done:
        return dg.SkipReason(f"run {run.run_id} already has its follow-up run(s)")
    excluded = ",".join(sorted(bad))
    dataset = run.tags.get(DATASET_TAG, run.job_name)
    requests: list[dg.RunRequest] = []
    for months in stretches:
        first, last = months[0], months[-1]
        tags = {
            FOLLOW_UP_TAG: run.run_id,
            EXCLUDED_MONTHS_TAG: excluded,
            LOCK_TAG: f"{dataset}:{first}" if first == last else f"{dataset}:{first}-{last}",
        }
        if first == last:
            requests.append(
                dg.RunRequest(
                    run_key=f"follow_up:{run.run_id}:{first}",
                    job_name=run.job_name,
                    partition_key=first,
                    tags=tags,
                )
            )
        else:
            requests.append(
                dg.RunRequest(
                    run_key=f"follow_up:{run.run_id}:{first}-{last}",
                    job_name=run.job_name,
                    tags={**tags, RANGE_START_TAG: first, RANGE_END_TAG: last},
                )
            )
    return requests


@dg.run_failure_sensor(
    name="range_run_sensor",
    monitored_jobs=RANGE_JOBS,
    request_jobs=RANGE_JOBS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "When a load run over a range of months fails because some months are bad (named in "
        "the bronze step's failure: subway/bad_months), launches the same job once for the "
        "range's good months (tags subway/follow_up_of, subway/excluded_months). Follow-up "
        "runs and failures not tied to months are not followed up."
    ),
)
def range_run_sensor(context: dg.RunFailureSensorContext) -> list[dg.RunRequest] | None:
    """Request the follow-up run(s) of a failed range run whose failure named bad months.

    A run that needs none is logged and passed over (None lets the same tick look at the
    next failed run; a skip reason would end the tick)."""
    outcome = follow_up_requests(context.instance, context.dagster_run)
    if isinstance(outcome, dg.SkipReason):
        context.log.info(outcome.skip_message or "")
        return None
    for request in outcome:
        months = (
            request.partition_key
            or f"{request.tags[RANGE_START_TAG]}-{request.tags[RANGE_END_TAG]}"
        )
        context.log.info(
            f"follow-up of {context.dagster_run.run_id}: {request.job_name} {months} "
            f"(excluded {request.tags[EXCLUDED_MONTHS_TAG]})"
        )
    return outcome


def range_run_definitions() -> dg.Definitions:
    """The range run sensor, to merge into the code location."""
    return dg.Definitions(sensors=[range_run_sensor])
