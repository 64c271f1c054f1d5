"""Fast unit tests of the pure parts: no services, no Spark session, no network."""
