"""One declarative spec per landing data set."""

from subway_platform.datasets.daily import DAILY
from subway_platform.datasets.hourly import HOURLY
from subway_platform.datasets.spec import DatasetSpec, SourceColumn
from subway_platform.datasets.station import STATION

ALL_DATASETS: tuple[DatasetSpec, ...] = (DAILY, HOURLY, STATION)


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
    "dataset_for_file",
]
