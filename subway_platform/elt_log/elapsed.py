"""Each month's own share of its step's time: the ELT log's ``elapsed``.

A Dagster step loads one month or a range of months. When it loads one (asset, month),
the step's duration is that month's own, measured (``elapsed_method = 'measured'``). A
range step runs the engine once for all its months: one Spark plan, one Delta commit,
one PostgreSQL transaction, so no clock can tell one month's part from another's. Its
duration is then shared among the rows the step wrote in proportion to the rows each
read (``source_read_size``; ``'prorated_rows'``), or in equal parts when a row's count is
unknown (a failed or cancelled load: ``'prorated_even'``). Either way the shares of a step
add up to its duration, so summing ``elapsed`` over a range's months gives the step's
duration instead of counting it once per month.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

ElapsedMethod = Literal["measured", "prorated_rows", "prorated_even"]
"""How a row's ``elapsed`` was obtained (the ELT log's ``elapsed_method``)."""


def share_elapsed(total: float, weights: Sequence[int | None]) -> tuple[list[float], ElapsedMethod]:
    """``total`` seconds shared among ``len(weights)`` rows: by their weights (rows read)
    when every weight is known (>= 0) and their sum is positive, else in equal parts; a
    single row keeps it all (measured). The shares add up to ``total``: the last one takes
    what the others leave, so no rounding is lost."""
    if not weights:
        return [], "measured"
    if len(weights) == 1:
        return [total], "measured"
    known = [w for w in weights if w is not None and w >= 0]
    if len(known) == len(weights) and sum(known) > 0:
        whole = sum(known)
        parts = [total * w / whole for w in known]
        method: ElapsedMethod = "prorated_rows"
    else:
        parts = [total / len(weights)] * len(weights)
        method = "prorated_even"
    parts[-1] = max(0.0, total - sum(parts[:-1]))
    return parts, method
