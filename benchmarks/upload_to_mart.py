"""``python -m benchmarks.upload_to_mart``: from an upload to the month in the mart and the
ELT log under ``subway-platform dev``, and where the time goes (issue 23 item 4).

Starts ``subway-platform dev`` in a fresh state directory (its own PostgreSQL, moto S3,
Sail server, ``dagster dev`` with the daemon and the code server), waits until the code
location is loaded and both sensors have ticked, then uploads one real month of the daily
data set (``CARD_SUBWAY_MONTH_<month>.csv``) at a time to the landing bucket and polls the
mart and ``elt_manager_log`` every 0.1 s until the month is in both. Then it reads the
run back from the Dagster instance and splits the time:

- **sensor**: upload -> the landing sensor's tick that requested the run (waiting for the
  tick) and that tick's own work (tick start -> run created, RUN_ENQUEUED);
- **queue**: RUN_ENQUEUED -> RUN_STARTING (the daemon dequeues and launches it);
- **run start**: RUN_STARTING -> RUN_START (the code server spawns the run worker, which
  imports Dagster and loads the code location);
- **steps**: RUN_START -> RUN_SUCCESS, with each step's STEP_START -> STEP_SUCCESS and what
  lies before the first step (resources, the engine session);
- **mart**: upload -> the month readable in the mart (seen by polling);
- **mirror**: RUN_SUCCESS -> the ELT log rows readable (the ELT log sensor's tick).

Prints one block per upload and a summary; writes the figures to
``benchmarks/results/upload-to-mart-<time>.json``. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.run import REAL, REPO

SENSORS = ("landing_sensor", "elt_log_sensor")


def _sensor_states(instance: Any) -> dict[str, Any]:
    from dagster._core.scheduler.instigation import InstigatorType

    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    return {s.instigator_name: s for s in states if s.instigator_name in SENSORS}


def _ticks(instance: Any, state: Any, after: float) -> list[Any]:
    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after))


def _loaded(port: int) -> bool:
    from subway_platform.platform.dev_process import location_status

    status = location_status(port)
    return status is not None and status[0] == "LOADED"


def _wait(what: str, check: Any, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`subway-platform dev` exited while waiting for {what}")
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s")


def _events(instance: Any, run_id: str) -> dict[str, Any]:
    """First timestamp of each run event kind, and step start/end per step."""
    first: dict[str, float] = {}
    steps: dict[str, dict[str, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type.name
        first.setdefault(kind, entry.timestamp)
        if kind == "STEP_START" and event.step_key:
            steps.setdefault(event.step_key, {})["start"] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key:
            steps.setdefault(event.step_key, {})["end"] = entry.timestamp
    return {"first": first, "steps": steps}


def measure_one(
    instance: Any, s3: Any, dsn: str, month: str, proc: subprocess.Popen[bytes]
) -> dict[str, Any]:
    """Upload one month and split the time until it is in the mart and the ELT log."""
    import psycopg

    name = f"CARD_SUBWAY_MONTH_{month}.csv"
    seen: dict[str, float] = {}

    def poll() -> bool:
        with psycopg.connect(dsn) as conn:
            if "mart" not in seen:
                table = conn.execute("SELECT to_regclass('public.subway_passengers')").fetchone()
                if table and table[0]:
                    row = conn.execute(
                        "SELECT count(*) FROM subway_passengers WHERE month = %s", (month,)
                    ).fetchone()
                    if row and row[0]:
                        seen["mart"] = time.time()
            log = conn.execute("SELECT to_regclass('public.elt_manager_log')").fetchone()
            if log and log[0]:
                row = conn.execute(
                    "SELECT count(*) FROM elt_manager_log WHERE partition_key = %s", (month,)
                ).fetchone()
                if row and row[0] >= 3:
                    seen["elt_log"] = time.time()
        return "mart" in seen and "elt_log" in seen

    uploaded = time.time()
    s3.upload_file(str(REAL / "card_subway_month" / name), "subway", f"landing/{name}")
    _wait(f"month {month} in the mart and the ELT log", poll, 600, proc)

    runs = [
        r
        for r in instance.get_run_records()
        if r.dagster_run.tags.get("subway/source_file") == name
    ]
    [record] = runs
    run_id = record.dagster_run.run_id
    events = _events(instance, run_id)
    first = events["first"]
    states = _sensor_states(instance)
    tick = next(
        t for t in _ticks(instance, states["landing_sensor"], uploaded - 60) if run_id in t.run_ids
    )
    created = first.get("RUN_ENQUEUED", record.create_timestamp.timestamp())
    starting = first["RUN_STARTING"]
    started = first["RUN_START"]
    success = first["RUN_SUCCESS"]
    step_seconds = {k: round(v["end"] - v["start"], 2) for k, v in events["steps"].items()}
    first_step = min(v["start"] for v in events["steps"].values())
    split = {
        "sensor: wait for the tick": tick.timestamp - uploaded,
        "sensor: the tick's work": created - tick.timestamp,
        "queue (enqueued -> starting)": starting - created,
        "run start (starting -> RUN_START)": started - starting,
        "steps: before the first step": first_step - started,
        "steps: the steps": sum(step_seconds.values()),
        "steps: between and after the steps": success - first_step - sum(step_seconds.values()),
        "mirror (RUN_SUCCESS -> ELT log rows)": seen["elt_log"] - success,
    }
    return {
        "month": month,
        "run_id": run_id,
        "upload_to_mart_s": round(seen["mart"] - uploaded, 2),
        "upload_to_elt_log_s": round(seen["elt_log"] - uploaded, 2),
        "split_s": {k: round(v, 2) for k, v in split.items()},
        "step_s": step_seconds,
        "run_s": round(success - started, 2),
        "load_avg": os.getloadavg(),
    }


def _print(result: dict[str, Any]) -> None:
    print(
        f"month {result['month']}: upload -> mart {result['upload_to_mart_s']:.2f} s, "
        f"-> ELT log {result['upload_to_elt_log_s']:.2f} s "
        f"(load {result['load_avg'][0]:.1f})",
        flush=True,
    )
    for label, seconds in result["split_s"].items():
        print(f"  {label:<40} {seconds:6.2f}", flush=True)
    for step, seconds in result["step_s"].items():
        print(f"    {step:<38} {seconds:6.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", default="201907,201908,201909", help="one upload each")
    parser.add_argument("--settle", type=float, default=20.0, help="idle s before each upload")
    parser.add_argument("--keep-state", action="store_true", help="keep the state directory")
    args = parser.parse_args(argv)

    from subway_platform.platform import cli
    from subway_platform.platform.dev_process import spawn_dev
    from subway_platform.platform.processes import free_port

    state_dir = Path(tempfile.mkdtemp(prefix="subway-bench-dev-"))
    state_dir.chmod(0o711)  # PostgreSQL runs as its own account and must enter it
    port = free_port()
    log_path = state_dir / "dev.log"
    began = time.monotonic()
    proc = spawn_dev(state_dir, port, log_path, cwd=REPO)
    results: list[dict[str, Any]] = []
    try:
        _wait("the code location", lambda: _loaded(port), 600, proc)
        print(f"dev up, code location loaded: {time.monotonic() - began:.1f} s", flush=True)
        dev_env = cli.read_env_file(state_dir)
        os.environ.update(dev_env)
        import boto3
        import dagster as dg

        s3 = boto3.client(
            "s3",
            endpoint_url=dev_env["AWS_ENDPOINT_URL"],
            region_name=dev_env["AWS_REGION"],
            aws_access_key_id=dev_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=dev_env["AWS_SECRET_ACCESS_KEY"],
        )
        with dg.DagsterInstance.get() as instance:

            def both_ticked() -> bool:
                states = _sensor_states(instance)
                return len(states) == len(SENSORS) and all(
                    _ticks(instance, s, 0.0) for s in states.values()
                )

            _wait("a tick of both sensors", both_ticked, 300, proc)
            for month in args.months.split(","):
                # A random phase against the sensors' ticks, as a real upload has.
                time.sleep(args.settle + random.uniform(0, 5))
                result = measure_one(instance, s3, dev_env["SUBWAY_MART_DSN"], month, proc)
                _print(result)
                results.append(result)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if not args.keep_state:
            shutil.rmtree(state_dir, ignore_errors=True)
    if results:
        print("median over the uploads:")
        keys = results[0]["split_s"]
        for label in keys:
            print(f"  {label:<40} {statistics.median(r['split_s'][label] for r in results):6.2f}")
        for key in ("upload_to_mart_s", "upload_to_elt_log_s"):
            print(f"  {key:<40} {statistics.median(r[key] for r in results):6.2f}")
        out = REPO / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = out / f"upload-to-mart-{stamp}.json"
        path.write_text(json.dumps({"uploads": results}, indent=1), encoding="utf-8")
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
