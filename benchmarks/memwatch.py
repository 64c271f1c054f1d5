"""Peak memory of a set of process trees, sampled from /proc (psutil is not installed).

Runs as its own process so that sampling never competes for the measured process's GIL:
``python -m benchmarks.memwatch PID [PID ...]`` samples every 250 ms the summed PSS
(proportional set size, so PostgreSQL's shared buffers are not counted once per backend)
of every listed process and all of its descendants, until its standard input closes or
receives a line; it then prints one JSON object: peak summed PSS, peak summed RSS, the
largest number of processes seen at once, and the distinct command names seen.
"""

from __future__ import annotations

import json
import os
import select
import sys
from pathlib import Path

INTERVAL_S = 0.25


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(roots: list[int]) -> set[int]:
    """Every process in the trees rooted at ``roots`` (roots included when alive)."""
    children = _children_map()
    seen: set[int] = set()
    stack = [r for r in roots if Path(f"/proc/{r}").exists()]
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(children.get(pid, []))
    return seen


def memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB; (0, 0) if it has gone."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except (OSError, ValueError):
        return 0, 0
    return pss, rss


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:120]


def watch(roots: list[int]) -> dict[str, object]:
    """Sample until stdin has a line or closes; return the peaks."""
    peak_pss = peak_rss = peak_procs = 0
    commands: set[str] = set()
    names: dict[str, int] = {}
    samples = 0
    while True:
        pids = tree(roots)
        pss = rss = 0
        counts: dict[str, int] = {}
        for pid in pids:
            p, r = memory_kib(pid)
            pss += p
            rss += r
            name = command_name(pid)
            counts[name] = counts.get(name, 0) + 1
            if len(commands) < 40:
                commands.add(command_line(pid))
        for name, n in counts.items():
            names[name] = max(names.get(name, 0), n)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        peak_procs = max(peak_procs, len(pids))
        samples += 1
        ready, _, _ = select.select([sys.stdin], [], [], INTERVAL_S)
        if ready:
            break
    return {
        "peak_pss_mib": round(peak_pss / 1024, 1),
        "peak_rss_mib": round(peak_rss / 1024, 1),
        "peak_processes": peak_procs,
        "max_processes_by_name": names,
        "samples": samples,
        "commands": sorted(commands),
    }


def main() -> None:
    roots = [int(a) for a in sys.argv[1:]]
    print(json.dumps(watch(roots)), flush=True)


if __name__ == "__main__":
    main()
