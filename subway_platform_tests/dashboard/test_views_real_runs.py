"""The dashboard views over an ELT log written by real pipeline runs: a good month, a month
blocked by a check, and a file that fails; figures checked against the runs themselves."""

from __future__ import annotations

from pathlib import Path

import psycopg

from subway_platform.dashboard.views import ensure_dashboard_views
from subway_platform.elt_log.mirror import mirror_run
from subway_platform_tests.zone import REAL, Zone, file_totals

GOOD, BLOCKED, BROKEN = "201903", "201904", "201905"


def test_views_reflect_real_good_and_failed_loads(zone: Zone, tmp_path: Path) -> None:
    good_file = REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{GOOD}.csv"
    zone.upload(good_file)
    lines = (
        (REAL / "card_subway_month" / f"CARD_SUBWAY_MONTH_{BLOCKED}.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    blocked = tmp_path / f"CARD_SUBWAY_MONTH_{BLOCKED}.csv"
    blocked.write_text(
        "\n".join(
            [lines[0]]
            + [line.replace(line.split(",")[3], '"x"', 1) for line in lines[1:100]]
            + lines[100:]
        )
        + "\n",
        encoding="utf-8",
    )
    zone.upload(blocked)
    broken = tmp_path / f"CARD_SUBWAY_MONTH_{BROKEN}.csv"
    broken.write_text(lines[0] + "\n", encoding="utf-8")  # header only
    zone.upload(broken)

    runs = [
        zone.run("daily_passengers_job", [GOOD]),
        zone.run("daily_passengers_job", [BLOCKED], raise_on_error=False),
        zone.run("daily_passengers_job", [BROKEN], raise_on_error=False),
    ]
    with psycopg.connect(zone.mart_dsn) as conn:
        for run in runs:
            mirror_run(zone.instance, run.run_id, conn)
        conn.commit()
        ensure_dashboard_views(conn)
        conn.commit()

        # good: 3 valid rows; blocked: bronze valid + gold check_failed; broken: bronze failed.
        split = dict(
            conn.execute(
                "SELECT outcome, sum(operations) FROM elt_dashboard.status_split GROUP BY outcome"
            ).fetchall()
        )
        assert split == {"success": 4, "failure": 2}
        by_domain = conn.execute(
            "SELECT domain, sum(success_count), sum(failure_count) "
            "FROM elt_dashboard.status_by_domain GROUP BY domain"
        ).fetchall()
        assert by_domain == [("life", 4, 2)]
        targets = {
            r[0]
            for r in conn.execute(
                "SELECT target_object FROM elt_dashboard.target_tables"
            ).fetchall()
        }
        assert targets == {
            "bronze/card_subway_month",
            "gold/subway_passengers",
            "subway_passengers",
        }

        totals = file_totals(good_file)
        records = conn.execute(
            "SELECT source_records, target_records FROM elt_dashboard.total_records"
        ).fetchone()
        log_sums = conn.execute(
            "SELECT sum(source_read_size) FILTER (WHERE source_read_size >= 0), "
            "sum(target_read_size) FILTER (WHERE target_read_size >= 0) FROM elt_manager_log"
        ).fetchone()
        assert records == log_sums
        good_rows = conn.execute(
            "SELECT target_read_size FROM elt_manager_log "
            "WHERE partition_key = %s AND asset_key = 'mart/subway_passengers'",
            (GOOD,),
        ).fetchone()
        assert good_rows == (len(totals["keys"]),)

        failures = conn.execute(
            "SELECT partition_key, asset_key, error_message FROM elt_dashboard.recent_failures "
            "WHERE outcome = 'failure' ORDER BY record_time DESC"
        ).fetchall()
        assert [(f[0], f[1]) for f in failures] == [
            (BROKEN, "bronze/card_subway_month"),
            (BLOCKED, "gold/subway_passengers"),
        ]
        assert broken.name in failures[0][2]
        # The blocked month's message quotes the check's figures for that month.
        assert failures[1][2].startswith(f"gold/subway_passengers {BLOCKED}: 99 of "), failures[1][
            2
        ]
        assert failures[1][2].endswith("(reconciles_with_bronze)")
        assert "dagster." not in failures[0][2] + failures[1][2]

        # Filters: the valid filter on the daily views gives the same split.
        daily = conn.execute(
            "SELECT sum(success_count), sum(failure_count) "
            "FROM elt_dashboard.daily_operations WHERE valid"
        ).fetchone()
        assert daily == (4, 0)
