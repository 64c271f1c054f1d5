"""Code versions of the platform's assets, derived from what defines each one.

Dagster compares an asset's code version with the one its last materialization recorded:
when they differ, the UI marks the asset (and what is downstream of it) stale, and
"Materialize stale" picks it. A version here is a digest of exactly what decides the rows
an asset writes, so it changes when that changes and for no other asset:

- **the data set's spec**: every field of its ``DatasetSpec`` (columns with their aliases
  and kinds, file patterns, gold key, sums, station join, …) except those that change no
  written row (``NOT_WRITTEN_FIELDS``: descriptions, the job name, the ELT log's naming,
  the thresholds of checks, the freshness due day), serialized as JSON with sorted keys;
- **the station master's spec**, for a gold table enriched from it (its aliases decide
  which rows get coordinates);
- **the source text of the code that transforms the data at that layer**
  (``LAYER_SOURCES``): the files below the ``subway_platform`` package, by their path
  relative to it, read as UTF-8 with line endings normalized to ``\\n``.

The digest is the first 16 hex digits of SHA-256 over the layer's name, those two JSON
texts and each file's relative path and text, in sorted order. It uses no object id, no
absolute path, no ``hash()`` (randomized per process) and no Python-version-specific form
(an AST dump), so two processes, two machines and two installs of the same commit agree.
Any edit of a listed file, a comment included, changes the version of the assets that
file defines; a change to the daily spec changes the daily data set's four versions
only. A file that comes to shape what a layer writes is added to ``LAYER_SOURCES``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from importlib import resources
from typing import Literal

from subway_platform.datasets import DatasetSpec, dataset_named

CodeLayer = Literal["bronze", "gold", "rejects", "mart"]
"""The assets of a data set: its bronze, gold, rejects and mart tables."""

NOT_WRITTEN_FIELDS = frozenset(
    {
        "description",
        "domain",
        "job_name",
        "due_day",
        "reject_threshold",
        "station_match_target_pct",
        "record_prefix",
        "elt_log_sums",
    }
)
"""``DatasetSpec`` fields that change no row any table holds (what the UI says, the ELT
log's naming, when a check fails or a file is due): left out of the versions. Every other
field counts, a new one included, until it is listed here."""

_SPEC_SOURCES = ("datasets/spec.py",)
"""How a spec's fields are read (column roles, header aliases): part of every layer."""

LAYER_SOURCES: dict[CodeLayer, tuple[str, ...]] = {
    "bronze": (*_SPEC_SOURCES, "assets/bronze.py", "assets/bronze_staging.py", "ingest/"),
    "gold": (
        *_SPEC_SOURCES,
        "assets/gold.py",
        "assets/gold_plan.py",
        "assets/transforms.py",
        "ingest/values.py",
    ),
    "rejects": (
        *_SPEC_SOURCES,
        "assets/gold.py",
        "assets/transforms.py",
        "assets/rejects.py",
        "ingest/values.py",
    ),
    "mart": (*_SPEC_SOURCES, "assets/mart.py", "stores/mart_tables.py"),
}
"""The files (paths relative to the package; ``dir/``: every ``.py`` file in it) whose code
decides what each layer writes. Parsing (``ingest/``) makes bronze; typing, merging and the
rejects' reasons make gold and its rejects; the mart's column types make the mart."""

ENRICHMENT_SOURCES = (
    "assets/enrichment.py",
    "assets/station_match.py",
    "datasets/station_renames.csv",
)
"""Added to the gold version of a data set with a station join (the matching rules and the
table of historical renames)."""


def spec_fingerprint(spec: DatasetSpec) -> str:
    """The fields of ``spec`` that shape written rows, as JSON with sorted keys (nested
    columns and joins included; tuples as lists, text as UTF-8, not escaped)."""
    fields = {
        name: value
        for name, value in dataclasses.asdict(spec).items()
        if name not in NOT_WRITTEN_FIELDS
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@functools.cache
def _source_text(relative: str) -> str:
    """One file of the package, as text with ``\\n`` line endings (CRLF checkouts agree)."""
    text = resources.files("subway_platform").joinpath(relative).read_text(encoding="utf-8")
    return text.replace("\r\n", "\n")


@functools.cache
def _expand(entry: str) -> tuple[str, ...]:
    """The files an entry of ``LAYER_SOURCES`` names (``dir/``: its ``.py`` files, sorted)."""
    if not entry.endswith("/"):
        return (entry,)
    folder = resources.files("subway_platform").joinpath(entry)
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".py"))
    return tuple(entry + name for name in names)


def layer_sources(spec: DatasetSpec, layer: CodeLayer) -> tuple[str, ...]:
    """The files whose text enters ``spec``'s version at ``layer``, sorted."""
    entries = LAYER_SOURCES[layer]
    if layer == "gold" and spec.station_join is not None:
        entries = (*entries, *ENRICHMENT_SOURCES)
    return tuple(sorted({path for entry in entries for path in _expand(entry)}))


def code_version(spec: DatasetSpec, layer: CodeLayer, master: DatasetSpec | None = None) -> str:
    """The code version of ``spec``'s asset at ``layer`` (see the module's docstring);
    ``master``: the station master spec gold joins (default: the registered one)."""
    digest = hashlib.sha256()

    def add(part: str) -> None:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")

    add(layer)
    add(spec_fingerprint(spec))
    if layer == "gold" and spec.station_join is not None:
        add(spec_fingerprint(master or dataset_named(spec.station_join.master)))
    for path in layer_sources(spec, layer):
        add(path)
        add(_source_text(path))
    return digest.hexdigest()[:16]
