"""Data Browser XLSX decoder against the recorded downloads (read independently from their XML) and small workbooks built here."""
from __future__ import annotations

import functools
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest

from etl import codelists
from etl.formats import xlsx
from etl.model import DecodeError
from tests.etl.formats_b import read_codelist_csv, same_cell, shared_file

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")
XLSX_FILES = ["isoc_ec_ib20.xlsx", "isoc_ec_ibuy.xlsx"]
# Two ind_type labels of these downloads whose official Eurostat codes could not be confirmed.
CHILDREN_LABELS = {"Individuals living in a household with children", "Individuals living in a household without children"}


@pytest.fixture(scope="module")
def recorded():
    """Each recorded download decoded once for the module: name -> (path, Decoded)."""
    cache = {}

    def decoded(name):
        if name not in cache:
            path = shared_file("eurostat", "xlsx", name)
            cache[name] = (path, xlsx.decode(path.read_bytes(), name))
        return cache[name]
    return decoded


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


def column_index(ref: str) -> int:
    """0-based column of a cell reference ('AB12' -> 27)."""
    letters = re.match(r"[A-Z]+", ref).group()
    return functools.reduce(lambda acc, ch: acc * 26 + ord(ch) - 64, letters, 0) - 1


def raw_sheets(path) -> dict[str, list[list]]:
    """Sheet name -> rows of cell values, read from the XLSX's XML with zipfile/ElementTree (no openpyxl)."""
    with zipfile.ZipFile(path) as archive:
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
        shared = []
        if "xl/sharedStrings.xml" in archive.namelist():
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                      for si in ET.fromstring(archive.read("xl/sharedStrings.xml")).findall("m:si", NS)]
        sheets = {}
        for sheet in ET.fromstring(archive.read("xl/workbook.xml")).find("m:sheets", NS):
            xml = ET.fromstring(archive.read("xl/" + target[sheet.get(f"{{{NS['r']}}}id")].lstrip("/").removeprefix("xl/")))
            rows = []
            for row in xml.iter(f"{{{NS['m']}}}row"):
                number = int(row.get("r"))
                rows += [[] for _ in range(number - len(rows))]
                cells = rows[number - 1]
                for cell in row.findall("m:c", NS):
                    col, kind = column_index(cell.get("r")), cell.get("t")
                    cells += [None] * (col + 1 - len(cells))
                    if kind == "inlineStr":
                        cells[col] = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
                    elif kind == "s":
                        cells[col] = shared[int(cell.find("m:v", NS).text)]
                    elif cell.find("m:v", NS) is not None:
                        cells[col] = cell.find("m:v", NS).text if kind == "str" else float(cell.find("m:v", NS).text)
            sheets[sheet.get("name")] = rows
    return sheets


def independent_walk(path, directory):
    """Every value-or-flag cell of every data sheet, read from the raw XML: key -> (value, flags)."""
    titles = read_codelist_csv(directory, "dimension")
    geos = read_codelist_csv(directory, "geo")
    cells = {}
    for name, rows in raw_sheets(path).items():
        if name in ("Summary", "Structure"):
            continue
        time_row = next(i for i, row in enumerate(rows) if row and row[0] == "TIME")
        combination = tuple(sorted((titles[row[0]], read_codelist_csv(directory, titles[row[0]])[row[2]])
                                   for row in rows[:time_row] if row and row[0] in titles and len(row) > 2 and row[2]))
        periods = [(col, rows[time_row][col]) for col in range(1, len(rows[time_row]), 2) if rows[time_row][col]]
        for row in rows[time_row + 2:]:
            if not row or not row[0]:
                break
            for col, period in periods:
                value = row[col] if col < len(row) else None
                flag = row[col + 1] if col + 1 < len(row) else None
                if value == ":" and not flag:
                    continue
                key = (combination, geos[row[0]], period)
                assert key not in cells, f"{path.name}: {name} repeats {key}"
                cells[key] = (None if value == ":" else float(value), flag or None)
    return cells


@pytest.mark.parametrize("name", XLSX_FILES)
def test_recorded_download_round_trips_every_cell(name, recorded):
    path, decoded = recorded(name)
    expected = independent_walk(path, codelists.CODELIST_DIR)
    assert decoded.dataset == name.removesuffix(".xlsx")
    assert len(decoded.observations) == len(expected)
    got = {}
    for row in decoded.observations.itertuples(index=False):
        combination = dict(row.dims, unit=row.unit)
        got[(tuple(sorted(combination.items())), row.geo, row.period)] = (row.value, row.flags)
    assert got.keys() == expected.keys()
    mismatched = [k for k in expected if not same_cell(*got[k], *expected[k])]
    assert not mismatched, f"{len(mismatched)} cells differ, e.g. {mismatched[0]}"


@pytest.mark.parametrize("name, iso", [("isoc_ec_ib20.xlsx", "2024-12-17T11:00:00"), ("isoc_ec_ibuy.xlsx", "2024-06-16T23:00:00")])
def test_source_updated_comes_from_the_summary_sheet(name, iso, recorded):
    path, decoded = recorded(name)
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheet = workbook["Summary"]
    sheet.reset_dimensions()
    stamp = next(row[3] for row in sheet.iter_rows(values_only=True) if row and str(row[0]).startswith("Last update of data"))
    day, month, rest = stamp.split("/")
    assert iso == f"{rest[:4]}-{month}-{day}T{rest[5:]}:00"
    assert decoded.source_updated == iso


def test_unknown_label_in_a_real_download_names_sheet_and_cell():
    path = shared_file("eurostat", "xlsx", "isoc_ec_ib20.xlsx")
    sheet = openpyxl.load_workbook(path, read_only=True)["Sheet 1"]
    sheet.reset_dimensions()
    assert next(sheet.iter_rows(min_row=27, max_row=27, max_col=1, values_only=True)) == ("Latvia",)
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as renamed:
        for item in original.infolist():
            body = original.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body.replace(b"<t>Latvia</t>", b"<t>Livonia</t>")     # the label, on every sheet
            renamed.writestr(item, body)
    with pytest.raises(DecodeError) as err:
        xlsx.decode(buffer.getvalue(), path.name)
    assert err.value.source == path.name
    assert err.value.where == "sheet 'Sheet 1', cell A27"
    assert "unknown geo label 'Livonia'" in err.value.reason


def test_labels_map_to_codes_in_a_real_download(recorded):
    _, decoded = recorded("isoc_ec_ib20.xlsx")
    obs = decoded.observations
    assert {"EE", "EL", "EU27_2020", "EA", "XK", "TR"} <= set(obs["geo"])
    assert set(obs["unit"]) == {"PC_IND"}
    assert set(obs["dims"].map(lambda d: d["indic_is"])) == {"I_BUY3", "I_B3_12", "I_BLT12", "I_BUMT12", "I_BUMT12X"}
    assert ("geo", "XK", "Kosovo*") in decoded.labels
    estonia_2020 = obs[(obs["geo"] == "EE") & (obs["period"] == "2020")
                       & obs["dims"].map(lambda d: d == {"freq": "A", "ind_type": "IND_TOTAL", "indic_is": "I_BUY3"})]
    assert estonia_2020["value"].tolist() == [56.53]          # Sheet 1, row 19 of the download
    provisional = {c for c in obs["dims"].map(lambda d: d["ind_type"]) if c.startswith(codelists.PROVISIONAL_PREFIX)}
    assert {label for dim, code, label in decoded.labels if code in provisional} == CHILDREN_LABELS


# ---- small workbooks built here ----------------------------------------------------------------

def workbook_bytes(sheets: dict[str, list[list]], summary=None, structure=None) -> bytes:
    """An XLSX in the Data Browser layout with the given data sheets."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Summary"
    for row in summary if summary is not None else [
        [None], ["Test dataset [test_ds__custom_1]"], ["Last update of data: ", None, None, "01/02/2024 10:00"],
    ]:
        workbook["Summary"].append(row)
    structure_sheet = workbook.create_sheet("Structure")
    for row in structure if structure is not None else [
        ["Structure"], [None, "Dimension", "Position"], [None, "Unit of measure", "Percentage of individuals"],
        [None, "Geopolitical entity (reporting)", "Estonia"], [None, "Geopolitical entity (reporting)", "Latvia"],
    ]:
        structure_sheet.append(row)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def data_sheet(geo_rows: list[list], unit: str = "Percentage of individuals", dataset="Test dataset [test_ds__custom_1]"):
    """The rows of one data sheet: header block, TIME row, GEO row, geo rows, legend."""
    return [["Data extracted on 01/02/2024 from [ESTAT]"], ["Dataset: ", dataset], ["Last updated: ", "01/02/2024 10:00"],
            [None], ["Unit of measure", None, unit], [None],
            ["TIME", "2022", "", "2023", ""], ["GEO (Labels)", "", "", "", ""],
            *geo_rows, [None], ["Special value"], [":", "not available"]]


def test_small_workbook_decodes_with_missing_rules():
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1.5, "", ":", "u"], ["Latvia", ":", "", 2, "bu"]])})
    decoded = xlsx.decode(raw, "t.xlsx")
    assert decoded.dataset == "test_ds" and decoded.source_updated == "2024-02-01T10:00:00"
    got = {(r.geo, r.period): (None if math.isnan(r.value) else r.value, r.flags) for r in decoded.observations.itertuples()}
    assert got == {("EE", "2022"): (1.5, None), ("EE", "2023"): (None, "u"), ("LV", "2023"): (2.0, "bu")}


@pytest.mark.parametrize(
    "sheets, where, reason",
    [
        ({"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""], ["Atlantis", 1, "", 2, ""]])}, "sheet 'Sheet 1', cell A10", "'Atlantis'"),
        ({"Sheet 1": data_sheet([["Estonia", "n/a", "", 2, ""]])}, "sheet 'Sheet 1', cell B9", "unparsable number"),
        ({"Sheet 1": data_sheet([["Estonia", 1, "k", 2, ""]])}, "sheet 'Sheet 1', cell C9", "unknown flag 'k'"),
        ({"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""]], unit="Percent of nothing")}, "sheet 'Sheet 1', cell C5", "unit label"),
        ({"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""]]), "Sheet 2": data_sheet([["Estonia", 3, "", 4, ""]])},
         "sheet 'Sheet 2', cell B9", "duplicated observation"),
        ({"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""]], dataset="Other [other_ds]")}, "sheet 'Sheet 1', cell B2", "names dataset"),
        ({"Sheet 1": [["no time row here"]]}, "sheet 'Sheet 1'", "no TIME row"),
        ({"Sheet 1": [r if r[:1] != ["GEO (Labels)"] else ["GEO (Codes)"] for r in data_sheet([["EE", 1, "", 2, ""]])]},
         "sheet 'Sheet 1', cell A8", "expected 'GEO (Labels)'"),
    ],
)
def test_bad_workbooks_are_refused_naming_sheet_and_cell(sheets, where, reason):
    with pytest.raises(DecodeError) as err:
        xlsx.decode(workbook_bytes(sheets), "bad.xlsx")
    assert err.value.source == "bad.xlsx"
    assert err.value.where == where
    assert reason in err.value.reason


def test_label_missing_from_structure_sheet_is_refused():
    sheets = {"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""], ["Finland", 1, "", 2, ""]])}
    with pytest.raises(DecodeError, match="not in the Structure sheet") as err:
        xlsx.decode(workbook_bytes(sheets), "t.xlsx")
    assert err.value.where == "sheet 'Sheet 1', cell A10"


@pytest.mark.parametrize("raw, reason", [
    (b"<html><body>502 Bad Gateway</body></html>", "HTML"),
    (b"DATAFLOW,LAST UPDATE\n", "no zip signature"),
    (b"PK\x03\x04 truncated", "unreadable XLSX"),
])
def test_non_workbooks_are_refused(raw, reason):
    with pytest.raises(DecodeError, match=reason) as err:
        xlsx.decode(raw, "page.xlsx")
    assert err.value.source == "page.xlsx"


def test_wrong_dataset_and_missing_summary_are_refused():
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1, "", 2, ""]])})
    with pytest.raises(DecodeError, match="expected 'isoc_ec_ib20'"):
        xlsx.decode(raw, "t.xlsx", dataset="isoc_ec_ib20")
    with pytest.raises(DecodeError, match="no dataset title"):
        xlsx.decode(workbook_bytes({"Sheet 1": data_sheet([])}, summary=[["nothing"]]), "t.xlsx")
    assert codelists.code_for_label("geo", "Estonia") == "EE"
