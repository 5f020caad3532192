"""Insights on a tiny synthetic database built here, against expectations worked out by hand."""
from __future__ import annotations

import os
import statistics
from pathlib import Path

import duckdb
import pytest

from dashboard import insights as insights_module
from dashboard.data import insights as data_insights
from dashboard.meta import IndicatorMeta
from tests.dashboard import ANNUAL_VALUES_SQL

BSR = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]

# (indicator, geo, year, value, flags). The numbers are chosen so every expectation below can be worked by hand.
# ind_up: higher is better, 2030 target 75. ind_down: lower is better, no target, no EU27 series.
ROWS = [
    *[("ind_up", "EE", y, v, None) for y, v in zip(range(2018, 2024), [40, 42, 44, 46, 48, 50])],
    ("ind_up", "EE", 2024, 52, "p"),            # only one country has 2024: the latest common year stays 2023
    ("ind_up", "LV", 2018, 20, None), ("ind_up", "LV", 2020, None, "c"), ("ind_up", "LV", 2023, 35, "b"),
    *[("ind_up", "LT", y, 30, None) for y in range(2018, 2024)],
    ("ind_up", "FI", 2018, 70, None), ("ind_up", "FI", 2023, 80, "p"),
    ("ind_up", "NO", 2018, 60, None),
    ("ind_up", "EU27_2020", 2018, 45, None), ("ind_up", "EU27_2020", 2023, 55, "e"),
    ("ind_up", "NL", 2023, 99, None),            # not BSR: must never lead
    ("ind_down", "EE", 2019, 30, None), ("ind_down", "EE", 2023, 10, None),
    ("ind_down", "LV", 2019, 40, None), ("ind_down", "LV", 2023, 30, None),
    ("ind_down", "PL", 2019, 70, None), ("ind_down", "PL", 2023, 35, None),
    ("ind_side", "EE", 2023, 1, None), ("ind_side", "LV", 2023, 2, None),  # not a headline indicator
]
CATALOGUE = [
    # id, title, unit, higher_is_better, theme, target_2030, headline
    ("ind_up", "Enterprises doing well", "PC_ENT", True, "business", 75.0, True),
    ("ind_down", "Enterprises doing badly", "PC_ENT", False, "business", None, True),
    ("ind_side", "A side indicator", "PC_ENT", True, "business", None, False),
]
NAMES = {"EE": "Estonia", "LV": "Latvia", "LT": "Lithuania", "PL": "Poland", "FI": "Finland", "SE": "Sweden",
         "DK": "Denmark", "DE": "Germany", "NO": "Norway", "NL": "Netherlands", "EU27_2020": "European Union (27)"}


def build_database(data_dir: Path, rows=ROWS) -> Path:
    """Write a DuckDB file in the contract's shape (catalogue, geo, indicator_values) and swap it in."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp, final = data_dir / "dsm.duckdb.tmp", data_dir / "dsm.duckdb"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("CREATE TABLE catalogue (id VARCHAR, title VARCHAR, description VARCHAR, dataset VARCHAR, "
                "source_format VARCHAR, selection VARCHAR, unit VARCHAR, higher_is_better BOOLEAN, theme VARCHAR, "
                "target_2030 DOUBLE, target_label VARCHAR, headline BOOLEAN, live_only BOOLEAN)")
    con.executemany("INSERT INTO catalogue VALUES (?, ?, NULL, 'synthetic', 'tsv', '{}', ?, ?, ?, ?, NULL, ?, FALSE)",
                    [list(r) for r in CATALOGUE])
    con.execute("CREATE TABLE geo (code VARCHAR, name VARCHAR, is_eu27 BOOLEAN, is_bsr BOOLEAN, is_aggregate BOOLEAN)")
    con.executemany("INSERT INTO geo VALUES (?, ?, ?, ?, ?)",
                    [[c, n, c not in ("NO", "EU27_2020"), c in BSR, c == "EU27_2020"] for c, n in NAMES.items()])
    con.execute("CREATE TABLE country_groups (group_id VARCHAR, geo VARCHAR, position INTEGER)")
    con.executemany("INSERT INTO country_groups VALUES ('bsr', ?, ?)", [[c, i] for i, c in enumerate(BSR, start=1)])
    con.execute("CREATE TABLE indicator_values (indicator VARCHAR, geo VARCHAR, period VARCHAR, year SMALLINT, "
                "value DOUBLE, flags VARCHAR, unit VARCHAR, dataset VARCHAR, source_updated VARCHAR, "
                "retrieved_at TIMESTAMPTZ, source_file VARCHAR)")
    con.executemany("INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, ?, 'PC_ENT', 'synthetic', '2025-01-01', "
                    "'2025-01-02 00:00:00+00', 'synthetic.tsv')",
                    [[i, g, str(y), y, v, f] for i, g, y, v, f in rows])
    con.execute(ANNUAL_VALUES_SQL.read_text(encoding="utf-8"))  # the ETL's own annual pick
    con.close()
    os.replace(tmp, final)
    return final


@pytest.fixture
def small_db(tmp_path, monkeypatch):
    """A fresh synthetic database that the dashboard's data module reads."""
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path))
    return build_database(tmp_path)


def one(items, kind, indicator, geo="*"):
    """The single insight of a kind (and geo) for an indicator."""
    found = [i for i in items if i.kind == kind and i.indicator == indicator and (geo == "*" or i.geo == geo)]
    assert len(found) == 1, f"expected one {kind} insight for {indicator}/{geo}, got {found}"
    return found[0]


def test_leader_and_laggard_in_latest_common_year(small_db):
    items = data_insights.insights()
    leader, laggard = one(items, "leader", "ind_up"), one(items, "laggard", "ind_up")
    assert (leader.geo, leader.year, leader.value, leader.flags) == ("FI", 2023, 80.0, "p")
    assert (laggard.geo, laggard.year, laggard.value) == ("LT", 2023, 30.0)
    assert "Finland" in leader.sentence and "80.0% (p)" in leader.sentence and "2023" in leader.sentence
    # lower is better: the lowest value leads
    assert one(items, "leader", "ind_down").geo == "EE"
    assert one(items, "laggard", "ind_down").geo == "PL"


def test_gap_to_eu27_per_country(small_db):
    items = data_insights.insights()
    expected = {"EE": 50 - 55, "LV": 35 - 55, "LT": 30 - 55, "FI": 80 - 55}
    gaps = {i.geo: i.details["gap"] for i in items if i.kind == "gap_eu27" and i.indicator == "ind_up"}
    assert gaps == pytest.approx(expected)
    fi = one(items, "gap_eu27", "ind_up", "FI")
    assert "25.0 pp above the EU27 (55.0% (e))" in fi.sentence
    assert fi.href.startswith("/compare?") and "geo=FI,EU27_2020" in fi.href
    assert not [i for i in items if i.kind == "gap_eu27" and i.indicator == "ind_down"], "no EU27 series, no gap"


def test_fastest_improver_over_five_years(small_db):
    items = data_insights.insights()
    up = one(items, "fastest_improver", "ind_up")
    # EE +2/yr over 6 points; LV's 2023 value carries a break (b), so only one comparable point is left: no pace;
    # LT flat; FI has two points only (a difference, not a trend)
    assert up.geo == "EE" and up.details["pace_per_year"] == pytest.approx(2.0)
    assert up.details["start_year"] == 2018 and up.details["points"] == 6
    assert "2.0 pp a year (linear trend 2018–2023, 6 points" in up.sentence
    # every ind_down country has two points: no trend is claimed at all
    assert not [i for i in items if i.kind == "fastest_improver" and i.indicator == "ind_down"]


def test_target_2030_required_against_observed(small_db):
    items = data_insights.insights()
    reached = {i.geo: i.details["year_reached"] for i in items if i.kind == "target_2030"}
    # EE: 25 to go at 2/yr -> 2036; LV: break in 2023, no pace; LT flat; FI already there; EU27: two points, no pace
    assert reached == {"EE": 2036, "LV": None, "LT": None, "FI": 2023, "EU27_2020": None}
    ee = one(items, "target_2030", "ind_up", "EE")
    assert ee.details["required_per_year"] == pytest.approx(25 / 7) and ee.details["on_track_2030"] is False
    assert "needs +3.6 pp a year, observed +2.0 pp a year (linear trend 2018–2023, 6 points)" in ee.sentence
    assert "not on track by 2030" in ee.sentence and "Enterprises doing well" in ee.sentence
    assert "no observed pace" in one(items, "target_2030", "ind_up", "LV").sentence
    assert one(items, "target_2030", "ind_up", "EE").details["distance"] == pytest.approx(25.0)
    assert not [i for i in items if i.kind == "target_2030" and i.indicator == "ind_down"], "no target, no insight"


def test_convergence_verdicts(small_db):
    items = data_insights.insights()
    up = one(items, "convergence", "ind_up")
    assert up.details["start_year"] == 2018
    assert up.details["spread_start"] == pytest.approx(statistics.pstdev([40, 20, 30, 70]))
    assert up.details["spread_end"] == pytest.approx(statistics.pstdev([50, 35, 30, 80]))
    # +0.8 pp of standard deviation is within the 2 pp noise threshold
    assert up.details["verdict"] == "stable" and "about the same" in up.sentence
    assert up.details["cv_end"] == pytest.approx(statistics.pstdev([50, 35, 30, 80]) / statistics.mean([50, 35, 30, 80]))
    down = one(items, "convergence", "ind_down")
    assert down.details["spread_end"] == pytest.approx(statistics.pstdev([10, 30, 35]))
    assert down.details["converging"] is True and "converging" in down.sentence


def test_only_headline_indicators_and_bsr_geos(small_db):
    items = data_insights.insights()
    assert {i.indicator for i in items} == {"ind_up", "ind_down"}
    assert "NL" not in {i.geo for i in items}


def test_cached_per_database_version_and_recomputed_after_refresh(small_db, tmp_path):
    first = data_insights.insights()
    assert data_insights.insights() == first
    changed = [r if (r[0], r[1], r[2]) != ("ind_up", "LT", 2023) else ("ind_up", "LT", 2023, 90, None) for r in ROWS]
    build_database(tmp_path, changed)
    leader = one(data_insights.insights(), "leader", "ind_up")
    assert (leader.geo, leader.value) == ("LT", 90.0)


def test_year_target_reached_edge_cases():
    reach = insights_module.year_target_reached
    assert reach(50, 5, 75, 2023, True) == 2028           # exactly five years of 5
    assert reach(50, -1, 75, 2023, True) is None          # declining
    assert reach(20, -2, 10, 2023, False) == 2028         # lower is better, falling 2/yr
    assert reach(9, 1, 10, 2023, False) == 2023           # already below a lower-is-better target
    assert reach(44.3, 1.3, 80, 2023, True) is None       # 2051: no year beyond 2050 is printed


def test_a_spread_that_barely_moves_is_stable_not_converging():
    meta = IndicatorMeta("x", "X", "PC_IND", True)
    # spreads: pstdev([10, 20, 30]) = 8.165 in 2018; pstdev([10, 20, 29.9]) = 8.124 in 2023, -0.5 %: stable
    rows = [("x", g, str(y), y, v, None) for y, vals in ((2018, (10, 20, 30)), (2023, (10, 20, 29.9)))
            for g, v in zip(("EE", "LV", "LT"), vals)]
    values = __import__("pandas").DataFrame(rows, columns=["indicator", "geo", "period", "year", "value", "flags"])
    [item] = [i for i in insights_module.compute_insights([meta], values, bsr=BSR) if i.kind == "convergence"]
    assert item.details["verdict"] == "stable" and "about the same" in item.sentence
    narrowed = values.assign(value=values["value"].where(~((values["geo"] == "LT") & (values["year"] == 2023)), 20.0))
    [item] = [i for i in insights_module.compute_insights([meta], narrowed, bsr=BSR) if i.kind == "convergence"]
    assert item.details["verdict"] == "converging"  # pstdev([10, 20, 20]) = 4.71, 3.5 pp below 8.165


def test_a_target_in_counts_applies_to_the_eu27_only():
    meta = IndicatorMeta("spec", "ICT specialists", "thousand persons", True, target_2030=20000.0)
    rows = [("spec", g, str(y), y, v, None) for g, y, v in
            (("EE", 2018, 20), ("EE", 2023, 30), ("LV", 2018, 15), ("LV", 2023, 20),
             ("EU27_2020", 2018, 8000), ("EU27_2020", 2020, 8600), ("EU27_2020", 2023, 9500))]
    values = __import__("pandas").DataFrame(rows, columns=["indicator", "geo", "period", "year", "value", "flags"])
    targets = [i for i in insights_module.compute_insights([meta], values, bsr=BSR) if i.kind == "target_2030"]
    assert [i.geo for i in targets] == ["EU27_2020"]
    # 10500 to go in 7 years needs 1500 a year; the trend of 8000, 8600, 9500 (2018, 2020, 2023) is ~297 a year
    assert targets[0].details["required_per_year"] == pytest.approx(1500.0)
    assert targets[0].details["on_track_2030"] is False and targets[0].details["year_reached"] is None  # 2059 > 2050
