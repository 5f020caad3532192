"""Eurostat Data Browser spreadsheet (XLSX) decoder.

A download holds a "Summary" sheet (title '<title> [<code>__custom_N]', 'Last update of data', and a
'Contents' table naming each data sheet's dimension positions), a "Structure" sheet (every dimension
title with each of its labels), then one sheet per combination of the non-geo, non-time dimensions:

    Data extracted on ...
    Dataset: | <title> [<code>]
    Last updated: | dd/mm/yyyy HH:MM
    <dimension title> | | <label>    (one line per dimension: the sheet's combination)
    TIME | 2020 | | 2021 | | ...     (a period above each value column; its flag column is blank)
    GEO (Labels)
    <geo label> | value | flag | value | flag | ...
    (blank line, then the 'Special value' and 'Observation flags' legends)

':' is Eurostat's "not available": such a cell with no flag is no observation, never 0; with a flag it
is a row with a NULL value. Every label (dimension titles, positions, geo) is mapped back to its code
through etl.codelists; an unknown label is a DecodeError naming the sheet and the cell. The sheet
headers are checked against the Summary contents table and the Structure sheet, so a workbook whose
parts disagree is refused rather than half-read. Only 'GEO (Labels)' downloads are read; a
'GEO (Codes)' download is refused rather than guessed at.

The cells are read from the workbook's XML parts directly (zipfile + ElementTree: workbook.xml and its
rels name each sheet's part, sharedStrings.xml and styles.xml give strings and date styles) with the
values openpyxl's read-only mode gives, which tests/etl/formats_b/test_xlsx_reader.py checks sheet by
sheet; an unreadable cell or sheet is a DecodeError naming the sheet and the cell.
"""
from __future__ import annotations

import io
import math
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from etl import codelists
from etl.formats import Format, iso_stamp
from etl.formats.sdmx_csv import parse_flag, parse_number, paused_gc
from etl.model import DECODED_COLUMNS, Decoded, DecodeError

SUMMARY, STRUCTURE = "Summary", "Structure"
TITLE = re.compile(r"^(?P<title>.*)\[(?P<code>[A-Za-z0-9_]+?)(?:__custom_\d+)?\]\s*$")
GEO_HEADER = "GEO (Labels)"

# ---- reading the workbook's XML ----------------------------------------------------------------
# The cells are read straight from the OOXML parts (zipfile + ElementTree), with the values openpyxl's
# read-only, data_only, values_only iteration gives: numbers as int/float (datetime under a date style),
# inline and shared strings as text, booleans as bool, cached formula results, rows padded with None and
# missing rows as (). openpyxl did the same in ~5x the time, nearly all of it building objects per cell.
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ROW, TEXT, RUN, VALUE, INLINE = (MAIN + tag for tag in ("row", "t", "r", "v", "is"))
COORDINATE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
# Sheet parts up to this size (uncompressed) are parsed whole, which is ~2x faster than iterparse's
# Python-level event loop; bigger ones are streamed so memory stays flat. Data Browser sheets are <100 kB.
STREAM_ABOVE_BYTES = 32 * 2**20
MAX_COLUMN = 18278                                  # XFD, the last column a workbook can have
# Built-in number formats General, 0, 0.00, #,##0 and #,##0.00 (the ones Data Browser files use) are
# never dates; any other format is checked with openpyxl, imported only then.
PLAIN_BUILTIN_FORMATS = {0, 1, 2, 3, 4}
DATE_LETTERS = re.compile(r"[dmhysDMHYS]")
# Cell reference -> column, filled as references are met: every data sheet of a download has the same
# layout, so a few thousand references cover a workbook and a lookup beats parsing 'B12' per cell.
_column_of_ref: dict[str, int] = {}
COLUMN_CACHE_SIZE = 200_000


def column_letters(col: int) -> str:
    """Spreadsheet letters of a 1-based column number (28 -> 'AB')."""
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """Spreadsheet reference of a 1-based row and 0-based column ('B12')."""
    return f"{column_letters(col + 1)}{row}"


def text(value) -> str:
    """A cell as stripped text ('' for empty)."""
    return "" if value is None else str(value).strip()


@dataclass
class Workbook:
    """An opened XLSX: its zip archive and what every sheet needs to turn XML into cell values."""

    archive: zipfile.ZipFile
    source: str
    sheet_parts: dict[str, str]          # sheet name -> zip member of its XML, in workbook order
    shared_strings: list[str]
    date_styles: frozenset[int]          # cell style ids whose number format is a date/time
    timedelta_styles: frozenset[int]     # ... and of those, the durations ([h]:mm:ss)
    date1904: bool

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self.sheet_parts)

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()


def part_path(base: str, target: str) -> str:
    """Zip member a relationship target names, relative to the folder of the part that holds it."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(base, target))


def relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, zip member) of one part ('xl/workbook.xml')."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in archive.NameToInfo:
        return {}
    return {rel.get("Id"): (rel.get("Type", ""), part_path(folder, rel.get("Target", "")))
            for rel in ET.fromstring(archive.read(rels)).iter(RELATIONSHIP)}


def workbook_part(archive: zipfile.ZipFile) -> str:
    """The zip member of the workbook part (the package's officeDocument; xl/workbook.xml by convention)."""
    for kind, member in relationships(archive, "").values():
        if kind.endswith("/officeDocument") and member in archive.NameToInfo:
            return member
    return "xl/workbook.xml"


def inline_text(node) -> str:
    """Plain text of an <is> or <si> element as openpyxl reads it: its (last) <t>, then each run's <t>."""
    if len(node) == 1 and node[0].tag == TEXT:      # the usual <is><t>...</t></is>
        return node[0].text or ""
    plain, runs = None, []
    for child in node:
        if child.tag == TEXT:
            plain = child.text
        elif child.tag == RUN:
            run = None
            for part in child:
                if part.tag == TEXT:
                    run = part.text
            if run is not None:
                runs.append(run)
    return (plain or "") + "".join(runs)


def read_shared_strings(archive: zipfile.ZipFile, member: str | None) -> list[str]:
    """The shared string table (openpyxl drops the 'x005F_' escape prefix, so do we)."""
    if member is None or member not in archive.NameToInfo:
        return []
    return [inline_text(si).replace("x005F_", "") for si in ET.fromstring(archive.read(member)).iter(MAIN + "si")]


def read_date_styles(archive: zipfile.ZipFile, member: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """(date style ids, timedelta style ids) from the cellXfs of the stylesheet, as openpyxl indexes them."""
    if member is None or member not in archive.NameToInfo:
        return frozenset(), frozenset()
    root = ET.fromstring(archive.read(member))
    custom = {int(fmt.get("numFmtId")): fmt.get("formatCode")
              for fmt in root.iterfind(f"{MAIN}numFmts/{MAIN}numFmt")}
    styles = [int(xf.get("numFmtId", 0)) for xf in root.iterfind(f"{MAIN}cellXfs/{MAIN}xf")]
    candidates = [(idx, number) for idx, number in enumerate(styles)
                  if (DATE_LETTERS.search(custom[number] or "") if number in custom else number not in PLAIN_BUILTIN_FORMATS)]
    if not candidates:
        return frozenset(), frozenset()
    from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
    formats = {idx: custom[number] if number in custom else builtin_format_code(number) for idx, number in candidates}
    return (frozenset(idx for idx, fmt in formats.items() if is_date_format(fmt)),
            frozenset(idx for idx, fmt in formats.items() if is_timedelta_format(fmt)))


def read_sheet_parts(archive: zipfile.ZipFile, source: str) -> tuple[dict[str, str], dict[str, str], bool]:
    """(sheet name -> member, relationship type -> member of the workbook's other parts, date1904)."""
    part = workbook_part(archive)
    root = ET.fromstring(archive.read(part))
    rels = relationships(archive, part)
    sheets = {}
    for sheet in root.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
        name = sheet.get("name")
        kind, member = rels.get(sheet.get(RELATION_ID), ("", ""))
        if not kind.endswith("/worksheet"):
            raise DecodeError(source, f"sheet {name!r}", f"not a worksheet ({kind.rsplit('/', 1)[-1] or 'no relationship'})")
        if member not in archive.NameToInfo:
            raise DecodeError(source, f"sheet {name!r}", f"its part {member!r} is missing from the archive")
        sheets[name] = member
    others = {kind.rsplit("/", 1)[-1]: member for kind, member in rels.values()}
    properties = root.find(f"{MAIN}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "false").lower() in ("1", "true")
    return sheets, others, date1904


def open_workbook(raw: bytes, source: str) -> Workbook:
    """The workbook's sheet index, shared strings and date styles; HTML pages and non-XLSX bodies are refused."""
    head = raw.lstrip()[:512].lower()
    if head.startswith(b"<"):
        raise DecodeError(source, "byte 0", "an HTML/XML page, not an XLSX workbook")
    if not raw.startswith(b"PK"):
        raise DecodeError(source, "byte 0", "not an XLSX workbook (no zip signature)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        sheets, others, date1904 = read_sheet_parts(archive, source)
        strings = read_shared_strings(archive, others.get("sharedStrings"))
        date_styles, timedelta_styles = read_date_styles(archive, others.get("styles"))
    except DecodeError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ET.ParseError) as err:
        raise DecodeError(source, "workbook", f"unreadable XLSX ({err})") from None
    for required in (SUMMARY, STRUCTURE):
        if required not in sheets:
            raise DecodeError(source, "workbook", f"no {required!r} sheet (sheets: {list(sheets)[:5]})")
    return Workbook(archive, source, sheets, strings, date_styles, timedelta_styles, date1904)


def column_number(ref: str, source: str, where: str) -> int:
    """1-based column of a cell reference ('AB12' -> 28); the row part is not used (nor by openpyxl)."""
    col = _column_of_ref.get(ref)
    if col is not None:
        return col
    match = COORDINATE.match(ref)
    if not match:
        raise DecodeError(source, where, f"unreadable cell reference {ref!r}")
    col = 0
    for letter in match.group(1).upper():
        col = col * 26 + ord(letter) - 64
    if col > MAX_COLUMN:
        raise DecodeError(source, where, f"cell reference {ref!r} is beyond the last column XFD")
    if len(_column_of_ref) < COLUMN_CACHE_SIZE:
        _column_of_ref[ref] = col
    return col


def row_number(value: str | None, previous: int, source: str, where: str) -> int:
    """The r attribute of a <row> (openpyxl also accepts '5.0'); rows without one follow the previous."""
    if value is None:
        return previous + 1
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not number.is_integer():
            raise DecodeError(source, where, f"unreadable row number {value!r}") from None
        return int(number)


def excel_date(value, workbook: Workbook, style: int):
    """A number under a date style as openpyxl gives it: a datetime (timedelta for durations), '#VALUE!' when out of range."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel
    epoch = CALENDAR_MAC_1904 if workbook.date1904 else CALENDAR_WINDOWS_1900
    try:
        return from_excel(value, epoch, timedelta=style in workbook.timedelta_styles)
    except (OverflowError, ValueError):
        return "#VALUE!"


def cell_value(cell, workbook: Workbook):
    """The value of one <c> element (data_only: a formula's cached result); ValueError when unreadable."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        node = cell.find(INLINE)
        return None if node is None else inline_text(node)
    value = cell.findtext(VALUE) or None
    if value is None:
        return None
    try:
        if kind == "n":
            number = number_of(value)
            style = cell.get("s")
            if style and workbook.date_styles and int(style) in workbook.date_styles:
                return excel_date(number, workbook, int(style))
            return number
        if kind == "s":
            return workbook.shared_strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601
            return from_ISO8601(value)
    except (IndexError, TypeError) as err:
        raise ValueError(f"{kind!r} value {value!r}: {err}") from None
    return value                                    # 'str' (formula text result), 'e' (#N/A, ...)


def number_of(value: str) -> int | float:
    """A number cell's text as openpyxl casts it: float when it has a point or an exponent, else int."""
    return float(value) if ("." in value or "E" in value or "e" in value) else int(value)


def row_values(element, number: int, workbook: Workbook, sheet: str) -> tuple:
    """One <row> as a tuple as wide as its last cell's column, gaps None (openpyxl's read-only rows)."""
    values, size, col = [], 0, 0
    plain_numbers = not workbook.date_styles
    known_columns = _column_of_ref
    for cell in element:
        ref = cell.get("r")
        if ref is None:
            col += 1
        else:
            col = known_columns.get(ref) or column_number(ref, workbook.source, f"{sheet}, row {number}")
        kind = cell.get("t")
        try:
            # the two kinds Data Browser writes are read inline; per-cell calls were a third of the time
            if kind == "inlineStr" and len(cell) == 1 and cell[0].tag == INLINE and len(cell[0]) < 2:
                node = cell[0]
                value = "" if not len(node) else (node[0].text or "") if node[0].tag == TEXT else inline_text(node)
            elif (kind is None or kind == "n") and plain_numbers:
                value = cell.findtext(VALUE) or None
                if value is not None:
                    value = number_of(value)
            else:
                value = cell_value(cell, workbook)
        except ValueError as err:                   # the place is only spelled out for the error
            raise DecodeError(workbook.source, f"{sheet}, cell {column_letters(col)}{number}",
                              f"unreadable cell ({err})") from None
        if col == size + 1:
            values.append(value)
            size = col
        elif col > size:
            values.extend([None] * (col - 1 - size))
            values.append(value)
            size = col
        else:
            values[col - 1] = value
    del values[col:]                                # openpyxl's row ends at its last cell's column
    return tuple(values)


def row_elements(stream, size: int):
    """The <row> elements of a sheet part: parsed whole in C when small, streamed (iterparse) when big."""
    if size <= STREAM_ABOVE_BYTES:
        xml = stream.read()
        if b"<![CDATA[" not in xml:
            # Data Browser writes every blank flag cell as <is><t></t></is>; <is/> reads the same ('')
            # and is one element less to build, for about a tenth of the parse time
            xml = xml.replace(b"<is><t></t></is>", b"<is/>")
        yield from ET.fromstring(xml).iter(ROW)
        return
    for _, element in ET.iterparse(stream):
        if element.tag == ROW:
            yield element
            element.clear()


def sheet_rows(workbook: Workbook, name: str) -> list[tuple]:
    """All rows of one sheet from row 1, a missing row as (); the stored dimension tag is not trusted."""
    sheet = f"sheet {name!r}"
    member = workbook.sheet_parts[name]
    rows, expected, number = [], 1, 0
    try:
        with workbook.archive.open(member) as stream:
            for element in row_elements(stream, workbook.archive.getinfo(member).file_size):
                number = row_number(element.get("r"), number, workbook.source, f"{sheet}, row after {number}")
                values = row_values(element, number, workbook, sheet)
                while expected < number:
                    rows.append(())
                    expected += 1
                if expected == number:              # a row out of order is dropped, as openpyxl does
                    rows.append(values)
                    expected += 1
    except (ET.ParseError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        raise DecodeError(workbook.source, sheet, f"unreadable sheet XML ({err})") from None
    return rows


def iso_update(stamp, source: str, where: str) -> str:
    """'17/12/2024 11:00' (or a datetime cell) as ISO 8601."""
    if isinstance(stamp, datetime):
        return stamp.isoformat()
    iso = iso_stamp(text(stamp))
    if iso is not None:
        return iso
    raise DecodeError(source, where, f"unreadable last-update stamp {stamp!r}")


@dataclass
class Summary:
    """What the Summary sheet says about the download."""

    dataset: str
    updated: str | None
    contents: dict[str, tuple[str, ...]]      # sheet name -> position labels, in contents-table order
    titles: tuple[str, ...]                   # dimension titles heading the contents table


def read_summary(rows: list[tuple], source: str) -> Summary:
    """Dataset code, last update and the contents table of the Summary sheet."""
    dataset = updated = None
    contents, titles = {}, ()
    for r, row in enumerate(rows, start=1):
        first = text(row[0]) if row else ""
        if dataset is None and (match := TITLE.match(first)):
            dataset = match.group("code").lower()
        elif first.startswith("Last update of data"):
            stamp = next((v for v in row[1:] if text(v)), None)
            updated = iso_update(stamp, source, f"sheet {SUMMARY!r}, row {r}") if stamp is not None else None
        elif len(row) > 2 and text(row[1]) == "Contents":
            titles = tuple(text(v) for v in row[2:] if text(v))
        elif titles and len(row) > 1 and text(row[1]):
            contents[text(row[1])] = tuple(text(v) for v in row[2:2 + len(titles)])
    if dataset is None:
        raise DecodeError(source, f"sheet {SUMMARY!r}", "no dataset title '<title> [<code>]'")
    return Summary(dataset=dataset, updated=updated, contents=contents, titles=titles)


def dimension_id(title: str, source: str, where: str) -> str:
    """The dimension id of a Eurostat dimension title ('Individual type' -> 'ind_type')."""
    dimension = codelists.dimension_ids().get(codelists.normalise_label(title))
    if dimension is None:
        raise DecodeError(source, where, f"unknown dimension title {title!r}: add it to etl/codelists/dimension.csv")
    return dimension


def read_structure(rows: list[tuple], source: str) -> dict[str, set[str]]:
    """Dimension id -> the labels the Structure sheet lists for it."""
    listed: dict[str, set[str]] = {}
    for r, row in enumerate(rows, start=1):
        if len(row) < 3 or not text(row[1]) or text(row[1]) in ("Dimension", "Label"):
            continue
        dimension = dimension_id(text(row[1]), source, f"sheet {STRUCTURE!r}, cell {cell_ref(r, 1)}")
        listed.setdefault(dimension, set()).add(codelists.normalise_label(text(row[2])))
    return listed


class LabelMapper:
    """Maps labels to codes for one workbook and remembers what it saw."""

    def __init__(self, source: str, listed: dict[str, set[str]]):
        self.source, self.listed = source, listed
        self.labels: dict[tuple[str, str], str] = {}
        self.known: dict[tuple[str, str], str] = {}     # (dimension, text cell) -> code, once mapped

    def code(self, dimension: str, label, where: str) -> str:
        """The code of a label; unknown labels and labels missing from the Structure sheet are refused."""
        code = self.known.get((dimension, label)) if type(label) is str else None
        if code is None:
            code = self.map_label(dimension, label, where)
            if type(label) is str:
                self.known[(dimension, label)] = code
        return code

    def map_label(self, dimension: str, label, where: str) -> str:
        """code() for a cell not mapped before."""
        value = codelists.normalise_label(text(label))
        if not value:
            raise DecodeError(self.source, where, f"empty {dimension}")
        if dimension in self.listed and value not in self.listed[dimension]:
            raise DecodeError(self.source, where, f"{dimension} label {value!r} is not in the Structure sheet")
        code = codelists.code_for_label(dimension, value)
        if code is None:
            raise DecodeError(self.source, where, f"unknown {dimension} label {value!r}: add it with its "
                                                  f"official Eurostat code to etl/codelists/{dimension}.csv")
        self.labels.setdefault((dimension, code), value)
        return code


class Cells:
    """The decoded cells of a workbook as columns, with where each was read (for the duplicate check)."""

    def __init__(self, source: str):
        self.source = source
        self.geo, self.period, self.unit, self.dims, self.value, self.flags = [], [], [], [], [], []
        self.first_at: dict[tuple, tuple[str, int, int]] = {}    # observation key -> (sheet, row, column)

    def frame(self, dataset: str) -> pd.DataFrame:
        """DECODED_COLUMNS: value float64 (NaN = missing), the rest objects with None (as sdmx_csv.observations_frame)."""
        frame = pd.DataFrame({
            "dataset": pd.Series([dataset] * len(self.geo), dtype=object),
            "geo": pd.Series(self.geo, dtype=object),
            "period": pd.Series(self.period, dtype=object),
            "unit": pd.Series(self.unit, dtype=object),
            "dims": pd.Series(self.dims, dtype=object),
            "value": pd.Series(self.value, dtype="float64"),
            "flags": pd.Series(self.flags, dtype=object),
        })
        return frame[DECODED_COLUMNS]


def place(sheet: str, row: int, col: int) -> str:
    """Where a cell is, as error messages say it ("sheet 'Sheet 1', cell B12")."""
    return f"{sheet}, cell {cell_ref(row, col)}"


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one Data Browser XLSX download into tidy observations (see the module docstring)."""
    with paused_gc():
        return decode_workbook(raw, source, dataset)


def decode_workbook(raw: bytes, source: str, dataset: str | None) -> Decoded:
    """decode(), with the garbage collector paused by the caller."""
    workbook = open_workbook(raw, source)
    try:
        summary = read_summary(sheet_rows(workbook, SUMMARY), source)
        mapper = LabelMapper(source, read_structure(sheet_rows(workbook, STRUCTURE), source))
        if dataset is not None and dataset.lower() != summary.dataset:
            raise DecodeError(source, f"sheet {SUMMARY!r}", f"holds {summary.dataset!r}, expected {dataset.lower()!r}")
        cells = Cells(source)
        data_sheets = [n for n in workbook.sheetnames if n not in (SUMMARY, STRUCTURE)]
        if not data_sheets:
            raise DecodeError(source, "workbook", "no data sheets")
        for name in data_sheets:
            read_data_sheet(sheet_rows(workbook, name), name, summary, mapper, cells)
    finally:
        workbook.close()
    labels = [(dim, code, label) for (dim, code), label in sorted(mapper.labels.items())]
    return Decoded(dataset=summary.dataset, observations=cells.frame(summary.dataset),
                   source_updated=summary.updated, labels=labels)


def read_combination(rows: list[tuple], sheet: str, name: str, summary: Summary, mapper: LabelMapper):
    """(unit, dims) of the sheet's header block, checked against the Summary contents table."""
    unit, dims, positions = None, {}, []
    for r, row in enumerate(rows, start=1):
        if len(row) < 3 or not text(row[0]) or text(row[2]) == "":
            continue
        dimension = dimension_id(text(row[0]), mapper.source, f"{sheet}, cell {cell_ref(r, 0)}")
        code = mapper.code(dimension, row[2], f"{sheet}, cell {cell_ref(r, 2)}")
        positions.append(codelists.normalise_label(text(row[2])))
        if dimension == "unit":
            unit = code
        else:
            dims[dimension] = code
    expected = summary.contents.get(name)
    if expected is not None and sorted(expected) != sorted(positions):
        raise DecodeError(mapper.source, sheet, f"header {positions} disagrees with the Summary contents {list(expected)}")
    return unit, dims


def read_data_sheet(rows: list[tuple], name: str, summary: Summary, mapper: LabelMapper, cells: Cells) -> None:
    """Add every cell of one data sheet that has a value or a flag to `cells`."""
    source, sheet = mapper.source, f"sheet {name!r}"
    time_row = next((r for r, row in enumerate(rows) if row and text(row[0]) == "TIME"), None)
    if time_row is None or time_row + 1 >= len(rows):
        raise DecodeError(source, sheet, "no TIME row followed by a GEO row")
    check_sheet_header(rows[:time_row], sheet, summary, source)
    unit, dims = read_combination(rows[:time_row], sheet, name, summary, mapper)
    periods = read_periods(rows[time_row], time_row + 1, sheet, source)
    geo_header = text(rows[time_row + 1][0]) if rows[time_row + 1] else ""
    if geo_header != GEO_HEADER:
        # a 'GEO (Codes)' download would need codes throughout; refuse rather than half-read it
        raise DecodeError(source, place(sheet, time_row + 2, 0), f"expected {GEO_HEADER!r}, got {geo_header!r}")
    series = tuple(sorted(dims.items()))
    first_at = cells.first_at
    add_geo, add_period, add_unit = cells.geo.append, cells.period.append, cells.unit.append
    add_dims, add_value, add_flags = cells.dims.append, cells.value.append, cells.flags.append
    for r in range(time_row + 2, len(rows)):
        row = rows[r]
        if not row or not text(row[0]):
            break                               # the data block ends at the first blank line
        geo = mapper.known.get(("geo", row[0])) if type(row[0]) is str else None
        if geo is None:                         # the place is only spelled out for a label not met before
            geo = mapper.code("geo", row[0], place(sheet, r + 1, 0))
        width = len(row)
        for col, period in periods:
            # Data Browser writes a finite float, ':' or nothing, and a flag or ''; the rest goes the long way
            cell = row[col] if col < width else None
            if type(cell) is float and math.isfinite(cell):
                value = cell
            elif cell is None or cell == ":":
                value = math.nan
            else:
                value = read_value(cell, source, place(sheet, r + 1, col))
            flag_cell = row[col + 1] if col + 1 < width else None
            if flag_cell is None or flag_cell == "":
                flags = None
            else:
                flags = parse_flag(text(flag_cell), source, place(sheet, r + 1, col + 1))
            if flags is None and value != value:    # NaN: ':' without a flag is no observation
                continue
            key = (geo, period, unit, series)
            if key in first_at:
                raise DecodeError(source, place(sheet, r + 1, col),
                                  f"duplicated observation (first at {place(*first_at[key])})")
            first_at[key] = (sheet, r + 1, col)
            add_geo(geo), add_period(period), add_unit(unit), add_dims(dict(dims))
            add_value(value), add_flags(flags)


def read_value(cell, source: str, where: str) -> float:
    """A value cell: a number, or ':'/empty for not available; anything else is refused."""
    if isinstance(cell, bool):
        raise DecodeError(source, where, f"unexpected boolean {cell!r}")
    if isinstance(cell, (int, float)):
        if math.isnan(cell) or math.isinf(cell):
            raise DecodeError(source, where, f"unexpected value {cell!r}")
        return float(cell)
    return parse_number(text(cell), source, where)


def read_periods(row: tuple, row_no: int, sheet: str, source: str) -> list[tuple[int, str]]:
    """(value column, period) pairs from the TIME row; each period's flag sits in the column after it."""
    periods = []
    for col in range(1, len(row), 2):
        period = text(row[col])
        if not period:
            continue
        if col + 1 < len(row) and text(row[col + 1]):
            raise DecodeError(source, f"{sheet}, cell {cell_ref(row_no, col + 1)}", "TIME row: expected a blank flag column")
        periods.append((col, period))
    names = [p for _, p in periods]
    if not names:
        raise DecodeError(source, f"{sheet}, row {row_no}", "TIME row names no period")
    if len(set(names)) != len(names):
        raise DecodeError(source, f"{sheet}, row {row_no}", "TIME row repeats a period")
    return periods


def check_sheet_header(rows: list[tuple], sheet: str, summary: Summary, source: str) -> None:
    """The sheet's own 'Dataset:' line must name the Summary's dataset."""
    for r, row in enumerate(rows, start=1):
        if row and text(row[0]).startswith("Dataset:") and len(row) > 1:
            match = TITLE.match(text(row[1]))
            if not match or match.group("code").lower() != summary.dataset:
                raise DecodeError(source, f"{sheet}, cell {cell_ref(r, 1)}",
                                  f"names dataset {text(row[1])!r}, the Summary says {summary.dataset!r}")



def sheet_names(path) -> list[str]:
    """Sheet names of a workbook, read from xl/workbook.xml without loading the cells."""
    with zipfile.ZipFile(path) as book:
        xml = book.read("xl/workbook.xml").decode("utf-8", "replace")
    return re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml)


def sniff(path) -> str | None:
    """None for a Data Browser download (it has a Summary sheet), else why not."""
    try:
        sheets = sheet_names(path)
    except (zipfile.BadZipFile, KeyError) as err:
        return f"a readable workbook ({err})"
    if "Summary" in sheets:
        return None
    return f"a Eurostat Data Browser download (no 'Summary' sheet; sheets: {', '.join(sheets[:8])})"


FORMAT = Format("xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", decode,
                sniff=sniff)
