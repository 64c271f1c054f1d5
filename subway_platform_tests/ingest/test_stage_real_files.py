"""Staging the real portal files: row counts and sums must equal an independent
computation over the same bytes (Python's csv module and Decimal, not pyarrow)."""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from subway_platform.datasets import DAILY, HOURLY, STATION
from subway_platform.ingest.stage import stage_landing_file

DAILY_MONTHS = [f"2019{m:02d}" for m in range(1, 13)]
HOURLY_NAME = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv"


def read_rows(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return rows[0], rows[1:]


def as_int(text: str) -> int:
    value = Decimal(text)
    assert value == value.to_integral_value(), text
    return int(value)


@pytest.mark.parametrize("month", DAILY_MONTHS)
def test_daily_month(real_data: Path, tmp_path: Path, month: str) -> None:
    name = f"CARD_SUBWAY_MONTH_{month}.csv"
    src = real_data / "card_subway_month" / name
    header, rows = read_rows(src, "utf-8")
    staged = stage_landing_file(src, tmp_path / "d.parquet", file_name=name, spec=DAILY)
    pass_in = sum(as_int(r[header.index("승차총승객수")]) for r in rows)
    pass_out = sum(as_int(r[header.index("하차총승객수")]) for r in rows)
    assert staged.encoding == "utf-8"
    assert staged.rows == len(rows)
    assert staged.months == {month: len(rows)}
    assert staged.sums == {month: {"pass_in": pass_in, "pass_out": pass_out}}
    assert staged.unparseable == {month: 0}
    table = pq.read_table(staged.parquet_path)
    assert table.num_rows == len(rows)
    assert table.column("역명").to_pylist() == [r[2] for r in rows]
    assert table.column("_source_row").to_pylist() == list(range(2, len(rows) + 2))


def test_daily_repeated_keys_are_all_kept(real_data: Path, tmp_path: Path) -> None:
    name = "CARD_SUBWAY_MONTH_201901.csv"
    src = real_data / "card_subway_month" / name
    _, rows = read_rows(src, "utf-8")
    repeated = {k for k, n in Counter(tuple(r[:3]) for r in rows).items() if n > 1}
    assert repeated  # the real file repeats (date, line, station) keys
    staged = stage_landing_file(src, tmp_path / "d.parquet", file_name=name, spec=DAILY)
    table = pq.read_table(staged.parquet_path, columns=["사용일자", "노선명", "역명"])
    keys = Counter(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=False))
    assert {k for k, n in keys.items() if n > 1} == repeated


def test_hourly_cp949(real_data: Path, tmp_path: Path) -> None:
    src = real_data / "card_subway_time" / "hourly_202210_cp949.csv"
    header, rows = read_rows(src, "cp949")
    assert len(header) == 52
    ins = [i for i, h in enumerate(header) if h.endswith("승차인원")]
    outs = [i for i, h in enumerate(header) if h.endswith("하차인원")]
    staged = stage_landing_file(src, tmp_path / "h.parquet", file_name=HOURLY_NAME, spec=HOURLY)
    assert staged.encoding == "cp949"
    assert staged.months == {"202210": len(rows)}
    assert staged.sums == {
        "202210": {
            "pass_in": sum(as_int(r[i]) for r in rows for i in ins),
            "pass_out": sum(as_int(r[i]) for r in rows for i in outs),
        }
    }
    table = pq.read_table(staged.parquet_path)
    assert table.column("지하철역").to_pylist() == [r[2] for r in rows]


def test_station_master(real_data: Path, tmp_path: Path) -> None:
    src = real_data / "subway_station" / "station_master_utf8.csv"
    _, rows = read_rows(src, "utf-8")
    staged = stage_landing_file(
        src, tmp_path / "s.parquet", file_name="서울시 역사마스터 정보.csv", spec=STATION
    )
    assert staged.rows == len(rows)
    assert staged.months == {}
    assert staged.columns == ["역사_ID", "역사명", "호선", "위도", "경도"]
    table = pq.read_table(staged.parquet_path)
    assert "month" not in table.column_names
    assert table.column("역사_ID").to_pylist() == [r[0] for r in rows]
    assert table.column("위도").to_pylist() == [r[3] for r in rows]
