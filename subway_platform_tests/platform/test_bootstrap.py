"""scripts/bootstrap.sh (behind `make demo`, `make test`, `.ci/run`) as a user who is not root.

Packages cannot be removed from a shared machine, so the test hides them the way a bare
machine lacks them: ``java`` is left out of PATH, and the venv's Python is one that does
not exist. The script runs as ``nobody`` when the test runs as root, so the non-root
path is the one taken either way (it must stop at once with one line, install nothing).
The root path (apt-get) is exercised by `make test` / `.ci/run` on a machine that lacks a
package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import subway_platform

REPO_ROOT = Path(subway_platform.__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "bootstrap.sh"
NOBODY = 65534


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A temporary directory ``nobody`` can enter (pytest's own are 0700 below root's)."""
    path = Path(tempfile.mkdtemp(prefix="subway-bootstrap-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _path_without(tmp_path: Path, *hidden: str) -> str:
    """A PATH of one directory linking every system command except ``hidden``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        for entry in Path(folder).iterdir() if Path(folder).is_dir() else ():
            target = bin_dir / entry.name
            if entry.name not in hidden and not target.exists():
                target.symlink_to(entry)
    bin_dir.chmod(0o755)
    return str(bin_dir)


def _run_unprivileged(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = ["/bin/bash", str(SCRIPT), *args]
    if os.geteuid() == 0:
        cmd = ["/usr/bin/setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    return subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd="/"
    )


def test_missing_java_stops_with_one_line_naming_the_command(tmp_path: Path) -> None:
    env = {"PATH": _path_without(tmp_path, "java"), "HOME": "/", "VENV": str(REPO_ROOT / ".venv")}
    done = _run_unprivileged(["postgresql", "java"], env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Java 17" in done.stderr
    assert "sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless " in done.stderr
    assert "postgresql" not in done.stderr.split("run:")[1]  # installed here: not asked for


def test_every_missing_part_in_the_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": _path_without(tmp_path, "java"),
        "HOME": "/",
        "VENV": str(tmp_path / "no-venv"),
        "PYTHON": "python3-that-does-not-exist",
    }
    done = _run_unprivileged(["java"], env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "sudo apt-get install -y python3 python3-venv openjdk-17-jre-headless " in done.stderr


def test_nothing_missing_is_silent() -> None:
    env = {"PATH": os.environ["PATH"], "VENV": str(REPO_ROOT / ".venv")}
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize("part", ["docker", "--all"])
def test_unknown_part_is_refused(part: str) -> None:
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), part],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert f"unknown part '{part}'" in done.stderr
