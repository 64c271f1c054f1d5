"""Paths shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from subway_platform_tests.zone import REAL

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def fixtures() -> Path:
    """Folder of the small crafted landing files (written by make_fixtures.py)."""
    return FIXTURES


@pytest.fixture
def real_data() -> Path:
    """Folder of the real portal files (shared/data/real beside the clone)."""
    if not REAL.is_dir():
        pytest.fail(f"real data files not found at {REAL}; set SUBWAY_REAL_DATA")
    return REAL
