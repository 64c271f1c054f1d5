"""The ELT log: Dagster run events mirrored into PostgreSQL ``elt_manager_log``.

``table`` (the table), ``hops`` (each asset's source -> target), ``run_events`` (reading a
run's events), ``mirror`` (rows of a run, written idempotently), ``sensor`` (mirrors
finished runs), ``sync`` (the ``subway-platform elt-log sync`` command).
"""
