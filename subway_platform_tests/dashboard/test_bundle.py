"""The dashboard bundle as Superset will read it: the reference's seven charts, the
loads-with-rejects table and the time per target table, three filters, stable ids, no password."""

from __future__ import annotations

import io
import zipfile

import yaml

from subway_platform.dashboard.bundle import BUNDLE_ROOT, CHARTS, build_bundle
from subway_platform.dashboard.connection import superset_database


def _files(bundle: bytes) -> dict[str, dict]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {
            name.removeprefix(f"{BUNDLE_ROOT}/"): yaml.safe_load(archive.read(name))
            for name in archive.namelist()
        }


def test_bundle_layout_charts_and_filters() -> None:
    database = superset_database("postgresql://subway:s3cr3t-pw@127.0.0.1:5433/subway")
    bundle = build_bundle(database.masked_uri)
    assert bundle == build_bundle(database.masked_uri)  # byte-stable
    assert b"s3cr3t-pw" not in bundle
    files = _files(bundle)
    assert files["metadata.yaml"]["type"] == "assets"
    assert files["databases/subway_mart.yaml"]["sqlalchemy_uri"] == (
        "postgresql+psycopg2://subway:XXXXXXXXXX@127.0.0.1:5433/subway"
    )
    charts = {k: v for k, v in files.items() if k.startswith("charts/")}
    assert sorted(c["viz_type"] for c in charts.values()) == sorted(
        [
            "big_number_total",
            "big_number_total",
            "pie",
            "echarts_timeseries_bar",
            "echarts_timeseries_bar",
            "echarts_timeseries_bar",
            "mixed_timeseries",
            "table",
            "table",
        ]
    )
    rejects = files["charts/loads_with_rejects.yaml"]
    assert rejects["slice_name"] == "ELT loads with rejects"
    assert "rejected_rows" in rejects["params"]["all_columns"]
    datasets = {v["uuid"]: v for k, v in files.items() if k.startswith("datasets/")}
    for chart in charts.values():
        columns = {c["column_name"] for c in datasets[chart["dataset_uuid"]]["columns"]}
        if chart["viz_type"] != "big_number_total":
            assert {"record_time", "domain", "outcome"} <= columns, chart["slice_name"]
    (dashboard,) = [v for k, v in files.items() if k.startswith("dashboards/")]
    filters = dashboard["metadata"]["native_filter_configuration"]
    assert [f["filterType"] for f in filters] == ["filter_time", "filter_select", "filter_select"]
    assert [f["targets"][0].get("column", {}).get("name") for f in filters] == [
        None,
        "outcome",
        "domain",
    ]
    chart_ids = {
        p["meta"]["uuid"]: p["meta"]["chartId"]
        for p in dashboard["position"].values()
        if isinstance(p, dict) and p.get("type") == "CHART"
    }
    assert set(chart_ids) == {c["uuid"] for c in charts.values()}
    big_numbers = {
        chart_ids[c["uuid"]] for c in charts.values() if c["viz_type"] == "big_number_total"
    }
    for native_filter in filters:
        assert set(native_filter["scope"]["excluded"]) == big_numbers
    time = files["charts/daily_time.yaml"]
    assert time["slice_name"] == "ELT time per target table"
    assert time["params"]["groupby"] == ["target_table"]
    assert len(CHARTS) == 9
