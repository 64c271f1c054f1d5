"""``subway-platform dashboard``: the ELT monitoring dashboard in Superset, set up by code.

By default: install Superset into its own venv (first use), initialise it under the state
dir, create the dashboard views in the mart (``SUBWAY_MART_DSN``), import the dashboard
bundle, and serve on 127.0.0.1:PORT until Ctrl-C. ``--superset-url`` imports into an
existing Superset through its REST API instead.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import psycopg

from subway_platform.dashboard.api import SupersetClient
from subway_platform.dashboard.bundle import DASHBOARD_SLUG, DATABASE_FILE, build_bundle
from subway_platform.dashboard.connection import superset_database
from subway_platform.dashboard.install import ensure_superset_venv
from subway_platform.dashboard.server import ADMIN_USER, LocalSuperset
from subway_platform.dashboard.views import TIME_ZONE_ENV, ensure_dashboard_views
from subway_platform.platform.processes import ServiceError, port_accepts

DEFAULT_STATE_DIR = ".subway_state"
DEFAULT_PORT = 8088


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="subway-platform dashboard",
        description="Set up and serve the ELT monitoring dashboard (Apache Superset).",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(DEFAULT_STATE_DIR),
        help="where Superset's venv, metadata DB and logs live",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port of the local Superset on 127.0.0.1"
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="set up and import, then stop (no server left running)",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=None,
        help="Superset's venv (default: <state dir>/superset-venv)",
    )
    parser.add_argument(
        "--superset-url",
        default=None,
        help="import into this existing Superset via its REST API instead",
    )
    parser.add_argument("--user", default=None, help="Superset user for --superset-url")
    parser.add_argument(
        "--password", default=None, help="its password (default: $SUPERSET_PASSWORD)"
    )
    return parser


def _mart_dsn() -> str:
    dsn = os.environ.get("SUBWAY_MART_DSN", "")
    if not dsn:
        raise SystemExit(
            "subway-platform dashboard: SUBWAY_MART_DSN is not set "
            "(point it at the mart, e.g. run inside `subway-platform dev`'s env)"
        )
    return dsn


def create_views(dsn: str) -> None:
    """Create the ``elt_dashboard`` views (and the log table if missing) in the mart, with
    days in ``SUBWAY_DASHBOARD_TZ`` (default Asia/Seoul)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_dashboard_views(conn, os.environ.get(TIME_ZONE_ENV))


def import_dashboard(client: SupersetClient, dsn: str) -> str:
    """Import the bundle for the mart at ``dsn`` into a logged-in Superset; return the
    dashboard's path."""
    database = superset_database(dsn)
    passwords = {DATABASE_FILE: database.password} if database.password else {}
    client.import_bundle(build_bundle(database.masked_uri), passwords)
    dashboard = client.dashboard(DASHBOARD_SLUG)
    return f"/superset/dashboard/{dashboard['slug'] or dashboard['id']}/"


def _remote(args: argparse.Namespace, dsn: str) -> int:
    password = args.password or os.environ.get("SUPERSET_PASSWORD")
    if not args.user or not password:
        raise SystemExit(
            "subway-platform dashboard: --superset-url needs --user and "
            "--password (or SUPERSET_PASSWORD)"
        )
    create_views(dsn)
    client = SupersetClient(args.superset_url)
    client.login(args.user, password)
    path = import_dashboard(client, dsn)
    print(f"Dashboard imported: {client.base_url}{path}", flush=True)
    return 0


def _local(args: argparse.Namespace, dsn: str) -> int:
    state_dir = args.state_dir.resolve()
    if port_accepts(args.port):  # before the slow steps, not after them
        raise ServiceError(
            f"port {args.port} on 127.0.0.1 is already in use; choose another with --port"
        )
    venv = ensure_superset_venv(args.venv or state_dir / "superset-venv")
    superset = LocalSuperset(state_dir / "superset", venv)
    superset.initialise()
    create_views(dsn)
    url = superset.start(args.port)
    try:
        client = SupersetClient(url)
        client.login(ADMIN_USER, superset.admin_password)
        path = import_dashboard(client, dsn)
        print(
            f"Superset login: user {ADMIN_USER!r}, password {superset.admin_password!r} "
            f"(kept in {superset.home / 'admin_password'})",
            flush=True,
        )
        if args.no_serve:
            print(f"Dashboard imported (--no-serve): {url}{path}", flush=True)
            return 0
        print(f"ELT dashboard: {url}{path}  (Ctrl-C stops Superset)", flush=True)
        try:
            return superset.wait()
        except KeyboardInterrupt:
            print("stopping Superset…", flush=True)
            return 0
    finally:
        superset.stop()


def main(argv: list[str]) -> int:
    """Run ``subway-platform dashboard`` with ``argv`` (the arguments after ``dashboard``)."""
    args = _parser().parse_args(argv)
    dsn = _mart_dsn()
    if args.superset_url:
        return _remote(args, dsn)
    return _local(args, dsn)
