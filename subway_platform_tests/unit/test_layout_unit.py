"""Layout matching (``ingest.layout``) on the real files' headers and on hand-written variants."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from subway_platform.datasets import DAILY, HOURLY, STATION, DatasetSpec
from subway_platform.datasets.hourly import HOURS, hour_label
from subway_platform.ingest.errors import LandingFileError
from subway_platform.ingest.layout import match_layout, read_head
from subway_platform_tests.zone import REAL

DAILY_HEADER = ["사용일자", "노선명", "역명", "승차총승객수", "하차총승객수", "등록일자"]
HOURLY_SPACED = [f"{hour_label(h)} {kind}" for h in HOURS for kind in ("승차인원", "하차인원")]
"""The 48 hour columns as the portal writes them (band, a space, measure)."""


def _real(folder: str) -> list[Path]:
    files = sorted((REAL / folder).glob("*.csv"))
    assert files, f"no real files under {REAL / folder}"
    return files


def _write(tmp_path: Path, data: bytes, name: str = "CARD_SUBWAY_MONTH_201907.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("path", _real("card_subway_month"), ids=lambda p: p.name)
def test_real_daily_headers(path: Path) -> None:
    headers, first = read_head(path, "utf-8", path.name)
    assert headers == DAILY_HEADER  # two names unquoted, the rest quoted: same result
    assert first is not None and first[0].startswith(path.stem[-6:])
    layout = match_layout(headers, first, DAILY, path.name)
    assert layout.canonical == dict(enumerate(DAILY_HEADER))
    assert (layout.extra, layout.unnamed, layout.renamed) == ({}, [], {})
    assert layout.field_count == 6
    assert layout.missing_optional == ["역ID"]


def test_real_hourly_cp949_header() -> None:
    (path,) = _real("card_subway_time")
    headers, first = read_head(path, "cp949", path.name)
    assert headers == ["사용월", "호선명", "지하철역", *HOURLY_SPACED, "작업일자"]
    assert first is not None and first[:3] == ["202210", "1호선", "동대문"]
    layout = match_layout(headers, first, HOURLY, path.name)
    assert layout.field_count == 52
    assert layout.canonical[3] == "04시-05시_승차인원"
    assert layout.canonical[50] == "03시-04시_하차인원"
    assert layout.canonical[51] == "작업일자"
    # A space instead of "_" is the same column (delta_safe), not a rename.
    assert (layout.extra, layout.unnamed, layout.renamed) == ({}, [], {})
    assert layout.missing_optional == ["역ID"]


def test_real_hourly_read_as_utf8_is_refused() -> None:
    (path,) = _real("card_subway_time")
    with pytest.raises(UnicodeDecodeError):
        read_head(path, "utf-8", path.name)


def test_real_station_master_header() -> None:
    (path,) = _real("subway_station")
    headers, first = read_head(path, "utf-8", path.name)
    assert headers == ["역사_ID", "역사명", "호선", "위도", "경도"]
    layout = match_layout(headers, first or [], STATION, path.name)
    assert layout.canonical == dict(enumerate(headers))
    assert (layout.missing_optional, layout.renamed, layout.field_count) == ([], {}, 5)


def test_bom_and_quoted_first_name(tmp_path: Path) -> None:
    header = ",".join(f'"{h}"' for h in DAILY_HEADER)
    path = _write(
        tmp_path, codecs.BOM_UTF8 + f'{header}\r\n"20190701","2호선","역",1,2,x\r\n'.encode()
    )
    headers, first = read_head(path, "utf-8", path.name)
    assert headers[0] == "사용일자"
    assert first == ["20190701", "2호선", "역", "1", "2", "x"]
    assert match_layout(headers, first, DAILY, path.name).canonical[0] == "사용일자"


def test_spaces_around_header_names_are_removed(tmp_path: Path) -> None:
    path = _write(
        tmp_path, " 사용일자 , 노선명,역명 ,승차총승객수,하차총승객수\n1,2,3,4,5\n".encode()
    )
    headers, _ = read_head(path, "utf-8", path.name)
    assert headers == DAILY_HEADER[:5]


@pytest.mark.parametrize(
    "data", [b"", b"\xef\xbb\xbf", b" \r\n\r\n"], ids=["empty", "bom-only", "blank"]
)
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(LandingFileError, match=r"^CARD_SUBWAY_MONTH_201907\.csv: empty file$"):
        read_head(path, "utf-8", path.name)


def test_header_only_file_has_no_first_row(tmp_path: Path) -> None:
    path = _write(tmp_path, (",".join(DAILY_HEADER) + "\n\n").encode())
    assert read_head(path, "utf-8", path.name) == (DAILY_HEADER, None)


def test_reordered_columns_map_by_position() -> None:
    headers = ["역명", "하차총승객수", "사용일자", "승차총승객수", "노선명"]
    layout = match_layout(headers, ["a"] * 5, DAILY, "f.csv")
    assert layout.canonical == {
        0: "역명",
        1: "하차총승객수",
        2: "사용일자",
        3: "승차총승객수",
        4: "노선명",
    }
    assert layout.missing_optional == ["역ID", "등록일자"]


def test_hourly_spelling_variants() -> None:
    spaced = ["사용월", "노선명", "역명", *HOURLY_SPACED]
    # The band ending at midnight written 23시-00시, once with a space and once with "_".
    at_in, at_out = spaced.index("23시-24시 승차인원"), spaced.index("23시-24시 하차인원")
    spaced[at_in], spaced[at_out] = "23시-00시 승차인원", "23시-00시_하차인원"
    layout = match_layout(spaced, [""] * len(spaced), HOURLY, "CARD_SUBWAY_TIME_202210.csv")
    assert layout.canonical[at_in] == "23시-24시_승차인원"
    assert layout.canonical[at_out] == "23시-24시_하차인원"
    assert layout.renamed == {
        "노선명": "호선명",
        "역명": "지하철역",
        "23시-00시 승차인원": "23시-24시_승차인원",
        "23시-00시_하차인원": "23시-24시_하차인원",
    }
    assert layout.missing_optional == ["역ID", "작업일자"]


def test_renamed_daily_column_and_unknown_column() -> None:
    headers = ["사용일자", "호선명", "역ID", "역명", "승차총승객수", "하차총승객수", "비고"]
    layout = match_layout(headers, ["x"] * 7, DAILY, "f.csv")
    assert layout.renamed == {"호선명": "노선명"}
    assert layout.canonical[1] == "노선명" and layout.canonical[2] == "역ID"
    assert layout.extra == {6: "비고"}
    assert layout.missing_optional == ["등록일자"]


def test_trailing_empty_field_on_data_rows() -> None:
    layout = match_layout(
        DAILY_HEADER, ["20190701", "2호선", "역", "1", "2", "x", ""], DAILY, "f.csv"
    )
    assert (layout.field_count, layout.unnamed) == (7, [6])
    # A trailing field that holds a value is not the portal's empty comma.
    layout = match_layout(
        DAILY_HEADER, ["20190701", "2호선", "역", "1", "2", "x", "9"], DAILY, "f.csv"
    )
    assert (layout.field_count, layout.unnamed) == (6, [])


def test_unnamed_header_field() -> None:
    layout = match_layout([*DAILY_HEADER, ""], ["x"] * 7, DAILY, "f.csv")
    assert layout.unnamed == [6] and layout.field_count == 7


@pytest.mark.parametrize(
    ("spec", "drop", "column"),
    [
        (DAILY, "하차총승객수", "하차총승객수"),
        (DAILY, "사용일자", "사용일자"),
        (HOURLY, "13시-14시 하차인원", "13시-14시_하차인원"),
        (STATION, "위도", "위도"),
    ],
)
def test_missing_required_column_is_named(spec: DatasetSpec, drop: str, column: str) -> None:
    full = {
        "card_subway_month": DAILY_HEADER,
        "card_subway_time": ["사용월", "호선명", "지하철역", *HOURLY_SPACED],
        "subway_station": ["역사_ID", "역사명", "호선", "위도", "경도"],
    }[spec.name]
    headers = [h for h in full if h != drop]
    with pytest.raises(LandingFileError) as caught:
        match_layout(headers, ["x"] * len(headers), spec, "f.csv")
    error = caught.value
    assert (error.row, error.field) == (1, column)
    assert error.problem.startswith(f"missing required column {column}; found: ")
    assert drop not in error.problem.split("found: ", 1)[1].split(", ")


def test_two_missing_columns_are_both_named() -> None:
    with pytest.raises(
        LandingFileError,
        match="missing required column 승차총승객수, 하차총승객수; found: 사용일자, 노선명, 역명",
    ):
        match_layout(["사용일자", "노선명", "역명"], ["x"] * 3, DAILY, "f.csv")


def test_column_twice_through_an_alias() -> None:
    headers = ["사용일자", "노선명", "호선명", "역명", "승차총승객수", "하차총승객수"]
    with pytest.raises(LandingFileError) as caught:
        match_layout(headers, ["x"] * 6, DAILY, "f.csv")
    assert caught.value.problem == "column 노선명 appears twice in the header (as '호선명')"
    assert caught.value.field == "노선명"


def test_unknown_layout_names_the_data_set_and_headers() -> None:
    with pytest.raises(LandingFileError) as caught:
        match_layout(["a", "", "c"], ["1", "2", "3"], DAILY, "f.csv")
    assert str(caught.value) == (
        "f.csv: line 1: unknown layout: no header is a column of data set card_subway_month; "
        "found: a, (unnamed), c"
    )


def test_duplicate_unknown_headers() -> None:
    with pytest.raises(LandingFileError, match="duplicate header names"):
        match_layout([*DAILY_HEADER, "비고", "비고"], ["x"] * 8, DAILY, "f.csv")
