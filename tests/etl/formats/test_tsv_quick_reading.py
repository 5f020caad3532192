"""TSV decoder: the quick readings (plain cells, distinct keys) against the careful ones; odd spellings."""
from __future__ import annotations

import numpy as np
import pytest

from etl.formats import tsv
from tests.etl.formats import TSV_DIR, decoded_cells, independent_tsv, observation_key, recorded

HEADER = "freq,unit,indic,geo\\TIME_PERIOD\t2021 \t2022 \t2023 "


def grid_of(raw: bytes, name: str):
    """(header, grid) of a recorded or synthetic body."""
    header_line, text, body_start = tsv.read_body(raw, name)
    header = tsv.read_header(header_line, name)
    return header, tsv.split_body(text, body_start, header, name)


@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_quick_cell_reading_agrees_with_the_cell_by_cell_checks(path):
    header, grid = grid_of(path.read_bytes(), path.name)
    index, starts, ends = tsv.published_cells(grid)
    quick = tsv.read_plain_cells(grid, starts, ends)
    assert quick is not None, "every recorded file is spelled the usual way, so the quick reading must take it"
    careful = tsv.parse_cells(tsv.byte_ranges(grid, starts, ends), index, header, path.name)
    np.testing.assert_array_equal(quick[0], careful[0])           # NaN where ':' in both
    assert quick[1].tolist() == careful[1].tolist()
    np.testing.assert_array_equal(quick[2], careful[2])


@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_bare_cells_left_out_hold_only_a_colon(path):
    header, grid = grid_of(path.read_bytes(), path.name)
    index, _, _ = tsv.published_cells(grid)
    left_out = np.setdiff1d(np.arange(grid.lines * len(header.periods)), index)
    starts, ends = grid.starts[:, 1:].ravel(), grid.ends[:, 1:].ravel()
    assert all(grid.text(int(starts[i]), int(ends[i])).strip() == ":" for i in left_out)


@pytest.mark.parametrize("path", recorded(TSV_DIR, "*.tsv"), ids=lambda p: p.name)
def test_distinct_keys_agree_with_the_code_by_code_reading(path):
    header, grid = grid_of(path.read_bytes(), path.name)
    commas = tsv.key_commas(grid, header, path.name)
    quick = tsv.distinct_keys(grid, header, commas)
    assert quick is not None
    careful = tsv.keys_code_by_code(grid, header, commas, path.name)

    def per_line(keys):
        geos = keys.geos.to_pylist()
        units = keys.units.to_pylist() if keys.units is not None else None
        return [(geos[keys.geo_of[i]], units[keys.combination_of[i]] if units else None,
                 keys.dims[keys.combination_of[i]]) for i in range(grid.lines)]
    assert per_line(quick) == per_line(careful)


def test_odd_spellings_take_the_careful_path_and_read_as_published():
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
