"""The GraphQL documents the Dagster 1.13 UI sends (copied from its webapp bundle,
fields trimmed to what the tests read), and small helpers to wait on their results."""

from __future__ import annotations

import time
from typing import Any

from subway_platform.platform.dev_process import LOCATION
from subway_platform_tests.ui.dev_platform import DevPlatform

ASSET_JOB = "__ASSET_JOB"
"""The hidden job the asset pages launch from (``isHiddenAssetGroupJob`` in the UI)."""
UI_EXECUTION_TAGS = [{"key": "dagster/from_ui", "value": "true"}]
"""``UI_EXECUTION_TAGS``: added by the UI to every launch."""
DAILY_ASSETS = [
    ["bronze", "card_subway_month"],
    ["gold", "subway_passengers"],
    ["mart", "subway_passengers"],
]
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

# LaunchAssetChoosePartitionsDialog -> onLaunchAsBackfill
LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionKeysNotFoundError { message }
    ... on PipelineNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

# LaunchAssetExecutionButton -> launchWithTelemetry
LAUNCH_PIPELINE_EXECUTION = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { id pipelineName } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
  }
}
"""

# useJobReExecution ("Re-execute from failure" on a run's page)
LAUNCH_PIPELINE_REEXECUTION = """
mutation LaunchPipelineReexecution($executionParams: ExecutionParams,
                                   $reexecutionParams: ReexecutionParams) {
  launchPipelineReexecution(executionParams: $executionParams,
                            reexecutionParams: $reexecutionParams) {
    __typename
    ... on LaunchRunSuccess { run { id pipelineName rootRunId parentRunId } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
  }
}
"""

# ConfigFetch.tsx: the tags and config the UI asks for before a one-partition launch
CONFIG_PARTITION_FOR_ASSET_JOB = """
query ConfigPartitionForAssetJobQuery($repositoryName: String!,
    $repositoryLocationName: String!, $jobName: String!, $partitionName: String!,
    $assetKeys: [AssetKeyInput!]!) {
  pipelineOrError(params: {pipelineName: $jobName, repositoryName: $repositoryName,
                           repositoryLocationName: $repositoryLocationName}) {
    __typename
    ... on Pipeline {
      partition(partitionName: $partitionName, selectedAssetKeys: $assetKeys) {
        runConfigOrError { __typename ... on PartitionRunConfig { yaml } }
        tagsOrError { __typename ... on PartitionTags { results { key value } } }
      }
    }
  }
}
"""

# LaunchAssetExecutionButton's loader: the checks that go with the selected assets
ASSET_CHECKS = """
query AssetChecks($assetKeys: [AssetKeyInput!]!) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    assetChecksOrError { __typename ... on AssetChecks { checks { name jobNames } } }
  }
}
"""

RUNS_BY_TAG = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { id status tags { key value } } }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      id status parentRunId rootRunId
      tags { key value }
      stepStats { stepKey status }
    }
  }
}
"""

BACKFILL = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { id status numPartitions }
  }
}
"""

MATERIALIZED_PARTITIONS = """
query Materialized($assetKey: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $assetKey) {
    __typename
    ... on Asset { assetMaterializations(partitions: $partitions) { partition runId } }
  }
}
"""


def keys(paths: list[list[str]]) -> list[dict[str, list[str]]]:
    """``asAssetKeyInput`` of the UI."""
    return [{"path": path} for path in paths]


def check_selection(dev: DevPlatform, paths: list[list[str]], job: str) -> list[dict[str, Any]]:
    """``getAssetCheckHandleInputs``: every check of the assets that the job can run."""
    nodes = dev.graphql(ASSET_CHECKS, {"assetKeys": keys(paths)})["assetNodes"]
    return [
        {"name": check["name"], "assetKey": {"path": node["assetKey"]["path"]}}
        for node in nodes
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
        if not check["jobNames"] or job in check["jobNames"]
    ]


def launch_partition(dev: DevPlatform, paths: list[list[str]], partition: str) -> str:
    """Materialize ``paths`` for one partition, as the asset page's "Materialize" does
    (``onLaunchAsSingleRun``): fetch the partition's tags, then launchPipelineExecution on
    the hidden asset job; return the run id."""
    config = dev.graphql(
        CONFIG_PARTITION_FOR_ASSET_JOB,
        {
            "repositoryName": dev.repository,
            "repositoryLocationName": LOCATION,
            "jobName": ASSET_JOB,
            "partitionName": partition,
            "assetKeys": keys(paths),
        },
    )["pipelineOrError"]
    assert config["__typename"] == "Pipeline", config
    tags = config["partition"]["tagsOrError"]["results"]
    run_config = config["partition"]["runConfigOrError"]["yaml"]
    result = dev.graphql(
        LAUNCH_PIPELINE_EXECUTION,
        {
            "executionParams": {
                "mode": "default",
                "executionMetadata": {"tags": [*tags, *UI_EXECUTION_TAGS]},
                "runConfigData": run_config or "{}",
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": dev.repository,
                    "pipelineName": ASSET_JOB,
                    "assetSelection": keys(paths),
                    "assetCheckSelection": check_selection(dev, paths, ASSET_JOB),
                },
            }
        },
    )["launchPipelineExecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return str(result["run"]["id"])


def launch_backfill(dev: DevPlatform, paths: list[list[str]], partitions: list[str]) -> str:
    """ "Materialize..." with a range of partitions on assets (``onLaunchAsBackfill``, the
    hidden-asset-job branch); return the backfill id."""
    result = dev.graphql(
        LAUNCH_PARTITION_BACKFILL,
        {
            "backfillParams": {
                "tags": UI_EXECUTION_TAGS,
                "assetSelection": keys(paths),
                "partitionNames": partitions,
                "fromFailure": False,
            }
        },
    )["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return str(result["backfillId"])


def reexecute_from_failure(dev: DevPlatform, parent_run_id: str) -> dict[str, Any]:
    """ "Re-execute from failure" on a failed run's page; return the new run."""
    result = dev.graphql(
        LAUNCH_PIPELINE_REEXECUTION,
        {
            "reexecutionParams": {
                "parentRunId": parent_run_id,
                "strategy": "FROM_FAILURE",
                "extraTags": UI_EXECUTION_TAGS,
            }
        },
    )["launchPipelineReexecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return dict(result["run"])


def run(dev: DevPlatform, run_id: str) -> dict[str, Any]:
    found = dev.graphql(RUN, {"runId": run_id})["runOrError"]
    assert found["__typename"] == "Run", found
    return dict(found)


def wait_run(dev: DevPlatform, run_id: str, timeout: float = 900.0) -> dict[str, Any]:
    """Poll the run until it has finished (the daemon dequeues and launches it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert dev.process.poll() is None, dev.log_tail()
        found = run(dev, run_id)
        if found["status"] in FINISHED:
            return found
        time.sleep(3)
    raise TimeoutError(f"run {run_id} not finished within {timeout:.0f}s: {found['status']}")


def runs_tagged(dev: DevPlatform, key: str, value: str) -> list[dict[str, Any]]:
    found = dev.graphql(RUNS_BY_TAG, {"filter": {"tags": [{"key": key, "value": value}]}})
    assert found["runsOrError"]["__typename"] == "Runs", found
    return list(found["runsOrError"]["results"])


def wait_backfill(dev: DevPlatform, backfill_id: str, timeout: float = 900.0) -> dict[str, Any]:
    """Poll the backfill until the daemon has finished it (COMPLETED, FAILED, ...)."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        assert dev.process.poll() is None, dev.log_tail()
        status = dev.graphql(BACKFILL, {"backfillId": backfill_id})["partitionBackfillOrError"]
        assert status["__typename"] == "PartitionBackfill", status
        if status["status"] not in ("REQUESTED", "CANCELING"):
            return status
        time.sleep(3)
    raise TimeoutError(f"backfill {backfill_id} not finished within {timeout:.0f}s: {status}")


def materializations(
    dev: DevPlatform, path: list[str], partitions: list[str]
) -> set[tuple[str, str]]:
    """(partition, run id) of every materialization of ``path`` in ``partitions``."""
    found = dev.graphql(
        MATERIALIZED_PARTITIONS, {"assetKey": {"path": path}, "partitions": partitions}
    )["assetOrError"]
    assert found["__typename"] == "Asset", found
    return {(m["partition"], m["runId"]) for m in found["assetMaterializations"]}


def materialized_partitions(dev: DevPlatform, path: list[str], partitions: list[str]) -> set[str]:
    return {partition for partition, _ in materializations(dev, path, partitions)}


CHECK_EXECUTIONS = """
query CheckExecutions($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 50) { runId status }
}
"""


def check_statuses(dev: DevPlatform, path: list[str], check_name: str) -> dict[str, str]:
    """Run id -> the status the UI shows for the asset's check in that run."""
    found = dev.graphql(CHECK_EXECUTIONS, {"assetKey": {"path": path}, "checkName": check_name})
    return {e["runId"]: e["status"] for e in found["assetCheckExecutions"]}


def step_statuses(found_run: dict[str, Any]) -> dict[str, str]:
    """Step key -> status of the steps the run executed."""
    return {s["stepKey"]: s["status"] for s in found_run["stepStats"]}
