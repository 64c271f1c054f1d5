"""Retry transient infrastructure errors (S3, PostgreSQL), fail fast on everything else.

A bad file or a bug fails the step at once with its own message; a dropped connection or
a timeout is retried with exponential backoff (Dagster ``RetryRequested``, after 2, 4
and 8 s), so the operator's error always says what actually went wrong.

:func:`retry_transient` is the only retry of a step: no step has a ``RetryPolicy``, so an
error it does not turn into ``RetryRequested`` (a refused file's ``dagster.Failure``, a
bug) fails the step once and for all, and no ``Failure`` needs its ``allow_retries`` flag
(which only bypasses a ``RetryPolicy``). Run-level retries (``run_retries`` in
``dagster.yaml``, with ``retry_on_asset_or_op_failure: false``) are for crashed run
workers only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from subway_platform.resources.postgres import MartUnavailable

MAX_RETRIES = 3
BASE_DELAY_SECONDS = 2.0
_BOTOCORE_TRANSIENT = (
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
)


def transient_errors() -> tuple[type[BaseException], ...]:
    """The exception types worth a retry.

    botocore's are included only once botocore is loaded: a process that never imported
    it cannot have raised one, and loading the code location must not import it.
    """
    errors: list[type[BaseException]] = [
        psycopg.OperationalError,
        MartUnavailable,
        ConnectionError,
        TimeoutError,
    ]
    botocore_exceptions = sys.modules.get("botocore.exceptions")
    if botocore_exceptions is not None:
        errors += [getattr(botocore_exceptions, name) for name in _BOTOCORE_TRANSIENT]
    return tuple(errors)


def retry_delay(attempt: int) -> float:
    """Seconds before retry ``attempt + 1`` (attempt 0 is the first run): 2, 4, 8."""
    return BASE_DELAY_SECONDS * (2**attempt)


StepContext = dg.AssetExecutionContext | dg.OpExecutionContext | dg.OutputContext
"""What a step's code has at hand: an asset's or an op's context, or an IO manager's."""


def _attempt(context: StepContext) -> int:
    """How many times this step ran before (0 on its first attempt)."""
    if isinstance(context, (dg.AssetExecutionContext, dg.OpExecutionContext)):
        return context.retry_number
    try:
        return context.step_context.previous_attempt_count
    except dg.DagsterInvariantViolationError:  # an OutputContext built outside a run
        return 0


@contextmanager
def retry_transient(context: StepContext) -> Iterator[None]:
    """Turn a transient error into a Dagster retry after 2, 4, 8 s; re-raise others."""
    try:
        yield
    except transient_errors() as err:
        delay = retry_delay(_attempt(context))
        context.log.warning(f"transient error ({type(err).__name__}); retry in {delay:.0f} s")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=delay) from err
