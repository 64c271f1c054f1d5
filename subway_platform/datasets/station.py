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
    gold_asset="subway_station",
    job_name="station_job",
    month_column=None,
    gold_key=("station_id", "line_no"),
    # New stations open during the year: the master is reloaded at least once a month (the
    # weekly station_weekly_schedule does it when turned on); freshness fails by the 1st.
    due_day=1,
    # Spellings found by comparing the real 2019 daily files and the 202210 hourly file with
    # the master's (line, station) pairs
    # (subway_platform_tests/pipeline/test_station_enrichment.py).
    line_aliases={
        "공항철도 1호선": "공항철도1호선",  # daily and hourly files write a space
        "9호선2~3단계": "9호선",  # files: the extension as its own line ...
        "9호선(연장)": "9호선",  # ... which the master calls 9호선(연장)
        "경의선": "경의중앙선",  # files: the old name of the line
    },
    station_aliases={
        "낙성대(강감찬)": "낙성대",
        "동대문역사문화공원(DDP)": "동대문역사문화공원",
        "마곡나루(서울식물원)": "마곡나루",
        "용마산(용마폭포공원)": "용마산",
        # the hourly file's CP949 has "?" for the dash
        "하남시청(덕풍?신장)": "하남시청(덕풍-신장)",
    },
)
