"""The code location: assembles assets, checks, jobs, sensors and resources."""

import dagster as dg

from subway_platform.assets import build_assets
from subway_platform.jobs import ALL_JOBS, station_schedule
from subway_platform.resources.environment import build_resources

defs = dg.Definitions(
    assets=build_assets(),
    jobs=ALL_JOBS,
    schedules=[station_schedule],
    resources=build_resources(),
)
