"""``station_master_sensor``: a changed station master re-enriches exactly the passenger
months it affects.

Each tick looks at the station master's latest materialization. When it is new (or the
last request left months for later), the tick reads the passenger gold months' distinct
(line, station) pairs and their stored enrichment (``stored.py``, delta-rs, no engine),
resolves the pairs against the master now in the lake (``match_pairs``) and requests one
run of ``reenrichment_job`` naming the affected months (``affected.py``): at most
``ReenrichmentSettings.max_months_per_run`` of them, oldest first; the next tick requests
the rest once the run has rewritten its months. A master whose content did not change
affects no month: the tick requests nothing.
"""

import hashlib
import json

import dagster as dg

from subway_platform.assets.station_match import match_pairs
from subway_platform.datasets import dataset_named
from subway_platform.reenrichment.affected import first_months, month_changes, pairs_of
from subway_platform.reenrichment.job import enriched_datasets, reenrichment_job
from subway_platform.reenrichment.stored import master_index, stored_enrichment
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.tables import tables_of
from subway_platform.tags import KIND_TAG, STATION_MASTER_TAG

STATION_MASTER_SENSOR_INTERVAL_SECONDS = 60


class ReenrichmentSettings(dg.ConfigurableResource):
    """Bound of one re-enrichment run."""

    max_months_per_run: int = 12
    """Months (over all passenger data sets) one run re-enriches; the rest go in the next."""


def affected_months(lakehouse: Lakehouse) -> dict[str, list[str]]:
    """Data set name -> the months whose stored enrichment differs from what the station
    master now in the lake gives them."""
    options = lakehouse.delta_options()
    out: dict[str, list[str]] = {}
    for spec in enriched_datasets():
        assert spec.station_join is not None
        master = dataset_named(spec.station_join.master)
        index = master_index(lakehouse.url_of(tables_of(master).gold), options, master)
        stored = stored_enrichment(spec, lakehouse.url_of(tables_of(spec).gold), options)
        matched, _ = match_pairs(index, pairs_of(stored))
        months = sorted(month_changes(stored, matched))
        if months:
            out[spec.name] = months
    return out


def _master_key() -> dg.AssetKey:
    masters = {spec.station_join.master for spec in enriched_datasets() if spec.station_join}
    (name,) = masters
    return tables_of(dataset_named(name)).gold.key


def evaluate_station_master(
    context: dg.SensorEvaluationContext, lakehouse: Lakehouse, max_months: int
) -> dg.SensorResult | dg.SkipReason:
    """One tick (see the module's docstring). Cursor: ``{"master": <storage id of the
    master materialization handled>, "pending": <months left for a later run>}``."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=_master_key()), limit=1
    ).records
    if not records:
        return dg.SkipReason("the station master has never been materialized")
    latest = records[0].storage_id
    if latest == cursor.get("master") and not cursor.get("pending"):
        return dg.SkipReason("no new station master materialization")
    chosen, left = first_months(affected_months(lakehouse), max_months)
    new_cursor = json.dumps({"master": latest, "pending": left})
    if not chosen:
        return dg.SensorResult(
            skip_reason="the station master's change affects no passenger month",
            cursor=new_cursor,
        )
    selection = json.dumps(chosen, sort_keys=True)
    digest = hashlib.sha256(selection.encode()).hexdigest()[:16]
    context.log.info(f"re-enriching {selection}; {left} months left for a later run")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"station-master-{latest}-{digest}",
                run_config={"ops": {"reenrich_station_months": {"config": {"months": chosen}}}},
                tags={KIND_TAG: "reenrichment", STATION_MASTER_TAG: str(latest)},
            )
        ],
        cursor=new_cursor,
    )


@dg.sensor(
    name="station_master_sensor",
    minimum_interval_seconds=STATION_MASTER_SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    job=reenrichment_job,
    description="When the station master's content changes, requests one run of "
    "reenrichment_job for exactly the passenger months whose station ids or coordinates "
    "change (bounded by reenrichment_settings.max_months_per_run; the rest next tick).",
)
def station_master_sensor(
    context: dg.SensorEvaluationContext,
    lakehouse: Lakehouse,
    reenrichment_settings: ReenrichmentSettings,
) -> dg.SensorResult | dg.SkipReason:
    return evaluate_station_master(context, lakehouse, reenrichment_settings.max_months_per_run)
