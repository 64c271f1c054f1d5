"""Paths shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")
REAL = Path("/work/shared/data/real")


@pytest.fixture
def fixtures() -> Path:
    """Folder of the small crafted landing files (written by make_fixtures.py)."""
    return FIXTURES


@pytest.fixture
def real_data() -> Path:
    """Folder of the real portal files; tests over them skip where it is absent."""
    if not REAL.is_dir():
        pytest.skip("real data files not available")
    return REAL
