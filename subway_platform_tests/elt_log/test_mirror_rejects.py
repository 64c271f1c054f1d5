"""A step that writes gold beside its rejects asset (``gold/rejects/<data set>_rejects``, not a
hop): the ELT log has gold's rows only, whether the step succeeds or fails."""

import dagster as dg
import psycopg
from elt_log_contract_assets import GOLD_HOP, MONTHS, month_range_tags, run

from subway_platform.assets.rejects import REJECTS_ASSETS
from subway_platform.elt_log.mirror import mirror_run, rows_for_run
from subway_platform.partitions import monthly_partitions

REJECTS = dg.AssetKey(["gold", "rejects", "card_subway_month_rejects"])
_monthly = {
    "partitions_def": monthly_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
}


def _outs(gold: str) -> dict[str, dg.AssetOut]:
    return {"gold": dg.AssetOut(key=["gold", gold]), "rejects": dg.AssetOut(key=REJECTS)}


def _gold_metadata(context: dg.AssetExecutionContext) -> dict[str, object]:
    parts = {
        m: {"source_read_size": 10, "target_read_size": 9, "cleaned_count": 1, "merged_count": 0}
        for m in context.partition_keys
    }
    return {**GOLD_HOP, "elt/partitions": dg.MetadataValue.json(parts)}


@dg.multi_asset(outs=_outs("elt_with_rejects"), name="gold__elt_with_rejects", **_monthly)
def gold_with_rejects(context: dg.AssetExecutionContext):  # noqa: ANN201 - a generator of results
    """Like the platform's gold step: the rejects first, then gold with its ELT figures."""
    yield dg.MaterializeResult(asset_key=REJECTS, metadata={"rejects/rows": 1})
    yield dg.MaterializeResult(
        asset_key=["gold", "elt_with_rejects"], metadata=_gold_metadata(context)
    )


@dg.multi_asset(outs=_outs("elt_rejects_fail"), name="gold__elt_rejects_fail", **_monthly)
def gold_rejects_then_fails(context: dg.AssetExecutionContext):  # noqa: ANN201
    """Writes the rejects, then fails before gold."""
    yield dg.MaterializeResult(asset_key=REJECTS, metadata={"rejects/rows": 1})
    raise ValueError("gold write failed")


def test_the_rejects_asset_the_log_does_not_know(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    assert REJECTS.to_user_string() in REJECTS_ASSETS
    run_id = run(instance, [gold_with_rejects], tags=month_range_tags(MONTHS[0], MONTHS[-1]))
    written = {
        e.dagster_event.event_specific_data.materialization.asset_key.to_user_string()
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if e.dagster_event is not None
    }
    assert written == {"gold/elt_with_rejects", REJECTS.to_user_string()}
    rows = rows_for_run(instance, run_id)
    assert {(r.asset_key, r.partition_key) for r in rows} == {
        ("gold/elt_with_rejects", m) for m in MONTHS
    }
    assert all(r.valid and r.cleaned_count == 1 for r in rows)
    assert mirror_run(instance, run_id, conn) == 3


def test_a_failed_step_logs_its_gold_months_not_its_rejects(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    run_id = run(instance, [gold_rejects_then_fails], tags=month_range_tags(MONTHS[0], MONTHS[-1]))
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    rows = rows_for_run(instance, run_id)
    assert {(r.asset_key, r.partition_key, r.status) for r in rows} == {
        ("gold/elt_rejects_fail", m, "failed") for m in MONTHS
    }
    assert mirror_run(instance, run_id, conn) == 3
