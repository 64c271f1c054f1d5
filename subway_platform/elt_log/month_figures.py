"""Per-month duration and rows as numeric metadata, which the Dagster UI plots.

An IO manager that has written a slice adds, to each month's materialization, the month's
rows written (``elt/month_rows``, an int) and its share of the step's time so far
(``elt/month_seconds``, a float): from the step's start to the end of the write, shared
among the months by the rows each read, as the ELT log shares ``elapsed``
(``elt_log/elapsed.py``). The ELT log's ``elapsed`` is larger by what the step does
after the write (its checks): the materialization is recorded before the step ends.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster import DagsterEventType

from subway_platform.elt_log.elapsed import share_elapsed
from subway_platform.elt_log.stats import SOURCE_STATS_METADATA, stats_from_metadata

MONTH_SECONDS = "elt/month_seconds"
"""Numeric metadata: the month's share of the step's time up to the end of its write."""
MONTH_ROWS = "elt/month_rows"
"""Numeric metadata: rows of the month in the target after the write."""


def _step_started(context: dg.OutputContext) -> float | None:
    """When this step's latest attempt started (its ``STEP_START`` event), or None when the
    output is not written by a step of a run (a direct IO manager call)."""
    try:
        step = context.step_context
    except dg.DagsterInvariantViolationError:
        return None
    starts = [
        entry.timestamp
        for entry in step.instance.all_logs(context.run_id, of_type=DagsterEventType.STEP_START)
        if entry.step_key == context.step_key
    ]
    return max(starts, default=None)


def month_figures(
    output_metadata: Mapping[str, Any], target_rows: Mapping[str, int], seconds: float
) -> dict[str, dict[str, dg.MetadataValue]]:
    """Partition -> its ``elt/month_seconds`` and ``elt/month_rows``: ``seconds`` shared by
    the rows each partition read (``elt/source_stats``), else by the rows written."""
    source = stats_from_metadata(output_metadata.get(SOURCE_STATS_METADATA))
    keys = sorted(target_rows)
    weights: list[int | None] = []
    for key in keys:
        read = source[key].source_read_size if key in source else None
        weights.append(target_rows[key] if read is None else read)
    shares, _method = share_elapsed(seconds, weights)
    return {
        key: {
            MONTH_SECONDS: dg.MetadataValue.float(round(share, 3)),
            MONTH_ROWS: dg.MetadataValue.int(target_rows[key]),
        }
        for key, share in zip(keys, shares, strict=True)
    }


def add_month_figures(context: dg.OutputContext, target_rows: Mapping[str, int]) -> None:
    """Add each written month's duration and rows to its materialization (nothing outside a
    run's step, or for an output that reports no ELT statistics: gold's rejects)."""
    # Only the output's own partitions (or "" when it has none) can carry metadata.
    own = set(context.asset_partition_keys) if context.has_asset_partitions else {""}
    target_rows = {key: rows for key, rows in target_rows.items() if key in own}
    if SOURCE_STATS_METADATA not in context.output_metadata or not target_rows:
        return
    started = _step_started(context)
    if started is None:
        return
    figures = month_figures(context.output_metadata, target_rows, time.time() - started)
    step = context.step_context
    for key, values in figures.items():
        step.add_asset_metadata(values, asset_key=context.asset_key, partition_key=key or None)
