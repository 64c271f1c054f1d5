"""A pipeline test that takes ``zone`` runs on an engine (``engine``, root conftest):
embedded Sail, and Apache Spark too for the Spark conformance suite (``spark_conformance``).
A test without ``zone`` takes ``on_engine`` itself if it uses the engine; a pure one starts
no service."""

from __future__ import annotations

import pytest

from subway_platform_tests.zone import Zone


@pytest.fixture
def zone(on_engine: str, zone: Zone) -> Zone:
    """The root ``zone``, with the platform pointed at this test's engine."""
    return zone
