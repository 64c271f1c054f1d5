"""Transient errors in an IO manager are retried after 2 s, then 4 s (README: 2, 4, 8)."""

from __future__ import annotations

import re
from typing import Any

import dagster as dg

from subway_platform.retries import retry_transient


class _FlakyIOManager(dg.IOManager):
    """Fails to store with a dropped connection on the first ``failures`` attempts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.attempts += 1
        with retry_transient(context):
            if self.attempts <= self.failures:
                raise ConnectionError("connection reset by peer")

    def load_input(self, context: dg.InputContext) -> Any:
        raise NotImplementedError


def test_io_manager_retries_back_off_exponentially() -> None:
    manager = _FlakyIOManager(failures=2)

    @dg.asset(io_manager_key="flaky")
    def flaky() -> int:
        return 1

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [flaky],
            resources={"flaky": dg.IOManagerDefinition.hardcoded_io_manager(manager)},
            instance=instance,
        )
        assert result.success
        waits = [
            int(m.group(1))
            for entry in instance.all_logs(result.run_id)
            if (
                m := re.search(
                    r"transient error \(ConnectionError\); retry in (\d+) s", entry.user_message
                )
            )
        ]
    assert manager.attempts == 3
    assert waits == [2, 4]
