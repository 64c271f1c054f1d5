"""Helpers for the platform tests: find processes through /proc (Linux)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def make_state_dir(prefix: str) -> Path:
    """A temporary state dir PostgreSQL's account can enter when tests run as root."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return False
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state != b"Z"


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` in the parent tree."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read(f"/proc/{entry}/stat")
        if not stat:
            continue
        ppid = int(stat.rsplit(b")", 1)[-1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid for pid in found if alive(pid)}


def processes_mentioning(text: str) -> set[int]:
    """Live processes whose command line or environment contains ``text``."""
    needle = text.encode()
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        blob = _read(f"/proc/{entry}/cmdline") + _read(f"/proc/{entry}/environ")
        if needle in blob and alive(int(entry)):
            out.add(int(entry))
    return out


def wait_gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    """Wait for ``pids`` to exit; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    left = {pid for pid in pids if alive(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {pid for pid in left if alive(pid)}
    return left
