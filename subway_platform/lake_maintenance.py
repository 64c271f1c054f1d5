"""Delta table maintenance: compaction (OPTIMIZE) and VACUUM of every table in the lake.

Monthly ``replaceWhere`` loads leave one or more small files per month and every reload
leaves the replaced files behind (for time travel). ``delta_maintenance_job`` compacts
each table's small files and removes files that no table version inside the retention
window still needs. Launch it from the UI (Jobs → ``delta_maintenance_job``) or the CLI
(``dagster job launch -j delta_maintenance_job``); it also runs on Sundays at 03:00.

The time-travel window is ``retention_hours`` (default 168 h = 7 days, Delta's own
default): after a VACUUM, versions younger than that stay readable with ``versionAsOf``.

Where it runs: on an Apache Spark engine with delta-spark, as Delta's own SQL
(``OPTIMIZE``, ``VACUUM … RETAIN n HOURS``); on Sail, which has neither, through
delta-rs (``deltalake``), which commits the same Delta actions. Each table is held under
the same per-(table, month) locks as the loads, so a compaction never races a load.
"""

import re
from typing import Any

import dagster as dg

from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.delta_log import open_delta
from subway_platform.tags import DATASET_TAG

DEFAULT_RETENTION_HOURS = 168
"""Delta's default ``deletedFileRetentionDuration``: the documented time-travel window."""


class MaintenanceConfig(dg.Config):
    """How much history to keep."""

    retention_hours: int = DEFAULT_RETENTION_HOURS
    """Files a version younger than this still needs are kept (time travel stays
    possible within this window). Below 168 h, time travel to older versions breaks."""


def engine_has_delta_sql(session: Any) -> bool:
    """Whether the Spark engine runs Delta's SQL commands (delta-spark's extension)."""
    try:
        extensions = session.conf.get("spark.sql.extensions", "") or ""
    except Exception:  # noqa: BLE001 - an engine without the conf key (Sail) has no Delta SQL
        return False
    return "DeltaSparkSessionExtension" in extensions


_SAFE_TABLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9._~/+-]+|/[A-Za-z0-9._~/+-]+")


def delta_path_reference(url: str) -> str:
    """``delta.`<url>``` for Delta's ``OPTIMIZE``/``VACUUM``, from a validated table URL.

    Delta's SQL grammar takes neither parameter markers nor ``IDENTIFIER(:name)`` for
    these commands (tried on delta-spark 4.4: ``PARSE_SYNTAX_ERROR`` at ``OPTIMIZE``), so
    the statement is text. The URL is the lake's configured root plus a fixed table path;
    anything outside a plain path's characters (quotes, backticks, spaces, ``;``) is
    refused here, before it reaches SQL.
    """
    if not _SAFE_TABLE_URL.fullmatch(url):
        raise ValueError(
            "Delta table URL has characters Delta's SQL cannot take safely "
            "(allowed: letters, digits, . _ ~ / + - and a scheme://): "
            f"{url[:200]!r}"
        )
    return f"delta.`{url}`"


def maintain_table(
    url: str,
    retention_hours: int,
    session: Any | None,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Compact and vacuum the table at ``url``; return what changed (file counts).
    ``options``: delta-rs storage options (``Lakehouse.delta_options()``)."""
    table = open_delta(url, options)
    if table is None:
        return {}
    files_before = len(table.file_uris())
    if session is not None:
        table_ref = delta_path_reference(url)
        session.sql(f"OPTIMIZE {table_ref}").collect()
        if retention_hours < DEFAULT_RETENTION_HOURS:
            session.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        hours = int(retention_hours)
        session.sql(f"VACUUM {table_ref} RETAIN {hours} HOURS").collect()
        engine = "delta-spark"
    else:
        table.optimize.compact()
        table.vacuum(
            retention_hours=retention_hours,
            dry_run=False,
            enforce_retention_duration=retention_hours >= DEFAULT_RETENTION_HOURS,
        )
        engine = "delta-rs"
    after = open_delta(url, options)
    assert after is not None, f"{url}: the table is gone after maintenance"
    return {
        "files_before": files_before,
        "files_after": len(after.file_uris()),
        "version": after.version(),
        "engine": engine,
    }


@dg.op(description=__doc__)
def maintain_delta_tables(
    context: dg.OpExecutionContext,
    config: MaintenanceConfig,
    spark: SparkEngine,
    locks: TableLocks,
    lakehouse: Lakehouse,
) -> dg.Output[dict[str, Any]]:
    """Compact and vacuum every Delta table of the lake (see the module docstring)."""
    if config.retention_hours < 0:
        raise dg.Failure("retention_hours must be 0 or more")
    session = spark.spark_session
    delta_sql = session if engine_has_delta_sql(session) else None
    report: dict[str, Any] = {}
    for path in lakehouse.table_paths():
        url = lakehouse.table_url(path)
        if not lakehouse.exists(url):
            continue
        months = sorted(k for k in lakehouse.partition_rows(url) if k)
        with locks.hold(url, [*months, ""] if months else []):
            report[path] = maintain_table(
                url, config.retention_hours, delta_sql, lakehouse.delta_options()
            )
        context.log.info(f"{path}: {report[path]}")
    metadata: dict[str, Any] = {
        "tables": len(report),
        "files_before": sum(r["files_before"] for r in report.values()),
        "files_after": sum(r["files_after"] for r in report.values()),
        "retention_hours": config.retention_hours,
        "engine": "delta-spark" if delta_sql is not None else "delta-rs",
        "per_table": dg.MetadataValue.json(report),
    }
    return dg.Output(report, metadata=metadata)


@dg.job(
    description="Compact (OPTIMIZE) and VACUUM every Delta table of the lake.",
    tags={DATASET_TAG: "maintenance"},
)
def delta_maintenance_job() -> None:
    maintain_delta_tables()


maintenance_schedule = dg.ScheduleDefinition(
    job=delta_maintenance_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
