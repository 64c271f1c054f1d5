"""The code location: assembles assets, checks, jobs, sensors and resources."""

import dagster as dg

from subway_platform.assets import build_assets
from subway_platform.elt_log.sensor import elt_log_definitions
from subway_platform.jobs import ALL_JOBS, station_schedule
from subway_platform.resources.environment import build_resources
from subway_platform.sensors import landing_sensor

defs = dg.Definitions.merge(
    dg.Definitions(
        assets=build_assets(),
        jobs=ALL_JOBS,
        schedules=[station_schedule],
        sensors=[landing_sensor],
        resources=build_resources(),
    ),
    elt_log_definitions(),
)
