"""The ELT monitoring dashboard as code: a Superset import bundle generated from this file.

``build_bundle(database_uri)`` returns the ZIP that Superset's ``/api/v1/assets/import``
takes (``metadata.yaml``, ``databases/``, ``datasets/``, ``charts/``, ``dashboards/``):
one dataset per view of schema ``elt_dashboard`` (see ``views.sql``), the reference's
seven charts plus a table of loads with rejects and a chart of time per target table per
day, and its three native filters (time range, valid, domain) that leave the two big
numbers alone. Every UUID is derived from a fixed name, so a re-import updates the same
objects instead of adding copies.

The database URI in the bundle never carries a password: pass it masked (``mask_uri``)
and hand the password to the import call (``passwords`` form field).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import yaml

BUNDLE_ROOT = "subway_elt_dashboard"
DATABASE_NAME = "subway_mart"
DATABASE_FILE = f"databases/{DATABASE_NAME}.yaml"
DASHBOARD_TITLE = "ELT monitoring"
DASHBOARD_SLUG = "elt-monitoring"
SCHEMA = "elt_dashboard"
TIME_COLUMN = "record_time"
MASKED_PASSWORD = "XXXXXXXXXX"
"""What Superset's own exports put in place of a password."""

OUTCOME_COLORS = {"success": "#5AC189", "failure": "#E04355"}
_NAMESPACE = uuid.UUID("6f1b7c52-2f7e-4d0c-9a55-5b0c1e1d0e42")
_VERSION = "1.0.0"
_FIXED_TIMESTAMP = "2024-01-01T00:00:00+00:00"  # stable bytes for a stable bundle


def stable_uuid(kind: str, name: str) -> str:
    """The UUID of dashboard object ``name`` of ``kind``; the same in every build."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


# -- datasets: one per view -------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A dataset column: name, SQL type as Superset shows it, and whether it is temporal."""

    name: str
    type: str
    is_dttm: bool = False


_FILTER_COLUMNS = (
    Column("record_time", "TIMESTAMP WITH TIME ZONE", True),
    Column("domain", "TEXT"),
    Column("valid", "BOOLEAN"),
    Column("outcome", "TEXT"),
)

DATASETS: dict[str, tuple[Column, ...]] = {
    "target_tables": (
        Column("target_object", "TEXT"),
        Column("target_type", "TEXT"),
        Column("target_topic", "TEXT"),
        Column("operations", "BIGINT"),
        Column("successes", "BIGINT"),
        Column("last_record_time", "TIMESTAMP WITH TIME ZONE", True),
    ),
    "total_records": (
        Column("operations", "BIGINT"),
        Column("target_records", "BIGINT"),
        Column("source_records", "BIGINT"),
    ),
    "status_split": (*_FILTER_COLUMNS, Column("operations", "BIGINT")),
    "status_by_domain": (
        *_FILTER_COLUMNS,
        Column("success_count", "BIGINT"),
        Column("failure_count", "BIGINT"),
    ),
    "daily_operations": (
        *_FILTER_COLUMNS,
        Column("record_day", "DATE", True),
        Column("success_count", "BIGINT"),
        Column("failure_count", "BIGINT"),
    ),
    "daily_records": (
        *_FILTER_COLUMNS,
        Column("record_day", "DATE", True),
        Column("source_rows", "BIGINT"),
        Column("target_rows", "BIGINT"),
        Column("target_ratio", "DOUBLE PRECISION"),
    ),
    "recent_failures": (
        *_FILTER_COLUMNS,
        Column("action", "TEXT"),
        Column("source_object", "TEXT"),
        Column("target_object", "TEXT"),
        Column("error_message", "VARCHAR(255)"),
        Column("asset_key", "TEXT"),
        Column("partition_key", "TEXT"),
        Column("run_id", "TEXT"),
    ),
    "loads_with_rejects": (
        *_FILTER_COLUMNS,
        Column("asset_key", "TEXT"),
        Column("partition_key", "TEXT"),
        Column("target_object", "TEXT"),
        Column("rejected_rows", "BIGINT"),
        Column("error_message", "VARCHAR(255)"),
        Column("run_id", "TEXT"),
    ),
    "daily_time": (
        *_FILTER_COLUMNS,
        Column("record_day", "DATE", True),
        Column("target_table", "TEXT"),
        Column("asset_key", "TEXT"),
        Column("partition_key", "TEXT"),
        Column("elapsed_seconds", "DOUBLE PRECISION"),
    ),
}
"""Each view of ``views.sql`` and its columns (the order of the view's SELECT)."""


# -- charts ------------------------------------------------------------------------------
def sql_metric(expression: str, label: str) -> dict[str, Any]:
    """An ad-hoc SQL metric as Superset stores it in a chart."""
    return {
        "expressionType": "SQL",
        "sqlExpression": expression,
        "label": label,
        "hasCustomLabel": True,
        "optionName": f"metric_{stable_uuid('metric', label).replace('-', '')[:12]}",
    }


def _time_filter() -> dict[str, Any]:
    """The chart's time range filter on ``record_time``; the native filter fills it in."""
    return {
        "expressionType": "SIMPLE",
        "subject": TIME_COLUMN,
        "operator": "TEMPORAL_RANGE",
        "comparator": "No filter",
        "clause": "WHERE",
    }


@dataclass(frozen=True)
class Chart:
    """One chart: its title, view, Superset viz type, form data, and query for the API.

    ``queries`` are the query objects of the chart's saved ``query_context`` (what
    ``GET /api/v1/chart/{id}/data`` runs); ``params`` is the form data the UI renders.
    """

    key: str
    title: str
    dataset: str
    viz_type: str
    params: dict[str, Any]
    queries: list[dict[str, Any]]
    filterable: bool = True
    width: int = 6
    height: int = 50
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _query(
    *,
    columns: list[Any],
    metrics: list[dict[str, Any]],
    filterable: bool,
    orderby: list[Any] | None = None,
    row_limit: int = 1000,
) -> dict[str, Any]:
    return {
        "filters": (
            [{"col": TIME_COLUMN, "op": "TEMPORAL_RANGE", "val": "No filter"}] if filterable else []
        ),
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": columns,
        "metrics": metrics,
        "orderby": orderby or [],
        "annotation_layers": [],
        "row_limit": row_limit,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }


def _big_number(
    key: str, title: str, dataset: str, metric: dict[str, Any], subheader: str
) -> Chart:
    params = {
        "viz_type": "big_number_total",
        "metric": metric,
        "adhoc_filters": [],
        "header_font_size": 0.4,
        "subheader_font_size": 0.15,
        "subheader": subheader,
        "y_axis_format": ",d",
        "time_format": "smart_date",
    }
    return Chart(
        key,
        title,
        dataset,
        "big_number_total",
        params,
        [_query(columns=[], metrics=[metric], filterable=False)],
        filterable=False,
        width=3,
        height=40,
        description=f"{subheader} Dashboard filters do not apply.",
    )


def _bar(
    key: str,
    title: str,
    dataset: str,
    x_axis: str,
    metrics: list[dict[str, Any]],
    *,
    temporal: bool,
    stacked: bool,
    description: str,
) -> Chart:
    params: dict[str, Any] = {
        "viz_type": "echarts_timeseries_bar",
        "x_axis": x_axis,
        "metrics": metrics,
        "groupby": [],
        "adhoc_filters": [_time_filter()],
        "row_limit": 10000,
        "truncate_metric": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "show_value": True,
        "rich_tooltip": True,
        "y_axis_format": "SMART_NUMBER",
        "x_axis_sort_asc": True,
        "orientation": "vertical",
        "stack": "Stack" if stacked else None,
        "zoomable": False,
    }
    if temporal:
        params.update({"time_grain_sqla": "P1D", "x_axis_time_format": "%Y-%m-%d"})
    else:
        params.update({"x_axis_sort": x_axis, "x_axis_sort_series_type": "sum"})
    return Chart(
        key,
        title,
        dataset,
        "echarts_timeseries_bar",
        params,
        [_query(columns=[x_axis], metrics=metrics, filterable=True, orderby=[[x_axis, True]])],
        description=description,
    )


SUCCESS = sql_metric("SUM(success_count)", "success")
FAILURE = sql_metric("SUM(failure_count)", "failure")
SOURCE_ROWS = sql_metric("SUM(source_rows)", "source rows")
TARGET_ROWS = sql_metric("SUM(target_rows)", "target rows")
TARGET_RATIO = sql_metric(
    "SUM(target_rows)::double precision / NULLIF(SUM(source_rows), 0)", "target / source"
)
OPERATIONS = sql_metric("SUM(operations)", "operations")
TARGET_TABLE_COUNT = sql_metric("COUNT(*)", "target tables")  # one view row per table
TOTAL_RECORDS = sql_metric("SUM(target_records)", "records")
FAILURE_COLUMNS = [
    "record_time",
    "domain",
    "source_object",
    "target_object",
    "error_message",
    "asset_key",
    "partition_key",
]
REJECT_COLUMNS = [
    "record_time",
    "domain",
    "asset_key",
    "partition_key",
    "rejected_rows",
    "error_message",
]


def _daily_records() -> Chart:
    """Bars of source and target rows per day, the target/source ratio as a line."""
    params = {
        "viz_type": "mixed_timeseries",
        "x_axis": "record_day",
        "time_grain_sqla": "P1D",
        "metrics": [SOURCE_ROWS, TARGET_ROWS],
        "metrics_b": [TARGET_RATIO],
        "groupby": [],
        "groupby_b": [],
        "adhoc_filters": [_time_filter()],
        "adhoc_filters_b": [_time_filter()],
        "seriesType": "bar",
        "seriesTypeB": "line",
        "yAxisIndex": 0,
        "yAxisIndexB": 1,
        "show_value": False,
        "show_valueB": True,
        "markerEnabledB": True,
        "row_limit": 10000,
        "row_limit_b": 10000,
        "y_axis_format": "SMART_NUMBER",
        "y_axis_format_secondary": ".1%",
        "x_axis_time_format": "%Y-%m-%d",
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "rich_tooltip": True,
        "truncate_metric": True,
        "zoomable": False,
    }
    queries = [
        _query(
            columns=["record_day"],
            metrics=[SOURCE_ROWS, TARGET_ROWS],
            filterable=True,
            orderby=[["record_day", True]],
        ),
        _query(
            columns=["record_day"],
            metrics=[TARGET_RATIO],
            filterable=True,
            orderby=[["record_day", True]],
        ),
    ]
    return Chart(
        "daily_records",
        "Daily ELT records",
        "daily_records",
        "mixed_timeseries",
        params,
        queries,
        width=12,
        description="Source vs target rows per day; the line is target/source "
        "(the filtering/transformation ratio).",
    )


def _recent_failures() -> Chart:
    params = {
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": FAILURE_COLUMNS,
        "order_by_cols": [json.dumps(["record_time", False])],
        "adhoc_filters": [_time_filter()],
        "row_limit": 100,
        "server_page_length": 10,
        "table_timestamp_format": "%Y-%m-%d %H:%M:%S",
        "include_search": True,
        "show_cell_bars": False,
    }
    query = _query(
        columns=FAILURE_COLUMNS,
        metrics=[],
        filterable=True,
        orderby=[["record_time", False]],
        row_limit=100,
    )
    return Chart(
        "recent_failures",
        "Recent ELT failures",
        "recent_failures",
        "table",
        params,
        [query],
        width=12,
        description=(
            "Failed operations and overdue tables (status overdue: a month not loaded by its "
            "due day), newest first: rerun them, spot repeats."
        ),
    )


def _loads_with_rejects() -> Chart:
    params = {
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": REJECT_COLUMNS,
        "order_by_cols": [json.dumps(["record_time", False])],
        "adhoc_filters": [_time_filter()],
        "row_limit": 100,
        "server_page_length": 10,
        "table_timestamp_format": "%Y-%m-%d %H:%M:%S",
        "include_search": True,
        "show_cell_bars": False,
    }
    query = _query(
        columns=REJECT_COLUMNS,
        metrics=[],
        filterable=True,
        orderby=[["record_time", False]],
        row_limit=100,
    )
    return Chart(
        "loads_with_rejects",
        "ELT loads with rejects",
        "loads_with_rejects",
        "table",
        params,
        [query],
        width=12,
        description="Loads that published a month but left rows in gold/rejects "
        "(valid: every source row is accounted for), newest first: "
        "rejected rows and the first reason.",
    )


ELAPSED = sql_metric("SUM(elapsed_seconds)", "seconds")


def _daily_time() -> Chart:
    """Stacked bars of seconds per day, one series per target table: where the time goes."""
    params = {
        "viz_type": "echarts_timeseries_bar",
        "x_axis": "record_day",
        "time_grain_sqla": "P1D",
        "x_axis_time_format": "%Y-%m-%d",
        "metrics": [ELAPSED],
        "groupby": ["target_table"],
        "adhoc_filters": [_time_filter()],
        "row_limit": 10000,
        "truncate_metric": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "show_value": False,
        "rich_tooltip": True,
        "y_axis_format": ",.1f",
        "x_axis_sort_asc": True,
        "orientation": "vertical",
        "stack": "Stack",
        "zoomable": False,
    }
    query = _query(
        columns=["record_day", "target_table"],
        metrics=[ELAPSED],
        filterable=True,
        orderby=[["record_day", True]],
    )
    query["series_columns"] = ["target_table"]
    return Chart(
        "daily_time",
        "ELT time per target table",
        "daily_time",
        "echarts_timeseries_bar",
        params,
        [query],
        width=12,
        description="Seconds spent loading each target table per day (each month's own "
        "share of its step: a range step counts once): where the time goes.",
    )


CHARTS: tuple[Chart, ...] = (
    _big_number(
        "target_tables",
        "ELT target tables",
        "target_tables",
        TARGET_TABLE_COUNT,
        "Distinct target tables.",
    ),
    _big_number(
        "total_records",
        "ELT records",
        "total_records",
        TOTAL_RECORDS,
        "Rows written to targets (known counts).",
    ),
    Chart(
        "status_split",
        "ELT status",
        "status_split",
        "pie",
        {
            "viz_type": "pie",
            "groupby": ["outcome"],
            "metric": OPERATIONS,
            "adhoc_filters": [_time_filter()],
            "row_limit": 100,
            "sort_by_metric": True,
            "show_labels": True,
            "show_legend": True,
            "label_type": "key_value_percent",
            "number_format": "SMART_NUMBER",
            "donut": False,
            "outerRadius": 70,
            "labels_outside": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "label_colors": dict(OUTCOME_COLORS),
        },
        [
            _query(
                columns=["outcome"],
                metrics=[OPERATIONS],
                filterable=True,
                orderby=[["outcome", True]],
            )
        ],
        description="Success vs failure: counts and share.",
    ),
    _bar(
        "status_by_domain",
        "ELT status by domain",
        "status_by_domain",
        "domain",
        [SUCCESS, FAILURE],
        temporal=False,
        stacked=True,
        description="Successful and failed operations per domain.",
    ),
    _bar(
        "daily_operations",
        "Daily ELT operations",
        "daily_operations",
        "record_day",
        [SUCCESS, FAILURE],
        temporal=True,
        stacked=True,
        description="Successful and failed operations per day (UTC).",
    ),
    _daily_records(),
    _recent_failures(),
    _loads_with_rejects(),
    _daily_time(),
)
"""The reference dashboard's seven charts, in its order, then the loads with rejects and the
time per target table per day."""

_CHART_IDS = {chart.key: index for index, chart in enumerate(CHARTS, start=1)}
"""Bundle-local chart ids: the import maps them (via the position's uuids) to real ids."""


# -- native filters ---------------------------------------------------------------------
def _native_filter(
    key: str, name: str, filter_type: str, column: str | None, description: str
) -> dict[str, Any]:
    excluded = [_CHART_IDS[c.key] for c in CHARTS if not c.filterable]
    in_scope = [_CHART_IDS[c.key] for c in CHARTS if c.filterable]
    targets: list[dict[str, Any]] = [{}]
    control_values: dict[str, Any] = {}
    if column is not None:
        targets = [
            {"datasetUuid": stable_uuid("dataset", "status_split"), "column": {"name": column}}
        ]
        control_values = {
            "enableEmptyFilter": False,
            "defaultToFirstItem": False,
            "multiSelect": True,
            "searchAllOptions": False,
            "inverseSelection": False,
        }
    return {
        "id": f"NATIVE_FILTER-{key}",
        "name": name,
        "filterType": filter_type,
        "targets": targets,
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "controlValues": control_values,
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
        "chartsInScope": in_scope,
        "tabsInScope": [],
        "type": "NATIVE_FILTER",
        "description": description,
    }


NATIVE_FILTERS: tuple[dict[str, Any], ...] = (
    _native_filter(
        "time_range", "Time range", "filter_time", None, "Record time of the ELT operations."
    ),
    _native_filter(
        "valid",
        "Valid (success / failure)",
        "filter_select",
        "outcome",
        "Successful or failed operations.",
    ),
    _native_filter("domain", "Domain", "filter_select", "domain", "Data set domain."),
)


# -- layout and files -------------------------------------------------------------------
def _rows() -> list[list[Chart]]:
    """Charts packed left to right into rows of 12 grid columns."""
    rows: list[list[Chart]] = [[]]
    used = 0
    for chart in CHARTS:
        if used + chart.width > 12:
            rows.append([])
            used = 0
        rows[-1].append(chart)
        used += chart.width
    return rows


def _position() -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
    }
    for index, row in enumerate(_rows(), start=1):
        row_id = f"ROW-{index}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for chart in row:
            chart_id = f"CHART-{chart.key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "width": chart.width,
                    "height": chart.height,
                    "chartId": _CHART_IDS[chart.key],
                    "sliceName": chart.title,
                    "uuid": stable_uuid("chart", chart.key),
                },
            }
    return position


def _database(database_uri: str) -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": database_uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            "engine_params": {},
            "schemas_allowed_for_file_upload": [],
        },
        "uuid": stable_uuid("database", DATABASE_NAME),
        "version": _VERSION,
    }


def _dataset(view: str, columns: tuple[Column, ...]) -> dict[str, Any]:
    names = {c.name for c in columns}
    return {
        "table_name": view,
        "main_dttm_col": TIME_COLUMN if TIME_COLUMN in names else None,
        "description": f"View {SCHEMA}.{view} over public.elt_manager_log.",
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": stable_uuid("dataset", view),
        "metrics": [
            {
                "metric_name": "count",
                "verbose_name": "COUNT(*)",
                "metric_type": "count",
                "expression": "COUNT(*)",
                "description": None,
                "d3format": None,
                "extra": None,
                "warning_text": None,
            }
        ],
        "columns": [
            {
                "column_name": c.name,
                "verbose_name": None,
                "is_dttm": c.is_dttm,
                "is_active": True,
                "type": c.type,
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": None,
                "python_date_format": None,
                "extra": None,
            }
            for c in columns
        ],
        "version": _VERSION,
        "database_uuid": stable_uuid("database", DATABASE_NAME),
    }


def _chart(chart: Chart) -> dict[str, Any]:
    params = {
        **chart.params,
        "datasource": f"{chart.dataset}__table",
        "slice_id": _CHART_IDS[chart.key],
    }
    query_context = {
        "datasource": {"type": "table"},
        "force": False,
        "queries": chart.queries,
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.description or None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": params,
        "query_context": json.dumps(query_context, sort_keys=True),
        "cache_timeout": None,
        "uuid": stable_uuid("chart", chart.key),
        "version": _VERSION,
        "dataset_uuid": stable_uuid("dataset", chart.dataset),
    }


def _dashboard() -> dict[str, Any]:
    return {
        "dashboard_title": DASHBOARD_TITLE,
        "description": None,
        "css": "",
        "slug": DASHBOARD_SLUG,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": stable_uuid("dashboard", DASHBOARD_SLUG),
        "position": _position(),
        "metadata": {
            "native_filter_configuration": list(NATIVE_FILTERS),
            "chart_configuration": {},
            "global_chart_configuration": {
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "chartsInScope": list(_CHART_IDS.values()),
            },
            "cross_filters_enabled": False,
            "color_scheme": "",
            "refresh_frequency": 0,
            "expanded_slices": {},
            # Success green, failure red in every chart, whatever the colour scheme.
            "label_colors": dict(OUTCOME_COLORS),
            "timed_refresh_immune_slices": [],
            "shared_label_colors": [],
            "color_scheme_domain": [],
        },
        "version": _VERSION,
    }


def bundle_files(database_uri: str) -> dict[str, dict[str, Any]]:
    """Every file of the bundle (path inside the bundle -> YAML content)."""
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": _VERSION, "type": "assets", "timestamp": _FIXED_TIMESTAMP},
        DATABASE_FILE: _database(database_uri),
    }
    for view, columns in DATASETS.items():
        files[f"datasets/{DATABASE_NAME}/{view}.yaml"] = _dataset(view, columns)
    for chart in CHARTS:
        files[f"charts/{chart.key}.yaml"] = _chart(chart)
    files[f"dashboards/{DASHBOARD_SLUG}.yaml"] = _dashboard()
    return files


def build_bundle(database_uri: str) -> bytes:
    """The import ZIP for ``database_uri`` (a SQLAlchemy URI whose password is masked)."""
    if f":{MASKED_PASSWORD}@" not in database_uri and "@" in database_uri.split("//", 1)[-1]:
        user_part = database_uri.split("//", 1)[-1].split("@", 1)[0]
        if ":" in user_part:
            raise ValueError("the bundle's database URI must not carry a password; mask it")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in bundle_files(database_uri).items():
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{path}", date_time=(2024, 1, 1, 0, 0, 0))
            text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
            archive.writestr(info, text)
    return buffer.getvalue()
