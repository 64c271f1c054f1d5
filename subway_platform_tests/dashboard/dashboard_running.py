"""What the ``superset`` fixture hands a test (kept apart from conftest so tests import it)."""

from __future__ import annotations

from dataclasses import dataclass

from subway_platform.dashboard.api import SupersetClient
from subway_platform.dashboard.server import LocalSuperset


@dataclass(frozen=True)
class RunningSuperset:
    """A local Superset with the dashboard imported, and an admin API session."""

    url: str
    client: SupersetClient
    superset: LocalSuperset
