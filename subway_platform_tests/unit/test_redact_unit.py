"""Secrets removed from text before it reaches a log, an error, the ELT log or an alert."""

from __future__ import annotations

import pytest

from subway_platform.alerts.config import AlertChannels, scrub
from subway_platform.configuration import remember_environment_secrets
from subway_platform.redact import redact

SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "PGPASSWORD",
    "SUBWAY_MART_DSN",
    "DAGSTER_PG_URL",
    "SUBWAY_SMTP_URL",
    "SUBWAY_ALERT_WEBHOOK_URL",
)


@pytest.fixture(autouse=True)
def _no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the secrets it is about; none leak in from the shell."""
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "could not connect: postgresql://subway:s3cr3t-pw@127.0.0.1:5432/mart",
            "could not connect: postgresql://subway:***@127.0.0.1:5432/mart",
        ),
        (
            "host=127.0.0.1 user=subway password=s3cr3t-pw dbname=mart",
            "host=127.0.0.1 user=subway password=*** dbname=mart",
        ),
        ("smtp://alerts:mail%40pw@127.0.0.1:2525", "smtp://alerts:***@127.0.0.1:2525"),
        ("smtps://:onlypw@127.0.0.1:465/", "smtps://:***@127.0.0.1:465/"),
        (
            "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
            "aws_secret_access_key = '***'",
        ),
        ("token: xoxb-123-456, api_key=abc123", "token: ***, api_key=***"),
        ("SECRET=abc; PWD=def&x=1", "SECRET=***; PWD=***&x=1"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CARD_SUBWAY_MONTH_201907.csv: line 2: field 승차총승객수 is '12.5'",
        "s3://subway/landing/CARD_SUBWAY_MONTH_201907.csv",
        "http://127.0.0.1:9000/subway?prefix=landing",
        "the token was refused",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_json_style_secrets() -> None:
    text = "{\"password\": \"hunter22\", 'token': 'xoxb-123-456'}"
    assert redact(text) == "{\"password\": \"***\", 'token': '***'}"


def test_secret_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENG")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE")
    monkeypatch.setenv("SUBWAY_MART_DSN", "postgresql://subway:martpw99@127.0.0.1:5432/mart")
    monkeypatch.setenv("DAGSTER_PG_URL", "host=127.0.0.1 password=dagpw77 dbname=dagster")
    text = "signed with wJalrXUtnFEMIK7MDENG/FwoGZXIvYXdzEXAMPLE; saw martpw99 and dagpw77"
    assert redact(text) == text  # not yet known to this process
    remember_environment_secrets()  # what the composition root and the CLI do
    assert redact(text) == "signed with ***/***; saw *** and ***"


def test_short_environment_values_are_not_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    # A three-character value would blank out ordinary words.
    monkeypatch.setenv("PGPASSWORD", "abc")
    remember_environment_secrets()
    assert redact("abc def") == "abc def"


def test_alert_scrub_removes_smtp_and_webhook_urls() -> None:
    hook = "https://hooks.example.test/services/T000/B000/XXXXsecretXXXX"
    smtp = "smtp://alerts:p%40ss-word@127.0.0.1:2525"
    channels = AlertChannels(webhook_url=hook, smtp_url=smtp)
    text = (
        f"POST {hook} failed; relay {smtp}; path /services/T000/B000/XXXXsecretXXXX; pw p@ss-word"
    )
    assert "XXXXsecretXXXX" in scrub(text)  # without the channels, the webhook path shows
    out = channels.scrub(text)
    assert out == "POST *** failed; relay ***; path ***; pw ***"
