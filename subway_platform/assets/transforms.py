"""Spark expressions that turn bronze text into typed gold values, with a reason per reject.

The parsing rules mirror ``ingest.values.parse_count`` exactly, so the sums computed while
staging a landing file and the sums of gold agree to the passenger.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from subway_platform.datasets import DatasetSpec
from subway_platform.datasets.hourly import HOURS
from subway_platform.ingest.values import COUNT_PATTERN, MAX_COUNT_DIGITS
from subway_platform.partitions import MONTH_COLUMN


def _trim_spaces_tabs(col: Column) -> Column:
    return F.regexp_replace(col, r"^[ \t]+|[ \t]+$", "")


def count_value(col: Column) -> Column:
    """Non-negative integer from text such as ``6199``, ``34944.0`` or ``9,080``; else null.

    Exactly the rules of ``ingest.values.parse_count`` (trim spaces/tabs, thousands commas
    only in groups of three, only zeros after a point, at most 18 digits).
    """
    trimmed = _trim_spaces_tabs(col)
    digits = F.regexp_replace(F.regexp_replace(trimmed, r"\..*$", ""), ",", "")
    return F.when(
        trimmed.rlike(COUNT_PATTERN) & (F.length(digits) <= MAX_COUNT_DIGITS),
        digits.cast("bigint"),
    )


def date_value(col: Column) -> Column:
    """DATE from ``YYYYMMDD`` (or ``YYYY-MM-DD``); null when not a real date."""
    digits = F.regexp_replace(F.trim(col), "-", "")
    return F.when(digits.rlike(r"^[0-9]{8}$"), F.to_date(digits, "yyyyMMdd"))


def station_id_value(col: Column) -> Column:
    """Station id text with leading zeros removed (``0150`` and ``150`` are one station)."""
    trimmed = F.trim(col)
    # Sail's regex engine has no look-ahead: strip all zeros, then restore a lone "0".
    stripped = F.regexp_replace(trimmed, r"^0+", "")
    return F.when(trimmed != "", F.when(stripped == "", F.lit("0")).otherwise(stripped))


def text_value(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed != "", trimmed)


def float_value(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed.rlike(r"^-?[0-9]+(\.[0-9]+)?$"), trimmed.cast("double"))


def _problem(name: str, raw: Column, parsed: Column, required: bool) -> Column:
    """``'<field>: <value>'`` when a present value does not parse (or a required one is empty)."""
    shown = F.coalesce(F.substring(raw, 1, 40), F.lit("<empty>"))
    bad = parsed.isNull() & (raw.isNotNull() & (F.trim(raw) != "") if not required else F.lit(True))
    return F.when(bad, F.concat(F.lit(f"{name}: bad value '"), shown, F.lit("'")))


def typed_columns(spec: DatasetSpec, bronze: DataFrame) -> DataFrame:
    """Bronze rows with typed gold columns and ``_reject_reason`` (null for good rows)."""
    parsers = {
        "text": text_value,
        "date": date_value,
        "count": count_value,
        "float": float_value,
        "station_id": station_id_value,
        "month": text_value,
    }
    typed: list[Column] = []
    problems: list[Column] = []
    for col in spec.columns:
        raw = F.col(col.name)
        parsed = parsers[col.kind](raw)
        typed.append(
            parsed.alias(col.target) if col.target != MONTH_COLUMN else parsed.alias("_month_value")
        )
        problems.append(_problem(col.target, raw, parsed, col.required))
    if spec.partitioned and spec.month_column is not None:
        month_col = spec.column(spec.month_column)
        if month_col.kind == "date":
            parsed_month = F.date_format(date_value(F.col(month_col.name)), "yyyyMM")
        else:
            parsed_month = F.trim(F.col(month_col.name))
        problems.append(
            F.when(
                parsed_month.isNotNull() & (parsed_month != F.col(MONTH_COLUMN)),
                F.concat(F.lit("row belongs to month "), parsed_month),
            )
        )
    reason = F.concat_ws("; ", *problems)
    keep = [MONTH_COLUMN] if spec.partitioned else []
    return bronze.select(
        *[F.col(c) for c in keep],
        *typed,
        F.col("_source_object"),
        F.col("_source_row"),
        F.when(reason != "", reason).alias("_reject_reason"),
    )


def rejects_of(spec: DatasetSpec, bronze: DataFrame, typed: DataFrame) -> DataFrame:
    """Rows gold cannot use, with the reason and the source position."""
    cols = [F.col(MONTH_COLUMN)] if spec.partitioned else []
    return typed.filter(F.col("_reject_reason").isNotNull()).select(
        *cols,
        F.col("_source_object"),
        F.col("_source_row"),
        F.col("_reject_reason").alias("reason"),
    )


def unpivot_hours(typed: DataFrame) -> DataFrame:
    """Hourly wide rows (``h04_in`` … ``h03_out``) -> one row per hour: hour, pass_in, pass_out."""
    cells = F.array(
        *[
            F.struct(
                F.lit(hour).alias("hour"),
                F.col(f"h{hour:02d}_in").alias("pass_in"),
                F.col(f"h{hour:02d}_out").alias("pass_out"),
            )
            for hour in HOURS
        ]
    )
    base = [c for c in typed.columns if not c.startswith("h") or not c[1:3].isdigit()]
    return typed.select(*base, F.explode(cells).alias("_cell")).select(
        *base,
        F.col("_cell.hour").alias("hour"),
        F.col("_cell.pass_in").alias("pass_in"),
        F.col("_cell.pass_out").alias("pass_out"),
    )
