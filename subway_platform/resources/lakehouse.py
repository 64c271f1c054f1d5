"""The lakehouse: where every Delta table of the platform lives (one owner for locations).

The table of asset ``bronze/card_subway_month`` lives at ``<lake>/bronze/card_subway_month``,
gold's rejected rows of a data set (asset ``gold/rejects/<data set>_rejects``) at
``<lake>/gold/rejects/<data set>``. The Delta IO
manager, the assets, the maintenance job and the demo all ask this resource, so a table
never has two spellings of its address.
"""

from pathlib import Path

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.resources.storage import ObjectStorage, is_s3, join_url
from subway_platform.stores.delta_log import open_delta, partition_rows
from subway_platform.tables import TableRef, tables_of


def lake_table_url(lake_url: str, asset_key: dg.AssetKey | str | list[str]) -> str:
    """Where an asset's (or a named) Delta table lives under the lake root ``lake_url``."""
    if isinstance(asset_key, dg.AssetKey):
        parts = list(asset_key.path)
    elif isinstance(asset_key, str):
        parts = asset_key.split("/")
    else:
        parts = list(asset_key)
    url = join_url(lake_url, *parts)
    return url if is_s3(url) else str(Path(url).resolve())


def dataset_table_paths(spec: DatasetSpec) -> list[str]:
    """The lake paths of a data set's Delta tables: bronze, gold and gold's rejects (the
    path of the asset key, except the rejects': see ``subway_platform.tables``)."""
    return [table.name for table in tables_of(spec).delta]


class Lakehouse(dg.ConfigurableResource):
    """The lake root (``SUBWAY_LAKE_URL``, S3 or a local directory), the address of every
    Delta table under it, and how delta-rs reaches them (the object storage's S3 settings)."""

    lake_url: str
    storage: dg.ResourceDependency[ObjectStorage]

    def delta_options(self) -> dict[str, str]:
        """delta-rs storage options for the lake (``ObjectStorage``'s endpoint, region, keys)."""
        return self.storage.delta_options()

    def partition_rows(self, url: str, months: list[str] | None = None) -> dict[str, int]:
        """Rows per month of the Delta table at ``url``, from its log (``io_managers.delta``)."""
        return partition_rows(url, months, self.delta_options())

    def exists(self, url: str) -> bool:
        """Whether a Delta table exists at ``url``."""
        return open_delta(url, self.delta_options()) is not None

    def table_url(self, asset_key: dg.AssetKey | str | list[str]) -> str:
        """The Delta table of an asset key (``bronze/card_subway_month``)."""
        return lake_table_url(self.lake_url, asset_key)

    def url_of(self, table: TableRef) -> str:
        """Where the Delta table ``table`` lives."""
        return lake_table_url(self.lake_url, list(table.lake_path))

    def rejects_url(self, spec: DatasetSpec) -> str:
        """The Delta table of the rows gold rejected for a data set (its rejects asset)."""
        return self.table_url(tables_of(spec).rejects.lake_path)

    def table_paths(self) -> list[str]:
        """Every Delta table path the platform writes, data set by data set."""
        return [path for spec in ALL_DATASETS for path in dataset_table_paths(spec)]
