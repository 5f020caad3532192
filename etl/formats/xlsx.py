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

The cells are read with python-calamine (numbers come back as float, empty cells as '', dates as
date/datetime); every row is read from cell A1 so row and column numbers are the spreadsheet's own. A
workbook or sheet calamine cannot read is a DecodeError naming the sheet. Calamine reads an error cell
(#N/A, #DIV/0!, ...) as '', which would pass for missing, so the sheets' XML is searched for them
(error_cells) and a download holding one is refused naming the cell: Data Browser writes none.
"""
from __future__ import annotations

import io
import math
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from python_calamine import CalamineError, CalamineWorkbook, WorksheetNotFound

from etl import codelists
from etl.formats import Format, iso_stamp
from etl.formats.sdmx_csv import parse_flag, parse_number, paused_gc
from etl.model import DECODED_COLUMNS, Decoded, DecodeError

SUMMARY, STRUCTURE = "Summary", "Structure"
TITLE = re.compile(r"^(?P<title>.*)\[(?P<code>[A-Za-z0-9_]+?)(?:__custom_\d+)?\]\s*$")
GEO_HEADER = "GEO (Labels)"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ERROR_CELL = re.compile(rb"""<c\b[^>]*\bt=["']e["'][^>]*>""")
CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3}[0-9]+)["']""")


def cell_ref(row: int, col: int) -> str:
    """Spreadsheet reference of a 1-based row and 0-based column ('B12')."""
    return f"{get_column_letter(col + 1)}{row}"


def text(value) -> str:
    """A cell as stripped text ('' for empty; a whole number without calamine's '.0', as Excel shows it)."""
    if type(value) is float and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def open_workbook(raw: bytes, source: str) -> CalamineWorkbook:
    """The workbook, with its Summary and Structure sheets; HTML pages and non-XLSX bodies are refused."""
    head = raw.lstrip()[:512].lower()
    if head.startswith(b"<"):
        raise DecodeError(source, "byte 0", "an HTML/XML page, not an XLSX workbook")
    if not raw.startswith(b"PK"):
        raise DecodeError(source, "byte 0", "not an XLSX workbook (no zip signature)")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except CalamineError as err:
        raise DecodeError(source, "workbook", f"unreadable XLSX ({err})") from None
    for required in (SUMMARY, STRUCTURE):
        if required not in workbook.sheet_names:
            raise DecodeError(source, "workbook", f"no {required!r} sheet (sheets: {workbook.sheet_names[:5]})")
    return workbook


def sheet_rows(workbook: CalamineWorkbook, name: str, source: str) -> list[list]:
    """All rows of one sheet from cell A1, each as wide as the sheet."""
    try:
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except WorksheetNotFound:
        raise DecodeError(source, f"sheet {name!r}", "its part is missing from the archive") from None
    except CalamineError as err:
        raise DecodeError(source, f"sheet {name!r}", f"unreadable sheet ({type(err).__name__}: {err})") from None


def sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from xl/workbook.xml and its relationships."""
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    members = {}
    for sheet in ET.fromstring(archive.read("xl/workbook.xml")).iter(MAIN + "sheet"):
        target = targets.get(sheet.get(RELATION_ID), "")
        members[sheet.get("name")] = target[1:] if target.startswith("/") else posixpath.normpath("xl/" + target)
    return members


def error_cells(raw: bytes, names: list[str], source: str) -> dict[str, list[tuple[int, int]]]:
    """Sheet name -> (1-based row, 0-based column) of each of its error cells; sheets without any are left out."""
    found = {}
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members, present = sheet_members(archive), set(archive.namelist())
            for name in names:
                if members.get(name) not in present:
                    continue                        # calamine refuses the sheet when it is read
                xml = archive.read(members[name])
                if b't="e"' in xml or b"t='e'" in xml:
                    refs = [CELL_REF.search(tag) for tag in ERROR_CELL.findall(xml)]
                    places = [coordinate_to_tuple(ref.group(1).decode()) for ref in refs if ref]
                    found[name] = sorted((row, col - 1) for row, col in places)
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as err:
        raise DecodeError(source, "workbook", f"unreadable XLSX ({err})") from None
    return {name: places for name, places in found.items() if places}


def refuse_error_cells(raw: bytes, names: list[str], source: str) -> None:
    """Refuse a download with an error cell, naming the first: calamine would read it as an empty cell."""
    errors = error_cells(raw, names, source)
    if errors:
        name, places = next(iter(errors.items()))
        raise DecodeError(source, place(f"sheet {name!r}", *places[0]),
                          "an error value (#N/A, #DIV/0!, ...): a Data Browser download has none")


def iso_update(stamp, source: str, where: str) -> str:
    """'17/12/2024 11:00' (or a date cell) as ISO 8601."""
    if isinstance(stamp, datetime):
        return stamp.isoformat()
    if isinstance(stamp, date):                     # calamine gives a date when the time is 00:00
        return datetime(stamp.year, stamp.month, stamp.day).isoformat()
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


def read_summary(rows: list[list], source: str) -> Summary:
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
            contents[text(row[1])] = tuple(t for t in (text(v) for v in row[2:2 + len(titles)]) if t)
    if dataset is None:
        raise DecodeError(source, f"sheet {SUMMARY!r}", "no dataset title '<title> [<code>]'")
    return Summary(dataset=dataset, updated=updated, contents=contents, titles=titles)


def dimension_id(title: str, source: str, where: str) -> str:
    """The dimension id of a Eurostat dimension title ('Individual type' -> 'ind_type')."""
    dimension = codelists.dimension_ids().get(codelists.normalise_label(title))
    if dimension is None:
        raise DecodeError(source, where, f"unknown dimension title {title!r}: add it to etl/codelists/dimension.csv")
    return dimension


def read_structure(rows: list[list], source: str) -> dict[str, set[str]]:
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
        refuse_error_cells(raw, workbook.sheet_names, source)
        summary = read_summary(sheet_rows(workbook, SUMMARY, source), source)
        mapper = LabelMapper(source, read_structure(sheet_rows(workbook, STRUCTURE, source), source))
        if dataset is not None and dataset.lower() != summary.dataset:
            raise DecodeError(source, f"sheet {SUMMARY!r}", f"holds {summary.dataset!r}, expected {dataset.lower()!r}")
        cells = Cells(source)
        data_sheets = [n for n in workbook.sheet_names if n not in (SUMMARY, STRUCTURE)]
        if not data_sheets:
            raise DecodeError(source, "workbook", "no data sheets")
        for name in data_sheets:
            read_data_sheet(sheet_rows(workbook, name, source), name, summary, mapper, cells)
    finally:
        workbook.close()
    labels = [(dim, code, label) for (dim, code), label in sorted(mapper.labels.items())]
    return Decoded(dataset=summary.dataset, observations=cells.frame(summary.dataset),
                   source_updated=summary.updated, labels=labels)


def read_combination(rows: list[list], sheet: str, name: str, summary: Summary, mapper: LabelMapper):
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


def read_data_sheet(rows: list[list], name: str, summary: Summary, mapper: LabelMapper, cells: Cells) -> None:
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
            elif cell == "" or cell == ":" or cell is None:
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


def read_periods(row: list, row_no: int, sheet: str, source: str) -> list[tuple[int, str]]:
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


def check_sheet_header(rows: list[list], sheet: str, summary: Summary, source: str) -> None:
    """The sheet's own 'Dataset:' line must name the Summary's dataset."""
    for r, row in enumerate(rows, start=1):
        if row and text(row[0]).startswith("Dataset:") and len(row) > 1:
            match = TITLE.match(text(row[1]))
            if not match or match.group("code").lower() != summary.dataset:
                raise DecodeError(source, f"{sheet}, cell {cell_ref(r, 1)}",
                                  f"names dataset {text(row[1])!r}, the Summary says {summary.dataset!r}")



def sheet_names(path) -> list[str]:
    """Sheet names of a workbook, without reading its cells."""
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        return workbook.sheet_names
    finally:
        workbook.close()


def sniff(path) -> str | None:
    """None for a Data Browser download (it has a Summary sheet), else why not."""
    try:
        sheets = sheet_names(path)
    except (CalamineError, OSError) as err:
        return f"a readable workbook ({err})"
    if "Summary" in sheets:
        return None
    return f"a Eurostat Data Browser download (no 'Summary' sheet; sheets: {', '.join(sheets[:8])})"


FORMAT = Format("xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", decode,
                sniff=sniff)
