"""The code location: assembles assets, checks, jobs, sensors and resources.

Importing this module builds nothing and changes nothing in the process. Dagster loads the
code location through :func:`code_location` (``@dg.definitions``), which builds the
definitions once per process: it checks the configuration, builds the assets and applies
the process settings (``process_settings.py``). Python code gets the same object as
``from subway_platform.definitions import defs`` (built on that first access).
"""

import functools
from typing import Any

import dagster as dg

from subway_platform.alerts.sensors import alert_definitions
from subway_platform.assets import build_assets
from subway_platform.elt_log.sensor import elt_log_definitions
from subway_platform.freshness import freshness_definitions
from subway_platform.jobs import ALL_JOBS, station_schedule
from subway_platform.lake_maintenance import delta_maintenance_job, maintenance_schedule
from subway_platform.landing_assets import LANDING_SOURCES
from subway_platform.landing_scan import landing_scan_job
from subway_platform.process_settings import apply_process_settings
from subway_platform.range_runs import range_run_definitions
from subway_platform.reenrichment import reenrichment_definitions
from subway_platform.resources.environment import build_resources
from subway_platform.sensors import landing_sensor


@functools.cache
def build_definitions() -> dg.Definitions:
    """Every definition of the platform, built once per process.

    Raises ``ConfigurationError`` (one line) when a variable is missing or unusable.
    """
    apply_process_settings()
    return dg.Definitions.merge(
        dg.Definitions(
            assets=[*LANDING_SOURCES, *build_assets()],
            jobs=[*ALL_JOBS, delta_maintenance_job, landing_scan_job],
            schedules=[station_schedule, maintenance_schedule],
            sensors=[landing_sensor],
            resources=build_resources(),
            # The steps of a job form a chain and Spark parallelises inside each step: one
            # process per run (one embedded Sail, one import of pyspark) instead of one per step.
            executor=dg.in_process_executor,
        ),
        elt_log_definitions(),
        alert_definitions(),
        freshness_definitions(),
        range_run_definitions(),
        reenrichment_definitions(),
    )


@dg.definitions
def code_location() -> dg.Definitions:
    """The code location Dagster loads (``dagster dev``, ``-m subway_platform.definitions``)."""
    return build_definitions()


def __getattr__(name: str) -> Any:
    """``defs``: the built definitions, for Python callers (tests, the demo, benchmarks)."""
    if name == "defs":
        return build_definitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
