"""How the ELT log words a load: hops, failed steps and failed checks (at most 255
characters, no module paths, no secrets, the month named)."""

from __future__ import annotations

from dagster._utils.error import SerializableErrorInfo

from subway_platform.datasets import ALL_DATASETS, DAILY, STATION
from subway_platform.elt_log.check_text import (
    check_failure_detail,
    check_failure_message,
    failed_error_checks,
    failed_warning_checks,
    fails_for,
)
from subway_platform.elt_log.error_text import (
    ERROR_DETAIL_CHARS,
    ERROR_MESSAGE_CHARS,
    detail_text,
    error_detail,
    error_message,
    short_message,
    without_class_paths,
)
from subway_platform.elt_log.hops import HOPS, hops_for
from subway_platform.elt_log.mirror import _hop_defaults
from subway_platform.elt_log.row import COLUMNS
from subway_platform.elt_log.run_events import CheckOutcome

ASSET = "gold/subway_passengers"
RECONCILE = "17186 rows + 0 rejected != 17187 in bronze"


# --- hops -------------------------------------------------------------------------------


def test_daily_hops_chain_landing_to_mart() -> None:
    hops = hops_for(DAILY)
    assert list(hops) == [
        "bronze/card_subway_month",
        "gold/subway_passengers",
        "mart/subway_passengers",
    ]
    bronze, gold, mart = hops.values()
    assert bronze.as_dict() == {
        "domain": "life",
        "action": "hopt/inc",
        "source_type": "csv",
        "source_topic": "landing",
        "source_dpath": "landing",
        "source_object": r"CARD_SUBWAY_MONTH_(?P<month>\d{6})\.csv",
        "target_type": "delta",
        "target_topic": "bronze",
        "target_dpath": "bronze/life",
        "target_object": "bronze/card_subway_month",
    }
    assert (gold.source_object, gold.target_object) == (
        "bronze/card_subway_month",
        "gold/subway_passengers",
    )
    assert (mart.target_type, mart.target_topic, mart.target_dpath, mart.target_object) == (
        "postgresql",
        "mart",
        "public",
        "subway_passengers",
    )


def test_every_hop_reads_what_the_previous_one_wrote() -> None:
    assert len(HOPS) == 3 * len(ALL_DATASETS)
    for spec in ALL_DATASETS:
        bronze, gold, mart = hops_for(spec).values()
        assert (gold.source_type, gold.source_object) == (bronze.target_type, bronze.target_object)
        assert (mart.source_type, mart.source_object) == (gold.target_type, gold.target_object)
        action = "inc" if spec.partitioned else "full"
        prefixed = f"{spec.record_prefix}/{action}" if spec.record_prefix else action
        assert {h.action for h in (bronze, gold, mart)} == {prefixed}
    assert hops_for(STATION)["mart/subway_station"].action == "full"


def test_failed_rows_name_the_months_landing_file() -> None:
    assert _hop_defaults("bronze/card_subway_month", "202302")["source_object"] == (
        "CARD_SUBWAY_MONTH_202302.csv"
    )
    # A pattern without a month group stays as it is; an unknown asset has no hop.
    station = _hop_defaults("bronze/subway_station", "")["source_object"]
    assert station == STATION.file_patterns[0]
    assert set(_hop_defaults("bronze/other", "202302").values()) == {None}


def test_row_columns_follow_the_reference_order() -> None:
    assert COLUMNS[:17] == (
        "record_time", "domain", "action",
        "source_type", "source_topic", "source_dpath", "source_object",
        "target_type", "target_topic", "target_dpath", "target_object",
        "valid", "source_read_size", "target_read_size", "cleaned_count",
        "error_message", "elapsed",
    )  # fmt: skip
    assert len(COLUMNS) == len(set(COLUMNS)) == 31


# --- failed steps -------------------------------------------------------------------------


def _error(
    message: str, cls_name: str, cause: SerializableErrorInfo | None = None
) -> SerializableErrorInfo:
    return SerializableErrorInfo(
        message, [f'  File "x.py", line 1, in {cls_name}\n'], cls_name, cause
    )


def _wrapped(inner: SerializableErrorInfo) -> SerializableErrorInfo:
    return _error(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while "
        'executing op "gold__subway_passengers"::\n',
        "DagsterExecutionStepExecutionError",
        inner,
    )


def test_failure_shows_its_text_alone() -> None:
    inner = _error(
        "dagster._core.definitions.events.Failure: CARD_SUBWAY_MONTH_202301.csv: line 17188: "
        "field 5 is 'x'\n",
        "Failure",
    )
    assert (
        error_message(_wrapped(inner)) == "CARD_SUBWAY_MONTH_202301.csv: line 17188: field 5 is 'x'"
    )


def test_other_errors_keep_their_class_without_module_path_and_secrets() -> None:
    inner = _error(
        "psycopg.OperationalError: connection to postgresql://subway:hunter22@127.0.0.1:5999/mart "
        "failed\n  is the server running?",
        "OperationalError",
    )
    assert error_message(_wrapped(inner)) == (
        "OperationalError: connection to postgresql://subway:***@127.0.0.1:5999/mart failed "
        "is the server running?"
    )


def test_no_error_recorded() -> None:
    assert error_message(None) == "step failed (no error recorded)"
    assert error_detail(None) is None


def test_long_message_is_cut_with_an_ellipsis() -> None:
    text = "ValueError: " + "row 1 of 201907 is bad; " * 40
    short = short_message(text)
    assert len(short) == ERROR_MESSAGE_CHARS and short.endswith("\u2026")
    assert short.startswith("ValueError: row 1 of 201907 is bad; ")
    exact = "x" * ERROR_MESSAGE_CHARS
    assert short_message(exact) == exact


def test_module_paths_are_cut_but_urls_and_paths_stay() -> None:
    text = (
        "pyspark.errors.exceptions.connect.AnalysisException: cannot read "
        "s3://subway/lake/gold.subway_passengers.Table at /opt/lib/delta.tables.DeltaTable"
    )
    assert without_class_paths(text) == (
        "AnalysisException: cannot read "
        "s3://subway/lake/gold.subway_passengers.Table at /opt/lib/delta.tables.DeltaTable"
    )
    assert without_class_paths("Failure: month 201907 missing", "Failure") == "month 201907 missing"
    assert without_class_paths("Failure: x", "ValueError") == "Failure: x"


def test_detail_lists_the_cause_chain_and_stack_redacted() -> None:
    inner = _error("ValueError: password=hunter22 rejected\n", "ValueError")
    detail = error_detail(_wrapped(inner))
    assert detail is not None
    assert detail.startswith(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred"
    )
    assert "\ncaused by: ValueError: password=*** rejected" in detail
    assert 'File "x.py", line 1, in ValueError' in detail
    assert "hunter22" not in detail


def test_detail_redacts_before_cutting() -> None:
    # Cut first, the URL would end at the password, which no pattern would recognise.
    dsn = "postgresql://subway:hunter22@127.0.0.1/mart"
    text = "x" * (ERROR_DETAIL_CHARS - dsn.index("@")) + dsn
    out = detail_text(text)
    assert len(out) == ERROR_DETAIL_CHARS and "hunter22" not in out and "hunt" not in out


# --- failed checks -------------------------------------------------------------------------


def _check(name: str = "reconciles_with_bronze", **kwargs: object) -> CheckOutcome:
    values: dict[str, object] = {
        "asset_key": ASSET,
        "check_name": name,
        "partition": None,
        "passed": False,
        "severity": "ERROR",
    }
    values.update(kwargs)
    return CheckOutcome(**values)  # type: ignore[arg-type]


def test_message_quotes_only_the_months_own_problems() -> None:
    check = _check(metadata={"problems": {"201607": [RECONCILE], "201608": ["other month"]}})
    assert check_failure_message([check], ASSET, "201607", {}) == (
        f"gold/subway_passengers 201607: {RECONCILE} (reconciles_with_bronze)"
    )
    assert fails_for(check, "201607") and fails_for(check, "201608")
    assert not fails_for(check, "201609")  # a month of the range the check did not name


def test_message_without_problems_metadata() -> None:
    described = _check("rows_match", description="3 rows missing in the mart")
    assert check_failure_message([described], "mart/subway_passengers", "201907", {}) == (
        "mart/subway_passengers 201907: check rows_match failed: 3 rows missing in the mart"
    )
    bare = _check("rows_match")
    counts = {"source_read_size": 10, "target_read_size": -1, "cleaned_count": 2}
    assert check_failure_message([bare], "mart/subway_station", "", counts) == (
        "mart/subway_station: check rows_match failed (10 source_read_size, 2 cleaned_count)"
    )
    assert fails_for(bare, "201901")  # no per-month problems: every month failed


def test_message_is_short_one_line_redacted() -> None:
    problems = [f"line {n}: psycopg.errors.DataError password=hunter22\nbad" for n in range(30)]
    check = _check(metadata={"problems": {"201907": problems}})
    text = check_failure_message([check], ASSET, "201907", {})
    assert len(text) == ERROR_MESSAGE_CHARS and text.endswith("\u2026")
    assert text.startswith("gold/subway_passengers 201907: line 0: DataError password=*** bad; ")
    assert "hunter22" not in text and "\n" not in text and "psycopg." not in text


def test_checks_are_filtered_by_severity_partition_and_name() -> None:
    error = _check("a", partition="201907")
    duplicate = _check("a", partition="201907", description="second evaluation")
    warning = _check("b", severity="WARN")
    passed = _check("c", passed=True)
    other_month = _check("d", partition="201908")
    other_asset = _check("e", asset_key="mart/subway_passengers")
    checks = [error, duplicate, warning, passed, other_month, other_asset]
    assert failed_error_checks(checks, ASSET, "201907") == [error]
    assert failed_warning_checks(checks, ASSET, "201907") == [warning]
    assert failed_error_checks(checks, ASSET, "201908") == [other_month]


def test_check_detail_keeps_the_figures() -> None:
    check = _check(metadata={"problems": {"201607": [RECONCILE]}, "역": "동대문"})
    detail = check_failure_detail([check], ASSET, "201607")
    assert detail.splitlines()[0] == "gold/subway_passengers 201607: blocking check(s) failed"
    assert "check reconciles_with_bronze (ERROR): no description" in detail
    assert '"역": "동대문"' in detail and RECONCILE in detail
