"""The code location: assembles assets, checks, jobs, sensors and resources."""

import os

import dagster as dg

from subway_platform.assets import build_assets
from subway_platform.elt_log.sensor import elt_log_definitions
from subway_platform.jobs import ALL_JOBS, station_schedule
from subway_platform.resources.environment import build_resources
from subway_platform.sensors import landing_sensor

# Dagster's opt-in (read at every event): the per-partition events of one output, and the
# planned events of a run, are stored with one statement per batch instead of one round
# trip each. A twelve-month run stores 36 materializations and 36 planned events; the
# batches took 1.0 s off its 1.7 s of event writes (benchmarks/README.md). Every process
# that loads this code location gets it; `subway-platform env` exports it for the rest
# (the daemon creates sensor runs without loading the code).
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "100")

defs = dg.Definitions.merge(
    dg.Definitions(
        assets=build_assets(),
        jobs=ALL_JOBS,
        schedules=[station_schedule],
        sensors=[landing_sensor],
        resources=build_resources(),
        # The steps of a job form a chain and Spark parallelises inside each step: one
        # process per run (one embedded Sail, one import of pyspark) instead of one per step.
        executor=dg.in_process_executor,
    ),
    elt_log_definitions(),
)
