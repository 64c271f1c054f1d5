"""The production topology as processes (code server, daemon, webserver on the embedded
services), for the end-to-end test and the crash drills. Select with ``-m topology``.

``topology`` (module): a fresh state dir, a webhook receiver for alerts, the services, the
code server and the webserver; the daemon is started by the first test (after its upload,
so the landing sensor's first tick sees the file). The test process talks to the same
Dagster instance (PostgreSQL) as the services.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import pytest

from subway_platform.platform.topology import Topology
from subway_platform_tests.conftest import make_state_dir


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "topology: the production topology as separate processes (crash drills)"
    )


@dataclass
class Webhook:
    """A Slack-compatible receiver on loopback: its URL and the JSON bodies it got."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    """http.server on 127.0.0.1 in a thread, recording each POST's JSON body."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Webhook(f"http://127.0.0.1:{server.server_port}/hooks/drills", received)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Running:
    """The running topology, its environment and the instance the test reads."""

    topology: Topology
    env: dict[str, str]
    instance: dg.DagsterInstance
    webhook: Webhook


@pytest.fixture(scope="module")
def topology(webhook: Webhook) -> Iterator[Running]:
    """Services + code server + webserver (the daemon is started by the first test)."""
    state_dir = make_state_dir("subway-topology-")
    topo = Topology(state_dir, extra_env={"SUBWAY_ALERT_WEBHOOK_URL": webhook.url})
    saved = dict(os.environ)
    try:
        topo.start(daemon=False)
        os.environ.update(topo.env)
        with dg.DagsterInstance.get() as instance:
            yield Running(topo, topo.env, instance, webhook)
    finally:
        topo.stop()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(state_dir, ignore_errors=True)
