"""Every pipeline test runs on each engine (see ``engine`` in the root conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_engine(on_engine: str) -> str:
    return on_engine
