"""Fixtures of the alert tests (defined in ``alerts_servers``): a real SMTP server and a
real HTTP receiver on loopback, and a PostgreSQL-backed Dagster home for a daemon."""

from alerts_servers import alert_dagster_home, smtp_server, webhook_receiver

__all__ = ["alert_dagster_home", "smtp_server", "webhook_receiver"]
