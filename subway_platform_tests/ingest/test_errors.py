"""LandingFileError carries the file, line and problem, and survives pickling."""

from __future__ import annotations

import pickle

from subway_platform.ingest.errors import LandingFileError


def test_message_names_file_line_and_problem() -> None:
    error = LandingFileError(
        "CARD_SUBWAY_MONTH_201907.csv",
        "expected 6 fields, found 3 (truncated upload?)",
        row=18335,
    )
    assert str(error) == (
        "CARD_SUBWAY_MONTH_201907.csv: line 18335: expected 6 fields, found 3 (truncated upload?)"
    )
    assert isinstance(error, ValueError)
    assert (error.file_name, error.row, error.field) == (
        "CARD_SUBWAY_MONTH_201907.csv",
        18335,
        None,
    )


def test_message_without_line_and_pickling() -> None:
    error = LandingFileError("x.csv", "empty file", field="역명")
    assert str(error) == "x.csv: empty file"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file_name, copy.problem, copy.row, copy.field) == (
        "x.csv",
        "empty file",
        None,
        "역명",
    )
    assert str(copy) == str(error)
