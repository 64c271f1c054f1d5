"""Builds the seed tables of the sample-data generator from real portal files (run by hand).

The generator must not need the real files at run time, so this script distils them
once into three small CSV files committed beside it:

- ``stations.csv``: every (line, station) of the 2019 daily files with its mean daily
  boardings and alightings on weekdays and on weekends.
- ``hourly_profile.csv``: the share of a day's boardings and alightings in each hour,
  from the real hourly file (202210).
- ``station_master.csv``: the real station master rows (id, name, line, lat, lon).

Usage: ``python -m subway_platform.sample_data.extract /work/shared/data/real``
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent


def _rows(path: Path, encoding: str) -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def extract(real: Path) -> None:
    """Write the three seed tables from the real files under ``real``."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 6)
    for path in sorted((real / "card_subway_month").glob("CARD_SUBWAY_MONTH_*.csv")):
        for use_date, line, station, p_in, p_out, _ in _rows(path, "utf-8")[1:]:
            day = date(int(use_date[:4]), int(use_date[4:6]), int(use_date[6:]))
            slot = 3 if day.weekday() >= 5 else 0
            acc = totals[(line, station)]
            acc[slot] += float(p_in)
            acc[slot + 1] += float(p_out)
            acc[slot + 2] += 1
    with (HERE / "stations.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["line", "station", "weekday_in", "weekday_out", "weekend_in", "weekend_out"]
        )
        for (line, station), (wi, wo, wn, ei, eo, en) in sorted(totals.items()):
            station.encode("cp949")  # the hourly sample file is CP949
            writer.writerow(
                [
                    line,
                    station,
                    round(wi / wn) if wn else 0,
                    round(wo / wn) if wn else 0,
                    round(ei / en) if en else 0,
                    round(eo / en) if en else 0,
                ]
            )
    hourly = _rows(real / "card_subway_time" / "hourly_202210_cp949.csv", "cp949")
    header, body = hourly[0], hourly[1:]
    sums = [sum(int(r[i]) for r in body) for i in range(3, 51)]
    total_in, total_out = sum(sums[0::2]), sum(sums[1::2])
    with (HERE / "hourly_profile.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["band", "in_share", "out_share"])
        for k in range(24):
            band = header[3 + 2 * k].split(" ")[0]
            writer.writerow(
                [band, f"{sums[2 * k] / total_in:.6f}", f"{sums[2 * k + 1] / total_out:.6f}"]
            )
    master = _rows(real / "subway_station" / "station_master_utf8.csv", "utf-8")
    with (HERE / "station_master.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["station_id", "station_name", "line", "latitude", "longitude"])
        writer.writerows(master[1:])


if __name__ == "__main__":
    extract(Path(sys.argv[1]))
