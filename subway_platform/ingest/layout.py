"""Matching a landing file's header to its data set spec.

Reads the header line and the first data row (a few kilobytes, with Python's csv
module) and decides how every field of the file maps to the spec: canonical columns
(aliases such as 호선명 for 노선명 renamed), unknown columns (kept as ``_extra``), and an
unnamed trailing field that some portal downloads append to every data row.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from subway_platform.datasets.spec import DatasetSpec, delta_safe
from subway_platform.ingest.errors import LandingFileError

_HEAD_BYTES = 1 << 20


@dataclass
class FileLayout:
    """How the fields of one landing file map to its spec."""

    headers: list[str]
    """Header names as found (BOM and surrounding spaces removed)."""
    field_count: int
    """Fields every data row must have: the header's, or one more when every row ends
    with an empty unnamed field."""
    canonical: dict[int, str]
    """Field index -> canonical spec column."""
    extra: dict[int, str]
    """Field index -> unknown header, kept in ``_extra``."""
    unnamed: list[int]
    """Field indexes without a header name: their values must be empty."""
    renamed: dict[str, str]
    missing_optional: list[str]


def read_head(src: Path, encoding: str, file_name: str) -> tuple[list[str], list[str] | None]:
    """The header fields and the first non-blank data row's fields (None if there is none)."""
    with src.open("rb") as raw:
        head = raw.read(_HEAD_BYTES)
    if not head.strip(codecs.BOM_UTF8 + b" \t\r\n"):
        raise LandingFileError(file_name, "empty file")
    # Decode without final=True: a character cut at the buffer's end is left out.
    text = codecs.getincrementaldecoder(encoding)("strict").decode(head)
    # The BOM goes before csv parsing: left in, it would make a quoted first name literal.
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(rows)
    first = next((row for row in rows if row), None)
    return [h.strip() for h in header], first


def match_layout(
    headers: list[str], first_row: list[str], spec: DatasetSpec, file_name: str
) -> FileLayout:
    """Map ``headers`` to ``spec`` or raise :class:`LandingFileError` for an unusable layout."""
    lookup = spec.header_lookup()
    canonical: dict[int, str] = {}
    extra: dict[int, str] = {}
    unnamed: list[int] = []
    renamed: dict[str, str] = {}
    for index, name in enumerate(headers):
        if not name:
            unnamed.append(index)
        elif name in lookup:
            target = lookup[name]
            if target in canonical.values():
                raise LandingFileError(
                    file_name,
                    f"column {target} appears twice in the header (as {name!r})",
                    row=1,
                    field=target,
                )
            canonical[index] = target
            if delta_safe(name) != target:
                renamed[name] = target
        else:
            extra[index] = name
    found = ", ".join(h or "(unnamed)" for h in headers)
    if not canonical:
        raise LandingFileError(
            file_name,
            f"unknown layout: no header is a column of data set {spec.name}; found: {found}",
            row=1,
        )
    present = set(canonical.values())
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        raise LandingFileError(
            file_name,
            f"missing required column {', '.join(missing)}; found: {found}",
            row=1,
            field=missing[0],
        )
    if len(set(extra.values())) != len(extra):
        raise LandingFileError(file_name, f"duplicate header names; found: {found}", row=1)
    field_count = len(headers)
    if len(first_row) == field_count + 1 and first_row[-1].strip() == "":
        # Portal downloads that end every data row with a comma: an unnamed empty field.
        unnamed.append(field_count)
        field_count += 1
    missing_optional = [c.name for c in spec.columns if not c.required and c.name not in present]
    return FileLayout(headers, field_count, canonical, extra, unnamed, renamed, missing_optional)
