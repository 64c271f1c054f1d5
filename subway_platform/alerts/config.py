"""Where alerts go: the ``AlertChannels`` resource, set from these variables when the code
location loads (``resources/environment.py``).

Each channel is off while its variable is unset:

- ``SUBWAY_ALERT_EMAIL_TO``: comma-separated addresses; the server is ``SUBWAY_SMTP_URL``,
  ``smtp://user:password@host:port`` (STARTTLS when the server offers it) or ``smtps://``
  (TLS from the start); ``SUBWAY_ALERT_EMAIL_FROM`` is the sender (optional).
- ``SUBWAY_ALERT_WEBHOOK_URL``: a URL that takes Slack-compatible JSON (``{"text": ...}``).
- ``SUBWAY_UI_URL``: the Dagster UI the run links point at (default ``http://127.0.0.1:3000``).

The SMTP password and the webhook URL (Slack's carries its token in the path) are secrets:
:meth:`AlertChannels.secrets` lists them so that no alert text, log line or error ever shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from subway_platform.redact import redact
from subway_platform.resources.masking import MaskedResource

EMAIL_TO_ENV = "SUBWAY_ALERT_EMAIL_TO"
EMAIL_FROM_ENV = "SUBWAY_ALERT_EMAIL_FROM"
SMTP_URL_ENV = "SUBWAY_SMTP_URL"
WEBHOOK_URL_ENV = "SUBWAY_ALERT_WEBHOOK_URL"
UI_URL_ENV = "SUBWAY_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DEFAULT_SENDER = "subway-platform@localhost"


class AlertConfigError(ValueError):
    """A channel's variable is set but unusable; the message names the variable only."""


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server and the message's envelope."""

    host: str
    port: int
    user: str | None
    password: str | None
    implicit_tls: bool
    sender: str
    recipients: tuple[str, ...]


class AlertChannels(MaskedResource):
    """Where alerts go (resource ``alert_channels``; wired to the variables above by
    ``resources/environment.py``). Each channel is off while its address is empty; a set
    but unusable one is reported when an alert is sent (:class:`AlertConfigError`), and the
    other channel still delivers."""

    _dsn_fields: ClassVar[frozenset[str]] = frozenset({"smtp_url"})
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"webhook_url"})

    email_to: str = ""
    """Comma-separated recipients (``SUBWAY_ALERT_EMAIL_TO``); empty: no email."""
    email_from: str = ""
    """The sender (``SUBWAY_ALERT_EMAIL_FROM``); empty: ``subway-platform@localhost``."""
    smtp_url: str = ""
    """``smtp://user:password@host:port`` or ``smtps://…`` (``SUBWAY_SMTP_URL``; secret)."""
    webhook_url: str = ""
    """A URL taking Slack-compatible JSON (``SUBWAY_ALERT_WEBHOOK_URL``; secret)."""
    ui_url: str = DEFAULT_UI_URL
    """The Dagster UI the run links point at (``SUBWAY_UI_URL``)."""

    def run_url(self, run_id: str) -> str:
        """Link to a run's page in the Dagster UI."""
        return f"{(self.ui_url or DEFAULT_UI_URL).rstrip('/')}/runs/{run_id}"

    def smtp_settings(self) -> SmtpSettings | None:
        """The email channel, or None when no recipient is set."""
        recipients = tuple(a.strip() for a in self.email_to.split(",") if a.strip())
        if not recipients:
            return None
        parts = urlsplit(self.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise AlertConfigError(
                f"{EMAIL_TO_ENV} is set but {SMTP_URL_ENV} is not an smtp:// or smtps:// URL "
                "(smtp://user:password@host:port)"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as err:
            raise AlertConfigError(f"{SMTP_URL_ENV} has an invalid port") from err
        return SmtpSettings(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
            sender=self.email_from or DEFAULT_SENDER,
            recipients=recipients,
        )

    def webhook(self) -> str | None:
        """The webhook channel's URL, or None when it is unset."""
        url = self.webhook_url.strip()
        if not url:
            return None
        if urlsplit(url).scheme not in ("http", "https"):
            raise AlertConfigError(f"{WEBHOOK_URL_ENV} is not an http(s) URL")
        return url

    def secrets(self) -> tuple[str, ...]:
        """Values no alert may contain: the SMTP password (raw and URL-encoded), the SMTP
        URL, the webhook URL and its path (where Slack keeps the token)."""
        out: list[str] = []
        if self.smtp_url:
            out.append(self.smtp_url)
            password = urlsplit(self.smtp_url).password
            if password:
                out.extend([password, unquote(password)])
        hook = self.webhook_url.strip()
        if hook:
            out.append(hook)
            path = urlsplit(hook).path
            if len(path) > 1:
                out.append(path)
        # Longest first, so that a URL is replaced whole before a part of it.
        return tuple(sorted({s for s in out if len(s) >= 4}, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` without these channels' secrets nor any credentials ``redact`` knows."""
        return scrub(text, self.secrets())


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without ``secrets`` (``AlertChannels.secrets()``) and without any
    credentials that :func:`subway_platform.redact.redact` knows (DSNs, keys, passwords)."""
    out = text
    for secret in secrets:
        out = out.replace(secret, "***")
    return redact(out)
