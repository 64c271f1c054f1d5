"""Gold's rejects assets in the asset graph: one per data set, downstream of bronze beside
gold, partitioned like it, in the data set's job, at the lakehouse's rejects table, and no
ELT log hop."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

from subway_platform.assets import build_assets
from subway_platform.assets.rejects import REJECTS_ASSETS, rejects_key
from subway_platform.datasets import ALL_DATASETS, DatasetSpec
from subway_platform.elt_log.hops import HOPS
from subway_platform.elt_log.mirror import NOT_HOPS
from subway_platform.jobs import dataset_selection, monthly_all_job
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.storage import ObjectStorage
from subway_platform.tables import tables_of


@pytest.fixture(scope="module")
def graph() -> AssetGraph:
    """The code location's asset graph (built from the assets alone: no resources needed)."""
    return AssetGraph.from_assets(build_assets())


@pytest.mark.parametrize("spec", ALL_DATASETS, ids=lambda s: s.name)
def test_rejects_asset_sits_beside_gold_downstream_of_bronze(
    graph: AssetGraph, spec: DatasetSpec
) -> None:
    key = rejects_key(spec)
    gold = dg.AssetKey(["gold", spec.gold_asset])
    bronze = dg.AssetKey(["bronze", spec.name])
    node = graph.get(key)
    assert node.parent_keys == {bronze}
    assert bronze in graph.get(gold).parent_keys
    assert key not in graph.get(gold).parent_keys  # beside gold, not upstream of it
    assert node.child_keys == set()
    assert node.partitions_def == graph.get(gold).partitions_def
    assert (node.partitions_def is None) == (not spec.partitioned)
    assert node.group_name == spec.name
    # One step writes both (one read of bronze); the checks stay on gold.
    assert graph.get(key).assets_def is graph.get(gold).assets_def
    assert graph.get(key).assets_def.op.name == f"gold__{spec.gold_asset}"
    assert not [c for c in graph.asset_check_keys if c.asset_key == key]
    assert [c for c in graph.asset_check_keys if c.asset_key == gold]


@pytest.mark.parametrize("spec", ALL_DATASETS, ids=lambda s: s.name)
def test_rejects_asset_is_in_its_jobs_and_at_the_lakehouse_rejects_table(
    graph: AssetGraph, spec: DatasetSpec
) -> None:
    key = rejects_key(spec)
    assert key in dataset_selection(spec).resolve(graph)
    if spec.partitioned:
        assert key in monthly_all_job.selection.resolve(graph)
    lake = Lakehouse(lake_url="s3://lake/root", storage=ObjectStorage())
    assert (
        lake.url_of(tables_of(spec).rejects)
        == lake.rejects_url(spec)
        == f"s3://lake/root/gold/rejects/{spec.name}"
    )


@pytest.mark.parametrize("spec", ALL_DATASETS, ids=lambda s: s.name)
def test_the_rejects_node_is_labelled_as_rejects(graph: AssetGraph, spec: DatasetSpec) -> None:
    """The lineage graph labels a node with its key's last component. The rejects were
    drawn as a second bronze node; now their label is their own. Bronze, gold and mart keep
    their contract keys (design.md): gold and mart share a label and differ by the kinds
    drawn on the node (the station master's three share one: its names are contracts too)."""
    tables = tables_of(spec)
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == spec.name]
    assert sorted(keys) == sorted(t.key for t in tables)
    labels = {t.layer: t.key.path[-1] for t in tables}
    assert labels["rejects"] == f"{spec.name}_rejects"
    assert labels["bronze"] == spec.name
    assert labels["gold"] == labels["mart"] == spec.gold_asset
    assert labels["rejects"] not in {labels["bronze"], labels["gold"], labels["mart"]}
    kinds = {t.layer: graph.get(t.key).kinds for t in tables}
    assert kinds["gold"] == {"spark", "delta"} and kinds["mart"] == {"postgres"}


def test_rejects_assets_are_not_elt_log_hops() -> None:
    assert REJECTS_ASSETS == {f"gold/rejects/{s.name}_rejects" for s in ALL_DATASETS}
    assert NOT_HOPS >= REJECTS_ASSETS
    assert not REJECTS_ASSETS & set(HOPS)
