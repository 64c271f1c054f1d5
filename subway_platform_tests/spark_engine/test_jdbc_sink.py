"""The mart without Python on the workers: the JDBC sink on Apache Spark, beside COPY.

Both sinks load a real month into the same staged month partitions and swap it in; the
mart must hold exactly the file's passengers either way, and the lake's Delta log must
say that delta-spark wrote it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from deltalake import DeltaTable

from subway_platform.definitions import build_definitions
from subway_platform.resources.environment import object_storage_from_environment
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTH = "201903"


@pytest.fixture(params=["copy", "jdbc"])
def sink(request: pytest.FixtureRequest) -> Iterator[str]:
    """The code location loaded with ``SUBWAY_MART_SINK`` set (read when it loads)."""
    os.environ["SUBWAY_MART_SINK"] = request.param
    build_definitions.cache_clear()
    try:
        assert build_definitions().resources["mart_store"].sink == request.param
        yield request.param
    finally:
        os.environ.pop("SUBWAY_MART_SINK", None)
        build_definitions.cache_clear()


def test_real_month_reaches_the_mart_through_each_sink(
    zone: Zone, on_spark: str, sink: str
) -> None:
    path = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{MONTH}.csv"
    zone.upload(path)
    assert zone.run("daily_passengers_job", [MONTH]).success

    totals = file_totals(path)
    ((rows, pass_in, pass_out),) = zone.query(
        "SELECT count(*), sum(pass_in)::bigint, sum(pass_out)::bigint FROM subway_passengers "
        "WHERE month = %s",
        (MONTH,),
    )
    assert (rows, pass_in, pass_out) == (len(totals["keys"]), totals["pass_in"], totals["pass_out"])
    # No staging table is left behind by either sink.
    assert zone.query("SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_stage\\_%%'") == [
        (0,)
    ]

    for layer in ("bronze/card_subway_month", "gold/subway_passengers"):
        table = DeltaTable(
            f"{zone.lake}/{layer}",
            storage_options=object_storage_from_environment().delta_options(),
        )
        engines = {h.get("engineInfo") for h in table.history()}
        assert engines == {"Apache-Spark/4.2.0 Delta-Lake/4.4.0"}, (layer, engines)
