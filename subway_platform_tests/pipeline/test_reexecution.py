"""A failed run re-executed from failure (what the UI's "Re-execute from failure" does):
only the failed step runs again, on what the first run stored, and nothing doubles."""

from __future__ import annotations

import dagster as dg

from subway_platform_tests.faults import kill_inside_mart_swap
from subway_platform_tests.zone import REAL, Zone, file_totals

FIRST, MONTH = "201911", "201912"


def daily_passengers_job() -> dg.JobDefinition:
    """The platform's job, rebuilt from the code location in whichever process runs it."""
    from subway_platform.definitions import defs

    return defs.resolve_job_def("daily_passengers_job")


def test_reexecute_from_failure_runs_only_the_failed_step(zone: Zone) -> None:
    for month in (FIRST, MONTH):
        zone.upload(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
    job = dg.reconstructable(daily_passengers_job)
    # The PostgreSQL-backed instance of DAGSTER_HOME: re-execution reads the stored run.
    with dg.DagsterInstance.get() as instance:
        assert dg.execute_job(job, instance, tags={"dagster/partition": FIRST}).success
        # A real fault in the mart: PostgreSQL kills the loader inside the month swap.
        with kill_inside_mart_swap(zone.mart_dsn, "subway_passengers"):
            first = dg.execute_job(
                job, instance, tags={"dagster/partition": MONTH}, raise_on_error=False
            )
        assert not first.success
        assert {e.step_key for e in first.all_events if e.is_step_failure} == {
            "mart__subway_passengers"
        }
        assert (
            zone.query("SELECT count(*) FROM subway_passengers WHERE month = %s", (MONTH,))[0][0]
            == 0
        )

        # As the UI does, the re-execution carries the parent run's partition tag.
        again = dg.execute_job(
            job,
            instance,
            tags={"dagster/partition": MONTH},
            reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
        )
        assert again.success
        assert {e.step_key for e in again.all_events if e.is_step_success} == {
            "mart__subway_passengers"
        }

    for month in (FIRST, MONTH):
        totals = file_totals(REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{month}.csv")
        rows, pass_in = zone.query(
            "SELECT count(*), sum(pass_in)::bigint FROM subway_passengers WHERE month = %s",
            (month,),
        )[0]
        assert (rows, pass_in) == (len(totals["keys"]), totals["pass_in"])
