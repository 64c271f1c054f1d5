"""Retry transient infrastructure errors (S3, PostgreSQL), fail fast on everything else.

A bad file or a bug fails the step at once with its own message; a dropped connection or
a timeout is retried with exponential backoff (Dagster ``RetryRequested``), so the
operator's error always says what actually went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import botocore.exceptions
import dagster as dg
import psycopg

from subway_platform.resources.postgres import MartUnavailable

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
    psycopg.OperationalError,
    MartUnavailable,
    ConnectionError,
    TimeoutError,
)
MAX_RETRIES = 3
BASE_DELAY_SECONDS = 2.0


@contextmanager
def retry_transient(context: dg.AssetExecutionContext | dg.OutputContext) -> Iterator[None]:
    """Turn a transient error into a Dagster retry after 2, 4, 8 s; re-raise others."""
    try:
        yield
    except TRANSIENT_ERRORS as err:
        attempt = context.retry_number if isinstance(context, dg.AssetExecutionContext) else 1
        delay = BASE_DELAY_SECONDS * (2**attempt)
        context.log.warning(f"transient error ({type(err).__name__}); retry in {delay:.0f} s")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=delay) from err
