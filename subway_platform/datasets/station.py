"""Station master data (서울시 역사마스터 정보): id, name, line and coordinates."""

from subway_platform.datasets.spec import DatasetSpec, SourceColumn

STATION = DatasetSpec(
    name="subway_station",
    description=(
        "Station master data from the Seoul open data portal: station id, name, line, "
        "latitude and longitude. Not partitioned: every load is a full refresh."
    ),
    domain="life",
    file_patterns=(r"서울시 역사마스터 정보.*\.csv", r"SUBWAY_STATION.*\.csv"),
    columns=(
        SourceColumn("역사_ID", "station_id", "station_id", aliases=("역사ID", "역ID")),
        SourceColumn("역사명", "station_name", "text", aliases=("역명",)),
        SourceColumn("호선", "line_no", "text", aliases=("호선명", "노선명")),
        SourceColumn("위도", "latitude", "float"),
        SourceColumn("경도", "longitude", "float"),
    ),
    bronze_table="bronze/subway_station",
    gold_table="gold/subway_station",
    mart_table="subway_station",
    gold_asset="subway_station",
    month_column=None,
    gold_key=("station_id", "line_no"),
)
