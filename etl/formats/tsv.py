"""Eurostat TSV decoder: SDMX 2.1 `format=TSV` answers and bulk downloads, gzip-compressed or plain.

Layout: a header `dim1,dim2,...,geo\\TIME_PERIOD` (or the pre-2023 `unit,hhtyp,geo\\time`, which has no
freq column: then dims has no freq, none is invented) followed by tab-separated period columns; then one
row per series, its first cell the comma-separated codes, then one cell per period. Header and body cells
may carry trailing spaces; lines may end in CRLF (a lone CR inside a line is read as a space).

Cells: `value flags`, `value`, `: flags` or `:`. A bare `:` is no row; `: c` is a row with a NULL value
and flag 'c'; flags are kept exactly as published ('bu' stays 'bu'). Missing is never 0.

Dataset code: the `dataset` argument, else the file name stem (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`).
TSV carries no update stamp, so `source_updated` is None (the fetcher's sidecar holds it).

How: pyarrow's CSV reader splits the body into string columns; Arrow compute kernels split each period
cell into its number and flags; the series keys are split on commas once per series. Rows come period
column by period column (all series for the first period, then the next).
"""
from __future__ import annotations

import gzip
import re
import string
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from etl.formats import Format, checked_code, dataset_from_name
from etl.model import DECODED_COLUMNS, FLAG_PATTERN, Decoded, DecodeError, flag_problem

GZIP_MAGIC = b"\x1f\x8b"
OWN_COLUMNS = ("geo", "unit")
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3 default "str"
TIME_LABELS = {"time_period", "time"}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")   # as Eurostat writes them: no exponent, no nan/inf
NUMBER_CHARACTERS = "0123456789.+-: "
FLAG_LETTERS = " " + string.ascii_lowercase
BARE_CELLS = (":", ": ")   # the usual spellings of a cell with neither value nor flag
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


@dataclass
class SeriesKeys:
    """Geo, unit and dims of every series line, each as an index into its distinct values."""

    geos: pa.Array                 # distinct geo codes
    geo_of: np.ndarray             # per line: index into geos
    units: pa.Array | None         # per combination of the non-geo codes: its unit (None: no unit dimension)
    dims: np.ndarray               # per combination: its dims dict (every dimension but geo and unit)
    combination_of: np.ndarray     # per line: index into units and dims


@dataclass
class Cells:
    """The published period cells: where each lies (series line, period column), its value and flags."""

    line: np.ndarray
    column: np.ndarray
    values: np.ndarray             # float64, NaN where ':'
    flags: np.ndarray              # object: the flag string, or None


# ---------------------------------------------------------------- text and header

def read_body(raw: bytes, source: str) -> tuple[str, bytes, int]:
    """(header line, text, start of the line after the header): gunzipped, BOM dropped; refuses empty text and HTML."""
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
    header_end = raw.find(b"\n")
    header_end = len(raw) if header_end < 0 else header_end
    try:
        return raw[:header_end].decode("utf-8").rstrip("\r"), raw, header_end + 1
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


def body_bytes(text: bytes, body_start: int, source: str) -> pa.Buffer:
    """The lines after the header (uncopied), trailing line ends dropped, checked to be UTF-8 and not empty."""
    end = len(text)
    while end > body_start and text[end - 1] in b"\r\n":
        end -= 1
    if end <= body_start:
        raise DecodeError(source, "line 2", "no series rows after the header (empty or truncated file)")
    if not text.isascii():
        try:
            text[body_start:end].decode("utf-8")
        except UnicodeDecodeError as err:
            line = text[body_start:body_start + err.start].count(b"\n") + 2
            raise DecodeError(source, f"line {line}", f"not UTF-8 text (byte {err.start} after the header)") from None
    return pa.py_buffer(text).slice(body_start, end - body_start)


def read_table(body: pa.Buffer, header: Header, source: str) -> pa.Table:
    """The body as a table of strings, column 0 the series keys, then one column per period; widths checked."""
    table, wrong = read_tab_separated(body, header.width)
    if wrong and b"\r" in body.to_pybytes().replace(b"\r\n", b"\n"):
        # pyarrow ends a line at a lone CR; here it is cell text, blank like a space
        spaced = body.to_pybytes().replace(b"\r\n", b"\n").replace(b"\r", b" ")
        table, wrong = read_tab_separated(pa.py_buffer(spaced), header.width)
    if wrong:
        first = wrong[0]
        raise DecodeError(source, f"line {first.number + 1}, column {min(first.actual_columns, header.width)}",
                          f"{first.actual_columns} cells, the header has {header.width} "
                          f"({len(wrong)} such line(s); truncated file?)")
    return table


def read_tab_separated(body: pa.Buffer, width: int) -> tuple[pa.Table, list]:
    """(table of the lines with `width` cells, the other lines as pyarrow InvalidRow records)."""
    wrong = []

    def skip(row) -> str:
        """Note a line of the wrong width."""
        wrong.append(row)
        return "skip"
    names = [str(i) for i in range(width)]
    table = pcsv.read_csv(
        pa.BufferReader(body),
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False,
                                        invalid_row_handler=skip),
        convert_options=pcsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                            null_values=list(BARE_CELLS), strings_can_be_null=True,
                                            check_utf8=False))
    return table, wrong


# ---------------------------------------------------------------- series keys

def split_geo(keys: pa.Array, header: Header, source: str) -> tuple[pa.Array | None, pa.Array, pa.Array | None]:
    """(codes before geo, geo, codes after geo) of every key, each part one string (None: the key has no such part).

    Eurostat writes geo last: one split at the last comma. Elsewhere a pattern of the expected code count.
    A key that cannot give the header's code count is refused, naming the line.
    """
    n, g = len(header.dimensions), header.dimensions.index("geo")
    if n == 1:
        return None, keys, None
    if g == n - 1:
        parts = pc.split_pattern(keys, ",", max_splits=1, reverse=True)
        refuse_wrong_count(pc.less(pc.list_value_length(parts), 2), keys, header, source)
        return pc.list_element(parts, 0), pc.list_element(parts, 1), None
    codes = lambda count: ",".join(["[^,]*"] * count)  # noqa: E731
    pattern = ("^" + (f"(?P<before>{codes(g)})," if g else "") + "(?P<geo>[^,]*)"
               + (f",(?P<after>{codes(n - 1 - g)})" if g < n - 1 else "") + "$")
    parts = pc.extract_regex(keys, pattern)
    refuse_wrong_count(pc.is_null(parts), keys, header, source)
    fields = {field.name: parts.field(field.name) for field in parts.type}
    return fields.get("before"), fields["geo"], fields.get("after")


def refuse_wrong_count(wrong: pa.Array | np.ndarray, keys: pa.Array, header: Header, source: str) -> None:
    """Raise naming the first marked line: its key does not give one code per dimension."""
    wrong = wrong if isinstance(wrong, np.ndarray) else wrong.to_numpy(zero_copy_only=False)
    if wrong.any():
        at = int(np.argmax(wrong))
        raise DecodeError(source, f"line {at + 2}, column 1", f"series key {keys[at].as_py()!r} does not give "
                          f"{len(header.dimensions)} codes for {header.dimensions}")


def refuse_empty_code(empty: np.ndarray, keys: pa.Array, source: str) -> None:
    """Raise naming the first marked line: its key has an empty code."""
    if empty.any():
        at = int(np.argmax(empty))
        raise DecodeError(source, f"line {at + 2}, column 1", f"series key {keys[at].as_py()!r} has an empty code")


def part_codes(part: pa.Array | None, count: int, keys: pa.Array, header: Header,
               source: str) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """(the distinct code lists of a key part, trimmed; index of each line's among them); counts and empties checked."""
    if part is None:
        return [()], np.zeros(len(keys), dtype=np.intp)
    encoded = part.dictionary_encode()
    of = encoded.indices.to_numpy()
    lists = [tuple(code.strip() for code in text.split(",")) for text in encoded.dictionary.to_pylist()]
    refuse_wrong_count(np.array([len(codes) != count for codes in lists])[of], keys, header, source)
    refuse_empty_code(np.array(["" in codes for codes in lists])[of], keys, source)
    return lists, of


def series_keys(keys: pa.ChunkedArray, header: Header, source: str) -> SeriesKeys:
    """Geo, unit and dims of every series line, codes trimmed (padded spellings are one code); a repeated series refused."""
    keys = keys.combine_chunks()
    g = header.dimensions.index("geo")
    before, geo, after = split_geo(keys, header, source)
    befores, before_of = part_codes(before, g, keys, header, source)
    afters, after_of = part_codes(after, len(header.dimensions) - 1 - g, keys, header, source)
    # one combination per distinct list of non-geo codes
    number: dict[tuple[str, ...], int] = {}
    pairs = before_of * len(afters) + after_of
    combination_of_pair = np.array([number.setdefault(b + a, len(number)) for b in befores for a in afters])
    combination_of = combination_of_pair[pairs]
    spelled = geo.dictionary_encode()
    trimmed = pc.utf8_trim_whitespace(spelled.dictionary).dictionary_encode()
    geo_of = trimmed.indices.to_numpy()[spelled.indices.to_numpy()]
    geos = trimmed.dictionary
    refuse_empty_code(geo_of == geos.index("").as_py(), keys, source)
    series = combination_of * len(geos) + geo_of
    if len(pc.unique(pa.array(series))) < len(series):
        refuse_repeated_series(series, keys, source)
    non_geo = [dim for dim in header.dimensions if dim != "geo"]
    dims = np.empty(len(number), dtype=object)
    dims[:] = [{dim: code for dim, code in zip(non_geo, combo) if dim not in OWN_COLUMNS} for combo in number]
    units = pa.array([combo[non_geo.index("unit")] for combo in number], pa.large_string()) \
        if "unit" in non_geo else None
    # large_string: what pandas' str arrays hold, so the frame takes the codes without a cast
    return SeriesKeys(geos.cast(pa.large_string()), geo_of, units, dims, combination_of)


def refuse_repeated_series(series: np.ndarray, keys: pa.Array, source: str) -> None:
    """Raise naming the first line whose series (codes trimmed) is on an earlier line too."""
    order = np.argsort(series, kind="stable")
    again = np.flatnonzero(series[order][1:] == series[order][:-1])
    at = int(order[again + 1].min())
    first = int(order[np.searchsorted(series[order], series[at])])
    key = ",".join(code.strip() for code in keys[at].as_py().split(","))
    raise DecodeError(source, f"line {at + 2}, column 1",
                      f"duplicated series {key!r} (first at line {first + 2}): duplicated observations")


# ---------------------------------------------------------------- cells

def first_true(mask: pa.Array | pa.ChunkedArray) -> int:
    """Index of the first True in a boolean array."""
    return int(np.argmax(mask.to_numpy(zero_copy_only=False)))


def read_cells(table: pa.Table, header: Header, source: str) -> Cells:
    """Value and flags of every period cell that is not a bare ':'; unreadable cells refused, naming the first.

    Each distinct spelling is read once: the cells take their value and flags from it.
    """
    cells = pa.chunked_array([chunk for column in table.columns[1:] for chunk in column.chunks], pa.string())
    published = pc.is_valid(cells).to_numpy(zero_copy_only=False)   # bare ':' cells were read as nulls
    column, line = np.divmod(np.flatnonzero(published), table.num_rows)
    # one dictionary for every chunk (chunks of one CSV block each: string offsets cannot overflow)
    encoded = pc.drop_null(cells).dictionary_encode().combine_chunks()
    spelling_of = encoded.indices.to_numpy()
    values, flags = read_spellings(encoded.dictionary, spelling_of, line, column, header, source)
    values, flags = values[spelling_of], flags[spelling_of]
    kept = ~np.isnan(values) | (flags != None)  # noqa: E711 (elementwise on objects)
    if not kept.all():   # a bare ':' spelled another way (':  ') is no row either
        line, column, values, flags = line[kept], column[kept], values[kept], flags[kept]
    return Cells(line, column, values, flags)


def read_spellings(spellings: pa.Array, spelling_of: np.ndarray, line: np.ndarray, column: np.ndarray,
                   header: Header, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(value, flags or None) of each distinct cell spelling; one that is not `value flags` refused at its first cell."""
    text = pc.ascii_trim_whitespace(spellings)
    # the number is what is left when flag letters are trimmed off the end; the flags, when the number is
    # trimmed off the front: any other spelling fails the cast or the flag check below
    number = pc.ascii_rtrim(text, characters=FLAG_LETTERS)
    missing = pc.equal(number, ":")
    try:
        values = pc.cast(pc.if_else(missing, pa.scalar(None, number.type), number), pa.float64())
        readable = pc.all(pc.is_finite(values)).as_py() is not False
    except pa.ArrowInvalid:
        readable = False
    if not readable:
        bad = np.array([not (gone or NUMBER.match(n)) for n, gone in zip(number.to_pylist(), missing.to_pylist())])
        at = first_cell(bad[spelling_of], line, column)
        raise DecodeError(source, cell_place(line[at], column[at], header),
                          f"unparsable number {spellings[spelling_of[at]].as_py()!r}")
    flags = pc.ascii_ltrim(text, characters=NUMBER_CHARACTERS).dictionary_encode()
    texts = np.array([flag or None for flag in flags.dictionary.to_pylist()], dtype=object)
    flag_of = flags.indices.to_numpy()
    for code, flag in enumerate(texts):
        if flag and flag_problem(flag):
            refuse_flag(flag, (flag_of == code)[spelling_of], line, column, header, source)
    return values.to_numpy(zero_copy_only=False), texts[flag_of]


def cell_place(line: int, column: int, header: Header) -> str:
    """'line L, column C (period)' of a period cell, given its series line and period column."""
    return f"line {line + 2}, column {column + 2} ({header.periods[column]})"


def first_cell(mask: np.ndarray, line: np.ndarray, column: np.ndarray) -> int:
    """Index of the first marked cell in reading order (line by line, left to right)."""
    marked = np.flatnonzero(mask)
    return int(marked[np.lexsort((column[marked], line[marked]))[0]])


def refuse_flag(flag: str, mask: np.ndarray, line: np.ndarray, column: np.ndarray, header: Header,
                source: str) -> None:
    """Raise naming the first cell with this flag text, which is not a combination of known Eurostat letters."""
    at = first_cell(mask, line, column)
    reason = flag_problem(flag)
    if not FLAG_PATTERN.match(flag):
        reason = f"unreadable cell, expected 'value flags' (after the number: {flag!r})"
    raise DecodeError(source, cell_place(line[at], column[at], header), reason)


# ---------------------------------------------------------------- assembling rows

def dataset_of(source: str, expected: str | None) -> str:
    """The caller's dataset code, else the file name stem."""
    if expected:
        return checked_code(expected.lower(), source)
    return dataset_from_name(source, FILE_SUFFIXES)


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one Eurostat TSV body (gzip or plain) into tidy observations (see the module docstring)."""
    code = dataset_of(source, dataset)
    header_line, text, body_start = read_body(raw, source)
    header = read_header(header_line, source)
    table = read_table(body_bytes(text, body_start, source), header, source)
    # a key ':' was read as a null like a bare cell
    keys = series_keys(pc.fill_null(table.column(0), ":"), header, source)
    cells = read_cells(table, header, source)
    frame = observations_frame(code, header, keys, cells)
    return Decoded(dataset=code, observations=frame, source_updated=None)


def text_column(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An arrow string array as a pandas (default) str array without copying."""
    return pd.arrays.ArrowStringArray(values.cast(pa.large_string()), dtype=TEXT)


def observations_frame(code: str, header: Header, keys: SeriesKeys, cells: Cells) -> pd.DataFrame:
    """The DECODED_COLUMNS frame of the published cells."""
    n = len(cells.line)
    combination = keys.combination_of[cells.line]
    unit = (text_column(keys.units.take(combination)) if keys.units is not None
            else pd.Series([None] * n, dtype=object))
    columns = {
        "dataset": text_column(pa.repeat(pa.scalar(code, pa.large_string()), n)),
        "geo": text_column(keys.geos.take(keys.geo_of[cells.line])),
        "period": text_column(pa.array(header.periods, pa.large_string()).take(cells.column)),
        "unit": unit,
        "dims": keys.dims[combination],
        "value": cells.values,
        # object dtype keeps None for "no flag" (pandas would otherwise infer str and write NaN)
        "flags": pd.Series(cells.flags, dtype=object, copy=False),
    }
    assert list(columns) == DECODED_COLUMNS, f"frame columns {list(columns)}"
    return pd.DataFrame(columns, copy=False)   # no columns=: it would reindex


FORMAT = Format("tsv", (".tsv", ".tsv.gz"), "text/tab-separated-values", decode, live=("tsv",))
