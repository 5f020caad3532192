"""The XLSX decoder's own XML reader against openpyxl's read-only reading of the same bytes (the reader it replaced)."""
from __future__ import annotations

import gc
import io
import math
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from etl.formats import xlsx
from etl.formats.sdmx_csv import paused_gc
from etl.model import DecodeError
from tests.etl.formats_b import shared_file
from tests.etl.formats_b.test_xlsx import data_sheet, workbook_bytes

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def openpyxl_rows(raw: bytes) -> dict[str, list[tuple]]:
    """Sheet name -> rows as openpyxl's read-only, data_only, values_only iteration gives them."""
    workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        rows = {}
        for name in workbook.sheetnames:
            sheet = workbook[name]
            sheet.reset_dimensions()
            rows[name] = [tuple(row) for row in sheet.iter_rows(values_only=True)]
        return rows
    finally:
        workbook.close()


def our_rows(raw: bytes) -> dict[str, list[tuple]]:
    """Sheet name -> rows as xlsx.sheet_rows reads them."""
    workbook = xlsx.open_workbook(raw, "t.xlsx")
    try:
        return {name: xlsx.sheet_rows(workbook, name) for name in workbook.sheetnames}
    finally:
        workbook.close()


def same_rows(ours: dict, theirs: dict) -> None:
    """Equal sheet by sheet, row by row, with the same value types (1 and 1.0 and True differ)."""
    assert list(ours) == list(theirs)
    for name in theirs:
        assert len(ours[name]) == len(theirs[name]), f"{name}: {len(ours[name])} rows, openpyxl {len(theirs[name])}"
        for number, (mine, reference) in enumerate(zip(ours[name], theirs[name]), start=1):
            assert [(type(v), v) for v in mine] == [(type(v), v) for v in reference], f"{name}, row {number}"


@pytest.mark.parametrize("name", ["isoc_ec_ib20.xlsx", "isoc_ec_ibuy.xlsx"])
def test_every_sheet_of_a_recorded_download_reads_as_openpyxl_reads_it(name):
    raw = shared_file("eurostat", "xlsx", name).read_bytes()
    ours = our_rows(raw)
    assert len(ours) > 100 and ours["Summary"] and ours["Structure"]
    same_rows(ours, openpyxl_rows(raw))


def test_cell_kinds_written_by_openpyxl_read_alike():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Summary"
    sheet["A1"] = "text"
    sheet["C1"] = 3                                   # a gap in B1
    sheet["D1"] = 2.5
    sheet["E1"] = True
    sheet["F1"] = datetime(2024, 12, 17, 11, 0)       # a date style
    sheet["G1"] = "=1+1"                              # a formula without a cached result
    sheet["A4"] = "after two missing rows"
    sheet["B5"] = CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"), " tail")
    sheet["A6"] = " padded  "
    sheet["A7"] = 1e-7
    workbook.create_sheet("Structure")["A2"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    raw = buffer.getvalue()
    ours = our_rows(raw)
    same_rows(ours, openpyxl_rows(raw))
    assert ours["Summary"][0][5] == datetime(2024, 12, 17, 11, 0)
    assert ours["Summary"][1:3] == [(), ()]


SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')


def handmade(sheet_data: str, *, shared: list[str] = (), styles: str = "", date1904: bool = False) -> bytes:
    """A minimal XLSX whose 'Summary' sheet is the given <sheetData> content (and an empty 'Structure')."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}">'
        f'<workbookPr date1904="{str(date1904).lower()}"/><sheets><sheet name="Summary" sheetId="1" r:id="rId1"/>'
        '<sheet name="Structure" sheetId="2" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId4" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": SHEET_HEAD + sheet_data + "</sheetData></worksheet>",
        "xl/worksheets/sheet2.xml": SHEET_HEAD + "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{main}">'
        + "".join(f"<si>{item}</si>" for item in shared) + "</sst>",
        "xl/styles.xml": f'<?xml version="1.0"?><styleSheet xmlns="{main}">{styles}</styleSheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


DATE_STYLES = ('<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/>'
               '<numFmt numFmtId="165" formatCode="#,##0.0"/></numFmts>'
               '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="14"/>'
               '<xf numFmtId="46"/></cellXfs>')


@pytest.mark.parametrize("sheet_data, kwargs", [
    # rows and cells without r attributes, a row out of order (dropped), a gap, cells out of order
    ('<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row r="4"><c r="C4"><v>2.50</v></c>'
     '<c r="A4" t="inlineStr"><is><t>b</t></is></c></row><row r="2"><c r="A2"><v>9</v></c></row>'
     '<row r="6"><c r="B6"><v>1</v></c><c r="E6"><v>2</v></c><c r="C6"><v>3</v></c></row>', {}),
    # every value kind: shared (with a run and the x005F_ escape), inline variants, bool, error, str, empty v
    ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="b"><v>1</v></c>'
     '<c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="str"><f>A1</f><v>cached</v></c><c r="F1"><v></v></c>'
     '<c r="G1" t="inlineStr"><is/></c><c r="H1" t="inlineStr"><is><t></t></is></c><c r="I1" t="inlineStr"/>'
     '<c r="J1" t="inlineStr"><is><r><t>x</t></r><t>p</t><r><t>y</t></r></is></c>'
     '<c r="K1" t="inlineStr"><is><t xml:space="preserve"> sp </t></is></c><c r="L1"><v>1E3</v></c>'
     '<c r="M1" t="d"><v>2024-12-17T11:00:00</v></c><c r="N1"><f>1+1</f><v>2</v></c></row>',
     {"shared": ["<t>one</t>", "<r><t>tw</t></r><r><t>o_x005F_x</t></r>"]}),
    # numbers under date, timedelta and plain styles, 1900 and 1904 epochs
    ('<row r="1"><c r="A1" s="1"><v>45643.458333333336</v></c><c r="B1" s="2"><v>45643.5</v></c>'
     '<c r="C1" s="3"><v>45643</v></c><c r="D1" s="4"><v>1.25</v></c><c r="E1"><v>45643</v></c></row>',
     {"styles": DATE_STYLES}),
    ('<row r="1"><c r="A1" s="1"><v>45643.458333333336</v></c><c r="B1" s="3"><v>0</v></c></row>',
     {"styles": DATE_STYLES, "date1904": True}),
])
def test_handmade_sheets_read_as_openpyxl_reads_them(sheet_data, kwargs):
    raw = handmade(sheet_data, **kwargs)
    same_rows(our_rows(raw), openpyxl_rows(raw))


def test_a_date_styled_last_update_stamp_is_read_as_a_date():
    raw = handmade('<row r="1"><c r="A1" t="inlineStr"><is><t>Test dataset [test_ds__custom_1]</t></is></c></row>'
                   '<row r="2"><c r="A2" t="inlineStr"><is><t>Last update of data:</t></is></c>'
                   '<c r="D2" s="1"><v>45643.458333333336</v></c></row>', styles=DATE_STYLES)
    with pytest.raises(DecodeError, match="no data sheets"):
        xlsx.decode(raw, "t.xlsx")        # the Summary is read (date included) before the data sheets are missed
    workbook = xlsx.open_workbook(raw, "t.xlsx")
    assert xlsx.read_summary(xlsx.sheet_rows(workbook, "Summary"), "t.xlsx").updated == "2024-12-17T11:00:00"


@pytest.mark.parametrize("sheet_data, where, reason", [
    ('<row r="1"><c r="B1"><v>12abc</v></c></row>', "sheet 'Summary', cell B1", "unreadable cell"),
    ('<row r="3"><c r="A3" t="s"><v>7</v></c></row>', "sheet 'Summary', cell A3", "unreadable cell"),
    ('<row r="2"><c r="1A"><v>1</v></c></row>', "sheet 'Summary', row 2", "unreadable cell reference '1A'"),
    ('<row r="x"><c r="A1"><v>1</v></c></row>', "sheet 'Summary', row after 0", "unreadable row number 'x'"),
    ('<row r="1"><c r="A1"><v>1</v></c>', "sheet 'Summary'", "unreadable sheet XML"),
])
def test_unreadable_cells_and_sheets_are_refused_naming_the_place(sheet_data, where, reason):
    with pytest.raises(DecodeError) as err:
        xlsx.decode(handmade(sheet_data), "bad.xlsx")
    assert err.value.source == "bad.xlsx"
    assert err.value.where == where
    assert reason in err.value.reason


def test_a_sheet_whose_part_is_missing_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(handmade(""))) as original, zipfile.ZipFile(buffer, "w") as copy:
        for item in original.infolist():
            if item.filename != "xl/worksheets/sheet2.xml":
                copy.writestr(item, original.read(item))
    with pytest.raises(DecodeError) as err:
        xlsx.decode(buffer.getvalue(), "cut.xlsx")
    assert err.value.where == "sheet 'Structure'" and "missing from the archive" in err.value.reason


def test_streamed_and_whole_parsing_decode_alike(monkeypatch):
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1.5, "", ":", "u"], ["Latvia", ":", "", 2, "bu"]])})
    whole = xlsx.decode(raw, "t.xlsx")
    monkeypatch.setattr(xlsx, "STREAM_ABOVE_BYTES", 0)
    streamed = xlsx.decode(raw, "t.xlsx")
    assert streamed.observations.equals(whole.observations) and len(whole.observations) == 3
    same_rows(our_rows(raw), openpyxl_rows(raw))           # streamed rows too


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_gc_restores_the_collector_state_even_on_error(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(DecodeError):
            with paused_gc():
                assert not gc.isenabled()
                xlsx.decode(b"PK\x03\x04 truncated", "t.xlsx")
        assert gc.isenabled() is enabled
        xlsx.decode(workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1.5, "", ":", "u"]])}), "t.xlsx")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_value_cells_keep_missing_as_nan_and_flags_exactly():
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", ":", "bu", 0, ""], ["Latvia", 0.0, " e ", ":", ""]])})
    obs = xlsx.decode(raw, "t.xlsx").observations
    got = {(r.geo, r.period): (r.value, r.flags) for r in obs.itertuples()}
    assert math.isnan(got[("EE", "2022")][0]) and got[("EE", "2022")][1] == "bu"
    assert got[("EE", "2023")] == (0.0, None) and got[("LV", "2022")] == (0.0, "e")
    assert ("LV", "2023") not in got
