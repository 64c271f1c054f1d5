"""The mart table is partitioned by month and loads swap whole month partitions."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from subway_platform.datasets import DAILY
from subway_platform.resources.postgres import MartDatabase
from subway_platform.resources.spark import SparkEngine
from subway_platform.stores.mart import MartStore
from subway_platform.tables import tables_of
from subway_platform_tests.zone import REAL, Zone, file_totals

FIRST, SECOND = "201905", "201906"


def _daily(month: str) -> Path:
    return REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv"


def _by_month(zone: Zone) -> dict[str, tuple[int, int]]:
    rows = zone.query(
        "SELECT month, count(*), sum(pass_in)::bigint FROM subway_passengers GROUP BY 1 ORDER BY 1"
    )
    return {m: (n, s) for m, n, s in rows}


def _partitions(zone: Zone) -> dict[str, str]:
    """Partition name -> its bound, as PostgreSQL reports them."""
    rows = zone.query(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.subway_passengers'::regclass"
    )
    return dict(rows)


def test_each_month_is_one_partition_with_its_key_and_check(zone: Zone) -> None:
    for month in (FIRST, SECOND):
        zone.upload(_daily(month))
    assert zone.run("daily_passengers_job", [FIRST, SECOND]).success

    assert zone.query(
        "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'subway_passengers'::regclass"
    ) == [("l",)]
    assert _partitions(zone) == {
        f"subway_passengers_{m}": f"FOR VALUES IN ('{m}')" for m in (FIRST, SECOND)
    }
    # The primary key leads with the month; each partition keeps its CHECK constraint,
    # which lets ATTACH skip its validation scan.
    (pk,) = zone.query(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'subway_passengers'::regclass AND contype = 'p'"
    )[0]
    assert pk == "PRIMARY KEY (month, use_date, line_no, station_name)"
    checks = zone.query(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'c' AND starts_with(conrelid::regclass::text, 'subway_passengers_') "
        "ORDER BY 1"
    )
    assert checks == [
        (f"subway_passengers_{m}", f"CHECK ((month = '{m}'::text))") for m in (FIRST, SECOND)
    ]
    for month in (FIRST, SECOND):
        totals = file_totals(_daily(month))
        assert _by_month(zone)[month] == (len(totals["keys"]), totals["pass_in"])

    # Reloading one month replaces that partition only; no staging table is left.
    before = _by_month(zone)
    zone.upload(_daily(SECOND))
    assert zone.run("daily_passengers_job", [SECOND]).success
    assert _by_month(zone) == before
    assert set(_partitions(zone)) == {f"subway_passengers_{m}" for m in (FIRST, SECOND)}
    assert zone.query("SELECT count(*) FROM pg_tables WHERE starts_with(tablename, '_stage_')") == [
        (0,)
    ]

    # The mart store reads the same figures back, month by month (an absent month: 0).
    store = MartStore(
        mart=MartDatabase(dsn=zone.mart_dsn),
        spark=SparkEngine(remote=os.environ.get("SPARK_REMOTE")),
    )
    mart = tables_of(DAILY).mart
    assert store.rows_per_month(mart.months([FIRST, SECOND, "201907"])) == {
        FIRST: before[FIRST][0],
        SECOND: before[SECOND][0],
        "201907": 0,
    }
    assert store.rows_per_month(mart.months(None)) == {m: n for m, (n, _) in before.items()}
    totals = store.totals_per_month(mart.months([SECOND]), ["pass_in"])
    assert totals == {SECOND: {"rows": before[SECOND][0], "pass_in": before[SECOND][1]}}
    second = store.read_slice(mart.months([SECOND]))
    assert second.count() == before[SECOND][0]
    assert {r["month"] for r in second.select("month").distinct().collect()} == {SECOND}
    assert dict(second.dtypes)["month"] == "string" and dict(second.dtypes)["pass_in"] == "bigint"
    assert second.groupBy().sum("pass_in").collect()[0][0] == before[SECOND][1]


def test_a_plain_table_from_an_earlier_version_is_converted_and_keeps_its_rows(zone: Zone) -> None:
    zone.upload(_daily(FIRST))
    assert zone.run("daily_passengers_job", [FIRST]).success
    first = _by_month(zone)[FIRST]
    # What the previous version created: one plain table, key without month, month index.
    with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE old_copy AS SELECT * FROM subway_passengers")
        conn.execute("DROP TABLE subway_passengers")
        conn.execute("ALTER TABLE old_copy RENAME TO subway_passengers")
        conn.execute(
            "ALTER TABLE subway_passengers ADD PRIMARY KEY (use_date, line_no, station_name)"
        )
        conn.execute("CREATE INDEX subway_passengers_month_idx ON subway_passengers (month)")
        # An analysts' role was granted SELECT on it.
        conn.execute("DROP ROLE IF EXISTS mart_analyst")
        conn.execute("CREATE ROLE mart_analyst NOLOGIN")
        conn.execute("GRANT SELECT ON subway_passengers TO mart_analyst")
    assert zone.query("SELECT relkind FROM pg_class WHERE relname = 'subway_passengers'") == [
        ("r",)
    ]

    zone.upload(_daily(SECOND))
    assert zone.run("daily_passengers_job", [SECOND]).success

    assert zone.query("SELECT relkind FROM pg_class WHERE relname = 'subway_passengers'") == [
        ("p",)
    ]
    by_month = _by_month(zone)
    assert by_month[FIRST] == first
    totals = file_totals(_daily(SECOND))
    assert by_month[SECOND] == (len(totals["keys"]), totals["pass_in"])
    assert set(_partitions(zone)) == {f"subway_passengers_{m}" for m in (FIRST, SECOND)}
    assert zone.query(
        "SELECT count(*) FROM pg_class "
        "WHERE starts_with(relname, 'subway_passengers_unpartitioned')"
    ) == [(0,)]
    assert zone.query(
        "SELECT has_table_privilege('mart_analyst', 'subway_passengers', 'SELECT')"
    ) == [(True,)]
    with psycopg.connect(zone.mart_dsn, autocommit=True) as conn:
        conn.execute("REVOKE ALL ON subway_passengers FROM mart_analyst")
        conn.execute("DROP ROLE mart_analyst")
