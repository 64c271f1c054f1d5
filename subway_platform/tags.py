"""Every run tag the platform reads or writes, in one place.

Tags are how runs carry what the platform needs to know about them across processes (the
landing sensor's file, the lock a run holds, a range run's follow-up). A tag's name is a
contract with the run coordinator (``dagster.yaml``'s ``tag_concurrency_limits``), with
existing runs in the instance and with operators filtering runs in the UI: change none.
"""

from typing import Final

# Dagster's own tags (set by Dagster for partitioned and range runs).
PARTITION_TAG: Final = "dagster/partition"
RANGE_START_TAG: Final = "dagster/asset_partition_range_start"
RANGE_END_TAG: Final = "dagster/asset_partition_range_end"

# The landing file a run loads (set by the landing sensor and the landing scan).
SOURCE_FILE_TAG: Final = "subway/source_file"
SOURCE_ETAG_TAG: Final = "subway/source_etag"
SOURCE_URL_TAG: Final = "subway/source_url"
DATASET_TAG: Final = "subway/dataset"
"""The data set a run loads (a spec's ``name``; ``all_monthly`` and ``maintenance`` for the
jobs that span data sets)."""
KIND_TAG: Final = "subway/kind"
"""What a run that is not a load is (``landing_scan``, ``reenrichment``)."""
STATION_MASTER_TAG: Final = "subway/station_master"
"""A re-enrichment run: the storage id of the station master materialization that caused it."""

LOCK_TAG: Final = "subway/lock"
"""``<data set>:<month or range>``: the run coordinator runs one run per value at a time."""

# Range runs that skipped bad months (range_runs.py).
FOLLOW_UP_TAG: Final = "subway/follow_up_of"
EXCLUDED_MONTHS_TAG: Final = "subway/excluded_months"

ALERT_SENT_TAG: Final = "subway/alert_sent"
"""The channels that delivered a run's failure alert (makes a second alert a no-op)."""

SOURCE_FILE_TAG_MAX = 200
"""Longest landing file name kept in a tag (Dagster limits tag values)."""
SOURCE_ETAG_TAG_MAX = 64
"""Longest content tag kept in a tag (a SHA-256 in hex)."""

FORCE_TAG: Final = "subway/force"
"""``true``: load the run's months even when their files and code are unchanged since their
last valid load (``skip_unchanged.py``); any other value, or none, lets such months skip."""
