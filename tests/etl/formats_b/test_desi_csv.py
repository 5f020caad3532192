"""DESI scoreboard CSV export decoder against the recorded 2020 export and small synthetic files."""
from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from etl.formats import desi_csv
from etl.model import DecodeError, finalize
from tests.etl.formats_b import same_cell, shared_file

HEADER = '"observation","time_period","ref_area","indicator","breakdown","unit_measure","value","flag","note"'
URI = "http://semantic.digital-agenda-data.eu/data/DESI"


def line(area="EE", period="2020", indicator="desi_1a1_fbbtc", breakdown="hh_total", unit="pc_hh",
         value="80.1", flag="", note="") -> str:
    """One export line with a URI that matches its own keys."""
    uri = f"{URI}/{indicator}/{breakdown}/{unit}/{area}/{period}"
    return f'"{uri}","{period}","{area}","{indicator}","{breakdown}","{unit}",{value},{flag},{note}'


def export(*lines: str) -> bytes:
    """A tiny DESI export."""
    return "\n".join([HEADER, *lines]).encode()


def test_recorded_export_round_trips_every_cell():
    path = shared_file("desi", "desi_2020_export.csv")
    decoded = desi_csv.decode(path.read_bytes(), path.name)
    with path.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    eu_geo = {p: ("EU28" if int(p) <= 2020 else "EU27_2020") for p in {r["time_period"] for r in raw}}
    expected = {}
    for r in raw:
        if r["value"] == "" and r["flag"] == "":
            continue
        geo = eu_geo[r["time_period"]] if r["ref_area"] == "EU" else {"GR": "EL", "GB": "UK"}.get(r["ref_area"], r["ref_area"])
        key = (geo, r["time_period"], r["indicator"], r["breakdown"], r["unit_measure"])
        expected[key] = (float(r["value"]) if r["value"] else None, r["flag"] or None)
    obs = decoded.observations
    assert decoded.dataset == "desi" and len(obs) == len(expected)
    got = {(row.geo, row.period, row.dims["indicator"], row.dims["breakdown"], row.dims["unit_measure"]): (row.value, row.flags)
           for row in obs.itertuples(index=False)}
    assert got.keys() == expected.keys()
    assert all(same_cell(*got[k], *expected[k]) for k in expected)
    assert (obs["unit"] == obs["dims"].map(lambda d: d["unit_measure"])).all()
    table = finalize(decoded, retrieved_at=pd.Timestamp("2025-01-01", tz="UTC"), source_file=path.name)
    assert table.num_rows == len(obs)


def test_recorded_export_uses_eurostat_geo_codes():
    path = shared_file("desi", "desi_2020_export.csv")
    obs = desi_csv.decode(path.read_bytes(), path.name).observations
    with path.open(encoding="utf-8", newline="") as fh:
        areas = {r["ref_area"] for r in csv.DictReader(fh)}
    assert {"EL", "UK", "EU"} <= areas and not {"GR", "GB"} & areas    # what the file itself uses
    assert set(obs["geo"]) == (areas - {"EU"}) | {"EU28"}
    indicators = set(obs["dims"].map(lambda d: d["indicator"]))
    assert {"desi", "desi_4b3_sellcb", "desi_5a4_psb", "desi_5a1_egovu"} <= indicators


def test_mapping_of_iso_codes_and_eu_by_edition():
    body = export(line(area="GR"), line(area="GB", period="2019"), line(area="EU", period="2020"),
                  line(area="EU", period="2021"))
    obs = desi_csv.decode(body, "t.csv").observations
    assert list(zip(obs["geo"], obs["period"])) == [("EL", "2020"), ("UK", "2019"), ("EU28", "2020"), ("EU27_2020", "2021")]


def test_missing_value_rules_flags_and_note():
    body = export(line(value="", period="2017"), line(value="", flag="p", period="2018"), line(flag="bu", note="Provisional data"))
    obs = desi_csv.decode(body, "t.csv").observations
    assert obs["period"].tolist() == ["2018", "2020"]
    assert math.isnan(obs["value"].iloc[0]) and obs["flags"].tolist() == ["p", "bu"]
    assert obs["dims"].tolist()[1] == {"indicator": "desi_1a1_fbbtc", "breakdown": "hh_total",
                                       "unit_measure": "pc_hh", "note": "Provisional data"}
    assert "note" not in obs["dims"].tolist()[0]


@pytest.mark.parametrize(
    "body, where, reason",
    [
        (export(line(), line(area="LV") + ",extra"), "line 3", "10 cells"),
        (export(line(value="80,1")), "line 2", "cells"),
        (export(line(value="eighty")), "line 2, column value", "unparsable number"),
        (export(line(flag="w")), "line 2, column flag", "unknown flag 'w'"),
        (export(line(area="XX")), "line 2, column ref_area", "unknown ref_area 'XX'"),
        (export(line(), line(value="12")), "line 3", "duplicated observation (first at line 2)"),
        (export(line().replace("/EE/2020", "/LV/2020", 1)), "line 2, column observation", "does not match"),
        (b"<html><head><title>404</title></head></html>", "line 1", "HTML"),
        (b"a,b\n1,2\n", "line 1", "not a DESI export"),
    ],
)
def test_bad_input_is_refused_with_file_and_place(body, where, reason):
    with pytest.raises(DecodeError) as err:
        desi_csv.decode(body, "desi.csv")
    assert err.value.source == "desi.csv"
    assert err.value.where == where
    assert reason in err.value.reason


def test_dataset_other_than_desi_is_refused():
    with pytest.raises(DecodeError, match="'desi'"):
        desi_csv.decode(export(line()), "t.csv", dataset="isoc_e_dii")
    assert desi_csv.decode(export(line()), "t.csv", dataset="desi").dataset == "desi"
