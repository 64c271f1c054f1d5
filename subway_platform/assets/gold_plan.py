"""Gold's plan: bronze typed, its good rows merged on the gold key, enriched with stations.

Pure Spark transformations (DataFrame in, DataFrame out): no write, no Spark job. The
typing and the reject policy are ``transforms.py`` (``typed_columns``: each row gets its
``_reject_reason`` or none), the station join is ``enrichment.py``; the figures of a load
are measured by ``gold_figures.py`` and its writes go through the stores
(``gold_publish.py``).
"""

from typing import Any

from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.frames import DataFrame
from subway_platform.partitions import MONTH_COLUMN

GOLD_COLUMN_ORDER = (
    "month",
    "use_date",
    "hour",
    "line_no",
    "station_name",
    "station_id",
    "pass_in",
    "pass_out",
    "source_rows",
    "reg_date",
    "latitude",
    "longitude",
)

StationReasons = dict[tuple[str, str], str]
"""(line, station) as written in the file -> why it got no station (``enrichment.py``)."""


def canonical_order(columns: list[str]) -> list[str]:
    """Gold columns in one fixed order, whatever the plan produced (a join moves its keys
    first), so every write of a table has the same schema."""
    known = [c for c in GOLD_COLUMN_ORDER if c in columns]
    return known + sorted(c for c in columns if c not in GOLD_COLUMN_ORDER)


def good_rows(typed: DataFrame) -> DataFrame:
    """The rows of bronze, typed (``typed_columns``), that the reject policy keeps: those
    without a reject reason, without their source position (gold's rows are merged)."""
    from pyspark.sql import functions as F

    good = typed.filter(F.col("_reject_reason").isNull()).drop(
        "_reject_reason", "_source_object", "_source_row"
    )
    if "_month_value" in good.columns:
        good = good.drop("_month_value")
    return good


def gold_frame(spec: DatasetSpec, typed_good: DataFrame) -> DataFrame:
    """Merge good rows on the gold key: counts summed, merged rows counted in ``source_rows``."""
    from pyspark.sql import functions as F

    from subway_platform.assets.transforms import unpivot_hours

    rows = unpivot_hours(typed_good) if spec.wide_hours else typed_good
    keys = (
        [MONTH_COLUMN, *[k for k in spec.gold_key if k != MONTH_COLUMN]]
        if spec.partitioned
        else list(spec.gold_key)
    )
    aggs: list[Any] = [F.count(F.lit(1)).cast("bigint").alias("source_rows")]
    for name in spec.sum_columns:
        aggs.append(F.sum(name).cast("bigint").alias(name))
    # Every other declared column is carried: one value per key (see DatasetSpec.role).
    pick = {"min": F.min, "max": F.max}
    for name, how in spec.carried_columns().items():
        if name in rows.columns and name not in keys:
            aggs.append(pick[how](name).alias(name))
    return rows.groupBy(*keys).agg(*aggs)


def gold_plan(
    spec: DatasetSpec, typed: DataFrame, station: DataFrame | None
) -> tuple[DataFrame, StationReasons]:
    """Gold's rows from bronze, typed: the good rows merged on the gold key and, for a
    passenger table, given the station id and coordinates of ``station`` (the station
    master's gold table, None when it does not exist yet) by a left join that loses no
    row; columns in the canonical order. Also why each unmatched station got none."""
    frame = gold_frame(spec, good_rows(typed))
    reasons: StationReasons = {}
    join = spec.station_join
    if join is not None:
        from subway_platform.assets.enrichment import with_station_matched

        frame, reasons = with_station_matched(frame, station, join, dataset_named(join.master))
    return frame.select(*canonical_order(frame.columns)), reasons
