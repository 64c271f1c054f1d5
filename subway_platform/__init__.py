"""subway_platform: a Dagster asset platform for Seoul subway open data."""
