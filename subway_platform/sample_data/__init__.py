"""Sample landing files in the real portal formats (see ``generate``), built from seed
tables distilled once from real files (see ``extract``)."""

from subway_platform.sample_data.generate import (
    HOURLY_FILE_NAME,
    STATION_FILE_NAME,
    daily_file_name,
    write_sample_files,
)

__all__ = ["HOURLY_FILE_NAME", "STATION_FILE_NAME", "daily_file_name", "write_sample_files"]
