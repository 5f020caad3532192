"""JSON-stat decoder against every recorded JSON-stat answer, a synthetic cube known by construction, and bad input."""
from __future__ import annotations

import copy
import gzip
import json
import math

import pandas as pd
import pytest

from etl.formats import jsonstat, tsv
from etl.model import DECODED_COLUMNS, DecodeError, finalize
from tests.etl.formats import (
    JSONSTAT_DIR, TSV_DIR, decoded_cells, flat_index, independent_jsonstat, load_json, observation_key,
    recorded, shared_file,
)

RETRIEVED = pd.Timestamp("2026-11-27T00:00:00Z")


def decode_file(name: str, **kwargs):
    """Decode one recorded JSON-stat file by name."""
    path = shared_file(JSONSTAT_DIR, name)
    return jsonstat.decode(path.read_bytes(), path.name, **kwargs)


def dumped(doc: dict) -> bytes:
    """A JSON-stat document as bytes."""
    return json.dumps(doc).encode()


# ---------------------------------------------------------------- every recorded file, against an independent reading

@pytest.mark.parametrize("path", recorded(JSONSTAT_DIR, "*.json*"), ids=lambda p: p.name)
def test_every_recorded_file_round_trips_against_an_independent_reading(path):
    decoded = jsonstat.decode(path.read_bytes(), path.name)
    expected = independent_jsonstat(load_json(path))
    got = decoded_cells(decoded.observations)
    assert len(decoded.observations) == len(expected)
    assert got == expected
    assert list(decoded.observations.columns) == DECODED_COLUMNS
    table = finalize(decoded, retrieved_at=RETRIEVED, source_file=path.name)
    assert table.num_rows == len(expected)


@pytest.mark.parametrize("path", recorded(JSONSTAT_DIR, "*.json*"), ids=lambda p: p.name)
def test_labels_dims_and_stamp_are_those_of_the_file(path):
    doc = load_json(path)
    decoded = jsonstat.decode(path.read_bytes(), path.name)
    expected_labels = {(dim, code, label) for dim in doc["id"]
                       for code, label in doc["dimension"][dim]["category"].get("label", {}).items()}
    assert set(decoded.labels) == expected_labels
    expected_dims = set(doc["id"]) - {"geo", "time", "unit"}
    for dims in decoded.observations["dims"]:
        assert set(dims) - {"conf_status"} == expected_dims
    assert decoded.source_updated == doc.get("updated")


def test_missing_is_never_zero_and_empty_units_give_no_rows():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_ci_ifp_iu.json"))
    decoded = decode_file("isoc_ci_ifp_iu.json")
    obs = decoded.observations
    # README: PC_IND_ILT12 is entirely empty in this answer
    assert "PC_IND_ILT12" in doc["dimension"]["unit"]["category"]["index"]
    assert not (obs["unit"] == "PC_IND_ILT12").any()
    zeros_published = sum(1 for v in doc["value"].values() if v == 0)
    assert int((obs["value"] == 0).sum()) == zeros_published
    assert decoded.source_updated is None


def test_dataset_code_comes_from_extension_then_argument_then_file_name():
    assert decode_file("isoc_ci_cm_h_a1.json").dataset == "isoc_ci_cm_h"   # extension.id, not the file name
    assert decode_file("isoc_ci_in_h.json").dataset == "isoc_ci_in_h"      # no extension: file name
    path = shared_file(JSONSTAT_DIR, "isoc_ci_ifp_iu.json")
    assert jsonstat.decode(path.read_bytes(), "recording-7.json", dataset="ISOC_CI_IFP_IU").dataset == "isoc_ci_ifp_iu"
    with pytest.raises(DecodeError, match=r"recording-7\.json: dataset code"):
        jsonstat.decode(path.read_bytes(), "recording-7.json")
    with pytest.raises(DecodeError, match=r"isoc_e_dii\.json: extension\.id: .*'isoc_e_dii'.*expected 'isoc_ci_in_h'"):
        decode_file("isoc_e_dii.json", dataset="isoc_ci_in_h")


# ---------------------------------------------------------------- index arithmetic on the whole isoc_e_dii

def test_whole_isoc_e_dii_has_the_shape_and_count_the_readme_states():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii_all.json.gz"))
    obs = decode_file("isoc_e_dii_all.json.gz").observations
    sizes = dict(zip(doc["id"], doc["size"]))
    assert (sizes["size_emp"], sizes["indic_is"], sizes["geo"], sizes["time"]) == (11, 18, 39, 10)
    assert int(obs["value"].notna().sum()) == 8620          # README: 8,620 values
    assert obs["dims"].map(lambda d: d["size_emp"]).nunique() == 11
    assert obs["dims"].map(lambda d: d["indic_is"]).nunique() == 18


@pytest.mark.parametrize("cell", [
    {"size_emp": "GE10", "indic_is": "E_DI4_HI", "geo": "EE", "time": "2024"},
    {"size_emp": "10-49", "indic_is": "E_DI4_VLO", "geo": "LV", "time": "2022"},
    {"size_emp": "GE250", "indic_is": "E_DI3_VHI", "geo": "FI", "time": "2021"},
    {"size_emp": "0_1", "indic_is": "E_DI4_VLO", "geo": "SE", "time": "2022"},     # first size class, flat index 317
    {"size_emp": "GE10", "indic_is": "E_DI4_VHI", "geo": "EU27_2020", "time": "2024"},
    {"size_emp": "GE10", "indic_is": "E_DI3_VHI", "geo": "FR", "time": "2023"},    # 'bu' without a value
    {"size_emp": "0_1", "indic_is": "E_DI_VLO", "geo": "SK", "time": "2017"},      # 'b' with a value
    {"size_emp": "10-49", "indic_is": "E_DI2_HI", "geo": "MK", "time": "2020"},    # '|C' confidential
])
def test_specific_cells_match_the_index_computed_from_id_and_size(cell):
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii_all.json.gz"))
    codes = {"freq": "A", "nace_r2": "C10-S951_X_K", "unit": "PC_ENT", **cell}
    index = str(flat_index(doc, **codes))
    assert index in doc["value"] or index in doc["status"], f"pick a published cell, not {codes}"
    obs = decode_file("isoc_e_dii_all.json.gz").observations
    dims = {"freq": "A", "size_emp": cell["size_emp"], "nace_r2": "C10-S951_X_K", "indic_is": cell["indic_is"]}
    status = doc["status"].get(index)
    if status == "|C":
        dims["conf_status"], status = "C", "c"
    row = decoded_cells(obs)[observation_key(cell["geo"], cell["time"], "PC_ENT", dims)]
    assert row == (doc["value"].get(index), status)


def test_the_whole_dataset_agrees_with_the_separately_recorded_selection():
    """isoc_e_dii.json is another answer (7 dims, other sizes) holding a slice of the whole dataset."""
    whole = decoded_cells(decode_file("isoc_e_dii_all.json.gz").observations)
    part = decoded_cells(decode_file("isoc_e_dii.json").observations)
    assert len(part) > 100 and set(part) <= set(whole)
    assert {key: whole[key] for key in part} == part


def test_confidential_cells_are_rows_without_value_and_match_the_tsv_publication():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii_all.json.gz"))
    obs = decode_file("isoc_e_dii_all.json.gz").observations
    published = [k for k, v in doc["status"].items() if v == "|C"]
    confidential = obs[obs["flags"] == "c"]
    assert len(confidential) == len(published) == 15
    assert confidential["value"].isna().all()
    assert (confidential["dims"].map(lambda d: d["conf_status"]) == "C").all()
    # the same cells in Eurostat's own TSV publication are ': c'
    tsv_path = shared_file(TSV_DIR, "isoc_e_dii.tsv")
    tsv_cells = decoded_cells(tsv.decode(tsv_path.read_bytes(), tsv_path.name).observations)
    compared = 0
    for geo, period, dims in zip(confidential["geo"], confidential["period"], confidential["dims"]):
        plain = {k: v for k, v in dims.items() if k != "conf_status"}
        key = observation_key(geo, period, "PC_ENT", plain)
        if key in tsv_cells:
            assert tsv_cells[key] == (None, "c")
            compared += 1
    assert compared >= 10


def test_flags_stay_exactly_as_published():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii_all.json.gz"))
    flags = decode_file("isoc_e_dii_all.json.gz").observations["flags"]
    for published in ("b", "u", "bu"):
        assert int((flags == published).sum()) == sum(1 for v in doc["status"].values() if v == published)
    assert set(flags.dropna()) == {"b", "u", "bu", "c"}


def test_json_and_tsv_of_isoc_ci_in_h_differ_only_in_the_three_2024_revisions():
    json_cells = decoded_cells(decode_file("isoc_ci_in_h.json").observations)
    tsv_path = shared_file(TSV_DIR, "isoc_ci_in_h.tsv")
    tsv_cells = decoded_cells(tsv.decode(tsv_path.read_bytes(), tsv_path.name).observations)
    shared = set(json_cells) & set(tsv_cells)
    assert len(shared) > 800
    differing = sorted((key[0], key[1]) for key in shared if json_cells[key] != tsv_cells[key])
    # README: the values match the TSV except three 2024 revisions
    assert len(differing) == 3 and {period for _, period in differing} == {"2024"}


def test_gzip_and_plain_bodies_decode_alike():
    raw = shared_file(JSONSTAT_DIR, "isoc_e_dii.json").read_bytes()
    plain = jsonstat.decode(raw, "isoc_e_dii.json")
    packed = jsonstat.decode(gzip.compress(raw), "isoc_e_dii.json.gz")
    assert decoded_cells(plain.observations) == decoded_cells(packed.observations)


# ---------------------------------------------------------------- a synthetic cube known by construction

def synthetic_cube(values, statuses, index_as_list=False) -> dict:
    """Three dimensions of size > 1 (indic 2, geo 3, time 2) plus unit and freq of size 1."""
    def category(codes):
        """A category block with an index (dict or list) and labels."""
        index = list(codes) if index_as_list else {c: i for i, c in enumerate(codes)}
        return {"index": index, "label": {c: f"label of {c}" for c in codes}}
    return {
        "version": "2.0", "class": "dataset", "updated": "2026-01-02T03:04:05+0100",
        "id": ["freq", "indic", "unit", "geo", "time"], "size": [1, 2, 1, 3, 2],
        "dimension": {"freq": {"category": category(["A"])}, "indic": {"category": category(["I1", "I2"])},
                      "unit": {"category": category(["PC"])}, "geo": {"category": category(["EE", "LV", "LT"])},
                      "time": {"category": category(["2020", "2021"])}},
        "value": values, "status": statuses,
        "extension": {"id": "SYNTH_CUBE"},
    }


# cell (indic, geo, time) -> flat index indic*6 + geo*2 + time; written out by hand
EXPECTED_SYNTHETIC = {
    ("I1", "EE", "2020"): (1.5, None),     # index 0
    ("I1", "EE", "2021"): (0.0, "p"),      # index 1: a published zero stays 0
    ("I1", "LT", "2021"): (None, "c"),     # index 5: status only
    ("I2", "EE", "2020"): (7.0, None),     # index 6
    ("I2", "LV", "2021"): (8.25, "bu"),    # index 9
    ("I2", "LT", "2021"): (-2.0, None),    # index 11
}
SYNTHETIC_VALUES = {"0": 1.5, "1": 0, "6": 7, "9": 8.25, "11": -2.0, "3": None}
SYNTHETIC_STATUS = {"1": "p", "5": "c", "9": "bu"}


def synthetic_expected() -> dict:
    """EXPECTED_SYNTHETIC keyed like decoded rows."""
    return {observation_key(geo, time, "PC", {"freq": "A", "indic": indic}): cell
            for (indic, geo, time), cell in EXPECTED_SYNTHETIC.items()}


def as_list(cells: dict, total: int = 12) -> list:
    """A dict keyed by flat index as the equivalent JSON-stat list."""
    return [cells.get(str(i)) for i in range(total)]


@pytest.mark.parametrize("value_form", ["dict", "list"])
@pytest.mark.parametrize("status_form", ["dict", "list"])
@pytest.mark.parametrize("index_as_list", [False, True])
def test_synthetic_cube_decodes_to_the_cells_built_into_it(value_form, status_form, index_as_list):
    values = SYNTHETIC_VALUES if value_form == "dict" else as_list(SYNTHETIC_VALUES)
    statuses = SYNTHETIC_STATUS if status_form == "dict" else as_list(SYNTHETIC_STATUS)
    decoded = jsonstat.decode(dumped(synthetic_cube(values, statuses, index_as_list)), "synthetic.json")
    assert decoded.dataset == "synth_cube"
    assert decoded.source_updated == "2026-01-02T03:04:05+0100"
    assert decoded_cells(decoded.observations) == synthetic_expected()
    assert ("geo", "LV", "label of LV") in decoded.labels and len(decoded.labels) == 1 + 2 + 1 + 3 + 2


def test_a_single_status_string_applies_to_every_cell():
    doc = synthetic_cube(SYNTHETIC_VALUES, "e")
    cells = decoded_cells(jsonstat.decode(dumped(doc), "synthetic.json").observations)
    assert len(cells) == 12                                       # every cell now carries flag e
    assert all(flags == "e" for _, flags in cells.values())


# ---------------------------------------------------------------- merging partial answers

def test_two_partial_answers_merge_into_one_dataset():
    a1, a2 = decode_file("isoc_ci_cm_h_a1.json"), decode_file("isoc_ci_cm_h_a2.json")
    merged = jsonstat.merge_parts([a1, a2], ["isoc_ci_cm_h_a1.json", "isoc_ci_cm_h_a2.json"])
    assert merged.dataset == "isoc_ci_cm_h"
    assert len(merged.observations) == len(a1.observations) + len(a2.observations)
    cells = decoded_cells(merged.observations)    # asserts no observation twice
    expected = {**independent_jsonstat(load_json(JSONSTAT_DIR / "isoc_ci_cm_h_a1.json")),
                **independent_jsonstat(load_json(JSONSTAT_DIR / "isoc_ci_cm_h_a2.json"))}
    assert cells == expected
    hhtyp = set(merged.observations["dims"].map(lambda d: d["hhtyp"]))
    assert hhtyp == {"A1", "A1_DCH", "A2"}
    finalize(merged, retrieved_at=RETRIEVED, source_file="isoc_ci_cm_h_a1.json")


def test_identical_duplicates_are_dropped_when_merging():
    a1 = decode_file("isoc_ci_cm_h_a1.json")
    merged = jsonstat.merge_parts([a1, decode_file("isoc_ci_cm_h_a1.json")])
    assert len(merged.observations) == len(a1.observations)
    assert any("identical duplicate" in w for w in merged.warnings)


def test_conflicting_duplicates_are_refused_naming_both_parts_and_the_observation():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_ci_cm_h_a2.json"))
    revised = copy.deepcopy(doc)
    index = flat_index(doc, freq="A", indic_is="H_COMP", unit="PC_HH", hhtyp="A2", geo="EE", time="2015")
    assert str(index) in doc["value"], "the EE 2015 cell is published in a2"
    revised["value"][str(index)] = doc["value"][str(index)] + 1
    parts = [jsonstat.decode(dumped(doc), "a2.json"), jsonstat.decode(dumped(revised), "a2-revised.json")]
    with pytest.raises(DecodeError, match=r"a2\.json \+ a2-revised\.json: observation geo=EE period=2015"):
        jsonstat.merge_parts(parts, ["a2.json", "a2-revised.json"])
    flagged = copy.deepcopy(doc)
    flagged.setdefault("status", {})[str(index)] = "p"
    parts = [jsonstat.decode(dumped(doc), "a2.json"), jsonstat.decode(dumped(flagged), "a2-flagged.json")]
    with pytest.raises(DecodeError, match="conflicting duplicate"):
        jsonstat.merge_parts(parts, ["a2.json", "a2-flagged.json"])


def test_parts_of_different_datasets_are_not_merged():
    with pytest.raises(DecodeError, match="different datasets"):
        jsonstat.merge_parts([decode_file("isoc_e_dii.json"), decode_file("isoc_ci_in_h.json")])


# ---------------------------------------------------------------- bad input: DecodeError naming the file and the place

def test_truncated_json_names_file_and_position():
    raw = shared_file(JSONSTAT_DIR, "isoc_ci_in_h.json").read_bytes()
    with pytest.raises(DecodeError, match=r"^isoc_ci_in_h\.json: line 1 column \d+ \(char \d+\): invalid or truncated JSON"):
        jsonstat.decode(raw[: len(raw) // 2], "isoc_ci_in_h.json")


def test_truncated_gzip_names_the_stream():
    raw = shared_file(JSONSTAT_DIR, "isoc_e_dii_all.json.gz").read_bytes()
    with pytest.raises(DecodeError, match=r"^isoc_e_dii_all\.json\.gz: gzip stream: truncated or corrupt gzip"):
        jsonstat.decode(raw[: len(raw) // 2], "isoc_e_dii_all.json.gz")


def test_html_error_page_served_with_200_is_refused():
    page = b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body>Try later</body></html>"
    with pytest.raises(DecodeError, match=r"^isoc_e_dii\.json: byte 0: an HTML/XML page"):
        jsonstat.decode(page, "isoc_e_dii.json")


def test_eurostat_error_answer_is_refused():
    body = b'{"error":[{"status":404,"id":100,"label":"ERR_NOT_FOUND_4: ISOC_X is not available"}]}'
    with pytest.raises(DecodeError, match=r"^isoc_x\.json: key 'error': .*ERR_NOT_FOUND_4"):
        jsonstat.decode(body, "isoc_x.json")


def test_size_disagreeing_with_categories_names_the_dimension():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii.json"))
    doc["size"][doc["id"].index("geo")] += 1
    with pytest.raises(DecodeError, match=r"^bad\.json: dimension 'geo' category index: 39 categories but 'size' says 40"):
        jsonstat.decode(dumped(doc), "bad.json")


@pytest.mark.parametrize("key", ["id", "size", "value"])
def test_missing_id_size_or_value_is_refused(key):
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii.json"))
    del doc[key]
    with pytest.raises(DecodeError, match=rf"^bad\.json: top level: not a JSON-stat dataset: missing {key}"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_value_index_out_of_range_names_the_key():
    doc = load_json(shared_file(JSONSTAT_DIR, "isoc_e_dii.json"))
    total = math.prod(doc["size"])
    doc["value"][str(total)] = 1.0
    with pytest.raises(DecodeError, match=rf"^bad\.json: 'value' key '{total}': cell index out of range"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_value_list_of_the_wrong_length_is_refused():
    doc = synthetic_cube(as_list(SYNTHETIC_VALUES)[:-1], SYNTHETIC_STATUS)
    with pytest.raises(DecodeError, match=r"^bad\.json: key 'value': list of 11 cells but 'size' gives 12"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_unknown_flag_letter_names_the_cell():
    doc = synthetic_cube(SYNTHETIC_VALUES, {**SYNTHETIC_STATUS, "6": "q"})
    with pytest.raises(DecodeError, match=r"^bad\.json: 'status' key '6': unknown flag 'q'"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_unknown_confidentiality_status_is_refused():
    doc = synthetic_cube(SYNTHETIC_VALUES, {**SYNTHETIC_STATUS, "6": "b|Z"})
    with pytest.raises(DecodeError, match=r"^bad\.json: 'status' key '6': unknown confidentiality status 'Z'"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_a_value_that_is_not_a_number_names_the_cell():
    doc = synthetic_cube({**SYNTHETIC_VALUES, "7": "12,5"}, SYNTHETIC_STATUS)
    with pytest.raises(DecodeError, match=r"^bad\.json: 'value' key '7': not a number: '12,5'"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_repeated_category_position_is_refused():
    doc = synthetic_cube(SYNTHETIC_VALUES, SYNTHETIC_STATUS)
    doc["dimension"]["geo"]["category"]["index"] = {"EE": 0, "LV": 0, "LT": 2}
    with pytest.raises(DecodeError, match=r"^bad\.json: dimension 'geo' category index 'LV'"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_merge_parts_works_on_any_format_and_on_missing_units():
    path = shared_file(TSV_DIR, "tin00074.tsv")            # no unit dimension: unit is missing on every row
    lines = path.read_bytes().split(b"\r\n")
    first = b"\r\n".join(lines[:60])
    second = b"\r\n".join(lines[:1] + lines[40:])             # lines 40-59 are in both halves
    parts = [tsv.decode(first, "first.tsv", dataset="tin00074"), tsv.decode(second, "second.tsv", dataset="tin00074")]
    for part in parts:                                        # as a decoder writing NaN for a missing unit would
        part.observations["unit"] = float("nan")
    merged = jsonstat.merge_parts(parts, ["first.tsv", "second.tsv"])
    whole = tsv.decode(path.read_bytes(), path.name).observations
    assert len(merged.observations) == len(whole)
    assert {k[:2] + k[3:]: v for k, v in decoded_cells(merged.observations).items()} == \
        {k[:2] + k[3:]: v for k, v in decoded_cells(whole).items()}


def test_free_status_without_value_is_no_row_and_with_value_is_kept():
    doc = synthetic_cube(SYNTHETIC_VALUES, {**SYNTHETIC_STATUS, "2": "|F", "6": "|F"})
    cells = decoded_cells(jsonstat.decode(dumped(doc), "synthetic.json").observations)
    expected = synthetic_expected()
    ee_2020_i2 = observation_key("EE", "2020", "PC", {"freq": "A", "indic": "I2"})
    expected[observation_key("EE", "2020", "PC", {"freq": "A", "indic": "I2", "conf_status": "F"})] = \
        expected.pop(ee_2020_i2)                             # index 6 has a value: kept, its status recorded
    assert cells == expected                                 # index 2 (no value, status |F) gives no row


def test_infinite_value_is_refused():
    body = dumped(synthetic_cube(SYNTHETIC_VALUES, SYNTHETIC_STATUS)).replace(b'"11": -2.0', b'"11": -Infinity')
    with pytest.raises(DecodeError, match=r"^bad\.json: 'value' key '11': not a finite number"):
        jsonstat.decode(body, "bad.json")


def test_a_boolean_value_is_not_taken_for_a_number():
    doc = synthetic_cube({**SYNTHETIC_VALUES, "7": True}, SYNTHETIC_STATUS)
    with pytest.raises(DecodeError, match=r"^bad\.json: 'value' key '7': not a number: True"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_a_value_list_item_that_is_not_a_number_names_its_position():
    values = as_list(SYNTHETIC_VALUES)
    values[4] = "1.5"
    with pytest.raises(DecodeError, match=r"^bad\.json: 'value' item 4: not a number: '1.5'"):
        jsonstat.decode(dumped(synthetic_cube(values, SYNTHETIC_STATUS)), "bad.json")


@pytest.mark.parametrize("status", [["b"], 7])
def test_a_status_that_is_not_a_string_names_the_cell(status):
    doc = synthetic_cube(SYNTHETIC_VALUES, {**SYNTHETIC_STATUS, "6": status})
    with pytest.raises(DecodeError, match=r"^bad\.json: 'status' key '6': status is not a string"):
        jsonstat.decode(dumped(doc), "bad.json")


def test_cells_listed_out_of_index_order_come_out_in_index_order():
    shuffled = dict(reversed(list(SYNTHETIC_VALUES.items())))
    decoded = jsonstat.decode(dumped(synthetic_cube(shuffled, dict(reversed(list(SYNTHETIC_STATUS.items()))))),
                              "synthetic.json")
    assert decoded_cells(decoded.observations) == synthetic_expected()
    order = [(indic["indic"], geo, time) for indic, geo, time in
             zip(decoded.observations["dims"], decoded.observations["geo"], decoded.observations["period"])]
    assert order == list(EXPECTED_SYNTHETIC)                 # written out in flat index order


def test_a_cube_without_published_cells_decodes_to_no_rows():
    doc = synthetic_cube({}, {"2": "|F"})                    # a free status without a value publishes nothing
    obs = jsonstat.decode(dumped(doc), "synthetic.json").observations
    assert list(obs.columns) == DECODED_COLUMNS and len(obs) == 0
