"""The ELT monitoring dashboard (Apache Superset) on ``elt_manager_log``, kept as code.

- ``views.sql`` / ``views.py``: schema ``elt_dashboard``, one view per chart.
- ``grants.sql``: role ``elt_dashboard_reader`` (SELECT on the views and the log only).
- ``bundle.py``: the Superset import bundle (7 charts, 3 native filters), stable UUIDs.
- ``install.py`` / ``server.py`` / ``api.py``: Superset in its own venv, served locally,
  and its REST API; ``cli.py``: ``subway-platform dashboard``.
"""
