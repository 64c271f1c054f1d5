"""A failed check as the ELT log shows it: the asset, the month and the figures that disagree.

The platform's checks report their problems per month in the ``problems`` metadata
(``{"201607": ["17186 rows + 0 rejected != 17187 in bronze"]}``), so a month's row quotes
only its own problems, however many months the run loaded. A check without that metadata
(another code location's) is named, with its description if it has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from subway_platform.elt_log.error_text import detail_text, short_message, without_class_paths
from subway_platform.elt_log.run_events import CheckOutcome

PROBLEMS_METADATA = "problems"
"""Check metadata: partition key (``""`` when unpartitioned) -> list of problems."""


def fails_for(check: CheckOutcome, partition: str) -> bool:
    """Whether ``check`` failed for ``partition``. A failed check that reports its
    problems per month (``problems`` metadata) over a range of months failed only for the
    months it names; one without that metadata failed for every month it covers."""
    if check.passed:
        return False
    if check.partition not in (None, ""):
        return True
    return PROBLEMS_METADATA not in check.metadata or bool(_problems(check, partition))


def failed_error_checks(
    checks: Sequence[CheckOutcome], asset_key: str, partition: str
) -> list[CheckOutcome]:
    """The ERROR-severity evaluations of ``asset_key`` that failed for ``partition``
    (evaluations without a partition cover every partition; see :func:`fails_for`), one
    per check name."""
    out: dict[str, CheckOutcome] = {}
    for check in checks:
        if (
            check.asset_key == asset_key
            and check.partition in (None, "", partition)
            and fails_for(check, partition)
            and check.severity == dg.AssetCheckSeverity.ERROR.value
        ):
            out.setdefault(check.check_name, check)
    return list(out.values())


def failed_warning_checks(
    checks: Sequence[CheckOutcome], asset_key: str, partition: str
) -> list[CheckOutcome]:
    """The WARN-severity evaluations of ``asset_key`` that failed for ``partition``, one per
    check name. A check that reports problems per month counts only for a month it names
    (a range run's rejects in one month are not another month's warning)."""
    out: dict[str, CheckOutcome] = {}
    for check in checks:
        if (
            check.asset_key == asset_key
            and check.partition in (None, "", partition)
            and fails_for(check, partition)
            and check.severity == dg.AssetCheckSeverity.WARN.value
        ):
            out.setdefault(check.check_name, check)
    return list(out.values())


def _problems(check: CheckOutcome, partition: str) -> list[str]:
    found = check.metadata.get(PROBLEMS_METADATA)
    if isinstance(found, Mapping):
        mine = found.get(partition)
        if isinstance(mine, list) and mine:
            return [str(p) for p in mine]
    return []


def _where(asset_key: str, partition: str) -> str:
    return f"{asset_key} {partition}" if partition else asset_key


def check_failure_message(
    failed: Sequence[CheckOutcome],
    asset_key: str,
    partition: str,
    counts: Mapping[str, int],
    first: Sequence[str] = (),
) -> str:
    """One line for the row: ``gold/subway_passengers 201607: 17186 rows + 0 rejected !=
    17187 in bronze (reconciles_with_bronze)``; at most 255 characters, redacted. ``first``:
    problems quoted before the checks' (the figures that disagree)."""
    parts: list[str] = list(first)
    for check in failed:
        problems = _problems(check, partition)
        if problems:
            parts.append(f"{'; '.join(problems)} ({check.check_name})")
        elif check.description:
            parts.append(f"check {check.check_name} failed: {check.description}")
        else:
            figures = ", ".join(f"{v} {k}" for k, v in counts.items() if v >= 0)
            parts.append(f"check {check.check_name} failed" + (f" ({figures})" if figures else ""))
    text = f"{_where(asset_key, partition)}: {'; '.join(parts)}"
    return short_message(without_class_paths(text))


def check_failure_detail(
    failed: Sequence[CheckOutcome],
    asset_key: str,
    partition: str,
    what: str = "blocking check(s) failed",
) -> str:
    """Every failed check in full: name, description, and its metadata (the figures)."""
    blocks: list[str] = [f"{_where(asset_key, partition)}: {what}"]
    for check in failed:
        metadata: dict[str, Any] = dict(check.metadata)
        blocks.append(
            f"check {check.check_name} ({check.severity}): {check.description or 'no description'}"
            f"\nmetadata: {json.dumps(metadata, default=str, ensure_ascii=False, sort_keys=True)}"
        )
    return detail_text("\n\n".join(blocks))
