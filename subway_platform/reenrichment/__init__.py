"""Re-enrichment of passenger months when the station master changes: the pure rule
(``affected.py``), the lake reads (``stored.py``), the job (``job.py``) and its sensor
(``sensor.py``)."""

import dagster as dg

from subway_platform.reenrichment.job import reenrichment_job
from subway_platform.reenrichment.sensor import ReenrichmentSettings, station_master_sensor


def reenrichment_definitions() -> dg.Definitions:
    """The job, its sensor and the sensor's bound."""
    return dg.Definitions(
        jobs=[reenrichment_job],
        sensors=[station_master_sensor],
        resources={"reenrichment_settings": ReenrichmentSettings()},
    )
