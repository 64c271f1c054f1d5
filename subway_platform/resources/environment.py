"""Resources wired to the environment variables of design.md (read when a run starts).

The variables are checked when the code location loads: a missing or malformed one fails
the load with one line naming it and giving an example (``subway_platform.configuration``),
rather than a run failing later with a driver's traceback.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from subway_platform.configuration import check_environment
from subway_platform.io_managers.delta import DeltaLakeIOManager
from subway_platform.io_managers.postgres import PostgresMartIOManager
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.postgres import MartDatabase
from subway_platform.resources.spark import SparkEngine
from subway_platform.resources.storage import ObjectStorage
from subway_platform.sensors import LandingSensorSettings


def build_resources() -> dict[str, Any]:
    """Resources wired to SUBWAY_* and AWS_* variables (checked now, read when a run starts).

    Raises ``ConfigurationError`` (one line) when a variable is missing or unusable.
    """
    check_environment()
    spark = SparkEngine()
    storage = ObjectStorage()
    mart = MartDatabase(dsn=dg.EnvVar("SUBWAY_MART_DSN"))
    locks = TableLocks(mart=mart)
    return {
        "spark": spark,
        "storage": storage,
        "mart": mart,
        "landing": LandingZone(
            landing_url=dg.EnvVar("SUBWAY_LANDING_URL"),
            archive_url=dg.EnvVar("SUBWAY_ARCHIVE_URL"),
            lake_url=dg.EnvVar("SUBWAY_LAKE_URL"),
            storage=storage,
        ),
        "locks": locks,
        "delta_io_manager": DeltaLakeIOManager(
            lake_url=dg.EnvVar("SUBWAY_LAKE_URL"), spark=spark, locks=locks
        ),
        "mart_io_manager": PostgresMartIOManager(mart=mart, spark=spark),
        "landing_sensor_settings": LandingSensorSettings(),
    }
