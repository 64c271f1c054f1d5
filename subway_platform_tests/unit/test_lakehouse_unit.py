"""The lakehouse resource: the one place table addresses come from."""

from pathlib import Path

import dagster as dg

from subway_platform.datasets import ALL_DATASETS, DAILY
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.storage import ObjectStorage


def test_s3_tables_are_asset_key_paths_under_the_lake() -> None:
    lake = Lakehouse(lake_url="s3://lake-bucket/subway/", storage=ObjectStorage())
    assert lake.table_url(dg.AssetKey(["bronze", "card_subway_month"])) == (
        "s3://lake-bucket/subway/bronze/card_subway_month"
    )
    assert (
        lake.table_url("gold/subway_passengers") == "s3://lake-bucket/subway/gold/subway_passengers"
    )
    assert (
        lake.table_url(["gold", "subway_station"]) == "s3://lake-bucket/subway/gold/subway_station"
    )
    assert lake.rejects_url(DAILY) == "s3://lake-bucket/subway/gold/rejects/card_subway_month"


def test_local_tables_are_absolute_paths(tmp_path: Path) -> None:
    lake = Lakehouse(lake_url=str(tmp_path / "lake"), storage=ObjectStorage())
    url = lake.table_url(dg.AssetKey(["gold", "subway_passengers"]))
    assert url == str((tmp_path / "lake" / "gold" / "subway_passengers").resolve())


def test_every_data_set_has_its_three_tables() -> None:
    paths = Lakehouse(lake_url="s3://b/l", storage=ObjectStorage()).table_paths()
    assert len(paths) == 3 * len(ALL_DATASETS) == len(set(paths))
    for spec in ALL_DATASETS:
        assert {
            f"bronze/{spec.name}",
            f"gold/{spec.gold_asset}",
            f"gold/rejects/{spec.name}",
        } <= set(paths)
