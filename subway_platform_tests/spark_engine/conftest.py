"""Fixtures for the Apache Spark engine's own tests (interoperability, JDBC, cluster)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def on_spark(spark_server: str) -> Iterator[str]:
    """Point the platform at the Apache Spark Connect server (``local[2]``) for one test
    (``SPARK_REMOTE`` is read when the code location loads: its definitions are rebuilt)."""
    from subway_platform.definitions import build_definitions

    saved = os.environ.get("SPARK_REMOTE")
    os.environ["SPARK_REMOTE"] = spark_server
    build_definitions.cache_clear()
    try:
        yield spark_server
    finally:
        if saved is None:
            os.environ.pop("SPARK_REMOTE", None)
        else:
            os.environ["SPARK_REMOTE"] = saved
        build_definitions.cache_clear()
