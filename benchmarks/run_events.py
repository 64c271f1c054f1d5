"""What one Dagster run did, read back from its events: per-step durations and rows."""

from __future__ import annotations

from typing import Any

import dagster as dg

STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.RUN_START,
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
}


def layer_of(step_key: str) -> str:
    """``bronze__card_subway_month`` -> ``bronze``."""
    return step_key.split("__", 1)[0]


def run_report(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """Per-step seconds, rows written per asset, and the run's own start-to-end seconds."""
    records = instance.get_records_for_run(run_id, of_type=STEP_EVENTS, limit=10_000).records
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    rows: dict[str, int] = {}
    run_start = run_end = None
    status = "unknown"
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == dg.DagsterEventType.RUN_START:
            run_start = entry.timestamp
        elif kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            run_end = entry.timestamp
            status = "success" if kind == dg.DagsterEventType.RUN_SUCCESS else "failure"
        elif kind == dg.DagsterEventType.STEP_START and event.step_key:
            starts[event.step_key] = entry.timestamp
        elif (
            kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)
            and event.step_key
        ):
            steps[event.step_key] = round(
                entry.timestamp - starts.get(event.step_key, entry.timestamp), 3
            )
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization  # type: ignore[union-attr]
            count = mat.metadata.get("dagster/row_count")
            if count is not None:
                # Every partition of a multi-month step carries the step's total.
                key = mat.asset_key.to_user_string()
                rows[key] = max(rows.get(key, 0), int(count.value))
    layers: dict[str, float] = {}
    for step, seconds in steps.items():
        layers[layer_of(step)] = round(layers.get(layer_of(step), 0.0) + seconds, 3)
    return {
        "run_id": run_id,
        "status": status,
        "run_seconds": round(run_end - run_start, 3) if run_start and run_end else None,
        "steps": steps,
        "layers": layers,
        "rows_written": rows,
    }
