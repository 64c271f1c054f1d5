"""What the lake holds for the re-enrichment rule, read through delta-rs (no engine).

The passenger gold months' distinct (line, station, station_id, latitude, longitude) with
their rows, and the station master's stations: small aggregates and a small table, read
by the sensor's tick and again by the re-enrichment step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from subway_platform.assets.station_match import MasterStation, StationIndex
from subway_platform.datasets import DatasetSpec
from subway_platform.partitions import MONTH_COLUMN
from subway_platform.reenrichment.affected import StoredGroup
from subway_platform.stores.delta_log import open_delta

if TYPE_CHECKING:
    import pyarrow as pa

ENRICHMENT_COLUMNS = ("station_id", "latitude", "longitude")


def _table(url: str, options: Mapping[str, str], columns: list[str]) -> pa.Table | None:
    table = open_delta(url, options)
    if table is None:
        return None
    dataset = table.to_pyarrow_dataset()
    present = set(dataset.schema.names)
    return dataset.to_table(columns=[c for c in columns if c in present])


def stored_enrichment(
    spec: DatasetSpec, url: str, options: Mapping[str, str], months: list[str] | None = None
) -> dict[str, dict[StoredGroup, int]]:
    """Month -> (line, station, stored enrichment) -> rows of the gold table at ``url``
    (``months``: only those; ``None``: every month it has). Empty when there is no table."""
    import pyarrow.compute as pc

    assert spec.station_join is not None
    join = spec.station_join
    keys = [MONTH_COLUMN, join.line_column, join.station_column, *ENRICHMENT_COLUMNS]
    table = _table(url, options, keys)
    if table is None:
        return {}
    if months is not None:
        table = table.filter(pc.is_in(table[MONTH_COLUMN], value_set=_strings(months)))
    for name in ENRICHMENT_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, _nulls(name, table.num_rows))
    grouped = table.group_by(keys, use_threads=False).aggregate([([], "count_all")])
    out: dict[str, dict[StoredGroup, int]] = {}
    for row in grouped.to_pylist():
        line, station = row[join.line_column], row[join.station_column]
        if line is None or station is None:
            continue
        sid = row["station_id"]
        enrichment = (
            None if sid is None else str(sid),
            row["latitude"],
            row["longitude"],
        )
        month = out.setdefault(str(row[MONTH_COLUMN]), {})
        group = (str(line), str(station), enrichment)
        month[group] = month.get(group, 0) + int(row["count_all"])
    return out


def master_index(url: str, options: Mapping[str, str], master: DatasetSpec) -> StationIndex:
    """The station master at ``url`` indexed by the matching rules (as the gold step does,
    ``assets/enrichment.station_index``); an empty index when there is no master."""
    columns = ["line_no", "station_name", "station_id", "latitude", "longitude"]
    table = _table(url, options, columns)
    rows = [] if table is None else table.to_pylist()
    return StationIndex(
        (
            MasterStation(
                str(r["line_no"]),
                str(r["station_name"]),
                None if r.get("station_id") is None else str(r["station_id"]),
                None if r.get("latitude") is None else float(r["latitude"]),
                None if r.get("longitude") is None else float(r["longitude"]),
            )
            for r in rows
            if r.get("line_no") is not None and r.get("station_name") is not None
        ),
        master.line_aliases,
        master.station_aliases,
    )


def _strings(values: list[str]) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, pa.string())


def _nulls(name: str, rows: int) -> pa.Array:
    import pyarrow as pa

    kind = pa.string() if name == "station_id" else pa.float64()
    return pa.nulls(rows, kind)
