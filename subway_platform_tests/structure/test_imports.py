"""Every module imports on its own, without side effects, and without heavy libraries
where the code location, a definition build or a sensor tick does not need them."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from subway_platform_tests.structure.probe import HEAVY, REPO, all_modules, config_env, run_probe

# Imports ``module`` after what any process has loaded anyway (Dagster itself), and reports
# what importing it changed: environment variables, exit handlers registered by the
# platform's own code (a library's own, e.g. requests', are not the platform's doing),
# the working directory.
_IMPORT_ON_ITS_OWN = """
import atexit, importlib, json, os, sys
import dagster
env, cwd, registered = dict(os.environ), os.getcwd(), []
_register = atexit.register
def _recording(fn, *args, **kwargs):
    registered.append(f"{{getattr(fn, '__module__', '?')}}.{{getattr(fn, '__qualname__', fn)}}")
    return _register(fn, *args, **kwargs)
atexit.register = _recording
importlib.import_module({module!r})
print(json.dumps({{
    "env": sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k)),
    "exit_handlers": [h for h in registered if h.startswith(("subway_platform", "gc."))],
    "cwd_changed": os.getcwd() != cwd,
}}))
"""


def _import_alone(module: str) -> tuple[str, str | None]:
    """``(module, problem)``: None when it imported alone without side effects."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBWAY_")}
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_ON_ITS_OWN.format(module=module)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        return module, "import failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    import json

    report = json.loads(proc.stdout.strip().splitlines()[-1])
    changes = [f"{name}: {value}" for name, value in report.items() if value not in ([], False)]
    return module, ("side effects: " + ", ".join(changes)) if changes else None


def test_every_module_imports_on_its_own_without_side_effects() -> None:
    """A fresh process per module: no import cycle (a cycle fails whichever module of it is
    imported first), no environment variable set, no exit handler registered on import."""
    modules = all_modules()
    assert "subway_platform.checks" in modules and "subway_platform.definitions" in modules
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [f"{m}: {p}" for m, p in pool.map(_import_alone, modules) if p]
    assert problems == []


def test_code_location_loads_without_spark_delta_or_s3_libraries(tmp_path: Path) -> None:
    """Importing the code location, building its definitions, repository and asset graph,
    and resolving every job import none of pyspark, deltalake, boto3 or pyarrow."""
    report = run_probe(
        """
import json, os, sys
import subway_platform.definitions as location
imported_on_import = [m for m in {heavy!r} if m in sys.modules]
batch_on_import = os.environ.get("DAGSTER_EVENT_BATCH_SIZE")
defs = location.code_location()
repo = defs.get_repository_def()
graph = repo.asset_graph
jobs = [repo.get_job(j.name).name for j in repo.get_all_jobs()]
print(json.dumps({{
    "on_import": imported_on_import,
    "after_build": [m for m in {heavy!r} if m in sys.modules],
    "assets": len(list(graph.get_all_asset_keys())),
    "jobs": sorted(jobs),
    "same": location.defs is defs,
    "batch_on_import": batch_on_import,
    "batch_after_build": os.environ.get("DAGSTER_EVENT_BATCH_SIZE"),
}}))
""".format(heavy=HEAVY),
        config_env(tmp_path),
    )
    assert report["on_import"] == []
    assert report["after_build"] == []
    assert report["assets"] >= 9
    assert "monthly_all_job" in report["jobs"] and "daily_passengers_job" in report["jobs"]
    assert report["same"] is True  # built once per process
    # The process settings are applied by building the definitions, not by the import.
    assert report["batch_on_import"] is None
    assert report["batch_after_build"] == "100"


def test_dagster_cli_validates_the_lazy_code_location(tmp_path: Path) -> None:
    """``dagster definitions validate -m subway_platform.definitions`` finds the
    ``@dg.definitions`` function and builds it; a bad setting still fails the load."""
    dagster = str(Path(sys.executable).parent / "dagster")
    cmd = [dagster, "definitions", "validate", "-m", "subway_platform.definitions"]
    good = subprocess.run(
        cmd, env=config_env(tmp_path), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert good.returncode == 0, good.stderr[-3000:]
    bad_env = config_env(tmp_path, SUBWAY_MART_DSN="mysql://etl:unused@127.0.0.1:9/mart")
    bad = subprocess.run(cmd, env=bad_env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0
    assert "SUBWAY_MART_DSN" in bad.stdout + bad.stderr
