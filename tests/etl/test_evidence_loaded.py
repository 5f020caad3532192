"""The new evidence in the database: every scoreboard fact, eGov score and DESI 2022 figure equals its file's (read here with json/csv)."""
from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    yield con
    con.close()


def geo(code):
    return "EU27_2020" if code == "EU" else code


@pytest.mark.parametrize("name", ["digital_decade_2026_facts.json", "digital_decade_trajectories.json"])
def test_every_scoreboard_fact_is_in_the_database_with_its_value(db, shared_data, name):
    facts = [r["fields"] for r in json.loads((shared_data / "scoreboard" / name).read_bytes())]
    rows = db.execute("""SELECT geo, period, unit, dims['indicator'], dims['breakdown'], value, flags
                         FROM observations WHERE source_file = ?""", [name]).fetchall()
    assert len(rows) == len(facts)
    got = {(g, p, u, i, b): (v, f) for g, p, u, i, b, v, f in rows}
    for fact in facts:
        key = (geo(fact["country"][0]), fact.get("reference_period") or fact["period"][0], fact["unit"][0],
               fact["indicator"][0], fact["breakdown"][0])
        assert got[key] == (fact["value"], fact["flags"] or None), key


def test_the_2030_targets_come_from_the_facts_rows(db, shared_data):
    facts = [r["fields"] for name in ("digital_decade_2026_facts.json", "digital_decade_trajectories.json")
             for r in json.loads((shared_data / "scoreboard" / name).read_bytes())]
    in_file = {f["indicator"][0]: f["value"] for f in facts if f["breakdown"][0] == "dd_target_2030"}
    rows = db.execute("""SELECT json_extract_string(c.selection, '$.indicator'), t.target_2030, t.target_source
                         FROM indicator_targets t JOIN catalogue c ON c.id = t.indicator
                         WHERE c.dataset = 'digital_decade'""").fetchall()
    held = {code: value for code, value, source in rows if source == "data"}
    # 14 target rows in the facts; desi_ict_spec and desi_aehr have no values here, dd_ictspec (trajectories) has
    assert len(held) == 13 and all(in_file[code] == value for code, value in held.items())
    assert db.execute("SELECT count(*) FROM catalogue WHERE dataset = 'digital_decade' AND target_2030 IS NOT NULL").fetchone() == (0,)


def test_definitions_of_the_scoreboard_codes_are_in_the_database(db, shared_data):
    records = [r["fields"] for r in json.loads((shared_data / "scoreboard/scoreboard_indicators.json").read_bytes())]
    definition = next(r["definition"] for r in records if r["code"] == "desi_dps_biz").strip()
    assert db.execute("SELECT label FROM labels WHERE dimension = 'scoreboard_definition' AND code = 'desi_dps_biz'").fetchone() == (definition,)


@pytest.mark.parametrize("name", ["egov_benchmark_2022data.csv", "egov_benchmark_2023data.csv"])
def test_every_egov_score_is_in_the_database(db, shared_data, name):
    table = list(csv.DictReader(io.StringIO((shared_data / "egov" / name).read_text(encoding="utf-8-sig"))))
    expected = {(row["Country"], m): float(v) for row in table for m, v in row.items() if m != "Country"}
    rows = db.execute("SELECT geo, dims['measure'], value FROM observations WHERE source_file = ?", [name]).fetchall()
    assert {(g, m): v for g, m, v in rows} == expected and len(rows) == len(expected)
    measured = db.execute("""SELECT count(*) FROM indicator_values WHERE source_file = ? AND indicator LIKE 'egov_%'""", [name]).fetchone()
    assert measured == (len(expected),)


def test_desi_2022_composite_in_the_database_matches_the_published_figures(db):
    got = dict(db.execute("""SELECT geo, round(value, 1) FROM indicator_values
                             WHERE indicator = 'desi2022_overall' AND period = '2022'""").fetchall())
    assert got["DE"] == 52.9 and got["EU27_2020"] == 52.3 and len(got) == 28
    editions = db.execute("SELECT DISTINCT period FROM indicator_values WHERE indicator = 'desi2022_overall' ORDER BY 1").fetchall()
    assert [p for (p,) in editions] == [str(y) for y in range(2017, 2023)]
