"""What an alert says: the run, then one line per invalid load (data set, month, the ELT
log's message), then the link to the run in the Dagster UI.

The lines are the ELT log rows of the run (:func:`subway_platform.elt_log.mirror.rows_for_run`)
that are not valid, so an alert and the log always say the same thing. A run that failed
before any step (nothing in the log) is described by Dagster's failure message, a run with
no asset step (``landing_scan_job``) by its failed step's error.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from subway_platform.alerts.config import AlertChannels, scrub
from subway_platform.datasets import ALL_DATASETS
from subway_platform.elt_log.error_text import error_message, short_message, without_class_paths
from subway_platform.elt_log.mirror import rows_for_run
from subway_platform.elt_log.run_events import read_run_events
from subway_platform.tables import tables_of

_DATASET_OF_ASSET: dict[str, str] = {
    table.key_string: spec.name for spec in ALL_DATASETS for table in tables_of(spec).logged
}
_KIND = {
    "check_failed": "blocking check failed",
    "unreconciled": "figures do not add up",
    "failed": "failed",
}
MAX_LINES = 20
"""Loads listed in one alert; a range run with more says how many were left out."""


@dataclass(frozen=True)
class AlertLine:
    """One invalid load of the run."""

    dataset: str
    asset_key: str
    month: str
    kind: str
    message: str


@dataclass(frozen=True)
class Alert:
    """A notification about one run, ready for any channel."""

    run_id: str
    job_name: str
    lines: tuple[AlertLine, ...]
    fallback: str | None
    """Dagster's failure message, when the run logged no invalid load."""
    link: str
    secrets: tuple[str, ...] = ()
    """The alert channels' secrets, which its subject and text never show."""

    @property
    def subject(self) -> str:
        """One line: what failed, for which data set and month."""
        if not self.lines:
            return scrub(f"[subway_platform] run failed: {self.job_name}", self.secrets)[:200]
        first = self.lines[0]
        more = f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        where = " ".join(p for p in (first.dataset, first.month) if p)
        return scrub(f"[subway_platform] {first.kind}: {where}{more}", self.secrets)[:200]

    @property
    def text(self) -> str:
        """The body: the run, each invalid load, the link."""
        body = [f"Dagster run {self.run_id} of job {self.job_name} failed."]
        for line in self.lines[:MAX_LINES]:
            body.append(
                f"- data set {line.dataset}, month {line.month or '(unpartitioned)'}, "
                f"{line.asset_key} {line.kind}: {line.message}"
            )
        if len(self.lines) > MAX_LINES:
            body.append(f"- and {len(self.lines) - MAX_LINES} more (see the run)")
        if self.fallback:
            body.append(f"- {self.fallback}")
        body.append(f"Run: {self.link}")
        return scrub("\n".join(body), self.secrets)


def dataset_of(asset_key: str) -> str:
    """The data set an asset belongs to (``card_subway_month``), or the asset's name."""
    return _DATASET_OF_ASSET.get(asset_key, asset_key.rsplit("/", 1)[-1])


def build_alert(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    failure_message: str | None,
    channels: AlertChannels,
) -> Alert:
    """The alert for a failed run, from its events (nothing is written anywhere)."""
    lines = tuple(
        AlertLine(
            dataset=dataset_of(row.asset_key),
            asset_key=row.asset_key,
            month=row.partition_key,
            kind=_KIND.get(row.status, row.status),
            message=row.error_message or "no message",
        )
        for row in rows_for_run(instance, run.run_id)
        if not row.valid
    )
    fallback = None
    if not lines:
        # A run without asset steps (landing_scan_job): its failed step's own error (a bad
        # file's name and line), not Dagster's "Steps failed: [...]".
        failures = read_run_events(instance, run.run_id).failures
        if failures:
            fallback = f"{failures[0].step_key}: {error_message(failures[0].error)}"
        else:
            fallback = short_message(without_class_paths(failure_message or "no step failed"))
    return Alert(
        run_id=run.run_id,
        job_name=run.job_name,
        lines=lines,
        fallback=fallback,
        link=channels.run_url(run.run_id),
        secrets=channels.secrets(),
    )
