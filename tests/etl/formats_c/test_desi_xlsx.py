"""DESI 2022 workbook: values against an openpyxl read of the sheets, the composite reproduced from scores and weights."""
from __future__ import annotations

import io
import warnings

import openpyxl
import pytest

from etl.formats import desi_xlsx
from etl.model import DecodeError

WORKBOOK = "desi/desi_2022_workbook.xlsx"
HEADER = ["Year + Country", "Indicator code", "Year", "Country", "Variable", "BrkDwn", "Unit", "Value", "Raw value", "Weight"]


@pytest.fixture(scope="module")
def decoded(shared_data):
    path = shared_data / WORKBOOK
    return desi_xlsx.decode(path.read_bytes(), path.name)


@pytest.fixture(scope="module")
def sheets(shared_data):
    """Each long-form sheet's rows below its header, read with openpyxl alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(shared_data / WORKBOOK, read_only=True, data_only=True)
    out = {}
    for name in ("Data", "Data 3"):
        rows = list(book[name].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if list(r[:9]) == HEADER[:9])
        out[name] = [dict(zip(HEADER, r[:10])) for r in rows[start + 1:] if r[0]]
    return out


def rows_of(obs, measure):
    return {(r.geo, r.period, r.dims["indicator"], r.dims["breakdown"]): r.value
            for r in obs.itertuples() if r.dims["measure"] == measure}


def test_every_indicator_value_of_sheet_data_is_a_row(decoded, sheets):
    got = rows_of(decoded.observations, "value")
    expected = {("EU27_2020" if r["Country"] == "EU" else r["Country"], str(r["Year"]), r["Variable"], r["BrkDwn"]): r["Raw value"]
                for r in sheets["Data"] if r["Raw value"] not in (None, "")}
    assert got == expected
    assert len(expected) == 3577 and {k[1] for k in got} == {str(y) for y in range(2017, 2023)}


def test_scores_and_weights_of_sheet_data_3_are_rows(decoded, sheets):
    labelled = [r for r in sheets["Data 3"] if r["Variable"] != 0]
    scores, weights = rows_of(decoded.observations, "score"), rows_of(decoded.observations, "weight")
    assert len(scores) == len(labelled) and len(weights) == sum(r["Weight"] is not None for r in labelled)
    de = next(r for r in labelled if r["Year + Country"] == "y6_DE" and r["Variable"] == "DESI" and r["BrkDwn"] == "desi_conn")
    assert scores[("DE", "2022", "DESI", "desi_conn")] == de["Raw value"] and weights[("DE", "2022", "DESI", "desi_conn")] == de["Weight"]


@pytest.mark.parametrize("geo, published", [("DE", 52.9), ("EU27_2020", 52.3)])
def test_desi_2022_composite_is_the_weighted_sum_of_the_dimension_scores(decoded, geo, published):
    scores, weights = rows_of(decoded.observations, "score"), rows_of(decoded.observations, "weight")
    dims = [k for k in scores if k[:3] == (geo, "2022", "DESI")]
    assert len(dims) == 4 and sum(weights[k] for k in dims) == pytest.approx(1.0)
    composite = sum(scores[k] * weights[k] for k in dims)
    assert composite == pytest.approx(scores[(geo, "2022", "desi_total", "desi_total")], abs=1e-9)
    assert round(composite, 1) == published


def test_every_edition_and_country_reproduces_its_composite(decoded):
    scores, weights = rows_of(decoded.observations, "score"), rows_of(decoded.observations, "weight")
    totals = {k[:2]: v for k, v in scores.items() if k[2] == "desi_total"}
    assert len(totals) == 6 * 28
    for (geo, period), total in totals.items():
        dims = [k for k in scores if k[:3] == (geo, period, "DESI")]
        assert sum(scores[k] * weights[k] for k in dims) == pytest.approx(total, abs=1e-9), (geo, period)


def workbook_bytes(data_rows, header=HEADER[:9], sheets=("Data", "Data 3")):
    """A tiny synthetic workbook with the given long-form rows in each sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        sheet.append(["Year", "Country", "Year + country"])
        sheet.append([])
        if header:
            sheet.append(header)
        for row in data_rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = ["y6_EE", 1001, 2022, "EE", "desi_hc_bds", "IND_TOTAL", "pc_ind", 0.5, 0.5]


@pytest.mark.parametrize("body, where, reason", [
    (workbook_bytes([GOOD], header=None), "sheet 'Data'", "no header row"),
    (workbook_bytes([GOOD], sheets=("Data",)), "sheet 'Data 3'", "missing"),
    (workbook_bytes([GOOD[:8] + ["n/a"]]), "sheet 'Data', row 4, column Raw value", "not a number"),
    (workbook_bytes([["y6_EE", 1001, 2021] + GOOD[3:]]), "sheet 'Data', row 4", "disagrees"),
    (workbook_bytes([["y6_EE", 1001, 2022.5] + GOOD[3:]]), "sheet 'Data', row 4", "disagrees"),
    (workbook_bytes([["y6_EE", 1001, "2022"] + GOOD[3:]]), "sheet 'Data', row 4", "disagrees"),
    (workbook_bytes([["y6_XX", 1001, 2022, "XX"] + GOOD[4:]]), "sheet 'Data', row 4, column Country", "unknown country"),
    (workbook_bytes([GOOD, GOOD]), "sheet 'Data', row 5", "duplicated row (first at sheet 'Data', row 4)"),
    (b"not a zip", "file", "not a readable workbook"),
])
def test_a_bad_workbook_is_refused_naming_sheet_and_row(body, where, reason):
    with pytest.raises(DecodeError) as caught:
        desi_xlsx.decode(body, "desi_2022_workbook.xlsx")
    assert (caught.value.source, caught.value.where) == ("desi_2022_workbook.xlsx", where)
    assert reason in caught.value.reason


def test_whole_numbers_read_as_the_workbook_shows_them():
    row = ["y6_EE", 1001, 2022, "EE", 28, 3, 7, 0.5, 0.5]       # calamine gives 2022.0, 28.0, 3.0 and 7.0
    obs = desi_xlsx.decode(workbook_bytes([row]), "desi_2022_workbook.xlsx").observations
    assert set(obs["period"]) == {"2022"} and set(obs["unit"]) == {"7"}
    assert {(d["indicator"], d["breakdown"]) for d in obs["dims"]} == {("28", "3")}


def test_an_error_cell_is_refused_in_a_table_row_and_ignored_in_a_helper_row():
    helper = ["y6_EE", 1002, 2022, "EE", 0, "", "", "#N/A", "#DIV/0!"]          # openpyxl writes these as t="e"
    decoded = desi_xlsx.decode(workbook_bytes([GOOD, helper]), "desi_2022_workbook.xlsx")
    assert len(decoded.observations) == 2 and "helper rows" in decoded.warnings[0]
    with pytest.raises(DecodeError) as caught:
        desi_xlsx.decode(workbook_bytes([GOOD[:8] + ["#DIV/0!"]]), "desi_2022_workbook.xlsx")
    assert caught.value.where == "sheet 'Data', row 4, column Raw value" and "error value" in caught.value.reason
