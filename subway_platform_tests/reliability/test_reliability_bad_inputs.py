"""Bad and unusual landing files through the real pipeline (landing -> bronze -> gold -> mart).

A refused file fails the run with an error naming the file and the problem, the ELT log
records the failure, and the month's mart rows and Delta tables stay exactly as they were.
An accepted variant (aliases, reordered or extra columns, CP949, mixed line endings) loads
the same passengers as the original file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import dagster as dg
from deltalake import DeltaTable
from reliability_support import (
    BRONZE,
    GOLD,
    assert_engines_agree,
    daily_file,
    delta_month,
    elt_rows,
    failure_text,
    load_good_month,
    mart_month,
    rejected_in_gold,
    snapshot,
    spark,
)

from subway_platform.resources.environment import object_storage_from_environment
from subway_platform.resources.landing import LandingZone
from subway_platform.sensors import LandingSensorSettings, landing_sensor
from subway_platform_tests.zone import REAL, Zone, file_totals

MONTH = "201910"
NAME = f"CARD_SUBWAY_MONTH_{MONTH}.csv"


def _rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def _csv(rows: list[list[str]], line_end: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode("utf-8")


def _without_column(rows: list[list[str]], name: str) -> list[list[str]]:
    i = rows[0].index(name)
    return [r[:i] + r[i + 1 :] for r in rows]


def _refused_files() -> list[tuple[str, bytes, list[str]]]:
    """(case, content uploaded as the month's file, fragments the error must contain)."""
    raw = daily_file(MONTH).read_bytes()
    rows = _rows(daily_file(MONTH))
    body = raw.rstrip(b"\r\n")
    renamed = [["역이름" if h == "역명" else h for h in rows[0]], *rows[1:]]
    other_month = [rows[0], *rows[1:5], ["20191101", *rows[5][1:]], *rows[6:]]
    return [
        ("empty file", b"", ["empty file"]),
        ("header only", raw.split(b"\n", 1)[0] + b"\n", ["header only", "no data rows"]),
        (
            "truncated inside a value",
            body[:-5],
            ["the last row ends inside a quoted value", "truncated upload?"],
        ),
        ("truncated mid-row", body[:-40], ["expected 6 fields, found 3", "truncated upload?"]),
        (
            "required column missing",
            _csv(_without_column(rows, "하차총승객수")),
            ["missing required column 하차총승객수"],
        ),
        ("unknown rename", _csv(renamed), ["missing required column 역명", "역이름"]),
        (
            "rows of another month",
            _csv(other_month),
            ["line 6", "month 201911", "named for month 201910"],
        ),
        ("neither UTF-8 nor CP949", b'"\xff\xfe\xff"' + raw[200:], ["cannot decode"]),
    ]


def test_refused_files_fail_clearly_and_change_nothing(zone: Zone) -> None:
    before = load_good_month(zone, MONTH)
    for case, content, fragments in _refused_files():
        zone.s3.put_object(
            Bucket="subway", Key=f"{zone.landing.removeprefix('s3://subway/')}/{NAME}", Body=content
        )
        result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)
        assert not result.success, case
        text = failure_text(result)
        assert NAME in text and all(f in text for f in fragments), (case, text[:500])
        assert {e.step_key for e in result.get_step_failure_events()} == {
            "bronze__card_subway_month"
        }, case
        log = elt_rows(zone, result.run_id)
        assert log["bronze/card_subway_month"][0] is False, case
        assert log["bronze/card_subway_month"][1] == "failed", case
        assert NAME in (log["bronze/card_subway_month"][2] or ""), case
        assert snapshot(zone, MONTH) == before, case
        assert NAME in zone.keys(zone.landing), case  # the bad upload is kept for inspection
    assert_engines_agree(zone, BRONZE, [MONTH])
    assert_engines_agree(zone, GOLD, [MONTH])


def test_unparseable_counts_beyond_threshold_block_the_mart(zone: Zone, tmp_path: Path) -> None:
    before = load_good_month(zone, MONTH)
    rows = _rows(daily_file(MONTH))
    # 30 negative and 30 non-numeric counts: 60 of 18320 rows, beyond the 0.1% threshold.
    for i in range(1, 31):
        rows[i][3] = "-5"
        rows[i + 30][4] = "12a"
    path = tmp_path / NAME
    path.write_bytes(_csv(rows))
    zone.upload(path)
    result = zone.run("daily_passengers_job", [MONTH], raise_on_error=False)

    failed = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    check = failed[(GOLD, "reconciles_with_bronze")]
    assert f"{MONTH}: 60 of {len(rows) - 1} rows rejected" in (check.description or "")
    assert rejected_in_gold(zone, MONTH) == 60
    reasons = DeltaTable(
        f"{zone.lake}/gold/rejects/card_subway_month",
        storage_options=object_storage_from_environment().delta_options(),
    )
    texts = set(reasons.to_pyarrow_table(columns=["reason"]).column("reason").to_pylist())
    assert "pass_in: bad value '-5'" in texts and "pass_out: bad value '12a'" in texts
    # The blocking check stopped the mart: it still holds the previous load.
    assert not [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "mart/subway_passengers"
    ]
    assert mart_month(zone, MONTH) == before["mart"]
    log = elt_rows(zone, result.run_id)
    assert log[GOLD][0] is False and log[GOLD][1] == "check_failed"
    assert "mart/subway_passengers" not in log  # never ran: the log records what ran
    # Bronze and gold hold the new (checked, failed) version; both engines read it alike.
    assert delta_month(zone, GOLD, MONTH).version == before[GOLD].version + 1
    assert_engines_agree(zone, BRONZE, [MONTH])
    assert_engines_agree(zone, GOLD, [MONTH])


def test_accepted_variants_load_the_same_passengers(zone: Zone, tmp_path: Path) -> None:
    """Aliases, reordered columns, an unknown extra column, CP949 and mixed line endings."""
    variants: dict[str, bytes] = {}
    rows = _rows(daily_file("201901"))
    variants["201901"] = _csv(
        [[{"노선명": "호선명", "역명": "지하철역"}.get(h, h) for h in rows[0]], *rows[1:]]
    )
    rows = _rows(daily_file("201902"))
    order = [5, 4, 3, 2, 1, 0]
    variants["201902"] = _csv([[r[i] for i in order] for r in rows])
    rows = _rows(daily_file("201903"))
    variants["201903"] = _csv(
        [rows[0] + ["비고"], *[r + [f"note {n}"] for n, r in enumerate(rows[1:])]]
    )
    variants["201904"] = daily_file("201904").read_text(encoding="utf-8").encode("cp949")
    lines = daily_file("201905").read_text(encoding="utf-8").splitlines()
    variants["201905"] = "".join(
        line + ("\r\n", "\n", "\r")[n % 3] for n, line in enumerate(lines)
    ).encode("utf-8")
    for month, content in variants.items():
        path = tmp_path / f"CARD_SUBWAY_MONTH_{month}.csv"
        path.write_bytes(content)
        zone.upload(path)
    months = sorted(variants)
    result = zone.run("daily_passengers_job", months)
    assert result.success

    for month in months:
        totals = file_totals(daily_file(month))
        assert mart_month(zone, month) == (
            len(totals["keys"]),
            totals["pass_in"],
            totals["pass_out"],
        ), month
        assert delta_month(zone, BRONZE, month).rows == totals["rows"], month
    drift = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "source_schema_matches_spec"
    )
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    assert "비고" in (drift.description or "")
    extra = (
        spark()
        .read.format("delta")
        .load(f"{zone.lake}/{BRONZE}")
        .filter("month = '201903'")
        .select("_extra")
        .limit(1)
        .collect()[0][0]
    )
    assert extra.startswith('{"비고":"note ')
    encodings = {
        f["name"]: f["encoding"]
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == BRONZE
        for f in e.materialization.metadata["source/files"].value
    }
    assert encodings["CARD_SUBWAY_MONTH_201904.csv"] == "cp949"
    assert_engines_agree(zone, BRONZE, months)
    assert_engines_agree(zone, GOLD, months)


def test_utf8_hourly_file_where_cp949_is_usual(zone: Zone, tmp_path: Path) -> None:
    source = REAL / "card_subway_time" / "hourly_202210_cp949.csv"
    utf8 = tmp_path / "CARD_SUBWAY_TIME_202210.csv"
    utf8.write_bytes(source.read_bytes().decode("cp949").encode("utf-8"))
    zone.upload(utf8)
    assert zone.run("hourly_passengers_job", ["202210"]).success
    rows = _rows(source, "cp949")
    header, data = rows[0], [r for r in rows[1:] if r]
    ins = [i for i, h in enumerate(header) if h.endswith("승차인원")]
    outs = [i for i, h in enumerate(header) if h.endswith("하차인원")]
    want = (
        sum(int(float(r[i])) for r in data for i in ins),
        sum(int(float(r[i])) for r in data for i in outs),
    )
    got = zone.query(
        "SELECT sum(pass_in)::bigint, sum(pass_out)::bigint FROM subway_passengers_time "
        "WHERE month = '202210'"
    )[0]
    assert tuple(got) == want


def _sensor(zone: Zone, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=zone.instance,
        cursor=cursor,
        resources={
            "landing": LandingZone(
                landing_url=zone.landing,
                archive_url=zone.archive,
                lake_url=zone.lake,
                storage=object_storage_from_environment(),
            ),
            "landing_sensor_settings": LandingSensorSettings(settle_seconds=0),
        },
    ) as context:
        result = landing_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_duplicate_upload_requests_no_new_run(zone: Zone) -> None:
    zone.upload(daily_file(MONTH))
    first = _sensor(zone, None)
    [request] = first.run_requests or []
    zone.upload(daily_file(MONTH))  # the same bytes again, same name
    assert not _sensor(zone, first.cursor).run_requests
    # After the load archived it, the same bytes uploaded again carry the same run key,
    # which Dagster's daemon refuses to launch twice.
    assert zone.run("daily_passengers_job", [MONTH]).success
    after_archive = _sensor(zone, first.cursor)  # the file has left landing: forgotten
    assert not after_archive.run_requests
    zone.upload(daily_file(MONTH))
    again = _sensor(zone, after_archive.cursor).run_requests or []
    assert [r.run_key for r in again] == [request.run_key]


def test_corrected_reupload_replaces_the_month_and_keeps_history(
    zone: Zone, tmp_path: Path
) -> None:
    before = load_good_month(zone, MONTH)
    rows = _rows(daily_file(MONTH))
    corrected = [rows[0], *rows[1:-100]]
    corrected[1][3] = str(int(float(corrected[1][3])) + 1000)
    path = tmp_path / NAME
    path.write_bytes(_csv(corrected))
    zone.upload(path)
    assert zone.run("daily_passengers_job", [MONTH]).success
    totals = file_totals(path)
    assert mart_month(zone, MONTH) == (len(totals["keys"]), totals["pass_in"], totals["pass_out"])
    assert totals["pass_in"] != before["mart"][1]
    # The previous version is still readable (time travel) with both implementations.
    old = before[GOLD].version
    assert delta_month(zone, GOLD, MONTH, version=old) == before[GOLD]
    assert delta_month(zone, BRONZE, MONTH, version=before[BRONZE].version) == before[BRONZE]
    assert_engines_agree(zone, GOLD, [MONTH], version=old)
    assert_engines_agree(zone, BRONZE, [MONTH], version=before[BRONZE].version)
    assert_engines_agree(zone, GOLD, [MONTH])
    assert_engines_agree(zone, BRONZE, [MONTH])
    assert zone.keys(zone.archive) == [NAME]
