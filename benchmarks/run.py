"""``python -m benchmarks.run``: the platform against the reference's JVM job, and at scale.

Starts the embedded services (PostgreSQL, moto S3) once and, with ``--engines`` naming
``spark``, one Apache Spark 4.2 Connect server with delta-spark (``local[2]``, kept up
for the whole benchmark as a cluster would be). Each platform case runs on every engine
variant: ``sail`` (embedded Sail, the default), ``spark/copy`` (``SPARK_REMOTE`` on that
server, the COPY mart sink) and ``spark/jdbc`` (the same with ``SUBWAY_MART_SINK=jdbc``).
Then, alternating platform and baseline (A B A B) so machine drift cancels:

- platform in process (``execute_in_process`` against the PostgreSQL-backed instance of
  DAGSTER_HOME, then ``mirror_run``): twelve-month backfill on fresh tables (first run of
  a fresh process: imports, Sail start), the same backfill again (everything replaced),
  one month alone;
- platform through the CLI users type (``dagster asset materialize ... --partition-range``
  and ``--partition``, a fresh process each, Dagster's start-up included), then the ELT
  log mirroring the sensor does;
- the baseline, the reference's own way (``baseline_job.py``): ``spark-submit`` of a JVM
  Spark ``local[2]`` job with delta-spark, CSV -> Delta bronze -> Delta gold ->
  PostgreSQL over JDBC; one job per month as the reference ran it, one job for all
  months, and one month alone.

Then synthetic months at 10x (and, with ``--scale100``, 100x) the real volume, with Sail
in process, with ``SAIL_MODE=local-cluster`` and on the Apache Spark variants. Prints a
table and writes
``benchmarks/results/bench-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.measure import ChildResult, run_measured

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("SUBWAY_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
if not REAL.exists():
    REAL = Path("/work/shared/data/real")
MONTHS = [f"2019{m:02d}" for m in range(1, 13)]
STATION_NAME = "서울시 역사마스터 정보.csv"
DAILY_SELECTION = "bronze/card_subway_month,gold/subway_passengers,mart/subway_passengers"
BASELINE_TABLE = "baseline_subway_passengers"


@dataclass(frozen=True)
class Engine:
    """One way to run the platform: its label, its environment, the processes it adds."""

    name: str  # "sail", "spark/copy", "spark/jdbc"
    env: dict[str, str] = field(default_factory=dict)
    watch: tuple[int, ...] = ()

    @property
    def prefix(self) -> str:
        return self.name.replace("/", "-")


def data_rows(path: Path) -> int:
    """Data rows of a CSV file (non-empty lines after the header)."""
    with path.open("rb") as fh:
        next(fh)
        return sum(1 for line in fh if line.strip())


class Bench:
    """One benchmark session: the services, the results, the child processes' settings."""

    def __init__(
        self, args: argparse.Namespace, env: dict[str, str], watch: list[int], work: Path
    ) -> None:
        self.args = args
        self.env = env
        self.watch = watch
        self.work = work
        self.platform_root = Path(args.platform_root).resolve()
        self.results: list[dict[str, Any]] = []
        self.partial = REPO / "benchmarks" / "results" / "partial.json"
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.python = sys.executable
        self.dagster = str(Path(sys.executable).parent / "dagster")

    # -- environment of the children -------------------------------------------------------
    def child_env(self, prefix: str, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SPARK_REMOTE", "SAIL_MODE", "SUBWAY_MART_SINK")
        }
        env.update(self.env)
        # Every round loads its months again: unchanged months are otherwise skipped.
        env["SUBWAY_RELOAD_UNCHANGED"] = "true"
        # As the embedded platform runs (`subway-platform dev` / `demo`): landing over the
        # S3 API, archive and lake in the state directory. --lake s3 puts them on the S3
        # API too (moto's server: a Python process, slower than any real object store).
        if self.args.lake == "s3":
            archive, lake = f"s3://subway/{prefix}/archive", f"s3://subway/{prefix}/lake"
        else:
            archive, lake = (
                str(self.work / "state" / prefix / "archive"),
                str(self.work / "state" / prefix / "lake"),
            )
        env.update(
            SUBWAY_LANDING_URL=f"s3://subway/{prefix}/landing",
            SUBWAY_ARCHIVE_URL=archive,
            SUBWAY_LAKE_URL=lake,
            PYTHONPATH=os.pathsep.join([str(self.platform_root), str(REPO)]),
        )
        env.update(extra)
        return env

    def log_path(self, name: str) -> Path:
        return self.work / "logs" / f"{len(self.results):03d}-{name}.log"

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.results.append(entry)
        # Written after every measurement: an interrupted run keeps what it measured.
        self.partial.write_text(json.dumps(self.results, indent=2, ensure_ascii=False))
        load = entry.get("load_before", ("?",))[0]
        print(
            f"  {entry['case']:<60} {entry.get('wall_s', '-')!s:>8} s  load {load}  "
            f"{entry.get('note', '')}",
            flush=True,
        )
        return entry

    def worker(
        self,
        prefix: str,
        plan: list[dict[str, Any]],
        name: str,
        engine: Engine | None = None,
        **extra: str,
    ) -> ChildResult:
        engine = engine or Engine("sail")
        result = run_measured(
            [self.python, "-m", "benchmarks.inproc_worker", json.dumps(plan)],
            env=self.child_env(prefix, **engine.env, **extra),
            cwd=self.platform_root,
            watch_also=[*self.watch, *engine.watch],
            log=self.log_path(name),
        )
        if result.returncode != 0:
            raise RuntimeError(f"worker {name} failed:\n{result.stderr_tail}")
        return result

    # -- the platform ------------------------------------------------------------------------
    def setup_station(self, prefix: str, station_file: Path, engine: Engine) -> None:
        """Untimed: the station master loaded first, as in production (gold joins it)."""
        self.worker(
            prefix,
            [
                {"upload": [[str(station_file), STATION_NAME]]},
                {"run": "station", "job": "station_job"},
            ],
            f"station-setup-{engine.prefix}",
            engine,
        )

    def platform_inprocess(
        self, it: int, daily: dict[str, Path], rows: dict[str, int], engine: Engine
    ) -> None:
        prefix = f"it{it}-{engine.prefix}"
        self.drop_tables(["subway_passengers"])
        self.setup_station(prefix, REAL / "subway_station" / "station_master_utf8.csv", engine)
        months = list(daily)
        one = months[0]
        plan: list[dict[str, Any]] = [
            {"upload": [[str(p), p.name] for p in daily.values()]},
            {"run": "backfill", "job": "daily_passengers_job", "months": months},
            {"run": "backfill_again", "job": "daily_passengers_job", "months": months},
            {"upload": [[str(daily[one]), daily[one].name]]},
            {"run": "one_month", "job": "daily_passengers_job", "months": [one]},
        ]
        if self.args.profile:
            for action in plan:
                if "run" in action:
                    action["profile"] = str(
                        Path(self.args.profile) / f"{prefix}-{action['run']}.prof"
                    )
        result = self.worker(prefix, plan, f"inprocess-{engine.prefix}", engine)
        imports = result.lines[0].get("imports_s")
        total_rows = sum(rows[m] for m in months)
        first_note = (
            "fresh process: imports + Sail start in the first run"
            if engine.name == "sail"
            else "fresh process: imports + Spark Connect session in the first run "
            "(server already up)"
        )
        for line in result.lines[1:]:
            n = total_rows if line["label"] != "one_month" else rows[one]
            self.record(
                self.platform_entry(
                    f"platform[{engine.name}] in-process: {line['label']} "
                    f"({len(months) if n == total_rows else 1} mo)",
                    it,
                    line,
                    n,
                    result,
                    engine,
                    note=(first_note if line["label"] == "backfill" else "same process, warm"),
                    imports_s=imports if line["label"] == "backfill" else None,
                )
            )

    def platform_cli(
        self, it: int, daily: dict[str, Path], rows: dict[str, int], engine: Engine
    ) -> None:
        """``dagster asset materialize`` in a fresh process, then the sensor's mirroring."""
        prefix = f"it{it}-{engine.prefix}"
        months = list(daily)
        one = months[0]
        self.upload(prefix, list(daily.values()))
        for label, partition_args, n, count in (
            (
                "backfill",
                ["--partition-range", f"{months[0]}...{months[-1]}"],
                sum(rows.values()),
                len(months),
            ),
            ("one_month", ["--partition", one], rows[one], 1),
        ):
            if label == "one_month":
                self.upload(prefix, [daily[one]])
            argv = [
                self.dagster,
                "asset",
                "materialize",
                "-m",
                "subway_platform.definitions",
                "--select",
                DAILY_SELECTION,
                *partition_args,
            ]
            since = time.time()
            result = run_measured(
                argv,
                env=self.child_env(prefix, **engine.env),
                cwd=self.platform_root,
                watch_also=[*self.watch, *engine.watch],
                log=self.log_path(f"cli-{engine.prefix}-{label}"),
            )
            if result.returncode != 0:
                raise RuntimeError(f"dagster CLI failed:\n{result.stderr_tail}")
            report = self.mirror_latest(since)
            report["wall_s"] = round(result.wall_s + report["mirror_s"], 3)
            report["cli_s"] = result.wall_s
            self.record(
                self.platform_entry(
                    f"platform[{engine.name}] CLI: {label} ({count} mo)",
                    it,
                    report,
                    n,
                    result,
                    engine,
                    note="dagster asset materialize + mirror_run; tables exist (months replaced)",
                )
            )

    def mirror_latest(self, since: float) -> dict[str, Any]:
        """Mirror the newest run created after ``since`` into the ELT log (the sensor's work)."""
        import dagster as dg
        import psycopg

        from benchmarks.run_events import run_report
        from subway_platform.elt_log.mirror import mirror_run

        with dg.DagsterInstance.get() as instance:
            records = instance.get_run_records(
                filters=dg.RunsFilter(created_after=dg_datetime(since)), limit=1
            )
            run_id = records[0].dagster_run.run_id
            start = time.perf_counter()
            with psycopg.connect(self.env["SUBWAY_MART_DSN"]) as conn:
                logged = mirror_run(instance, run_id, conn)
                conn.commit()
            mirror_s = time.perf_counter() - start
            report = run_report(instance, run_id)
        report.update(
            mirror_s=round(mirror_s, 3), elt_log_rows=logged, success=report["status"] == "success"
        )
        return report

    def platform_entry(
        self,
        case: str,
        it: int,
        line: dict[str, Any],
        rows: int,
        child: ChildResult,
        engine: Engine,
        note: str,
        **extra: Any,
    ) -> dict[str, Any]:
        wall = line["wall_s"]
        layer_rates = {k: round(rows / v) for k, v in line["layers"].items() if v}
        return {
            "case": case,
            "system": "platform",
            "engine": engine.name,
            "iteration": it,
            "wall_s": wall,
            "rows": rows,
            "rows_per_s": round(rows / wall) if wall else None,
            "layers_s": line["layers"],
            "layer_rows_per_s": layer_rates,
            "run_seconds": line.get("run_seconds"),
            "mirror_s": line.get("mirror_s"),
            "elt_log_rows": line.get("elt_log_rows"),
            "rows_written": line.get("rows_written"),
            "success": line.get("success"),
            "peak_pss_mib": child.memory["peak_pss_mib"],
            "peak_rss_mib": child.memory["peak_rss_mib"],
            "memory": child.memory,
            "load_before": child.load_before,
            "load_after": child.load_after,
            "note": note,
            **{k: v for k, v in extra.items() if v is not None},
            # A fresh process's imports (Dagster, the definitions) happen before the run's
            # wall starts; this is the figure with them, from interpreter start.
            **(
                {"wall_with_startup_s": round(wall + extra["imports_s"], 3)}
                if extra.get("imports_s")
                else {}
            ),
            **{k: line[k] for k in ("cli_s", "execute_s", "run_id") if k in line},
        }

    # -- the baseline ------------------------------------------------------------------------
    def baseline_job(
        self,
        name: str,
        months: list[str],
        csv_dir: Path,
        lake: Path,
        passes: int = 1,
        fmt: str = "delta",
    ) -> ChildResult:
        """One ``spark-submit`` of the reference's job, measured from outside (JVM start
        included)."""
        from benchmarks.baseline_job import submit_argv, submit_env

        config = {
            "months": months,
            "csv_dir": str(csv_dir),
            "lake_dir": str(lake),
            "table": BASELINE_TABLE,
            "passes": passes,
            "format": fmt,
        }
        result = run_measured(
            submit_argv(config),
            env=submit_env(self.child_env("baseline")),
            cwd=REPO,
            watch_also=self.watch[:1],
            log=self.log_path(f"baseline-{name}"),
        )
        if result.returncode != 0:
            raise RuntimeError(f"baseline failed:\n{result.stderr_tail}")
        return result

    def baseline_entry(
        self,
        case: str,
        it: int,
        wall: float,
        n: int,
        layers: dict[str, float],
        results: list[ChildResult],
        note: str,
        **extra: Any,
    ) -> dict[str, Any]:
        peak = max(results, key=lambda r: r.memory["peak_pss_mib"])
        return self.record(
            {
                "case": case,
                "system": "baseline",
                "engine": "jvm+delta",
                "iteration": it,
                "wall_s": round(wall, 3),
                "rows": n,
                "rows_per_s": round(n / wall),
                "layers_s": {k: round(v, 3) for k, v in layers.items()},
                "layer_rows_per_s": {
                    k: round(n / v) for k, v in layers.items() if v and k != "jvm_start"
                },
                "peak_pss_mib": peak.memory["peak_pss_mib"],
                "peak_rss_mib": peak.memory["peak_rss_mib"],
                "memory": peak.memory,
                "load_before": results[0].load_before,
                "load_after": results[-1].load_after,
                "note": note,
                **extra,
            }
        )

    def baseline(self, it: int, daily: dict[str, Path], rows: dict[str, int]) -> None:
        """The reference's job: one ``spark-submit`` per month, one for all months, one month
        alone."""
        csv_dir = next(iter(daily.values())).parent
        months = list(daily)
        n = sum(rows[m] for m in months)
        skip = set(self.args.baseline_skip.split(",")) if self.args.baseline_skip else set()
        if "per-month" not in skip:
            # As the reference ran it: a job per month, each paying its own JVM start.
            self.drop_tables([BASELINE_TABLE])
            lake = self.work / f"baseline-lake-{it}-months"
            shutil.rmtree(lake, ignore_errors=True)
            jobs = [self.baseline_job(f"month-{m}", [m], csv_dir, lake) for m in months]
            layers: dict[str, float] = {}
            for job in jobs:
                for k, v in {
                    "jvm_start": job.lines[0]["session_s"],
                    **job.lines[1]["layers"],
                }.items():
                    layers[k] = layers.get(k, 0.0) + v
            self.baseline_entry(
                f"baseline JVM+Delta: backfill, a job per month ({len(months)} jobs)",
                it,
                sum(j.wall_s for j in jobs),
                n,
                layers,
                jobs,
                note="spark-submit per month, JVM start in each",
                mart_rows=jobs[-1].lines[1]["mart_rows"],
                job_walls_s=[j.wall_s for j in jobs],
            )
        if "one-month" not in skip:
            # One month alone: the sensor case (after the per-month jobs, the month is
            # replaced; without them, it is the table's first month).
            lake = self.work / f"baseline-lake-{it}-months"
            one = self.baseline_job("one-month", months[:1], csv_dir, lake)
            self.baseline_entry(
                "baseline JVM+Delta: one_month (1 job)",
                it,
                one.wall_s,
                rows[months[0]],
                {"jvm_start": one.lines[0]["session_s"], **one.lines[1]["layers"]},
                [one],
                note="spark-submit, one month",
                mart_rows=one.lines[1]["mart_rows"],
            )
        if "one-month-parquet" not in skip:
            lake = self.work / f"baseline-lake-{it}-one-parquet"
            shutil.rmtree(lake, ignore_errors=True)
            one = self.baseline_job("one-month-parquet", months[:1], csv_dir, lake, fmt="parquet")
            self.baseline_entry(
                "baseline JVM+Parquet: one_month (1 job)",
                it,
                one.wall_s,
                rows[months[0]],
                {"jvm_start": one.lines[0]["session_s"], **one.lines[1]["layers"]},
                [one],
                note="spark-submit, one month, Parquet instead of Delta",
                mart_rows=one.lines[1]["mart_rows"],
                engine_variant="jvm+parquet",
            )
        if "one-job" not in skip:
            self.drop_tables([BASELINE_TABLE])
            lake = self.work / f"baseline-lake-{it}-onejob"
            shutil.rmtree(lake, ignore_errors=True)
            job = self.baseline_job("one-job", months, csv_dir, lake)
            head, first = job.lines[0], job.lines[1]
            self.baseline_entry(
                f"baseline JVM+Delta: backfill, one job ({len(months)} mo)",
                it,
                job.wall_s,
                n,
                {"jvm_start": head["session_s"], **first["layers"]},
                [job],
                note="one spark-submit for all months",
                mart_rows=first["mart_rows"],
            )
        if "one-job-parquet" not in skip:
            # The fastest JVM variant (issue 15's yardstick): one job, CSV -> Parquet -> JDBC.
            self.drop_tables([BASELINE_TABLE])
            lake = self.work / f"baseline-lake-{it}-onejob-parquet"
            shutil.rmtree(lake, ignore_errors=True)
            job = self.baseline_job("one-job-parquet", months, csv_dir, lake, fmt="parquet")
            head, first = job.lines[0], job.lines[1]
            self.baseline_entry(
                f"baseline JVM+Parquet: backfill, one job ({len(months)} mo)",
                it,
                job.wall_s,
                n,
                {"jvm_start": head["session_s"], **first["layers"]},
                [job],
                note="one spark-submit for all months, Parquet instead of Delta",
                mart_rows=first["mart_rows"],
                engine_variant="jvm+parquet",
            )

    # -- scale ---------------------------------------------------------------------------------
    def scale(self, factor: int, months: list[str], mode: str | None, engine: Engine) -> None:
        import numpy as np

        from subway_platform.sample_data.generate import (
            _stations,
            write_daily_file,
            write_station_file,
        )

        gen = self.work / f"scale{factor}"
        if not gen.exists():
            gen.mkdir(parents=True)
            stations = _stations(float(factor))
            for m in months:
                write_daily_file(gen, m, stations, np.random.default_rng([7, int(m)]))
            write_station_file(gen, float(factor))
        daily = {m: gen / f"CARD_SUBWAY_MONTH_{m}.csv" for m in months}
        n = sum(data_rows(p) for p in daily.values())
        variant = f"{engine.prefix}-{mode or 'local'}"
        prefix = f"scale{factor}-{variant}"
        self.drop_tables(["subway_passengers"])
        extra = {"SAIL_MODE": mode} if mode else {}
        plan = [
            {"upload": [[str(gen / "서울시 역사마스터 정보.csv"), STATION_NAME]]},
            {"run": "station", "job": "station_job"},
            {"upload": [[str(p), p.name] for p in daily.values()]},
            {"run": "scale", "job": "daily_passengers_job", "months": months},
        ]
        if self.args.profile:
            plan[-1]["profile"] = str(Path(self.args.profile) / f"{prefix}-scale.prof")
        result = self.worker(prefix, plan, f"scale{factor}-{variant}", engine, **extra)
        line = [x for x in result.lines if x.get("label") == "scale"][0]
        how = (
            (mode or "in-process Sail")
            if engine.name == "sail"
            else f"Apache Spark, {engine.name.split('/')[1]} sink"
        )
        entry = self.platform_entry(
            f"scale {factor}x {how} ({len(months)} mo)",
            0,
            line,
            n,
            result,
            engine,
            note="warm process (station loaded first in it)",
        )
        entry["scale"] = factor
        if engine.name == "sail":
            entry["sail_mode"] = mode or "local"
        entry["csv_mib"] = round(sum(p.stat().st_size for p in daily.values()) / 2**20, 1)
        self.record(entry)

    # -- helpers -------------------------------------------------------------------------------
    def upload(self, prefix: str, paths: list[Path]) -> None:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )
        for p in paths:
            client.upload_file(str(p), "subway", f"{prefix}/landing/{p.name}")

    def drop_tables(self, tables: list[str]) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.env["SUBWAY_MART_DSN"], autocommit=True) as conn:
            for table in tables:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def dg_datetime(ts: float) -> Any:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts - 1, tz=timezone.utc)


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[
        :1
    ]
    import dagster
    import pysail  # type: ignore[import-untyped]
    import pyspark

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(int(mem) / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "dagster": dagster.__version__,
        "pyspark": pyspark.__version__,
        "pysail": getattr(pysail, "__version__", "?"),
        "java": java[0] if java else "?",
    }


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'case':<60}{'it':>3}{'wall s':>9}{'rows/s':>10}{'bronze s':>9}{'gold s':>8}"
        f"{'mart s':>8}{'peak MiB':>10}{'load':>10}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        layers = r.get("layers_s", {})
        print(
            f"{r['case']:<60}{r.get('iteration', 0):>3}{r['wall_s']:>9.2f}"
            f"{r.get('rows_per_s') or 0:>10}"
            f"{layers.get('bronze', 0):>9.2f}{layers.get('gold', 0):>8.2f}"
            f"{layers.get('mart', 0):>8.2f}"
            f"{r.get('peak_pss_mib', 0):>10.0f}"
            f"{r['load_before'][0]:>6.1f}-{r.get('load_after', r['load_before'])[0]:<3.1f}"
        )
        if r.get("wall_with_startup_s"):
            print(
                f"{'  (same, with the process start-up: imports)':<60}{'':>3}"
                f"{r['wall_with_startup_s']:>9.2f}"
            )


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per case and the baseline/platform ratios."""
    from statistics import median

    by_case: dict[str, list[float]] = {}
    for r in results:
        by_case.setdefault(r["case"], []).append(r["wall_s"])
    med = {k: round(median(v), 3) for k, v in by_case.items()}
    out: dict[str, Any] = {"median_wall_s": med, "ratios_baseline_over_platform": {}}
    ratios: dict[str, float] = out["ratios_baseline_over_platform"]
    per_month = next(
        (
            w
            for c, w in med.items()
            if c.startswith("baseline JVM+Delta: backfill, a job per month")
        ),
        None,
    )
    one_job = next(
        (w for c, w in med.items() if c.startswith("baseline JVM+Delta: backfill, one job")), None
    )
    one_job_parquet = next(
        (w for c, w in med.items() if c.startswith("baseline JVM+Parquet: backfill, one job")),
        None,
    )
    b1 = med.get("baseline JVM+Delta: one_month (1 job)")
    b1_parquet = med.get("baseline JVM+Parquet: one_month (1 job)")
    for case, wall in med.items():
        if not case.startswith("platform"):
            continue
        if "backfill (" in case:
            if per_month:
                ratios[f"{case} vs a job per month"] = round(per_month / wall, 2)
            if one_job:
                ratios[f"{case} vs one job"] = round(one_job / wall, 2)
            if one_job_parquet:
                ratios[f"{case} vs one Parquet job"] = round(one_job_parquet / wall, 2)
        elif "one_month" in case:
            if b1:
                ratios[f"{case} vs one month job"] = round(b1 / wall, 2)
            if b1_parquet:
                ratios[f"{case} vs one month Parquet job"] = round(b1_parquet / wall, 2)
    return out


def engines_from(spec: str, sinks: str) -> list[str]:
    """``sail,spark`` and ``copy,jdbc`` -> ``["sail", "spark/copy", "spark/jdbc"]``."""
    names = [e.strip() for e in spec.split(",") if e.strip()]
    out: list[str] = []
    for name in names:
        if name == "sail":
            out.append("sail")
        elif name == "spark":
            out += [f"spark/{k.strip()}" for k in sinks.split(",") if k.strip()]
        else:
            raise SystemExit(f"unknown engine {name!r} (sail, spark)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--iterations", type=int, default=2, help="A B rounds (platform, baseline); default 2"
    )
    parser.add_argument(
        "--months", default=",".join(MONTHS), help="real months, comma-separated (default: 2019)"
    )
    parser.add_argument(
        "--scale10-months", type=int, default=2, help="synthetic 10x months (0 = skip)"
    )
    parser.add_argument(
        "--scale100", action="store_true", help="also run 100x (one month by default)"
    )
    parser.add_argument("--scale100-months", type=int, default=1)
    parser.add_argument(
        "--no-cluster", action="store_true", help="skip the SAIL_MODE=local-cluster runs"
    )
    parser.add_argument("--skip", default="", help="comma-separated: inprocess,cli,baseline,scale")
    parser.add_argument(
        "--engines",
        default="sail,spark",
        help="platform engines, comma-separated: sail (embedded), spark (Apache Spark 4.2 "
        "Connect server with delta-spark, local[2]); default both",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="directory for cProfile dumps of the in-process runs (one .prof per run)",
    )
    parser.add_argument(
        "--spark-sinks",
        default="copy,jdbc",
        help="mart sinks measured on Apache Spark (SUBWAY_MART_SINK); default copy,jdbc",
    )
    parser.add_argument(
        "--spark-cli-sinks",
        default="copy",
        help="sinks whose CLI cases run on Apache Spark (default copy: the CLI adds only "
        "Dagster's start-up, the same for both)",
    )
    parser.add_argument(
        "--baseline-skip",
        default="",
        help="comma-separated baseline variants to skip: per-month (a job per month), "
        "one-month, one-month-parquet, one-job, one-job-parquet",
    )
    parser.add_argument(
        "--yardsticks",
        action="store_true",
        help="issue 23: the floor (benchmarks/floor.py) and the strongest JVM variant in each "
        "round, after the platform's CLI cases; with --scale100 also the 100x month via the CLI "
        "and the floor",
    )
    parser.add_argument(
        "--floor-engine", choices=("polars", "duckdb"), default="polars", help="the floor's engine"
    )
    parser.add_argument(
        "--lake",
        choices=("local", "s3"),
        default="local",
        help="where the archive and Delta lake live: the state directory as the embedded "
        "platform has them (default), or moto's S3 API like the landing zone",
    )
    parser.add_argument(
        "--platform-root",
        default=str(REPO),
        help="directory whose subway_platform package is measured (default: this repo)",
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    months = [m.strip() for m in args.months.split(",") if m.strip()]

    sys.path.insert(0, str(Path(args.platform_root).resolve()))
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    from subway_platform.platform.services import EmbeddedServices

    work = Path(tempfile.mkdtemp(prefix="subway-bench-"))
    work.chmod(0o711)
    started = time.time()
    services = EmbeddedServices(work / "state")
    env = services.start()
    os.environ.update(env)
    spark_server = None
    try:
        watch = services.child_pids()
        pg = services.postgres.server_pid()
        watch = ([pg] if pg else []) + [p for p in watch if p != pg]  # postmaster first
        bench = Bench(args, env, watch, work)
        engines = [Engine("sail")]
        variants = engines_from(args.engines, args.spark_sinks)
        if any(v.startswith("spark/") for v in variants) or "baseline" not in skip:
            from subway_platform.platform.spark.jars import resolve_jars

            resolve_jars()  # once per machine (Maven Central); a no-op when cached
        if any(v.startswith("spark/") for v in variants):
            from subway_platform.platform.spark.server import ApacheSparkServer

            spark_server = ApacheSparkServer(work / "logs" / "spark-server", {**os.environ, **env})
            load = os.getloadavg()
            url = spark_server.start()
            spark_pid = spark_server.server.pid if spark_server.server else None
            bench.record(
                {
                    "case": "Apache Spark Connect server start (once, untimed elsewhere)",
                    "system": "platform",
                    "engine": "spark",
                    "wall_s": round(spark_server.started_in_s, 3),
                    "load_before": load,
                    "load_after": os.getloadavg(),
                    "note": "spark-submit of SparkConnectServer, local[2], delta-spark",
                }
            )
            engines += [
                Engine(
                    v,
                    {"SPARK_REMOTE": url, "SUBWAY_MART_SINK": v.split("/")[1]},
                    (spark_pid,) if spark_pid else (),
                )
                for v in variants
                if v.startswith("spark/")
            ]
        if "sail" not in variants:
            engines = engines[1:]
        cli_engines = [
            e
            for e in engines
            if e.name == "sail" or e.name.split("/")[1] in args.spark_cli_sinks.split(",")
        ]
        csv_dir = work / "real"
        csv_dir.mkdir()
        daily = {}
        for m in months:
            src = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{m}.csv"
            daily[m] = Path(shutil.copy(src, csv_dir / src.name))
        rows = {m: data_rows(p) for m, p in daily.items()}
        print(
            f"{sum(rows.values())} real rows in {len(months)} months; work dir {work}", flush=True
        )
        for it in range(1, args.iterations + 1):
            print(f"round {it}", flush=True)
            if "inprocess" not in skip:
                for engine in engines:
                    bench.platform_inprocess(it, daily, rows, engine)
            if "cli" not in skip:
                for engine in cli_engines:
                    bench.platform_cli(it, daily, rows, engine)
            if "baseline" not in skip:
                bench.baseline(it, daily, rows)
            if args.yardsticks:
                from benchmarks.yardsticks import round_of

                round_of(bench, it, daily, rows)
        if "scale" not in skip:
            scale_months = [f"2019{m:02d}" for m in range(1, 13)]
            runs = [(10, scale_months[: args.scale10_months])] if args.scale10_months else []
            if args.scale100:
                runs.append((100, scale_months[: args.scale100_months]))
            for factor, ms in runs:
                for engine in engines:
                    modes: list[str | None] = [None]
                    if engine.name == "sail" and not args.no_cluster:
                        modes.append("local-cluster")
                    for mode in modes:
                        bench.scale(factor, ms, mode, engine)
    finally:
        if spark_server is not None:
            spark_server.stop()
        services.stop()
    results = bench.results
    print_table(results)
    doc = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": machine(),
        "args": vars(args),
        "git": subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),
        "summary": summary(results),
        "results": results,
    }
    out_dir = REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    print("\n" + json.dumps(doc["summary"], indent=2))
    print(f"results: {out}")
    # Keep the children's logs (Dagster events, Sail, JVM) next to the results.
    if (work / "logs").exists():
        shutil.copytree(work / "logs", out.with_suffix(""), dirs_exist_ok=True)
    failed = [r["case"] for r in results if r.get("success") is False]
    if failed:
        print(f"FAILED runs (see the logs in {out.with_suffix('')}): {', '.join(failed)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
