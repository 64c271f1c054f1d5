"""Fixtures of the platform tests: fresh state dirs, removed afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from platform_proc_tools import make_state_dir


@pytest.fixture
def new_state_dir() -> Iterator[Callable[[str], Path]]:
    """Make state dirs PostgreSQL's account can enter; delete them after the test."""
    made: list[Path] = []

    def make(prefix: str) -> Path:
        made.append(make_state_dir(prefix))
        return made[-1]

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)
