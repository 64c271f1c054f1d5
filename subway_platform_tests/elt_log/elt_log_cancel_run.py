"""A run worker of its own for the cancellation test: materializes bronze, then the slow
gold load, in this process, on the ``DAGSTER_HOME`` instance. Usage: ``python
elt_log_cancel_run.py <token> <month>``; the run carries the tag ``test/token=<token>``."""

from __future__ import annotations

import sys

import dagster as dg
from elt_log_contract_assets import bronze_demo, gold_slow, mart_slow

TOKEN_TAG = "test/token"

if __name__ == "__main__":
    token, month = sys.argv[1], sys.argv[2]
    with dg.DagsterInstance.get() as instance:
        dg.materialize(
            [bronze_demo, gold_slow, mart_slow],
            instance=instance,
            partition_key=month,
            tags={TOKEN_TAG: token},
            raise_on_error=False,
        )
