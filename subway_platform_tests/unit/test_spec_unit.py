"""What the data set specs derive: file matching, header spellings, keys, sums, Delta-safe names."""

from __future__ import annotations

import pytest

from subway_platform.datasets import ALL_DATASETS, DAILY, HOURLY, STATION, dataset_for_file
from subway_platform.datasets.hourly import HOURS, hour_label
from subway_platform.datasets.spec import delta_safe


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("04시-05시 승차인원", "04시-05시_승차인원"),
        ("a,b;c{d}(e)=f\tg\nh", "a_b_c_d__e__f_g_h"),
        ("역사_ID", "역사_ID"),
        ("하남시청(덕풍-신장)", "하남시청_덕풍-신장_"),
    ],
)
def test_delta_safe(name: str, safe: str) -> None:
    assert delta_safe(name) == safe


def test_registered_data_sets() -> None:
    assert [s.name for s in ALL_DATASETS] == [
        "card_subway_month",
        "card_subway_time",
        "subway_station",
        "card_subway_pay_free",
    ]
    assert [s.partitioned for s in ALL_DATASETS] == [True, True, False, True]
    assert [s.month_column for s in ALL_DATASETS] == ["사용일자", "사용월", None, "사용월"]


def test_daily_columns_keys_and_sums() -> None:
    assert [(c.name, c.target, c.kind, c.required) for c in DAILY.columns] == [
        ("사용일자", "use_date", "date", True),
        ("노선명", "line_no", "text", True),
        ("역ID", "station_id", "station_id", False),
        ("역명", "station_name", "text", True),
        ("승차총승객수", "pass_in", "count", True),
        ("하차총승객수", "pass_out", "count", True),
        ("등록일자", "reg_date", "date", False),
    ]
    assert DAILY.gold_key == ("use_date", "line_no", "station_name")
    assert DAILY.sum_sources("pass_in") == ("승차총승객수",)
    assert DAILY.sum_sources("pass_out") == ("하차총승객수",)


def test_hourly_columns_keys_and_sums() -> None:
    assert HOURS[:3] == (4, 5, 6) and HOURS[-1] == 3 and sorted(HOURS) == list(range(24))
    assert (hour_label(4), hour_label(23), hour_label(0)) == ("04시-05시", "23시-24시", "00시-01시")
    names = [c.name for c in HOURLY.columns]
    assert names[:4] == ["사용월", "호선명", "역ID", "지하철역"] and names[-1] == "작업일자"
    assert len(names) == 4 + 48 + 1
    assert [c.target for c in HOURLY.columns[4:8]] == ["h04_in", "h04_out", "h05_in", "h05_out"]
    assert {c.kind for c in HOURLY.columns[4:-1]} == {"count"}
    pass_in = HOURLY.sum_sources("pass_in")
    assert len(pass_in) == 24
    assert (pass_in[0], pass_in[-1]) == ("04시-05시_승차인원", "03시-04시_승차인원")
    assert all(n.endswith("_하차인원") for n in HOURLY.sum_sources("pass_out"))
    assert HOURLY.sum_sources("month") == ("사용월",)  # not an hourly measure: by target
    assert HOURLY.gold_key == ("month", "line_no", "station_name", "hour")


def test_station_columns_and_keys() -> None:
    assert [(c.name, c.target) for c in STATION.columns] == [
        ("역사_ID", "station_id"),
        ("역사명", "station_name"),
        ("호선", "line_no"),
        ("위도", "latitude"),
        ("경도", "longitude"),
    ]
    assert STATION.gold_key == ("station_id", "line_no")
    assert STATION.sum_columns == ()
    assert STATION.line_aliases["공항철도 1호선"] == "공항철도1호선"


@pytest.mark.parametrize("spec", ALL_DATASETS, ids=lambda s: s.name)
def test_gold_key_and_sums_are_spec_targets(spec: object) -> None:
    from subway_platform.datasets.spec import DatasetSpec

    assert isinstance(spec, DatasetSpec)
    targets = [c.target for c in spec.columns]
    assert len(targets) == len(set(targets)), "two source columns with one gold target"
    derived = {"hour", "pass_in", "pass_out"} if spec.wide_hours else set()
    assert set(spec.gold_key) <= set(targets) | derived
    for sum_column in spec.sum_columns:
        sources = spec.sum_sources(sum_column)
        assert sources, (spec.name, sum_column)
        assert all(spec.column(s).kind == "count" for s in sources)
    if spec.month_column is not None:
        assert spec.column(spec.month_column).required


def test_header_lookup_spellings() -> None:
    daily, hourly, station = (s.header_lookup() for s in (DAILY, HOURLY, STATION))
    assert (daily["호선명"], daily["지하철역"], daily["역명"]) == ("노선명", "역명", "역명")
    assert hourly["04시-05시 승차인원"] == "04시-05시_승차인원"
    assert hourly["23시-00시 하차인원"] == hourly["23시-00시_하차인원"] == "23시-24시_하차인원"
    assert "22시-00시 하차인원" not in hourly
    assert (station["역ID"], station["역사ID"], station["노선명"]) == ("역사_ID", "역사_ID", "호선")


def test_column_lookup_error_names_the_data_set() -> None:
    with pytest.raises(KeyError, match="card_subway_month: no source column '없음'"):
        DAILY.column("없음")


@pytest.mark.parametrize(
    ("file_name", "spec_name", "month"),
    [
        ("CARD_SUBWAY_MONTH_201907.csv", "card_subway_month", "201907"),
        ("CARD_SUBWAY_TIME_202210.csv", "card_subway_time", "202210"),
        ("CARD_SUBWAY_TIME_202201_202210.csv", "card_subway_time", None),
        ("서울시 지하철 호선별 역별 시간대별 승하차 인원 정보 (2).csv", "card_subway_time", None),
        ("서울시 역사마스터 정보.csv", "subway_station", None),
        ("SUBWAY_STATION_20231001.csv", "subway_station", None),
        ("CARD_SUBWAY_MONTH_2019071.csv", None, None),
        ("CARD_SUBWAY_MONTH_201907.csv.tmp", None, None),
        ("old/CARD_SUBWAY_MONTH_201907.csv", None, None),
        ("card_subway_month_201907.csv", None, None),
        ("hourly_202210_cp949.csv", None, None),
    ],
)
def test_file_names(file_name: str, spec_name: str | None, month: str | None) -> None:
    spec = dataset_for_file(file_name)
    assert (spec.name if spec else None) == spec_name
    if spec is not None:
        assert spec.file_month(file_name) == month


def test_every_declared_column_has_a_gold_role() -> None:
    """Gold keeps every column a spec declares: each is a key, a sum, carried or unpivoted."""
    assert DAILY.carried_columns() == {"station_id": "min", "reg_date": "max"}
    assert HOURLY.carried_columns() == {"station_id": "min", "reg_date": "max"}
    assert STATION.carried_columns() == {
        "station_name": "min",
        "latitude": "min",
        "longitude": "min",
    }
    assert HOURLY.role("h04_in") == "unpivoted" and HOURLY.role("month") == "key"
    assert DAILY.role("pass_in") == "sum" and DAILY.role("latitude") == "enrichment"
    for spec in ALL_DATASETS:
        for col in spec.columns:
            assert spec.role(col.target) in ("key", "sum", "carried", "unpivoted")


def test_jobs_log_sums_and_station_joins_come_from_the_specs() -> None:
    assert [s.job_name for s in (DAILY, HOURLY, STATION)] == [
        "daily_passengers_job",
        "hourly_passengers_job",
        "station_job",
    ]
    assert DAILY.log_sums == {"pass_in_sum": ("pass_in",), "pass_out_sum": ("pass_out",)}
    assert STATION.log_sums == {}
    assert STATION.station_join is None
    assert DAILY.station_join is not None and DAILY.station_join.master == STATION.name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"job_name": ""}, "job_name is empty"),
        ({"gold_key": ("use_date", "nope")}, "gold_key column 'nope'"),
        ({"sum_columns": ("pass_in", "fare")}, "sum column 'fare'"),
        ({"elt_log_sums": {"pass_in_sum": ("reg_date",)}}, "'reg_date' is not a sum column"),
        ({"elt_log_sums": {"boardings": ("pass_in",)}}, "'boardings' is not one of"),
        ({"record_prefix": "Fare/x"}, "record_prefix 'Fare/x'"),
    ],
)
def test_an_inconsistent_spec_is_refused_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="card_subway_month") as err:
        replace(DAILY, **change)  # type: ignore[arg-type]
    assert message in str(err.value)
