"""No secret in any representation of a resource: repr, str, a traceback with its locals,
an error's message, and the resource view Dagster's UI shows (the repository snapshot).

Each resource is built with a known secret; every text a person or a log could see is
scanned for it.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.postgres import MartDatabase, MartUnavailable
from subway_platform.resources.spark import SparkEngine
from subway_platform.resources.storage import ObjectStorage

KEY_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
DB_SECRET = "Pa55-w0rd-Sekrit"
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _storage() -> ObjectStorage:
    return ObjectStorage(
        endpoint_url=CLOSED,
        region="us-east-1",
        access_key_id="AKIAEXAMPLEKEYID",
        secret_access_key=KEY_SECRET,
        max_attempts=1,
    )


def _resources() -> dict[str, object]:
    storage = _storage()
    return {
        "storage": storage,
        "s3": storage.s3(),
        "mart": MartDatabase(dsn=f"postgresql://etl:{DB_SECRET}@127.0.0.1:9/mart"),
        "mart_kv": MartDatabase(dsn=f"host=127.0.0.1 port=9 user=etl password={DB_SECRET}"),
        "lakehouse": Lakehouse(lake_url="s3://lake/root", storage=storage),
        "spark": SparkEngine(
            spark_config={
                "spark.hadoop.fs.s3a.access.key": "AKIAEXAMPLEKEYID",
                "spark.hadoop.fs.s3a.secret.key": KEY_SECRET,
                "spark.executor.memory": "1g",
            }
        ),
    }


def _leaks(text: str) -> bool:
    return KEY_SECRET in text or DB_SECRET in text


@pytest.mark.parametrize("name", list(_resources()))
def test_repr_and_str_mask_every_secret(name: str) -> None:
    resource = _resources()[name]
    shown = repr(resource) + "\n" + str(resource) + "\n" + f"{resource!r:}{[resource]}"
    assert not _leaks(shown), shown
    assert "***" in shown  # the field is there, masked, not dropped


def test_s3_client_comes_from_dagster_aws() -> None:
    """The client of landing, archive and lake is dagster-aws's ``S3Resource``'s."""
    from dagster_aws.s3 import S3Resource

    storage = _storage()
    s3 = storage.s3()
    assert isinstance(s3, S3Resource)
    client = storage._client()  # noqa: SLF001 - the client the public methods use
    assert client.meta.endpoint_url == CLOSED and client.meta.region_name == "us-east-1"


def _failing_call(storage: ObjectStorage, mart: MartDatabase) -> None:
    config = {"storage": storage, "mart": mart}
    raise RuntimeError(f"step failed with {len(config)} resources in scope")


def test_a_traceback_with_locals_shows_no_secret() -> None:
    resources = _resources()
    try:
        _failing_call(resources["storage"], resources["mart"])  # type: ignore[arg-type]
    except RuntimeError as err:
        text = "".join(
            traceback.TracebackException.from_exception(err, capture_locals=True).format()
        )
    assert "_failing_call" in text and "ObjectStorage(" in text
    assert not _leaks(text), text


def test_errors_of_real_calls_show_no_secret() -> None:
    """A failed S3 call (nothing listens) and a failed connection to PostgreSQL."""
    storage = _storage()
    with pytest.raises(Exception) as s3_error:  # noqa: PT011 - botocore's connection error
        storage.read_bytes("s3://bucket/key.csv")
    s3_text = "".join(traceback.format_exception(s3_error.value))
    assert "127.0.0.1:9" in s3_text and not _leaks(s3_text)

    mart = MartDatabase(dsn=f"postgresql://etl:{DB_SECRET}@127.0.0.1:9/mart", connect_timeout=2)
    with pytest.raises(MartUnavailable) as db_error:
        with mart.connect():
            pass
    db_text = "".join(traceback.format_exception(db_error.value))
    assert not _leaks(db_text), db_text


def test_dagster_resource_view_shows_variable_names_not_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The composition root passes secrets as ``dg.EnvVar``: the UI's resource view (the
    repository snapshot the webserver serves) names the variable, never its value."""
    from subway_platform.resources.environment import build_resources

    for name in ("landing", "archive", "lake"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(f"SUBWAY_{name.upper()}_URL", str(tmp_path / name))
    monkeypatch.setenv("SUBWAY_MART_DSN", f"postgresql://etl:{DB_SECRET}@127.0.0.1:9/mart")
    monkeypatch.setenv("AWS_ENDPOINT_URL", CLOSED)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEY_SECRET)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    resources = build_resources()

    @dg.asset
    def probe(storage: ObjectStorage, mart: MartDatabase) -> None:
        """Uses the secret-bearing resources so they appear in the snapshot."""

    defs = dg.Definitions(assets=[probe], resources=resources)
    snapshot = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert "AWS_SECRET_ACCESS_KEY" in snapshot and "SUBWAY_MART_DSN" in snapshot
    assert not _leaks(snapshot)
    shown = "\n".join(repr(r) for r in resources.values())
    assert not _leaks(shown), shown
