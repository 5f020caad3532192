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
"""
from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from etl import codelists
from etl.formats.sdmx_csv import observations_frame, parse_flag, parse_number
from etl.model import Decoded, DecodeError

SUMMARY, STRUCTURE = "Summary", "Structure"
TITLE = re.compile(r"^(?P<title>.*)\[(?P<code>[A-Za-z0-9_]+?)(?:__custom_\d+)?\]\s*$")
GEO_HEADER = "GEO (Labels)"
UPDATE_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M")


def cell_ref(row: int, col: int) -> str:
    """Spreadsheet reference of a 1-based row and 0-based column ('B12')."""
    return f"{get_column_letter(col + 1)}{row}"


def text(value) -> str:
    """A cell as stripped text ('' for empty)."""
    return "" if value is None else str(value).strip()


def sheet_rows(workbook, name: str) -> list[tuple]:
    """All rows of one sheet (read-only mode; the stored dimension tag is not trusted)."""
    sheet = workbook[name]
    sheet.reset_dimensions()
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def iso_update(stamp, source: str, where: str) -> str:
    """'17/12/2024 11:00' (or a datetime cell) as ISO 8601."""
    if isinstance(stamp, datetime):
        return stamp.isoformat()
    for fmt in UPDATE_FORMATS:
        try:
            return datetime.strptime(text(stamp), fmt).isoformat()
        except ValueError:
            continue
    raise DecodeError(source, where, f"unreadable last-update stamp {stamp!r}")


def open_workbook(raw: bytes, source: str):
    """The workbook in read-only mode; HTML pages and non-XLSX bodies are refused."""
    head = raw.lstrip()[:512].lower()
    if head.startswith(b"<"):
        raise DecodeError(source, "byte 0", "an HTML/XML page, not an XLSX workbook")
    if not raw.startswith(b"PK"):
        raise DecodeError(source, "byte 0", "not an XLSX workbook (no zip signature)")
    try:
        with warnings.catch_warnings():
            # Data Browser files carry no default cell style; openpyxl warns and applies its own.
            warnings.filterwarnings("ignore", message="Workbook contains no default style")
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise DecodeError(source, "workbook", f"unreadable XLSX ({err})") from None
    for required in (SUMMARY, STRUCTURE):
        if required not in workbook.sheetnames:
            raise DecodeError(source, "workbook", f"no {required!r} sheet (sheets: {workbook.sheetnames[:5]})")
    return workbook


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

    def code(self, dimension: str, label, where: str) -> str:
        """The code of a label; unknown labels and labels missing from the Structure sheet are refused."""
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


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one Data Browser XLSX download into tidy observations (see the module docstring)."""
    workbook = open_workbook(raw, source)
    try:
        summary = read_summary(sheet_rows(workbook, SUMMARY), source)
        mapper = LabelMapper(source, read_structure(sheet_rows(workbook, STRUCTURE), source))
        if dataset is not None and dataset.lower() != summary.dataset:
            raise DecodeError(source, f"sheet {SUMMARY!r}", f"holds {summary.dataset!r}, expected {dataset.lower()!r}")
        records, seen = [], {}
        data_sheets = [n for n in workbook.sheetnames if n not in (SUMMARY, STRUCTURE)]
        if not data_sheets:
            raise DecodeError(source, "workbook", "no data sheets")
        for name in data_sheets:
            for record, where in read_data_sheet(sheet_rows(workbook, name), name, summary, mapper):
                key = (record["geo"], record["period"], record["unit"], tuple(sorted(record["dims"].items())))
                if key in seen:
                    raise DecodeError(source, where, f"duplicated observation (first at {seen[key]})")
                seen[key] = where
                records.append(record)
    finally:
        workbook.close()
    frame = observations_frame(records, summary.dataset)
    labels = [(dim, code, label) for (dim, code), label in sorted(mapper.labels.items())]
    return Decoded(dataset=summary.dataset, observations=frame,
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


def read_data_sheet(rows: list[tuple], name: str, summary: Summary, mapper: LabelMapper):
    """Yield (record, place) for every cell of one data sheet that has a value or a flag."""
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
        raise DecodeError(source, f"{sheet}, cell {cell_ref(time_row + 2, 0)}", f"expected {GEO_HEADER!r}, got {geo_header!r}")
    for r in range(time_row + 2, len(rows)):
        row = rows[r]
        if not row or not text(row[0]):
            break                               # the data block ends at the first blank line
        geo = mapper.code("geo", row[0], f"{sheet}, cell {cell_ref(r + 1, 0)}")
        for col, period in periods:
            where = f"{sheet}, cell {cell_ref(r + 1, col)}"
            value = read_value(row[col] if col < len(row) else None, source, where)
            flag_cell = row[col + 1] if col + 1 < len(row) else None
            flags = parse_flag(text(flag_cell), source, f"{sheet}, cell {cell_ref(r + 1, col + 1)}")
            if math.isnan(value) and flags is None:
                continue
            yield {"geo": geo, "period": period, "unit": unit, "dims": dict(dims),
                   "value": value, "flags": flags}, where


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

