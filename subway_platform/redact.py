"""Remove secrets from text before it reaches a log line, an error, the ELT log or metadata.

Two layers: patterns that catch credentials wherever they are written the usual way (a
URL's password, ``password=…``, ``"token": "…"``), and the values of this process's
secrets, which the composition root and the command-line entry points pass once to
:func:`remember_secrets` (``configuration.remember_environment_secrets``: the S3 secret
key, a session token, ``PGPASSWORD``, the mart's and the instance's DSN passwords).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

_MIN_SECRET = 4
"""Shorter values are not replaced: they would blank out ordinary words."""
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
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


def dsn_password(dsn: str) -> str | None:
    """The password of a libpq DSN (URL or ``key=value``), if it has one."""
    found = re.search(r"://[^:/@\s]*:([^@\s]+)@", dsn) or re.search(r"(?i)password=([^\s]+)", dsn)
    return found.group(1) if found else None


def remember_secrets(values: Iterable[str | None]) -> None:
    """From now on, :func:`redact` replaces each of ``values`` (empty and short ones are
    ignored) in this process."""
    with _KNOWN_LOCK:
        _KNOWN.update(v for v in values if v and len(v) >= _MIN_SECRET)


def redact(text: str) -> str:
    """Return ``text`` with passwords, keys and DSN credentials replaced by ``***``."""
    out = text
    for pattern, repl in _PATTERNS:
        out = pattern.sub(repl, out)
    # Longest first, so that a value is replaced whole before a part of it.
    for value in sorted(_KNOWN, key=len, reverse=True):
        out = out.replace(value, "***")
    return out
