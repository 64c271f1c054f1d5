"""Hourly boardings/alightings per station (호선별 역별 시간대별 승하차 인원 정보)."""

from subway_platform.datasets.spec import DatasetSpec, SourceColumn, StationJoin

HOURS: tuple[int, ...] = tuple((4 + i) % 24 for i in range(24))
"""Hours of day in the file's column order: 04시-05시 … 03시-04시."""


def hour_label(hour: int) -> str:
    """``4`` -> ``04시-05시``: the time band a wide column covers (the portal writes the
    last band of the day as ``23시-24시``)."""
    return f"{hour:02d}시-{hour + 1:02d}시"


def _hour_columns() -> tuple[SourceColumn, ...]:
    cols: list[SourceColumn] = []
    for hour in HOURS:
        label = hour_label(hour)
        # Some downloads write the band ending at midnight as 23시-00시.
        alt = (f"{hour:02d}시-00시",) if hour == 23 else ()
        # Canonical names join band and measure with "_": delta-spark refuses spaces in
        # column names (without column mapping, which delta-rs cannot read). The portal's
        # spelling with a space is the same column (see ``delta_safe``), not a rename.
        for kind, target in (("승차인원", f"h{hour:02d}_in"), ("하차인원", f"h{hour:02d}_out")):
            spellings = (
                f"{label} {kind}",
                *(f"{a} {kind}" for a in alt),
                *(f"{a}_{kind}" for a in alt),
            )
            cols.append(SourceColumn(f"{label}_{kind}", target, "count", aliases=spellings))
    return tuple(cols)


HOURLY = DatasetSpec(
    name="card_subway_time",
    description=(
        "Monthly boardings and alightings per line, station and hour of day. One portal "
        "file may hold many months; the month is the 사용월 column."
    ),
    domain="life",
    file_patterns=(
        r"서울시 지하철 호선별 역별 시간대별 승하차 인원 정보.*\.csv",
        r"CARD_SUBWAY_TIME_(?P<month>\d{6})\.csv",
        r"CARD_SUBWAY_TIME.*\.csv",
    ),
    columns=(
        SourceColumn("사용월", "month", "month"),
        SourceColumn("호선명", "line_no", "text", aliases=("노선명",)),
        SourceColumn("역ID", "station_id", "station_id", required=False),
        SourceColumn("지하철역", "station_name", "text", aliases=("역명",)),
        *_hour_columns(),
        SourceColumn("작업일자", "reg_date", "date", required=False),
    ),
    gold_asset="subway_passengers_time",
    job_name="hourly_passengers_job",
    month_column="사용월",
    gold_key=("month", "line_no", "station_name", "hour"),
    sum_columns=("pass_in", "pass_out"),
    station_join=StationJoin(master="subway_station"),
    wide_hours=True,
    due_day=10,  # published after the month's daily data
)
