"""Digital Scoreboard facts: the recorded exports against an independent json read, the API's CSV and JSON bodies, bad input."""
from __future__ import annotations

import json
import math

import pytest

from etl.formats import scoreboard
from etl.model import DecodeError

FACTS = "scoreboard/digital_decade_2026_facts.json"
TRAJECTORIES = "scoreboard/digital_decade_trajectories.json"
INDICATORS = "scoreboard/scoreboard_indicators.json"
CSV_HEADER = "period,country,indicator,breakdown,unit,value,flags,reference_period,remarks\n"


def fields_of(path):
    """The records' fields, read with json alone."""
    return [record["fields"] for record in json.loads(path.read_bytes())]


def keyed(obs):
    """Decoded rows keyed by (country as published, indicator, breakdown, unit, period as published)."""
    out = {}
    for row in obs.itertuples():
        country = "EU" if row.geo == "EU27_2020" else row.geo
        out[(country, row.dims["indicator"], row.dims["breakdown"], row.unit, row.dims["edition"])] = (row.value, row.flags, row.period)
    return out


@pytest.mark.parametrize("name", [FACTS, TRAJECTORIES])
def test_every_fact_of_a_recorded_export_is_one_row_with_its_value_and_flags(shared_data, name):
    path = shared_data / name
    fields = fields_of(path)
    decoded = scoreboard.decode(path.read_bytes(), path.name)
    rows = keyed(decoded.observations)
    assert len(decoded.observations) == len(fields) and len(rows) == len(fields)
    for f in fields:
        key = (f["country"][0], f["indicator"][0], f["breakdown"][0], f["unit"][0], f["period"][0])
        value, flags, period = rows[key]
        assert value == f["value"] and flags == (f["flags"] or None)
        assert period == (f.get("reference_period") or f["period"][0])


def test_facts_file_holds_26_kpis_27_member_states_and_the_eu_and_14_targets(shared_data):
    obs = scoreboard.decode((shared_data / FACTS).read_bytes(), "facts.json").observations
    indicators = {d["indicator"] for d in obs["dims"]}
    targets = obs[[d["breakdown"] == "dd_target_2030" for d in obs["dims"]]]
    assert len(indicators) == 26 and len(targets) == 14
    assert set(targets["geo"]) == {"EU27_2020"} and set(targets["period"]) == {"2030"}
    assert len(set(obs["geo"]) - {"EU27_2020"}) == 27 and "NO" not in set(obs["geo"])


def test_indicator_definitions_become_labels_not_rows(shared_data):
    path = shared_data / INDICATORS
    records = fields_of(path)
    decoded = scoreboard.decode(path.read_bytes(), path.name)
    assert decoded.observations.empty
    labels = {(d, c): text for d, c, text in decoded.labels}
    assert len({c for d, c in labels if d == "scoreboard_indicator"}) == len(records)
    skills = next(r for r in records if r["code"] == "desi_dsk_bab")
    assert labels[("scoreboard_definition", "desi_dsk_bab")] == skills["definition"].strip()


def test_the_api_csv_and_json_list_bodies_give_the_same_rows():
    csv_body = (CSV_HEADER + "desi_2026,EE,desi_dsk_bab,ind_total,pc_ind,62.6,,2025,\n"
                "desi_2026,EU,desi_dsk_bab,ind_total,pc_ind,,,2025,\n"           # no value, no flag: no row
                "desi_2026,LV,desi_dsk_bab,ind_total,pc_ind,45.3,b,2025,\n").encode()
    json_body = json.dumps([
        {"period": "desi_2026", "country": "EE", "indicator": "desi_dsk_bab", "breakdown": "ind_total",
         "unit": "pc_ind", "value": 62.6, "flags": "", "reference_period": "2025", "remarks": None},
        {"period": "desi_2026", "country": "LV", "indicator": "desi_dsk_bab", "breakdown": "ind_total",
         "unit": "pc_ind", "value": 45.3, "flags": "b", "reference_period": "2025", "remarks": None},
    ]).encode()
    from_csv = scoreboard.decode(csv_body, "facts.csv").observations
    from_json = scoreboard.decode(json_body, "facts.json").observations
    assert from_csv.to_dict("records") == from_json.to_dict("records")
    assert list(from_csv["value"]) == [62.6, 45.3] and list(from_csv["flags"]) == [None, "b"]
    assert list(from_csv["period"]) == ["2025", "2025"]


def one_fact(**change):
    """A JSON export with one core.fact record, fields changed as given."""
    fields = {"value": 62.6, "flags": "", "indicator": ["desi_dsk_bab"], "breakdown": ["ind_total"],
              "unit": ["pc_ind"], "country": ["EE"], "period": ["desi_2026"], "reference_period": "2025", "remarks": None}
    fields.update(change)
    return [{"model": "core.fact", "fields": fields}]


@pytest.mark.parametrize("records, where, reason", [
    (one_fact(country=["XX"]), "record 1, field country", "unknown country 'XX'"),
    (one_fact(country=["EU28"]), "record 1, field country", "unknown country 'EU28'"),
    (one_fact(indicator=["desi_nonsense"]), "record 1, field indicator", "unknown indicator 'desi_nonsense'"),
    (one_fact(unit=["pc_bananas"]), "record 1, field unit", "unknown unit 'pc_bananas'"),
    (one_fact(value="lots"), "record 1, field value", "lots"),
    (one_fact(flags="q"), "record 1, field flags", "unknown flag"),
    (one_fact() + one_fact(value=70.0), "record 2", "duplicated fact (first at record 1)"),
    ([{"model": "core.fact", "fields": {"value": 1.0}}], "record 1", "lacks field"),
    ([{"model": "auth.user", "fields": {}}], "record 1", "not a scoreboard fact"),
])
def test_a_bad_fact_is_refused_naming_file_and_record(records, where, reason):
    with pytest.raises(DecodeError) as caught:
        scoreboard.decode(json.dumps(records).encode(), "facts.json")
    assert caught.value.source == "facts.json" and caught.value.where == where and reason in caught.value.reason


@pytest.mark.parametrize("body, where", [
    (b'{"value": 1}', "top level"),
    (b"[]", "top level"),
    (b"[{]", "character 2"),
    (b"<html><body>Service unavailable</body></html>", "line 1"),
    ((CSV_HEADER + "desi_2026,EE,desi_dsk_bab,ind_total\n").encode(), "line 2"),
    (b"period,country,value\ndesi_2026,EE,1\n", "line 1"),
])
def test_a_body_of_another_shape_is_refused(body, where):
    with pytest.raises(DecodeError) as caught:
        scoreboard.decode(body, "body")
    assert caught.value.where == where


def test_a_null_value_with_a_flag_is_a_row_without_value_never_zero():
    obs = scoreboard.decode(json.dumps(one_fact(value=None, flags="b")).encode(), "f.json").observations
    assert len(obs) == 1 and math.isnan(obs["value"].iloc[0]) and obs["flags"].iloc[0] == "b"
