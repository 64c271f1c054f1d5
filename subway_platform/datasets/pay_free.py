"""Paid and free boardings/alightings per station
(서울시 지하철 호선별 역별 유/무임 승하차 인원 정보).

The fourth data set, and the proof that a data set is one spec: adding it touched this
file and one line of the registry (``datasets/__init__.py``), nothing else. Its columns
follow the portal's documented layout (Seoul open data API ``CardSubwayPayFree``: 사용월,
호선명, 지하철역, 유임승차인원, 무임승차인원, 유임하차인원, 무임하차인원, 작업일자); no real
file of it was found in public repositories, so its tests build files in that layout.
"""

from subway_platform.datasets.spec import DatasetSpec, SourceColumn, StationJoin

PAY_FREE = DatasetSpec(
    name="card_subway_pay_free",
    description=(
        "Monthly paid and free (seniors, disabled, veterans) boardings and alightings per "
        "line and station from the Seoul open data portal (CARD_SUBWAY_PAY_FREE_YYYYMM.csv, "
        "one file per month)."
    ),
    domain="fare",
    file_patterns=(
        r"CARD_SUBWAY_PAY_FREE_(?P<month>\d{6})\.csv",
        r"서울시 지하철 호선별 역별 유_?무임 승하차 인원 정보_(?P<month>\d{6})\.csv",
    ),
    columns=(
        SourceColumn("사용월", "month", "month"),
        SourceColumn("호선명", "line_no", "text", aliases=("노선명",)),
        SourceColumn("지하철역", "station_name", "text", aliases=("역명",)),
        SourceColumn("유임승차인원", "paid_in", "count"),
        SourceColumn("무임승차인원", "free_in", "count"),
        SourceColumn("유임하차인원", "paid_out", "count"),
        SourceColumn("무임하차인원", "free_out", "count"),
        SourceColumn("작업일자", "reg_date", "date", required=False),
    ),
    gold_asset="subway_passengers_pay_free",
    job_name="pay_free_passengers_job",
    month_column="사용월",
    gold_key=("month", "line_no", "station_name"),
    sum_columns=("paid_in", "free_in", "paid_out", "free_out"),
    # The ELT log's boardings and alightings are paid plus free.
    elt_log_sums={"pass_in_sum": ("paid_in", "free_in"), "pass_out_sum": ("paid_out", "free_out")},
    station_join=StationJoin(master="subway_station"),
    record_prefix="fare",
)
