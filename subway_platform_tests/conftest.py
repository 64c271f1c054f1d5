"""Fixtures shared by every test folder: the embedded services, really started.

``services`` (session): PostgreSQL and moto's S3 server in a temporary state dir, their
environment applied to ``os.environ`` for the session. ``s3_client``: a boto3 client for
that S3 endpoint. No Sail server is started: Spark code uses Sail in process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The `zone` fixture (an isolated landing/archive/lake per test) for every test folder.
pytest_plugins = ["subway_platform_tests.zone"]

# AWS clients (boto3, delta-rs, Sail) probe the cloud metadata address without this.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@dataclass(frozen=True)
class RunningServices:
    """What a test needs to reach the embedded services."""

    env: dict[str, str]
    mart_dsn: str
    s3_endpoint: str
    state_dir: Path


def make_state_dir(prefix: str) -> Path:
    """A fresh temporary state dir that PostgreSQL's account can enter when we are root.

    pytest's own tmp dirs are 0700 below a root-owned 0700 dir, which the ``postgres``
    account (PostgreSQL refuses to run as root) cannot enter.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


@pytest.fixture(scope="session")
def services() -> Iterator[RunningServices]:
    """Embedded PostgreSQL + moto S3 for the whole session, env applied to os.environ."""
    from subway_platform.platform.services import EmbeddedServices

    state_dir = make_state_dir("subway-test-services-")
    saved = dict(os.environ)
    embedded = EmbeddedServices(state_dir, sail_server=False)
    try:
        env = embedded.start()
        os.environ.update(env)
        yield RunningServices(
            env=env,
            mart_dsn=env["SUBWAY_MART_DSN"],
            s3_endpoint=env["AWS_ENDPOINT_URL"],
            state_dir=state_dir,
        )
    finally:
        embedded.stop()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture
def s3_client(services: RunningServices) -> Any:
    """A boto3 S3 client for the embedded endpoint (explicit endpoint, region and keys)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=services.s3_endpoint,
        region_name=services.env["AWS_REGION"],
        aws_access_key_id=services.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=services.env["AWS_SECRET_ACCESS_KEY"],
    )


# -- engines ---------------------------------------------------------------------------------
# The pipeline and reliability suites run once per engine: embedded Sail (the default) and
# Apache Spark 4.2 with delta-spark behind a real Spark Connect server. SUBWAY_TEST_ENGINES
# narrows the list (for example `SUBWAY_TEST_ENGINES=sail` while iterating).
ENGINES = [
    e.strip() for e in os.environ.get("SUBWAY_TEST_ENGINES", "sail,spark").split(",") if e.strip()
]


@pytest.fixture(scope="session")
def spark_server(services: RunningServices) -> Iterator[str]:
    """An Apache Spark 4.2 Connect server with delta-spark (``local[2]``), for the session."""
    from subway_platform.platform.spark.server import ApacheSparkServer
    from subway_platform.resources.spark import stop_sessions

    server = ApacheSparkServer(services.state_dir / "spark", services.env)
    url = server.start()
    try:
        yield url
    finally:
        stop_sessions(url)
        server.stop()


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest, services: RunningServices) -> str:
    """The engine name, ``sail`` (embedded) or ``spark``; its server lives for the session."""
    if request.param == "spark":
        request.getfixturevalue("spark_server")
    return str(request.param)


@pytest.fixture
def on_engine(request: pytest.FixtureRequest, engine: str) -> Iterator[str]:
    """Point the platform at ``engine`` for one test (``SPARK_REMOTE``, read when the code
    location loads: its definitions are built again), then restore it."""
    from subway_platform.definitions import build_definitions

    saved = os.environ.get("SPARK_REMOTE")
    if engine == "spark":
        os.environ["SPARK_REMOTE"] = request.getfixturevalue("spark_server")
    else:
        os.environ.pop("SPARK_REMOTE", None)
    build_definitions.cache_clear()
    try:
        yield engine
    finally:
        if saved is None:
            os.environ.pop("SPARK_REMOTE", None)
        else:
            os.environ["SPARK_REMOTE"] = saved
        build_definitions.cache_clear()
