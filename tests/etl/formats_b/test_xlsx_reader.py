"""The XLSX decoder's reading of workbooks through python-calamine: cells at their spreadsheet places, kinds, refusals."""
from __future__ import annotations

import gc
import io
import math
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from etl.formats import xlsx
from etl.formats.sdmx_csv import paused_gc
from etl.model import DecodeError
from tests.etl.formats_b import shared_file
from tests.etl.formats_b.test_xlsx import data_sheet, workbook_bytes

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def openpyxl_cells(raw: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet name -> {(row, column): text} of every non-empty cell, as openpyxl's read-only mode reads them."""
    workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        cells = {}
        for name in workbook.sheetnames:
            sheet = workbook[name]
            sheet.reset_dimensions()
            cells[name] = {(r, c): xlsx.text(v) for r, row in enumerate(sheet.iter_rows(values_only=True), start=1)
                           for c, v in enumerate(row) if xlsx.text(v)}
        return cells
    finally:
        workbook.close()


def our_rows(raw: bytes) -> dict[str, list[list]]:
    """Sheet name -> rows as xlsx.sheet_rows reads them."""
    workbook = xlsx.open_workbook(raw, "t.xlsx")
    try:
        return {name: xlsx.sheet_rows(workbook, name, "t.xlsx") for name in workbook.sheet_names}
    finally:
        workbook.close()


def our_cells(raw: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """our_rows() as {(row, column): text} of every non-empty cell."""
    return {name: {(r, c): xlsx.text(v) for r, row in enumerate(rows, start=1) for c, v in enumerate(row) if xlsx.text(v)}
            for name, rows in our_rows(raw).items()}


@pytest.mark.parametrize("name", ["isoc_ec_ib20.xlsx", "isoc_ec_ibuy.xlsx"])
def test_every_cell_of_a_recorded_download_is_where_openpyxl_reads_it(name):
    raw = shared_file("eurostat", "xlsx", name).read_bytes()
    ours = our_cells(raw)
    assert len(ours) > 100 and ours["Summary"] and ours["Structure"]
    assert ours == openpyxl_cells(raw)


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


def test_rows_start_at_cell_a1_even_when_the_first_cells_are_empty():
    rows = our_rows(handmade('<row r="3"><c r="C3"><v>1</v></c><c r="E3" t="inlineStr"><is><t>x</t></is></c></row>'))
    assert rows["Summary"] == [["", "", "", "", ""], ["", "", "", "", ""], ["", "", 1.0, "", "x"]]


@pytest.mark.parametrize("sheet_data, kwargs", [
    # rows and cells without r attributes, gaps
    ('<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row r="4"><c r="A4" t="inlineStr"><is><t>b</t>'
     '</is></c><c r="C4"><v>2.50</v></c></row><row r="6"><c r="B6"><v>1</v></c><c r="E6"><v>2</v></c></row>', {}),
    # shared strings (with the x005F_ escape), inline variants, bool, str, empty v, exponent, a formula's cached result
    ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="b"><v>1</v></c>'
     '<c r="E1" t="str"><f>A1</f><v>cached</v></c><c r="F1"><v></v></c>'
     '<c r="G1" t="inlineStr"><is/></c><c r="H1" t="inlineStr"><is><t></t></is></c><c r="I1" t="inlineStr"/>'
     '<c r="K1" t="inlineStr"><is><t xml:space="preserve"> sp </t></is></c><c r="L1"><v>1E3</v></c>'
     '<c r="M1" t="d"><v>2024-12-17T11:00:00</v></c><c r="N1"><f>1+1</f><v>2</v></c></row>',
     {"shared": ["<t>one</t>", "<r><t>tw</t></r><r><t>o_x005F_x</t></r>"]}),
    # numbers under date-time, timedelta and plain styles, 1900 and 1904 epochs (a date style: see the next test)
    ('<row r="1"><c r="A1" s="1"><v>45643.458333333336</v></c><c r="B1" s="2"><v>45643.5</v></c>'
     '<c r="D1" s="4"><v>1.25</v></c><c r="E1"><v>45643</v></c></row>',
     {"styles": DATE_STYLES}),
    ('<row r="1"><c r="A1" s="1"><v>45643.458333333336</v></c></row>', {"styles": DATE_STYLES, "date1904": True}),
])
def test_handmade_cells_are_where_openpyxl_reads_them(sheet_data, kwargs):
    raw = handmade(sheet_data, **kwargs)
    assert our_cells(raw) == openpyxl_cells(raw)


def test_cell_kinds_as_calamine_gives_them():
    raw = handmade('<row r="1"><c r="A1"><v>3</v></c><c r="B1" t="b"><v>1</v></c><c r="C1" t="inlineStr"><is><t>t</t></is></c>'
                   '<c r="D1" s="1"><v>45643.458333333336</v></c><c r="E1" s="3"><v>45643</v></c></row>'
                   '<row r="2"><c r="C2"><v>2.5</v></c><c r="A2"><v>1</v></c></row>', styles=DATE_STYLES)
    # integers come back as float, empty cells as '', a date style without a time as a date (openpyxl: a datetime),
    # and cells written out of column order all kept (openpyxl's read-only rows drop the earlier ones)
    assert our_rows(raw)["Summary"] == [[3.0, True, "t", datetime(2024, 12, 17, 11, 0), date(2024, 12, 17)],
                                        [1.0, "", 2.5, "", ""]]
    assert [type(v) for v in our_rows(raw)["Summary"][0][:2]] == [float, bool]


@pytest.mark.parametrize("stamp, iso", [
    ('<c r="D2" s="1"><v>45643.458333333336</v></c>', "2024-12-17T11:00:00"),    # a date and time style
    ('<c r="D2" s="3"><v>45643</v></c>', "2024-12-17T00:00:00"),                 # a date style: calamine gives a date
])
def test_a_date_styled_last_update_stamp_is_read_as_a_date(stamp, iso):
    raw = handmade('<row r="1"><c r="A1" t="inlineStr"><is><t>Test dataset [test_ds__custom_1]</t></is></c></row>'
                   '<row r="2"><c r="A2" t="inlineStr"><is><t>Last update of data:</t></is></c>' + stamp + '</row>',
                   styles=DATE_STYLES)
    with pytest.raises(DecodeError, match="no data sheets"):
        xlsx.decode(raw, "t.xlsx")        # the Summary is read (date included) before the data sheets are missed
    workbook = xlsx.open_workbook(raw, "t.xlsx")
    assert xlsx.read_summary(xlsx.sheet_rows(workbook, "Summary", "t.xlsx"), "t.xlsx").updated == iso


def test_numeric_periods_and_labels_read_as_whole_numbers():
    sheet = data_sheet([["Estonia", 1.5, "", 2, ""]])
    sheet[6] = ["TIME", 2022, "", 2023, ""]                  # periods written as numbers, not text
    obs = xlsx.decode(workbook_bytes({"Sheet 1": sheet}), "t.xlsx").observations
    assert sorted(obs["period"]) == ["2022", "2023"]


@pytest.mark.parametrize("sheet_data, calamine_says", [
    ('<row r="3"><c r="A3" t="s"><v>7</v></c></row>', "shared strings"),          # no shared string 7
    ('<row r="2"><c r="1A"><v>1</v></c></row>', "CalamineError"),                # an unreadable cell reference
    ('<row r="x"><c r="A1"><v>1</v></c></row>', "row"),                          # an unreadable row number
    ('<row r="1"><c r="A1"><v>1</v></x></row>', "XmlError"),                     # mismatched tags
    ('<row r="1"><c r="A1" t="n"><v>12abc</v></c></row>', "float"),              # a number cell that is not one
])
def test_unreadable_sheets_are_refused_naming_the_sheet(sheet_data, calamine_says):
    with pytest.raises(DecodeError) as err:
        xlsx.decode(handmade(sheet_data), "bad.xlsx")
    assert err.value.source == "bad.xlsx"
    assert err.value.where == "sheet 'Summary'"
    assert "unreadable sheet" in err.value.reason and calamine_says in err.value.reason


def test_a_number_cell_holding_text_is_refused_where_a_value_is_read():
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1.5, "", 2, ""]])})
    with zipfile.ZipFile(io.BytesIO(raw)) as original:
        parts = {item.filename: original.read(item) for item in original.infolist()}
    member = "xl/worksheets/sheet3.xml"
    cell = b'<c r="B9" t="n"><v>1.5</v></c>'
    assert cell in parts[member]
    parts[member] = parts[member].replace(cell, b'<c r="B9"><v>12abc</v></c>')  # calamine reads it as the text
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy:
        for name, body in parts.items():
            copy.writestr(name, body)
    with pytest.raises(DecodeError) as err:
        xlsx.decode(buffer.getvalue(), "bad.xlsx")
    assert err.value.where == "sheet 'Sheet 1', cell B9" and "unparsable number '12abc'" in err.value.reason


def test_a_sheet_whose_part_is_missing_is_refused():
    buffer = io.BytesIO()
    title = '<row r="1"><c r="A1" t="inlineStr"><is><t>Test dataset [test_ds__custom_1]</t></is></c></row>'
    with zipfile.ZipFile(io.BytesIO(handmade(title))) as original, zipfile.ZipFile(buffer, "w") as copy:
        for item in original.infolist():
            if item.filename != "xl/worksheets/sheet2.xml":
                copy.writestr(item, original.read(item))
    with pytest.raises(DecodeError) as err:
        xlsx.decode(buffer.getvalue(), "cut.xlsx")
    assert err.value.where == "sheet 'Structure'" and "missing from the archive" in err.value.reason


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


def test_an_error_cell_is_refused_not_read_as_missing():
    raw = workbook_bytes({"Sheet 1": data_sheet([["Estonia", 1.5, "", "#DIV/0!", ""]])})   # openpyxl writes t="e"
    assert our_rows(raw)["Sheet 1"][8][3] == ""           # what calamine gives for it: an empty cell
    with pytest.raises(DecodeError) as err:
        xlsx.decode(raw, "bad.xlsx")
    assert err.value.where == "sheet 'Sheet 1', cell D9" and "error value" in err.value.reason


def test_error_cells_are_found_in_the_sheet_xml():
    raw = handmade('<row r="2"><c r="C2" t="e"><v>#N/A</v></c><c r="AB2" s="0" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
                   '</row><row r="5"><c r="A5" t="inlineStr"><is><t>t="e"</t></is></c></row>')
    assert xlsx.error_cells(raw, ["Summary", "Structure"], "t.xlsx") == {"Summary": [(2, 2), (2, 27)]}
