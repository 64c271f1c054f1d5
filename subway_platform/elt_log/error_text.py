"""A failed step's error as the ELT log shows it: short, useful first, never a secret.

Dagster wraps a user exception in ``DagsterExecutionStepExecutionError`` ("Error occurred
while executing op ..."); the reference's 255-character ``error_message`` would be spent on
that wrapper, so the short message is the first non-wrapper error of the cause chain.
"""

from __future__ import annotations

from typing import Any

from subway_platform.redact import redact

ERROR_MESSAGE_CHARS = 255
"""Width of the reference's ``error_message`` column."""
ERROR_DETAIL_CHARS = 4000

_WRAPPERS = frozenset({
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "DagsterExecutionHandleOutputError",
    "DagsterExecutionLoadInputError",
})


def _chain(error: Any) -> list[Any]:
    out: list[Any] = []
    while error is not None and len(out) < 20:
        out.append(error)
        error = error.cause or error.context
    return out


def _root(error: Any) -> Any:
    for item in _chain(error):
        if item.cls_name not in _WRAPPERS:
            return item
    return error


def error_message(error: Any | None) -> str:
    """The redacted message of the error that explains the failure, at most 255 characters."""
    if error is None:
        return "step failed (no error recorded)"
    text = " ".join(_root(error).message.split())
    return redact(text)[:ERROR_MESSAGE_CHARS]


def error_detail(error: Any | None) -> str | None:
    """Redacted messages of the whole cause chain, then the root error's stack (4000 chars)."""
    if error is None:
        return None
    chain = _chain(error)
    messages = [item.message.strip() for item in chain]
    text = "\ncaused by: ".join(messages) + "\n\n" + "".join(_root(error).stack or [])
    # Redact before cutting: a cut secret would no longer match the patterns.
    return redact(text)[:ERROR_DETAIL_CHARS]
