"""Object storage for the landing zone, the archive and the lake: S3 API or a local directory.

A location is a URL: ``s3://bucket/prefix`` (any S3 endpoint: AWS, MinIO, moto) or a local
directory path. The same methods work on both, so tests, the embedded platform and
production run the same code. S3 goes through dagster-aws's ``S3Resource`` (its
``get_client()`` builds the boto3 client) with an explicit endpoint and region: with those
set, no AWS client probes cloud metadata or public hosts. Keys never show in a ``repr``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from subway_platform.resources.masking import MaskedResource, mask_value

if TYPE_CHECKING:
    from dagster_aws.s3 import S3Resource

_CLIENTS: dict[tuple[str, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class StoredObject:
    """One file in a location: its URL, base name, size, content tag and modification time."""

    url: str
    name: str
    size: int
    etag: str
    """S3 ETag, or the SHA-256 of a local file's bytes: changes when the content changes."""
    modified: datetime


def is_s3(url: str) -> bool:
    return url.startswith("s3://") or url.startswith("s3a://")


def split_s3(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    parsed = urlparse(url)
    return parsed.netloc, parsed.path.lstrip("/")


def join_url(base: str, *parts: str) -> str:
    """Join path segments to a location URL (S3 or local) with single slashes."""
    out = base.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


DEFAULT_REGION = "us-east-1"


def delta_storage_options(aws: Mapping[str, str]) -> dict[str, str]:
    """Storage options for ``deltalake`` (delta-rs) against an S3 endpoint: ``aws``
    (``ObjectStorage.settings()``: endpoint, region, key, secret)."""
    opts = {"AWS_REGION": aws["region"], "AWS_EC2_METADATA_DISABLED": "true"}
    if aws["endpoint"]:
        opts["AWS_ENDPOINT_URL"] = aws["endpoint"]
        if aws["endpoint"].startswith("http://"):
            opts["AWS_ALLOW_HTTP"] = "true"
        opts["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
        opts["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
    if aws["key"]:
        opts["AWS_ACCESS_KEY_ID"] = aws["key"]
        opts["AWS_SECRET_ACCESS_KEY"] = aws["secret"]
    return opts


def _local_object(path: Path, url: str | None = None) -> StoredObject:
    """A local file as a stored object (its URL ``url``, else its path): its SHA-256 is
    its content tag."""
    stat = path.stat()
    return StoredObject(
        url=url if url is not None else str(path),
        name=path.name,
        size=stat.st_size,
        etag=sha256_file(path),
        modified=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc),
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_S3_SECRETS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})


@cache
def storage_s3_class() -> "type[S3Resource]":
    """dagster-aws's ``S3Resource`` (the S3 client of landing, archive and lake) with a
    ``repr`` that masks its keys. Made on first use: dagster-aws imports boto3, which
    the code location and a sensor tick do not need."""
    from dagster_aws.s3 import S3Resource

    class StorageS3(S3Resource):
        """``S3Resource`` whose ``repr``/``str`` show no key."""

        def __repr_args__(self) -> Any:
            for name, value in super().__repr_args__():
                yield name, mask_value(str(name), value, _S3_SECRETS, ())

    return StorageS3


class ObjectStorage(MaskedResource):
    """Reads, writes, lists and moves files in S3-compatible storage or local directories.

    Endpoint, region and keys are this resource's fields; the code location sets them from
    ``AWS_ENDPOINT_URL``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``), ``AWS_ACCESS_KEY_ID``
    and ``AWS_SECRET_ACCESS_KEY`` (``resources/environment.py``; the keys as ``dagster.EnvVar``,
    so Dagster shows the variable's name, never its value); command-line entry points and
    tests use ``environment.object_storage_from_environment()``.
    ``AWS_EC2_METADATA_DISABLED`` is forced on so no client ever probes the cloud metadata
    address. The boto3 client comes from :meth:`s3` (dagster-aws's
    ``S3Resource``). ``repr``/``str`` mask the keys.
    """

    _secret_fields: ClassVar[frozenset[str]] = frozenset({"access_key_id", "secret_access_key"})

    max_attempts: int = 5
    """botocore's retry budget per call (standard mode: exponential backoff)."""
    endpoint_url: str = ""
    """S3 endpoint (``http://127.0.0.1:9000``); empty: AWS's own."""
    region: str = ""
    """S3 region; empty: ``us-east-1``."""
    access_key_id: str = ""
    """S3 access key id; empty: none (the clients' own credential chain)."""
    secret_access_key: str = ""
    """Its secret."""

    def delta_options(self) -> dict[str, str]:
        """``deltalake`` (delta-rs) storage options for this resource's S3 settings."""
        return delta_storage_options(self.settings())

    def settings(self) -> dict[str, str]:
        """Endpoint, region and keys: this resource's fields (region ``us-east-1`` when
        empty)."""
        return {
            "endpoint": self.endpoint_url,
            "region": self.region or DEFAULT_REGION,
            "key": self.access_key_id,
            "secret": self.secret_access_key,
        }

    def _client(self) -> Any:
        """One boto3 client per process and settings (endpoint, region, keys, retry budget).

        Creating one costs about 80 ms, and Dagster hands each run step and each sensor tick
        a fresh copy of this resource, so the client is kept at module level, not on the
        instance (botocore clients are thread-safe).
        """
        key = (*self.settings().values(), str(self.max_attempts))
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(key)
            if client is None:
                client = _CLIENTS[key] = self._new_client()
        return client

    def s3(self) -> "S3Resource":
        """dagster-aws's ``S3Resource`` for this resource's endpoint, region and keys."""
        aws = self.settings()
        return storage_s3_class()(
            endpoint_url=aws["endpoint"] or None,
            region_name=aws["region"],
            aws_access_key_id=aws["key"] or None,
            aws_secret_access_key=aws["secret"] or None,
            max_attempts=self.max_attempts,
        )

    def _new_client(self) -> Any:
        # boto3 is imported by the first S3 call (S3Resource.get_client), not at load.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        return self.s3().get_client()

    # -- listing ---------------------------------------------------------------------------
    def list(
        self, location: str, *, start_after: str | None = None, limit: int | None = None
    ) -> Iterator[StoredObject]:
        """Files directly or indirectly under ``location``, in key order, paged.

        ``start_after`` (a URL) resumes a listing; ``limit`` bounds the work of one call.
        """
        count = 0
        if is_s3(location):
            bucket, prefix = split_s3(location)
            prefix = prefix.rstrip("/") + "/" if prefix else ""
            client = self._client()
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if start_after:
                kwargs["StartAfter"] = split_s3(start_after)[1]
            for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if key.endswith("/"):
                        continue
                    yield StoredObject(
                        url=f"s3://{bucket}/{key}",
                        name=key.rsplit("/", 1)[-1],
                        size=int(item["Size"]),
                        etag=str(item["ETag"]).strip('"'),
                        modified=item["LastModified"],
                    )
                    count += 1
                    if limit is not None and count >= limit:
                        return
            return
        root = Path(location)
        if not root.exists():
            return
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            url = str(path)
            if start_after and url <= start_after:
                continue
            yield _local_object(path)
            count += 1
            if limit is not None and count >= limit:
                return

    def exists(self, url: str) -> bool:
        if is_s3(url):
            import botocore.exceptions

            bucket, key = split_s3(url)
            try:
                self._client().head_object(Bucket=bucket, Key=key)
                return True
            except botocore.exceptions.ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return Path(url).is_file()

    def stat(self, url: str) -> StoredObject | None:
        """The file at ``url`` as :meth:`list` describes it (content tag included), or None
        when there is none: one HEAD request on S3."""
        if is_s3(url):
            import botocore.exceptions

            bucket, key = split_s3(url)
            try:
                head = self._client().head_object(Bucket=bucket, Key=key)
            except botocore.exceptions.ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            return StoredObject(
                url=url,
                name=key.rsplit("/", 1)[-1],
                size=int(head["ContentLength"]),
                etag=str(head["ETag"]).strip('"'),
                modified=head["LastModified"],
            )
        path = Path(url)
        return _local_object(path, url) if path.is_file() else None

    # -- content -----------------------------------------------------------------------------
    def download(self, url: str, dest: Path) -> Path:
        """Copy ``url`` to the local file ``dest`` (streamed) and return ``dest``."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        if is_s3(url):
            bucket, key = split_s3(url)
            self._client().download_file(bucket, key, str(dest))
        else:
            shutil.copyfile(url, dest)
        return dest

    def upload(self, src: Path, url: str) -> None:
        """Copy the local file ``src`` to ``url`` (multipart for large files)."""
        if is_s3(url):
            bucket, key = split_s3(url)
            self._client().upload_file(str(src), bucket, key)
        else:
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(url + ".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, url)

    def write_bytes(self, url: str, data: bytes) -> None:
        if is_s3(url):
            bucket, key = split_s3(url)
            self._client().put_object(Bucket=bucket, Key=key, Body=data)
        else:
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            Path(url).write_bytes(data)

    def read_bytes(self, url: str) -> bytes:
        if is_s3(url):
            bucket, key = split_s3(url)
            return self._client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return Path(url).read_bytes()

    def delete(self, url: str) -> None:
        if is_s3(url):
            bucket, key = split_s3(url)
            self._client().delete_object(Bucket=bucket, Key=key)
        else:
            Path(url).unlink(missing_ok=True)

    def delete_prefix(self, location: str) -> int:
        """Delete every file under ``location`` (used for staging clean-up)."""
        if not is_s3(location):
            root = Path(location)
            if root.exists():
                shutil.rmtree(root)
            return 0
        bucket, _prefix = split_s3(location)
        client = self._client()
        keys = [split_s3(obj.url)[1] for obj in self.list(location)]
        for start in range(0, len(keys), 1000):  # the S3 API's batch limit
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def move(self, src: str, dst: str, local_copy: Path | None = None) -> None:
        """Move a file: copy, verify the copy exists, then delete the source.

        The source is never deleted before its copy is in place, so an error at any point
        leaves the file in at least one of the two places. ``local_copy``, a local file
        with the source's bytes (the one just loaded), spares a second download when the
        source is on S3 and the destination is not.
        """
        if is_s3(src) and is_s3(dst):
            client = self._client()
            sb, sk = split_s3(src)
            db, dk = split_s3(dst)
            client.copy({"Bucket": sb, "Key": sk}, db, dk)
            client.head_object(Bucket=db, Key=dk)
            client.delete_object(Bucket=sb, Key=sk)
            return
        if not is_s3(src) and not is_s3(dst):
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(dst + ".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
            Path(src).unlink()
            return
        # Between S3 and a local directory: copy through a local file, verify, delete.
        with tempfile.TemporaryDirectory(prefix="subway_move_") as tmp:
            local = (
                local_copy
                if local_copy is not None and not is_s3(dst)
                else self.download(src, Path(tmp) / "object")
            )
            self.upload(local, dst)
        if not self.exists(dst):
            raise RuntimeError(f"copy of {src} to {dst} is missing; source kept")
        self.delete(src)
