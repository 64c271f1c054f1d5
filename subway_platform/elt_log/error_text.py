"""A failed step's error as the ELT log shows it: short, useful first, never a secret.

Dagster wraps a user exception in ``DagsterExecutionStepExecutionError`` ("Error occurred
while executing op ..."); the reference's 255-character ``error_message`` would be spent on
that wrapper, so the short message is the first non-wrapper error of the cause chain.
Python renders an exception as ``module.path.Class: text``; the module path means nothing
to an operator, so it is cut: a ``dagster.Failure`` (raised on purpose with a message for
people) shows its text alone, any other error ``Class: text``.
"""

from __future__ import annotations

import re
from typing import Any

from subway_platform.redact import redact

ERROR_MESSAGE_CHARS = 255
"""Width of the reference's ``error_message`` column."""
ERROR_DETAIL_CHARS = 4000

_WRAPPERS = frozenset(
    {
        "DagsterExecutionStepExecutionError",
        "DagsterUserCodeExecutionError",
        "DagsterExecutionHandleOutputError",
        "DagsterExecutionLoadInputError",
        # Retries exhausted: "Exceeded max_retries of 3", caused by the error that was retried.
        "RetryRequested",
    }
)


_DELIBERATE = frozenset({"Failure"})
"""Classes whose message is already written for people: their class name is dropped too."""
_CLASS_PATH = re.compile(r"(?<![\w/.:@-])(?:[a-z_][a-z0-9_]*\.)+([A-Z][A-Za-z0-9_]*)\b")
"""``dagster._core.definitions.events.Failure`` -> ``Failure``; paths and URLs are left
alone (a module path never follows ``/``, ``.``, ``:`` or ``@``)."""


def without_class_paths(text: str, cls_name: str | None = None) -> str:
    """``text`` on one line, with Python module paths cut from class names and, for a
    deliberate ``Failure``, the leading class name dropped."""
    text = _CLASS_PATH.sub(r"\1", " ".join(text.split()))
    if cls_name in _DELIBERATE and text.startswith(f"{cls_name}: "):
        text = text[len(cls_name) + 2 :]
    return text


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
    root = _root(error)
    return short_message(without_class_paths(root.message, root.cls_name))


def short_message(text: str) -> str:
    """``text`` redacted, on one line, cut to the column's 255 characters (with an ellipsis
    when cut, so that a reader knows there is more in ``error_detail``)."""
    text = " ".join(redact(text).split())
    if len(text) <= ERROR_MESSAGE_CHARS:
        return text
    return text[: ERROR_MESSAGE_CHARS - 1] + "\u2026"


def detail_text(text: str) -> str:
    """``text`` redacted and cut to ``error_detail``'s 4000 characters."""
    # Redact before cutting: a cut secret would no longer match the patterns.
    return redact(text)[:ERROR_DETAIL_CHARS]


def error_detail(error: Any | None) -> str | None:
    """Redacted messages of the whole cause chain, then the root error's stack (4000 chars)."""
    if error is None:
        return None
    chain = _chain(error)
    messages = [item.message.strip() for item in chain]
    text = "\ncaused by: ".join(messages) + "\n\n" + "".join(_root(error).stack or [])
    return detail_text(text)
