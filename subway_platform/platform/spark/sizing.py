"""Executors sized per job, as the seed's ``get_spark_session(executor_instances=…,
executor_memory=…)`` did: from a run's tags, else the Spark resource's fields.

A job asks for its executors with tags (``subway/spark.executor.instances``,
``subway/spark.executor.memory``, ``subway/spark.executor.cores``); a malformed value fails
the run's resource setup with one line naming the tag. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

INSTANCES_TAG = "subway/spark.executor.instances"
MEMORY_TAG = "subway/spark.executor.memory"
CORES_TAG = "subway/spark.executor.cores"
_MEMORY = re.compile(r"[1-9]\d*[kmgt]?", re.IGNORECASE)


class ExecutorSizingError(ValueError):
    """A job's executor sizing is unusable (one line naming the tag or field)."""


@dataclass(frozen=True)
class ExecutorSizing:
    """How many executors a classic session asks for, and how big (None: Spark's default)."""

    instances: int | None = None
    memory: str | None = None
    cores: int | None = None

    def conf(self) -> dict[str, str]:
        """The Spark properties of this sizing."""
        out: dict[str, str] = {}
        if self.instances is not None:
            out["spark.executor.instances"] = str(self.instances)
            # A standalone master has no executor count: it starts cores.max / cores.
            out["spark.cores.max"] = str(self.instances * (self.cores or 1))
        if self.memory is not None:
            out["spark.executor.memory"] = self.memory
        if self.cores is not None:
            out["spark.executor.cores"] = str(self.cores)
        return out


def _positive(name: str, value: object) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1 or int(text) > 10_000:
        raise ExecutorSizingError(f"{name} must be a whole number from 1 to 10000, e.g. {name}=4")
    return int(text)


def _memory(name: str, value: object) -> str:
    text = str(value).strip()
    if not _MEMORY.fullmatch(text):
        raise ExecutorSizingError(f"{name} must be a JVM memory size, e.g. {name}=2g")
    return text.lower()


def sizing_from_tags(tags: Mapping[str, str], default: ExecutorSizing) -> ExecutorSizing:
    """``default`` (validated) overridden by the run's ``subway/spark.executor.*`` tags."""
    out = ExecutorSizing(
        instances=None
        if default.instances is None
        else _positive("executor_instances", default.instances),
        memory=None if default.memory is None else _memory("executor_memory", default.memory),
        cores=None if default.cores is None else _positive("executor_cores", default.cores),
    )
    if INSTANCES_TAG in tags:
        out = replace(out, instances=_positive(INSTANCES_TAG, tags[INSTANCES_TAG]))
    if MEMORY_TAG in tags:
        out = replace(out, memory=_memory(MEMORY_TAG, tags[MEMORY_TAG]))
    if CORES_TAG in tags:
        out = replace(out, cores=_positive(CORES_TAG, tags[CORES_TAG]))
    return out
