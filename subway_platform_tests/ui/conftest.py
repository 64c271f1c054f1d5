"""The UI tests share ONE `subway-platform dev` (session scope): free port, temporary state
dir, stopped with Ctrl-C at the end; the test session fails if any process it started
(Java, Python, PostgreSQL, moto, Sail) is still alive afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from subway_platform_tests.conftest import make_state_dir
from subway_platform_tests.ui.dev_platform import DevPlatform, remove_state_dir, start_dev, stop_dev

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))
from platform_proc_tools import descendants, processes_mentioning, wait_gone  # noqa: E402


@pytest.fixture(scope="session")
def dev() -> Iterator[DevPlatform]:
    """A running `subway-platform dev` with an empty landing zone and no loaded months."""
    state_dir = make_state_dir("subway-test-ui-")
    try:
        platform = start_dev(state_dir)  # stops what it started if the start fails
    except BaseException:
        remove_state_dir(state_dir)
        raise
    children = descendants(platform.process.pid)
    try:
        yield platform
    finally:
        stop_dev(platform)
        left = wait_gone(children | processes_mentioning(str(state_dir)), timeout=60)
        remove_state_dir(state_dir)
        assert left == set(), f"processes of subway-platform dev left behind: {sorted(left)}"
