"""Station enrichment: passenger rows get the station master's id and coordinates.

The join is the one the passenger spec declares (``DatasetSpec.station_join``: by default
on (line, station name)). The distinct pairs of the load (a few hundred) are resolved in
Python by the matching rules of ``assets/station_match.py`` (lines normalised by rule,
names with or without their parenthesised part when unique on the line, historical
renames from ``datasets/station_renames.csv``, and the master spec's declared aliases);
the resolved pairs (a small local relation) are joined on the spelling the file wrote.
Gold and the mart keep the names as the files wrote them.

How much of a month the join covers is measured on the gold frame before it is written
(one small aggregate: one row per month, line and station), reported as numeric metadata
on each month's gold materialization (``enrichment/boardings_matched_pct`` …) and checked
by the warning check ``stations_matched``, which lists the unmatched pairs with their
boardings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from subway_platform.assets.station_match import MasterStation, StationIndex, match_pairs
from subway_platform.checks import STATIONS_MATCHED
from subway_platform.datasets import DatasetSpec, StationJoin
from subway_platform.partitions import MONTH_COLUMN

LISTED_PAIRS = 50
"""Unmatched (line, station) pairs listed in the check's metadata, most boardings first."""
_LINE_KEY = "_line_key"
_STATION_KEY = "_station_key"


def station_index(station: DataFrame, master: DatasetSpec) -> StationIndex:
    """The station master (a small table) collected and indexed with the matching rules
    (``assets/station_match.py``) and the master spec's declared aliases."""
    rows = station.select("line_no", "station_name", "station_id", "latitude", "longitude")
    return StationIndex(
        (
            MasterStation(
                str(r["line_no"] or ""),
                str(r["station_name"] or ""),
                None if r["station_id"] is None else str(r["station_id"]),
                r["latitude"],
                r["longitude"],
            )
            for r in rows.collect()
            if r["line_no"] is not None and r["station_name"] is not None
        ),
        master.line_aliases,
        master.station_aliases,
    )


def match_table(
    gold: DataFrame, station: DataFrame, join: StationJoin, master: DatasetSpec
) -> tuple[DataFrame, dict[tuple[str, str], str]]:
    """The distinct (line, station) pairs of ``gold`` resolved by the matching rules: a
    small frame keyed by the pair as the file wrote it (with ``_station_id``, ``latitude``,
    ``longitude``), and the unmatched pairs with the reason no rule matched them."""
    index = station_index(station, master)
    pairs = {
        (str(r[0]), str(r[1]))
        for r in gold.select(join.line_column, join.station_column).distinct().collect()
        if r[0] is not None and r[1] is not None
    }
    matched, unmatched = match_pairs(index, sorted(pairs))
    schema = StructType(
        [
            StructField(_LINE_KEY, StringType(), False),
            StructField(_STATION_KEY, StringType(), False),
            StructField("_station_id", StringType(), True),
            StructField("latitude", DoubleType(), True),
            StructField("longitude", DoubleType(), True),
        ]
    )
    rows = [
        (
            line,
            name,
            s.station_id,
            None if s.latitude is None else float(s.latitude),
            None if s.longitude is None else float(s.longitude),
        )
        for (line, name), s in sorted(matched.items())
    ]
    return gold.sparkSession.createDataFrame(rows, schema), unmatched


def with_station(
    gold: DataFrame, station: DataFrame | None, join: StationJoin, master: DatasetSpec
) -> DataFrame:
    """Left-join station id and coordinates on (line, station name) as resolved by the
    matching rules; never loses or multiplies a row (one lookup row per pair). Without a
    station table the columns are null."""
    return with_station_matched(gold, station, join, master)[0]


def with_station_matched(
    gold: DataFrame, station: DataFrame | None, join: StationJoin, master: DatasetSpec
) -> tuple[DataFrame, dict[tuple[str, str], str]]:
    """``with_station``, and the (line, station) pairs no rule matched with the reason
    (``not on the line``, ``ambiguous: …``, ``line … not in the station master``; empty
    without a station table), for ``stations_matched_result``'s ``reasons``."""
    own = F.col("station_id") if "station_id" in gold.columns else F.lit(None).cast("string")
    if station is None:
        return (
            gold.withColumn("station_id", own)
            .withColumn("latitude", F.lit(None).cast("double"))
            .withColumn("longitude", F.lit(None).cast("double"))
        ), {}
    lookup, unmatched = match_table(gold, station, join, master)
    keyed = gold.withColumn(_LINE_KEY, F.col(join.line_column)).withColumn(
        _STATION_KEY, F.col(join.station_column)
    )
    joined = keyed.join(lookup, on=[_LINE_KEY, _STATION_KEY], how="left")
    enriched = joined.withColumn("station_id", F.coalesce(own, F.col("_station_id"))).drop(
        "_station_id", _LINE_KEY, _STATION_KEY
    )
    return enriched, unmatched


@dataclass
class MonthCoverage:
    """One month of enriched gold: its rows and boardings, and how many got a station."""

    rows: int = 0
    matched_rows: int = 0
    boardings: int = 0
    matched_boardings: int = 0
    alightings: int = 0
    unmatched: dict[tuple[str, str], int] = field(default_factory=dict)
    """(line, station) as written in the file -> boardings, for pairs that got no station."""

    @property
    def boardings_matched_pct(self) -> float:
        return (
            100.0
            if not self.boardings
            else round(100.0 * self.matched_boardings / self.boardings, 3)
        )

    @property
    def rows_matched_pct(self) -> float:
        return 100.0 if not self.rows else round(100.0 * self.matched_rows / self.rows, 3)

    def metadata(self) -> dict[str, float | int]:
        """Numeric metadata of the month's gold materialization (Dagster plots its history)."""
        return {
            "enrichment/boardings_matched_pct": self.boardings_matched_pct,
            "enrichment/rows_matched_pct": self.rows_matched_pct,
            "enrichment/unmatched_boardings": self.boardings - self.matched_boardings,
            "enrichment/unmatched_pairs": len(self.unmatched),
        }


def _total(frame_columns: tuple[str, ...]) -> Column:
    """The row's total of ``frame_columns`` (nulls as 0; 0 when there are none)."""
    total: Column = F.lit(0).cast("bigint")
    for name in frame_columns:
        total = total + F.coalesce(F.col(name), F.lit(0))
    return total


def coverage(spec: DatasetSpec, frame: DataFrame, months: list[str]) -> dict[str, MonthCoverage]:
    """Per month (``""`` when unpartitioned): rows, boardings and alightings of the enriched
    gold ``frame``, and the share with a station id and coordinates. Boardings and
    alightings are the columns the spec logs as ``pass_in_sum`` and ``pass_out_sum``."""
    assert spec.station_join is not None
    join = spec.station_join
    sums = spec.log_sums
    matched = (
        F.col("station_id").isNotNull()
        & F.col("latitude").isNotNull()
        & F.col("longitude").isNotNull()
    )
    month = F.col(MONTH_COLUMN) if months else F.lit("")
    grouped = frame.groupBy(
        month.alias("_k"),
        F.col(join.line_column).alias("_line"),
        F.col(join.station_column).alias("_station"),
        matched.alias("_matched"),
    ).agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(_total(sums.get("pass_in_sum", ()))).cast("bigint").alias("boardings"),
        F.sum(_total(sums.get("pass_out_sum", ()))).cast("bigint").alias("alightings"),
    )
    out: dict[str, MonthCoverage] = {m: MonthCoverage() for m in months}
    for row in grouped.collect():
        cov = out.setdefault(str(row["_k"] or ""), MonthCoverage())
        rows, boardings = int(row["rows"]), int(row["boardings"] or 0)
        cov.rows += rows
        cov.boardings += boardings
        cov.alightings += int(row["alightings"] or 0)
        if row["_matched"]:
            cov.matched_rows += rows
            cov.matched_boardings += boardings
        else:
            pair = (str(row["_line"]), str(row["_station"]))
            cov.unmatched[pair] = cov.unmatched.get(pair, 0) + boardings
    return out


def stations_matched_result(
    spec: DatasetSpec,
    per_month: dict[str, MonthCoverage],
    reasons: Mapping[tuple[str, str], str] | None = None,
) -> dg.AssetCheckResult:
    """Warning check: every month has at least ``spec.station_match_target_pct`` % of its
    boardings with a station id and coordinates. Lists the unmatched (line, station) pairs
    (as the file wrote them) with their boardings, whether it passes or not, and why no
    matching rule took each when ``reasons`` (from ``with_station_matched``) is given."""
    target = spec.station_match_target_pct
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    problems: dict[str, list[str]] = {}
    for month, cov in sorted(per_month.items()):
        for (line, name), boardings in cov.unmatched.items():
            entry = pairs.setdefault(
                (line, name), {"line_no": line, "station_name": name, "boardings": 0, "months": []}
            )
            if reasons and (line, name) in reasons:
                entry["reason"] = reasons[(line, name)]
            entry["boardings"] += boardings
            entry["months"].append(month)
        if cov.boardings_matched_pct < target:
            problems[month] = [
                f"{cov.boardings_matched_pct:.2f}% of {cov.boardings} boardings have a station "
                f"(target {target}%)"
            ]
    listed = sorted(
        pairs.values(), key=lambda p: (-p["boardings"], p["line_no"], p["station_name"])
    )
    lowest = min(
        per_month.items(), key=lambda kv: kv[1].boardings_matched_pct, default=("", MonthCoverage())
    )
    shown = ", ".join(f"{p['line_no']} {p['station_name']} ({p['boardings']})" for p in listed[:5])
    description = (
        f"lowest month {lowest[0] or 'table'}: {lowest[1].boardings_matched_pct:.3f}% of boardings "
        f"have a station (target {target}%); {len(listed)} unmatched (line, station) pairs"
        + (f": {shown}" if shown else "")
    )
    if problems:
        description = "; ".join(f"{m}: {p[0]}" for m, p in problems.items()) + "; " + description
    metadata: dict[str, Any] = {
        "boardings_matched_pct_min": lowest[1].boardings_matched_pct,
        "unmatched_boardings": sum(p["boardings"] for p in listed),
        "unmatched_pairs": len(listed),
        "unmatched": dg.MetadataValue.json(listed[:LISTED_PAIRS]),
        "per_partition": dg.MetadataValue.json(
            {m: c.metadata() for m, c in sorted(per_month.items())}
        ),
    }
    if problems:
        metadata["problems"] = dg.MetadataValue.json(problems)
    return dg.AssetCheckResult(
        check_name=STATIONS_MATCHED,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description=description[:1000],
        metadata=metadata,
    )
