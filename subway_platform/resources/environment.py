"""Resources wired to the environment variables of design.md (read when a run starts).

This module is where the platform's configuration enters: every variable of the README's
table becomes a resource field here (secrets as ``dg.EnvVar``, shown by name only), and the
assets, IO managers and jobs get it from their resources, not from ``os.environ``.

The variables are checked when the code location loads: a missing or malformed one fails
the load with one line naming it and giving an example (``subway_platform.configuration``),
rather than a run failing later with a driver's traceback.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from subway_platform.alerts.config import (
    DEFAULT_UI_URL,
    EMAIL_FROM_ENV,
    EMAIL_TO_ENV,
    SMTP_URL_ENV,
    UI_URL_ENV,
    WEBHOOK_URL_ENV,
    AlertChannels,
)
from subway_platform.configuration import check_environment, remember_environment_secrets
from subway_platform.io_managers.delta import DeltaLakeIOManager
from subway_platform.io_managers.postgres import PostgresMartIOManager
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.landing import LandingZone
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.postgres import MartDatabase
from subway_platform.resources.spark import SparkEngine
from subway_platform.resources.storage import ObjectStorage
from subway_platform.sensors import LandingSensorSettings
from subway_platform.stores.delta import DeltaStore
from subway_platform.stores.mart import MartStore


def _optional(name: str) -> Any:
    """``dg.EnvVar(name)`` when the variable is set (Dagster resolves it when a run starts
    and shows only its name), else None: the resource's default applies."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def object_storage_from_environment() -> ObjectStorage:
    """``ObjectStorage`` with this process's ``AWS_*`` values themselves (not ``EnvVar``s):
    for command-line entry points and tests, which use the resource outside a run."""
    env = os.environ
    return ObjectStorage(
        endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
        access_key_id=env.get("AWS_ACCESS_KEY_ID", ""),
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", ""),
    )


def build_alert_channels() -> AlertChannels:
    """The alert channels from ``SUBWAY_ALERT_*``, ``SUBWAY_SMTP_URL`` and ``SUBWAY_UI_URL``
    (see ``alerts/config.py``); the SMTP and webhook URLs, secrets, as ``dg.EnvVar``."""
    return AlertChannels(
        email_to=_optional(EMAIL_TO_ENV) or "",
        email_from=_optional(EMAIL_FROM_ENV) or "",
        smtp_url=_optional(SMTP_URL_ENV) or "",
        webhook_url=_optional(WEBHOOK_URL_ENV) or "",
        ui_url=_optional(UI_URL_ENV) or DEFAULT_UI_URL,
    )


def build_resources() -> dict[str, Any]:
    """Resources wired to SUBWAY_* and AWS_* variables (checked now, read when a run starts).

    Raises ``ConfigurationError`` (one line) when a variable is missing or unusable.
    """
    remember_environment_secrets()
    check_environment()
    # SPARK_REMOTE: a Spark Connect server (unset: embedded Sail); SUBWAY_SPARK_MASTER
    # makes it a classic session (executors sized by the run's tags).
    spark = SparkEngine(master=_optional("SUBWAY_SPARK_MASTER"), remote=_optional("SPARK_REMOTE"))
    storage = ObjectStorage(
        endpoint_url=_optional("AWS_ENDPOINT_URL") or "",
        region=_optional("AWS_REGION") or _optional("AWS_DEFAULT_REGION") or "",
        access_key_id=_optional("AWS_ACCESS_KEY_ID") or "",
        secret_access_key=_optional("AWS_SECRET_ACCESS_KEY") or "",
    )
    mart = MartDatabase(dsn=dg.EnvVar("SUBWAY_MART_DSN"))
    locks = TableLocks(mart=mart)
    lakehouse = Lakehouse(lake_url=dg.EnvVar("SUBWAY_LAKE_URL"), storage=storage)
    # Not a secret and checked above: its value is the field's (a typed one).
    mart_store = MartStore(
        mart=mart, spark=spark, sink=os.environ.get("SUBWAY_MART_SINK") or "copy"
    )
    return {
        "spark": spark,
        "storage": storage,
        "mart": mart,
        "landing": LandingZone(
            landing_url=dg.EnvVar("SUBWAY_LANDING_URL"),
            archive_url=dg.EnvVar("SUBWAY_ARCHIVE_URL"),
            lake_url=dg.EnvVar("SUBWAY_LAKE_URL"),
            storage=storage,
            reload_unchanged=(os.environ.get("SUBWAY_RELOAD_UNCHANGED") or "").strip().lower()
            in ("true", "yes", "1"),
        ),
        "locks": locks,
        "lakehouse": lakehouse,
        "delta_store": DeltaStore(lakehouse=lakehouse, spark=spark, locks=locks),
        "delta_io_manager": DeltaLakeIOManager(lakehouse=lakehouse, spark=spark, locks=locks),
        "mart_store": mart_store,
        "mart_io_manager": PostgresMartIOManager(store=mart_store),
        "landing_sensor_settings": LandingSensorSettings(),
        "alert_channels": build_alert_channels(),
    }
