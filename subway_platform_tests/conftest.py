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
# A test that takes ``engine`` (``on_engine``, or ``zone`` in pipeline/ and reliability/) runs on
# the first engine of SUBWAY_TEST_ENGINES (``sail,spark`` unless set: embedded Sail). The Spark
# conformance suite, what can differ by engine, runs on each listed engine: the tests marked
# ``spark_conformance`` and every test of ``spark_engine/``. `SUBWAY_TEST_ENGINES=spark` runs
# every engine test on Apache Spark 4.2 (delta-spark, a real Spark Connect server).
ENGINES = [
    e.strip() for e in os.environ.get("SUBWAY_TEST_ENGINES", "sail,spark").split(",") if e.strip()
]
CONFORMANCE_FOLDERS = {"spark_engine"}
E2E_FOLDERS = {"platform", "topology", "ui"}
E2E_MODULE_WORDS = ("daemon", "browser", "e2e", "cli", "screenshots")


def _folder(item_path: Path) -> str:
    """The test folder below ``subway_platform_tests/`` (empty for its top level)."""
    parts = item_path.relative_to(Path(__file__).parent).parts
    return parts[0] if len(parts) > 1 else ""


def engines_for(definition: pytest.Item) -> list[str]:
    """The engines one test runs on: each listed engine for the Spark conformance suite, else
    the first listed one."""
    conformance = (
        definition.get_closest_marker("spark_conformance") is not None
        or _folder(definition.path) in CONFORMANCE_FOLDERS
    )
    return ENGINES if conformance else ENGINES[:1]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``engine`` per test (:func:`engines_for`), session-scoped so that the tests of
    one engine run together and Apache Spark's server starts once, only if a test needs it."""
    if "engine" in metafunc.fixturenames:
        engines = engines_for(metafunc.definition)
        metafunc.parametrize("engine", engines, indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, so ``-m`` selects without edits to the tests:

    - ``spark``: Apache Spark (its server, or the ``spark`` engine);
    - ``sail``: the embedded services with embedded Sail;
    - ``e2e``: the platform's own processes (CLI, daemon, webserver, browser);
    - ``unit``: no service at all (none of the above).
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on = callspec.params.get("engine") if callspec is not None else None
        folder = _folder(item.path)
        spark = (
            on == "spark"
            or bool(names & {"spark_server", "on_spark"})
            or (folder in CONFORMANCE_FOLDERS and on != "sail")
            or (folder in E2E_FOLDERS and "spark" in item.path.stem)
        )
        e2e = folder in E2E_FOLDERS or any(w in item.path.stem for w in E2E_MODULE_WORDS)
        sail = "services" in names and not spark
        if spark:
            item.add_marker(pytest.mark.spark)
        if sail:
            item.add_marker(pytest.mark.sail)
        if e2e:
            item.add_marker(pytest.mark.e2e)
        if not (spark or sail or e2e):
            item.add_marker(pytest.mark.unit)


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


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest, services: RunningServices) -> str:
    """The engine name, ``sail`` (embedded) or ``spark``, from :func:`pytest_generate_tests`;
    Apache Spark's server lives for the session."""
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
