"""Issue 23's yardsticks beside the platform's CLI, in the same rounds (A B A B).

- **the floor** (``benchmarks/floor.py``): a hand-written Polars (or DuckDB) loader,
  file -> merged month -> COPY into a new table -> key -> swap in as the month's
  partition of its own table (``floor_subway_passengers``); its sums are checked against
  the platform's mart month by month (untimed);
- **the strongest JVM variant** (``baseline_job.py`` with ``"mode": "all-at-once"``):
  one ``spark-submit``, one read of all the files, one Parquet write, one JDBC write;
- at 1x (twelve real months, and one month) and at 100x (one synthetic month, the
  platform through the CLI as users run it, station master loaded first, untimed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.measure import ChildResult, run_measured

if TYPE_CHECKING:
    from benchmarks.run import Bench, Engine

FLOOR_TABLE = "floor_subway_passengers"


def platform_sums(dsn: str, months: list[str]) -> dict[str, dict[str, int]]:
    """Rows and summed counts per month in the platform's mart table."""
    import psycopg

    from benchmarks.floor import month_sums

    with psycopg.connect(dsn) as conn:
        return {m: month_sums(conn, "subway_passengers", m) for m in months}


def floor(bench: Bench, it: int, label: str, files: list[Path], n: int, engine: str) -> None:
    """One run of the floor over ``files``, recorded with its steps and its verification."""
    config = {
        "files": [str(p) for p in files],
        "table": FLOOR_TABLE,
        "engine": engine,
        "work_dir": str(bench.work),
    }
    result = run_measured(
        [bench.python, "-m", "benchmarks.floor", json.dumps(config)],
        env=bench.child_env("floor"),
        cwd=bench.platform_root,
        watch_also=bench.watch[:1],
        log=bench.log_path(f"floor-{engine}-{label}"),
    )
    if result.returncode != 0:
        raise RuntimeError(f"floor failed:\n{result.stderr_tail}")
    months = [x for x in result.lines if "month" in x]
    steps: dict[str, float] = {}
    for line in months:
        for k, v in line["steps"].items():
            steps[k] = round(steps.get(k, 0.0) + v, 3)
    theirs = platform_sums(bench.env["SUBWAY_MART_DSN"], [x["month"] for x in months])
    mismatch = {
        x["month"]: (x["sums"], theirs[x["month"]])
        for x in months
        if x["sums"] != theirs[x["month"]]
    }
    bench.record(
        {
            "case": f"floor[{engine}]: {label}",
            "system": "floor",
            "engine": engine,
            "iteration": it,
            "wall_s": result.wall_s,
            "rows": n,
            "rows_per_s": round(n / result.wall_s),
            "layers_s": steps,
            "imports_s": result.lines[0].get("imports_s") if result.lines else None,
            "peak_pss_mib": result.memory["peak_pss_mib"],
            "peak_rss_mib": result.memory["peak_rss_mib"],
            "memory": result.memory,
            "load_before": result.load_before,
            "load_after": result.load_after,
            "sums_equal_platform": not mismatch,
            "sum_mismatches": mismatch,
            "note": "sums = platform mart"
            if not mismatch
            else f"SUMS DIFFER in {sorted(mismatch)}",
        }
    )


def strongest_jvm(bench: Bench, it: int, label: str, daily: dict[str, Path], n: int) -> None:
    """One ``spark-submit``: one read of all files, one Parquet write, one JDBC write."""
    from benchmarks.baseline_job import submit_argv, submit_env
    from benchmarks.run import BASELINE_TABLE

    lake = bench.work / f"strongest-{it}-{label}"
    shutil.rmtree(lake, ignore_errors=True)
    config = {
        "months": list(daily),
        "csv_dir": str(next(iter(daily.values())).parent),
        "lake_dir": str(lake),
        "table": BASELINE_TABLE,
        "mode": "all-at-once",
    }
    result: ChildResult = run_measured(
        submit_argv(config),
        env=submit_env(bench.child_env("baseline")),
        cwd=bench.platform_root,
        watch_also=bench.watch[:1],
        log=bench.log_path(f"strongest-{label}"),
    )
    if result.returncode != 0:
        raise RuntimeError(f"strongest JVM variant failed:\n{result.stderr_tail}")
    head, body = result.lines[0], result.lines[1]
    bench.baseline_entry(
        f"strongest JVM: {label}",
        it,
        result.wall_s,
        n,
        {"jvm_start": head["session_s"], **body["layers"]},
        [result],
        note="one spark-submit: one read of all files, one Parquet write, one JDBC write",
        mart_rows=body["mart_rows"],
        engine_variant="jvm+parquet, all at once",
    )


def scale100_files(bench: Bench) -> tuple[Path, Path]:
    """The synthetic 100x daily month (201901) and its station master, generated once."""
    import numpy as np

    from subway_platform.sample_data.generate import (
        _stations,
        write_daily_file,
        write_station_file,
    )

    gen = bench.work / "scale100"
    daily = gen / "CARD_SUBWAY_MONTH_201901.csv"
    if not daily.exists():
        gen.mkdir(parents=True, exist_ok=True)
        stations = _stations(100.0)
        write_daily_file(gen, "201901", stations, np.random.default_rng([7, 201901]))
        write_station_file(gen, 100.0)
    return daily, gen / "서울시 역사마스터 정보.csv"


def platform_cli_100x(bench: Bench, it: int, engine: Engine, daily: Path, n: int) -> None:
    """The 100x month through ``dagster asset materialize --partition`` (+ mirror_run)."""
    from benchmarks.run import DAILY_SELECTION

    prefix = f"scale100-cli-{it}"
    bench.setup_station(prefix, daily.parent / "서울시 역사마스터 정보.csv", engine)
    bench.upload(prefix, [daily])
    since = __import__("time").time()
    result = run_measured(
        [
            bench.dagster,
            "asset",
            "materialize",
            "-m",
            "subway_platform.definitions",
            "--select",
            DAILY_SELECTION,
            "--partition",
            "201901",
        ],
        env=bench.child_env(prefix, **engine.env),
        cwd=bench.platform_root,
        watch_also=[*bench.watch, *engine.watch],
        log=bench.log_path(f"cli-100x-{engine.prefix}"),
    )
    if result.returncode != 0:
        raise RuntimeError(f"dagster CLI (100x) failed:\n{result.stderr_tail}")
    report = bench.mirror_latest(since)
    report["wall_s"] = round(result.wall_s + report["mirror_s"], 3)
    report["cli_s"] = result.wall_s
    bench.record(
        bench.platform_entry(
            f"platform[{engine.name}] CLI: 100x one_month",
            it,
            report,
            n,
            result,
            engine,
            note="dagster asset materialize --partition 201901 + mirror_run; station 100x first",
        )
    )


def round_of(bench: Bench, it: int, daily: dict[str, Path], rows: dict[str, int]) -> None:
    """The yardsticks of one round, after the platform's CLI cases of the same round."""
    from benchmarks.run import Engine, data_rows

    months = list(daily)
    one = months[0]
    engine_name = bench.args.floor_engine
    floor(
        bench,
        it,
        f"backfill ({len(months)} mo)",
        list(daily.values()),
        sum(rows.values()),
        engine_name,
    )
    strongest_jvm(bench, it, f"backfill ({len(months)} mo)", daily, sum(rows.values()))
    floor(bench, it, "one_month (1 mo)", [daily[one]], rows[one], engine_name)
    strongest_jvm(bench, it, "one_month (1 mo)", {one: daily[one]}, rows[one])
    if bench.args.scale100:
        big, _ = scale100_files(bench)
        n = data_rows(big)
        platform_cli_100x(bench, it, Engine("sail"), big, n)
        floor(bench, it, "100x one_month", [big], n, engine_name)
        if it == 1 and os.environ.get("BENCH_FLOOR_BOTH", "1") == "1":
            other = "duckdb" if engine_name == "polars" else "polars"
            floor(bench, it, "100x one_month", [big], n, other)
