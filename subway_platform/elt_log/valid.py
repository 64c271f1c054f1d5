"""The ELT log's ``valid``: the reference's figure rule AND the blocking checks.

The reference framework logged ``valid = source_read_size == target_read_size +
cleaned_count``. Our gold also sums repeated keys, so its rule is

    valid = (source = target + cleaned + merged) AND every blocking check passed

where each figure is measured on its own (``elt_log/stats.py`` says where): ``merged`` is
gold's good source rows minus the distinct keys they formed, never the remainder
``source - target - cleaned``, so the equation can fail. This module is pure: figures in,
verdict and reason out.
"""

from __future__ import annotations

from dataclasses import dataclass

from subway_platform.elt_log.stats import PartitionStats

FIGURES = ("source", "target", "cleaned", "merged")
"""The figures of the rule, as the ELT log's message names them."""


def _figures(stats: PartitionStats) -> dict[str, int | None]:
    return {
        "source": stats.source_read_size,
        "target": stats.target_read_size,
        "cleaned": stats.cleaned_count,
        "merged": stats.merged_count,
    }


def figures_problem(stats: PartitionStats) -> str | None:
    """Why the figures of one load do not add up, or None when they do.

    - every figure unknown: None (an asset that reports no ELT figures is judged by its
      checks alone; the log shows its counts as -1);
    - some figure unknown: ``merged unknown`` (a load that reports some figures must
      report all four);
    - a negative figure: ``merged -3 < 0``;
    - ``source != target + cleaned + merged``: ``source 17724 != target 17715 + cleaned 0
      + merged 8``.
    """
    figures = _figures(stats)
    if all(value is None for value in figures.values()):
        return None
    unknown = [name for name, value in figures.items() if value is None]
    if unknown:
        return f"{', '.join(unknown)} unknown"
    known = {name: int(value or 0) for name, value in figures.items()}
    negative = [f"{name} {value} < 0" for name, value in known.items() if value < 0]
    if negative:
        return "; ".join(negative)
    source, target, cleaned, merged = (known[name] for name in FIGURES)
    if source != target + cleaned + merged:
        return f"source {source} != target {target} + cleaned {cleaned} + merged {merged}"
    return None


@dataclass(frozen=True)
class LoadVerdict:
    """Whether one (asset, partition) load is valid, and why not."""

    figures_problem: str | None
    """Why the figures do not add up (:func:`figures_problem`); None when they do."""
    checks_passed: bool
    """Every blocking (ERROR-severity) check evaluated on the load passed."""

    @property
    def valid(self) -> bool:
        """The figures add up and every blocking check passed."""
        return self.figures_problem is None and self.checks_passed


def judge_load(stats: PartitionStats, checks_passed: bool) -> LoadVerdict:
    """The verdict of a written load: its figures (``stats``) and its blocking checks."""
    return LoadVerdict(figures_problem=figures_problem(stats), checks_passed=checks_passed)
