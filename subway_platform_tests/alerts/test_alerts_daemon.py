"""Alerts end to end, as in production: a real ``dagster-daemon`` serves a code location
with the platform's alert sensor; a sensor of that location launches runs that fail (a
refused file, a failed blocking check); the daemon's run-failure sensor sends each alert to
a real SMTP server and a real HTTP receiver on loopback. Then more ticks, and a daemon
restart, must send nothing again. No message may contain a secret."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from alerts_location import GOLD_PROBLEM, LEAKY_PASSWORD, TRIGGER_DIR_ENV
from alerts_servers import (
    INSTANCE_URL_ENV,
    SMTP_PASSWORD,
    SMTP_PASSWORD_IN_URL,
    SMTP_USER,
    SmtpServer,
    WebhookReceiver,
)

from subway_platform.alerts.sensors import SENSOR_NAME
from subway_platform.tags import ALERT_SENT_TAG

HERE = Path(__file__).parent
UI_URL = "http://dagster.example:3000"
MONTH = "201607"


def _wait(what: str, condition: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(
        f"timed out waiting for {what}; daemon log:\n" + log.read_text(errors="replace")[-6000:]
    )


@contextmanager
def daemon(env: dict[str, str], workspace: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` in its own process group, stopped (group included) at exit."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)],
            cwd=workspace.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # The code server and run workers it started, if any is left.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _alert_ticks(instance: dg.DagsterInstance) -> list[Any]:
    for state in instance.all_instigator_state():
        if state.name == SENSOR_NAME:
            return list(
                instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=10_000)
            )
    return []


def _emails(smtp: SmtpServer) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(m["content"], policy=email.policy.default)  # type: ignore[misc]
        for m in smtp.mailbox.messages
    ]


def test_daemon_sends_each_failure_once_by_email_and_webhook_without_secrets(
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    alert_dagster_home: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home, instance_url = alert_dagster_home
    triggers = tmp_path / "triggers"
    triggers.mkdir()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: alerts_location\n"
        f"      working_directory: {HERE}\n      location_name: alerts_test\n"
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        INSTANCE_URL_ENV: instance_url,
        TRIGGER_DIR_ENV: str(triggers),
        "SUBWAY_ALERT_EMAIL_TO": "oncall@example.org, data@example.org",
        "SUBWAY_SMTP_URL": smtp_server.url,
        "SUBWAY_ALERT_WEBHOOK_URL": webhook_receiver.url,
        "SUBWAY_UI_URL": UI_URL + "/",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    log = tmp_path / "daemon.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        patch.setenv(INSTANCE_URL_ENV, instance_url)
        with dg.DagsterInstance.get() as instance:
            with daemon(env, workspace, log):
                # The sensor's first tick sets its cursor to "now"; failures come after.
                _wait("the alert sensor's first tick", lambda: _alert_ticks(instance), 180, log)
                (triggers / f"refuse_file_job__{MONTH}").touch()
                _wait(
                    "the first alert",
                    lambda: smtp_server.mailbox.messages and webhook_receiver.requests,
                    180,
                    log,
                )
                (triggers / f"blocked_check_job__{MONTH}").touch()
                _wait(
                    "the second alert",
                    lambda: len(smtp_server.mailbox.messages) >= 2
                    and len(webhook_receiver.requests) >= 2,
                    180,
                    log,
                )
                # More evaluations of the sensor: nothing is sent again.
                seen = len(_alert_ticks(instance))
                _wait("three more ticks", lambda: len(_alert_ticks(instance)) >= seen + 3, 120, log)
            # The daemon restarted: its sensor resumes from its stored cursor.
            before_restart = len(_alert_ticks(instance))
            with daemon(env, workspace, log):
                _wait(
                    "three ticks after the restart",
                    lambda: len(_alert_ticks(instance)) >= before_restart + 3,
                    180,
                    log,
                )
            assert len(smtp_server.mailbox.messages) == 2
            assert len(webhook_receiver.requests) == 2

            runs = {r.job_name: r for r in instance.get_runs()}
            refused, blocked = runs["refuse_file_job"], runs["blocked_check_job"]
            assert refused.status == blocked.status == dg.DagsterRunStatus.FAILURE
            # The channels that delivered are recorded on each run (the restart guard).
            for run in (refused, blocked):
                assert instance.get_run_by_id(run.run_id).tags[ALERT_SENT_TAG] == "email,webhook"

    assert smtp_server.mailbox.logins[0] == (SMTP_USER, SMTP_PASSWORD)
    mails = _emails(smtp_server)
    assert [m["To"] for m in mails] == ["oncall@example.org, data@example.org"] * 2
    assert smtp_server.mailbox.messages[0]["to"] == ["oncall@example.org", "data@example.org"]
    first, second = (m.get_content() for m in mails)
    assert mails[0]["Subject"] == f"[subway_platform] failed: card_subway_month {MONTH}"
    assert first.splitlines() == [
        f"Dagster run {refused.run_id} of job refuse_file_job failed.",
        f"- data set card_subway_month, month {MONTH}, bronze/card_subway_month failed: "
        f"CARD_SUBWAY_MONTH_{MONTH}.csv: line 17188: field 승차총승객수 is 'x' "
        "(target postgresql://loader:***@127.0.0.1:5999/mart)",
        f"Run: {UI_URL}/runs/{refused.run_id}",
    ]
    assert mails[1]["Subject"] == (
        f"[subway_platform] blocking check failed: card_subway_month {MONTH}"
    )
    assert second.splitlines() == [
        f"Dagster run {blocked.run_id} of job blocked_check_job failed.",
        f"- data set card_subway_month, month {MONTH}, gold/subway_passengers blocking check "
        f"failed: gold/subway_passengers {MONTH}: {GOLD_PROBLEM} (reconciles_with_bronze)",
        f"Run: {UI_URL}/runs/{blocked.run_id}",
    ]

    hooks = webhook_receiver.requests
    assert all(h["content_type"] == "application/json; charset=utf-8" for h in hooks)
    assert [set(h["json"]) for h in hooks] == [{"text"}, {"text"}]
    # The same words as the email: subject, then the body (the mail's lines end in CRLF).
    assert hooks[0]["json"]["text"].split("\n") == [mails[0]["Subject"], *first.splitlines()]
    assert hooks[1]["json"]["text"].split("\n") == [mails[1]["Subject"], *second.splitlines()]

    # No secret anywhere: not the SMTP password, not the webhook's token, not the DSN's.
    token = webhook_receiver.url.rsplit("/", 1)[-1]
    everything = [m["content"].decode("utf-8", "replace") for m in smtp_server.mailbox.messages]
    everything += [h["json"]["text"] for h in hooks]
    for text in everything:
        for secret in (SMTP_PASSWORD, SMTP_PASSWORD_IN_URL, token, LEAKY_PASSWORD):
            assert secret not in text
    daemon_log = log.read_text(errors="replace")
    for secret in (SMTP_PASSWORD, SMTP_PASSWORD_IN_URL, token):
        assert secret not in daemon_log
