"""Judgment of one month's checks: figures in, check results out, no engine.

Each function judges ONE month (``""`` for an unpartitioned table) from figures that
``check_figures.py`` computed (and, for bronze, the landing file's statistics). Every
problem starts with ``"<month>: "`` (``"table: "`` when unpartitioned) and is also listed
under the month in the ``problems`` metadata, which the ELT log and the alerts quote
(``elt_log/check_text.py``). ``checks.py`` calls these once per month, so that each month
gets its own evaluation of every check in the UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.stats import PartitionStats

RECONCILES_WITH_LANDING = "reconciles_with_landing"
SOURCE_SCHEMA_MATCHES_SPEC = "source_schema_matches_spec"
RECONCILES_WITH_BRONZE = "reconciles_with_bronze"
KEYS_UNIQUE = "keys_unique"
NO_ROWS_REJECTED = "no_rows_rejected"
STATIONS_MATCHED = "stations_matched"
MATCHES_GOLD = "matches_gold"

Figures = Mapping[str, Any]
"""One month's aggregates of a table, by name (``rows``, ``pass_in``, ...); a name absent
or None when the month has no rows."""


def verdict(
    check_name: str, problems: list[str], when_passed: str, metadata: dict[str, Any] | None = None
) -> dg.AssetCheckResult:
    """A check that passes when it found no problem; its description lists them (first 1000
    characters) or says what held."""
    by_partition: dict[str, list[str]] = {}
    for problem in problems:
        # Every problem starts with "<month>: " ("table: " or ": " when unpartitioned).
        key, _, text = problem.partition(": ")
        by_partition.setdefault("" if key == "table" else key, []).append(text)
    extra = {"problems": dg.MetadataValue.json(by_partition)} if problems else {}
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not problems,
        description="; ".join(problems)[:1000] or when_passed,
        metadata={**(metadata or {}), **extra},
    )


def judge_landing(
    sum_columns: tuple[str, ...] | list[str],
    month: str,
    landing: PartitionStats,
    bronze: Figures,
) -> dg.AssetCheckResult:
    """Bronze ``reconciles_with_landing`` for one month: bronze holds rows (at least one)
    and every sum exactly as the landing file(s) read for that month."""
    rows = int(bronze.get("rows") or 0)
    entry: dict[str, Any] = {"landing_rows": landing.source_read_size, "bronze_rows": rows}
    problems: list[str] = []
    if rows == 0:
        problems.append(f"{month or 'table'}: no rows")
    if landing.source_read_size != rows:
        problems.append(
            f"{month or 'table'}: {rows} bronze rows, landing file has {landing.source_read_size}"
        )
    for name in sum_columns:
        expected = landing.sums.get(name)
        entry[f"landing_{name}"] = expected
        entry[f"bronze_{name}"] = bronze.get(name)
        if expected != bronze.get(name):
            problems.append(
                f"{month}: {name} {bronze.get(name)} in bronze, {expected} in the landing file"
            )
    return verdict(
        RECONCILES_WITH_LANDING,
        problems,
        "rows and sums reconcile",
        {"per_partition": dg.MetadataValue.json({month: entry})},
    )


def judge_schema(
    extra_columns: list[str], renamed: dict[str, str], missing_optional: list[str]
) -> dg.AssetCheckResult:
    """Bronze ``source_schema_matches_spec`` (warning): the run's files have no column the
    spec does not know and none under another name. Optional columns absent are reported,
    not failed."""
    drift = {"extra": extra_columns, "renamed": renamed, "missing_optional": missing_optional}
    return dg.AssetCheckResult(
        check_name=SOURCE_SCHEMA_MATCHES_SPEC,
        passed=not extra_columns and not renamed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"new columns: {extra_columns or 'none'}; renamed: {renamed or 'none'}; "
            f"optional columns absent: {missing_optional or 'none'}"
        ),
        metadata={"drift": dg.MetadataValue.json(drift)},
    )


def judge_gold(
    sum_columns: tuple[str, ...] | list[str],
    gold_key: tuple[str, ...] | list[str],
    reject_threshold: float,
    hours_per_row: int,
    month: str,
    bronze: Figures,
    gold: Figures,
    dup_keys: int,
    rejected: int,
) -> list[dg.AssetCheckResult]:
    """Gold ``reconciles_with_bronze`` and ``keys_unique`` for one month.

    - bronze rows x ``hours_per_row`` = rejected rows x ``hours_per_row`` + gold's
      ``source_rows`` (the bronze rows merged into gold; 24 hour rows per bronze row for a
      wide-hours data set);
    - rejected / bronze rows <= ``reject_threshold``;
    - each gold sum equals the sum of bronze's good (parseable) rows;
    - ``keys_unique``: no key of ``gold_key`` appears twice (``dup_keys`` = 0).
    """
    b_rows = int(bronze.get("rows") or 0)
    merged_in = int(gold.get("source_rows") or 0)
    entry: dict[str, Any] = {
        "bronze_rows": b_rows,
        "rejected_rows": rejected,
        "gold_rows": gold.get("rows"),
        "gold_source_rows": merged_in,
    }
    problems: list[str] = []
    factor = hours_per_row
    if b_rows * factor != rejected * factor + merged_in:
        unit = "rows" if factor == 1 else f"hour rows ({factor} per bronze row)"
        problems.append(
            f"{month}: {merged_in} {unit} + {rejected * factor} rejected "
            f"!= {b_rows * factor} in bronze"
        )
    if b_rows and rejected / b_rows > reject_threshold:
        problems.append(
            f"{month}: {rejected} of {b_rows} rows rejected (threshold {reject_threshold:.1%})"
        )
    for name in sum_columns:
        entry[f"gold_{name}"] = gold.get(name)
        if bronze.get(name) != gold.get(name):
            problems.append(
                f"{month}: {name} {gold.get(name)} in gold, "
                f"{bronze.get(name)} in bronze's good rows"
            )
    dupes = (
        [f"{month}: {dup_keys} keys appear more than once in {gold.get('rows')} rows"]
        if dup_keys
        else []
    )
    return [
        verdict(
            RECONCILES_WITH_BRONZE,
            problems,
            "rows and sums reconcile",
            {"per_partition": dg.MetadataValue.json({month: entry})},
        ),
        verdict(KEYS_UNIQUE, dupes, f"unique on {', '.join(gold_key)}"),
    ]


def judge_mart(
    sum_columns: tuple[str, ...] | list[str], month: str, gold: Figures, mart: Figures
) -> dg.AssetCheckResult:
    """Mart ``matches_gold`` for one month: the mart's rows and every sum equal gold's
    (a figure absent counts as 0: a month absent from both matches)."""
    problems = [
        f"{month or 'table'}: {field} {mart.get(field)} in the mart, {gold.get(field)} in gold"
        for field in ("rows", *sum_columns)
        if (gold.get(field) or 0) != (mart.get(field) or 0)
    ]
    return verdict(
        MATCHES_GOLD,
        problems,
        "mart equals gold",
        {
            "mart": dg.MetadataValue.json({month: dict(mart)}),
            "gold": dg.MetadataValue.json({month: dict(gold)}),
        },
    )


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
