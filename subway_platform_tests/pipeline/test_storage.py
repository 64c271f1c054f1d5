"""Object storage: the same calls on the S3 API (moto over HTTP) and on a local directory."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.landing import safe_file_name
from subway_platform.resources.storage import join_url


@pytest.fixture(params=["s3", "local"])
def location(request: pytest.FixtureRequest, services: object, tmp_path: Path) -> str:
    if request.param == "s3":
        return f"s3://subway/storage-test-{uuid.uuid4().hex[:8]}"
    return str(tmp_path / "store")


def test_write_list_read_move(location: str, tmp_path: Path) -> None:
    storage = object_storage_from_environment()
    src = tmp_path / "file.csv"
    src.write_bytes("사용일자,노선명\n20190101,2호선\n".encode())
    storage.upload(src, join_url(location, "in", "file.csv"))
    storage.write_bytes(join_url(location, "in", "sub", "other.csv"), b"x")

    listed = list(storage.list(join_url(location, "in")))
    assert [o.name for o in listed] == ["file.csv", "other.csv"]
    assert listed[0].size == src.stat().st_size and listed[0].etag
    # Paging: resume after the first object, one at a time.
    assert [
        o.name for o in storage.list(join_url(location, "in"), start_after=listed[0].url, limit=1)
    ] == ["other.csv"]

    storage.move(listed[0].url, join_url(location, "archive", "file.csv"))
    assert not storage.exists(listed[0].url)
    assert storage.read_bytes(join_url(location, "archive", "file.csv")) == src.read_bytes()


def test_move_between_s3_and_local_keeps_the_source_until_the_copy_exists(
    services: object, tmp_path: Path
) -> None:
    storage = object_storage_from_environment()
    s3_url = f"s3://subway/cross-{uuid.uuid4().hex[:8]}/landing/a.csv"
    storage.write_bytes(s3_url, b"payload")
    local_url = str(tmp_path / "archive" / "a.csv")
    storage.move(s3_url, local_url)
    assert Path(local_url).read_bytes() == b"payload"
    assert not storage.exists(s3_url)

    # With the bytes already downloaded (bronze archives what it loaded): the archive gets
    # those bytes, the source is deleted after the copy is in place.
    loaded = tmp_path / "loaded.csv"
    storage.write_bytes(s3_url, b"payload-2")
    storage.download(s3_url, loaded)
    storage.move(s3_url, local_url, local_copy=loaded)
    assert Path(local_url).read_bytes() == b"payload-2"
    assert not storage.exists(s3_url) and loaded.exists()


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "a/b.csv",
        "..",
        ".hidden.csv",
        "x" * 300,
        "CARD_SUBWAY_MONTH_201907.csv\n",
        "a\\b.csv",
    ],
)
def test_hostile_file_names_are_refused(name: str) -> None:
    assert not safe_file_name(name)


def test_real_file_names_are_accepted() -> None:
    for name in [
        "CARD_SUBWAY_MONTH_201907.csv",
        "서울시 역사마스터 정보.csv",
        "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보_202210.csv",
    ]:
        assert safe_file_name(name)
