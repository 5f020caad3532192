"""Eurostat TSV decoder: SDMX 2.1 `format=TSV` answers and bulk downloads, gzip-compressed or plain.

Layout: a header `dim1,dim2,...,geo\\TIME_PERIOD` (or the pre-2023 `unit,hhtyp,geo\\time`, which has no
freq column: then dims has no freq, none is invented) followed by tab-separated period columns; then one
row per series, its first cell the comma-separated codes, then one cell per period. Header and body cells
may carry trailing spaces; lines may end in CRLF.

Cells: `value flags`, `value`, `: flags` or `:`. A bare `:` is no row; `: c` is a row with a NULL value
and flag 'c'; flags are kept exactly as published ('bu' stays 'bu'). Missing is never 0.

Dataset code: the `dataset` argument, else the file name stem (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`).
TSV carries no update stamp, so `source_updated` is None (the fetcher's sidecar holds it).

Speed: the body is never split into Python strings. NumPy finds the tabs, newlines and key commas once,
which gives every cell and code as a byte range of the body; Arrow string arrays are laid over those
ranges without copying the text (`byte_ranges`). Bare `:` cells (most of a typical file) are dropped by
looking at their first bytes, and only the rest go through the Arrow number cast and flag checks. Only
the distinct dimension combinations become Python dicts, shared by every row of their series.
"""
from __future__ import annotations

import gzip
import string
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.formats import Format, checked_code, dataset_from_name
from etl.model import DECODED_COLUMNS, FLAG_PATTERN, Decoded, DecodeError, flag_problem

GZIP_MAGIC = b"\x1f\x8b"
OWN_COLUMNS = ("geo", "unit")
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3 default "str"
TIME_LABELS = {"time_period", "time"}
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"   # as Eurostat writes them: no exponent, no nan/inf
NUMBER_CHARACTERS = "0123456789.+-: "
FILE_SUFFIXES = (".gz", ".tsv", ".txt")

TAB, NEWLINE, CR, COMMA, COLON, SPACE = (ord(c) for c in "\t\n\r,: ")
# Arrow's ascii_trim_whitespace set: space, \t, \n, \v, \f, \r
ASCII_WHITESPACE = np.zeros(256, dtype=bool)
ASCII_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True
# in distinct key texts joined by (and wrapped in) newlines: whitespace (a padded code), or an empty code
UNCLEAN_CODES = (" ", "\t", "\r", "\f", "\v", ",,", "\n,", ",\n", "\n\n")


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
class Grid:
    """Where each cell of the body lies: byte ranges [starts, ends) per line and column (column 0 the key)."""

    data: pa.Buffer          # the whole text (header included), ending in a line end
    octets: np.ndarray       # the same bytes as uint8
    ascii: bool
    starts: np.ndarray       # (lines, header.width) int64
    ends: np.ndarray         # the delimiter after each cell

    @property
    def lines(self) -> int:
        """Series lines in the body."""
        return len(self.starts)

    def text(self, start: int, end: int) -> str:
        """The text of one byte range (for error messages)."""
        return self.data[start:end].to_pybytes().decode("utf-8")


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
    # no partition: the body stays inside `raw`, uncopied
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


def check_utf8(raw: bytes, start: int, end: int, source: str) -> bool:
    """Refuse a body raw[start:end] that is not UTF-8, naming the line; True when all ASCII (the usual case)."""
    if raw.isascii():
        return True
    body = raw[start:end]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        line = body[:err.start].count(b"\n") + 2
        raise DecodeError(source, f"line {line}", f"not UTF-8 text (byte {err.start} after the header)") from None
    return False


def split_body(raw: bytes, body_start: int, header: Header, source: str) -> Grid:
    """The byte range of every cell of the lines after the header, widths checked."""
    end = len(raw)
    while end > body_start and raw[end - 1] in b"\r\n":
        end -= 1
    if end <= body_start:
        raise DecodeError(source, "line 2", "no series rows after the header (empty or truncated file)")
    ascii_only = check_utf8(raw, body_start, end, source)
    if end == len(raw):
        raw += b"\n"   # the last line needs a line end (the only copy of the text, and a rare one)
    octets = np.frombuffer(raw, dtype=np.uint8)
    # one pass for every byte <= CR, up to the body's end, which is a CR or LF and so ends the last line
    scan = octets[body_start:end + 1]
    low_mask = pooled_empty(len(scan), bool)
    np.less_equal(scan, CR, out=low_mask)
    low = pooled_flatnonzero(low_mask, body_start)
    kinds = octets[low]
    keep = (kinds == TAB) | (kinds == NEWLINE)
    keep[-1] = True
    delimiters = low   # other control bytes and CRs stay cell text
    if not keep.all():
        delimiters = np.compress(keep, low, out=pooled_empty(int(np.count_nonzero(keep)), low.dtype))
    line_ends = np.flatnonzero(octets[delimiters] != TAB)
    widths = np.diff(line_ends, prepend=-1)
    wrong = np.flatnonzero(widths != header.width)
    if len(wrong):
        at = int(wrong[0])
        raise DecodeError(source, f"line {at + 2}, column {min(int(widths[at]), header.width)}",
                          f"{int(widths[at])} cells, the header has {header.width} "
                          f"({len(wrong)} such line(s); truncated file?)")
    ends = delimiters.reshape(len(line_ends), header.width)
    starts = pooled_empty(len(delimiters), delimiters.dtype)
    starts[0] = body_start
    np.add(delimiters[:-1], 1, out=starts[1:])
    starts = starts.reshape(ends.shape)
    return Grid(pa.py_buffer(raw), octets, ascii_only, starts, ends)


def pooled_empty(n: int, dtype) -> np.ndarray:
    """An uninitialised writable array in Arrow's memory pool rather than glibc's heap.

    Why: the grid's arrays live for the whole decode at the top of the heap; glibc hands freed top-of-heap
    pages back to the OS, so the next decode page-faulted ~290 pages back in (a third of its time when run
    beside other work). Arrow's default allocator (mimalloc) keeps freed pages for reuse; where a process picks
    the system pool (ARROW_DEFAULT_MEMORY_POOL=system, as the dashboard does) this is plain malloc again.
    """
    dtype = np.dtype(dtype)
    return np.frombuffer(pa.allocate_buffer(max(n, 1) * dtype.itemsize), dtype)[:n]


SCAN_BLOCK = 1 << 14   # bytes per block of pooled_flatnonzero: its temporaries stay small heap chunks


def pooled_flatnonzero(mask: np.ndarray, offset: int) -> np.ndarray:
    """np.flatnonzero(mask) + offset as int64, written into a pooled array block by block."""
    found = pooled_empty(int(np.count_nonzero(mask)), np.int64)
    at = 0
    for begin in range(0, len(mask), SCAN_BLOCK):
        block = np.flatnonzero(mask[begin:begin + SCAN_BLOCK])
        np.add(block, begin + offset, out=found[at:at + len(block)])
        at += len(block)
    assert at == len(found), f"found {at} of {len(found)} marked bytes"
    return found


def spread_ranges(grid: Grid, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """The byte ranges [starts[i], ends[i]) of the body at the even positions of a string array, nulls between.

    Ranges must be ascending and disjoint. Element 2i is range i (null where not `valid`), element 2i+1 the
    gap up to the next range, always null: Arrow kernels skip nulls, so this reads the body without copying.
    """
    n = len(starts)
    assert n > 0, "spread_ranges needs at least one range"
    large = grid.data.size >= 2**31 - 1
    offsets = np.empty(2 * n, dtype=np.int64 if large else np.int32)
    offsets[0::2] = starts
    offsets[1::2] = ends
    present = np.zeros(2 * n - 1, dtype=bool)
    present[0::2] = True if valid is None else valid
    bitmap = np.packbits(present, bitorder="little")
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(2 * n - 1, pa.py_buffer(offsets), grid.data, pa.py_buffer(bitmap))


def byte_ranges(grid: Grid, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The byte ranges [starts[i], ends[i]) of the body as a string array; ranges ascending and disjoint."""
    n = len(starts)
    if n == 0:
        return pa.array([], pa.string())
    # taking the even elements copies just the wanted bytes, in C
    return spread_ranges(grid, starts, ends).take(pa.array(np.arange(0, 2 * n - 1, 2)))


def even_lengths(strings: pa.Array) -> np.ndarray:
    """Byte lengths of the even elements of a spread string array (read off its offsets)."""
    width = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(strings.buffers()[1], dtype=width)
    offsets = offsets[strings.offset:strings.offset + len(strings) + 1]
    return (offsets[1::2] - offsets[0:-1:2]).astype(np.int64)


# ---------------------------------------------------------------- series keys

def key_commas(grid: Grid, header: Header, source: str) -> np.ndarray:
    """Positions of the commas inside every series key, shape (lines, dimensions - 1), counts checked."""
    n_dims = len(header.dimensions)
    key_starts, key_ends = grid.starts[:, 0], grid.ends[:, 0]
    commas = np.flatnonzero(grid.octets == COMMA)
    first = np.searchsorted(commas, key_starts)
    counts = np.searchsorted(commas, key_ends) - first
    wrong = np.flatnonzero(counts != n_dims - 1)
    if len(wrong):
        at = int(wrong[0])
        key = grid.text(int(key_starts[at]), int(key_ends[at]))
        raise DecodeError(source, f"line {at + 2}, column 1",
                          f"series key {key!r} does not give {n_dims} codes for {header.dimensions}")
    return commas[first[:, None] + np.arange(n_dims - 1)]


@dataclass
class SeriesKeys:
    """Geo, unit and dims of every series line, each as an index into its distinct values."""

    geos: pa.Array                 # distinct geo codes
    geo_of: np.ndarray             # per line: index into geos
    units: pa.Array | None         # per combination of the non-geo codes: its unit (None: no unit dimension)
    dims: np.ndarray               # per combination: its dims dict (every dimension but geo and unit)
    combination_of: np.ndarray     # per line: index into units and dims


def series_keys(grid: Grid, header: Header, source: str) -> SeriesKeys:
    """The codes of every series key, checked for count, emptiness, padding and repeats."""
    geo_starts = last_geo_starts(grid, header)
    if geo_starts is not None:
        # code counts are checked on the distinct texts; any doubt and the comma reading below names the line
        keys = keys_around_geo(grid, header, geo_starts, grid.ends[:, 0])
        if keys is not None:
            return keys
    commas = key_commas(grid, header, source)
    keys = distinct_keys(grid, header, commas)
    if keys is None:
        # padded, empty or repeated codes somewhere: the code-by-code reading trims, or names the line
        return keys_code_by_code(grid, header, commas, source)
    return keys


def last_geo_starts(grid: Grid, header: Header, window: int = 16) -> np.ndarray | None:
    """Where geo starts in every key when geo is the last of several dimensions (the usual layout), else None.

    Geo codes are short, so the last comma of a key lies within its last `window` bytes: looking only there
    spares a search of the whole text for commas. None when geo is not last or some key has no comma there.
    """
    if header.dimensions[-1] != "geo" or len(header.dimensions) < 2:
        return None
    key_starts, key_ends = grid.starts[:, 0], grid.ends[:, 0]
    geo_starts = np.empty_like(key_ends)
    pending = np.arange(len(key_ends))   # lines whose last comma is not found yet
    # one byte further back per step, for the lines still looking: most geo codes are 2 letters
    for back in range(1, window + 1):
        places = key_ends[pending] - back
        # (a place before the text's start wraps to its end: the key-start test drops it either way)
        found = (grid.octets[places] == COMMA) & (places >= key_starts[pending])
        geo_starts[pending[found]] = places[found] + 1
        pending = pending[~found]
        if not len(pending):
            return geo_starts
    return None


def distinct_keys(grid: Grid, header: Header, commas: np.ndarray) -> SeriesKeys | None:
    """SeriesKeys read from the distinct (codes before geo, codes after geo) pairs; None unless every code is clean."""
    g = header.dimensions.index("geo")
    geo_starts = grid.starts[:, 0] if g == 0 else commas[:, g - 1] + 1
    geo_ends = grid.ends[:, 0] if g == len(header.dimensions) - 1 else commas[:, g]
    return keys_around_geo(grid, header, geo_starts, geo_ends)


def keys_around_geo(grid: Grid, header: Header, geo_starts: np.ndarray, geo_ends: np.ndarray) -> SeriesKeys | None:
    """SeriesKeys given where geo lies in every key; None unless every code is clean and counted right.

    The code count is checked on the distinct texts, so a caller need not have counted commas.
    """
    g = header.dimensions.index("geo")
    key_starts, key_ends = grid.starts[:, 0], grid.ends[:, 0]
    geo_texts, geo_of = distinct(grid, geo_starts, geo_ends)
    parts = []   # the codes before geo and after it, as (distinct texts, index per line)
    if g > 0:
        parts.append(distinct(grid, key_starts, geo_starts - 1))
    if g < len(header.dimensions) - 1:
        parts.append(distinct(grid, geo_ends + 1, key_ends))
    combination_of, pairs = combine(parts, grid.lines)
    texts = [",".join(pair) for pair in pairs]
    # every code non-empty and unpadded: no whitespace anywhere, no empty text, no ',,' or edge comma
    joined = "\n" + "\n".join(geo_texts + texts) + "\n"
    if not grid.ascii or any(mark in joined for mark in UNCLEAN_CODES):
        return None
    non_geo = [dim for dim in header.dimensions if dim != "geo"]
    other = [(dim, at) for at, dim in enumerate(non_geo) if dim not in OWN_COLUMNS]
    split = [text.split(",") for text in texts]
    if any(len(codes) != len(non_geo) for codes in split) or any("," in geo for geo in geo_texts):
        return None
    dims = np.empty(len(split), dtype=object)
    dims[:] = [{dim: codes[at] for dim, at in other} for codes in split]
    units = [codes[non_geo.index("unit")] for codes in split] if "unit" in non_geo else None
    series = np.sort(combination_of.astype(np.int64) * len(geo_texts) + geo_of)
    if (series[1:] == series[:-1]).any():
        return None
    # large_string: what pandas' str arrays hold, so the frame takes them without a cast (a copy)
    return SeriesKeys(pa.array(geo_texts, pa.large_string()), geo_of,
                      None if units is None else pa.array(units, pa.large_string()), dims, combination_of)


def distinct(grid: Grid, starts: np.ndarray, ends: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(distinct texts, index of each range's text among them) of byte ranges of the body."""
    encoded = spread_ranges(grid, starts, ends).dictionary_encode()
    return encoded.dictionary.to_pylist(), even_indices(encoded)


def even_indices(encoded: pa.DictionaryArray) -> np.ndarray:
    """The dictionary indices of the even elements of an encoded spread array (its odd ones are null)."""
    indices = encoded.indices
    assert indices.type == pa.int32(), f"dictionary indices are {indices.type}"
    return np.frombuffer(indices.buffers()[1], dtype=np.int32)[indices.offset:indices.offset + len(indices)][0::2]


def combine(parts: list[tuple[list[str], np.ndarray]], n: int) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """(index per line, distinct tuples) of the per-line combination of one or two distinct-text columns."""
    if not parts:
        return np.zeros(n, dtype=np.int64), [()]
    if len(parts) == 1:
        texts, index = parts[0]
        return index, [(text,) for text in texts]
    (first, first_of), (second, second_of) = parts
    pair_of = first_of.astype(np.int64) * len(second) + second_of
    pairs, combination_of = np.unique(pair_of, return_inverse=True)
    return combination_of, [(first[p // len(second)], second[p % len(second)]) for p in pairs.tolist()]


def keys_code_by_code(grid: Grid, header: Header, commas: np.ndarray, source: str) -> SeriesKeys:
    """SeriesKeys read code by code, trimming padded codes; refuses empty codes and repeated series, naming the line."""
    n_dims = len(header.dimensions)
    key_starts, key_ends = grid.starts[:, 0], grid.ends[:, 0]
    starts = np.column_stack([key_starts, commas + 1])
    ends = np.column_stack([commas, key_ends])
    codes = pc.utf8_trim_whitespace(byte_ranges(grid, starts.ravel(), ends.ravel()))
    empty = pc.equal(pc.binary_length(codes), 0)
    if pc.any(empty).as_py():
        at = first_bad(empty.to_numpy(zero_copy_only=False)) // n_dims
        key = grid.text(int(key_starts[at]), int(key_ends[at]))
        raise DecodeError(source, f"line {at + 2}, column 1", f"series key {key!r} has an empty code")
    grid_index = np.arange(len(codes)).reshape(grid.lines, n_dims)
    columns = {dim: codes.take(pa.array(grid_index[:, i])) for i, dim in enumerate(header.dimensions)}
    # keys compared by their stripped codes
    keys = pc.binary_join_element_wise(*columns.values(), pa.scalar(",", codes.type))
    if len(pc.unique(keys)) != len(keys):
        refuse_repeated_series(keys.to_pylist(), source)
    every_line = np.arange(grid.lines)
    return SeriesKeys(columns["geo"], every_line, columns.get("unit"), series_dims(columns, grid.lines), every_line)


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


def text_column(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An arrow string array as a pandas (default) str array without copying."""
    return pd.arrays.ArrowStringArray(values, dtype=TEXT)


def repeated_text(text: str, n: int) -> pa.Array:
    """A large_string array (pandas' own str storage) holding one text n times, built from its buffers."""
    data = text.encode("utf-8")
    offsets = np.arange(0, (n + 1) * len(data), len(data), dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


# ---------------------------------------------------------------- cells

def first_bad(mask: pa.Array | np.ndarray) -> int:
    """Index of the first True in a boolean mask."""
    return int(np.argmax(np.asarray(mask, dtype=bool)))


def cell_place(index: int, header: Header) -> str:
    """'line L, column C (period)' of a flat cell index."""
    row, col = divmod(index, len(header.periods))
    return f"line {row + 2}, column {col + 2} ({header.periods[col]})"


def published_cells(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat index, start, end) of the period cells, leaving out most bare ':' ones (no value, no flag)."""
    starts, ends = grid.starts[:, 1:].ravel(), grid.ends[:, 1:].ravel()
    # only the usual spellings ':', ': ', ': \r' are dropped here, by their first byte and the two bytes before
    # their end (byte gathers: a gather of unaligned four-byte words is several times slower); any other
    # spelling of a bare ':' is read (and left out) by read_cells
    octets = grid.octets
    lengths = ends - starts
    last, before_last = octets[ends - 1], octets[ends - 2]   # never before the text: a cell follows the header
    bare = octets[starts] == COLON
    bare &= ((lengths == 1)
             | ((lengths == 2) & (last == SPACE))
             | ((lengths == 3) & (last == CR) & (before_last == SPACE)))
    index = np.flatnonzero(~bare)
    return index, starts[index], ends[index]


def read_cells(grid: Grid, index: np.ndarray, starts: np.ndarray, ends: np.ndarray, header: Header,
               source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, flags and has-flags mask of the published cells: the quick reading, else the cell-by-cell checks."""
    quick = read_plain_cells(grid, starts, ends)
    if quick is not None:
        return quick
    return parse_cells(byte_ranges(grid, starts, ends), index, header, source)


def read_plain_cells(grid: Grid, starts: np.ndarray, ends: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Values, flags and has-flags mask when every cell is spelled as Eurostat does ('12.5 ', ': c', '3 bu'); else None.

    The number is the run of number characters the cell starts with; what follows must be nothing, a space, or
    a space and known flag letters. A cell spelled any other way (leading or extra spaces, a CR, a bad number
    or flag) returns None, and parse_cells then reads or refuses it with the cell named.
    """
    octets = grid.octets
    # a CR of a CRLF line end stays on the last cell of the line: drop it from that cell
    ends = ends - (octets[ends - 1] == ord("\r"))
    tails = even_lengths(pc.ascii_ltrim(spread_ranges(grid, starts, ends), characters="0123456789.+-:"))
    number_ends = ends - tails
    if not ((tails == 0) | (octets[number_ends] == ord(" "))).all():
        return None
    missing = (number_ends - starts == 1) & (octets[starts] == COLON)
    try:
        values = spread_ranges(grid, starts, number_ends, valid=~missing).cast(pa.float64())
    except pa.ArrowInvalid:
        return None
    values = even_floats(values, missing)
    has_flags = tails >= 2
    with_flags = np.flatnonzero(has_flags)
    flags = np.full(len(starts), None, dtype=object)
    if len(with_flags):
        encoded = spread_ranges(grid, number_ends[with_flags] + 1, ends[with_flags]).dictionary_encode()
        distinct_flags = encoded.dictionary.to_pylist()
        if any(flag_problem(flag) for flag in distinct_flags):
            return None
        # one Python string per distinct flag, shared by its cells
        flags[with_flags] = np.array(distinct_flags, dtype=object)[even_indices(encoded)]
    if not np.isfinite(values[~missing]).all():
        return None
    return values, flags, has_flags


def even_floats(numbers: pa.Array, missing: np.ndarray) -> np.ndarray:
    """The even elements of a spread float64 array as NumPy, NaN where `missing` (its only nulls among them).

    Read straight off the value buffer: to_numpy would first fill every null, the gaps included, with NaN.
    """
    assert numbers.type == pa.float64() and numbers.null_count == len(numbers) // 2 + int(missing.sum()), \
        "a spread float array whose nulls are its gaps and its missing cells"
    buffer = np.frombuffer(numbers.buffers()[1], dtype=np.float64)
    values = buffer[numbers.offset:numbers.offset + len(numbers)][0::2].copy()
    values[missing] = np.nan
    return values


def parse_cells(cells: pa.Array, index: np.ndarray, header: Header, source: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (NaN when ':'), flags (None when none), has-flags mask of the cells at flat `index`, checked by column."""
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
        raise DecodeError(source, cell_place(int(index[at]), header), f"unparsable number {cells[at].as_py()!r}")
    tails = pc.ascii_ltrim(trimmed, characters=NUMBER_CHARACTERS)
    has_flags = pc.not_equal(tails, "").to_numpy(zero_copy_only=False)
    with_flags = np.flatnonzero(has_flags)
    flags = np.full(len(cells), None, dtype=object)
    flags[with_flags] = tails.take(pa.array(with_flags)).to_numpy(zero_copy_only=False)
    check_known_flags(flags, with_flags, index, header, source)
    return values.to_numpy(zero_copy_only=False), flags, has_flags


def check_known_flags(flags: np.ndarray, with_flags: np.ndarray, index: np.ndarray, header: Header,
                      source: str) -> None:
    """Refuse flag strings that are not combinations of known Eurostat letters, naming the first cell."""
    for flag in set(flags[with_flags].tolist()):
        reason = flag_problem(flag)
        if reason:
            at = int(with_flags[first_bad(flags[with_flags] == flag)])
            if not FLAG_PATTERN.match(flag):
                reason = f"unreadable cell, expected 'value flags' (after the number: {flag!r})"
            raise DecodeError(source, cell_place(int(index[at]), header), reason)


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
    grid = split_body(text, body_start, header, source)
    keys = series_keys(grid, header, source)
    index, starts, ends = published_cells(grid)
    values, flags, has_flags = read_cells(grid, index, starts, ends, header, source)

    kept = np.flatnonzero(~np.isnan(values) | has_flags)
    row, col = np.divmod(index[kept], len(header.periods))
    frame = observations_frame(code, header, keys, row, col, values[kept], flags[kept])
    return Decoded(dataset=code, observations=frame, source_updated=None)


def observations_frame(code: str, header: Header, keys: SeriesKeys, row: np.ndarray,
                       col: np.ndarray, values: np.ndarray, flags: np.ndarray) -> pd.DataFrame:
    """The DECODED_COLUMNS frame of the kept cells, given each one's series row and period column."""
    n = len(row)
    combination = keys.combination_of[row]
    dataset_column = text_column(repeated_text(code, n))
    geo = text_column(keys.geos.take(pa.array(keys.geo_of[row])))
    period = text_column(pa.array(header.periods, pa.large_string()).take(pa.array(col)))
    unit = (text_column(keys.units.take(pa.array(combination))) if keys.units is not None
            else pd.Series([None] * n, dtype=object))
    row_dims = keys.dims[combination]
    # object dtype keeps None for "no flag" (pandas would otherwise infer str and write NaN)
    flag_column = pd.Series(flags, dtype=object, copy=False)
    # flags were checked in read_cells (flag_problem, naming the cell on refusal): no check_flags pass here
    columns = {"dataset": dataset_column, "geo": geo, "period": period, "unit": unit, "dims": row_dims,
               "value": values, "flags": flag_column}
    assert list(columns) == DECODED_COLUMNS, f"frame columns {list(columns)}"
    return pd.DataFrame(columns, copy=False)   # no columns=: it would reindex


FORMAT = Format("tsv", (".tsv", ".tsv.gz"), "text/tab-separated-values", decode, live=("tsv",))
