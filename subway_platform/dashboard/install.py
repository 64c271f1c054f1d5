"""Superset in its own virtual environment, installed from PyPI on first use.

Superset pins hundreds of packages that clash with Dagster's, so it never goes into the
platform's venv. The venv is keyed by the pinned requirements: a marker file records
what was installed, and a changed pin installs again into a fresh directory.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

SUPERSET_REQUIREMENTS: tuple[str, ...] = (
    "apache-superset==6.1.0",
    # Superset 6.1.0 from PyPI does not start without these three (missing or too new).
    "rich==15.0.0",
    "cachetools==8.0.2",
    "flask-caching==2.4.1",
    # The mart is PostgreSQL; Superset connects through psycopg2.
    "psycopg2-binary==2.9.13",
)

CACHE_VENV_ROOT = Path.home() / ".cache" / "subway_platform"
"""Where tests keep the Superset venv between runs on the same machine."""


class InstallError(RuntimeError):
    """Installing Superset into its venv failed (see the log file it names)."""


def requirements_key() -> str:
    """A short hash of the pinned requirements and the Python version."""
    text = "\n".join((*SUPERSET_REQUIREMENTS, f"py{sys.version_info[0]}.{sys.version_info[1]}"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cached_venv_dir() -> Path:
    """The per-machine cached venv for the current pins (``~/.cache/subway_platform/...``)."""
    return CACHE_VENV_ROOT / f"superset-venv-{requirements_key()}"


def venv_bin(venv: Path, name: str) -> Path:
    """A console script of the Superset venv."""
    return venv / "bin" / name


def _marker(venv: Path) -> Path:
    return venv / f".installed-{requirements_key()}"


def is_installed(venv: Path) -> bool:
    """Whether ``venv`` holds a complete install of the current pins."""
    return _marker(venv).is_file() and venv_bin(venv, "superset").is_file()


def _progress(label: str, done: threading.Event, out: TextIO) -> None:
    """Print a spinner with elapsed seconds until ``done`` is set (a TTY redraws one line)."""
    frames = "|/-\\"
    start = time.monotonic()
    tick = 0
    tty = out.isatty()
    while not done.wait(0.5 if tty else 15.0):
        elapsed = int(time.monotonic() - start)
        if tty:
            out.write(f"\r{label} {frames[tick % 4]} {elapsed}s ")
        else:
            out.write(f"{label} ... {elapsed}s\n")
        out.flush()
        tick += 1
    if tty:
        out.write("\r")


def _run_with_progress(cmd: list[str], label: str, log: Path, out: TextIO) -> None:
    done = threading.Event()
    spinner = threading.Thread(target=_progress, args=(label, done, out), daemon=True)
    spinner.start()
    try:
        with log.open("a", encoding="utf-8") as log_file:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                check=False,
            )
    finally:
        done.set()
        spinner.join()
    if result.returncode != 0:
        raise InstallError(f"{label} failed (exit {result.returncode}); see {log}")


def ensure_superset_venv(venv: Path, out: TextIO = sys.stdout) -> Path:
    """Create ``venv`` with the pinned Superset unless it is already there; return it."""
    venv = venv.resolve()
    if is_installed(venv):
        return venv
    if venv.exists():
        shutil.rmtree(venv)  # a half-finished or outdated install
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}-install.log"
    log.write_text("", encoding="utf-8")
    print(f"Installing Superset into {venv} (first use; log: {log})", file=out, flush=True)
    started = time.monotonic()
    _run_with_progress([sys.executable, "-m", "venv", str(venv)], "creating venv", log, out)
    pip = [str(venv_bin(venv, "python")), "-m", "pip", "install", "--disable-pip-version-check"]
    _run_with_progress([*pip, "--upgrade", "pip", "setuptools", "wheel"], "upgrading pip", log, out)
    _run_with_progress([*pip, *SUPERSET_REQUIREMENTS], "installing apache-superset", log, out)
    _marker(venv).write_text("\n".join(SUPERSET_REQUIREMENTS) + "\n", encoding="utf-8")
    print(f"Superset installed in {int(time.monotonic() - started)}s", file=out, flush=True)
    return venv
