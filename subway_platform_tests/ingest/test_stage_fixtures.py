"""Staging the crafted landing files: every variant the portal has produced, and every
way a file can be unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from subway_platform.datasets import DAILY, HOURLY
from subway_platform.ingest.errors import LandingFileError
from subway_platform.ingest.stage import StagedFile, stage_landing_file

DAILY_NAME = "CARD_SUBWAY_MONTH_201907.csv"
HOURLY_NAME = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv"
# The four rows of make_fixtures.ROWS.
ROWS_IN, ROWS_OUT = 34944 + 28640 + 4475 + 1, 32751 + 28862 + 5589 + 0


def stage(fixtures: Path, tmp_path: Path, name: str, **kwargs: object) -> StagedFile:
    return stage_landing_file(
        fixtures / name,
        tmp_path / "out" / "staged.parquet",
        file_name=kwargs.pop("file_name", DAILY_NAME),  # type: ignore[arg-type]
        spec=kwargs.pop("spec", DAILY),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("daily_utf8_quoted_crlf.csv", "utf-8"),
        ("daily_utf8_bom_unquoted.csv", "utf-8-sig"),
        ("daily_cp949.csv", "cp949"),
        ("daily_mixed_eol.csv", "utf-8"),
        ("daily_trailing_field.csv", "utf-8"),
        ("daily_hoseon_header.csv", "utf-8"),
    ],
)
def test_variants_stage_the_same_rows(
    fixtures: Path, tmp_path: Path, name: str, encoding: str
) -> None:
    staged = stage(fixtures, tmp_path, name)
    assert staged.encoding == encoding
    assert staged.rows == 4
    assert staged.months == {"201907": 4}
    assert staged.sums == {"201907": {"pass_in": ROWS_IN, "pass_out": ROWS_OUT}}
    assert staged.unparseable == {"201907": 0}
    assert staged.columns == [
        "사용일자",
        "노선명",
        "역명",
        "승차총승객수",
        "하차총승객수",
        "등록일자",
    ]
    assert staged.missing_optional == ["역ID"]
    assert staged.extra_columns == []
    table = pq.read_table(staged.parquet_path)
    assert table.column_names == [
        "사용일자",
        "노선명",
        "역ID",
        "역명",
        "승차총승객수",
        "하차총승객수",
        "등록일자",
        "_extra",
        "_source_row",
        "month",
    ]
    assert table.column("역명").to_pylist() == ["종로3가", "종로5가", "서울역", "서울역"]
    assert table.column("노선명").to_pylist() == ["1호선", "1호선", "경의선", "경의선"]
    assert table.column("역ID").null_count == 4
    assert table.column("_extra").null_count == 4
    assert table.column("_source_row").to_pylist() == [2, 3, 4, 5]
    assert table.column("month").to_pylist() == ["201907"] * 4
    assert (
        staged.checksum == __import__("hashlib").sha256((fixtures / name).read_bytes()).hexdigest()
    )


def test_renamed_header_is_reported(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(fixtures, tmp_path, "daily_hoseon_header.csv")
    assert staged.renamed == {"호선명": "노선명"}


def test_thousands_separators_and_spaces(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(fixtures, tmp_path, "daily_thousands.csv")
    assert staged.sums == {"201907": {"pass_in": 9080 + 12, "pass_out": 1234 + 1_000_000}}
    table = pq.read_table(staged.parquet_path)
    # Staging keeps the text as found (unquoted); gold parses it.
    assert table.column("승차총승객수").to_pylist() == ["9,080", "12"]
    assert table.column("하차총승객수").to_pylist() == [" 1,234 ", "1,000,000"]


def test_station_id_and_unknown_column(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(fixtures, tmp_path, "daily_station_id_and_note.csv")
    assert staged.columns[2] == "역ID"
    assert staged.missing_optional == []
    assert staged.extra_columns == ["비고"]
    table = pq.read_table(staged.parquet_path)
    assert table.column("역ID").to_pylist() == ["0150", "151"]
    extras = [json.loads(v) for v in table.column("_extra").to_pylist()]
    assert extras == [{"비고": '공사 "중"'}, {"비고": ""}]
    assert staged.sums["201907"] == {"pass_in": 400, "pass_out": 600}


def test_blank_lines_between_rows_keep_true_line_numbers(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(fixtures, tmp_path, "daily_blank_middle.csv")
    table = pq.read_table(staged.parquet_path)
    assert table.column("_source_row").to_pylist() == [2, 4, 7, 8]
    assert staged.rows == 4


def test_unparseable_counts_are_counted_not_summed(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(fixtures, tmp_path, "daily_unparseable.csv")
    assert staged.rows == 3
    assert staged.sums == {"201907": {"pass_in": 7, "pass_out": 10 + 8}}
    assert staged.unparseable == {"201907": 2}


def test_hourly_file_with_two_months(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(
        fixtures, tmp_path, "hourly_two_months_cp949.csv", file_name=HOURLY_NAME, spec=HOURLY
    )
    assert staged.encoding == "cp949"
    assert staged.months == {"202209": 2, "202210": 3}
    # in = 24 * base + (0 + … + 23); out = 48 * base + (0 + … + 23)
    assert staged.sums == {
        "202209": {"pass_in": 24 * 30 + 2 * 276, "pass_out": 48 * 30 + 2 * 276},
        "202210": {"pass_in": 24 * 120 + 3 * 276, "pass_out": 48 * 120 + 3 * 276},
    }


def test_hourly_month_filter(fixtures: Path, tmp_path: Path) -> None:
    staged = stage(
        fixtures,
        tmp_path,
        "hourly_two_months_cp949.csv",
        file_name=HOURLY_NAME,
        spec=HOURLY,
        months=["202210"],
    )
    assert staged.rows == 3
    assert staged.months == {"202210": 3}
    table = pq.read_table(staged.parquet_path)
    assert table.column("지하철역").to_pylist() == ["동대문", "강남", "서울역"]
    assert table.column("_source_row").to_pylist() == [4, 5, 6]
    assert table.column("23시-24시_승차인원").to_pylist() == ["49", "59", "69"]


def test_month_filter_rejects_invalid_keys(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid month"):
        stage(fixtures, tmp_path, "daily_utf8_quoted_crlf.csv", months=["2019-07"])


@pytest.mark.parametrize(
    ("name", "row", "fragments"),
    [
        ("empty.csv", None, ["empty file"]),
        ("header_only.csv", None, ["header only", "no data rows"]),
        (
            "missing_required.csv",
            1,
            ["missing required column 하차총승객수", "found: 사용일자, 노선명"],
        ),
        ("unknown_layout.csv", 1, ["unknown layout", "found: a, b, c"]),
        ("truncated_last_row.csv", 5, ["expected 6 fields, found 3", "truncated upload?"]),
        ("other_month.csv", 4, ["month 201908", "named for month 201907"]),
        ("invalid_month.csv", 3, ["invalid month value '2019xx01'", "사용일자"]),
        ("undecodable.csv", None, ["cannot decode"]),
    ],
)
def test_unusable_files_fail_clearly_and_write_nothing(
    fixtures: Path, tmp_path: Path, name: str, row: int | None, fragments: list[str]
) -> None:
    with pytest.raises(LandingFileError) as raised:
        stage(fixtures, tmp_path, name)
    error = raised.value
    assert error.file_name == DAILY_NAME
    assert error.row == row
    message = str(error)
    assert message.startswith(f"{DAILY_NAME}: ")
    for fragment in fragments:
        assert fragment in message
    assert not (tmp_path / "out" / "staged.parquet").exists()
    leftovers = list((tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert leftovers == []


def test_failure_keeps_an_existing_staged_file(fixtures: Path, tmp_path: Path) -> None:
    good = stage(fixtures, tmp_path, "daily_utf8_quoted_crlf.csv")
    before = good.parquet_path.read_bytes()
    with pytest.raises(LandingFileError):
        stage(fixtures, tmp_path, "truncated_last_row.csv")
    assert good.parquet_path.read_bytes() == before
