"""Benchmarks of subway_platform against the reference's hand-written JVM Spark job.

Run with ``python -m benchmarks.run`` from the repository root (``make bench``); not part
of the test suite. See ``benchmarks/README.md``.
"""
