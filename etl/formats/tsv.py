"""Eurostat TSV decoder: SDMX 2.1 `format=TSV` answers and bulk downloads, gzip-compressed or plain.

Layout: a header `dim1,dim2,...,geo\\TIME_PERIOD` (or the pre-2023 `unit,hhtyp,geo\\time`, which has no
freq column: then dims has no freq, none is invented) followed by tab-separated period columns; then one
row per series, its first cell the comma-separated codes, then one cell per period. Header and body cells
may carry trailing spaces; lines may end in CRLF.

Cells: `value flags`, `value`, `: flags` or `:`. A bare `:` is no row; `: c` is a row with a NULL value
and flag 'c'; flags are kept exactly as published ('bu' stays 'bu'). Missing is never 0.

Dataset code: the `dataset` argument, else the file name stem (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`).
TSV carries no update stamp, so `source_updated` is None (the fetcher's sidecar holds it).

Speed: lines, cells and codes are split and every cell parsed column-wise with pyarrow compute (splits,
one number check, one cast), so nothing loops over cells in Python; only series keys build dicts.
"""
from __future__ import annotations

import gzip
import re
import string
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.model import DECODED_COLUMNS, FLAG_MEANINGS, FLAG_PATTERN, Decoded, DecodeError

GZIP_MAGIC = b"\x1f\x8b"
OWN_COLUMNS = ("geo", "unit")
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3 default "str"
TIME_LABELS = {"time_period", "time"}
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"   # as Eurostat writes them: no exponent, no nan/inf
NUMBER_CHARACTERS = "0123456789.+-: "
DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
FILE_SUFFIXES = (".gz", ".tsv", ".txt")


@dataclass
class Header:
    """What the first line says: series dimensions, their order, and the period columns."""

    dimensions: list[str]
    periods: list[str]

    @property
    def width(self) -> int:
        """Cells per line: the series key plus one per period."""
        return 1 + len(self.periods)


# ---------------------------------------------------------------- text and header

def read_body(raw: bytes, source: str) -> tuple[str, bytes]:
    """(header line, the bytes after it) of a body, gunzipped when gzip, BOM dropped; refuses empty bodies and HTML."""
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DecodeError(source, "gzip stream", f"truncated or corrupt gzip: {err}") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    head = raw[:512].lstrip().lower()
    if not head:
        raise DecodeError(source, "line 1", "empty file")
    if head.startswith(b"<") or b"<html" in head or b"<!doctype" in head:
        raise DecodeError(source, "line 1", "an HTML/XML page, not TSV (error page or login wall?)")
    header, _, body = raw.partition(b"\n")
    try:
        return header.decode("utf-8").rstrip("\r"), body
    except UnicodeDecodeError as err:
        raise DecodeError(source, f"line 1, byte {err.start}", "not UTF-8 text") from None


def read_header(line: str, source: str) -> Header:
    """The dimensions and periods of the header line."""
    cells = line.split("\t")
    key, sep, time_label = cells[0].partition("\\")
    if not sep or time_label.strip().lower() not in TIME_LABELS:
        raise DecodeError(source, "line 1, column 1",
                          f"not a Eurostat TSV header (expected 'dim,...,geo\\TIME_PERIOD', got {cells[0][:60]!r})")
    dimensions = [d.strip() for d in key.split(",")]
    if not all(dimensions) or len(set(dimensions)) != len(dimensions) or "geo" not in dimensions:
        raise DecodeError(source, "line 1, column 1", f"bad dimension list {dimensions} (empty, repeated or no geo)")
    periods = [p.strip() for p in cells[1:]]
    if not periods:
        raise DecodeError(source, "line 1", "no period columns")
    for column, period in enumerate(periods, start=2):
        if not period or period in periods[:column - 2]:
            raise DecodeError(source, f"line 1, column {column}", f"empty or repeated period {period!r}")
    return Header(dimensions, periods)


def split_body(body: bytes, header: Header, source: str) -> tuple[pa.Array, pa.Array]:
    """(series key per line, every period cell row-major) of the lines after the header, widths checked."""
    body = body.rstrip(b"\r\n")
    if not body:
        raise DecodeError(source, "line 2", "no series rows after the header (empty or truncated file)")
    try:
        # the cast validates UTF-8 in C; a CR left by CRLF line ends stays on the last cell and is trimmed there
        text = pa.array([body], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            line = body[:err.start].count(b"\n") + 2
            raise DecodeError(source, f"line {line}", f"not UTF-8 text (byte {err.start} after the header)") from None
        raise
    lines = pc.list_flatten(pc.split_pattern(text, "\n"))
    rows = pc.split_pattern(lines, "\t")
    widths = np.diff(rows.offsets.to_numpy())
    wrong = np.flatnonzero(widths != header.width)
    if len(wrong):
        at = int(wrong[0])
        raise DecodeError(source, f"line {at + 2}, column {min(int(widths[at]), header.width)}",
                          f"{int(widths[at])} cells, the header has {header.width} "
                          f"({len(wrong)} such line(s); truncated file?)")
    words = pc.list_flatten(rows)
    grid = np.arange(len(words)).reshape(len(lines), header.width)
    return words.take(pa.array(grid[:, 0])), words.take(pa.array(grid[:, 1:].ravel()))


# ---------------------------------------------------------------- series keys

def series_codes(keys: pa.Array, header: Header, source: str) -> dict[str, pa.Array]:
    """The code columns of the series keys, checked for count, emptiness and repeats."""
    n_dims = len(header.dimensions)
    parts = pc.split_pattern(keys, ",")
    wrong = np.flatnonzero(np.diff(parts.offsets.to_numpy()) != n_dims)
    if len(wrong):
        at = int(wrong[0])
        raise DecodeError(source, f"line {at + 2}, column 1",
                          f"series key {keys[at].as_py()!r} does not give {n_dims} codes for {header.dimensions}")
    raw_codes = pc.list_flatten(parts)
    codes = pc.utf8_trim_whitespace(raw_codes)
    empty = pc.equal(codes, "")
    if pc.any(empty).as_py():
        at = first_bad(empty.to_numpy(zero_copy_only=False)) // n_dims
        raise DecodeError(source, f"line {at + 2}, column 1", f"series key {keys[at].as_py()!r} has an empty code")
    grid = np.arange(len(codes)).reshape(len(keys), n_dims)
    columns = {dim: codes.take(pa.array(grid[:, i])) for i, dim in enumerate(header.dimensions)}
    if pc.sum(pc.binary_length(codes)) != pc.sum(pc.binary_length(raw_codes)):
        # rare: codes padded with spaces; compare keys by their stripped codes
        keys = pc.binary_join_element_wise(*columns.values(), pa.scalar(",", codes.type))
    if len(pc.unique(keys)) != len(keys):
        refuse_repeated_series(keys.to_pylist(), source)
    return columns


def refuse_repeated_series(keys: list[str], source: str) -> None:
    """Raise naming the first series key that appears on two lines."""
    seen: dict[str, int] = {}
    for row, key in enumerate(keys):
        if key in seen:
            raise DecodeError(source, f"line {row + 2}, column 1",
                              f"duplicated series {key!r} (first at line {seen[key] + 2}): duplicated observations")
        seen[key] = row


def series_dims(columns: dict[str, pa.Array], n_series: int) -> np.ndarray:
    """One dims dict per series (every dimension but geo and unit); series sharing them share one dict."""
    other = [dim for dim in columns if dim not in OWN_COLUMNS]
    dims = np.empty(n_series, dtype=object)
    if not other:
        dims[:] = [{} for _ in range(n_series)]
        return dims
    separator = "\x1f"  # codes never hold it; a comma would do too, as keys were split on commas
    joined = pc.binary_join_element_wise(*(columns[d] for d in other), pa.scalar(separator, columns[other[0]].type))
    combos = joined.dictionary_encode()
    unique = np.empty(len(combos.dictionary), dtype=object)
    unique[:] = [dict(zip(other, combo.split(separator))) for combo in combos.dictionary.to_pylist()]
    return unique[combos.indices.to_numpy()]


def text_column(values: pa.Array) -> pd.Series:
    """An arrow string array as a pandas (default) str Series without copying."""
    return pd.Series(values, dtype=TEXT)


# ---------------------------------------------------------------- cells

def first_bad(mask: pa.Array | np.ndarray) -> int:
    """Index of the first True in a boolean mask."""
    return int(np.argmax(np.asarray(mask, dtype=bool)))


def cell_place(index: int, header: Header) -> str:
    """'line L, column C (period)' of a flat cell index."""
    row, col = divmod(index, len(header.periods))
    return f"line {row + 2}, column {col + 2} ({header.periods[col]})"


def parse_cells(cells: pa.Array, header: Header, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (NaN when ':'), flags (None when none) and a has-flags mask of every cell, validated column-wise."""
    trimmed = pc.ascii_trim_whitespace(cells)
    # A cell is digits (or ':') then flag letters: trimming letters off the end leaves the value, trimming
    # the number off the front leaves the flags; anything else makes the cast or the flag check fail.
    text = pc.ascii_rtrim(trimmed, characters=" " + string.ascii_lowercase)
    missing = pc.equal(text, ":")
    try:
        values = pc.cast(pc.if_else(missing, pa.scalar(None, text.type), text), pa.float64())
    except pa.ArrowInvalid:
        values = None
    # Arrow's parser also reads 'nan'/'inf', which Eurostat never publishes: only ':' may be missing.
    if values is None or not pc.all(pc.is_finite(values)).as_py():
        bad = pc.invert(pc.or_(missing, pc.match_substring_regex(text, NUMBER))).to_numpy(zero_copy_only=False)
        assert bad.any(), f"{source}: Arrow refused a number the NUMBER pattern accepts"
        at = first_bad(bad)
        raise DecodeError(source, cell_place(at, header), f"unparsable number {cells[at].as_py()!r}")
    tails = pc.ascii_ltrim(trimmed, characters=NUMBER_CHARACTERS)
    has_flags = pc.not_equal(tails, "").to_numpy(zero_copy_only=False)
    with_flags = np.flatnonzero(has_flags)
    flags = np.full(len(cells), None, dtype=object)
    flags[with_flags] = tails.take(pa.array(with_flags)).to_numpy(zero_copy_only=False)
    check_known_flags(flags, with_flags, header, source)
    return values.to_numpy(zero_copy_only=False), flags, has_flags


def check_known_flags(flags: np.ndarray, with_flags: np.ndarray, header: Header, source: str) -> None:
    """Refuse flag strings that are not combinations of known Eurostat letters, naming the first cell."""
    for flag in set(flags[with_flags].tolist()):
        if not FLAG_PATTERN.match(flag) or not set(flag) <= FLAG_MEANINGS.keys():
            at = int(with_flags[first_bad(flags[with_flags] == flag)])
            reason = (f"unknown flag {flag!r} (known: {''.join(sorted(FLAG_MEANINGS))})" if FLAG_PATTERN.match(flag)
                      else f"unreadable cell, expected 'value flags' (after the number: {flag!r})")
            raise DecodeError(source, cell_place(at, header), reason)


# ---------------------------------------------------------------- assembling rows

def dataset_of(source: str, expected: str | None) -> str:
    """The caller's dataset code, else the file name stem."""
    code = expected.lower() if expected else Path(source).name.lower()
    while code.endswith(FILE_SUFFIXES):
        code = code.rsplit(".", 1)[0]
    if not DATASET_CODE.match(code):
        raise DecodeError(source, "dataset code", f"no usable dataset code (got {code!r}); pass dataset=")
    return code


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one Eurostat TSV body (gzip or plain) into tidy observations (see the module docstring)."""
    code = dataset_of(source, dataset)
    header_line, body = read_body(raw, source)
    header = read_header(header_line, source)
    keys, cells = split_body(body, header, source)
    columns = series_codes(keys, header, source)
    dims = series_dims(columns, len(keys))
    values, flags, has_flags = parse_cells(cells, header, source)

    kept = np.flatnonzero(~np.isnan(values) | has_flags)
    row, col = np.divmod(kept, len(header.periods))
    rows = pa.array(row)
    # flags were checked cell by cell in parse_cells (naming line and column), so no check_flags pass here
    frame = pd.DataFrame({
        "dataset": text_column(pa.array([code]).take(pa.array(np.zeros(len(kept), dtype=np.int64)))),
        "geo": text_column(columns["geo"].take(rows)),
        "period": text_column(pa.array(header.periods).take(pa.array(col))),
        "unit": text_column(columns["unit"].take(rows)) if "unit" in columns else pd.Series([None] * len(kept), dtype=object),
        "dims": dims[row],
        "value": values[kept],
        # object dtype keeps None for "no flag" (pandas would otherwise infer str and write NaN)
        "flags": pd.Series(flags[kept], dtype=object),
    }, columns=DECODED_COLUMNS, copy=False)
    return Decoded(dataset=code, observations=frame, source_updated=None)
