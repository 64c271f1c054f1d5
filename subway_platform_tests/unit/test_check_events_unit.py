"""Per-month check evaluations (``check_events.py``) on a toy partitioned asset run over a
range of months in a single run, as the platform's backfills are: each month gets its
own verdict of each check, targeting its own materialization, and a failed blocking
month still fails the step. An ephemeral instance, no engine."""

from collections.abc import Iterator

import dagster as dg

from subway_platform.check_events import CheckEvent, month_evaluations
from subway_platform.check_judge import verdict
from subway_platform.partitions import monthly_partitions

KEY = dg.AssetKey(["gold", "toy"])
MONTHS = ["201907", "201908", "201909"]
BAD = "201908"


@dg.asset(
    key=KEY,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "rows_match", asset=KEY, blocking=True, partitions_def=monthly_partitions
        ),
        dg.AssetCheckSpec("warned", asset=KEY, partitions_def=monthly_partitions),
    ],
)
def toy(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | CheckEvent]:
    """Bad in BAD only: its blocking check fails there; its warning passes everywhere."""
    yield dg.MaterializeResult()
    months = list(context.partition_keys)
    results = {
        month: [
            verdict("rows_match", [f"{month}: 1 row lost"] if month == BAD else [], "ok"),
            verdict("warned", [], "ok"),
        ]
        for month in months
    }
    yield from month_evaluations(context, KEY, results)


def test_a_range_records_one_verdict_per_month_and_check() -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [toy],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": MONTHS[0],
            "dagster/asset_partition_range_end": MONTHS[-1],
        },
        raise_on_error=False,
    )
    assert not result.success  # the blocking check failed for BAD
    evaluations = result.get_asset_check_evaluations()
    assert sorted((e.check_name, e.partition, e.passed) for e in evaluations) == sorted(
        [("rows_match", m, m != BAD) for m in MONTHS] + [("warned", m, True) for m in MONTHS]
    )
    bad = next(e for e in evaluations if e.partition == BAD and e.check_name == "rows_match")
    assert bad.metadata["problems"].value == {BAD: ["1 row lost"]}  # type: ignore[attr-defined]

    keys = [dg.AssetCheckKey(KEY, "rows_match"), dg.AssetCheckKey(KEY, "warned")]
    infos = instance.event_log_storage.get_asset_check_partition_info(keys, partition_keys=MONTHS)
    statuses = {(i.check_key.name, i.partition_key): i.latest_execution_status.value for i in infos}
    assert statuses == {
        **{("rows_match", m): "FAILED" if m == BAD else "SUCCEEDED" for m in MONTHS},
        **{("warned", m): "SUCCEEDED" for m in MONTHS},
    }
    # Each verdict targets its month's materialization: the UI shows it as current.
    assert all(i.is_current and i.latest_target_materialization_storage_id for i in infos)
