"""Code versions per asset (``assets/code_version.py``): derived from the data set's spec and
its layer's code, so a change to one data set's spec marks that data set's assets stale and
no other, and every process and install of the same code computes the same versions."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    CachingStaleStatusResolver,
    StaleCauseCategory,
)
from dagster._core.loader import LoadingContextForTest

import subway_platform
from subway_platform.assets import build_assets
from subway_platform.assets.code_version import (
    NOT_WRITTEN_FIELDS,
    code_version,
    layer_sources,
    spec_fingerprint,
)
from subway_platform.datasets import ALL_DATASETS, DAILY, HOURLY, STATION, DatasetSpec
from subway_platform.tables import tables_of

PRINT_VERSIONS = (
    "import json, subway_platform\n"
    "from subway_platform.assets import build_assets\n"
    "print(json.dumps({'package': subway_platform.__file__, 'versions': {\n"
    "    k.to_user_string(): v for a in build_assets() for k, v in a.code_versions_by_key.items()\n"
    "}}))\n"
)


def versions(specs: tuple[DatasetSpec, ...] = ALL_DATASETS) -> dict[str, str | None]:
    """Every asset's code version, as the definitions built from ``specs`` carry it."""
    return {
        key.to_user_string(): version
        for asset in build_assets(specs)
        for key, version in asset.code_versions_by_key.items()
    }


def keys_of(spec: DatasetSpec) -> set[str]:
    return {table.key_string for table in tables_of(spec)}


def with_daily(daily: DatasetSpec) -> tuple[DatasetSpec, ...]:
    return tuple(daily if s is DAILY else s for s in ALL_DATASETS)


def daily_with_new_header() -> DatasetSpec:
    """The daily spec after the portal wrote 등록일자 under a new header: parsing changes."""
    reg_date = DAILY.column("등록일자")
    renamed = dataclasses.replace(reg_date, aliases=("등록일",))
    return dataclasses.replace(
        DAILY, columns=tuple(renamed if c is reg_date else c for c in DAILY.columns)
    )


def test_every_asset_has_its_own_version() -> None:
    found = versions()
    assert len(found) == 4 * len(ALL_DATASETS)
    assert all(v is not None and len(v) == 16 for v in found.values())
    assert len(set(found.values())) == len(found)  # no two assets share one


def test_a_daily_spec_change_changes_the_daily_versions_only() -> None:
    before = versions()
    after = versions(with_daily(daily_with_new_header()))
    changed = {key for key in before if before[key] != after[key]}
    assert changed == keys_of(DAILY)
    for other in (HOURLY, STATION):
        assert all(after[k] == before[k] for k in keys_of(other))


def test_dagster_marks_the_daily_assets_stale_for_their_code_only() -> None:
    """What the UI shows: every asset's month materialized by today's code, then the code
    location built with a changed daily spec. Dagster's stale-status resolver (the one its
    UI asks) gives "has a new code version" for the daily data set's four assets, and for
    no other."""
    month = "201907"
    today = build_assets()
    changed = build_assets(with_daily(daily_with_new_header()))
    with dg.instance_for_test() as instance:
        for asset in today:
            for key, version in asset.code_versions_by_key.items():
                partition = month if asset.partitions_def is not None else None
                event = dg.AssetMaterialization(
                    key, partition=partition, tags={CODE_VERSION_TAG: str(version)}
                )
                instance.report_runless_asset_event(event)

        def new_code(assets: list[dg.AssetsDefinition]) -> set[str]:
            graph = AssetGraph.from_assets(assets)
            status = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
            return {
                key.to_user_string()
                for key in graph.get_all_asset_keys()
                for cause in status.get_stale_causes(
                    key, month if graph.get(key).partitions_def is not None else None
                )
                if cause.category == StaleCauseCategory.CODE and cause.asset_key == key
            }

        assert new_code(today) == set()
        assert new_code(changed) == keys_of(DAILY)


def test_a_field_that_writes_no_row_changes_no_version() -> None:
    before = versions()
    daily = dataclasses.replace(DAILY, description="another text", due_day=9, record_prefix="x")
    assert versions(with_daily(daily)) == before


def test_the_excluded_fields_are_fields_of_the_spec() -> None:
    names = {f.name for f in dataclasses.fields(DatasetSpec)}
    assert names >= NOT_WRITTEN_FIELDS
    assert "columns" in json.loads(spec_fingerprint(DAILY))
    assert not NOT_WRITTEN_FIELDS & set(json.loads(spec_fingerprint(DAILY)))


def test_enrichment_code_enters_only_enriched_gold_versions() -> None:
    assert "assets/station_match.py" in layer_sources(DAILY, "gold")
    assert "assets/station_match.py" not in layer_sources(STATION, "gold")
    assert "assets/station_match.py" not in layer_sources(DAILY, "rejects")
    assert "ingest/stage.py" in layer_sources(DAILY, "bronze")
    assert "ingest/stage.py" not in layer_sources(DAILY, "mart")


def test_a_station_master_spec_change_changes_enriched_gold_only() -> None:
    """The daily gold joins the station master with the master's aliases: a change to them
    is a change to daily gold (which rows get coordinates), not to daily bronze or mart."""
    aliased = dataclasses.replace(STATION, station_aliases={**STATION.station_aliases, "x": "y"})
    assert code_version(DAILY, "gold", master=aliased) != code_version(DAILY, "gold")
    assert code_version(DAILY, "gold", master=STATION) == code_version(DAILY, "gold")
    assert code_version(STATION, "gold", master=aliased) == code_version(STATION, "gold")


def _run_elsewhere(cwd: Path, hash_seed: str, pythonpath: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONHASHSEED"] = hash_seed
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", PRINT_VERSIONS],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_versions_are_identical_across_processes_and_install_places(tmp_path: Path) -> None:
    """Two interpreters with different hash seeds, and a copy of the package at another
    path, compute exactly this process's versions: nothing depends on object ids, hash
    randomization or where the code lives."""
    here = versions()
    first = _run_elsewhere(tmp_path, "1", None)
    second = _run_elsewhere(tmp_path, "2", None)
    package = Path(subway_platform.__file__).parent
    copy = tmp_path / "elsewhere"
    shutil.copytree(package, copy / "subway_platform", ignore=shutil.ignore_patterns("__pycache__"))
    moved = _run_elsewhere(copy, "3", str(copy))
    assert Path(str(moved["package"])).parent == copy / "subway_platform"
    assert first["versions"] == second["versions"] == moved["versions"] == here


@pytest.mark.parametrize("spec", ALL_DATASETS, ids=lambda s: s.name)
def test_gold_and_rejects_of_one_step_carry_their_own_versions(spec: DatasetSpec) -> None:
    tables = tables_of(spec)
    gold_step = next(a for a in build_assets() if tables.gold.key in a.keys)
    found: dict[dg.AssetKey, str | None] = dict(gold_step.code_versions_by_key)
    assert found[tables.gold.key] == code_version(spec, "gold")
    assert found[tables.rejects.key] == code_version(spec, "rejects")
