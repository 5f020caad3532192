"""Comparable averages (issue 16): the BSR average weighted by the population the indicator refers to where the
database holds it, else the average of countries (unweighted), labelled so and not compared with the EU aggregate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.data import queries
from etl.catalogue import load_catalogue
from dashboard.meta import BSR_AVERAGE

PEERS = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]
COLUMNS = ["indicator", "geo", "year", "period", "value", "flags"]


def rows(indicator, values: dict, year=2023, flags=None):
    """Input rows of compute_bsr_averages for one indicator and year."""
    return [(indicator, geo, year, str(year), value, flags) for geo, value in values.items()]


def frame(*parts):
    return pd.DataFrame([r for part in parts for r in part], columns=COLUMNS)


SHARES = dict(zip(PEERS, [90.0, 80.0, 85.0, 70.0, 95.0, 96.0, 97.0, 88.0, 98.0]))
PEOPLE = dict(zip(PEERS, [1.4, 1.9, 2.9, 37.0, 5.6, 10.5, 5.9, 84.0, 5.5]))  # millions


def test_weighted_by_the_indicators_own_population():
    values = frame(rows("hh", SHARES), rows("households_total", PEOPLE, year=2022))
    out = queries.compute_bsr_averages(values, PEERS, {"hh": "households_total"}).set_index(["indicator", "year"])
    row = out.loc[("hh", 2023)]
    expected = np.average(list(SHARES.values()), weights=[PEOPLE[g] for g in SHARES])
    assert row["weighted"] and row["population"] == "households_total"
    assert row["value"] == pytest.approx(expected, rel=1e-12)            # 2022's counts weight 2023 (carried 1 year)
    assert abs(row["value"] - np.mean(list(SHARES.values()))) > 2          # Germany and Poland weigh: not the plain mean


def test_unweighted_when_a_reporting_country_lacks_a_population_or_it_is_too_old():
    partial = {g: v for g, v in PEOPLE.items() if g != "NO"}
    values = frame(rows("hh", SHARES), rows("households_total", partial, year=2023),
                   rows("hh", SHARES, year=2030), rows("households_total", PEOPLE, year=2026))
    out = queries.compute_bsr_averages(values, PEERS, {"hh": "households_total"}).set_index(["indicator", "year"])
    assert not out.loc[("hh", 2023), "weighted"], "Norway has no count: one unweighted member would skew it"
    assert out.loc[("hh", 2023), "value"] == pytest.approx(np.mean(list(SHARES.values())))
    assert out.loc[("hh", 2023), "population"] is None
    assert not out.loc[("hh", 2030), "weighted"], "counts four years older than the data do not weight it"


def test_no_population_field_gives_the_average_of_countries_and_thin_years_are_left_out():
    seven = {g: v for g, v in SHARES.items() if g not in ("SE", "NO")}
    five = {g: v for g, v in SHARES.items() if g in PEERS[:5]}
    values = frame(rows("x", seven, year=2002), rows("x", five, year=2001))
    out = queries.compute_bsr_averages(values, PEERS, {}).set_index("year")
    assert list(out.index) == [2002], "5 of 9 is below two thirds: no average"
    assert out.loc[2002, "n_countries"] == 7 and out.loc[2002, "missing"] == "SE,NO"
    assert out.loc[2002, "value"] == pytest.approx(np.mean(list(seven.values())))
    assert not out.loc[2002, "weighted"]


def test_catalogue_names_a_population_for_every_share_of_persons_households_and_enterprises():
    catalogue = load_catalogue()
    by_id = {i.id: i for i in catalogue.indicators}
    for item in catalogue.indicators:
        if item.unit in ("% of households", "% of individuals", "% of enterprises", "% of SMEs"):
            assert item.population and by_id[item.population].theme == "population", item.id
            assert by_id[item.population].live_only, "the recordings hold no population: live only"
    assert by_id["households_internet_access"].population == "households_total"
    assert by_id["internet_use"].population == "population_total"
    assert by_id["sme_basic_digital_intensity"].population == "smes_10_249"
    assert by_id["enterprises_ecommerce_sales"].population == "enterprises_ge10"
    assert {by_id[p].dataset for p in ("population_total", "households_total", "enterprises_ge10")} == \
        {"demo_pjan", "lfst_hhnhtych", "sbs_sc_ovw"}
    assert by_id["desi_overall"].population is None  # a score is not weighted


# ---------------------------------------------------------------- the recorded data: no population, so unweighted

@pytest.fixture
def real(dsm_env, is_standin):
    if is_standin:
        pytest.skip("recorded data case")


def test_offline_average_is_labelled_unweighted_and_not_compared_with_the_eu(real):
    from dashboard.data import charts
    from dashboard.state import State
    meta = charts.chart_meta("households_internet_access")
    assert meta.average_label == "BSR average (unweighted)"
    assert meta.average_method.startswith("average of countries (unweighted)")
    df, _ = charts.scorecard_data(State(page="/", geos=("EE", "LV")))
    avg = df[df["geo"] == BSR_AVERAGE]
    assert not avg.empty and avg["value"].notna().all()
    assert (avg["position"] == "missing").all() and avg["diff_vs_eu27"].isna().all(), "not coloured against the EU27"
    countries = df[df["geo"] == "EE"]
    assert set(countries["position"]) - {"missing"}, "countries are still compared"


def test_trends_hover_says_how_many_countries_report_2002(real):
    from dashboard.data import charts
    from dashboard.figures import trends
    from dashboard.state import State
    df, meta = charts.trends_data(State(page="/trends", indicator="households_internet_access", geos=("EE",)))
    fig = trends.figure(df, meta)
    [avg] = [t for t in fig["data"] if t["meta"]["geo"] == BSR_AVERAGE]
    assert avg["name"] == "BSR average (unweighted)"
    hover = dict(zip(avg["x"], (c[1] for c in avg["customdata"])))
    assert "6 of 9 reporting" in hover[2002] and "average of countries (unweighted)" in hover[2002]
    assert "9 of 9 reporting" in hover[2010]


def test_compare_reference_line_says_how_many_report_2003(real):
    from dashboard.data import charts
    from dashboard.figures import ranked_bar
    from dashboard.state import State
    fig = ranked_bar.figure(*charts.compare_data(State(page="/compare", indicator="households_internet_access",
                                                       year=2003)))
    notes = [a["text"] for a in fig["layout"]["annotations"] if "BSR average" in str(a["text"])]
    assert notes and "6 of 9 reporting" in notes[0] and notes[0].startswith("BSR average (unweighted)")
    fig = ranked_bar.figure(*charts.compare_data(State(page="/compare", indicator="households_internet_access",
                                                       year=2010)))
    assert not [a for a in fig["layout"]["annotations"] if "reporting" in str(a["text"])], "all 9 report: no note"
