"""DESI 2022 calculation workbook decoder (the Commission's DESI 2022 workbook, editions DESI 2017-2022).

Two sheets hold the published figures in long form under the header row
    Year + Country | Indicator code | Year | Country | Variable | BrkDwn | Unit | Value | Raw value [| Weight]
- sheet "Data": the 33 indicator values (Variable = indicator code such as desi_hc_bds, BrkDwn its
  breakdown, shares as 0-1), one row per edition y1..y6 (Year 2017..2022) and country;
- sheet "Data 3": the scores: Variable 'desi_total' (the DESI composite, 0-100), Variable 'DESI' with
  BrkDwn desi_hc / desi_conn / desi_idt / desi_dps (the four dimension scores and, in column Weight,
  each dimension's weight in the composite), and the sub-dimension scores (Variable = dimension,
  BrkDwn = sub-dimension, Weight = its weight in the dimension).
Each row with a value becomes one observation of dataset 'desi_2022': geo = Country ('EU' -> EU27_2020,
the workbook recomputes every edition for the 27 Member States), period = Year (the DESI edition),
unit = Unit as published, value = 'Raw value', dims = {indicator: Variable, breakdown: BrkDwn,
measure: 'value' | 'score'}; a Weight becomes a second observation with measure 'weight' (unit 'share').
Rows whose Variable is 0 (unlabelled helper rows of the sheet) carry no published figure and are skipped
with a warning. The other sheets (dashboards, charts, a third party's 'compare'/'Control') are not read.

A workbook without these sheets, a sheet without the header row, a 'Year + Country' key that
disagrees with its Year/Country, an unknown country, a non-numeric value or a duplicated row is a
DecodeError naming the file, the sheet and the row. The sheets are read with python-calamine, which gives
every number as a float (a whole Year 2022.0 is the edition 2022) and an empty cell as ''; it reads an
error cell (#N/A, #DIV/0!, ...) as '' too, so the two sheets' error cells are looked up in their XML
(xlsx.error_cells) and one in a read column of a table row (helper rows aside) is refused.
"""
from __future__ import annotations

import io
import math
import re

from python_calamine import CalamineError, CalamineWorkbook

from etl import codelists
from etl.formats import Format
from etl.formats.xlsx import error_cells, sheet_names
from etl.formats.sdmx_csv import observations_frame
from etl.model import Decoded, DecodeError

DATASET = "desi_2022"
HEADER = ["Year + Country", "Indicator code", "Year", "Country", "Variable", "BrkDwn", "Unit", "Value", "Raw value"]
SHEETS = {"Data": "value", "Data 3": "score"}
KEY = re.compile(r"^y([1-9])_([A-Z]{2})$")
FIRST_EDITION = 2017        # y1 is DESI 2017, ..., y6 is DESI 2022


def workbook(raw: bytes, source: str) -> CalamineWorkbook:
    """The workbook (formulas read as their cached values), or DecodeError."""
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except CalamineError as err:
        raise DecodeError(source, "file", f"not a readable workbook: {err}") from None


def sheet_rows(book: CalamineWorkbook, sheet: str, source: str) -> list[list]:
    """All rows of one sheet from cell A1, or DecodeError."""
    if sheet not in book.sheet_names:
        raise DecodeError(source, f"sheet {sheet!r}", f"missing (sheets: {', '.join(book.sheet_names[:10])})")
    try:
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except CalamineError as err:
        raise DecodeError(source, f"sheet {sheet!r}", f"unreadable sheet ({type(err).__name__}: {err})") from None


def find_header(rows: list[list], sheet: str, source: str):
    """(row number, column index) of the long-form header row; DecodeError when the sheet lacks it."""
    for row_no, row in enumerate(rows, start=1):
        cells = [str(c).strip() for c in row]
        if cells[:len(HEADER)] == HEADER:
            index = {name: col for col, name in enumerate(cells) if name}
            return row_no, index
    raise DecodeError(source, f"sheet {sheet!r}", f"no header row {HEADER} (the long-form table is missing)")


def geo_of(country, source: str, where: str) -> str:
    """The Eurostat geo code of a workbook country."""
    if country == "EU":
        return codelists.EU27
    if not isinstance(country, str) or country not in codelists.codelist("geo") or country.startswith(("EU", "EA")):
        raise DecodeError(source, where, f"unknown country {country!r}")
    return country


def figure(cell, source: str, where: str) -> float:
    """A numeric cell; None/'' is missing; text is refused."""
    if cell is None or cell == "":
        return math.nan
    if isinstance(cell, bool) or not isinstance(cell, (int, float)):
        raise DecodeError(source, where, f"not a number: {cell!r}")
    return float(cell)


def edition_year(cell) -> int | None:
    """The Year cell as a whole number (calamine gives 2022.0), None when it is not one."""
    if type(cell) is float and cell.is_integer():
        return int(cell)
    return cell if type(cell) is int else None


def as_text(cell) -> str:
    """A cell as text; a whole number without calamine's '.0' (as Excel shows it)."""
    return str(int(cell)) if type(cell) is float and cell.is_integer() else str(cell)


def table_errors(errors: list[tuple[int, int]], header_row: int, index: dict[str, int]) -> dict[int, str]:
    """Row number -> the first read column holding an error cell, for the rows below the header."""
    names = {col: name for name, col in index.items() if name in HEADER + ["Weight"]}
    found: dict[int, str] = {}
    for row_no, col in errors:
        if row_no > header_row and col in names:
            found.setdefault(row_no, names[col])
    return found


def sheet_records(book: CalamineWorkbook, sheet: str, measure: str, source: str, warn: list[str],
                  errors: list[tuple[int, int]]) -> list[dict]:
    """The observations of one long-form sheet (errors: the sheet's error cells, row and column)."""
    rows = sheet_rows(book, sheet, source)
    header_row, index = find_header(rows, sheet, source)
    error_columns = table_errors(errors, header_row, index)
    records, skipped = [], 0
    for row_no, row in enumerate(rows[header_row:], start=header_row + 1):
        cells = dict(zip(HEADER + ["Weight"], (row[index[name]] if name in index and index[name] < len(row) else None
                                               for name in HEADER + ["Weight"])))
        where = f"sheet {sheet!r}, row {row_no}"
        if row_no in error_columns and cells["Variable"] != 0:
            raise DecodeError(source, f"{where}, column {error_columns[row_no]}",
                              "an error value (#N/A, #DIV/0!, ...), not a figure or a label")
        if cells["Year + Country"] in (None, ""):
            continue
        if cells["Variable"] in (0, None, ""):
            skipped += 1
            continue
        key = KEY.match(str(cells["Year + Country"]))
        year = edition_year(cells["Year"])
        if not key or year is None or year != FIRST_EDITION + int(key.group(1)) - 1 or key.group(2) != cells["Country"]:
            raise DecodeError(source, where, f"key {cells['Year + Country']!r} disagrees with Year {cells['Year']!r} "
                                             f"/ Country {cells['Country']!r}")
        geo = geo_of(cells["Country"], source, f"{where}, column Country")
        value = figure(cells["Raw value"], source, f"{where}, column Raw value")
        weight = figure(cells["Weight"], source, f"{where}, column Weight")
        base = {"indicator": as_text(cells["Variable"]), "breakdown": as_text(cells["BrkDwn"] or "")}
        if not math.isnan(value):
            records.append({"geo": geo, "period": str(year), "unit": as_text(cells["Unit"] or ""), "value": value,
                            "flags": None, "dims": {**base, "measure": measure}, "where": where})
        if not math.isnan(weight):
            records.append({"geo": geo, "period": str(year), "unit": "share", "value": weight,
                            "flags": None, "dims": {**base, "measure": "weight"}, "where": where})
    if skipped:
        warn.append(f"{source}: sheet {sheet!r}: {skipped} unlabelled helper rows (Variable 0) skipped")
    return records


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode the DESI 2022 workbook's indicator values, scores and weights into dataset 'desi_2022'."""
    if dataset is not None and dataset.lower() != DATASET:
        raise DecodeError(source, "file", f"the DESI 2022 workbook is dataset {DATASET!r}, not {dataset!r}")
    book = workbook(raw, source)
    warn: list[str] = []
    try:
        present = [sheet for sheet in SHEETS if sheet in book.sheet_names]
        errors = error_cells(raw, present, source)
        records = [r for sheet, measure in SHEETS.items()
                   for r in sheet_records(book, sheet, measure, source, warn, errors.get(sheet, []))]
    finally:
        book.close()
    seen: dict[tuple, str] = {}
    for record in records:
        key = (record["geo"], record["period"], record["unit"], tuple(sorted(record["dims"].items())))
        if key in seen:
            raise DecodeError(source, record["where"], f"duplicated row (first at {seen[key]})")
        seen[key] = record["where"]
    return Decoded(dataset=DATASET, observations=observations_frame(records, DATASET), warnings=warn)


RECOGNISED_BY = ("Data", "Data 3", "Metadata")


def sniff(path) -> str | None:
    """None for a workbook with the DESI calculation sheets, else why not."""
    try:
        sheets = sheet_names(path)
    except (CalamineError, OSError) as err:
        return f"a readable workbook ({err})"
    missing = [s for s in RECOGNISED_BY if s not in sheets]
    return None if not missing else f"the DESI calculation workbook (no sheets {missing})"


FORMAT = Format("desi_xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", decode,
                sniff=sniff)
