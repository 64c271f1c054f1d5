"""The Dagster instance configuration: one file, two copies, PostgreSQL storage, run locks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

import subway_platform

REPO_ROOT = Path(subway_platform.__file__).resolve().parent.parent


def test_package_copy_is_identical_to_repo_dagster_yaml() -> None:
    repo = (REPO_ROOT / "dagster.yaml").read_bytes()
    package = (REPO_ROOT / "subway_platform" / "platform" / "dagster.yaml").read_bytes()
    assert package == repo


def test_instance_uses_postgres_and_locks_runs_per_tag_value(services: Any) -> None:
    home = Path(services.env["DAGSTER_HOME"])
    assert (home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        # Pooled connections (instance_storage.py): not one new connection per event.
        for storage in (
            instance.run_storage,
            instance.event_log_storage,
            instance.schedule_storage,
        ):
            assert type(storage._engine.pool).__name__ == "QueuePool", storage
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        limits = coordinator.get_run_queue_config().tag_concurrency_limits
        assert limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
            {"key": "subway/lock", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        ]
        # The storage really is the embedded PostgreSQL: a run written here is read back.
        run = instance.create_run_for_job(
            dg.GraphDefinition(name="platform_probe", node_defs=[]).to_job(),
            tags={"subway/lock": "probe"},
        )
        assert instance.get_run_by_id(run.run_id).tags["subway/lock"] == "probe"
        instance.delete_run(run.run_id)


@dg.op
def _probe_step() -> int:
    """One step, so that a run stores a handful of events."""
    return 1


def test_runs_store_their_events_in_postgres(services: Any) -> None:
    # Guards the DAGSTER_PG_URL driver choice: with psycopg 3 under SQLAlchemy 2.1,
    # dagster-postgres fails on the first stored event.
    job = dg.GraphDefinition(name="platform_event_probe", node_defs=[_probe_step]).to_job()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance)
        assert result.success
        stored = instance.all_logs(result.run_id)
        assert any(e.dagster_event and e.dagster_event.is_step_success for e in stored)
        instance.delete_run(result.run_id)


def test_processes_loading_the_code_location_batch_their_events(services: Any) -> None:
    """Building the definitions turns Dagster's event batching on; an explicit setting wins.

    ``services``: loading the code location needs its configuration (configuration.py).
    """
    import os
    import subprocess
    import sys

    probe = (
        "import os; from subway_platform.definitions import defs; "
        "print(os.environ['DAGSTER_EVENT_BATCH_SIZE'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_EVENT_BATCH_SIZE"}
    default = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert default.stdout.strip() == "100"
    chosen = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "DAGSTER_EVENT_BATCH_SIZE": "7"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert chosen.stdout.strip() == "7"
