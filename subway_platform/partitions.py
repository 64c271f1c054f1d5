"""Month partitions (``YYYYMM``): the partition column, key validation and slicing.

Keys are the same strings as in the landing file names (``CARD_SUBWAY_MONTH_201907.csv``
is partition ``201907``). Every key is validated before it reaches SQL or a path. Every
partitioned table (Delta bronze and gold, the mart, the staged Parquet files) keeps the
month in the text column :data:`MONTH_COLUMN`; both IO managers, staging, the assets and
the checks take the column, the pattern and a step's months from here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

FIRST_MONTH = "201501"

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, fmt="%Y%m", end_offset=0
)
"""One partition per month from 201501 up to the last complete month."""

MONTH_COLUMN = "month"
"""The month partition column of every partitioned table (``YYYYMM`` text)."""

MONTH_PATTERN = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
"""A month key ``YYYYMM`` (1900-2099), as a regular expression without anchors; Python's
``re`` and Arrow's RE2 (staging filters on it) read it the same way."""

_MONTH_RE = re.compile(MONTH_PATTERN)


class InvalidPartitionKey(ValueError):
    """A partition key that is not a month written ``YYYYMM``."""


def validate_month(key: str) -> str:
    """Return ``key`` if it is a month ``YYYYMM`` (e.g. ``201907``), else raise.

    Rejects ``2019-07``, ``201913``, ``201907; DROP …`` and anything that is not exactly
    six ASCII digits forming a real month.
    """
    if not isinstance(key, str) or not key.isascii() or not _MONTH_RE.fullmatch(key):
        shown = repr(key)[:40]
        raise InvalidPartitionKey(
            f"invalid month partition key {shown}: expected YYYYMM, e.g. 201907"
        )
    return key


def months_between(first: str, last: str) -> list[str]:
    """Every month key from ``first`` to ``last`` inclusive."""
    validate_month(first)
    validate_month(last)
    year, month = int(first[:4]), int(first[4:])
    out: list[str] = []
    while (year, month) <= (int(last[:4]), int(last[4:])):
        out.append(f"{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def context_months(
    context: dg.AssetExecutionContext | dg.InputContext | dg.OutputContext,
) -> list[str]:
    """The validated months a step or IO call covers (one, or a single-run range); empty
    for an unpartitioned asset."""
    if isinstance(context, dg.AssetExecutionContext):
        if not (context.has_partition_key or context.has_partition_key_range):
            return []
        key_range = context.partition_key_range
    else:
        if not context.has_asset_partitions:
            return []
        key_range = context.asset_partition_key_range
    return months_between(key_range.start, key_range.end)


def month_bounds(months: list[str]) -> tuple[str, str]:
    """First and last of ``months`` (consecutive, ascending), each validated."""
    return validate_month(months[0]), validate_month(months[-1])


def slice_months(df: DataFrame, months: list[str]) -> DataFrame:
    """The rows of ``df`` in ``months`` (all rows when ``months`` is empty: unpartitioned)."""
    if not months:
        return df
    from pyspark.sql import functions as F

    first, last = month_bounds(months)
    return df.filter(F.col(MONTH_COLUMN).between(first, last))
