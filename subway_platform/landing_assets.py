"""The landing files as observed source assets: one per data set, partitioned like it.

Each data set's landing files are the asset ``landing/<data set>_files`` (group
``landing``), which its bronze asset depends on. Nothing materializes it: it is
*observed*. An observation of a month says which file holds it and what that file's
content is, as the observation's data version: the landing zone's content tag of the
file (the S3 ETag, or the SHA-256 of a local file, ``StoredObject.etag``), so reading the
file is never needed to observe it. A month held by several files gets the SHA-256 of
their names and tags (``month_data_version``).

The landing sensor records an observation for each month of every new or changed file
it requests a load for (or, for a file whose name gives no month, for each month its
scan found), before the load runs. Dagster compares the data version a bronze
materialization recorded for its landing month with the newest observation: a corrected
upload therefore marks the month's bronze, gold and mart stale in the UI as soon as the
sensor has seen it, and "Materialize stale" picks exactly the months whose files
changed. An unpartitioned data set (the station master) is observed as a whole.

Nothing here imports Spark, Arrow or Delta: the landing sensor imports this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.partitions import monthly_partitions
from subway_platform.resources.storage import StoredObject

LANDING_GROUP = "landing"
"""The lineage graph's group of the landing sources."""

SOURCE_FILES_METADATA = "landing/files"
"""Observation metadata: the file(s) holding the month, with their content tags."""


def landing_key(spec: DatasetSpec) -> dg.AssetKey:
    """``landing/<data set>_files``: labelled by what it is, not as a second bronze node."""
    return dg.AssetKey(["landing", f"{spec.name}_files"])


def landing_source(spec: DatasetSpec) -> dg.AssetSpec:
    """The observed source asset of ``spec``'s landing files."""
    what = "each month's file" if spec.partitioned else "the newest file"
    return dg.AssetSpec(
        key=landing_key(spec),
        description=f"The {spec.name} CSV files in the landing zone (SUBWAY_LANDING_URL). "
        f"Observed, never materialized: the landing sensor records {what} and its content "
        "tag (S3 ETag or SHA-256) as the data version when it requests a load, so bronze, "
        "gold and mart show as stale when a corrected file arrives, before it is loaded.",
        partitions_def=monthly_partitions if spec.partitioned else None,
        group_name=LANDING_GROUP,
        kinds={"csv"},
        owners=["team:data-platform"],
        tags={"layer": "landing"},
    )


LANDING_SOURCES: tuple[dg.AssetSpec, ...] = tuple(landing_source(s) for s in ALL_DATASETS)
"""The landing source of every registered data set."""


def month_data_version(files: Sequence[tuple[str, str]]) -> str:
    """The data version of a month held by ``files`` (name, content tag): the tag itself
    for one file (what the landing zone already computed), else the SHA-256 of the sorted
    names and tags."""
    if len(files) == 1:
        return files[0][1]
    digest = hashlib.sha256()
    for name, etag in sorted(files):
        digest.update(f"{name}\0{etag}\0".encode())
    return digest.hexdigest()


def observations(
    spec: DatasetSpec, obj: StoredObject, months: Iterable[str], **metadata: str
) -> list[dg.AssetObservation]:
    """One observation per month ``obj`` holds (one for an unpartitioned data set): the
    file's content tag as data version, the file named in the metadata."""
    described = {
        SOURCE_FILES_METADATA: dg.MetadataValue.json([{"name": obj.name, "etag": obj.etag}]),
        **metadata,
    }
    version = {DATA_VERSION_TAG: month_data_version([(obj.name, obj.etag)])}
    if not spec.partitioned:
        return [dg.AssetObservation(landing_key(spec), metadata=described, tags=version)]
    return [
        dg.AssetObservation(landing_key(spec), partition=m, metadata=described, tags=version)
        for m in months
    ]


__all__ = [
    "LANDING_GROUP",
    "LANDING_SOURCES",
    "landing_key",
    "landing_source",
    "month_data_version",
    "observations",
]
