"""Daily boardings/alightings per station (서울시 지하철 호선별 역별 승하차 인원 정보)."""

from subway_platform.datasets.spec import DatasetSpec, SourceColumn, StationJoin

DAILY = DatasetSpec(
    name="card_subway_month",
    description=(
        "Daily boardings and alightings per line and station from the Seoul open data "
        "portal's card data (CARD_SUBWAY_MONTH_YYYYMM.csv, one file per month)."
    ),
    domain="life",
    file_patterns=(r"CARD_SUBWAY_MONTH_(?P<month>\d{6})\.csv",),
    columns=(
        SourceColumn("사용일자", "use_date", "date"),
        SourceColumn("노선명", "line_no", "text", aliases=("호선명",)),
        SourceColumn("역ID", "station_id", "station_id", required=False),
        SourceColumn("역명", "station_name", "text", aliases=("지하철역",)),
        SourceColumn("승차총승객수", "pass_in", "count"),
        SourceColumn("하차총승객수", "pass_out", "count"),
        SourceColumn("등록일자", "reg_date", "date", required=False),
    ),
    gold_asset="subway_passengers",
    job_name="daily_passengers_job",
    month_column="사용일자",
    gold_key=("use_date", "line_no", "station_name"),
    sum_columns=("pass_in", "pass_out"),
    station_join=StationJoin(master="subway_station"),
    record_prefix="hopt",  # the reference logged this data set's action as hopt/inc
    due_day=5,  # the portal publishes a month's card data within its first days (reg_date: +3 days)
)
