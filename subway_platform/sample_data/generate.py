"""Realistic landing files in the portal's real formats, for demos, tests and benchmarks.

Volumes and names come from seed tables distilled from real files (see ``extract.py``);
nothing outside the package is read. Everything is vectorised (numpy + pyarrow), so 100x
the real volume (about 1.8M daily rows a month) takes seconds per month.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from subway_platform.partitions import validate_month

DAILY_HEADER = '"사용일자","노선명","역명",승차총승객수,하차총승객수,"등록일자"'
"""The real daily header: every name quoted except the two count columns."""
HOURLY_FILE_NAME = "서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.csv"
STATION_FILE_NAME = "서울시 역사마스터 정보.csv"
# (line, station) pairs that the real daily files repeat on some days with a second,
# small count (e.g. 경의선 서울역 4396 and 2): separate real counts, not copies.
REPEATED_STATIONS = (("경의선", "서울역"), ("경의선", "홍대입구"), ("경의선", "디지털미디어시티"))


def daily_file_name(month: str) -> str:
    """``201907`` -> ``CARD_SUBWAY_MONTH_201907.csv``."""
    return f"CARD_SUBWAY_MONTH_{validate_month(month)}.csv"


@dataclass(frozen=True)
class _Stations:
    line: pa.Array
    name: pa.Array
    weekday: np.ndarray  # shape (n, 2): mean boardings, alightings
    weekend: np.ndarray


def _seed_rows(table: str) -> list[list[str]]:
    text = resources.files(__package__).joinpath(table).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))[1:]


def _scaled_names(names: list[str], count: int) -> np.ndarray:
    """``count`` names cycling over ``names``; later cycles get a ``_NN`` suffix (synthetic)."""
    index = np.arange(count)
    base = np.array(names, dtype=object)[index % len(names)]
    cycle = index // len(names)
    return np.array(
        [b if c == 0 else f"{b}_{c:02d}" for b, c in zip(base, cycle, strict=True)], dtype=object
    )


def _stations(scale: float) -> _Stations:
    rows = _seed_rows("stations.csv")
    n = max(1, round(len(rows) * scale))
    pick = np.arange(n) % len(rows)
    numbers = np.array([[float(v) for v in r[2:6]] for r in rows])[pick]
    return _Stations(
        line=pa.array([rows[i][0] for i in pick], pa.string()),
        name=pa.array(_scaled_names([r[1] for r in rows], n), pa.string()),
        weekday=numbers[:, 0:2],
        weekend=numbers[:, 2:4],
    )


def _days(month: str) -> list[date]:
    year, mon = int(month[:4]), int(month[4:])
    return [date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]


def _counts(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Counts scattered around ``mean`` (log-normal day-to-day noise, about 10%)."""
    return np.rint(mean * rng.lognormal(0.0, 0.1, size=mean.shape)).astype(np.int64)


def _float_text(values: np.ndarray) -> pa.Array:
    """Counts written like the real daily files: ``34944.0``."""
    return pc.binary_join_element_wise(pc.cast(pa.array(values), pa.string()), ".0", "")


def _csv_bytes(table: pa.Table, eol: bytes) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(
        table,
        sink,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    data = sink.getvalue()
    return data.replace(b"\n", eol) if eol != b"\n" else data


def write_daily_file(
    dest_dir: Path, month: str, stations: _Stations, rng: np.random.Generator
) -> Path:
    """One ``CARD_SUBWAY_MONTH_YYYYMM.csv``: UTF-8, quoted, CRLF, float-like counts."""
    path = dest_dir / daily_file_name(month)
    n = len(stations.name)
    keys = set(zip(stations.line.to_pylist(), stations.name.to_pylist(), strict=True))
    repeated = np.array(
        [
            i
            for i, key in enumerate(
                zip(stations.line.to_pylist(), stations.name.to_pylist(), strict=True)
            )
            if key in REPEATED_STATIONS and key in keys
        ],
        dtype=np.int64,
    )
    with path.open("wb") as out:
        out.write(DAILY_HEADER.encode("utf-8") + b"\r\n")
        for day in _days(month):
            mean = stations.weekend if day.weekday() >= 5 else stations.weekday
            counts = _counts(rng, mean)
            order = np.arange(n)
            # On about a third of the days the repeated stations get a second small count.
            extra = repeated[rng.random(len(repeated)) < 0.35]
            if len(extra):
                order = np.concatenate([order, extra])
                counts = np.concatenate([counts, rng.integers(0, 6, size=(len(extra), 2))])
            rows = len(order)
            table = pa.table(
                {
                    "use_date": pa.array([day.strftime("%Y%m%d")] * rows, pa.string()),
                    "line": stations.line.take(pa.array(order)),
                    "station": stations.name.take(pa.array(order)),
                    "in": _float_text(counts[:, 0]),
                    "out": _float_text(counts[:, 1]),
                    "reg": pa.array(
                        [(day + timedelta(days=3)).strftime("%Y%m%d")] * rows, pa.string()
                    ),
                }
            )
            out.write(_csv_bytes(table, b"\r\n"))
    return path


def _hourly_bands() -> tuple[list[str], np.ndarray]:
    rows = _seed_rows("hourly_profile.csv")
    return [r[0] for r in rows], np.array([[float(r[1]), float(r[2])] for r in rows])


def write_hourly_file(
    dest_dir: Path, months: Sequence[str], stations: _Stations, rng: np.random.Generator
) -> Path:
    """The portal's hourly file: CP949, all values quoted, 52 fields, many months in one."""
    path = dest_dir / HOURLY_FILE_NAME
    bands, shares = _hourly_bands()
    names = ["사용월", "호선명", "지하철역"]
    names += [f"{band} {kind}" for band in bands for kind in ("승차인원", "하차인원")]
    names.append("작업일자")
    with path.open("wb") as out:
        out.write((",".join(f'"{h}"' for h in names) + "\n").encode("cp949"))
        for month in months:
            days = _days(month)
            weekend_days = sum(1 for d in days if d.weekday() >= 5)
            monthly = (
                stations.weekday * (len(days) - weekend_days) + stations.weekend * weekend_days
            )
            columns: dict[str, pa.Array] = {
                "month": pa.array([month] * len(stations.name), pa.string()),
                "line": stations.line,
                "station": stations.name,
            }
            for k in range(len(bands)):
                for side in (0, 1):
                    values = _counts(rng, monthly[:, side] * shares[k, side])
                    columns[f"{k}_{side}"] = pc.cast(pa.array(values), pa.string())
            next_month = days[-1] + timedelta(days=3)
            columns["work"] = pa.array([next_month.strftime("%Y%m%d")] * len(stations.name))
            out.write(_csv_bytes(pa.table(columns), b"\n").decode("utf-8").encode("cp949"))
    return path


def write_station_file(dest_dir: Path, scale: float) -> Path:
    """The station master: UTF-8, quoted, ``역사_ID,역사명,호선,위도,경도``.

    Copies beyond the real stations (scale > 1) get a ``_NN`` name suffix, an id prefixed
    with the copy number, and slightly shifted coordinates. Real ids such as ``0434``
    keep their zero padding.
    """
    rows = _seed_rows("station_master.csv")
    n = max(1, round(len(rows) * scale))
    pick = np.arange(n) % len(rows)
    cycle = np.arange(n) // len(rows)
    ids = [rows[i][0] if c == 0 else f"{c}{rows[i][0]}" for i, c in zip(pick, cycle, strict=True)]
    shift = cycle * 0.0007
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "name": pa.array(_scaled_names([r[1] for r in rows], n), pa.string()),
            "line": pa.array([rows[i][2] for i in pick], pa.string()),
            "lat": pa.array(
                [
                    f"{float(rows[i][3]) + s:.6f}" if c else rows[i][3]
                    for i, c, s in zip(pick, cycle, shift, strict=True)
                ]
            ),
            "lon": pa.array(
                [
                    f"{float(rows[i][4]) + s:.6f}" if c else rows[i][4]
                    for i, c, s in zip(pick, cycle, shift, strict=True)
                ]
            ),
        }
    )
    path = dest_dir / STATION_FILE_NAME
    with path.open("wb") as out:
        out.write('"역사_ID","역사명","호선","위도","경도"\n'.encode())
        out.write(_csv_bytes(table, b"\n"))
    return path


def write_sample_files(
    dest_dir: Path, months: Sequence[str], *, scale: float = 1.0, seed: int = 7
) -> list[Path]:
    """Write sample landing files for ``months`` into ``dest_dir`` and return their paths.

    One ``CARD_SUBWAY_MONTH_YYYYMM.csv`` per month (UTF-8, quoted, CRLF, counts like
    ``"34944.0"``, a few repeated (date, line, station) keys with different counts), one
    hourly file holding every month (CP949, 52 fields) and one station master file.
    ``scale`` multiplies the number of stations (synthetic names beyond the real ones)
    and so the volume; the same ``seed`` always gives the same bytes.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    ordered = sorted({validate_month(m) for m in months})
    if not ordered:
        raise ValueError("no months given")
    dest_dir.mkdir(parents=True, exist_ok=True)
    stations = _stations(scale)
    paths = [
        write_daily_file(dest_dir, month, stations, np.random.default_rng([seed, int(month)]))
        for month in ordered
    ]
    paths.append(write_hourly_file(dest_dir, ordered, stations, np.random.default_rng([seed, 0])))
    paths.append(write_station_file(dest_dir, scale))
    return paths
