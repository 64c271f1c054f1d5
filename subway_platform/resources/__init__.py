"""Resources: Spark engine, object storage, landing zone, mart database."""
