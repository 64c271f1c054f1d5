"""Remove secrets from text before it reaches a log line, an error, the ELT log or metadata."""

from __future__ import annotations

import os
import re

_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):[^@\s]*@"), r"\1:***@"),
    # key=value forms in DSNs and configs, and "key": "value" in JSON or a repr
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|secret_access_key|aws_secret_access_key|"
            r"session_token|token|api_key)(['\"]?\s*[=:]\s*)(['\"]?)[^\s'\",;&]+\3"
        ),
        r"\1\2\3***\3",
    ),
)


def redact(text: str) -> str:
    """Return ``text`` with passwords, keys and DSN credentials replaced by ``***``."""
    out = text
    for pattern, repl in _PATTERNS:
        out = pattern.sub(repl, out)
    for name in _SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            out = out.replace(value, "***")
    for var in ("SUBWAY_MART_DSN", "DAGSTER_PG_URL"):
        dsn = os.environ.get(var, "")
        found = re.search(r"://[^:/@\s]*:([^@\s]+)@", dsn) or re.search(
            r"(?i)password=([^\s]+)", dsn
        )
        if found and len(found.group(1)) >= 4:
            out = out.replace(found.group(1), "***")
    return out
