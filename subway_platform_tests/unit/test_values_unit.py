"""Count parsing cases that ``ingest/test_values.py`` does not already list."""

from __future__ import annotations

import pyarrow as pa
import pytest

from subway_platform.ingest.values import parse_count, parse_count_array

CASES: list[tuple[str, int | None]] = [
    (" 1,000 ", 1000),
    ("\t9,080.000", 9080),
    ("999,999,999,999,999,999", 999_999_999_999_999_999),  # 18 digits: the largest accepted
    ("1,000,000,000,000,000,000", None),  # 19 digits
    ("0.000", 0),
    ("-0", None),
    ("-1,234", None),
    ("\u00a0", None),  # a no-break space is not trimmed
    ("12\u00a0", None),
    ("1 000", None),
    ("1.000,5", None),
    (".5", None),
    ("1.0.0", None),
    ("1,000.5", None),
    (",100", None),
    ("100,", None),
    ("0x1F", None),
    ("NaN", None),
    ("N/A", None),
    ("٣", None),  # an Arabic-Indic digit
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_count_more_cases(text: str, expected: int | None) -> None:
    assert parse_count(text) == expected


def test_vectorised_agrees_on_the_long_path() -> None:
    # 23-character values take the vectorised parser's regex path, not its float fast path.
    texts = [t for t, _ in CASES]
    assert parse_count_array(pa.array(texts)).to_pylist() == [e for _, e in CASES]


def test_vectorised_large_string_and_non_string_columns() -> None:
    assert parse_count_array(pa.array(["1,000", "x"], pa.large_string())).to_pylist() == [
        1000,
        None,
    ]
    # A column Arrow inferred as integers is read through its text.
    assert parse_count_array(pa.array([7, None, 12])).to_pylist() == [7, None, 12]


def test_vectorised_sum_skips_unparseable() -> None:
    import pyarrow.compute as pc

    column = pa.array(["3,862.0", "", "-5", "abc", "3728.0", None])
    assert pc.sum(parse_count_array(column)).as_py() == 3862 + 3728
    assert parse_count_array(column).null_count == 4
