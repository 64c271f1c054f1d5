"""Real servers for the alert tests: an SMTP server (aiosmtpd, with login) and an HTTP
receiver on loopback, and a PostgreSQL-backed Dagster home of their own for a daemon."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from subway_platform.platform.processes import free_port

SMTP_USER = "alerts"
SMTP_PASSWORD = "Smtp-Pa55/word"
SMTP_PASSWORD_IN_URL = "Smtp-Pa55%2Fword"
INSTANCE_URL_ENV = "SUBWAY_ALERT_TEST_DAGSTER_PG_URL"


@dataclass
class Mailbox:
    """What the SMTP server received: messages (raw bytes, envelope) and logins."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "content": bytes(envelope.original_content or envelope.content),
            }
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword)
        if ok:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((login, password))
            ok = (login, password) == (SMTP_USER, SMTP_PASSWORD)
        return AuthResult(success=ok)


@dataclass(frozen=True)
class SmtpServer:
    """A running SMTP server: its URL (with the credentials) and its mailbox."""

    url: str
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 requiring a login (over plain SMTP: loopback only)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer(f"smtp://{SMTP_USER}:{SMTP_PASSWORD_IN_URL}@127.0.0.1:{port}", mailbox)
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    """A running HTTP receiver: its URL and the requests it got (path, headers, JSON)."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """http.server on 127.0.0.1 in a thread; the URL's path holds a token, like Slack's."""
    token = f"T0KEN-{uuid.uuid4().hex[:12]}"
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(body),
                }
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        receiver = WebhookReceiver(f"http://127.0.0.1:{server.server_port}/hooks/{token}")
        receiver.requests = received
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def alert_dagster_home(services: Any, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A DAGSTER_HOME whose instance stores runs, events and sensor cursors in a new
    PostgreSQL database; yields the directory and the instance's URL."""
    database = f"alerts_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    parts = conninfo_to_dict(services.mart_dsn)
    url = (
        f"postgresql+psycopg2://{parts['user']}:{parts['password']}@{parts['host']}:"
        f"{parts['port']}/{database}"
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url:\n      env: {INSTANCE_URL_ENV}\n"
        "telemetry:\n  enabled: false\n"
    )
    try:
        yield home, url
    finally:
        with psycopg.connect(services.mart_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
