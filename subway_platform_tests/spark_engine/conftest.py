"""Fixtures for the Apache Spark engine's own tests (interoperability, JDBC, cluster)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def on_spark(spark_server: str) -> Iterator[str]:
    """Point the platform at the Apache Spark Connect server (``local[2]``) for one test."""
    saved = os.environ.get("SPARK_REMOTE")
    os.environ["SPARK_REMOTE"] = spark_server
    try:
        yield spark_server
    finally:
        if saved is None:
            os.environ.pop("SPARK_REMOTE", None)
        else:
            os.environ["SPARK_REMOTE"] = saved
