"""Gold: typed English columns, repeated keys summed, rejects kept with their reason.

One step per data set writes two assets from one read of bronze: ``gold/<gold asset>``
and ``gold/rejects/<data set>_rejects`` (``assets/rejects.py``): the rows that cannot be parsed,
with the reason and their source position, counted as gold's ``cleaned_count``. (The
rejects table appears with the first rejected row; a load with none leaves months that
never had any untouched, and empties those that had some.) Rows repeating a key (e.g. the
same date, line and station twice) are separate real counts: gold sums them, it never
drops one. Passenger tables get the station id and coordinates from ``gold/subway_station``
when that table exists, by a left join that loses no row.

The step is a plan (``gold_plan.py``: pure Spark transformations), its figures
(``gold_figures.py``: counts from Spark jobs and the Delta logs), a publish through the
stores (``gold_publish.py``) and a judgment (``judgment.py``: metadata from the figures;
``checks.py``: the checks).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from subway_platform.assets.code_version import code_version
from subway_platform.assets.gold_figures import distinct_keys, reject_figures, rejected_rows
from subway_platform.assets.gold_plan import gold_plan
from subway_platform.assets.gold_publish import checkpointed, publish_rejects, station_table
from subway_platform.assets.judgment import (
    gold_month_metadata,
    gold_output_metadata,
    gold_source_stats,
)
from subway_platform.assets.layer import layer_asset_args
from subway_platform.assets.rejects import REJECTS_OUTPUT, rejects_description
from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.checks import gold_results
from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.elt_log.hops import HOPS
from subway_platform.frames import DataFrame
from subway_platform.partitions import context_months
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import tables_of

GoldEvent = dg.Output[DataFrame | None] | CheckEvent


def _description(spec: DatasetSpec) -> str:
    """What the UI says about a gold asset."""
    return (
        f"Gold: typed, cleansed and merged. {spec.description} Columns have English "
        f"names; rows repeating ({', '.join(spec.gold_key)}) are summed (source_rows counts them); "
        f"unparseable rows are in {tables_of(spec).rejects.key.to_user_string()} with the reason."
    )


def _gold_asset_args(spec: DatasetSpec) -> dict[str, Any]:
    """Keyword arguments of ``@dg.multi_asset`` for a data set's gold step: its two outputs
    (gold and its rejects), bronze as input and, for a passenger table, the station master."""
    tables = tables_of(spec)
    bronze_key = tables.bronze.key
    join = spec.station_join
    deps = [tables_of(dataset_named(join.master)).gold.key] if join is not None else []
    args = layer_asset_args(spec, "gold", "delta_io_manager")
    shared = {name: args[name] for name in ("io_manager_key", "tags", "owners")}
    description = _description(spec)
    return {
        "name": f"gold__{spec.gold_asset}",
        "description": description,
        "outs": {
            "gold": dg.AssetOut(
                key=tables.gold.key,
                description=description,
                metadata=args["metadata"],
                kinds={"spark", "delta"},
                # Required when selected (always yielded then); not required when the
                # step runs for the other output alone (can_subset).
                is_required=False,
                code_version=args["code_version"],
                **shared,
            ),
            REJECTS_OUTPUT: dg.AssetOut(
                key=tables.rejects.key,
                description=rejects_description(spec),
                kinds={"spark", "delta"},
                is_required=False,  # as gold's
                code_version=code_version(spec, "rejects"),
                **shared,
            ),
        },
        "ins": {"bronze": dg.AssetIn(key=bronze_key)},
        "deps": deps,
        "internal_asset_deps": {"gold": {bronze_key, *deps}, REJECTS_OUTPUT: {bronze_key}},
        **{k: args[k] for k in ("partitions_def", "backfill_policy", "group_name", "check_specs")},
        "can_subset": True,
    }


def build_gold_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    """The gold asset of a data set and its rejects asset, one step reading bronze once.

    Both outputs may be selected alone (``can_subset``): gold alone still keeps its rejects
    table in step (written without a materialization of the rejects asset: gold's checks
    count it); the rejects alone are written without gold.
    """

    @dg.multi_asset(**_gold_asset_args(spec))
    def gold(
        context: dg.AssetExecutionContext,
        bronze: DataFrame,
        spark: SparkEngine,
        delta_store: DeltaStore,
        landing: LandingZone,
    ) -> Iterator[GoldEvent]:
        yield from gold_step(spec, context, bronze, spark, delta_store, landing)

    return gold


def gold_step(
    spec: DatasetSpec,
    context: dg.AssetExecutionContext,
    bronze: DataFrame,
    spark: SparkEngine,
    delta_store: DeltaStore,
    landing: LandingZone,
) -> Iterator[GoldEvent]:
    """One gold step: plan (bronze typed, rejects, merged and enriched gold), publish
    (rejects, then gold, through the stores) and judge (figures, metadata and checks)."""
    # Spark code is imported by the step that runs it, not when the code location loads.
    from subway_platform.assets.enrichment import coverage, stations_matched_result
    from subway_platform.assets.transforms import rejects_of, typed_columns

    tables = tables_of(spec)
    months = context_months(context)
    typed = typed_columns(spec, bronze)
    rejects = reject_figures(spec, typed, months, delta_store)
    rejects_frame = rejects_of(spec, bronze, typed) if rejects.write else None
    yield from publish_rejects(context, spec, delta_store, rejects_frame, rejects, months)
    if "gold" not in context.selected_output_names:
        return
    rejected = rejected_rows(spec, rejects, months, delta_store)
    source = delta_store.rows_per_month(tables.bronze.months(months))
    plan, station_reasons = gold_plan(spec, typed, station_table(spec, delta_store))
    with checkpointed(context, spec, plan, spark, landing) as frame:
        enrichment = coverage(spec, frame, months) if spec.station_join is not None else {}
        for month, cov in enrichment.items():
            context.add_asset_metadata(
                gold_month_metadata(cov, rejected.get(month, 0)),
                asset_key=tables.gold.key,
                partition_key=month or None,
            )
        keys = distinct_keys(frame, months, enrichment)
        stats = gold_source_stats(spec, source, rejected, rejects.bronze_stats, keys)
        total_rejected = sum(rejected.values())
        rejects_uri = delta_store.url(tables.rejects)
        if total_rejected:
            context.log.warning(f"{total_rejected} rows rejected; see {rejects_uri}")
        hop = HOPS[tables.gold.key_string]
        metadata = gold_output_metadata(hop, stats, total_rejected, rejects_uri)
        yield dg.Output(frame, output_name="gold", metadata=metadata)
    written = delta_store.read_slice(tables.gold.months(months))
    results = gold_results(
        spec, rejects.bronze_stats, written, months, rejected, rejects.first_rejects
    )
    for month, cov in enrichment.items():
        results.setdefault(month, []).append(
            stations_matched_result(spec, {month: cov}, station_reasons)
        )
    yield from month_evaluations(context, tables.gold.key, results)
