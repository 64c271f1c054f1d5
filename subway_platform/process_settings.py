"""Settings of every process that loads the code location (CLI, run workers, code server).

Both were found by the benchmark (benchmarks/README.md). They are applied when a process
builds the definitions (``definitions.build_definitions``: every process that loads the
code location, once), never on import:

- ``DAGSTER_EVENT_BATCH_SIZE`` (Dagster's own opt-in, read at every event): the
  per-partition events of one output and the planned events of a run are stored with one
  statement per batch instead of one round trip each. A twelve-month run stores 36
  materializations and 36 planned events; batching took 1.0 s off its 1.7 s of event
  writes. `subway-platform env` exports it too, for the daemon, which creates sensor runs
  without loading this code.
- No cyclic garbage collection at interpreter exit: after a run, Python's finalization
  walked the heap Dagster, pyspark and Sail leave behind for 1.0 s (measured on
  ``dagster asset materialize``: 1.0 s from the last exit handler to the process's end,
  0.06 s with this). ``gc.freeze()`` in an exit handler moves every object out of the
  collector's reach; reference counting still frees what it can, exit handlers
  registered before it still run, and the operating system reclaims the rest.
"""

import atexit
import gc
import os

EVENT_BATCH_SIZE = "100"


def apply_process_settings() -> None:
    """Apply the settings above (an explicit environment wins). Called once per process."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    atexit.register(gc.freeze)
