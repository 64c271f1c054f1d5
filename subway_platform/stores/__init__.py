"""The one door to the platform's tables: a store per backend.

``DeltaStore`` (bronze, gold, rejects: Delta tables in the lake) and ``MartStore`` (the
PostgreSQL mart) alone read and write tables. Each takes a ``tables.Slice`` (a table and
its months), takes the (table, month) locks itself, and reports what it wrote. The IO
managers, the assets and the checks go through them.
"""
