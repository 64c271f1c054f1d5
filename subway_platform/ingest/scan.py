"""First pass over a landing file's raw bytes: checksum, encoding, blank lines.

One streaming read (bounded memory) computes the SHA-256 of the raw bytes, validates the
whole stream as UTF-8 and notes where blank lines are, so that the second pass (the
CSV reader) knows the encoding and can give every row its true line number.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from subway_platform.ingest.errors import LandingFileError

CHUNK_BYTES = 4 << 20
UTF8_BOM = codecs.BOM_UTF8
# Two line terminators in a row (\n\n, \r\r, \n\r in any CRLF/LF/CR mix) mean a blank line.
_BLANK_MARKS = (b"\n\n", b"\r\r", b"\n\r")


@dataclass
class ScanResult:
    """What the first pass learned about a file."""

    checksum: str
    """SHA-256 hex digest of the raw bytes."""
    encoding: str
    """``utf-8``, ``utf-8-sig`` (UTF-8 with a byte-order mark) or ``cp949``."""
    size: int
    blank_lines: list[int] = field(default_factory=list)
    """Line numbers (header = 1) of blank lines before the last non-blank line. Usually
    empty; the CSV reader skips blank lines, so row line numbers are shifted past them."""


def scan_file(src: Path, file_name: str) -> ScanResult:
    """Checksum ``src``, detect its encoding and find blank lines between rows.

    Encoding: a UTF-8 byte-order mark means ``utf-8-sig``; otherwise the whole stream
    must be valid UTF-8 (``utf-8``), else valid CP949 (``cp949``, older portal
    downloads), else :class:`LandingFileError` ``cannot decode``.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = True
    size = 0
    has_bom = False
    first_blank: int | None = None
    last_content = -1
    previous = b""
    with src.open("rb") as raw:
        while chunk := raw.read(CHUNK_BYTES):
            if size == 0:
                has_bom = chunk.startswith(UTF8_BOM)
            digest.update(chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if first_blank is None:
                window = previous + chunk
                hits = [window.find(mark) for mark in _BLANK_MARKS]
                found = [h for h in hits if h >= 0]
                if found:
                    first_blank = size - len(previous) + min(found)
            stripped = len(chunk.rstrip(b"\r\n"))
            if stripped:
                last_content = size + stripped - 1
            previous = chunk[-1:]
            size += len(chunk)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        encoding = "utf-8-sig" if has_bom else "utf-8"
    elif not has_bom and _decodes(src, "cp949"):
        encoding = "cp949"
    else:
        raise LandingFileError(
            file_name, "cannot decode: the file is neither valid UTF-8 nor CP949"
        )
    blank_lines: list[int] = []
    if first_blank is not None and first_blank < last_content:
        blank_lines = _blank_line_numbers(src, encoding)
    return ScanResult(digest.hexdigest(), encoding, size, blank_lines)


def _decodes(src: Path, encoding: str) -> bool:
    """True if the whole of ``src`` decodes strictly as ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with src.open("rb") as raw:
            while chunk := raw.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _blank_line_numbers(src: Path, encoding: str) -> list[int]:
    """Line numbers of blank lines that have a non-blank line after them.

    The slow path (a Python loop over lines) runs only for files that have blank lines
    between rows; universal newlines count ``\\r\\n``, ``\\n`` and ``\\r`` as the CSV
    reader does.
    """
    blanks: list[int] = []
    pending: list[int] = []
    with io.TextIOWrapper(src.open("rb"), encoding=encoding, newline=None) as text:
        for number, line in enumerate(text, start=1):
            if line in ("\n", ""):
                pending.append(number)
            else:
                blanks.extend(pending)
                pending.clear()
    return blanks
