"""SDMX-CSV decoder against the recorded Eurostat files and small synthetic files."""
from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest

from etl import codelists
from etl.formats import sdmx_csv
from etl.model import DecodeError, finalize
from tests.etl.formats_b import extended_codelists, read_codelist_csv, same_cell, shared_file

SDMX_DIR = ("eurostat", "sdmx-csv")
CONFIDENTIAL = {"N", "C", "D", "S", "A", "O", "T", "G", "M"}
NOT_DIMENSIONS = {"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "DATAFLOW", "LAST UPDATE",
                  "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"}


def independent_cells(path, directory) -> dict[tuple, tuple[float | None, str | None]]:
    """Every cell with a value, flag or confidentiality status, read with the csv module: key -> (value, flags)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    dims = [h for h in header if h not in NOT_DIMENSIONS]
    labels = {d: read_codelist_csv(directory, d) for d in dims}
    labelled = rows[1][header.index("freq")] not in ("A", "Q", "M", "S")
    cells = {}
    for row in rows[1:]:
        cell = dict(zip(header, row))
        conf = cell.get("CONF_STATUS", "")
        flag = cell.get("OBS_FLAG", "")
        flags = flag + ("c" if conf in CONFIDENTIAL and "c" not in flag else "")
        if cell["OBS_VALUE"] == "" and flags == "":
            continue
        codes = tuple((d, labels[d][cell[d]] if labelled else cell[d]) for d in dims)
        key = (codes, cell["TIME_PERIOD"], conf or None)
        assert key not in cells, f"{path.name}: the recorded file repeats {key}"
        cells[key] = (float(cell["OBS_VALUE"]) if cell["OBS_VALUE"] else None, flags or None)
    return cells


def round_trip(path, directory):
    """Decode a recorded file and compare every cell with the independent reading."""
    decoded = sdmx_csv.decode(path.read_bytes(), path.name)
    expected = independent_cells(path, directory)
    assert len(decoded.observations) == len(expected)
    order = [d for d, _ in next(iter(expected))[0]]
    got = {}
    for row in decoded.observations.itertuples(index=False):
        dims = dict(row.dims)
        conf = dims.pop("conf_status", None)
        codes = dict(dims, geo=row.geo, unit=row.unit)
        got[(tuple((d, codes[d]) for d in order), row.period, conf)] = (row.value, row.flags)
    assert got.keys() == expected.keys()
    mismatched = [k for k in expected if not same_cell(*got[k], *expected[k])]
    assert not mismatched, f"{len(mismatched)} cells differ, e.g. {mismatched[0]}: {got[mismatched[0]]} vs {expected[mismatched[0]]}"
    return decoded


@pytest.mark.parametrize("name", ["isoc_e_dii.csv", "isoc_sk_dskl_i21_labels.csv", "isoc_ec_esels_labels.csv",
                                  "isoc_cbt_labels.csv"])
def test_recorded_file_round_trips_every_cell(name):
    path = shared_file(*SDMX_DIR, name)
    decoded = round_trip(path, codelists.CODELIST_DIR)
    table = finalize(decoded, retrieved_at=pd.Timestamp("2025-01-01", tz="UTC"), source_file=name)
    assert table.num_rows == len(decoded.observations)


def test_isoc_cbt_uses_provisional_codes_only_for_its_two_unconfirmed_labels():
    path = shared_file(*SDMX_DIR, "isoc_cbt_labels.csv")
    decoded = sdmx_csv.decode(path.read_bytes(), path.name)
    assert decoded.dataset == "isoc_cbt"
    assert decoded.source_updated == "2024-09-06T23:00:00"
    technologies = set(decoded.observations["dims"].map(lambda d: d["inet_tec"]))
    assert {"5G", "BB_FX"} <= technologies                     # the codes the catalogue selects
    provisional = {code for code in technologies if code.startswith(codelists.PROVISIONAL_PREFIX)}
    assert provisional == set(codelists.provisional_codes("inet_tec"))
    assert {label for dim, code, label in decoded.labels if code in provisional} == {
        "Broadband", "Very high-speed digital subscriber line 2 vectoring (VDSL2)"}
    assert set(decoded.observations["dims"].map(lambda d: d["terrtypo"])) == {"TOTAL"}


def with_label_replaced(path, line: int, column: str, label: str) -> bytes:
    """The recorded file with one cell's label replaced, rewritten with the csv module."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = label
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_unknown_label_in_a_real_export_names_label_column_and_line():
    path = shared_file(*SDMX_DIR, "isoc_ec_esels_labels.csv")
    body = with_label_replaced(path, 1234, "size_emp", "From 1 to 4711 persons employed")
    with pytest.raises(DecodeError) as err:
        sdmx_csv.decode(body, path.name)
    assert err.value.source == path.name
    assert err.value.where == "line 1234, column size_emp"
    assert "'From 1 to 4711 persons employed'" in err.value.reason and "size_emp.csv" in err.value.reason


def test_a_label_added_to_the_code_list_then_decodes(tmp_path):
    path = shared_file(*SDMX_DIR, "isoc_sk_dskl_i21_labels.csv")
    body = path.read_bytes().replace(b",Estonia,", b",Eesti,")
    with pytest.raises(DecodeError, match="'Eesti'"):
        sdmx_csv.decode(body, path.name)
    with extended_codelists(tmp_path, {"geo": [("EE", "Eesti")]}):
        obs = sdmx_csv.decode(body, path.name).observations
    assert (obs["geo"] == "EE").sum() == body.count(b",Eesti,") > 0


def test_labels_map_to_official_codes():
    path = shared_file(*SDMX_DIR, "isoc_sk_dskl_i21_labels.csv")
    decoded = sdmx_csv.decode(path.read_bytes(), path.name)
    obs = decoded.observations
    with path.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert sum(r["geo"] == "Estonia" for r in raw) == (obs["geo"] == "EE").sum() > 0
    assert sum(r["geo"] == "Greece" for r in raw) == (obs["geo"] == "EL").sum() > 0
    assert sum(r["unit"] == "Percentage of individuals" for r in raw) == (obs["unit"] == "PC_IND").sum() > 0
    assert set(obs["dims"].map(lambda d: d["freq"])) == {"A"}
    assert ("geo", "EE", "Estonia") in decoded.labels
    assert decoded.dataset == "isoc_sk_dskl_i21"          # ESTAT:ISOC_SK_DSKL_I21$DEFAULTVIEW(1.0)
    assert decoded.source_updated == "2024-12-17T11:00:00"


def test_code_file_decodes_to_the_codes_in_its_columns():
    path = shared_file(*SDMX_DIR, "isoc_e_dii.csv")
    decoded = sdmx_csv.decode(path.read_bytes(), path.name)
    with path.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    obs = decoded.observations
    assert decoded.dataset == "isoc_e_dii" and decoded.source_updated is None and decoded.labels == []
    assert set(obs["geo"]) == {r["geo"] for r in raw}
    assert set(obs["unit"]) == {r["unit"] for r in raw}
    assert set(obs["period"]) == {r["TIME_PERIOD"] for r in raw}
    for dim in ("freq", "size_emp", "nace_r2", "indic_is"):
        assert set(obs["dims"].map(lambda d: d[dim])) == {r[dim] for r in raw}, dim
    assert set(obs["dims"].map(lambda d: tuple(sorted(d)))) == {("freq", "indic_is", "nace_r2", "size_emp")}
    # flags exactly as published, including the combined 'bu'
    assert set(obs["flags"].dropna()) == {r["OBS_FLAG"] for r in raw if r["OBS_FLAG"]}


def test_confidential_cells_keep_status_and_gain_flag_c():
    path = shared_file(*SDMX_DIR, "isoc_ec_esels_labels.csv")
    decoded = sdmx_csv.decode(path.read_bytes(), path.name)
    obs = decoded.observations
    confidential = obs[obs["dims"].map(lambda d: d.get("conf_status") == "C")]
    assert len(confidential) == 18
    assert set(confidential["flags"]) == {"c"}
    assert confidential["value"].isna().all()
    assert decoded.source_updated == "2024-12-12T11:00:00"


# ---- synthetic files ---------------------------------------------------------------------------

HEADER_V1 = "DATAFLOW,LAST UPDATE,freq,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS"
HEADER_V2 = "STRUCTURE,STRUCTURE_ID,freq,indic_is,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG"


def v1(*lines: str) -> bytes:
    """A tiny SDMX-CSV 1.0 label export with the given body lines."""
    return "\n".join([HEADER_V1, *lines]).encode()


def v2(*lines: str) -> bytes:
    """A tiny SDMX-CSV 2.0 code file with the given body lines."""
    return "\n".join([HEADER_V2, *lines]).encode()


ROW_EE = "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Estonia,2023,1.5,,"
ROW_LV = "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Latvia,2023,2.5,,"


def test_synthetic_label_export_decodes():
    decoded = sdmx_csv.decode(v1(ROW_EE, ROW_LV), "t.csv")
    assert decoded.dataset == "test_ds"
    assert decoded.source_updated == "2023-02-01T10:00:00"
    assert decoded.observations[["geo", "unit", "value"]].values.tolist() == [["EE", "PC_IND", 1.5], ["LV", "PC_IND", 2.5]]


def test_unknown_label_names_label_column_and_line():
    body = v1(ROW_EE, ROW_LV.replace("Latvia", "Atlantis"))
    with pytest.raises(DecodeError) as err:
        sdmx_csv.decode(body, "labels.csv")
    assert err.value.source == "labels.csv"
    assert err.value.where == "line 3, column geo"
    assert "'Atlantis'" in err.value.reason and "geo.csv" in err.value.reason


@pytest.mark.parametrize(
    "body, where, reason",
    [
        (v1(ROW_EE, ROW_LV + ",extra"), "line 3", "10 cells"),
        (v1(ROW_EE, ROW_LV.replace(",2.5,", ",2,5,")), "line 3", "cells"),
        (v1(ROW_EE, ROW_LV.replace(",2.5,", ",2.5x,")), "line 3, column OBS_VALUE", "unparsable number"),
        (v1(ROW_EE.replace("1.5,,", "1.5,q,")), "line 2, column OBS_FLAG", "unknown flag 'q'"),
        (v1(ROW_EE.replace("1.5,,", "1.5,B,")), "line 2, column OBS_FLAG", "unknown flag 'B'"),
        (v1(ROW_EE, ROW_EE.replace(",1.5,", ",9,")), "line 3", "duplicated observation (first at line 2)"),
        (v1(ROW_EE.replace(",,", ",,Z").rstrip()), "line 2, column CONF_STATUS", "unknown confidentiality status"),
        (v1(ROW_EE.replace("01/02/23 10:00:00", "yesterday")), "line 2, column LAST UPDATE", "unreadable LAST UPDATE"),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "line 1", "HTML"),
        (b"", "line 1", "empty"),
        (b"a,b,c\n1,2,3\n", "line 1", "not SDMX-CSV"),
        (v1(ROW_EE, ROW_LV.replace("TEST_DS", "OTHER_DS")), "STRUCTURE_ID/DATAFLOW", "several datasets"),
        (v1(ROW_EE.replace("Annual", "Yearly")), "line 2, column freq", "neither a freq code nor a known freq label"),
    ],
)
def test_bad_input_is_refused_with_file_and_place(body, where, reason):
    with pytest.raises(DecodeError) as err:
        sdmx_csv.decode(body, "bad.csv")
    assert err.value.source == "bad.csv"
    assert where in err.value.where
    assert reason in err.value.reason


def test_missing_value_rules_and_confidentiality():
    rows = [
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Estonia,2021,,,",      # nothing: no row
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Estonia,2022,,u,",     # flag only
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Estonia,2023,,,C",     # confidential
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Latvia,2023,,u,C",
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Poland,2023,,c,C",
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Finland,2023,4,,F",    # free: no 'c'
        "ESTAT:TEST_DS(1.0),01/02/23 10:00:00,Annual,Percentage of individuals,Sweden,2023,:,,",      # ':' is missing
    ]
    obs = sdmx_csv.decode(v1(*rows), "t.csv").observations
    got = {(r.geo, r.period): (None if math.isnan(r.value) else r.value, r.flags, r.dims.get("conf_status"))
           for r in obs.itertuples()}
    assert got == {
        ("EE", "2022"): (None, "u", None),
        ("EE", "2023"): (None, "c", "C"),
        ("LV", "2023"): (None, "uc", "C"),
        ("PL", "2023"): (None, "c", "C"),
        ("FI", "2023"): (4.0, None, "F"),
    }
    assert not (obs["value"] == 0).any()


def test_sdmx_csv_2_codes_and_structure_reference():
    body = v2("dataflow,ESTAT:ISOC_SK_DSKL_I21$DEFAULTVIEW(1.0),A,I_DSK2_BAB,PC_IND,EE,2023,62.61,",
              "dataflow,ESTAT:ISOC_SK_DSKL_I21$DEFAULTVIEW(1.0),A,I_DSK2_BAB,PC_IND,EL,2023,,bu")
    decoded = sdmx_csv.decode(body, "codes.csv", dataset="isoc_sk_dskl_i21")
    assert decoded.dataset == "isoc_sk_dskl_i21"
    assert decoded.observations["geo"].tolist() == ["EE", "EL"]
    assert decoded.observations["flags"].tolist()[1] == "bu"
    assert decoded.observations["dims"].tolist()[0] == {"freq": "A", "indic_is": "I_DSK2_BAB"}
    with pytest.raises(DecodeError, match="expected 'isoc_e_dii'"):
        sdmx_csv.decode(body, "codes.csv", dataset="isoc_e_dii")
    with pytest.raises(DecodeError, match="line 2, column geo"):
        sdmx_csv.decode(v2("dataflow,ESTAT:X(1.0),A,I_X,PC_IND,Estonia here,2023,1,"), "codes.csv")


def test_labels_are_compared_after_whitespace_normalisation():
    row = ROW_EE.replace("Estonia", "  Estonia ").replace("Percentage of individuals", "Percentage  of individuals")
    obs = sdmx_csv.decode(v1(row), "t.csv").observations
    assert obs[["geo", "unit"]].values.tolist() == [["EE", "PC_IND"]]


def test_bom_and_crlf_are_accepted():
    body = b"\xef\xbb\xbf" + v1(ROW_EE, ROW_LV).replace(b"\n", b"\r\n") + b"\r\n"
    assert len(sdmx_csv.decode(body, "t.csv").observations) == 2


def test_truncated_body_is_refused():
    body = v1(ROW_EE, ROW_LV)
    with pytest.raises(DecodeError, match="line 3"):
        sdmx_csv.decode(body[:-12], "cut.csv")


def test_duplicate_differing_only_in_confidentiality_is_refused():
    body = v1(ROW_EE.replace(",,", ",,C"), ROW_EE.replace("1.5,,", ",,C"))
    with pytest.raises(DecodeError, match="duplicated observation"):
        sdmx_csv.decode(body, "t.csv")


def test_codes_and_labels_export_reads_codes_and_keeps_the_labels():
    header = ("STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,ind_type,Individual type,indic_is,"
              "Information society indicator,unit,Unit of measure,geo,Geopolitical entity (reporting),TIME_PERIOD,Time,"
              "OBS_VALUE,Observation value,OBS_FLAG,Observation status (Flag) V2 structure,CONF_STATUS,"
              "Confidentiality status (flag)")
    row = ("dataflow,ESTAT:ISOC_AI_IAIU(1.0),Individuals - use of generative AI tools,A,Annual,IND_TOTAL,All individuals,"
           "I_IUAI,Use of generative AI tools: in the last 3 months,PC_IND,Percentage of individuals,EE,Estonia,2025,,"
           "30.1,,u,low reliability,,")
    decoded = sdmx_csv.decode(f"{header}\n{row}\n".encode(), "both.csv")
    assert decoded.dataset == "isoc_ai_iaiu"
    assert decoded.observations[["geo", "unit", "value", "flags"]].values.tolist() == [["EE", "PC_IND", 30.1, "u"]]
    assert decoded.observations["dims"].tolist() == [{"freq": "A", "ind_type": "IND_TOTAL", "indic_is": "I_IUAI"}]
    assert ("indic_is", "I_IUAI", "Use of generative AI tools: in the last 3 months") in decoded.labels
    assert ("geo", "EE", "Estonia") in decoded.labels
