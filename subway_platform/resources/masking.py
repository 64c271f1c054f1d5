"""Resources that never print a secret: keys, passwords and DSN credentials read ``***``.

A pydantic model's ``repr`` and ``str`` (which Dagster's errors, pytest's tracebacks and
log lines show) list every field's value. :class:`MaskedResource` masks the fields a
resource names as secret, the password of a DSN field, and the values of any secret-looking
key inside a mapping field (a Spark config carrying ``spark.hadoop.fs.s3a.secret.key``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import dagster as dg

MASK = "***"
_SECRET_KEY = re.compile(r"(?i)(secret|password|passwd|token|credential|(^|[._])key$)")
_DSN_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@\s]*@")
_KV_PASSWORD = re.compile(r"(?i)(password\s*=\s*)\S+")


def is_secret_key(name: str) -> bool:
    """Whether a config key names a secret (``secret_access_key``, ``fs.s3a.secret.key``)."""
    return bool(_SECRET_KEY.search(name))


def mask_dsn(dsn: str) -> str:
    """``postgresql://user:pw@host/db`` -> ``postgresql://user:***@host/db`` (and ``password=``)."""
    return _KV_PASSWORD.sub(rf"\g<1>{MASK}", _DSN_PASSWORD.sub(rf"\1:{MASK}@", dsn))


def mask_value(
    name: str, value: Any, secret_fields: Iterable[str], dsn_fields: Iterable[str]
) -> Any:
    """A field's value as it may be shown."""
    if value is None or value == "":
        return value
    if name in secret_fields:
        return value if isinstance(value, dg.EnvVar) else MASK
    if name in dsn_fields and isinstance(value, str) and not isinstance(value, dg.EnvVar):
        return mask_dsn(value)
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_secret_key(str(k)) and v not in (None, "") else v)
            for k, v in value.items()
        }
    return value


class MaskedResource(dg.ConfigurableResource):
    """A configurable resource whose ``repr``/``str`` show no secret.

    Subclasses list their secret fields in ``_secret_fields`` and DSN-like fields (a URL
    with a password) in ``_dsn_fields``; mapping fields are masked key by key.
    """

    _secret_fields: ClassVar[frozenset[str]] = frozenset()
    _dsn_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_value(str(name), value, self._secret_fields, self._dsn_fields)
