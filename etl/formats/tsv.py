"""Eurostat TSV decoder: SDMX 2.1 `format=TSV` answers and bulk downloads, gzip-compressed or plain.

Layout: a header `dim1,dim2,...,geo\\TIME_PERIOD` (or the pre-2023 `unit,hhtyp,geo\\time`, which has no
freq column: then dims has no freq, none is invented) followed by tab-separated period columns; then one
row per series, its first cell the comma-separated codes, then one cell per period. Header and body cells
may carry trailing spaces; lines may end in CRLF (a lone CR inside a line is read as a space).

Cells: `value flags`, `value`, `: flags` or `:`. A bare `:` is no row; `: c` is a row with a NULL value
and flag 'c'; flags are kept exactly as published ('bu' stays 'bu'). Missing is never 0.

Dataset code: the `dataset` argument, else the file name stem (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`).
TSV carries no update stamp, so `source_updated` is None (the fetcher's sidecar holds it).

How: the body is read in blocks of whole lines. NumPy finds each block's tabs, line ends and the commas around
geo; the pieces between them (codes before geo, geo, codes after it, each period cell) lie end to end, so one
Arrow string array over the block's bytes holds them uncopied, and one hash pass numbers the distinct ones.
Codes and cell spellings are few: each distinct one is read once (Arrow kernels split a spelling into its number
and flags); a published cell keeps only its line, column and spelling until the frame is built, and takes its
value and flags from its spelling there. Rows come line by line, left to right.
"""
from __future__ import annotations

import gzip
import re
import string
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.formats import Format, checked_code, coded_column, dataset_from_name
from etl.model import DECODED_COLUMNS, FLAG_PATTERN, Decoded, DecodeError, flag_problem

GZIP_MAGIC = b"\x1f\x8b"
OWN_COLUMNS = ("geo", "unit")
TIME_LABELS = {"time_period", "time"}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")   # as Eurostat writes them: no exponent, no nan/inf
# a lone CR inside a line is read as a space
NUMBER_CHARACTERS = "0123456789.+-: \r"
FLAG_LETTERS = " \r" + string.ascii_lowercase
SEPARATORS = "\t\r\n"   # what ends a cell
TAB, NEWLINE, COMMA = b"\t"[0], b"\n"[0], b","[0]
KEY_PARTS = 3              # the pieces of a series key: codes before geo ('A,PC,'), geo, codes after it (',X\t')
# about this many bytes of lines are read at a time: a block's arrays stay small enough to be reused memory,
# so a large file costs per cell what a small one does
BLOCK_BYTES = 1 << 22
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
class Pieces:
    """One block of lines cut into pieces, each numbered among the block's distinct pieces."""

    distinct: pa.Array             # every distinct piece, still ending in its separator
    of: np.ndarray                 # lines x (KEY_PARTS + periods): the index of each piece among them
    first_line: int                # the block's first line, counted from the first series line

    def part(self, columns: int | slice) -> tuple[pa.Array, np.ndarray]:
        """(the distinct pieces in these columns, index of each piece there among them)."""
        of = self.of[:, columns]
        texts, position = self.distinct_in(of)
        return texts, position[of]

    def distinct_in(self, of: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """(the distinct pieces `of` points at, the index among them of each distinct piece of the block)."""
        used = np.flatnonzero(np.bincount(of.ravel(), minlength=len(self.distinct)))
        position = np.zeros(len(self.distinct), dtype=np.int32)
        position[used] = np.arange(len(used))
        return self.distinct.take(pa.array(used)), position

    def key(self, line: int) -> str:
        """The series key of one of the block's lines, as published."""
        return "".join(self.distinct[int(at)].as_py() for at in self.of[line, :KEY_PARTS]).rstrip(SEPARATORS)

    def place(self, line: int, column: int | None = None, header: Header | None = None) -> str:
        """'line L, column C (period)' of a line of the block (column 1) or of one of its period cells."""
        if column is None:
            return f"line {self.first_line + line + 2}, column 1"
        return f"line {self.first_line + line + 2}, column {column + 2} ({header.periods[column]})"


@dataclass
class Numbering:
    """The combinations of non-geo codes and the geos met so far, each numbered in order of first appearance."""

    combinations: dict[tuple[str, ...], int] = field(default_factory=dict)
    geos: dict[str, int] = field(default_factory=dict)


@dataclass
class Lines:
    """What the blocks give: per series line its combination and geo; per published cell its line, period column
    and spelling; per distinct spelling of each block its value and flags (a cell's value is its spelling's)."""

    combination_of: list[np.ndarray] = field(default_factory=list)
    geo_of: list[np.ndarray] = field(default_factory=list)
    line: list[np.ndarray] = field(default_factory=list)         # counted from the first series line
    column: list[np.ndarray] = field(default_factory=list)
    spelling: list[np.ndarray] = field(default_factory=list)     # among the distinct spellings of every block
    values: list[np.ndarray] = field(default_factory=list)
    flags: list[np.ndarray] = field(default_factory=list)
    count: int = 0                                               # lines so far
    spellings: int = 0                                           # distinct spellings so far

    def add(self, combination_of: np.ndarray, geo_of: np.ndarray, line: np.ndarray, column: np.ndarray,
            spelling: np.ndarray, values: np.ndarray, flags: np.ndarray) -> None:
        """Keep one block's lines and published cells (line in the block, column, spelling among the block's)."""
        self.combination_of.append(combination_of)
        self.geo_of.append(geo_of)
        self.line.append((line + self.count).astype(np.int32))
        self.column.append(column)
        self.spelling.append(spelling + self.spellings)
        self.values.append(values)
        self.flags.append(flags)
        self.count += len(combination_of)
        self.spellings += len(values)

    def joined(self, name: str) -> np.ndarray:
        """One field over every block."""
        return np.concatenate(getattr(self, name))

    def cells(self) -> tuple[np.ndarray, ...]:
        """(combination, geo, period column, value, flags) of every published cell."""
        line, spelling = self.joined("line"), self.joined("spelling")
        return (self.joined("combination_of")[line], self.joined("geo_of")[line], self.joined("column"),
                self.joined("values")[spelling], self.joined("flags")[spelling])


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


def body_end(text: bytes, body_start: int, source: str) -> int:
    """Where the lines after the header end (trailing line ends dropped); refuses an empty body and non-UTF-8 bytes."""
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
    return end


def line_blocks(text: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of blocks of whole lines of about BLOCK_BYTES, covering text[start:end]."""
    blocks = []
    while start < end:
        cut = text.find(b"\n", min(start + BLOCK_BYTES, end), end)
        cut = end if cut < 0 else cut + 1
        blocks.append((start, cut))
        start = cut
    return blocks


# ---------------------------------------------------------------- cutting a block into pieces

def split_block(text: bytes, start: int, end: int, first_line: int, header: Header, source: str) -> Pieces:
    """text[start:end] (whole lines) cut into pieces: per line the key's codes before geo, geo, the codes after it,
    then each period cell. Lines of the wrong width and keys of the wrong code count are refused, naming the line.

    A piece keeps the separator that ends it, so the pieces lie end to end and one string array over the
    block's bytes holds them all.
    """
    block = np.frombuffer(text, dtype=np.uint8, count=end - start, offset=start)
    separators = np.flatnonzero((block == TAB) | (block == NEWLINE))
    line_ends = block[separators] == NEWLINE
    if not len(separators) or block[-1] != NEWLINE:     # the last line of the body has no line end
        separators, line_ends = np.append(separators, len(block)), np.append(line_ends, True)
    cells = np.diff(np.flatnonzero(line_ends), prepend=-1)
    if (cells != header.width).any():
        refuse_width(text, start, int(np.argmax(cells != header.width)), first_line, header, source)
    ends = separators.reshape(-1, header.width)                      # per line: where each cell ends
    starts = np.concatenate([[0], ends[:-1, -1] + 1])               # where each line starts
    n, g = len(header.dimensions), header.dimensions.index("geo")
    commas = key_commas(block, starts, ends[:, 0], first_line, header, source)
    # where each piece starts; each ends where the next starts, the last at the end of the block
    offsets = np.empty(len(starts) * (KEY_PARTS + len(header.periods)) + 1, dtype=np.int32)
    bounds = offsets[:-1].reshape(len(starts), -1)
    bounds[:, 0] = starts
    bounds[:, 1] = commas[:, g - 1] + 1 if g else starts
    bounds[:, 2] = commas[:, g] if g < n - 1 else ends[:, 0]
    bounds[:, KEY_PARTS:] = ends[:, :-1] + 1
    offsets[-1] = len(block)
    data = pa.py_buffer(text).slice(start, end - start)
    pieces = pa.Array.from_buffers(pa.string(), len(offsets) - 1, [None, pa.py_buffer(offsets), data])
    encoded = pieces.dictionary_encode()
    return Pieces(encoded.dictionary, encoded.indices.to_numpy().reshape(len(starts), -1), first_line)


def key_commas(block: np.ndarray, starts: np.ndarray, key_ends: np.ndarray, first_line: int, header: Header,
               source: str) -> np.ndarray:
    """Lines x (codes - 1): where the commas of each line's series key are; a key of the wrong code count refused.

    When the block holds exactly that many commas per line and each line's share lies inside its key, every key
    has its own (the usual case, no search); otherwise each key's commas are counted.
    """
    n = len(header.dimensions)
    commas = np.flatnonzero(block == COMMA)
    if n > 1 and len(commas) == len(starts) * (n - 1):
        per_line = commas.reshape(-1, n - 1)
        if (per_line[:, 0] >= starts).all() and (per_line[:, -1] < key_ends).all():
            return per_line
    first = np.searchsorted(commas, starts)          # a key with too few or too many codes, or a comma in a cell
    count = np.searchsorted(commas, key_ends) - first
    if (count != n - 1).any():
        at = int(np.argmax(count != n - 1))
        key = bytes(block[starts[at]:key_ends[at]]).decode()
        raise DecodeError(source, f"line {first_line + at + 2}, column 1",
                          f"series key {key!r} does not give {n} codes for {header.dimensions}")
    return commas[first[:, None] + np.arange(n - 1)]


def refuse_width(text: bytes, start: int, at: int, first_line: int, header: Header, source: str) -> None:
    """Raise naming the first line (line `at` of the block at `start`) whose cell count is not the header's."""
    lines = text[start:].rstrip(b"\r\n").split(b"\n")
    cells = lines[at].count(b"\t") + 1
    wrong = sum(1 for line in lines[at:] if line.count(b"\t") + 1 != header.width)
    raise DecodeError(source, f"line {first_line + at + 2}, column {min(cells, header.width)}",
                      f"{cells} cells, the header has {header.width} ({wrong} such line(s); truncated file?)")


# ---------------------------------------------------------------- series keys

def part_codes(pieces: Pieces, column: int, trim: slice, source: str) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """(the distinct code lists of one key part, codes trimmed; index of each line's among them); an empty code refused."""
    texts, of = pieces.part(column)
    lists = [tuple(code.strip() for code in text.split(",")[trim]) for text in texts.to_pylist()]
    refuse_empty_code(np.array(["" in codes for codes in lists], dtype=bool)[of], pieces, source)
    return lists, of


def refuse_empty_code(empty: np.ndarray, pieces: Pieces, source: str) -> None:
    """Raise naming the first marked line of the block: its key has an empty code."""
    if empty.any():
        at = int(np.argmax(empty))
        raise DecodeError(source, pieces.place(at), f"series key {pieces.key(at)!r} has an empty code")


def block_keys(pieces: Pieces, numbering: Numbering, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(combination, geo) of each line of the block, numbered across blocks; codes trimmed, so padded spellings are one."""
    befores, before_of = part_codes(pieces, 0, slice(None, -1), source)     # 'A,PC,': the last comma its separator
    afters, after_of = part_codes(pieces, 2, slice(1, None), source)        # ',X,Y\t', or the bare tab
    combinations = numbering.combinations
    combination_of_pair = np.array([combinations.setdefault(b + a, len(combinations))
                                    for b in befores for a in afters], dtype=np.int32)
    texts, geo_of = pieces.part(1)
    geos = [code.strip() for code in texts.to_pylist()]
    refuse_empty_code(np.array([not code for code in geos], dtype=bool)[geo_of], pieces, source)
    geo_of_distinct = np.array([numbering.geos.setdefault(code, len(numbering.geos)) for code in geos], dtype=np.int32)
    return combination_of_pair[before_of * len(afters) + after_of], geo_of_distinct[geo_of]


def check_series(lines: Lines, header: Header, numbering: Numbering, source: str) -> None:
    """Refuse a series on two lines, naming the second line and the first."""
    series = lines.joined("combination_of").astype(np.int64) * len(numbering.geos) + lines.joined("geo_of")
    possible = len(numbering.combinations) * len(numbering.geos)
    if possible <= 8 * len(series):   # few possible series: count each (a hash table costs more)
        repeated = np.bincount(series, minlength=possible).max(initial=0) > 1
    else:
        repeated = len(pc.unique(pa.array(series))) < len(series)
    if repeated:
        refuse_repeated_series(series, header, numbering, source)


def refuse_repeated_series(series: np.ndarray, header: Header, numbering: Numbering, source: str) -> None:
    """Raise naming the first line whose series (codes trimmed) is on an earlier line too."""
    order = np.argsort(series, kind="stable")
    ordered = series[order]
    at = int(order[np.flatnonzero(ordered[1:] == ordered[:-1]) + 1].min())
    first = int(order[np.searchsorted(ordered, series[at])])
    n_geos = len(numbering.geos)
    combination = list(numbering.combinations)[series[at] // n_geos]
    geo = list(numbering.geos)[series[at] % n_geos]
    g = header.dimensions.index("geo")
    key = ",".join([*combination[:g], geo, *combination[g:]])
    raise DecodeError(source, f"line {at + 2}, column 1",
                      f"duplicated series {key!r} (first at line {first + 2}): duplicated observations")


# ---------------------------------------------------------------- cells

def block_cells(pieces: Pieces, header: Header, source: str) -> tuple[np.ndarray, ...]:
    """(line in the block, period column, spelling) of each published cell of the block (not a bare ':'), and the
    value and flags of each spelling.

    Each distinct spelling is read once: the cells take their value and flags from it. A spelling that is not
    `value flags` is refused at its first cell.
    """
    of = pieces.of[:, KEY_PARTS:]                                   # lines x periods, in reading order
    spellings, position = pieces.distinct_in(of)
    values, flags, problems = read_spellings(spellings)
    if problems is not None:
        line, column = np.argwhere((problems != None)[position][of])[0]    # noqa: E711
        raise DecodeError(source, pieces.place(int(line), int(column), header), problems[position[of[line, column]]])
    line, column = np.nonzero((~np.isnan(values) | (flags != None))[position][of])  # noqa: E711: ':' is no row
    return line, column.astype(np.int32), position[of[line, column]], values, flags


def read_spellings(spellings: pa.Array) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(value, flags or None, None) of each distinct cell spelling; when one is not `value flags`, (None, None,
    what is wrong with each spelling or None)."""
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
        return None, None, np.array([
            None if gone or NUMBER.match(n) else f"unparsable number {spelled.rstrip(SEPARATORS)!r}"
            for spelled, n, gone in zip(spellings.to_pylist(), number.to_pylist(), missing.to_pylist())], dtype=object)
    flags = pc.ascii_ltrim(text, characters=NUMBER_CHARACTERS).dictionary_encode()
    texts = np.array([flag or None for flag in flags.dictionary.to_pylist()], dtype=object)
    flag_of = flags.indices.to_numpy()
    reasons = np.array([flag and flag_reason(flag) for flag in texts], dtype=object)
    if any(reasons):
        return None, None, reasons[flag_of]
    return values.to_numpy(zero_copy_only=False), texts[flag_of], None


def flag_reason(flag: str) -> str | None:
    """What is wrong with the text after a cell's number, or None when it is Eurostat flags."""
    if not FLAG_PATTERN.match(flag):
        return f"unreadable cell, expected 'value flags' (after the number: {flag!r})"
    return flag_problem(flag)


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
    numbering, lines = Numbering(), Lines()
    for start, end in line_blocks(text, body_start, body_end(text, body_start, source)):
        pieces = split_block(text, start, end, lines.count, header, source)
        lines.add(*block_keys(pieces, numbering, source), *block_cells(pieces, header, source))
    check_series(lines, header, numbering, source)
    return Decoded(dataset=code, observations=observations_frame(code, header, numbering, lines), source_updated=None)


def observations_frame(code: str, header: Header, numbering: Numbering, lines: Lines) -> pd.DataFrame:
    """The DECODED_COLUMNS frame of the published cells."""
    non_geo = [dim for dim in header.dimensions if dim != "geo"]
    dims = np.empty(len(numbering.combinations), dtype=object)
    dims[:] = [{dim: c for dim, c in zip(non_geo, combo) if dim not in OWN_COLUMNS} for combo in numbering.combinations]
    combination, geo, column, values, flags = lines.cells()
    n = len(combination)
    if "unit" in non_geo:
        units: dict[str, int] = {}
        at = non_geo.index("unit")
        unit_of = np.array([units.setdefault(combo[at], len(units)) for combo in numbering.combinations], dtype=np.int32)
        unit = coded_column(unit_of[combination], list(units))
    else:
        unit = pd.Series([None] * n, dtype=object)
    columns = {
        "dataset": coded_column(np.zeros(n, dtype=np.int8), [code]),
        "geo": coded_column(geo, list(numbering.geos)),
        "period": coded_column(column, header.periods),
        "unit": unit,
        "dims": dims[combination],
        "value": values,
        # object dtype keeps None for "no flag" (pandas would otherwise infer str and write NaN)
        "flags": pd.Series(flags, dtype=object, copy=False),
    }
    assert list(columns) == DECODED_COLUMNS, f"frame columns {list(columns)}"
    return pd.DataFrame(columns, copy=False)   # no columns=: it would reindex


FORMAT = Format("tsv", (".tsv", ".tsv.gz"), "text/tab-separated-values", decode, live=("tsv",))
