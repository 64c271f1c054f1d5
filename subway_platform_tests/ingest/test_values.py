"""parse_count and its vectorised twin must agree and follow the documented rules."""

from __future__ import annotations

import pyarrow as pa
import pytest

from subway_platform.ingest.values import parse_count, parse_count_array

CASES: list[tuple[str | None, int | None]] = [
    ("6199", 6199),
    ("34944.0", 34944),
    ("9,080", 9080),
    ("1,234,567.00", 1234567),
    ("  12\t", 12),
    ("7.", 7),
    ("0", 0),
    ("007", 7),
    ("1" * 18, int("1" * 18)),
    ("", None),
    ("   ", None),
    (None, None),
    ("abc", None),
    ("-3", None),
    ("+3", None),
    ("12.5", None),
    ("1e3", None),
    ("90,80", None),
    ("1,2345", None),
    ("1" * 19, None),
    ("１２", None),  # full-width digits are not ASCII digits
    ("12\n", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_count(text: str | None, expected: int | None) -> None:
    assert parse_count(text) == expected


def test_vectorised_matches_scalar() -> None:
    texts = [text for text, _ in CASES]
    assert parse_count_array(pa.array(texts, pa.string())).to_pylist() == [
        expected for _, expected in CASES
    ]


def test_vectorised_chunked() -> None:
    chunked = pa.chunked_array([["1", "2.0"], ["x", "3,000"]])
    result = parse_count_array(chunked)
    assert result.type == pa.int64()
    assert result.to_pylist() == [1, 2, None, 3000]


def test_vectorised_fast_path_for_short_values() -> None:
    # Without 16+ character values the vectorised parser takes its float fast path.
    short = [(t, e) for t, e in CASES if t is None or len(t.strip(" \t")) <= 15]
    texts = [t for t, _ in short] + ["123456789012345", "12,345,678.0000"]
    expected = [e for _, e in short] + [123456789012345, 12345678]
    assert parse_count_array(pa.array(texts, pa.string())).to_pylist() == expected


def test_vectorised_all_unparseable() -> None:
    assert parse_count_array(pa.array(["", "x", None])).to_pylist() == [None, None, None]


def test_every_canonical_column_name_is_delta_safe() -> None:
    """delta-spark refuses spaces and ``,;{}()=`` in column names without column mapping
    (seen: DELTA_INVALID_CHARACTERS_IN_COLUMN_NAMES on the hourly bronze table); Sail and
    delta-rs accept them. Bronze stores the canonical names, so they must be safe."""
    from subway_platform.datasets import ALL_DATASETS
    from subway_platform.datasets.spec import delta_safe

    for spec in ALL_DATASETS:
        for col in spec.columns:
            assert delta_safe(col.name) == col.name, (spec.name, col.name)
