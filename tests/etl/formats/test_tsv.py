"""TSV decoder against every recorded Eurostat TSV, the legacy header, synthetic edge cases and bad input."""
from __future__ import annotations

import gzip

import pandas as pd
import pytest

from etl.formats import tsv
from etl.model import DECODED_COLUMNS, DecodeError, finalize
from tests.etl.formats import TSV_DIR, decoded_cells, independent_tsv, observation_key, recorded, shared_file

RETRIEVED = pd.Timestamp("2026-11-27T00:00:00Z")
LEGACY = "isoc_ci_in_h_2019_legacy-header.tsv"


def dataset_for(name: str) -> str:
    """The dataset a recording holds (the legacy file's name is not a dataset code)."""
    return "isoc_ci_in_h" if name == LEGACY else name.removesuffix(".tsv")


def decode_file(name: str):
    """Decode one recorded TSV file by name, passing its dataset as the fetcher does."""
    path = shared_file(TSV_DIR, name)
    return tsv.decode(path.read_bytes(), path.name, dataset=dataset_for(name))


def synthetic(*lines: str) -> bytes:
    """A small TSV body from its lines, CRLF-terminated as Eurostat serves it."""
    return ("\r\n".join(lines) + "\r\n").encode()


HEADER = "freq,unit,indic,geo\\TIME_PERIOD\t2021 \t2022 \t2023 "


# ---------------------------------------------------------------- every recorded file, against an independent reading

@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_every_recorded_file_round_trips_against_an_independent_reading(path):
    decoded = tsv.decode(path.read_bytes(), path.name, dataset=dataset_for(path.name))
    expected = independent_tsv(path)
    assert len(decoded.observations) == len(expected)
    assert decoded_cells(decoded.observations) == expected
    assert list(decoded.observations.columns) == DECODED_COLUMNS
    assert decoded.dataset == dataset_for(path.name) and decoded.source_updated is None
    table = finalize(decoded, retrieved_at=RETRIEVED, source_file=path.name)
    assert table.num_rows == len(expected)


@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_gzip_as_served_decodes_like_the_plain_file(path):
    raw = path.read_bytes()
    plain = tsv.decode(raw, path.name, dataset=dataset_for(path.name))
    packed = tsv.decode(gzip.compress(raw), path.name + ".gz", dataset=dataset_for(path.name))
    assert decoded_cells(packed.observations) == decoded_cells(plain.observations)


def test_legacy_header_has_no_freq_and_reads_geo_and_time():
    obs = decode_file(LEGACY).observations
    assert all(dims == {"hhtyp": "TOTAL"} for dims in obs["dims"])
    assert set(obs["unit"]) == {"PC_HH"}
    assert sorted(set(obs["period"])) == [str(year) for year in range(2008, 2020)]
    cells = decoded_cells(obs)
    # read off the file: 'PC_HH,TOTAL,AT\t69 \t70 ...' and 'PC_HH,TOTAL,AL\t: \t...\t84 \t: '
    assert cells[observation_key("AT", "2008", "PC_HH", {"hhtyp": "TOTAL"})] == (69.0, None)
    assert cells[observation_key("AL", "2018", "PC_HH", {"hhtyp": "TOTAL"})] == (84.0, None)
    assert observation_key("AL", "2019", "PC_HH", {"hhtyp": "TOTAL"}) not in cells


def test_dims_hold_every_dimension_but_geo_and_unit():
    obs = decode_file("isoc_e_dii.tsv").observations
    assert {tuple(sorted(d)) for d in obs["dims"]} == {("freq", "indic_is", "nace_r2", "size_emp")}
    assert set(obs["unit"]) == {"PC_ENT"}
    no_unit = decode_file("tin00074.tsv").observations        # freq,nace_r2,geo: no unit column
    assert no_unit["unit"].isna().all() and {tuple(sorted(d)) for d in no_unit["dims"]} == {("freq", "nace_r2")}


def test_flags_stay_exactly_as_published():
    flags = decode_file("isoc_sks_itspe.tsv").observations["flags"]
    raw = shared_file(TSV_DIR, "isoc_sks_itspe.tsv").read_text()
    for published in ("bu", "bde", "bdu", "be"):
        in_file = sum(cell.split()[1:] == [published] for line in raw.splitlines()[1:] for cell in line.split("\t")[1:])
        assert in_file > 0 and int((flags == published).sum()) == in_file


def test_confidential_cells_are_rows_with_null_value():
    obs = decode_file("tin00074.tsv").observations
    cells = decoded_cells(obs)
    # 'A,C_ICT,AT\t0.45 \t0.43 \t0.49 \t0.46 \t0.46 \t: c\t0.44 ...\t0.52 b\t...'
    key = {"freq": "A", "nace_r2": "C_ICT"}
    assert cells[observation_key("AT", "2014", None, key)] == (None, "c")
    assert cells[observation_key("AT", "2018", None, key)] == (0.52, "b")
    assert cells[observation_key("AT", "2009", None, key)] == (0.45, None)


def test_synthetic_cells_missing_zero_flags_and_spacing():
    raw = synthetic(HEADER,
                    "A,PC,I1,EE\t0 \t: \t: c",
                    "A,PC,I1,LV\t12.5 bu\t-3 \t100 p",
                    "A , PC, I2 ,LT \t: \t:\t7")
    cells = decoded_cells(tsv.decode(raw, "synthetic.tsv", dataset="synth").observations)
    i1, i2 = {"freq": "A", "indic": "I1"}, {"freq": "A", "indic": "I2"}
    assert cells == {
        observation_key("EE", "2021", "PC", i1): (0.0, None),       # a published 0 stays 0
        observation_key("EE", "2023", "PC", i1): (None, "c"),
        observation_key("LV", "2021", "PC", i1): (12.5, "bu"),
        observation_key("LV", "2022", "PC", i1): (-3.0, None),
        observation_key("LV", "2023", "PC", i1): (100.0, "p"),
        observation_key("LT", "2023", "PC", i2): (7.0, None),
    }


def test_lf_line_ends_without_trailing_newline_read_alike():
    crlf = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 b", "A,PC,I1,LV\t4 \t: \t6 ")
    lf = crlf.decode().replace("\r\n", "\n").rstrip("\n").encode()
    first = tsv.decode(crlf, "a.tsv", dataset="a").observations
    second = tsv.decode(lf, "a.tsv", dataset="a").observations
    assert decoded_cells(first) == decoded_cells(second) and len(first) == 5


def test_dataset_code_from_argument_or_file_name():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ")
    assert tsv.decode(raw, "isoc_e_dii.tsv").dataset == "isoc_e_dii"
    assert tsv.decode(raw, "isoc_e_dii.tsv.gz").dataset == "isoc_e_dii"
    assert tsv.decode(raw, "whatever.tsv", dataset="ISOC_CI_IN_H").dataset == "isoc_ci_in_h"
    with pytest.raises(DecodeError, match=r"^download \(3\)\.tsv: dataset code: no usable dataset code"):
        tsv.decode(raw, "download (3).tsv")


# ---------------------------------------------------------------- bad input: DecodeError naming file, line and column

def test_row_with_the_wrong_number_of_cells_names_line_and_column():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A,PC,I1,LV\t4 \t5 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 3: 3 cells, the header has 4"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_last_line_cut_mid_row_is_refused():
    raw = shared_file(TSV_DIR, "isoc_e_dii.tsv").read_bytes()
    cut = raw[: raw.rindex(b"\t", 0, len(raw) - 40)]        # the last row loses its final cells
    lines = cut.count(b"\n") + 1
    with pytest.raises(DecodeError, match=rf"^isoc_e_dii\.tsv: line {lines}, column \d+: \d+ cells, the header has 10"):
        tsv.decode(cut, "isoc_e_dii.tsv")


def test_truncated_gzip_is_refused():
    packed = gzip.compress(shared_file(TSV_DIR, "tin00074.tsv").read_bytes())
    with pytest.raises(DecodeError, match=r"^tin00074\.tsv\.gz: gzip stream: truncated or corrupt gzip"):
        tsv.decode(packed[: len(packed) // 2], "tin00074.tsv.gz")


@pytest.mark.parametrize("body", [b"", b"\r\n", HEADER.encode() + b"\r\n", HEADER.encode()])
def test_empty_or_header_only_file_is_refused(body):
    with pytest.raises(DecodeError, match=r"^empty\.tsv: line [12]: (empty file|no series rows)"):
        tsv.decode(body, "empty.tsv", dataset="x")


def test_html_served_instead_of_tsv_is_refused():
    page = b"<!DOCTYPE html>\n<html><body><h1>503 Service Unavailable</h1></body></html>\n"
    with pytest.raises(DecodeError, match=r"^isoc_e_dii\.tsv: line 1: an HTML/XML page"):
        tsv.decode(page, "isoc_e_dii.tsv")


def test_unparsable_number_names_line_column_and_period():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A,PC,I1,LV\t4 \t5,5 \t6 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 3 \(2022\): unparsable number '5,5 '"):
        tsv.decode(raw, "bad.tsv", dataset="x")


@pytest.mark.parametrize("cell", ["nan ", "inf ", " ", "n/a ", "-", "1,5 "])
def test_words_that_are_not_eurostat_numbers_are_refused(cell):
    raw = synthetic(HEADER, f"A,PC,I1,EE\t1 \t{cell}\t3 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 2, column 3 \(2022\): unparsable number"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_unknown_flag_letter_names_line_and_column():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 b\t3 ", "A,PC,I1,LV\t4 \t5 \t6 q")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 4 \(2023\): unknown flag 'q'"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_repeated_series_row_is_a_duplicated_observation():
    raw = shared_file(TSV_DIR, "tin00085.tsv").read_bytes()
    lines = raw.split(b"\r\n")
    repeated = b"\r\n".join(lines[:5] + [lines[3]] + lines[5:])      # line 4 again as line 6
    with pytest.raises(DecodeError, match=r"^tin00085\.tsv: line 6, column 1: duplicated series .*first at line 4"):
        tsv.decode(repeated, "tin00085.tsv")


def test_series_key_with_the_wrong_number_of_codes_is_refused():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A,PC,LV\t4 \t5 \t6 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 1: series key 'A,PC,LV' does not give 4 codes"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_keys_with_too_many_and_too_few_codes_are_refused_though_the_commas_add_up():
    """One code too many on a line and one too few on the next: the block holds as many commas as it should."""
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A,PC,I1,X,LV\t4 \t5 \t6 ", "A,PC,LT\t7 \t8 \t9 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 1: series key 'A,PC,I1,X,LV' does not give 4"):
        tsv.decode(raw, "bad.tsv", dataset="x")


@pytest.mark.parametrize("header, where", [
    ("freq,unit,geo\t2021 \t2022 ", "line 1, column 1"),            # no '\TIME_PERIOD'
    ("freq,unit,indic\\TIME_PERIOD\t2021 \t2022 ", "line 1, column 1"),   # no geo
    ("freq,unit,geo\\TIME_PERIOD\t2021 \t2021 ", "line 1, column 3"),  # repeated period
])
def test_bad_header_is_refused(header, where):
    raw = synthetic(header, "A,PC,EE\t1 \t2 ")
    with pytest.raises(DecodeError, match=rf"^bad\.tsv: {where}:"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_refused_input_changes_nothing_and_leaves_good_input_decodable():
    good = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ")
    before = decoded_cells(tsv.decode(good, "good.tsv", dataset="x").observations)
    with pytest.raises(DecodeError):
        tsv.decode(synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 q"), "bad.tsv", dataset="x")
    assert decoded_cells(tsv.decode(good, "good.tsv", dataset="x").observations) == before


def test_padded_codes_count_as_the_same_series():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A, PC ,I1,EE \t4 \t5 \t6 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 1: duplicated series 'A,PC,I1,EE' .*first at line 2"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_bytes_that_are_not_utf8_name_the_line():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "A,PC,I1,LV\t4 \t5 \t6 ").replace(b"LV", b"L\xff")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3: not UTF-8 text"):
        tsv.decode(raw, "bad.tsv", dataset="x")


@pytest.mark.parametrize("cell", ["1e2 ", "12.5 b c", "3 b2"])
def test_cells_that_are_not_value_and_flags_are_refused(cell):
    raw = synthetic(HEADER, f"A,PC,I1,EE\t1 \t2 \t{cell}")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 2, column 4 \(2023\): (unreadable cell|unparsable number)"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_geo_need_not_be_the_last_key_dimension():
    raw = synthetic("geo,freq,unit\\TIME_PERIOD\t2021 \t2022 ", "EE,A,PC\t1 \t2 e", "LV, A,PC\t: c\t: ")
    cells = decoded_cells(tsv.decode(raw, "geo_first.tsv").observations)
    assert cells == {observation_key("EE", "2021", "PC", {"freq": "A"}): (1.0, None),
                     observation_key("EE", "2022", "PC", {"freq": "A"}): (2.0, "e"),
                     observation_key("LV", "2021", "PC", {"freq": "A"}): (None, "c")}
    repeated = synthetic("geo,freq,unit\\TIME_PERIOD\t2021 \t2022 ", "EE,A,PC\t1 \t2 ", "EE ,A,PC\t3 \t4 ")
    with pytest.raises(DecodeError, match=r"^geo_first\.tsv: line 3, column 1: duplicated series 'EE,A,PC'"):
        tsv.decode(repeated, "geo_first.tsv")


@pytest.mark.parametrize("key", ["A,,I1,EE", "A,PC,I1, "])
def test_empty_code_in_a_series_key_is_refused(key):
    raw = synthetic(HEADER, "A,PC,I1,LT\t1 \t2 \t3 ", f"{key}\t1 \t2 \t3 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 1: series key .* has an empty code"):
        tsv.decode(raw, "bad.tsv", dataset="x")


def test_blank_line_inside_the_body_is_refused():
    raw = synthetic(HEADER, "A,PC,I1,EE\t1 \t2 \t3 ", "", "A,PC,I1,LV\t4 \t5 \t6 ")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 3, column 1: 1 cells, the header has 4"):
        tsv.decode(raw, "bad.tsv", dataset="x")


# ---------------------------------------------------------------- odd spellings read as published


def test_odd_spellings_read_as_published():
    raw = ("\r\n".join([HEADER,
                        "A,PC,I1,EE\t 1.5\t12.5b\t:  ",          # leading space, flag glued on, bare ':' + 2 spaces
                        "A,PC,I1,LV\t2 e \t:\r\t: c",            # space after the flag, ':' then a CR inside the line
                        "A,PC,I1,LT\t3\t:u\t4 "]) + "\r\n").encode()   # no space at all, flag glued to ':'
    cells = decoded_cells(tsv.decode(raw, "odd.tsv", dataset="x").observations)
    key = {"freq": "A", "indic": "I1"}
    assert cells == {
        observation_key("EE", "2021", "PC", key): (1.5, None),
        observation_key("EE", "2022", "PC", key): (12.5, "b"),
        observation_key("LV", "2021", "PC", key): (2.0, "e"),
        observation_key("LV", "2023", "PC", key): (None, "c"),
        observation_key("LT", "2021", "PC", key): (3.0, None),
        observation_key("LT", "2022", "PC", key): (None, "u"),
        observation_key("LT", "2023", "PC", key): (4.0, None),
    }


@pytest.mark.parametrize("last", [":", "5", "5 b", ": c", "7 "])
def test_last_cell_right_at_the_end_of_the_text(last):
    raw = f"{HEADER}\nA,PC,I1,EE\t1 \t: \t{last}".encode()      # no line end after the last cell
    cells = decoded_cells(tsv.decode(raw, "end.tsv", dataset="x").observations)
    expected_last = {":": None, "5": (5.0, None), "5 b": (5.0, "b"), ": c": (None, "c"), "7 ": (7.0, None)}[last]
    key = observation_key("EE", "2023", "PC", {"freq": "A", "indic": "I1"})
    assert cells.get(key) == expected_last
    assert cells[observation_key("EE", "2021", "PC", {"freq": "A", "indic": "I1"})] == (1.0, None)


@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_decoded_frame_shares_one_dims_dict_per_combination(path):
    obs = tsv.decode(path.read_bytes(), path.name, dataset="x").observations
    combinations = {(unit if isinstance(unit, str) else None, tuple(sorted(d.items())))
                    for unit, d in zip(obs["unit"], obs["dims"])}
    assert len({id(d) for d in obs["dims"]}) == len(combinations)     # one dict per (unit, other codes)
    assert len(obs) == len(independent_tsv(path))


# ---------------------------------------------------------------- a body read in many blocks

@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_small_blocks_read_every_file_alike(path, monkeypatch):
    whole = tsv.decode(path.read_bytes(), path.name, dataset="x").observations
    monkeypatch.setattr(tsv, "BLOCK_BYTES", 700)            # a few lines per block
    blocks = tsv.decode(path.read_bytes(), path.name, dataset="x").observations
    assert decoded_cells(blocks) == decoded_cells(whole) and len(blocks) == len(whole)
    assert len({id(d) for d in blocks["dims"]}) == len({id(d) for d in whole["dims"]})   # shared across blocks


def test_small_blocks_name_lines_counted_from_the_top(monkeypatch):
    monkeypatch.setattr(tsv, "BLOCK_BYTES", 16)              # every line a block of its own
    lines = [HEADER] + [f"A,PC,I1,G{k}\t1 \t2 \t3 " for k in range(6)]
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 6, column 3 \(2022\): unparsable number .2\.\.5."):
        tsv.decode(synthetic(*lines[:5], "A,PC,I1,LV\t1 \t2..5\t3 ", *lines[5:]), "bad.tsv", dataset="x")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 8, column 1: duplicated series 'A,PC,I1,G1' "
                                          r"\(first at line 3\)"):
        tsv.decode(synthetic(*lines, "A,PC,I1, G1 \t1 \t2 \t3 "), "bad.tsv", dataset="x")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 7, column 3: 3 cells, the header has 4 \(2 such line"):
        tsv.decode(synthetic(*lines[:6], "A,PC,I1,LV\t1 \t2 ", "A,PC,I1,LT\t1 "), "bad.tsv", dataset="x")
    with pytest.raises(DecodeError, match=r"^bad\.tsv: line 5, column 1: series key 'A,PC,,LV' has an empty code"):
        tsv.decode(synthetic(*lines[:4], "A,PC,,LV\t1 \t2 \t3 ", *lines[4:]), "bad.tsv", dataset="x")


def test_repeated_series_found_when_most_possible_series_are_absent():
    """Every line its own combination and geo: too many possible series to count each, so the other way is used."""
    lines = [HEADER] + [f"A,PC,I{k},G{k}\t{k} \t: \t1 " for k in range(12)]
    assert len(tsv.decode(synthetic(*lines), "sparse.tsv", dataset="x").observations) == 24
    with pytest.raises(DecodeError, match=r"^sparse\.tsv: line 14, column 1: duplicated series 'A,PC,I3,G3' "
                                          r"\(first at line 5\)"):
        tsv.decode(synthetic(*lines, "A,PC,I3,G3\t1 \t2 \t3 "), "sparse.tsv", dataset="x")
