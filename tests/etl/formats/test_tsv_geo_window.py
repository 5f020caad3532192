"""TSV series keys spelled oddly: a long geo, too many or too few codes, empty codes, a geo-only key."""
from __future__ import annotations

import math

import pytest

from etl.formats import tsv
from etl.model import DecodeError

HEADER = "freq,unit,indic,geo\\TIME_PERIOD\t2021 \t2022 "


def synthetic(*lines: str) -> bytes:
    """A small TSV body from its lines, CRLF-terminated as Eurostat serves it."""
    return ("\r\n".join(lines) + "\r\n").encode()


def rows(raw: bytes) -> list[tuple]:
    """Decoded rows as plain tuples (value None when missing)."""
    obs = tsv.decode(raw, "x.tsv", dataset="x").observations
    return [(geo, period, unit, dims, None if math.isnan(value) else value, flags)
            for geo, period, unit, dims, value, flags
            in zip(obs["geo"], obs["period"], obs["unit"], obs["dims"], obs["value"], obs["flags"])]


def test_long_geo_code_reads():
    long_geo = "X" * 48
    raw = synthetic(HEADER, f"A,PC,I1,{long_geo}\t1 \t: c", "A,PC,I1,EE\t: \t2.5 p")
    assert rows(raw) == [
        (long_geo, "2021", "PC", {"freq": "A", "indic": "I1"}, 1.0, None),
        (long_geo, "2022", "PC", {"freq": "A", "indic": "I1"}, None, "c"),
        ("EE", "2022", "PC", {"freq": "A", "indic": "I1"}, 2.5, "p"),
    ]


@pytest.mark.parametrize("key", ["A,PC,I1,X,EE", "PC,I1,EE", "A,PC,I1,E,E"])
def test_key_with_too_many_or_too_few_codes_is_refused_naming_the_line(key):
    raw = synthetic(HEADER, "A,PC,I1,LT\t1 \t2 ", f"{key}\t1 \t2 ")
    with pytest.raises(DecodeError, match=rf"^x\.tsv: line 3, column 1: series key '{key}' does not give 4 codes"):
        tsv.decode(raw, "x.tsv", dataset="x")


def test_key_ending_in_a_comma_has_an_empty_geo():
    raw = synthetic(HEADER, "A,PC,I1,LT\t1 \t2 ", "A,PC,I1,\t1 \t2 ")
    with pytest.raises(DecodeError, match=r"^x\.tsv: line 3, column 1: series key 'A,PC,I1,' has an empty code"):
        tsv.decode(raw, "x.tsv", dataset="x")


def test_first_code_empty_on_a_two_dimension_key_is_refused():
    raw = synthetic("unit,geo\\TIME_PERIOD\t2021 ", "PC,LT\t1 ", ",EE\t2 ")
    with pytest.raises(DecodeError, match=r"^x\.tsv: line 3, column 1: series key ',EE' has an empty code"):
        tsv.decode(raw, "x.tsv", dataset="x")


def test_single_dimension_key_is_geo_alone():
    raw = synthetic("geo\\TIME_PERIOD\t2021 ", "LT\t1 ", "EE\t: u")
    obs = tsv.decode(raw, "x.tsv", dataset="x").observations
    assert obs["geo"].tolist() == ["LT", "EE"] and obs["flags"].tolist() == [None, "u"]
    assert obs["dims"].tolist() == [{}, {}]
