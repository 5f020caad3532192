"""Relationships, Country profile, DESI and Data & sources pages: layouts called as plain functions against the
real ETL build of ../shared/data, checked against independent readings (direct DuckDB SQL, numpy, the raw files)."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import math
import zipfile
from pathlib import Path

import dash
import duckdb
import numpy as np
import pandas as pd
import pytest
from dash import dcc, html

from tests.dashboard import find_id, text_of, walk  # noqa: F401  (imported by other test modules from here)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BSR = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]
DESI_DIMENSIONS = ["desi_1_conn", "desi_2_hc", "desi_3_ui", "desi_4_idt", "desi_5_dps"]


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture(scope="module")
def env(built_data_dir, app):
    """The dashboard pointed at the real offline build for this module (the query cache is keyed by file version)."""
    from dashboard.data import connection

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSM_DATA_DIR", str(built_data_dir))
        connection.clear_cache()
        yield built_data_dir
    connection.clear_cache()


@pytest.fixture(scope="module")
def db(built_db):
    """A direct read-only connection to the build: the independent reading the pages are checked against."""
    con = duckdb.connect(str(built_db), read_only=True)
    yield con
    con.close()






def graphs(layout) -> list:
    """Every dcc.Graph in a layout, its figure as a plain dict (go.Figure or dict alike)."""
    found = [c for c in walk(layout) if isinstance(c, dcc.Graph)]
    for graph in found:
        if hasattr(graph.figure, "to_dict"):
            graph.figure = graph.figure.to_dict()
    return found


def plain(values) -> list:
    """Trace data as a list, decoding plotly's typed-array form {'dtype', 'bdata'} when it is used."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)




def assert_friendly(layout, *words):
    """The layout is the friendly error: a message naming the problem and a link back, no chart."""
    assert getattr(layout, "role", None) == "alert", f"expected the friendly message, got {str(layout)[:300]}"
    message = text_of(layout)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert any(isinstance(c, dcc.Link) for c in walk(layout)), "no link back"
    assert not graphs(layout)


def table_rows(table: html.Table) -> list[dict]:
    """An html.Table of components.data_table as a list of {header: cell text}."""
    head, body = table.children
    headers = [th.children for th in head.children.children]
    return [dict(zip(headers, [td.children for td in tr.children])) for tr in body.children]


# ---------------------------------------------------------------- relationships

def pair_rows(db, x: str, y: str, year: int) -> pd.DataFrame:
    """Single countries with values of both indicators in a year, read straight from the database."""
    return db.execute(
        "SELECT a.geo, a.value AS x, b.value AS y, a.flags AS x_flags, b.flags AS y_flags "
        "FROM indicator_values a JOIN indicator_values b ON a.geo = b.geo AND a.period = b.period "
        "JOIN geo g ON g.code = a.geo "
        "WHERE a.indicator = ? AND b.indicator = ? AND a.year = ? AND a.value IS NOT NULL AND b.value IS NOT NULL "
        "AND NOT g.is_aggregate ORDER BY a.geo", [x, y, year]).df()


@pytest.mark.parametrize("x, y, year", [
    ("basic_digital_skills", "enterprises_ecommerce_sales", 2023),
    ("desi_overall", "desi_egov_users", 2019),
    ("internet_use", "households_internet_access", 2019),
])
def test_scatter_fit_is_numpys_fit_on_the_database_rows(env, db, x, y, year):
    """The stated Pearson r, slope and n equal numpy's on the same rows read directly from DuckDB."""
    from dashboard.pages import relationships

    layout = relationships.layout(indicator=x, y=y, year=str(year))
    (graph,) = graphs(layout)
    fit = graph.figure["layout"]["meta"]["fit"]
    rows = pair_rows(db, x, y, year)
    assert len(rows) >= 10, "the test pair should have a real cross-section"
    r = np.corrcoef(rows["x"], rows["y"])[0, 1]
    slope, intercept = np.polyfit(rows["x"], rows["y"], 1)
    assert fit["n"] == len(rows)
    assert fit["r"] == pytest.approx(r, abs=1e-9)
    assert fit["slope"] == pytest.approx(slope, rel=1e-9)
    assert fit["intercept"] == pytest.approx(intercept, rel=1e-9, abs=1e-9)
    assert f"r = {r:.2f}" in find_id(layout, "fit-summary").children
    assert f"n = {len(rows)}" in find_id(layout, "fit-summary").children
    annotations = [a["text"] for a in graph.figure["layout"]["annotations"]]
    assert any(f"Pearson r = {r:.2f} (n = {len(rows)}" in a for a in annotations)


def test_scatter_labels_bsr_countries_with_their_flags(env, db):
    """Every BSR country with both values is a labelled point; published flags follow the code on the label."""
    from dashboard.pages import relationships

    x, y, year = "basic_digital_skills", "enterprises_ecommerce_sales", 2023
    (graph,) = graphs(relationships.layout(indicator=x, y=y, year=str(year)))
    bsr_trace = next(t for t in graph.figure["data"] if t.get("name") == "BSR countries")
    rows = pair_rows(db, x, y, year).set_index("geo")
    expected = [g for g in BSR if g in rows.index]
    assert sorted(bsr_trace["customdata"]) == sorted(expected)
    flagged = rows[rows["x_flags"].notna() | rows["y_flags"].notna()]
    flagged = flagged[flagged.index.isin(BSR)]
    assert not flagged.empty, "expected at least one flagged BSR value in this pair (SE 2023 is 'b')"
    labels = dict(zip(bsr_trace["customdata"], bsr_trace["text"]))
    for geo, row in flagged.iterrows():
        for flag in (row["x_flags"], row["y_flags"]):
            if isinstance(flag, str):
                assert flag in labels[geo]
    assert "isoc_sk_dskl_i21" in graph.figure["layout"]["meta"]["source"]
    assert "isoc_ec_esels" in graph.figure["layout"]["meta"]["source"]


def test_scatter_table_view_lists_the_same_rows(env, db):
    """Table view: one row per point, missing never shown as 0, flags as published."""
    from dashboard.pages import relationships

    x, y, year = "desi_overall", "desi_egov_users", 2019
    layout = relationships.layout(indicator=x, y=y, year=str(year), view="table")
    assert not graphs(layout)
    rows = table_rows(find_id(layout, "scatter-table"))
    countries = pair_rows(db, x, y, year)
    assert {r["geo"] for r in rows} == set(countries["geo"]) | ({"EU27_2020"} & {r["geo"] for r in rows})


@pytest.mark.parametrize("query, words", [
    ({"indicator": "no_such_x"}, ["no_such_x"]),
    ({"indicator": "internet_use", "y": "no_such_y"}, ["no_such_y"]),
    ({"indicator": "desi_overall", "y": "basic_digital_skills"}, ["desi_overall", "basic_digital_skills"]),
    ({"indicator": "desi_overall", "y": "desi_egov_users", "year": "2012"}, ["2012"]),
    ({"indicator": "internet_use", "y": "households_internet_access", "year": "soon"}, ["soon"]),
    ({"indicator": "coverage_vhcn"}, ["coverage_vhcn"]),
])
def test_relationships_bad_url_gives_the_friendly_message(env, query, words):
    """Unknown indicator, a pair that never meets, a year without both, a live-only indicator: friendly message."""
    from dashboard.pages import relationships

    assert_friendly(relationships.layout(**query), *words)


def test_changing_y_drops_the_year(app):
    """Choosing another y indicator writes it to the URL and removes the year, which may not exist for the new pair."""
    from dashboard.pages.relationships import y_query

    assert y_query("?indicator=a&y=b&year=2019&view=table", "c") == "?indicator=a&y=c&view=table"
    assert y_query("?indicator=a&y=b", "b") is dash.no_update


# ---------------------------------------------------------------- country profile

INDEPENDENT_PROFILE_SQL = """
WITH v AS (SELECT indicator, geo, year, value FROM indicator_values WHERE value IS NOT NULL),
common AS (
    SELECT a.indicator, max(a.year) AS year FROM v a
    JOIN v e ON e.indicator = a.indicator AND e.year = a.year AND e.geo = 'EU27_2020'
    WHERE a.geo = ? GROUP BY a.indicator
),
pool AS (
    SELECT v.indicator, v.geo, v.value,
           rank() OVER (PARTITION BY v.indicator
                        ORDER BY CASE WHEN k.higher_is_better THEN -v.value ELSE v.value END) AS r,
           count(*) OVER (PARTITION BY v.indicator) AS n
    FROM v JOIN common c ON c.indicator = v.indicator AND c.year = v.year JOIN catalogue k ON k.id = v.indicator
    WHERE v.geo IN (SELECT code FROM geo WHERE is_eu27 AND NOT is_aggregate) OR v.geo = 'NO' OR v.geo = ?
)
SELECT p.indicator, c.year, p.value, e.value AS eu27, p.r AS rank, p.n AS ranked, p.value - b.value AS change_5y,
       EXISTS (SELECT 1 FROM v o WHERE o.indicator = p.indicator AND o.year = c.year AND o.geo = 'NO') AS norway
FROM pool p JOIN common c ON c.indicator = p.indicator
JOIN v e ON e.indicator = p.indicator AND e.year = c.year AND e.geo = 'EU27_2020'
LEFT JOIN v b ON b.indicator = p.indicator AND b.geo = p.geo AND b.year = c.year - 5
WHERE p.geo = ?
"""


@pytest.mark.parametrize("geo", ["EE", "NO", "DE"])
def test_profile_rank_value_and_change_match_an_independent_sql_reading(env, db, geo):
    """For every Eurostat indicator in the profile: year, value, EU27 value, rank and 5-year change equal plain SQL."""
    from dashboard.pages import country

    layout = country.layout(geo=geo, view="table")
    rows = {r["indicator"]: r for r in table_rows(find_id(layout, "profile-table"))}
    from dashboard.data import profile

    frame = profile.country_profile(geo)
    eurostat = frame[frame["reference"] == "EU27_2020"]
    assert len(eurostat) >= 5, f"{geo}: expected several Eurostat indicators in the profile"
    independent = db.execute(INDEPENDENT_PROFILE_SQL, [geo, geo, geo]).df().set_index("indicator")
    assert set(eurostat["indicator"]) == set(independent.index)
    for item in eurostat.itertuples():
        expected = independent.loc[item.indicator]
        assert item.year == expected["year"], item.indicator
        assert item.value == pytest.approx(expected["value"]), item.indicator
        assert item.eu27 == pytest.approx(expected["eu27"]), item.indicator
        assert (item.rank, item.ranked) == (expected["rank"], expected["ranked"]), item.indicator
        if pd.isna(expected["change_5y"]):
            assert math.isnan(item.change_5y), item.indicator
        else:
            assert item.change_5y == pytest.approx(expected["change_5y"]), item.indicator
        shown = rows[item.title]
        assert shown["rank"] == str(expected["rank"]) and shown["of"] == str(expected["ranked"])
        assert ("NO" in item.rank_among) == bool(expected["norway"]), item.indicator


def test_profile_bsr_average_is_the_mean_of_the_reporting_peers(env, db):
    """The BSR average beside each indicator is the unweighted mean of the peers reporting that year (no population)."""
    from dashboard.data import profile

    frame = profile.country_profile("EE")
    for item in frame[frame["bsr"].notna()].itertuples():
        values = db.execute("SELECT value FROM indicator_values WHERE indicator = ? AND year = ? AND geo = ANY(?) "
                            "AND value IS NOT NULL", [item.indicator, item.year, BSR]).df()["value"]
        assert item.bsr == pytest.approx(values.mean()), item.indicator


def test_profile_bsr_average_agrees_with_the_shared_definition(env):
    """The profile's BSR averages (computed for all indicators at once) equal queries.bsr_average, flags included."""
    from dashboard.data import profile, queries

    frame = profile.country_profile("LV")
    for item in frame.itertuples():
        shared = queries.bsr_average(item.indicator).set_index("year")
        if item.year in shared.index:
            assert item.bsr == pytest.approx(shared.at[item.year, "value"]), item.indicator
            assert item.bsr_flags == shared.at[item.year, "flags"], item.indicator
        else:
            assert math.isnan(item.bsr), item.indicator


def test_profile_uses_eu28_for_desi_and_names_strongest_and_weakest_areas(env, db):
    """DESI indicators are compared with the EU28 average the 2020 export publishes; themes are ordered by position."""
    from dashboard.data import profile
    from dashboard.pages import country

    frame = profile.country_profile("EE")
    desi = frame[frame["dataset"] == "desi"]
    assert not desi.empty and set(desi["reference"]) == {"EU28"}
    overall = desi.set_index("indicator").loc["desi_overall"]
    eu28 = db.execute("SELECT value FROM indicator_values WHERE indicator = 'desi_overall' AND geo = 'EU28' "
                      "AND year = 2020").fetchone()[0]
    assert overall["eu27"] == pytest.approx(eu28)
    assert overall["gap_pct"] == pytest.approx((overall["value"] - eu28) / eu28 * 100)
    themes = profile.theme_positions(frame)
    themed = frame[~frame["theme"].isin(["overall", "population"])]  # composites span every theme
    assert frame["composite"].sum() == 1 and frame.loc[frame["composite"], "indicator"].item() == "desi_overall"
    by_theme = themed.dropna(subset=["score"]).groupby("theme")["score"].mean().sort_values(ascending=False)
    assert themes["theme"].tolist() == by_theme.index.tolist()
    layout = country.layout(geo="EE")
    strongest = text_of(find_id(layout, "strongest-areas"))
    weakest = text_of(find_id(layout, "weakest-areas"))
    from dashboard.i18n import theme_label

    assert theme_label(by_theme.index[0]) in strongest and by_theme.iloc[0] > 0
    assert theme_label(by_theme.index[-1]) in weakest and by_theme.iloc[-1] < 0


def test_rank_respects_lower_is_better():
    """With lower-is-better the smallest value ranks first; ties share the better rank (hand-worked example)."""
    from dashboard.data.profile import _ranks, position_vs_eu

    members = frozenset({"AA", "BB", "CC"})
    singles = pd.DataFrame({"indicator": "i", "year": 2020, "geo": ["AA", "BB", "CC", "NO"],
                            "value": [10.0, 5.0, 5.0, 1.0]})
    rows = pd.DataFrame({"indicator": "i", "geo": ["AA", "BB", "NO"], "year": 2020, "value": [10.0, 5.0, 1.0],
                         "direction": -1})
    out = _ranks(rows, singles, members).set_index("geo")
    assert (out.loc["NO", "rank"], out.loc["BB", "rank"], out.loc["AA", "rank"]) == (1, 2, 4)
    assert set(out["ranked"]) == {4} and set(out["rank_among"]) == {"EU27 + NO"}
    assert position_vs_eu(8.0, 10.0, -1) == pytest.approx(20.0)   # 20 % below the EU is 20 % better
    assert position_vs_eu(12.0, 10.0, 1) == pytest.approx(20.0)


@pytest.mark.parametrize("query, words", [
    ({"geo": "XX"}, ["XX"]),
    ({"geo": "EE,LV"}, ["one country", "EE", "LV"]),
    ({"geo": "EU27_2020"}, ["EU27_2020"]),
    ({"geo": "EE", "view": "pie"}, ["pie"]),
])
def test_profile_bad_url_gives_the_friendly_message(env, query, words):
    """Unknown or several countries, an aggregate, a bad view: friendly message and a link back."""
    from dashboard.pages import country

    assert_friendly(country.layout(**query), *words)


# ---------------------------------------------------------------- DESI

def raw_desi_contributions(geo_code: str, year: int) -> dict[str, float]:
    """The 'desi' rows (breakdown = dimension) of the recorded export, read with the csv module."""
    path = SHARED / "desi" / "desi_2020_export.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["breakdown"]: float(row["value"]) for row in csv.DictReader(handle)
                if row["indicator"] == "desi" and row["ref_area"] == geo_code and row["time_period"] == str(year)}


@pytest.mark.parametrize("year", [2015, 2020])
def test_desi_stack_values_equal_the_export_and_the_database_composite(env, db, year):
    """Each stacked bar segment is the export's weighted contribution; the stack's total is the database composite."""
    from dashboard.pages import desi

    layout = desi.layout(edition=f"{year}-export" if year >= 2017 else str(year), geo="EE,LV,LT,FI")
    stack = next(g for g in graphs(layout) if g.id == "desi_stack-graph")
    bars = [t for t in stack.figure["data"] if t["type"] == "bar"]
    assert len(bars) == 5
    names = {"EE": "Estonia", "LV": "Latvia", "LT": "Lithuania", "FI": "Finland", "EU28": None}
    for geo, name in names.items():
        raw = raw_desi_contributions("EU" if geo == "EU28" else geo, year)
        assert set(raw) == set(DESI_DIMENSIONS)
        stacked = {}
        for bar in bars:
            position = [c[0] for c in bar["customdata"]].index(geo)
            stacked[bar["name"]] = plain(bar["y"])[position]
        assert sorted(stacked.values()) == pytest.approx(sorted(raw.values()))
        composite = db.execute("SELECT value FROM indicator_values WHERE indicator = 'desi_overall' AND geo = ? "
                               "AND year = ?", [geo, year]).fetchone()[0]
        assert sum(stacked.values()) == pytest.approx(composite)


def test_desi_weights_are_the_published_desi_2020_weights(env, db):
    """Contribution / dimension score gives the DESI 2020 weights (25/25/15/20/15 %) for every country and edition."""
    from dashboard.data import profile

    scores = profile.desi_scores()
    scores = scores[scores["source"] == profile.EXPORT]
    published = {"conn": 0.25, "hc": 0.25, "ui": 0.15, "idt": 0.20, "dps": 0.15}
    for dimension, weight in published.items():
        implied = scores.loc[scores["dimension"] == dimension, "weight"].dropna()
        assert len(implied) > 100
        assert np.allclose(implied, weight, atol=1e-4), dimension
    ee = scores[(scores["geo"] == "EE") & (scores["year"] == 2020)].set_index("dimension")
    sliders = db.execute("SELECT indicator, value FROM indicator_values WHERE geo = 'EE' AND year = 2020 "
                         "AND indicator = ANY(?)", [DESI_DIMENSIONS]).df().set_index("indicator")["value"]
    for dimension in DESI_DIMENSIONS:
        assert ee.at[profile.desi_dimension_code(dimension), "score"] == pytest.approx(sliders[dimension])


def test_desi_trend_follows_the_measure_and_names_missing_countries(env, db):
    """The trend line of a dimension is its score per edition; Norway (not in the DESI) is named as not covered."""
    from dashboard.pages import desi

    layout = desi.layout(measure="desi_2_hc", geo="EE,NO", edition="2016")  # an edition of the 2020 export
    trend = next(g for g in graphs(layout) if g.id == "desi_trend-graph")
    estonia = next(t for t in trend.figure["data"] if t["name"] == "Estonia")
    expected = db.execute("SELECT year, value FROM indicator_values WHERE indicator = 'desi_2_hc' AND geo = 'EE' "
                          "ORDER BY year").df()
    assert plain(estonia["x"]) == expected["year"].tolist()
    assert plain(estonia["y"]) == pytest.approx(expected["value"].tolist())
    assert "Not covered by this DESI edition: Norway" in text_of(layout)
    assert not any(t["name"] == "Norway" for t in trend.figure["data"])


@pytest.mark.parametrize("query, words", [
    ({"edition": "2012"}, ["2012", "2015", "2022"]),
    ({"edition": "2022-export"}, ["2022-export"]),
    ({"edition": "last"}, ["last"]),
    ({"measure": "desi_9_magic"}, ["desi_9_magic"]),
    ({"geo": "EE,QQ"}, ["QQ"]),
])
def test_desi_bad_url_gives_the_friendly_message(env, query, words):
    """An edition not in the data, an unknown measure or country: friendly message and a link back."""
    from dashboard.pages import desi

    assert_friendly(desi.layout(**query), *words)


# ---------------------------------------------------------------- data and sources

def test_sources_catalogue_and_provenance_match_the_database_and_the_files(env, db):
    """Every catalogue entry is listed; each provenance row's short sha256 is the sha256 of the recorded file."""
    from dashboard.pages import sources

    layout = sources.layout()
    catalogue = table_rows(find_id(layout, "catalogue-table"))
    assert sorted(r["id"] for r in catalogue) == sorted(db.execute("SELECT id FROM catalogue").df()["id"])
    live_only = {r["id"] for r in catalogue if r["live only"] == "yes"}
    assert live_only == set(db.execute("SELECT id FROM catalogue WHERE live_only").df()["id"])
    provenance = table_rows(find_id(layout, "provenance-table"))
    assert len(provenance) == db.execute("SELECT count(*) FROM provenance").fetchone()[0]
    recorded = {p.name: p for p in SHARED.rglob("*") if p.is_file()}
    checked = 0
    for row in provenance:
        if row["file"] in recorded:
            digest = hashlib.sha256(recorded[row["file"]].read_bytes()).hexdigest()
            assert row["sha256 (first 12)"] == digest[:12], row["file"]
            checked += 1
    assert checked >= 10
    flags = table_rows(find_id(layout, "flags-table"))
    from etl.model import FLAG_MEANINGS

    assert {r["flag"]: r["meaning"] for r in flags} == FLAG_MEANINGS


def test_sources_theme_filter(env, db):
    """?theme= keeps only that theme's indicators."""
    from dashboard.pages import sources

    rows = table_rows(find_id(sources.layout(theme="e_commerce"), "catalogue-table"))
    expected = db.execute("SELECT id FROM catalogue WHERE theme = 'e_commerce'").df()["id"]
    assert sorted(r["id"] for r in rows) == sorted(expected) and len(rows) > 0


def test_download_holds_every_observation_with_flags_and_provenance(env, db):
    """The zip's observations.csv has every database row; flags per letter, missing values and provenance survive."""
    from dashboard.pages import sources

    sent = sources.download_all(1)
    assert sent["filename"].endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(sent["content"])))
    assert {"observations.csv", "indicator_values.csv", "catalogue.csv", "provenance.csv", "flags.csv",
            "README.txt"} <= set(archive.namelist())
    observations = pd.read_csv(archive.open("observations.csv"), dtype={"flags": str, "period": str},
                               keep_default_na=False, na_values={"value": [""]})
    assert len(observations) == db.execute("SELECT count(*) FROM observations").fetchone()[0]
    by_flag = observations["flags"].replace("", None).value_counts().to_dict()
    expected = dict(db.execute("SELECT flags, count(*) FROM observations WHERE flags IS NOT NULL GROUP BY 1").fetchall())
    assert by_flag == expected
    missing = observations[observations["value"].isna()]
    assert len(missing) == db.execute("SELECT count(*) FROM observations WHERE value IS NULL").fetchone()[0] > 0
    assert (missing["flags"] != "").all(), "a missing value is only a row when it carries a flag"
    files = set(observations["source_file"])
    assert files == set(db.execute("SELECT DISTINCT source_file FROM observations").df()["source_file"])
    sample = db.execute("SELECT geo, period, value, flags FROM observations WHERE dataset = 'isoc_ci_in_h' "
                        "AND flags = 'b' AND value IS NOT NULL ORDER BY geo, period LIMIT 1").fetchone()
    hit = observations[(observations["dataset"] == "isoc_ci_in_h") & (observations["geo"] == sample[0])
                       & (observations["period"] == sample[1]) & (observations["flags"] == "b")]
    assert sample[2] in hit["value"].tolist()


def test_sources_bad_theme_gives_the_friendly_message(env):
    """An unknown theme is named in a friendly message."""
    from dashboard.pages import sources

    assert_friendly(sources.layout(theme="astrology"), "astrology")


# ---------------------------------------------------------------- registry

def test_charts_are_registered_for_exports(env):
    """The four charts of these pages are in the shared registry and render from a State."""
    from dashboard import registry
    from dashboard.state import State

    charts = registry.charts()
    for name, page in [("scatter", "/relationships"), ("profile", "/country"), ("desi_stack", "/desi"),
                       ("desi_trend", "/desi")]:
        assert charts[name].page == page
    figure = registry.render("desi_stack", State(page="/desi", geos=("EE",), extra=(("edition", "2018"),)))
    assert figure.layout.title.text.startswith("DESI 2018 (2022 workbook")


@pytest.mark.parametrize("name, query", [
    ("scatter", {"indicator": "basic_digital_skills", "y": "enterprises_ecommerce_sales", "year": "2023"}),
    ("profile", {"geo": "SE"}),
    ("profile", {}),
    ("desi_stack", {"edition": "2016", "geo": "EE,PL"}),
    ("desi_trend", {"measure": "desi_4_idt"}),
])
def test_figures_are_valid_plotly_and_render_for_exports(env, name, query):
    """Figures built from plain dicts pass plotly's full validation; exports resolve each chart from a bare URL too."""
    import plotly.graph_objects as go

    from dashboard import export

    view = export.resolve_view(name, query)
    checked = go.Figure(view.figure.to_dict())  # validates every property
    assert len(checked.data) >= 1
    assert "Source:" in checked.layout.meta["source"]


@pytest.mark.parametrize("name, query", [("profile", {"geo": "EE,LV"}), ("desi_stack", {"edition": "1999"}),
                                         ("desi_trend", {"measure": "nope"})])
def test_exports_refuse_bad_states_with_a_400(env, name, query):
    """A bad page parameter reaching the export path is a plain 400, not a server error."""
    from dashboard import export

    with pytest.raises(export.ExportError) as err:
        export.resolve_view(name, query)
    assert err.value.status == 400
