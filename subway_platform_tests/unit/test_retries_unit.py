"""The one retry helper (``retries.py``): transient errors are retried after 2 s, then 4 s
(README: 2, 4, 8), in an IO manager and in an asset; a bad file never is."""

import re
from pathlib import Path
from typing import Any

import dagster as dg

import subway_platform
from subway_platform.ingest.errors import LandingFileError
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


def test_an_asset_retries_a_transient_error_and_never_a_bad_file() -> None:
    """The one retry helper in an asset step: a dropped connection is retried (and the step
    succeeds), a refused landing file fails the step at its first attempt, with its message."""
    attempts = {"flaky": 0, "bad_file": 0}

    @dg.asset
    def flaky(context: dg.AssetExecutionContext) -> int:
        attempts["flaky"] += 1
        with retry_transient(context):
            if attempts["flaky"] == 1:
                raise ConnectionError("connection reset by peer")
        return 1

    @dg.asset
    def bad_file(context: dg.AssetExecutionContext) -> int:
        attempts["bad_file"] += 1
        try:
            with retry_transient(context):
                raise LandingFileError("CARD_SUBWAY_MONTH_201907.csv", "field 5 is 'x'", row=6)
        except LandingFileError as err:
            # As bronze does: the operator's message, no retry.
            raise dg.Failure(str(err)) from None

    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([flaky], instance=instance).success
        failed = dg.materialize([bad_file], instance=instance, raise_on_error=False)
        assert not failed.success
        events = instance.all_logs(failed.run_id)
    assert attempts == {"flaky": 2, "bad_file": 1}
    assert not [e for e in events if e.dagster_event and e.dagster_event.is_step_up_for_retry]
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None
    assert "CARD_SUBWAY_MONTH_201907.csv: line 6: field 5 is 'x'" in failure.message


def test_retry_transient_is_the_only_retry() -> None:
    """One helper: no other code requests a retry, no step has a RetryPolicy, and no
    ``Failure`` carries ``allow_retries`` (a flag that only bypasses a RetryPolicy)."""
    package = Path(subway_platform.__file__).parent
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("RetryRequested(", "RetryPolicy(", "retry_policy=", "allow_retries="):
            if needle in text:
                found.setdefault(needle, []).append(path.relative_to(package).as_posix())
    assert found == {"RetryRequested(": ["retries.py"]}
