"""The sample-data generator writes files in the real formats that stage cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from subway_platform.datasets import DAILY, HOURLY, STATION, dataset_for_file
from subway_platform.ingest.stage import stage_landing_file
from subway_platform.sample_data import HOURLY_FILE_NAME, STATION_FILE_NAME, write_sample_files

MONTHS = ["201907", "201908"]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    write_sample_files(folder, MONTHS)
    return folder


def test_file_names_and_formats(sample_dir: Path) -> None:
    names = sorted(p.name for p in sample_dir.iterdir())
    assert names == sorted(
        [
            "CARD_SUBWAY_MONTH_201907.csv",
            "CARD_SUBWAY_MONTH_201908.csv",
            HOURLY_FILE_NAME,
            STATION_FILE_NAME,
        ]
    )
    assert [dataset_for_file(n) for n in names].count(DAILY) == 2
    daily = (sample_dir / "CARD_SUBWAY_MONTH_201907.csv").read_bytes()
    assert daily.startswith(
        '"사용일자","노선명","역명",승차총승객수,하차총승객수,"등록일자"\r\n'.encode()
    )
    assert b'.0","' in daily
    hourly = (sample_dir / HOURLY_FILE_NAME).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        hourly.decode("utf-8")
    assert len(hourly.decode("cp949").splitlines()[0].split(",")) == 52


@pytest.mark.parametrize("month", MONTHS)
def test_daily_files_stage(sample_dir: Path, tmp_path: Path, month: str) -> None:
    name = f"CARD_SUBWAY_MONTH_{month}.csv"
    staged = stage_landing_file(
        sample_dir / name, tmp_path / "d.parquet", file_name=name, spec=DAILY
    )
    assert staged.encoding == "utf-8"
    assert list(staged.months) == [month]
    assert staged.rows > 15000
    assert staged.sums[month]["pass_in"] > 0 and staged.sums[month]["pass_out"] > 0
    assert staged.unparseable == {month: 0}


def test_daily_repeats_some_keys(sample_dir: Path) -> None:
    lines = (sample_dir / "CARD_SUBWAY_MONTH_201907.csv").read_text(encoding="utf-8").splitlines()
    keys = [tuple(line.split(",")[:3]) for line in lines[1:]]
    assert len(set(keys)) < len(keys)


def test_hourly_file_stages_every_month(sample_dir: Path, tmp_path: Path) -> None:
    staged = stage_landing_file(
        sample_dir / HOURLY_FILE_NAME,
        tmp_path / "h.parquet",
        file_name=HOURLY_FILE_NAME,
        spec=HOURLY,
    )
    assert staged.encoding == "cp949"
    assert sorted(staged.months) == MONTHS
    assert all(s["pass_in"] > 0 and s["pass_out"] > 0 for s in staged.sums.values())


def test_station_file_stages(sample_dir: Path, tmp_path: Path) -> None:
    staged = stage_landing_file(
        sample_dir / STATION_FILE_NAME,
        tmp_path / "s.parquet",
        file_name=STATION_FILE_NAME,
        spec=STATION,
    )
    assert staged.rows > 700
    text = (sample_dir / STATION_FILE_NAME).read_text(encoding="utf-8")
    assert '"0' in text  # some ids zero-padded, as in the real file


def test_deterministic_and_scaled(tmp_path: Path) -> None:
    first = write_sample_files(tmp_path / "a", ["201907"], scale=0.1, seed=3)
    again = write_sample_files(tmp_path / "b", ["201907"], scale=0.1, seed=3)
    other = write_sample_files(tmp_path / "c", ["201907"], scale=0.1, seed=4)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert first[0].read_bytes() != other[0].read_bytes()
    double = write_sample_files(tmp_path / "d", ["201907"], scale=0.2, seed=3)
    rows = [len(p.read_bytes().splitlines()) for p in (first[0], double[0])]
    assert 1.8 < rows[1] / rows[0] < 2.2


def test_invalid_months_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_sample_files(tmp_path, ["2019-07"])
