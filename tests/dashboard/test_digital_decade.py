"""Digital Decade page and the WP3 cross-border view: values against the recorded files read here with json/csv,
the required-against-observed rule on synthetic frames, Norway's note, bad URLs, CSV exports against the database,
and every indicator a finding links to holding rows in the offline build."""
from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from dash import html

from tests.dashboard import text_of, walk
from tests.dashboard.test_pages_more import db, env  # noqa: F401  (the module fixtures of the pages tests)

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"
FACTS = SHARED / "scoreboard" / "digital_decade_2026_facts.json"
EGOV = {2022: SHARED / "egov" / "egov_benchmark_2022data.csv", 2023: SHARED / "egov" / "egov_benchmark_2023data.csv"}


@pytest.fixture(scope="module")
def facts() -> list[dict]:
    """The scoreboard facts as recorded, read with json."""
    return [record["fields"] for record in json.loads(FACTS.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def selections() -> dict[str, dict]:
    """Catalogue id -> selection of the Digital Decade KPIs, read from etl/catalogue.toml with tomllib."""
    catalogue = tomllib.loads((ROOT / "etl" / "catalogue.toml").read_text(encoding="utf-8"))
    return {i["id"]: i["selection"] for i in catalogue["indicators"] if i["dataset"] == "digital_decade"}


def fact(facts, selection: dict, country: str) -> dict | None:
    """The recorded fact of one KPI and country (the DESI 2026 edition row), None when there is none."""
    found = [f for f in facts if f["indicator"][0] == selection["indicator"] and f["breakdown"][0] == selection["breakdown"]
             and f["unit"][0] == selection["unit"] and f["country"][0] == country and f["period"][0] == "desi_2026"]
    assert len(found) <= 1
    return found[0] if found else None




def state(**query):
    """The page's validated state for a URL query."""
    from dashboard import registry

    return registry.PAGES["/digital-decade"].state(query)


# ---------------------------------------------------------------- values against the recorded facts

@pytest.mark.parametrize("geo", ["EE", "DE", "PL"])
def test_latest_values_and_eu_values_equal_the_recorded_facts(env, facts, selections, geo):
    from dashboard.data import digital_decade as dd

    frame, meta = dd.targets_data(state(geo=geo))
    assert len(frame) >= 20, "a Member State reports at least 20 KPIs"
    for row in frame.itertuples():
        mine, eu = fact(facts, selections[row.indicator], geo), fact(facts, selections[row.indicator], "EU")
        assert mine is not None, row.indicator
        assert row.value == pytest.approx(mine["value"]) and row.year == int(mine["reference_period"])
        assert (row.flags or "") == (mine["flags"] or "")
        if eu is not None:
            assert row.eu_value == pytest.approx(eu["value"]) and row.eu_year == int(eu["reference_period"])
    assert "Digital Decade 2026" in meta.source and "data year" in meta.source


def test_targets_are_the_facts_dd_target_2030_rows_and_distance_and_required_pace_follow(env, facts, selections):
    from dashboard.data import digital_decade as dd

    recorded = {f["indicator"][0]: f["value"] for f in facts if f["breakdown"][0] == "dd_target_2030"}
    frame, _ = dd.targets_data(state(geo="EE"))
    with_target = frame[frame["target_2030"].notna()]
    assert len(with_target) >= 10
    for row in with_target.itertuples():
        target = recorded[selections[row.indicator]["indicator"]]
        assert row.target_2030 == pytest.approx(target)
        assert row.distance == pytest.approx(target - row.value)
        assert row.required_per_year == pytest.approx((target - row.value) / (2030 - row.year))
    unicorns = frame[frame["indicator"] == "dd_unicorns"].iloc[0]  # a count: the target of 500 is the EU's
    assert pd.isna(unicorns["target_2030"]) and unicorns["verdict"] == "eu_only"


def test_observed_pace_uses_the_twin_series_years_and_names_its_window(env, db):
    """EE basic digital skills: Eurostat 2021 and 2023 (isoc_sk_dskl_i21) plus the scoreboard's 2025: 3 points."""
    from dashboard.data import digital_decade as dd
    import numpy as np

    frame, meta = dd.targets_data(state(geo="EE"))
    row = frame[frame["indicator"] == "dd_basic_digital_skills"].iloc[0]
    years = db.execute("SELECT year, value FROM indicator_values WHERE indicator = 'basic_digital_skills' AND geo = 'EE' "
                       "AND year BETWEEN 2020 AND 2024 ORDER BY year").fetchall()
    points = years + [(row["year"], row["value"])]
    slope = np.polyfit([float(y) for y, _ in points], [float(v) for _, v in points], 1)[0]
    assert row["observed_per_year"] == pytest.approx(slope)
    assert row["observed_window"] == f"linear trend {points[0][0]}–{points[-1][0]}, {len(points)} points"
    assert "isoc_sk_dskl_i21" in meta.source


def test_rank_is_the_competition_rank_among_member_states(env, facts, selections):
    from dashboard.data import digital_decade as dd

    frame, _ = dd.targets_data(state(geo="EE"))
    row = frame[frame["indicator"] == "dd_basic_digital_skills"].iloc[0]
    sel = selections["dd_basic_digital_skills"]
    values = [f["value"] for f in facts if f["indicator"][0] == sel["indicator"] and f["breakdown"][0] == sel["breakdown"]
              and f["period"][0] == "desi_2026" and f["country"][0] not in ("EU",)]
    assert row["rank"] == 1 + sum(v > row["value"] for v in values) and row["ranked"] == len(values) == 27


# ---------------------------------------------------------------- the rule on synthetic frames

def frame(values: dict[int, float], flags: dict[int, str] | None = None) -> pd.DataFrame:
    flags = flags or {}
    return pd.DataFrame({"year": list(values), "value": list(values.values()),
                         "flags": [flags.get(y) for y in values]})


def test_required_against_observed_pace_on_a_synthetic_frame():
    from dashboard.data.digital_decade import progress

    steady = frame({2019: 50, 2020: 52, 2021: 54, 2022: 56, 2023: 58, 2024: 60})  # +2 a year
    p = progress(steady, 80.0, higher_is_better=True, noise=2.0)
    assert p.required == pytest.approx(20 / 6) and p.pace.per_year == pytest.approx(2.0)
    assert (p.pace.first, p.pace.last, p.pace.points) == (2019, 2024, 6)
    assert p.verdict == "off_track"  # 60 + 2 x 6 = 72: 8 short of 80
    fast = frame({2020: 60, 2021: 63.3, 2022: 66.6, 2023: 69.9, 2024: 73.2})  # +3.3 a year, needs 6.8/6 = 1.13
    assert progress(fast, 80.0, higher_is_better=True, noise=2.0).verdict == "on_track"
    near = frame({2022: 60, 2023: 63, 2024: 66})  # +3 a year: 66 + 18 = 84 >= 85 - 2 (within the noise)
    assert progress(near, 85.0, higher_is_better=True, noise=2.0).verdict == "on_track"
    assert progress(near, 85.0, higher_is_better=True, noise=0.0).verdict == "off_track"


def test_a_break_in_series_cuts_the_window_and_too_few_points_say_so():
    from dashboard.data.digital_decade import progress, window_text

    broken = frame({2019: 10, 2020: 11, 2021: 40, 2022: 41, 2023: 42, 2024: 43}, flags={2021: "b"})
    p = progress(broken, 80.0, higher_is_better=True, noise=2.0)
    assert (p.pace.first, p.pace.points, p.pace.break_year) == (2021, 4, 2021) and p.pace.per_year == pytest.approx(1.0)
    assert "from the break in series in 2021" in window_text(p.pace)
    short = progress(frame({2023: 40, 2025: 44}), 80.0, higher_is_better=True, noise=2.0)
    assert short.pace is None and short.verdict == "too_few_years" and short.required == pytest.approx(36 / 5)
    assert window_text(short.pace).startswith("too few years")


def test_target_met_and_lower_is_better():
    from dashboard.data.digital_decade import progress

    assert progress(frame({2023: 81, 2024: 82, 2025: 83}), 80.0, higher_is_better=True, noise=2.0).verdict == "met"
    falling = frame({2022: 30, 2023: 28, 2024: 26})  # lower is better, -2 a year, target 10: 26 - 12 = 14, 4 short
    p = progress(falling, 10.0, higher_is_better=False, noise=2.0)
    assert p.required == pytest.approx(-16 / 6) and p.verdict == "off_track"
    assert progress(falling, 20.0, higher_is_better=False, noise=2.0).verdict == "on_track"
    assert progress(frame({2024: 9}), 10.0, higher_is_better=False, noise=2.0).verdict == "met"


# ---------------------------------------------------------------- the page

def test_page_for_estonia_has_both_digital_decade_charts_the_wp3_card_and_definitions(env):
    from dash import dcc

    from dashboard.pages import digital_decade as page

    layout = page.layout(geo="EE")
    graphs = {c.id for c in walk(layout) if isinstance(c, dcc.Graph)}
    assert graphs == {"dd_targets-graph", "dd_trajectory-graph", "wp3_crossborder-graph"}
    text = text_of(layout)
    assert "secondary compilation" in text.lower()
    assert "Estonia (2023): 100.0 national, 97.5 cross-border, gap 2.5 points" in text
    assert "Individuals with ‘basic’ or ‘above basic’ digital skills" in text  # the scoreboard's definition


def test_norway_gets_a_plain_in_page_note_not_an_error(env):
    from dashboard.pages import digital_decade as page

    layout = page.layout(geo="NO")
    text = text_of(layout)
    assert "Norway is not covered by the Digital Scoreboard" in text
    assert "This view is not available" not in text
    notes = [c for c in walk(layout) if isinstance(c, html.P) and "dd-not-covered" in (c.className or "")]
    assert len(notes) == 1


@pytest.mark.parametrize("query, message", [
    ({"geo": "XX"}, "Unknown country code XX."),
    ({"geo": "EE,LV"}, "Choose one country"),
    ({"indicator": "households_internet_access"}, "is not a Digital Decade KPI"),
    ({"indicator": "no_such_thing"}, "Unknown indicator"),
    ({"audience": "tourists"}, "Unknown audience"),
])
def test_bad_geo_or_indicator_gives_the_friendly_message(env, query, message):
    from dashboard.pages import digital_decade as page

    layout = page.layout(**query)
    assert "friendly-error" in (layout.className or "") and message in text_of(layout)


def test_table_view_shows_tables_for_every_chart(env):
    from dashboard.pages import digital_decade as page

    ids = {c.id for c in walk(page.layout(geo="LV", view="table")) if isinstance(getattr(c, "id", None), str)}
    assert {"dd_targets-table", "dd_trajectory-table", "wp3_crossborder-table"} <= ids


# ---------------------------------------------------------------- exports

def read_csv(app, path: str) -> list[dict]:
    response = app.server.test_client().get(path)
    assert response.status_code == 200, response.data[:300]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def test_csv_exports_equal_the_database_rows(env, app, db):
    rows = read_csv(app, "/export/dd_targets.csv?geo=EE")
    assert len(rows) >= 20
    for row in rows:
        value, = db.execute("SELECT value FROM indicator_values WHERE indicator = ? AND geo = 'EE' AND year = ?",
                            [row["indicator"], int(row["year"])]).fetchone()
        assert float(row["value"]) == pytest.approx(value) and row["dataset"] == "digital_decade"
    trajectory = read_csv(app, "/export/dd_trajectory.csv?geo=EE&indicator=dd_basic_digital_skills")
    observed = [r for r in trajectory if r["series"] in ("country", "eu")]
    assert {r["indicator"] for r in observed} == {"dd_basic_digital_skills", "basic_digital_skills"}
    for row in observed:
        value, = db.execute("SELECT value FROM indicator_values WHERE indicator = ? AND geo = ? AND year = ?",
                            [row["indicator"], row["geo"], int(row["year"])]).fetchone()
        assert float(row["value"]) == pytest.approx(value)
    path = [r for r in trajectory if r["series"] == "path"]
    assert [int(r["year"]) for r in path] == [2025, 2030] and float(path[-1]["value"]) == 80.0


def test_wp3_csv_equals_the_recorded_egov_files(env, app):
    rows = read_csv(app, "/export/wp3_crossborder.csv?geo=EE")
    columns = {"national": "O_Av_Bus", "cross_border": "CB_O_Av_Bus"}
    for year, path in EGOV.items():
        recorded = {r["Country"]: r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))}
        mine = [r for r in rows if int(r["year"]) == year]
        assert len(mine) == 2 * len(recorded) == 54
        for row in mine:
            assert float(row["value"]) == pytest.approx(float(recorded[row["geo"]][columns[row["measure"]]]))
            assert float(row["gap"]) == pytest.approx(float(recorded[row["geo"]]["O_Av_Bus"])
                                                      - float(recorded[row["geo"]]["CB_O_Av_Bus"]))
    citizens = read_csv(app, "/export/wp3_crossborder.csv?audience=citizens")
    assert {r["indicator"] for r in citizens} == {"egov_o_av_citiz", "egov_cb_o_av_citiz"}


def test_bad_export_state_is_a_400_with_a_message(env, app):
    response = app.server.test_client().get("/export/dd_targets.csv?geo=EE,LV")
    assert response.status_code == 400 and b"Choose one country" in response.data


# ---------------------------------------------------------------- findings

def test_every_indicator_a_finding_links_to_has_rows_in_the_offline_database(env, db):
    from dashboard import findings

    registry = findings.load_findings()
    assert not registry.errors
    linked = {i for f in registry.findings for i in f.indicators}
    linked |= {dict(f.chart).get("indicator") for f in registry.findings} - {None}
    held = {r[0] for r in db.execute("SELECT DISTINCT indicator FROM indicator_values WHERE value IS NOT NULL").fetchall()}
    assert sorted(linked - held) == []


def test_wp3_findings_link_to_the_wp3_view(env):
    from dashboard import findings

    wp3 = [f for f in findings.load_findings().findings if f.work_package == "WP3"]
    assert wp3 and all(f.chart_href.startswith("/digital-decade") for f in wp3)


def test_a_twin_of_another_method_joins_with_a_break_for_the_pace_only(env, db):
    """dd_public_services_business continues DESI 2020's series by the 2026 method (twin_break): the scoreboard's
    row carries a break for the pace, its published flags stay as they are; a twin in another unit is not joined."""
    from dashboard.data import digital_decade as dd

    series = dd.kpi_series("dd_public_services_business")
    ee = series[series["geo"] == "EE"]
    assert set(ee["indicator"]) == {"dd_public_services_business", "desi_public_services_business"}
    joined = ee[ee["indicator"] == "dd_public_services_business"].iloc[0]
    assert "b" in joined["pace_flags"] and joined["flags"] is None
    units = dict(db.execute("SELECT id, unit FROM catalogue WHERE id IN ('dd_sme_basic_digital_intensity', "
                            "'sme_basic_digital_intensity')").fetchall())
    assert units["dd_sme_basic_digital_intensity"] != units["sme_basic_digital_intensity"]
    assert set(dd.kpi_series("dd_sme_basic_digital_intensity")["indicator"]) == {"dd_sme_basic_digital_intensity"}
