"""Helpers to run one measured child process: wall time, peak memory, machine load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MemWatch:
    """``benchmarks.memwatch`` in its own process, watching some process trees."""

    def __init__(self, roots: list[int], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.memwatch", *map(str, roots)],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        out, _ = self.proc.communicate("stop\n", timeout=60)
        return json.loads(out)


@dataclass
class ChildResult:
    """What a measured child printed (JSON lines), how long it took and its peak memory."""

    returncode: int
    wall_s: float
    lines: list[dict[str, Any]]
    memory: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def run_measured(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    watch_also: list[int],
    log: Path,
    timeout: float = 1800,
) -> ChildResult:
    """Run ``argv``; sample memory of it, its descendants and ``watch_also`` meanwhile."""
    load_before = os.getloadavg()
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        watch = MemWatch([proc.pid, *watch_also], cwd)
        try:
            out, _ = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            memory = watch.stop()
    wall = time.perf_counter() - start
    lines = []
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    tail = ""
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
    return ChildResult(
        proc.returncode, round(wall, 3), lines, memory, load_before, os.getloadavg(), tail
    )
