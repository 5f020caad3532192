"""Profiles at a common footing (issue 16): areas ranked by a standardised score at each indicator's latest common
year, composition shares not 'better when higher', and 'Weakest areas' only below the EU; cases EE and LV."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard.data import profile


@pytest.fixture
def real(dsm_env, is_standin):
    if is_standin:
        pytest.skip("the named cases live in the recorded data")
    return dsm_env


def test_score_is_the_gap_to_the_eu_in_standard_deviations_at_the_common_year(real):
    # independent reading: LV 5G coverage, whose 2023 gap was −40.5 % (the case)
    con = duckdb.connect(str(real / "dsm.duckdb"), read_only=True)
    members = [r[0] for r in con.execute("SELECT code FROM geo WHERE is_eu27 AND NOT is_aggregate").fetchall()]
    rows = con.execute("SELECT geo, year, value FROM indicator_values WHERE indicator = 'coverage_5g' "
                       "AND value IS NOT NULL").df()
    con.close()
    counts = rows[rows["geo"].isin(members)].groupby("year")["geo"].nunique()
    eu_years = set(rows.loc[rows["geo"] == "EU27_2020", "year"])
    common = max(y for y, n in counts.items() if n >= len(members) / 2 and y in eu_years)
    at = rows[rows["year"] == common].set_index("geo")["value"]
    sd = float(np.std(at[at.index.isin(members)]))
    for geo in ("EE", "LV"):
        row = profile.country_profile(geo).set_index("indicator").loc["coverage_5g"]
        assert row["common_year"] == common
        assert row["score"] == pytest.approx((at[geo] - at["EU27_2020"]) / sd, rel=1e-9)
    lv = profile.country_profile("LV").set_index("indicator").loc["coverage_5g"]
    assert lv["gap_pct"] == pytest.approx(-40.5, abs=0.1) and -2.5 < lv["score"] < -1.5  # −40 % is two SDs


def test_one_common_year_per_indicator_for_every_country(real):
    frames = {geo: profile.country_profile(geo).set_index("indicator") for geo in ("EE", "LV")}
    shared = frames["EE"].index.intersection(frames["LV"].index)
    both = frames["EE"].loc[shared, "common_year"].dropna()
    assert len(both) > 20
    assert (both == frames["LV"].loc[both.index, "common_year"]).all()


def test_composition_shares_of_ict_specialists_have_no_direction(real):
    for geo in ("EE", "LV"):
        frame = profile.country_profile(geo).set_index("indicator")
        for indicator in ("ict_specialists_female", "ict_specialists_young", "ict_specialists_tertiary"):
            assert frame.loc[indicator, "direction"] == 0, indicator
            assert pd.isna(frame.loc[indicator, "score"]) and pd.isna(frame.loc[indicator, "gap_pct"]), indicator
        themes = profile.theme_positions(frame.reset_index()).set_index("theme")
        scored = frame[(frame["theme"] == "human_capital") & frame["score"].notna()]
        assert themes.loc["human_capital", "n_indicators"] == len(scored)
        assert not scored.index.str.startswith("ict_specialists_").any()


def test_areas_ee_and_lv_strongest_above_weakest_below_the_eu(real):
    import dashboard.app  # noqa: F401  (pages register with the app)
    from dashboard.pages import country
    from tests.dashboard.test_pages_core import text_of
    from tests.dashboard.test_pages_more import find_id

    for geo in ("EE", "LV"):
        themes = profile.theme_positions(profile.country_profile(geo))
        assert themes["mean_score"].is_monotonic_decreasing
        assert not set(themes["theme"]) & {"overall", "population"}
        layout = country.layout(geo=geo)
        weakest, strongest = text_of(find_id(layout, "weakest-areas")), text_of(find_id(layout, "strongest-areas"))
        below = themes[themes["mean_score"] < 0]
        assert "standard deviations from the EU" in weakest + strongest
        for row in below.tail(2).itertuples():
            assert country.i18n.theme_label(row.theme) in weakest
        for row in themes[themes["mean_score"] > 0].head(2).itertuples():
            assert country.i18n.theme_label(row.theme) in strongest and country.i18n.theme_label(row.theme) not in weakest
    ee = profile.theme_positions(profile.country_profile("EE")).set_index("theme")["mean_score"]
    assert ee["digital_public_services"] > 1 and ee["connectivity"] < 0


def test_no_area_below_the_eu_is_said_so(real):
    from dashboard.pages import country
    from tests.dashboard.test_pages_core import text_of

    frame = profile.country_profile("EE")
    frame = frame.assign(score=frame["score"].abs())  # every area above the EU
    section = country.areas_summary(frame)
    assert "No area below the EU." in text_of(section)


def test_standard_scores_on_a_tiny_frame():
    singles = pd.DataFrame({"indicator": "i", "geo": ["AA", "BB", "CC", "DD", "AA"], "year": [2023] * 4 + [2024],
                            "value": [10.0, 20.0, 30.0, 40.0, 99.0]})
    refs = pd.DataFrame({"indicator": "i", "year": [2023, 2024], "eu27": [25.0, 25.0]})
    members = frozenset({"AA", "BB", "CC", "DD"})
    out = profile.standard_scores(singles, refs, members, {"i": -1}, {"i"}).set_index("geo")
    assert set(out["common_year"]) == {2023}, "2024: one of four members report, below half"
    assert out.loc["AA", "score"] == pytest.approx(-(10 - 25) / np.std([10, 20, 30, 40]))  # lower is better: +
    assert profile.standard_scores(singles, refs, members, {"i": 0}, {"i"})["score"].isna().all()
    assert profile.standard_scores(singles, refs, members, {"i": 1}, set()).empty, "a count is not scored"


def test_methods_note_states_every_rule(real):
    import dashboard.app  # noqa: F401  (pages register with the app)
    from dashboard.pages import sources
    from tests.dashboard.test_pages_core import text_of
    from tests.dashboard.test_pages_more import find_id

    layout = sources.layout()
    note = text_of(find_id(layout, "methods-section"))
    for words in ("competition ranking", "jointly lead", "linear trend over the last 5 years", "at least 3 points",
                  "flagged b", "2.0 percentage points", "about the same", "at least 6 of 9",
                  "average of countries (unweighted)", "demo_pjan", "lfst_hhnhtych", "sbs_sc_ovw",
                  "coefficient of variation", "A DESI edition is a publication year", "EU28 up to the 2020 edition",
                  "Newest data wins", "standardised score", "no better or worse direction"):
        assert words in note, words
    rows = sources.catalogue_frame().set_index("id")
    assert rows.loc["ict_specialists_female", "higher_is_better"] == "no direction"   # headed "better when"
    assert rows.loc["households_internet_access", "population"] == "Private households"


def test_unweighted_bsr_average_is_not_placed_against_the_eu(real):
    from dashboard.data import charts
    from dashboard.figures import profile as profile_figure
    from dashboard.state import State

    df, meta = charts.profile_data(State(page="/country", geos=("LV",)))
    assert not df["bsr_weighted"].fillna(False).any()  # the recordings hold no population counts
    fig = profile_figure.figure(df, meta)
    assert [t["name"] for t in fig["data"]] == [meta.name or "LV"], "no BSR diamonds against the EU aggregate"
    weighted = df.assign(bsr_weighted=True)
    gaps = profile_figure.bsr_gap(weighted).dropna()
    assert len(gaps) > 10 and len(profile_figure.figure(weighted, meta)["data"]) == 2
