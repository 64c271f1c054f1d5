"""The instance storage outlives a PostgreSQL restart: a run worker that is storing
events while the server restarts (an operator's ``pg_ctl restart``, a failover) loses no
event and raises nothing. Without it a step whose event write was cut mid-statement
failed, and a step failure is not retried (seen in the topology's PostgreSQL drill)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from subway_platform.platform.postgres import EmbeddedPostgres
from subway_platform_tests.conftest import make_state_dir

STORAGE_YAML = """
storage:
  custom:
    module: subway_platform.platform.instance_storage
    class: PooledPostgresStorage
    config:
      postgres_url_env: DAGSTER_PG_URL
telemetry:
  enabled: false
"""


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own: the session's serves the other tests."""
    root = make_state_dir("subway-test-instance-pg-")
    server = EmbeddedPostgres(root / "postgres", root / "postgres.password")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_events_stored_across_postgresql_restarts_are_all_kept(
    own_postgres: EmbeddedPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_PG_URL", own_postgres.dsn("dagster"))
    (tmp_path / "dagster.yaml").write_text(STORAGE_YAML, encoding="utf-8")
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path)))
    run = instance.add_run(dg.DagsterRun(job_name="restart_drill"))
    written: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def store_events() -> None:
        n = 0
        while not stop.is_set():
            try:
                instance.report_engine_event(f"event {n}", run)
            except BaseException as err:  # noqa: BLE001 - the test reports it
                errors.append(err)
                return
            written.append(n)
            n += 1

    writer = threading.Thread(target=store_events, daemon=True)
    writer.start()
    try:
        for _ in range(3):
            while len(written) < 50 * (_ + 1) and writer.is_alive():
                stop.wait(0.05)
            own_postgres.restart()
    finally:
        stop.set()
        writer.join(timeout=120)
    assert not errors, f"an event write failed across the restart: {errors[0]!r}"[:2000]
    stored = {
        entry.message
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    }
    assert {f"event {n}" for n in written} <= stored
    assert len(written) > 150
    instance.dispose()
