"""The statistical rules of issue 16 pinned on the cases the issue names, in the recorded data (real ETL build)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard import insights as insights_module
from dashboard.data import insights as data_insights
from dashboard.meta import IndicatorMeta
from etl.catalogue import load_catalogue

COLUMNS = ["indicator", "geo", "period", "year", "value", "flags"]
BSR = load_catalogue().groups.bsr


@pytest.fixture
def real_insights(dsm_env, is_standin):
    """Every insight of the real build of ../shared/data."""
    if is_standin:
        pytest.skip("the named cases live in the recorded data, not in the synthetic stand-in")
    return data_insights.insights()


def of(items, kind, indicator, geo="*"):
    """The insights of one kind about one indicator (and geo)."""
    return [i for i in items if i.kind == kind and i.indicator == indicator and (geo == "*" or i.geo == geo)]


def frame(rows):
    """An insight input frame from (indicator, geo, year, value, flags)."""
    return pd.DataFrame([(i, g, str(y), y, v, f) for i, g, y, v, f in rows], columns=COLUMNS)


# ---------------------------------------------------------------- one ranking rule

def test_competition_ranking_ties_share_the_better_rank():
    values = pd.Series({"DK": 100.0, "EE": 100.0, "FI": 92.1, "LV": 90.2, "PL": None})
    assert insights_module.competition_rank(values).to_dict() == pytest.approx(
        {"DK": 1, "EE": 1, "FI": 3, "LV": 4, "PL": float("nan")}, nan_ok=True)
    assert insights_module.competition_rank(values, higher_is_better=False)["LV"] == 1


def test_denmark_and_estonia_jointly_lead_public_services_for_businesses_2020(real_insights):
    # as the DESI 2020 view reads it (the latest insight is the Digital Decade 2025 one: newest data wins)
    [leader] = of(data_insights.insights(as_of=2020), "leader", "desi_public_services_business")
    assert leader.year == 2020 and set(leader.details["geos"]) == {"DK", "EE"} and leader.details["rank"] == 1
    assert leader.sentence.startswith("Denmark and Estonia jointly lead the BSR on Digital public services")
    assert leader.concerns("EE") and leader.concerns("DK") and not leader.concerns("FI")


def test_jointly_last_and_all_level():
    meta = IndicatorMeta("x", "X", "PC_IND", True)
    tied_last = frame([("x", "EE", 2023, 50, None), ("x", "LV", 2023, 40, None), ("x", "LT", 2023, 40, None)])
    laggard = [i for i in insights_module.compute_insights([meta], tied_last, bsr=BSR) if i.kind == "laggard"]
    assert [i.sentence.split(" are jointly last")[0] for i in laggard] == ["LT and LV"]  # no names given: codes
    level = frame([("x", g, 2023, 100, None) for g in ("EE", "LV", "LT")])
    kinds = [i.kind for i in insights_module.compute_insights([meta], level, bsr=BSR)
             if i.kind in ("leader", "laggard")]
    assert kinds == ["leader"]  # one 'all level' statement, no one 'trails'


def test_compare_ranks_ties_alike_5g_2023(dsm_env, is_standin):
    if is_standin:
        pytest.skip("recorded data case")
    from dashboard.data import charts
    from dashboard.state import State
    df, _ = charts.compare_data(State(page="/compare", indicator="coverage_5g", year=2023))
    countries = df[df["rank"].notna()]
    full = countries[countries["value"] == countries["value"].max()]
    assert len(full) >= 2 and set(full["rank"]) == {1}
    after = countries[countries["value"] < countries["value"].max()]["rank"].min()
    assert after == len(full) + 1  # competition ranking: 1, 1, 1, 1, 5


def test_country_brief_rank_uses_the_same_rule(dsm_env, is_standin):
    if is_standin:
        pytest.skip("recorded data case")
    from dashboard import brief
    values = pd.Series({"DK": 100.0, "EE": 100.0, "FI": 92.1})
    assert insights_module.competition_rank(values)["EE"] == 1
    page = brief.country_brief_html("EE")
    rows = {row["meta"].id: row for row in brief.country_rows("EE")}
    # the row shows the newest source of the measure (the Digital Decade 2025 figures where newer than DESI 2020);
    # its rank is the competition rank of that source's BSR values, ties sharing the better rank
    row = rows["desi_public_services_business"]
    peers = brief.queries.peer_group()
    _year, cells = brief.latest_cells(row["shown"], peers)
    ranks = insights_module.competition_rank(pd.Series({g: c.value for g, c in cells.items()}), True)
    assert "BSR rank" in page and row["rank"] == f"{int(ranks['EE'])} of {len(ranks)}"
    # and on the DESI 2020 values themselves, EE ties DK at 100.0: both rank 1
    _year, desi = brief.latest_cells("desi_public_services_business", peers)
    assert desi["EE"].value == desi["DK"].value == 100.0
    assert insights_module.competition_rank(pd.Series({g: c.value for g, c in desi.items()}), True)["EE"] == 1


# ---------------------------------------------------------------- paces

def test_two_points_give_no_pace():
    # Eurostat's basic digital skills alone has 2021 and 2023: PL "2076", DK "2045" came from two points
    meta = IndicatorMeta("x", "Skills", "PC_IND", True, target_2030=80.0)
    rows = frame([("x", g, y, v, None) for g, a, b in (("DK", 68.7, 69.6), ("EE", 56.4, 62.6), ("PL", 42.9, 44.3))
                  for y, v in ((2021, a), (2023, b))])
    items = insights_module.compute_insights([meta], rows, bsr=BSR)
    assert all(i.details["pace_per_year"] is None for i in items if i.kind == "target_2030")
    assert not [i for i in items if i.kind == "fastest_improver"]


def test_newest_data_wins_basic_digital_skills_2025(real_insights):
    # before: 2021 and 2023 only (Eurostat), no pace; after: the Digital Decade 2026 facts add 2025
    dk = of(real_insights, "target_2030", "basic_digital_skills", "DK")[0]
    assert dk.year == 2025 and dk.value == pytest.approx(81.45, abs=0.01) and dk.details["on_track_2030"]
    assert dk.sentence.startswith("Denmark already meets the 2030 target") and dk.details["source"] == "dd_basic_digital_skills"
    assert "Newest data: the 2025 values are from the Digital Decade 2026 report" in dk.sentence
    ee = of(real_insights, "target_2030", "basic_digital_skills", "EE")[0]
    assert ee.details["method"] == "linear trend 2021–2025, 3 points" and not ee.details["on_track_2030"]
    assert ee.details["pace_per_year"] < ee.details["required_per_year"]  # EE flat: 62.6 in 2023, 62.5 in 2025
    for item in real_insights:
        assert "2076" not in item.sentence and "2045" not in item.sentence


def test_newest_data_wins_5g_2025_and_twins_of_another_method_break(real_insights):
    # before: "reached in 2024 at the current pace" from 2020-2023; after: the 2025 values, below 100 but for DK, EE
    pl = of(real_insights, "target_2030", "coverage_5g", "PL")[0]
    assert pl.year == 2025 and pl.value == pytest.approx(94.0, abs=0.05) and "Digital Decade 2026" in pl.sentence
    twin = insights_module.Twin("dd", "a newer source", breaks=True)
    own = pd.DataFrame({"indicator": "x", "geo": "EE", "year": [2022, 2024], "value": [67.0, 71.2], "flags": None})
    newer = pd.DataFrame({"indicator": "dd", "geo": "EE", "year": [2024, 2025], "value": [70.0, 72.1], "flags": [None, "d"]})
    spliced = insights_module.splice_newest(own, newer, twin)
    assert spliced["year"].tolist() == [2022, 2024, 2025] and spliced["source"].tolist() == [None, None, "dd"]
    assert spliced["flags"].iloc[-1] == "bd"  # another method: a break where the sources join, so no pace across it
    assert insights_module.pace_of(spliced.assign(year=[2023, 2024, 2025]), 2025) is None


def test_every_pace_states_method_and_window(real_insights):
    paced = [i for i in real_insights if "observed +" in i.sentence or "observed −" in i.sentence
             or i.kind == "fastest_improver"]
    assert paced
    for item in paced:
        assert item.details["method"] in item.sentence, item.sentence  # e.g. "linear trend 2015–2020, 6 points"
    for item in real_insights:
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", item.sentence)]
        assert all(y <= 2050 for y in years), item.sentence


def test_a_break_in_series_cuts_the_window():
    rows = pd.DataFrame({"year": [2019, 2020, 2021, 2022, 2023, 2024], "value": [50, 52, 70, 71, 73, 74],
                         "flags": [None, None, "b", None, None, None]})
    pace = insights_module.pace_of(rows, 2024)
    assert (pace.first, pace.points, pace.break_year) == (2021, 4, 2021)
    assert pace.per_year == pytest.approx(1.4)  # least squares on 70, 71, 73, 74: 7 / 5
    assert "from the break in series in 2021" in pace.method
    assert insights_module.pace_of(rows.assign(flags=[None] * 4 + ["b", None]), 2024) is None  # 2 points left


def test_break_inside_the_window_sweden_smes_2024(real_insights):
    se = of(real_insights, "target_2030", "sme_basic_digital_intensity", "SE")
    assert se and se[0].details["pace_per_year"] is None  # SE 2024 carries b: no comparable earlier years


def test_required_against_observed_and_not_on_track():
    meta = IndicatorMeta("x", "Basic skills", "PC_IND", True, target_2030=80.0)
    rows = frame([("x", g, y, v, None) for g, base in (("EE", 60), ("LV", 40), ("PL", 20))
                  for y, v in zip(range(2019, 2024), [base + 0.5 * k for k in range(5)])])
    [pl] = [i for i in insights_module.compute_insights([meta], rows, bsr=BSR)
            if i.kind == "target_2030" and i.geo == "PL"]
    assert pl.details["required_per_year"] == pytest.approx((80 - 22) / 7)
    assert pl.details["on_track_2030"] is False and pl.details["year_reached"] is None  # 2140: not printed
    assert "not on track by 2030" in pl.sentence and "Basic skills" in pl.sentence


# ---------------------------------------------------------------- noise and convergence

def test_differences_within_the_noise_threshold_are_about_the_same(real_insights):
    for item in of(real_insights, "gap_eu27", "*"):
        inside = abs(item.details["gap"]) < item.details["noise"]
        assert ("about the same" in item.sentence) == inside, item.sentence
    germany = of(real_insights, "gap_eu27", "enterprises_ecommerce_sales", "DE")
    assert germany and "about the same as the EU27" in germany[0].sentence  # 0.1 pp below


def test_desi_convergence_reports_cv_beside_sd(real_insights):
    [desi] = of(real_insights, "convergence", "desi_overall")
    assert desi.details["spread_start"] == pytest.approx(9.02, abs=0.01)
    assert desi.details["spread_end"] == pytest.approx(9.33, abs=0.01)
    assert desi.details["cv_start"] == pytest.approx(0.196, abs=0.001)
    assert desi.details["cv_end"] == pytest.approx(0.156, abs=0.001)
    assert desi.details["verdict"] == "stable" and "diverging" not in desi.sentence
    assert "coefficient of variation 0.196 to 0.156" in desi.sentence


def test_desi_rows_use_the_editions_own_eu28(real_insights):
    gaps = of(real_insights, "gap_eu27", "desi_overall")
    assert gaps and {g.details["eu27_code"] for g in gaps} == {"EU28"}
    assert all("EU28 (52.6" in g.sentence for g in gaps)


def test_compare_intro_names_only_the_lines_drawn(dsm_env, is_standin):
    if is_standin:
        pytest.skip("recorded data case")
    import dash

    from dashboard.app import app  # noqa: F401  (pages register with the app)
    from tests.dashboard.test_pages_core import text_of
    layout = next(p["layout"] for p in dash.page_registry.values() if p["path"] == "/compare")
    assert "Black line: EU27" not in text_of(layout(indicator="desi_overall", year="2020"))  # DESI 2020: EU28 only
    assert "Black line: EU27" in text_of(layout(indicator="coverage_5g", year="2023"))


def test_one_on_track_rule_allows_the_noise_threshold():
    """Observed below required but the 2030 projection within the noise threshold of the target is on track;
    beyond it is not (the same function decides for the side panel, the briefs and the Digital Decade page)."""
    from dashboard import insights
    from dashboard.data import digital_decade

    # 70 in 2025, target 80: needs 2.0 a year; 1.7 a year reaches 78.5 (1.5 short, within 2 pp): on track
    assert insights.on_track_2030(70, 1.7, 2.0, 80, 2025, higher_is_better=True, noise=2.0)
    # 1.5 a year reaches 77.5 (2.5 short): off track; lower is better mirrors it
    assert not insights.on_track_2030(70, 1.5, 2.0, 80, 2025, higher_is_better=True, noise=2.0)
    assert insights.on_track_2030(30, -1.7, -2.0, 20, 2025, higher_is_better=False, noise=2.0)
    import pandas as pd
    rows = pd.DataFrame({"year": range(2021, 2026), "value": [63.2, 64.9, 66.6, 68.3, 70.0], "flags": [None] * 5})
    assert digital_decade.progress(rows, 80.0, higher_is_better=True, noise=2.0).verdict == "on_track"
    assert digital_decade.progress(rows, 82.0, higher_is_better=True, noise=2.0).verdict == "off_track"
