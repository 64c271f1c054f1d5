"""Check results as per-month evaluations, so the UI shows each month's verdict.

The checks are partitioned like their asset (``checks.check_specs``). A run of one month
could report them with ``AssetCheckResult``, but a single-run backfill over a range of
months has no single partition key, and Dagster 1.13's ``AssetCheckResult`` carries none:
its evaluation would cover no month at all. So the asset yields, for each check it
evaluated, the check's output once and then one ``AssetCheckEvaluation`` per month, with
that month as its partition and that month's latest materialization as its target (the
UI shows a check's status per partition only when it targets the latest
materialization). A failed blocking evaluation still fails the step, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import dagster as dg

# AssetCheckEvaluationTargetMaterializationData is not exported by Dagster: the pointer an
# evaluation keeps to the materialization it judged (AssetCheckResult fills it in itself).
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

CheckEvent = dg.Output[None] | dg.AssetCheckEvaluation | dg.AssetCheckResult
"""What :func:`month_evaluations` yields: a check's output, a month's evaluation, or the
result of an unpartitioned table's check."""


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, months: Sequence[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each of ``months`` of ``asset_key`` (one query)."""
    found: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(months)),
        limit=max(len(months), 1) * 4,
    ).records
    for record in records:  # newest first
        month = record.partition_key
        if month is not None and month not in found:
            found[month] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id,
                run_id=record.run_id,
                timestamp=record.timestamp,
            )
    return found


def month_evaluations(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    results: Mapping[str, Sequence[dg.AssetCheckResult]],
) -> Iterator[CheckEvent]:
    """Yield ``results`` (month -> that month's check results on ``asset_key``) as the
    step's check outputs and one evaluation per selected check and month. An
    unpartitioned table (month ``""``) reports its results as they are."""
    assets_def = context.assets_def
    specs = {spec.key: spec for spec in assets_def.check_specs}
    selected = context.selected_asset_check_keys
    months = [month for month in results if month]
    targets = _latest_materializations(context.instance, asset_key, months) if months else {}
    reported: set[dg.AssetCheckKey] = set()
    for month, found in results.items():
        for result in found:
            key = dg.AssetCheckKey(asset_key, str(result.check_name))
            if key not in selected:
                continue
            if not month:
                yield result
                continue
            if key not in reported:
                reported.add(key)
                yield dg.Output(
                    None, output_name=assets_def.get_output_name_for_asset_check_key(key)
                )
            yield dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=key.name,
                passed=result.passed,
                metadata=result.metadata,
                target_materialization_data=targets.get(month),
                severity=result.severity,
                description=result.description,
                blocking=specs[key].blocking,
                partition=month,
            )
