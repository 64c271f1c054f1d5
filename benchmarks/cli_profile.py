"""``python -m benchmarks.cli_profile``: where the CLI's time outside the steps goes.

Starts the embedded services, uploads the twelve real months, then runs the command the
benchmark's CLI case runs (``dagster asset materialize -m subway_platform.definitions
--select … --partition-range 201901...201912``) twice: under cProfile (``-m cProfile``)
and under ``-X importtime``. Prints the wall, the steps' own seconds (from the run's
events), and the profile's top items outside the steps: imports, the definitions' load,
the instance, run creation, Sail's start, the run's own bookkeeping, the exit. With
``--platform-root DIR`` the package in DIR is profiled. Writes the ``.prof`` and the
importtime log to ``--out`` (default ``benchmarks/results/cli-profile``).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import DAILY_SELECTION, MONTHS, REAL, REPO

# cProfile entries whose cumulative time says where the process went (substring of
# "file:line(function)"); the first match per label is reported.
ITEMS = {
    "imports (all, cumulative)": "<frozen importlib._bootstrap>:1165(_find_and_load)",
    "dagster CLI entry": "dagster/_cli/__init__.py",
    "definitions: build_definitions": "definitions.py:29(build_definitions)",
    "definitions: load code location (dagster)": "(load_definitions_from_module)",
    "instance: DagsterInstance.get": "(get)",
    "run: execute_job / materialize": "(execute_run_iterator)",
    "step compute (all steps)": "(core_dagster_event_sequence_for_step)",
    "Sail / Spark session start": "(getOrCreate)",
    "event log writes (store_event*)": "(store_event_batch)",
    "run storage (add_run / handle_run_event)": "(add_run)",
}


def top_items(prof: Path, n: int = 25) -> list[tuple[str, float, float]]:
    """(function, cumulative s, own s) of the ``n`` largest cumulative entries."""
    stats = pstats.Stats(str(prof))
    rows = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((f"{file}:{line}({func})", ct, tt))
    rows.sort(key=lambda r: r[1], reverse=True)
    return rows[:n]


def find(prof: Path, pattern: str) -> float | None:
    """Largest cumulative seconds of an entry containing ``pattern``."""
    stats = pstats.Stats(str(prof))
    best = None
    for (file, line, func), (_cc, _nc, _tt, ct, _c) in stats.stats.items():  # type: ignore[attr-defined]
        if pattern in f"{file}:{line}({func})" and (best is None or ct > best):
            best = ct
    return best


def importtime_top(log: str, n: int = 20) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import seconds from ``-X importtime`` output."""
    out: dict[str, float] = {}
    for line in log.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:
            pkg = m.group(3).split(".")[0]
            out[pkg] = out.get(pkg, 0.0) + int(m.group(1)) / 1e6
    return sorted(out.items(), key=lambda kv: kv[1], reverse=True)[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform-root", default=str(REPO))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "cli-profile"))
    args = parser.parse_args(argv)
    root = Path(args.platform_root).resolve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(root))
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    from subway_platform.platform.services import EmbeddedServices

    work = Path(tempfile.mkdtemp(prefix="subway-cliprof-"))
    work.chmod(0o711)
    services = EmbeddedServices(work / "state")
    env = services.start()
    os.environ.update(env)
    report: dict[str, Any] = {"load_before": os.getloadavg()}
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        child = {**os.environ, **env}
        child.update(
            SUBWAY_LANDING_URL="s3://subway/prof/landing",
            SUBWAY_ARCHIVE_URL=str(work / "state" / "archive"),
            SUBWAY_LAKE_URL=str(work / "state" / "lake"),
            PYTHONPATH=os.pathsep.join([str(root), str(REPO)]),
        )
        dagster = str(Path(sys.executable).parent / "dagster")
        cli = [
            "asset",
            "materialize",
            "-m",
            "subway_platform.definitions",
            "--select",
            DAILY_SELECTION,
            "--partition-range",
            f"{MONTHS[0]}...{MONTHS[-1]}",
        ]
        runs = {
            "plain": [dagster, *cli],
            "cprofile": [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                str(out / "cli.prof"),
                dagster,
                *cli,
            ],
            "importtime": [sys.executable, "-X", "importtime", dagster, *cli],
        }
        for label, argv_ in runs.items():
            for m in MONTHS:
                src = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{m}.csv"
                s3.upload_file(str(src), "subway", f"prof/landing/{src.name}")
            load = os.getloadavg()
            t = time.perf_counter()
            proc = subprocess.run(argv_, env=child, cwd=root, capture_output=True, text=True)
            wall = time.perf_counter() - t
            if proc.returncode != 0:
                raise RuntimeError(f"{label} failed:\n{proc.stderr[-2000:]}")
            report[label] = {"wall_s": round(wall, 3), "load": load}
            if label == "importtime":
                (out / "importtime.log").write_text(proc.stderr)
                report["importtime_top"] = importtime_top(proc.stderr)
        import dagster as dg

        from benchmarks.run_events import run_report

        with dg.DagsterInstance.get() as instance:
            records = instance.get_run_records(limit=3)
            runs_ = [run_report(instance, r.dagster_run.run_id) for r in records]
        # Newest first: importtime, cprofile, plain.
        for label, run in zip(("importtime", "cprofile", "plain"), runs_, strict=False):
            steps = sum(run["layers"].values())
            report[label].update(
                steps_s=round(steps, 3),
                run_s=run.get("run_seconds"),
                outside_steps_s=round(report[label]["wall_s"] - steps, 3),
                layers_s=run["layers"],
            )
        prof = out / "cli.prof"
        report["items_s"] = {k: find(prof, p) for k, p in ITEMS.items()}
        report["top_cumulative"] = [
            (f, round(c, 3), round(t, 3)) for f, c, t in top_items(prof, 40)
        ]
    finally:
        services.stop()
    report["load_after"] = os.getloadavg()
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
