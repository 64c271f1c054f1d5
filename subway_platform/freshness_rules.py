"""When a data set's tables are due, and whether they are overdue: pure functions of time.

A data set whose spec has a ``due_day`` is due every month by that day, at midnight in
Seoul (the portal publishes on Seoul's calendar):

- a **monthly** table (bronze: the landing file was loaded; mart: the month reached the
  mart) must hold the month before the deadline's month: the 201907 file by 5 August;
- a **full-refresh** table (the station master) must have been reloaded since the deadline
  before: once a month, by day ``due_day``.

:func:`judge_month` and :func:`judge_full_refresh` turn what the instance knows (is the
month loaded, when was the table last loaded) into a :class:`Verdict`; ``freshness.py``
reports it as the result of the ``freshness_check`` of that table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from subway_platform.datasets import DatasetSpec
from subway_platform.tables import TableRef, tables_of

FRESHNESS_TIMEZONE = "Asia/Seoul"
"""The portal publishes on Seoul's calendar; deadlines are midnight there."""
FRESHNESS_CHECK_NAME = "freshness_check"
"""The name of every table's freshness check (the name Dagster's own factories used)."""
OVERDUE_MONTH_METADATA = "subway/overdue_month"
"""Freshness check metadata: the month judged (``""`` for a full-refresh table)."""
_ZONE = ZoneInfo(FRESHNESS_TIMEZONE)


def freshness_tables(spec: DatasetSpec) -> tuple[TableRef, ...]:
    """The tables of ``spec`` that have a freshness check: bronze (the file arrived) and the
    mart (it reached the users); none when the spec has no ``due_day``."""
    if spec.due_day is None:
        return ()
    tables = tables_of(spec)
    return (tables.bronze, tables.mart)


def _check_due_day(due_day: int) -> None:
    if not 1 <= due_day <= 28:
        raise ValueError(f"due_day must be a day 1-28, not {due_day!r}")


def deadline_cron(spec: DatasetSpec) -> str:
    """Cron of the data set's monthly deadline: midnight starting day ``due_day``."""
    if spec.due_day is None:
        raise ValueError(f"{spec.name}: no due_day, so no deadline")
    _check_due_day(spec.due_day)
    return f"0 0 {spec.due_day} * *"


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def latest_deadline(due_day: int, now: datetime) -> datetime:
    """The last deadline at or before ``now``: midnight in Seoul on day ``due_day``."""
    _check_due_day(due_day)
    local = now.astimezone(_ZONE)
    deadline = datetime(local.year, local.month, due_day, tzinfo=_ZONE)
    if deadline > local:
        year, month = _shift(local.year, local.month, -1)
        deadline = datetime(year, month, due_day, tzinfo=_ZONE)
    return deadline


def next_deadline(due_day: int, after: datetime) -> datetime:
    """The first deadline strictly after ``after``."""
    latest = latest_deadline(due_day, after)
    year, month = _shift(latest.year, latest.month, 1)
    return datetime(year, month, due_day, tzinfo=_ZONE)


def overdue_month(deadline: datetime) -> str:
    """The month due by ``deadline``: the one before the deadline's month (``YYYYMM``)."""
    local = deadline.astimezone(_ZONE)
    year, month = _shift(local.year, local.month, -1)
    return f"{year:04d}{month:02d}"


def seoul_time(moment: datetime) -> str:
    """``2026-12-05 00:00 Asia/Seoul``: how messages write a deadline."""
    return f"{moment.astimezone(_ZONE):%Y-%m-%d %H:%M} {FRESHNESS_TIMEZONE}"


@dataclass(frozen=True)
class Verdict:
    """Whether one table is fresh now, and what to say about it."""

    passed: bool
    description: str
    """One line: what is due, since when, and what was last loaded."""
    due_by: datetime
    """The deadline judged (for an overdue table: overdue since then)."""
    fresh_until: datetime | None
    """While passing: the next moment the table can become overdue (Dagster's freshness
    sensor evaluates the check again only after it)."""
    overdue_month: str
    """The month that had to be loaded (``""`` for a full-refresh table)."""


def judge_month(
    table: str, due_day: int, now: datetime, loaded: bool, last_loaded: str | None
) -> Verdict:
    """A monthly table: fresh while the month due by the latest deadline is loaded."""
    deadline = latest_deadline(due_day, now)
    month = overdue_month(deadline)
    if loaded:
        upcoming = next_deadline(due_day, now)
        return Verdict(
            passed=True,
            description=f"{table} {month} loaded (due by {seoul_time(deadline)}); "
            f"next due: {overdue_month(upcoming)} by {seoul_time(upcoming)}",
            due_by=deadline,
            fresh_until=upcoming,
            overdue_month=month,
        )
    last = f"last load: {last_loaded}" if last_loaded else "no month loaded"
    return Verdict(
        passed=False,
        description=f"{table} {month} overdue since {seoul_time(deadline)}: not loaded ({last})",
        due_by=deadline,
        fresh_until=None,
        overdue_month=month,
    )


def judge_full_refresh(
    table: str, due_day: int, now: datetime, last_loaded: datetime | None
) -> Verdict:
    """A full-refresh table: fresh while it was reloaded since the deadline before the
    latest one (once a month, by day ``due_day``)."""
    deadline = latest_deadline(due_day, now)
    previous = latest_deadline(due_day, deadline - timedelta(microseconds=1))
    if last_loaded is not None and last_loaded >= previous:
        # It stays fresh until the deadline after the first deadline past the load.
        fresh_until = next_deadline(due_day, next_deadline(due_day, last_loaded))
        return Verdict(
            passed=True,
            description=f"{table} reloaded {seoul_time(last_loaded)} (due monthly by day "
            f"{due_day}); fresh until {seoul_time(fresh_until)}",
            due_by=deadline,
            fresh_until=fresh_until,
            overdue_month="",
        )
    last = f"last loaded {seoul_time(last_loaded)}" if last_loaded else "never loaded"
    return Verdict(
        passed=False,
        description=f"{table} overdue since {seoul_time(deadline)}: not reloaded since "
        f"{seoul_time(previous)} ({last})",
        due_by=deadline,
        fresh_until=None,
        overdue_month="",
    )
