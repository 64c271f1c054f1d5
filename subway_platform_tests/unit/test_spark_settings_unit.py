"""The classic Spark settings: ``SUBWAY_SPARK_MASTER``'s check and the per-job executor
sizing read from a run's tags (one clear line for a bad value)."""

from __future__ import annotations

import pytest

from subway_platform.configuration import check_spark_master, environment_problems
from subway_platform.platform.spark.sizing import (
    CORES_TAG,
    INSTANCES_TAG,
    MEMORY_TAG,
    ExecutorSizing,
    ExecutorSizingError,
    sizing_from_tags,
)


@pytest.mark.parametrize(
    "value", ["spark://127.0.0.1:7077", "k8s://https://kubernetes:6443", "local[2]", "local[*]"]
)
def test_usable_masters(value: str) -> None:
    assert check_spark_master(value) is None


@pytest.mark.parametrize("value", ["spark://host", "yarn", "k8s://", "sc://host:15002", "local[x]"])
def test_unusable_masters_are_one_clause(value: str) -> None:
    problem = check_spark_master(value)
    assert problem and "\n" not in problem


def test_master_and_remote_are_exclusive() -> None:
    env = {"SUBWAY_SPARK_MASTER": "local[2]", "SPARK_REMOTE": "sc://127.0.0.1:15002"}
    assert any("both set" in p for p in environment_problems(env))
    assert not any("SPARK" in p for p in environment_problems({"SUBWAY_SPARK_MASTER": "local[2]"}))


def test_tags_size_the_executors_over_the_resource_fields() -> None:
    default = ExecutorSizing(instances=1, memory="512m", cores=1)
    sizing = sizing_from_tags({INSTANCES_TAG: "3", MEMORY_TAG: "2G"}, default)
    assert sizing == ExecutorSizing(instances=3, memory="2g", cores=1)
    assert sizing.conf() == {
        "spark.executor.instances": "3",
        "spark.cores.max": "3",
        "spark.executor.memory": "2g",
        "spark.executor.cores": "1",
    }
    assert sizing_from_tags({}, ExecutorSizing()).conf() == {}


@pytest.mark.parametrize(
    ("tag", "value"),
    [(INSTANCES_TAG, "0"), (INSTANCES_TAG, "two"), (MEMORY_TAG, "lots"), (CORES_TAG, "-1")],
)
def test_a_bad_tag_is_one_line_naming_it(tag: str, value: str) -> None:
    with pytest.raises(ExecutorSizingError) as err:
        sizing_from_tags({tag: value}, ExecutorSizing())
    assert (
        tag in str(err.value) and "\n" not in str(err.value) and f"={value}" not in str(err.value)
    )
