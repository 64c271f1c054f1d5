"""Run a Python snippet in a fresh interpreter and read back what it reported (JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "subway_platform"
HEAVY = ("pyspark", "deltalake", "boto3", "botocore", "pyarrow", "pandas")
"""Modules the code location and a sensor tick must not import (only a step needs them)."""


def all_modules() -> list[str]:
    """Every module of the ``subway_platform`` package, from its files."""
    out: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def config_env(root: Path, **extra: str) -> dict[str, str]:
    """A valid platform configuration on local directories under ``root`` (nothing runs,
    so the mart DSN is never dialled)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUBWAY_", "DAGSTER_EVENT"))}
    for name in ("landing", "archive", "lake"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        SUBWAY_LANDING_URL=str(root / "landing"),
        SUBWAY_ARCHIVE_URL=str(root / "archive"),
        SUBWAY_LAKE_URL=str(root / "lake"),
        SUBWAY_MART_DSN="postgresql://etl:unused@127.0.0.1:9/mart",
        DAGSTER_HOME=str(root),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


def run_probe(code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env if env is not None else dict(os.environ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"probe failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
