"""Parsing passenger counts as the portal writes them, one value or a whole column.

The rules (mirrored in Spark SQL by the gold transformation, so keep both in step):

1. Trim surrounding spaces and tabs (only those two characters).
2. The rest must match ``^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\\.0*)?$``: ASCII digits,
   optionally grouped in thousands by commas, optionally followed by a point and zeros
   only. So ``6199``, ``34944.0`` (the CSV reader already removed the quotes of
   ``"34944.0"``), ``9,080``, `` 12 `` and ``7.`` are accepted.
3. The value is the integer part with the commas removed; it must have at most 18 digits
   (so it always fits a signed 64-bit integer).
4. Anything else is *unparseable* and yields None (null): empty or blank text, a sign
   (``-3``, ``+3``), a fraction that is not zero (``12.5``), exponents (``1e3``),
   misplaced commas (``90,80``), letters.

Spark SQL equivalent of one value ``v`` (for reference)::

    CASE WHEN regexp_like(trim(BOTH ' \\t' FROM v),
                          '^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\\.0*)?$')
          AND length(regexp_replace(regexp_replace(trim(BOTH ' \\t' FROM v),
                                                   '\\..*$', ''), ',', '')) <= 18
         THEN CAST(regexp_replace(regexp_replace(trim(BOTH ' \\t' FROM v),
                                                 '\\..*$', ''), ',', '') AS BIGINT)
    END
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

COUNT_PATTERN = r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.0*)?$"
"""A count after trimming: digits, optional thousands commas, optional ``.0…``."""
MAX_COUNT_DIGITS = 18
"""Longest integer part accepted; 18 digits always fit a signed 64-bit integer."""
TRIM_CHARACTERS = " \t"
_EXACT_FLOAT_CHARS = 15

_COUNT_RE = re.compile(COUNT_PATTERN)


def parse_count(text: str | None) -> int | None:
    """A passenger count from its text in a landing file, or None when unparseable.

    ``"6199"`` -> 6199, ``"34944.0"`` -> 34944, ``"9,080"`` -> 9080, ``" 12 "`` -> 12;
    ``""``, ``"abc"``, ``"-3"``, ``"12.5"`` -> None. See the module docstring for the
    exact rules, which Spark SQL mirrors.
    """
    if text is None:
        return None
    trimmed = text.strip(TRIM_CHARACTERS)
    if not _COUNT_RE.match(trimmed) or trimmed.endswith("\n"):
        # ``$`` in Python also matches before a final newline; RE2 (pyarrow) does not.
        return None
    digits = trimmed.split(".", 1)[0].replace(",", "")
    if len(digits) > MAX_COUNT_DIGITS:
        return None
    return int(digits)


def parse_count_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`parse_count` over a string column: an int64 column, null where
    the text is unparseable (or null). Used to sum counts at staging speed."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [parse_count_array(chunk) for chunk in values.chunks], type=pa.int64()
        )
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim(values, characters=TRIM_CHARACTERS)
    well_formed = pc.match_substring_regex(trimmed, COUNT_PATTERN)
    if pc.any(pc.match_substring(trimmed, ",")).as_py():
        trimmed = pc.replace_substring(trimmed, ",", "")
    candidates = pc.if_else(well_formed, trimmed, pa.scalar(None, pa.string()))
    longest = pc.max(pc.utf8_length(candidates)).as_py()
    if longest is None:
        return pa.nulls(len(values), pa.int64())
    if longest <= _EXACT_FLOAT_CHARS:
        # Fast path: every candidate is digits with an optional ".0…", at most 15
        # characters, so a float64 holds it exactly and the cast gives the same integer
        # as cutting at the point (a regex replace would cost ten times more).
        return pc.cast(pc.cast(candidates, pa.float64()), pa.int64())
    digits = pc.replace_substring_regex(candidates, r"\..*$", "")
    short_enough = pc.less_equal(pc.utf8_length(digits), MAX_COUNT_DIGITS)
    # Only valid texts reach the cast, which would fail on anything else.
    return pc.cast(pc.if_else(short_enough, digits, pa.scalar(None, pa.string())), pa.int64())
