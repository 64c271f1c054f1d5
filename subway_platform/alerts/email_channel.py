"""The email channel: one plain-text message per alert over SMTP (``SUBWAY_SMTP_URL``)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from subway_platform.alerts.config import SmtpSettings
from subway_platform.alerts.message import Alert

TIMEOUT_SECONDS = 30.0


def email_message(alert: Alert, settings: SmtpSettings) -> EmailMessage:
    """The message as sent: subject, sender, recipients, the alert's text (UTF-8)."""
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["X-Dagster-Run-Id"] = alert.run_id
    message.set_content(alert.text)
    return message


def send_email(alert: Alert, settings: SmtpSettings) -> None:
    """Send ``alert`` to the recipients; log in when the URL has a user. STARTTLS is used
    whenever the server offers it (``smtps://`` is TLS from the start)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if not settings.implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.user:
            client.login(settings.user, settings.password or "")
        client.send_message(email_message(alert, settings))
