"""Skip-if-unchanged (the reference's skip-if-succeeded): a month already loaded as it is.

A load run of a month whose file and code are those of its last *valid* load has nothing
to do. Bronze asks :func:`plan_months` before it reads any file; when every month of the
step is unchanged, it writes nothing (gold and mart are then skipped by Dagster, their
input not produced) and the run records why, per month, as an observation of the landing
source carrying ``subway/skipped`` (the ELT log turns it into ``skipped`` rows,
``elt_log/mirror.py``). A month is unchanged when, and only when:

- its file is the same: the file bronze would read for it now (landing before archive,
  newer before older, named for the month or holding many) has the name and content tag
  (S3 ETag, or SHA-256 of a local file) that its last bronze load recorded
  (``source/files`` metadata);
- its code is the same: the code versions of its bronze, gold and mart
  (``assets/code_version.py``) equal those their last materializations recorded;
- that load was valid: the ELT log's verdict (``elt_log.mirror.rows_for_run``, read from
  the run's events, so no database is needed) on each of bronze, gold and mart's last
  materialization of the month is valid, and gold's and mart's were written after
  bronze's (a run that failed in the mart after bronze wrote a new file left the mart
  behind);
- for a data set enriched from the station master, the master's gold was not written
  after the month's gold (a reloaded master may change the month's enrichment).

Anything else loads, and says why: never loaded, a new file content, new code, an invalid
last load. A range is one Spark plan: it is skipped only when all its months are
unchanged, else all of them load. The run tag ``subway/force=true`` (``tags.FORCE_TAG``;
the Launchpad's "Edit tags", or ``--tags '{"subway/force": "true"}'`` on the command
line) always loads. The landing sensor never requests such a run: it requests a file's
load once per content tag, under a run key of that tag (``sensors.py``).

The decision (:func:`decide`) is pure; :func:`last_loads` reads the instance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.assets.code_version import code_version
from subway_platform.datasets import DatasetSpec, dataset_named
from subway_platform.elt_log.run_events import SKIPPED_ASSETS_METADATA, SKIPPED_METADATA
from subway_platform.landing_assets import SOURCE_FILES_METADATA, landing_key, month_data_version
from subway_platform.resources.storage import StoredObject
from subway_platform.tables import tables_of
from subway_platform.tags import FORCE_TAG

if TYPE_CHECKING:
    from subway_platform.elt_log.row import EltLogRow

CODE_VERSION_TAG = "dagster/code_version"
"""Where Dagster records the code version a materialization was made with."""
SKIPPED_AFTER_METADATA = "subway/skipped_after_run"
"""Observation metadata of a skipped month: the run of its last valid load."""
FILES_METADATA = "source/files"
"""Bronze's output metadata: each file it read, with ``name``, ``etag`` and ``months``."""

Source = tuple[str, str]
"""A file as the decision sees it: (name, content tag)."""


def is_forced(tags: Mapping[str, str]) -> bool:
    """Whether the run's tags force a reload (``subway/force`` = true, yes or 1)."""
    return tags.get(FORCE_TAG, "").strip().lower() in ("true", "yes", "1")


def month_source(
    spec: DatasetSpec, files: Sequence[tuple[StoredObject, bool]], month: str
) -> Source | None:
    """The file bronze would read ``month`` from, among ``files`` (``LandingZone.files_for``:
    (file, in archive)): landing before archive, newer before older, a file named for the
    month or one whose name gives none (it may hold many months). None: no such file."""
    ordered = sorted(files, key=lambda f: (f[1], -f[0].modified.timestamp()))
    for obj, _archived in ordered:
        if spec.file_month(obj.name) in (month, None):
            return obj.name, obj.etag
    return None


@dataclass(frozen=True)
class MonthLoad:
    """What the last materializations of one month's bronze, gold and mart recorded."""

    run_id: str
    """The run of bronze's last materialization of the month."""
    source: Source | None
    """The file bronze read the month from (None: not recorded, e.g. an older load)."""
    code_versions: dict[str, str | None]
    """Asset key -> code version its last materialization recorded (None: never written)."""
    valid: dict[str, bool]
    """Asset key -> the ELT log's verdict on that materialization."""
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Bronze's check outcomes in that load (name -> passed, severity)."""
    behind: tuple[str, ...] = ()
    """Assets whose last write precedes bronze's last write of the month (not caught up)."""
    master_reloaded: str | None = None
    """The run that wrote the station master's gold after the month's gold, if one did."""


@dataclass(frozen=True)
class Decision:
    """Skip the step, or load it; ``reasons``: month -> why (in either case)."""

    skip: bool
    reasons: dict[str, str]


def _month_reason(
    month: str,
    current: Source | None,
    last: MonthLoad | None,
    versions: Mapping[str, str],
) -> tuple[bool, str]:
    """(unchanged, why) for one month."""
    if last is None:
        return False, f"{month}: never loaded"
    if current is None:
        return False, f"{month}: no landing or archived file holds it"
    if last.source is None:
        return False, f"{month}: its last load recorded no file content tag"
    if last.source != current:
        return False, (
            f"{month}: file changed ({current[0]} content {current[1][:16]}; last loaded "
            f"{last.source[0]} content {last.source[1][:16]})"
        )
    for key, version in versions.items():
        recorded = last.code_versions.get(key)
        if recorded != version:
            return False, f"{month}: {key} code version {version} (last load: {recorded})"
    if last.behind:
        return False, f"{month}: {', '.join(last.behind)} not written since bronze's last load"
    if last.master_reloaded is not None:
        return False, f"{month}: the station master was reloaded since (run {last.master_reloaded})"
    invalid = [key for key in versions if not last.valid.get(key, False)]
    if invalid:
        return False, f"{month}: its last load of {', '.join(invalid)} was not valid"
    return True, (
        f"{month} unchanged since its valid load in run {last.run_id}: {current[0]} content "
        f"{current[1][:16]}, same code versions; nothing written (run tag {FORCE_TAG}=true "
        "reloads it)"
    )


def decide(
    months: Sequence[str],
    current: Mapping[str, Source | None],
    last: Mapping[str, MonthLoad | None],
    versions: Mapping[str, str],
    forced: bool,
) -> Decision:
    """Skip only when every month of the step is unchanged (``versions``: asset key -> the
    code version it has now) and the run is not forced."""
    judged = {m: _month_reason(m, current.get(m), last.get(m), versions) for m in months}
    if forced:
        return Decision(False, {m: f"{m}: reload forced by run tag {FORCE_TAG}" for m in months})
    skip = bool(months) and all(unchanged for unchanged, _ in judged.values())
    return Decision(skip, {m: why for m, (_, why) in judged.items()})


def current_versions(spec: DatasetSpec) -> dict[str, str]:
    """Asset key -> code version now, for the data set's logged tables (bronze, gold, mart)."""
    tables = tables_of(spec)
    return {
        tables.bronze.key_string: code_version(spec, "bronze"),
        tables.gold.key_string: code_version(spec, "gold"),
        tables.mart.key_string: code_version(spec, "mart"),
    }


def _recorded_source(metadata: Mapping[str, Any], month: str) -> Source | None:
    files = metadata.get(FILES_METADATA)
    if not isinstance(files, list):
        return None
    for entry in files:
        months = entry.get("months") if isinstance(entry, dict) else None
        if isinstance(months, dict) and month in months:
            name, etag = entry.get("name"), entry.get("etag")
            if isinstance(name, str) and isinstance(etag, str):
                return name, etag
    return None


def last_loads(
    instance: dg.DagsterInstance, spec: DatasetSpec, months: Sequence[str]
) -> dict[str, MonthLoad | None]:
    """Month -> what its last bronze, gold and mart materializations recorded (None: bronze
    never materialized it). The ELT verdicts come from each run's events."""
    from subway_platform.elt_log.mirror import rows_for_run

    tables = tables_of(spec)
    verdicts: dict[str, dict[tuple[str, str], EltLogRow]] = {}
    master = None
    if spec.station_join is not None:
        master_key = tables_of(dataset_named(spec.station_join.master)).gold.key
        found = instance.fetch_materializations(master_key, limit=1, ascending=False).records
        master = found[0] if found else None

    def verdict(run_id: str, key: str, month: str) -> EltLogRow | None:
        if run_id not in verdicts:
            rows = rows_for_run(instance, run_id)
            verdicts[run_id] = {(r.asset_key, r.partition_key): r for r in rows}
        return verdicts[run_id].get((key, month))

    out: dict[str, MonthLoad | None] = {}
    for month in months:
        latest: dict[str, dg.EventLogRecord] = {}
        for table in tables.logged:
            found = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=table.key, asset_partitions=[month]),
                limit=1,
                ascending=False,
            ).records
            if found:
                latest[table.key_string] = found[0]
        bronze = latest.get(tables.bronze.key_string)
        if bronze is None:
            out[month] = None
            continue
        versions: dict[str, str | None] = {}
        valid: dict[str, bool] = {}
        for key, record in latest.items():
            mat = record.asset_materialization
            versions[key] = (mat.tags or {}).get(CODE_VERSION_TAG) if mat else None
            row = verdict(record.run_id, key, month)
            valid[key] = row is not None and row.valid
        bronze_mat = bronze.asset_materialization
        metadata = {k: v.value for k, v in (bronze_mat.metadata if bronze_mat else {}).items()}
        bronze_row = verdict(bronze.run_id, tables.bronze.key_string, month)
        gold = latest.get(tables.gold.key_string)
        newer_master = master is not None and (gold is None or master.storage_id > gold.storage_id)
        out[month] = MonthLoad(
            run_id=bronze.run_id,
            source=_recorded_source(metadata, month),
            code_versions=versions,
            valid=valid,
            checks=dict(bronze_row.check_outcomes or {}) if bronze_row else {},
            behind=tuple(
                t.key_string
                for t in (tables.gold, tables.mart)
                if t.key_string not in latest or latest[t.key_string].storage_id < bronze.storage_id
            ),
            master_reloaded=master.run_id if master is not None and newer_master else None,
        )
    return out


@dataclass(frozen=True)
class SkipPlan:
    """The decision for a step's months, with what it was made from."""

    decision: Decision
    current: dict[str, Source | None]
    """Month -> the file it would be read from now."""
    last: dict[str, MonthLoad | None]
    """Month -> its last load."""

    @property
    def skip(self) -> bool:
        return self.decision.skip

    def events(
        self, spec: DatasetSpec, checks: Sequence[dg.AssetCheckSpec]
    ) -> list[dg.AssetObservation | dg.AssetCheckResult]:
        """What a skipped step records: per month, an observation of its landing file (its
        content tag as data version, why it was skipped, which assets were not written, the
        run of the load that stays), and for each of bronze's checks the verdict of that
        valid load, marked as not evaluated again."""
        from dagster._core.definitions.data_version import DATA_VERSION_TAG

        skipped = [t.key_string for t in tables_of(spec).logged]
        events: list[dg.AssetObservation | dg.AssetCheckResult] = []
        loads = {m: load for m, load in self.last.items() if load is not None}
        for month, why in self.decision.reasons.items():
            source, load = self.current.get(month), loads.get(month)
            if source is None or load is None:
                continue
            events.append(
                dg.AssetObservation(
                    landing_key(spec),
                    partition=month,
                    tags={DATA_VERSION_TAG: month_data_version([source])},
                    metadata={
                        SOURCE_FILES_METADATA: dg.MetadataValue.json(
                            [{"name": source[0], "etag": source[1]}]
                        ),
                        SKIPPED_METADATA: why,
                        SKIPPED_ASSETS_METADATA: dg.MetadataValue.json(skipped),
                        SKIPPED_AFTER_METADATA: load.run_id,
                    },
                )
            )
        runs = sorted({load.run_id for load in loads.values()})
        for check in checks:
            outcomes = [load.checks.get(check.name) or {} for load in loads.values()]
            warned = any(o.get("severity") == "WARN" for o in outcomes)
            events.append(
                dg.AssetCheckResult(
                    check_name=check.name,
                    passed=all(o.get("passed", True) for o in outcomes),
                    severity=dg.AssetCheckSeverity.WARN if warned else dg.AssetCheckSeverity.ERROR,
                    description="Not evaluated again: the month(s) were skipped, unchanged "
                    f"since their valid load (run {', '.join(runs)}); this is that load's "
                    "verdict.",
                    metadata={"skipped": True, "verdict_of_runs": dg.MetadataValue.json(runs)},
                )
            )
        return events


def plan_months(
    context: dg.AssetExecutionContext,
    spec: DatasetSpec,
    files: Sequence[tuple[StoredObject, bool]],
    months: Sequence[str],
    reload_unchanged: bool = False,
) -> SkipPlan:
    """Whether bronze's step may skip its months (monthly data sets only; ``files``: the
    data set's files, ``LandingZone.files_for``); logs the decision and its reasons."""
    current = {m: month_source(spec, files, m) for m in months}
    if not spec.partitioned or not months:
        return SkipPlan(Decision(False, {}), current, {})
    last = last_loads(context.instance, spec, months)
    decision = decide(
        months,
        current,
        last,
        current_versions(spec),
        reload_unchanged or is_forced(context.run.tags),
    )
    what = "skipped, unchanged" if decision.skip else "loading"
    context.log.info(f"{what}: " + "; ".join(decision.reasons.values()))
    return SkipPlan(decision, current, last)


__all__ = [
    "Decision",
    "MonthLoad",
    "decide",
    "is_forced",
    "last_loads",
    "month_source",
    "SkipPlan",
    "plan_months",
]
