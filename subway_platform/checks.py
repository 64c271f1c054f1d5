"""Asset checks that flag invalid loads, built from the data set specs.

Each check reads back what its asset just wrote (Delta through the engine, the mart
through the mart store) and reconciles it with the layer before, month by month:

- bronze ``reconciles_with_landing`` (blocking): rows and passenger sums equal the
  landing file's; no requested month is empty.
- bronze ``source_schema_matches_spec`` (warning): new, missing or renamed columns.
- gold ``reconciles_with_bronze`` (blocking): bronze rows = rejected + merged-into-gold
  rows; gold sums = the sums of bronze's good rows; rejects within the threshold.
- gold ``keys_unique`` (blocking): one gold row per key after merging.
- gold ``no_rows_rejected`` (warning): fails whenever a load quarantines rows, with their
  number, passenger sums and first reasons; above the spec's ``reject_threshold`` the
  blocking ``reconciles_with_bronze`` fails too and the mart keeps its previous month.
- gold ``stations_matched`` (warning, passenger data sets): enough of each month's
  boardings got a station id and coordinates (``assets/enrichment.py``).
- mart ``matches_gold`` (blocking for anything downstream): same rows and sums as gold.

Blocking checks stop downstream assets in the same run: an invalid bronze or gold month
never reaches the mart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.stats import PartitionStats
from subway_platform.partitions import MONTH_COLUMN
from subway_platform.tables import tables_of

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

RECONCILES_WITH_LANDING = "reconciles_with_landing"
SOURCE_SCHEMA_MATCHES_SPEC = "source_schema_matches_spec"
RECONCILES_WITH_BRONZE = "reconciles_with_bronze"
KEYS_UNIQUE = "keys_unique"
NO_ROWS_REJECTED = "no_rows_rejected"
FIRST_REASONS = 5
"""Rejected rows whose reasons the ``no_rows_rejected`` check quotes, first lines first."""
STATIONS_MATCHED = "stations_matched"
MATCHES_GOLD = "matches_gold"


def check_specs(spec: DatasetSpec, layer: str) -> list[dg.AssetCheckSpec]:
    """The checks an asset of ``layer`` reports with each materialization."""
    key = getattr(tables_of(spec), layer).key
    names: dict[str, list[tuple[str, bool, str]]] = {
        "bronze": [
            (
                RECONCILES_WITH_LANDING,
                True,
                "Bronze rows and passenger sums equal the landing file's, per month; "
                "no month empty.",
            ),
            (
                SOURCE_SCHEMA_MATCHES_SPEC,
                False,
                "The landing file's columns match the data set spec "
                "(new, missing or renamed columns are named).",
            ),
        ],
        "gold": [
            (
                RECONCILES_WITH_BRONZE,
                True,
                "Bronze rows = rejected rows + rows merged into gold; "
                "gold sums = sums of bronze's good rows; rejects within the threshold.",
            ),
            (KEYS_UNIQUE, True, "One gold row per key after summing repeated keys."),
            (
                NO_ROWS_REJECTED,
                False,
                "Warning: no row was rejected (quarantined in "
                f"{tables_of(spec).rejects.key_string}). "
                "Reports the rejected rows, their passenger sums (missing from the mart) and "
                "the first reasons; beyond the data set's threshold "
                f"({spec.reject_threshold:.1%}) {RECONCILES_WITH_BRONZE} blocks.",
            ),
        ],
        "mart": [
            (
                MATCHES_GOLD,
                True,
                "The mart's rows and passenger sums equal gold's for the loaded months.",
            ),
        ],
    }
    if layer == "gold" and spec.station_join is not None:
        names["gold"].append(
            (
                STATIONS_MATCHED,
                False,
                f"Warning: at least {spec.station_match_target_pct}% of each month's boardings "
                "get a station id and coordinates (line and station names normalised through "
                "the station spec's aliases); lists the unmatched (line, station) pairs with "
                "their boardings.",
            )
        )
    return [
        dg.AssetCheckSpec(name=name, asset=key, blocking=blocking, description=desc)
        for name, blocking, desc in names[layer]
    ]


def _verdict(
    check_name: str, problems: list[str], when_passed: str, metadata: dict[str, Any] | None = None
) -> dg.AssetCheckResult:
    """A check that passes when it found no problem; its description lists them (first 1000
    characters) or says what held."""
    by_partition: dict[str, list[str]] = {}
    for problem in problems:
        # Every problem starts with "<month>: " ("table: " or ": " when unpartitioned); the
        # ELT log and the alerts quote the problems of one month from this metadata.
        key, _, text = problem.partition(": ")
        by_partition.setdefault("" if key == "table" else key, []).append(text)
    extra = {"problems": dg.MetadataValue.json(by_partition)} if problems else {}
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not problems,
        description="; ".join(problems)[:1000] or when_passed,
        metadata={**(metadata or {}), **extra},
    )


def _keyed(rows: list[Any], months: list[str]) -> dict[str, dict[str, Any]]:
    """Spark rows grouped by month -> {month: row dict}; unpartitioned data under ''."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        d = row.asDict()
        out[str(d.pop("_k") or "")] = d
    return out if not months else {m: out.get(m, {}) for m in months}


def _group(df: DataFrame, months: list[str]) -> DataFrame:
    from pyspark.sql import functions as F

    if months:
        return df.groupBy(F.col(MONTH_COLUMN).alias("_k"))
    return df.groupBy(F.lit("").alias("_k"))


def _sum_expr(spec: DatasetSpec, name: str) -> Column:
    from pyspark.sql import functions as F

    from subway_platform.assets.transforms import count_value

    parts = [F.coalesce(count_value(F.col(src)), F.lit(0)) for src in spec.sum_sources(name)]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return F.sum(total).cast("bigint").alias(name)


def bronze_results(
    spec: DatasetSpec,
    bronze: DataFrame,
    months: list[str],
    stats: Mapping[str, PartitionStats],
    extra_columns: list[str],
    renamed: dict[str, str],
    missing_optional: list[str],
) -> list[dg.AssetCheckResult]:
    """Reconcile bronze (read back) with the landing files' statistics."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("rows"), *[_sum_expr(spec, s) for s in spec.sum_columns]]
    found = _keyed(_group(bronze, months).agg(*aggs).collect(), months)
    problems: list[str] = []
    per_month: dict[str, Any] = {}
    keys = list(stats) if not months else months
    for key in keys:
        src = stats.get(key) or PartitionStats()
        got = found.get(key, {})
        rows = int(got.get("rows") or 0)
        per_month[key] = {"landing_rows": src.source_read_size, "bronze_rows": rows}
        if rows == 0:
            problems.append(f"{key or 'table'}: no rows")
        if src.source_read_size != rows:
            problems.append(
                f"{key or 'table'}: {rows} bronze rows, landing file has {src.source_read_size}"
            )
        for name in spec.sum_columns:
            landing = src.sums.get(name)
            per_month[key][f"landing_{name}"] = landing
            per_month[key][f"bronze_{name}"] = got.get(name)
            if landing != got.get(name):
                problems.append(
                    f"{key}: {name} {got.get(name)} in bronze, {landing} in the landing file"
                )
    drift = {"extra": extra_columns, "renamed": renamed, "missing_optional": missing_optional}
    return [
        _verdict(
            RECONCILES_WITH_LANDING,
            problems,
            "rows and sums reconcile",
            {"per_partition": dg.MetadataValue.json(per_month)},
        ),
        dg.AssetCheckResult(
            check_name=SOURCE_SCHEMA_MATCHES_SPEC,
            passed=not extra_columns and not renamed,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"new columns: {extra_columns or 'none'}; renamed: {renamed or 'none'}; "
                f"optional columns absent: {missing_optional or 'none'}"
            ),
            metadata={"drift": dg.MetadataValue.json(drift)},
        ),
    ]


def bronze_good_stats(
    spec: DatasetSpec, typed: DataFrame, months: list[str]
) -> dict[str, dict[str, Any]]:
    """One scan of bronze, typed (``typed_columns``): rows, parseable ("good") rows and the
    good rows' sums per month. Gold uses it to know whether any row is rejected before
    writing rejects, and its reconciliation check compares gold with it."""
    from pyspark.sql import functions as F

    is_good = F.col("_reject_reason").isNull()
    good_sums: list[Column] = []
    for name in spec.sum_columns:
        targets = [c.target for c in spec.columns if c.name in spec.sum_sources(name)]
        total = F.coalesce(F.col(targets[0]), F.lit(0))
        for t in targets[1:]:
            total = total + F.coalesce(F.col(t), F.lit(0))
        good_sums.append(F.sum(F.when(is_good, total)).cast("bigint").alias(name))
        # The parseable counts of the rows gold rejects: passengers the mart will not have.
        good_sums.append(F.sum(F.when(~is_good, total)).cast("bigint").alias(f"rejected_{name}"))
    return _keyed(
        _group(typed, months)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.when(is_good, 1).otherwise(0)).alias("good"),
            *good_sums,
        )
        .collect(),
        months,
    )


def gold_results(
    spec: DatasetSpec,
    bronze_stats: dict[str, dict[str, Any]],
    gold: DataFrame,
    months: list[str],
    rejected: dict[str, int],
) -> list[dg.AssetCheckResult]:
    """Reconcile gold (read back) with bronze (``bronze_good_stats``) and the rejects table
    (``rejected``, rows per month from its Delta log): rows, sums, key uniqueness, reject share."""
    from pyspark.sql import functions as F

    factor = 24 if spec.wide_hours else 1
    keys = [k for k in spec.gold_key if k != MONTH_COLUMN]
    gold_stats = _keyed(
        _group(gold, months)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum("source_rows").cast("bigint").alias("source_rows"),
            *[F.sum(n).cast("bigint").alias(n) for n in spec.sum_columns],
        )
        .collect(),
        months,
    )
    # Keys seen more than once. (A group-by, not countDistinct over several columns:
    # on Sail 0.7.2 that took 32 s for 1.85M rows where this takes 0.2 s.)
    key_cols = [MONTH_COLUMN, *keys] if months else keys
    repeated = gold.groupBy(*key_cols).count().filter(F.col("count") > 1)
    dup_stats = _keyed(
        _group(repeated, months).agg(F.count(F.lit(1)).alias("dup_keys")).collect(), months
    )
    problems: list[str] = []
    dupes: list[str] = []
    per_month: dict[str, Any] = {}
    for key in months or list(bronze_stats):
        b, g = bronze_stats.get(key, {}), gold_stats.get(key, {})
        b_rows, rej = int(b.get("rows") or 0), rejected.get(key, 0)
        merged_in = int(g.get("source_rows") or 0)
        per_month[key] = {
            "bronze_rows": b_rows,
            "rejected_rows": rej,
            "gold_rows": g.get("rows"),
            "gold_source_rows": merged_in,
        }
        if b_rows * factor != rej * factor + merged_in:
            unit = "rows" if factor == 1 else f"hour rows ({factor} per bronze row)"
            problems.append(
                f"{key}: {merged_in} {unit} + {rej * factor} rejected "
                f"!= {b_rows * factor} in bronze"
            )
        if b_rows and rej / b_rows > spec.reject_threshold:
            problems.append(
                f"{key}: {rej} of {b_rows} rows rejected (threshold {spec.reject_threshold:.1%})"
            )
        for name in spec.sum_columns:
            per_month[key][f"gold_{name}"] = g.get(name)
            if b.get(name) != g.get(name):
                problems.append(
                    f"{key}: {name} {g.get(name)} in gold, {b.get(name)} in bronze's good rows"
                )
        repeats = int(dup_stats.get(key, {}).get("dup_keys") or 0)
        if repeats:
            dupes.append(f"{key}: {repeats} keys appear more than once in {g.get('rows')} rows")
    return [
        _verdict(
            RECONCILES_WITH_BRONZE,
            problems,
            "rows and sums reconcile",
            {"per_partition": dg.MetadataValue.json(per_month)},
        ),
        _verdict(KEYS_UNIQUE, dupes, f"unique on {', '.join(spec.gold_key)}"),
    ]


def mart_results(
    spec: DatasetSpec, gold: DataFrame, months: list[str], mart_stats: dict[str, dict[str, Any]]
) -> list[dg.AssetCheckResult]:
    """Compare the mart's rows and sums (``mart_stats``: ``MartStore.totals_per_month`` of
    the loaded months) with gold's (engine) for the loaded months."""
    from pyspark.sql import functions as F

    gold_stats = _keyed(
        _group(gold, months)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            *[F.sum(n).cast("bigint").alias(n) for n in spec.sum_columns],
        )
        .collect(),
        months,
    )
    problems = []
    for key in months or [""]:
        g, m = gold_stats.get(key, {}), mart_stats.get(key, {})
        for field in ("rows", *spec.sum_columns):
            if (g.get(field) or 0) != (m.get(field) or 0):
                problems.append(
                    f"{key or 'table'}: {field} {m.get(field)} in the mart, {g.get(field)} in gold"
                )
    return [
        _verdict(
            MATCHES_GOLD,
            problems,
            "mart equals gold",
            {"mart": dg.MetadataValue.json(mart_stats), "gold": dg.MetadataValue.json(gold_stats)},
        )
    ]


def first_rejected_rows(
    spec: DatasetSpec, typed: DataFrame, months: list[str]
) -> list[dict[str, Any]]:
    """The first rejected rows (by month and line) of ``typed`` (``typed_columns``), with the
    file, line and reason. One small query, run only when some row is rejected."""
    from pyspark.sql import functions as F

    month = F.col(MONTH_COLUMN) if months else F.lit("")
    rows = (
        typed.filter(F.col("_reject_reason").isNotNull())
        .select(month.alias("month"), "_source_object", "_source_row", "_reject_reason")
        .orderBy("month", "_source_object", "_source_row")
        .limit(FIRST_REASONS)
        .collect()
    )
    return [
        {
            "month": r["month"],
            "file": r["_source_object"],
            "line": r["_source_row"],
            "reason": r["_reject_reason"],
        }
        for r in rows
    ]


def rejects_result(
    spec: DatasetSpec,
    bronze_stats: dict[str, dict[str, Any]],
    rejected: dict[str, int],
    first_rejects: list[dict[str, Any]],
) -> dg.AssetCheckResult:
    """Warning check: fails whenever the load quarantined rows. Numeric metadata: rejected
    rows and their passenger sums (in total and per month); the first reasons with file and
    line. Each month with rejects gets its problem (the ELT log row quotes it)."""
    problems: dict[str, list[str]] = {}
    per_month: dict[str, dict[str, int]] = {}
    totals = {"rejected_rows": 0, **{f"rejected_{n}": 0 for n in spec.sum_columns}}
    for key in sorted(set(bronze_stats) | set(rejected)):
        stats = bronze_stats.get(key, {})
        entry = {"rejected_rows": int(rejected.get(key, 0))}
        entry.update(
            {f"rejected_{n}": int(stats.get(f"rejected_{n}") or 0) for n in spec.sum_columns}
        )
        per_month[key] = entry
        for name, value in entry.items():
            totals[name] += value
        if entry["rejected_rows"]:
            sums = ", ".join(f"{n} {entry[f'rejected_{n}']}" for n in spec.sum_columns)
            first = next((r for r in first_rejects if r["month"] == key), None)
            where = f"; first: line {first['line']}: {first['reason']}" if first else ""
            problems[key] = [
                f"loaded with {entry['rejected_rows']} rejected rows"
                + (f" ({sums} not in the mart)" if sums else "")
                + where
            ]
    description = (
        "; ".join(f"{k or 'table'}: {p[0]}" for k, p in problems.items()) or "no row rejected"
    )
    metadata: dict[str, Any] = {
        **totals,
        "months_with_rejects": len(problems),
        "per_partition": dg.MetadataValue.json(per_month),
        "first_reasons": dg.MetadataValue.json(first_rejects),
    }
    if problems:
        metadata["problems"] = dg.MetadataValue.json(problems)
    return dg.AssetCheckResult(
        check_name=NO_ROWS_REJECTED,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description=description[:1000],
        metadata=metadata,
    )
