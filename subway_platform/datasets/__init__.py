"""One declarative spec per landing data set."""

from subway_platform.datasets.daily import DAILY
from subway_platform.datasets.hourly import HOURLY
from subway_platform.datasets.pay_free import PAY_FREE
from subway_platform.datasets.spec import DatasetSpec, SourceColumn, StationJoin
from subway_platform.datasets.station import STATION

ALL_DATASETS: tuple[DatasetSpec, ...] = (DAILY, HOURLY, STATION, PAY_FREE)


def dataset_named(name: str) -> DatasetSpec:
    """The registered data set called ``name`` (``KeyError`` naming the known ones if none)."""
    for spec in ALL_DATASETS:
        if spec.name == name:
            return spec
    raise KeyError(f"no data set {name!r} (known: {', '.join(s.name for s in ALL_DATASETS)})")


def dataset_for_file(file_name: str) -> DatasetSpec | None:
    """The data set whose file pattern matches ``file_name`` (a base name), if any."""
    for spec in ALL_DATASETS:
        if spec.match_file(file_name):
            return spec
    return None


__all__ = [
    "ALL_DATASETS",
    "DAILY",
    "HOURLY",
    "STATION",
    "DatasetSpec",
    "SourceColumn",
    "StationJoin",
    "dataset_for_file",
    "dataset_named",
]
