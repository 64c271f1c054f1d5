"""Alerts: a notification when a run fails or a blocking check fails.

``config`` (the ``AlertChannels`` resource: where alerts go), ``message`` (what the
notification says: data set, month, the ELT log's message, a link to the run),
``email_channel`` (SMTP), ``webhook_channel`` (Slack-compatible JSON), ``sensors``
(Dagster's run-failure sensor that sends them, once per run).
"""
