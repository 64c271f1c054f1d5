"""Judgment of a load: pure functions of its figures (counts and sums already measured).

What the steps report (the ELT figures per month, the metadata of their outputs and of
each month) is derived here from numbers, with no engine and no table: the Spark plans
are in ``gold_plan.py`` and ``bronze.py``, the writes go through the stores
(``gold_publish.py``, the IO managers). The asset checks' rules are in ``checks.py``.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg

from subway_platform.datasets import DatasetSpec
from subway_platform.elt_log.hops import Hop
from subway_platform.elt_log.stats import PartitionStats, source_stats_metadata

if TYPE_CHECKING:  # enrichment imports Spark, which the code location does not load
    from subway_platform.assets.bronze_staging import Staged
    from subway_platform.assets.enrichment import MonthCoverage

CELLS_PER_HOURLY_ROW = 24


def hop_metadata(hop: Hop) -> dict[str, Any]:
    """The ELT hop of an output as its ``elt/`` metadata (source and target tables)."""
    return {f"elt/{k}": v for k, v in hop.as_dict().items()}


def unparseable_rows(bronze_stats: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Rows gold cannot parse per month: bronze's rows minus its good (parseable) rows."""
    return {
        key: int(s.get("rows") or 0) - int(s.get("good") or 0) for key, s in bronze_stats.items()
    }


def gold_source_stats(
    spec: DatasetSpec,
    source: Mapping[str, int],
    rejected: Mapping[str, int],
    bronze_stats: Mapping[str, Mapping[str, Any]],
    distinct_keys: Mapping[str, int],
) -> dict[str, PartitionStats]:
    """Gold's ELT figures per month, each measured on its own (hourly data sets count hour
    rows, 24 per bronze row):

    - ``source_read_size``: bronze's rows (``source``, from bronze's Delta log);
    - ``cleaned_count``: the rows in the rejects table (``rejected``, from its Delta log);
    - ``merged_count``: bronze's good (parseable) rows, from the scan of bronze
      (``bronze_stats``), minus the distinct keys they formed (``distinct_keys``).

    The IO manager adds the rows written. None is a remainder of the others, so the ELT
    log's ``source = target + cleaned + merged`` holds only if the load is whole.
    """
    factor = CELLS_PER_HOURLY_ROW if spec.wide_hours else 1
    stats: dict[str, PartitionStats] = {}
    for key, rows in source.items():
        good = int(bronze_stats.get(key, {}).get("good") or 0)
        stats[key] = PartitionStats(
            source_read_size=rows * factor,
            cleaned_count=rejected.get(key, 0) * factor,
            merged_count=good * factor - distinct_keys.get(key, 0),
            bronze_rows=rows,
            rejected_rows=rejected.get(key, 0),
        )
    return stats


def gold_month_metadata(cov: "MonthCoverage", rejected_rows: int) -> dict[str, float | int]:
    """Numbers of one month of gold (the UI plots their history): rows, passengers,
    rejects and the station coverage."""
    return {
        "gold/month_rows": cov.rows,
        "gold/month_pass_in": cov.boardings,
        "gold/month_pass_out": cov.alightings,
        "gold/month_rejected_rows": rejected_rows,
        **cov.metadata(),
    }


def gold_output_metadata(
    hop: Hop, stats: Mapping[str, PartitionStats], rejected_rows: int, rejects_uri: str
) -> dict[str, Any]:
    """The gold output's metadata: its ELT hop and figures, and where its rejects are."""
    return {
        **hop_metadata(hop),
        **source_stats_metadata(stats),
        "gold/rejected_rows": rejected_rows,
        "gold/rejects_uri": rejects_uri,
    }


def mart_source_stats(source: Mapping[str, int]) -> dict[str, PartitionStats]:
    """The mart's ELT figures per month: gold's rows (``source``, from gold's Delta log).
    The mart copies gold's rows (a repeated key fails its primary key): none cleaned,
    none merged."""
    return {
        key: PartitionStats(source_read_size=rows, cleaned_count=0, merged_count=0)
        for key, rows in source.items()
    }


def blocking_passed(results: list[dg.AssetCheckResult]) -> bool:
    """Whether every blocking (error-severity) check of a load passed."""
    return all(r.passed for r in results if r.severity == dg.AssetCheckSeverity.ERROR)


def bronze_source_stats(spec: DatasetSpec, staged: "Sequence[Staged]") -> dict[str, PartitionStats]:
    """What the landing files hold per month: rows, file, checksum and the sums."""
    stats: dict[str, PartitionStats] = {}
    for obj, _archived, result, _url in staged:
        per_month = result.months if spec.partitioned else {"": result.rows}
        for month, rows in per_month.items():
            sums = result.sums.get(month, {})
            stats[month] = PartitionStats(
                source_read_size=rows,
                cleaned_count=0,
                # Bronze keeps every row of the file as it is: nothing merged.
                merged_count=0,
                source_object=obj.name,
                source_checksum=result.checksum,
                sums={name: sums.get(name) for name in spec.sum_columns},
            )
    return stats


def bronze_output_metadata(
    hop: Hop,
    staged: "Sequence[Staged]",
    stats: Mapping[str, PartitionStats],
    run_id: str,
    scan_runs: Mapping[str, str],
) -> dict[str, Any]:
    """The bronze output's metadata: its ELT hop and figures, and what the staged files
    were (name, origin, checksum, encoding, rows, months, the run that staged each:
    ``scan_runs`` maps a file URL to its scan run, else this ``run_id``) and their columns
    (as read, renamed, extra, optional ones missing)."""
    first = staged[0][2]
    return {
        **hop_metadata(hop),
        "elt/source_object": ", ".join(sorted({o.name for o, *_ in staged})),
        **source_stats_metadata(stats),
        "source/files": dg.MetadataValue.json(
            [
                {
                    "name": o.name,
                    "etag": o.etag,
                    "from": "archive" if a else "landing",
                    "checksum": r.checksum,
                    "encoding": r.encoding,
                    "rows": r.rows,
                    "months": r.months,
                    "staged_by_run": scan_runs.get(o.url, run_id),
                }
                for o, a, r, _ in staged
            ]
        ),
        "source/columns": dg.MetadataValue.json(first.columns),
        "source/renamed_columns": dg.MetadataValue.json(first.renamed),
        "source/extra_columns": dg.MetadataValue.json(
            sorted({c for *_, r, _u in staged for c in r.extra_columns})
        ),
        "source/missing_optional_columns": dg.MetadataValue.json(first.missing_optional),
    }
