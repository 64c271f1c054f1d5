"""Table names: every table's key and address come from ``subway_platform.tables``."""

import dagster as dg
import pytest

from subway_platform.datasets import ALL_DATASETS, DAILY, STATION
from subway_platform.partitions import InvalidPartitionKey
from subway_platform.tables import (
    MART_SCHEMA,
    Slice,
    dataset_of_key,
    table_for_key,
    tables_of,
)


def test_daily_tables_have_the_contract_keys_and_addresses() -> None:
    tables = tables_of(DAILY)
    assert tables.bronze.key == dg.AssetKey(["bronze", "card_subway_month"])
    assert tables.gold.key == dg.AssetKey(["gold", "subway_passengers"])
    assert tables.rejects.key == dg.AssetKey(["gold", "rejects", "card_subway_month_rejects"])
    # The UI labels a node with its key's last component: the rejects say what they are,
    # while their Delta table stays where existing lakes have it.
    assert tables.rejects.address == "gold/rejects/card_subway_month"
    assert tables.mart.key == dg.AssetKey(["mart", "subway_passengers"])
    assert tables.bronze.lake_path == ("bronze", "card_subway_month")
    assert tables.mart.qualified_name == (MART_SCHEMA, "subway_passengers")
    assert tables.mart.address == "public.subway_passengers"
    assert tables.gold.address == "gold/subway_passengers"


def test_every_table_is_found_by_its_key_and_keys_are_distinct() -> None:
    seen: set[dg.AssetKey] = set()
    for spec in ALL_DATASETS:
        for table in tables_of(spec):
            assert table.key not in seen
            seen.add(table.key)
            assert table_for_key(table.key) == table
            assert table_for_key(table.key_string) == table
            assert dataset_of_key(table.key) is spec
    assert table_for_key("gold/not_a_table") is None
    assert dataset_of_key(dg.AssetKey(["mart", "nothing"])) is None


def test_backend_specific_names_refuse_the_other_backend() -> None:
    tables = tables_of(DAILY)
    with pytest.raises(ValueError, match="PostgreSQL table"):
        _ = tables.mart.lake_path
    with pytest.raises(ValueError, match="Delta table"):
        _ = tables.gold.qualified_name


def test_slice_validates_months_and_partitioning() -> None:
    gold = tables_of(DAILY).gold
    assert gold.months(["201904", "201905"]).months == ("201904", "201905")
    assert gold.months(None).whole
    with pytest.raises(InvalidPartitionKey):
        Slice(gold, ("2019-04",))
    with pytest.raises(InvalidPartitionKey):
        gold.months(["201913"])
    with pytest.raises(ValueError, match="not partitioned"):
        tables_of(STATION).gold.months(["201904"])
