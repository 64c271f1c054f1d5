"""Staging: turn one landing CSV file into a clean Parquet file that Spark can read.

Spark engines read only clean UTF-8 CSV (Sail rejects rows with extra fields and ignores
the ``encoding`` option), while the portal's files come in UTF-8 with or without a BOM or
CP949, with renamed headers, extra columns and trailing empty fields. Staging streams the
file (bounded memory), checks its layout against the data set spec, and writes every spec
column as a string column (canonical source name), plus ``_extra``, ``_source_row`` and,
for partitioned data sets, ``month``. It also returns row counts and count sums per month,
computed here from the raw text, so that bronze, gold and the mart can be reconciled
against the landing file itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from subway_platform.datasets.spec import DatasetSpec
from subway_platform.ingest.errors import LandingFileError
from subway_platform.ingest.layout import FileLayout, match_layout, read_head
from subway_platform.ingest.scan import blank_line_numbers, scan_file
from subway_platform.ingest.values import parse_count_array
from subway_platform.partitions import MONTH_COLUMN, MONTH_PATTERN, validate_month

EXTRA_COLUMN = "_extra"
SOURCE_ROW_COLUMN = "_source_row"
_BLOCK_BYTES = 8 << 20
_MONTH_PATTERN = f"^{MONTH_PATTERN}$"


@dataclass
class StagedFile:
    """What staging found in one landing file and where the staged Parquet file is."""

    file_name: str
    checksum: str
    """SHA-256 hex digest of the raw bytes."""
    encoding: str
    """``utf-8``, ``utf-8-sig`` or ``cp949``."""
    rows: int
    """Data rows staged (after the month filter)."""
    columns: list[str]
    """Canonical source names present in the file, in file order."""
    renamed: dict[str, str]
    """Header as found -> canonical name, only where they differ (e.g. 호선명 -> 노선명)."""
    extra_columns: list[str]
    """Headers not in the spec; their values are kept in ``_extra`` as JSON."""
    missing_optional: list[str]
    months: dict[str, int]
    """Rows per month (partitioned specs); {} for unpartitioned ones."""
    sums: dict[str, dict[str, int]]
    """Month ('' if unpartitioned) -> {sum column (e.g. ``pass_in``) -> total of the
    parseable values of its source columns}. Every staged month has an entry."""
    unparseable: dict[str, int]
    """Month -> rows with at least one unparseable count in a sum source column."""
    parquet_path: Path

    def facts(self) -> dict[str, object]:
        """Everything but the local path, as JSON-ready values (kept beside a staged copy)."""
        return {k: v for k, v in asdict(self).items() if k != "parquet_path"}

    @classmethod
    def from_facts(cls, data: Mapping[str, Any], parquet_path: Path) -> StagedFile:
        """The inverse of :meth:`facts`; ``KeyError``/``TypeError`` if a field is missing."""
        return cls(
            **{f.name: data[f.name] for f in fields(cls) if f.name != "parquet_path"},
            parquet_path=parquet_path,
        )

    def only_months(self, months: Collection[str]) -> StagedFile:
        """The same file's figures for ``months`` only (a staged copy of all its months
        loaded for some of them): rows, rows per month, sums and unparseable rows."""
        keep = {m: n for m, n in self.months.items() if m in months}
        return replace(
            self,
            rows=sum(keep.values()),
            months=keep,
            sums={m: s for m, s in self.sums.items() if m in keep},
            unparseable={m: n for m, n in self.unparseable.items() if m in keep},
        )


@dataclass
class _Totals:
    months: dict[str, int] = field(default_factory=dict)
    sums: dict[str, dict[str, int]] = field(default_factory=dict)
    unparseable: dict[str, int] = field(default_factory=dict)


def stage_landing_file(
    src: Path,
    dst: Path,
    *,
    file_name: str,
    spec: DatasetSpec,
    months: Collection[str] | None = None,
) -> StagedFile:
    """Stage landing file ``src`` (named ``file_name`` in the landing zone) as Parquet ``dst``.

    ``months`` (partitioned specs only) keeps only rows of those months: an hourly file
    may hold many months. Raises :class:`LandingFileError` for an empty or undecodable
    file, a header without data rows, a missing required column, an unknown layout, a
    row whose field count differs from the others, an invalid month value, or a row of
    another month than the file name declares. On failure nothing is left at ``dst``:
    the file is written under a temporary name and renamed at the end.
    """
    keep = None
    if months is not None:
        if not spec.partitioned:
            raise ValueError(f"{spec.name} is not partitioned: months cannot be selected")
        keep = pa.array(sorted({validate_month(m) for m in months}), pa.string())
    scan = scan_file(src, file_name)
    headers, first_row = read_head(src, scan.encoding, file_name)
    if first_row is None:
        raise LandingFileError(file_name, "header only: the file has no data rows")
    layout = match_layout(headers, first_row, spec, file_name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        blanks: list[int] | None = None
        try:
            totals, rows, seen = _stream(src, tmp, file_name, spec, scan.encoding, layout, keep, [])
            exact = scan.one_break_per_line(seen)
        except LandingFileError:
            # The error's line number is right unless blank lines came before it.
            blanks = blank_line_numbers(src, scan.encoding)
            if not blanks:
                raise
            exact = False
        if not exact:
            # Blank lines (or mixed line breaks) between rows: stage again with row line
            # numbers shifted past them. Rare, so the slow line scan is affordable.
            if blanks is None:
                blanks = blank_line_numbers(src, scan.encoding)
            totals, rows, seen = _stream(
                src, tmp, file_name, spec, scan.encoding, layout, keep, blanks
            )
        if scan.quotes % 2:
            # pyarrow's reader closes a quote left open at the end of the file silently,
            # so a row cut inside a quoted value (with the right field count) would load
            # with a shortened value.
            raise LandingFileError(
                file_name,
                "the last row ends inside a quoted value (truncated upload?)",
                row=seen + 1 if exact else None,
            )
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return StagedFile(
        file_name=file_name,
        checksum=scan.checksum,
        encoding=scan.encoding,
        rows=rows,
        columns=[layout.canonical[i] for i in sorted(layout.canonical)],
        renamed=layout.renamed,
        extra_columns=[layout.extra[i] for i in sorted(layout.extra)],
        missing_optional=layout.missing_optional,
        months=totals.months if spec.partitioned else {},
        sums=totals.sums,
        unparseable=totals.unparseable,
        parquet_path=dst,
    )


def staged_schema(spec: DatasetSpec) -> pa.Schema:
    """Schema of a staged Parquet file: every spec column as string, then the extras."""
    fields = [pa.field(c.name, pa.string()) for c in spec.columns]
    fields += [pa.field(EXTRA_COLUMN, pa.string()), pa.field(SOURCE_ROW_COLUMN, pa.int64())]
    if spec.partitioned:
        fields.append(pa.field(MONTH_COLUMN, pa.string()))
    return pa.schema(fields)


def _stream(
    src: Path,
    tmp: Path,
    file_name: str,
    spec: DatasetSpec,
    encoding: str,
    layout: FileLayout,
    keep: pa.Array | None,
    blank_lines: list[int],
) -> tuple[_Totals, int, int]:
    """Second pass: parse with pyarrow's streaming CSV reader and write Parquet.

    Returns the running totals, the rows staged and the data rows read (before the month
    filter). ``blank_lines`` (header = line 1) shift the line numbers of later rows."""
    bad_rows: list[int] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        # The streaming reader does not know physical line numbers: note the failure and
        # find the line afterwards with the csv module (failure path only).
        bad_rows.append(row.actual_columns)
        return "skip"

    names = [f"f{i}" for i in range(layout.field_count)]
    reader = pacsv.open_csv(
        src,
        read_options=pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            block_size=_BLOCK_BYTES,
            encoding="utf8" if encoding.startswith("utf-8") else encoding,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    schema = staged_schema(spec)
    # c_j = B_j - j - 2: data row i lies after blank line j iff i >= c_j.
    blank_offsets = np.array([b - j - 2 for j, b in enumerate(blank_lines)], dtype=np.int64)
    declared = spec.file_month(file_name)
    totals = _Totals()
    seen = 0
    staged = 0
    # zstd without dictionaries wrote fastest here (staged files are short-lived).
    with pq.ParquetWriter(tmp, schema, compression="zstd", use_dictionary=False) as writer:
        for batch in reader:
            if bad_rows:
                break
            index = np.arange(seen, seen + batch.num_rows, dtype=np.int64)
            lines = index + 2 + np.searchsorted(blank_offsets, index, side="right")
            seen += batch.num_rows
            out = _stage_batch(batch, pa.array(lines), layout, spec, file_name, declared, keep)
            if out.num_rows:
                _add_totals(totals, out, spec)
                writer.write_batch(out)
                staged += out.num_rows
    if bad_rows:
        raise _locate_bad_row(src, encoding, layout.field_count, file_name)
    return totals, staged, seen


def _stage_batch(
    batch: pa.RecordBatch,
    lines: pa.Array,
    layout: FileLayout,
    spec: DatasetSpec,
    file_name: str,
    declared: str | None,
    keep: pa.Array | None,
) -> pa.RecordBatch:
    """Map one parsed batch to the staged schema, checking months and unnamed fields."""
    for index in layout.unnamed:
        values = batch.column(index)
        at = _first_true(pc.not_equal(pc.utf8_trim_whitespace(values), ""))
        if at is not None:
            raise LandingFileError(
                file_name,
                f"value {values[at].as_py()!r} in field {index + 1}, which has no header name",
                row=lines[at].as_py(),
            )
    by_name = {name: batch.column(i) for i, name in layout.canonical.items()}
    arrays: list[pa.Array] = [
        by_name.get(c.name, pa.nulls(batch.num_rows, pa.string())) for c in spec.columns
    ]
    arrays.append(_extra_json(batch, layout))
    arrays.append(lines)
    if spec.month_column is not None:
        month = _month_of(by_name[spec.month_column], lines, spec.month_column, file_name)
        if declared is not None:
            at = _first_true(pc.not_equal(month, declared))
            if at is not None:
                raise LandingFileError(
                    file_name,
                    f"row of month {month[at].as_py()} in a file named for month {declared}",
                    row=lines[at].as_py(),
                    field=spec.month_column,
                )
        arrays.append(month)
    out = pa.RecordBatch.from_arrays(arrays, schema=staged_schema(spec))
    if keep is not None:
        out = out.filter(pc.is_in(out.column(MONTH_COLUMN), value_set=keep))
    return out


def _first_true(mask: pa.Array) -> int | None:
    """Index of the first true value of a boolean array (the first offending row), if any."""
    return pc.index(mask, True).as_py() if pc.any(mask).as_py() else None


def _month_of(values: pa.Array, lines: pa.Array, column: str, file_name: str) -> pa.Array:
    """The ``YYYYMM`` month of each row: the first six characters of ``column`` once
    spaces and date separators (``-``, ``/``, ``.``) are removed."""
    month = pc.utf8_slice_codeunits(values, 0, 6)
    valid = pc.match_substring_regex(month, _MONTH_PATTERN)
    if not pc.all(valid).as_py():
        # Slow path, only for batches that need it: ``2019-07-01``, `` 20190701``.
        compact = pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"[-/.]", "")
        month = pc.utf8_slice_codeunits(compact, 0, 6)
        valid = pc.match_substring_regex(month, _MONTH_PATTERN)
    at = _first_true(pc.invert(valid))
    if at is not None:
        raise LandingFileError(
            file_name,
            f"invalid month value {values[at].as_py()!r} in column {column} "
            "(expected a date or month starting YYYYMM)",
            row=lines[at].as_py(),
            field=column,
        )
    return month


def _extra_json(batch: pa.RecordBatch, layout: FileLayout) -> pa.Array:
    """``_extra``: a JSON object of the unknown columns' values, null if there are none."""
    if not layout.extra:
        return pa.nulls(batch.num_rows, pa.string())
    parts: list[pa.Array | str] = []
    for n, (index, name) in enumerate(sorted(layout.extra.items())):
        parts.append(("{" if n == 0 else ",") + json.dumps(name, ensure_ascii=False) + ':"')
        parts.append(_json_escape(batch.column(index)))
        parts.append('"')
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def _json_escape(values: pa.Array) -> pa.Array:
    """Escape text for the inside of a JSON string literal."""
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f\\\"]")).as_py():
        return pa.array([json.dumps(v, ensure_ascii=False)[1:-1] for v in values.to_pylist()])
    return values


def _add_totals(totals: _Totals, out: pa.RecordBatch, spec: DatasetSpec) -> None:
    """Add one staged batch's rows, sums and unparseable rows to the running totals."""
    n = out.num_rows
    month = out.column(MONTH_COLUMN) if spec.partitioned else pa.array([""] * n, pa.string())
    columns: dict[str, pa.Array] = {"m": month}
    bad = pa.array(np.zeros(n, dtype=bool))
    for sum_column in spec.sum_columns:
        parsed = [parse_count_array(out.column(s)) for s in spec.sum_sources(sum_column)]
        total = pa.array(np.zeros(n, dtype=np.int64))
        for values in parsed:
            total = pc.add(total, pc.fill_null(values, 0))
            bad = pc.or_(bad, pc.is_null(values))
        columns[sum_column] = total
    columns["_bad"] = pc.cast(bad, pa.int64())
    aggregates = [(c, "sum") for c in columns if c != "m"] + [("m", "count")]
    grouped = pa.table(columns).group_by("m").aggregate(aggregates).to_pylist()
    for row in grouped:
        key = row["m"]
        totals.months[key] = totals.months.get(key, 0) + row["m_count"]
        sums = totals.sums.setdefault(key, dict.fromkeys(spec.sum_columns, 0))
        for sum_column in spec.sum_columns:
            sums[sum_column] += row[f"{sum_column}_sum"]
        totals.unparseable[key] = totals.unparseable.get(key, 0) + row["_bad_sum"]


def _locate_bad_row(src: Path, encoding: str, expected: int, file_name: str) -> LandingFileError:
    """The error for the first data row whose field count is not ``expected``."""
    with io.TextIOWrapper(src.open("rb"), encoding=encoding, newline="") as text:
        reader = csv.reader(text)
        next(reader)
        for row in reader:
            if row and len(row) != expected:
                hint = " (truncated upload?)" if len(row) < expected else ""
                return LandingFileError(
                    file_name,
                    f"expected {expected} fields, found {len(row)}{hint}",
                    row=reader.line_num,
                )
    return LandingFileError(file_name, f"rows with other than {expected} fields")
