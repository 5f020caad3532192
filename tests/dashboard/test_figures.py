"""Figures are pure functions of their DataFrame: deterministic, valid plotly, titled, sourced, flags visible."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

import dashboard.app  # noqa: F401  (building the app registers every page and its charts)
from dashboard import colours, registry
from dashboard.data import charts, queries
from dashboard.figures import choropleth, common, ranked_bar, scorecard, trends
from dashboard.figures.meta import ChartMeta
from dashboard.registry import parse_state
from etl.codelists import geo_table

ASSETS = Path(__file__).resolve().parents[2] / "dashboard" / "assets"
CORE = {"scorecard": "/", "ranked_bar": "/compare", "trends": "/trends", "choropleth": "/map"}


def core_state(name: str, **query):
    """The default state of a core chart's page (query overrides)."""
    return parse_state(query, CORE[name], needs_indicator=name != "scorecard", needs_year=name != "scorecard")


def flagged_indicator() -> tuple[str, int]:
    """An indicator and year in which at least one BSR country has a flagged value."""
    from dashboard.data import queries

    for ind in queries.indicator_ids():
        frame = queries.indicator_frame(ind)
        hits = frame[frame["geo"].isin(queries.peer_group()) & frame["flags"].notna() & frame["value"].notna()]
        if not hits.empty:
            return ind, int(hits["year"].iloc[-1])
    pytest.fail("no flagged BSR value anywhere in the test database")


@pytest.mark.parametrize("name", sorted(CORE))
def test_figure_is_pure_and_valid(dsm_env, name):
    """Same frame -> the same figure; the frame is not modified; plotly accepts every property."""
    chart = registry.chart(name)
    state = core_state(name)
    df, meta = chart.data(state)
    before = df.copy()
    first, second = chart.figure(df, meta), chart.figure(df, meta)
    assert first.to_json() == second.to_json()
    pd.testing.assert_frame_equal(df, before)
    go.Figure(first.to_dict())  # figures skip validation for speed; here it must pass it
    assert len(first.data) >= 1


@pytest.mark.parametrize("name", sorted(CORE))
def test_title_and_source_line(dsm_env, name):
    """Every chart has a title and a 'Source: Eurostat, <dataset> (updated <date>)' annotation."""
    from dashboard.data import queries

    chart = registry.chart(name)
    state = core_state(name)
    fig = chart.figure(*chart.data(state))
    assert fig.layout.title.text
    sources = [a.text for a in fig.layout.annotations if a.name == "source"]
    assert len(sources) == 1 and sources[0].startswith("Source: Eurostat")
    if state.indicator:
        info = queries.source_info(state.indicator)
        assert info["dataset"] in sources[0] and f"updated {info['source_updated']}" in sources[0]
        assert queries.indicator(state.indicator)["title"] in fig.layout.title.text


def test_trends_shows_flags_on_points(dsm_env):
    """Flag letters are printed next to flagged points; e/p/u points are hollow, breaks are diamonds after a gap."""
    ind, _ = flagged_indicator()
    state = core_state("trends", indicator=ind)
    df, meta = charts.trends_data(state)
    fig = trends.figure(df, meta)
    by_geo = {t.meta["geo"]: t for t in fig.data}
    checked = 0
    for row in df[df["flags"].notna() & df["value"].notna()].itertuples():
        trace = by_geo[row.geo]
        i = [k for k, (x, y) in enumerate(zip(trace.x, trace.y)) if x == row.year and y is not None][0]
        assert trace.text[i] == row.flags
        symbol = trace.marker.symbol[i]
        assert symbol.endswith("-open") == bool(set(row.flags) & set("epu"))
        if "b" in row.flags and i > 0:
            assert symbol.startswith("diamond") and trace.y[i - 1] is None, "a break cuts the line"
        checked += 1
    assert checked > 0
    legend = [a.text for a in fig.layout.annotations if a.name == "flag-legend"]
    assert legend and all(letter in legend[0] for letter in set("".join(df["flags"].dropna())))


def test_trends_references_and_target(dsm_env):
    """EU27 is black and solid, the BSR average dashed and named with its method; the target is drawn."""
    from dashboard.data import queries

    targeted = [i for i in queries.indicator_ids() if queries.indicator(i)["target_2030"] is not None]
    ind = targeted[0] if targeted else queries.indicator_ids()[0]
    state = core_state("trends", indicator=ind, geo="EE,FI")
    fig = trends.figure(*charts.trends_data(state))
    by_geo = {t.meta["geo"]: t for t in fig.data}
    assert set(by_geo) >= {"EE", "FI", "EU27_2020"}
    assert by_geo["EU27_2020"].line.color == "#000000" and by_geo["EU27_2020"].line.dash == "solid"
    if "BSR_AVG" in by_geo:
        assert by_geo["BSR_AVG"].line.dash == "dash" and by_geo["BSR_AVG"].name.startswith("BSR average (")
    if targeted:
        target = queries.indicator(ind)["target_2030"]
        assert any(s.y0 == target == s.y1 for s in fig.layout.shapes)


def test_ranked_bar_order_references_and_missing(dsm_env):
    """Bars best first (respecting higher_is_better), EU27 line at the EU27 value, no-data countries named."""
    state = core_state("ranked_bar")
    df, meta = charts.compare_data(state)
    fig = ranked_bar.figure(df, meta)
    bars = fig.data[0]
    ys = list(bars.y)
    higher = meta.indicator.higher_is_better
    assert ys == sorted(ys, reverse=higher)
    eu = df[df["geo"] == "EU27_2020"]["value"]
    if eu.notna().any():
        assert any(abs(s.y0 - float(eu.iloc[0])) < 1e-9 for s in fig.layout.shapes)
    assert "EU27" not in list(bars.x), "EU27 is a reference line, not a bar"
    assert 0 not in ys or (df["value"] == 0).any()
    source = [a.text for a in fig.layout.annotations if a.name == "source"][0]
    for code in meta.no_data:
        assert code in source
    peers_drawn = df[df["is_bsr"] & df["value"].notna()]["name"].tolist()
    colour_of = dict(zip(bars.x, bars.marker.color))
    assert all(colour_of[n] != colours.MUTED for n in peers_drawn)


def test_ranked_bar_reference_labels_do_not_overlap(dsm_env):
    """The higher of the EU27 and BSR-average lines is labelled above its line, the lower one below its line."""
    state = core_state("ranked_bar")
    df, meta = charts.compare_data(state)
    refs = df[df["geo"].isin(["EU27_2020", "BSR_AVG"]) & df["value"].notna()]
    if len(refs) < 2 or refs["value"].nunique() < 2:
        pytest.skip("needs both reference lines at different heights")
    fig = ranked_bar.figure(df, meta)
    by_y = {round(float(a.y), 9): a.yanchor for a in fig.layout.annotations if a.y is not None}
    high, low = refs["value"].max(), refs["value"].min()
    assert by_y[round(float(high), 9)] == "bottom" and by_y[round(float(low), 9)] == "top"


def test_ranked_bar_flags_on_bars(dsm_env):
    """Flagged bars carry their flag letters as text and e/p/u bars are hatched."""
    ind, year = flagged_indicator()
    state = core_state("ranked_bar", indicator=ind, year=str(year))
    df, meta = charts.compare_data(state)
    fig = ranked_bar.figure(df, meta)
    bars = fig.data[0]
    flags_by_name = dict(zip(df["name"], df["flags"]))
    for name, text, shape in zip(bars.x, bars.text, bars.marker.pattern.shape):
        assert text == common.flag_letters(flags_by_name[name])
        assert (shape == "/") == common.is_hollow(flags_by_name[name])
    assert any(bars.text)


def test_choropleth_local_geometry_and_bsr_outline(dsm_env):
    """ISO-3 locations drawn from the shipped topojson; the BSR outline trace holds exactly the peers shown."""
    state = core_state("choropleth")
    df, meta = charts.map_data(state)
    fig = choropleth.figure(df, meta)
    values, outline = fig.data
    assert set(values.locations) == set(df["iso3"])
    served = ASSETS / choropleth.GRAPH_CONFIG["topojsonURL"].removeprefix("/assets/")
    name = f"{fig.layout.geo.scope}_{fig.layout.geo.resolution}m.json"  # the file plotly.js will ask for
    topo = json.loads((served / name).read_text())
    ids = {g.get("id") for g in topo["objects"]["countries"]["geometries"]}
    assert set(values.locations) <= ids, "every country shown must have a shape in the local geometry"
    assert set(outline.locations) == set(df.loc[df["is_bsr"], "iso3"]) and outline.marker.line.width >= 2


@pytest.mark.parametrize("name", ["world_50m.json", "europe/world_50m.json"])
def test_local_geometry_covers_the_eu_and_norway(name):
    """The shipped topojson (original and trimmed) has a shape for each EU member and Norway."""
    topo = json.loads((ASSETS / "topojson" / name).read_text())
    ids = {g.get("id") for g in topo["objects"]["countries"]["geometries"]}
    iso3 = dict(zip(geo_table()["code"], geo_table()["iso3"]))
    needed = set(iso3[c] for c in ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR",
                                            "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE",
                                            "SI", "SK", "NO"])
    assert needed <= ids
    assert "Natural Earth" in (ASSETS / "LICENSES.md").read_text()


def test_trimmed_geometry_is_the_original_restricted():
    """Each country kept in the trimmed file has exactly the original's coordinates (decoded, arc by arc)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("trim_to_europe", ASSETS / "topojson" / "trim_to_europe.py")
    trim_to_europe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trim_to_europe)

    original = json.loads((ASSETS / "topojson" / "world_50m.json").read_text())
    trimmed = json.loads((ASSETS / "topojson" / "europe" / "world_50m.json").read_text())

    def coords(topo, geometry):
        arcs = topo["arcs"]
        points = []
        for i in trim_to_europe.arc_indices(geometry["arcs"]):
            x = y = 0
            for dx, dy in arcs[i]:
                x, y = x + dx, y + dy
                points.append((x, y))
        return sorted(points)

    by_id = {g.get("id"): g for g in original["objects"]["countries"]["geometries"]}
    for geometry in trimmed["objects"]["countries"]["geometries"]:
        if geometry.get("id") in {"EST", "CYP", "MLT", "NOR", "FRA"}:
            assert coords(trimmed, geometry) == coords(original, by_id[geometry["id"]])


def test_scorecard_positions_respect_direction(dsm_env):
    """Cell colour follows value vs the row's EU aggregate, inverted when lower is better, 'about the same' within the
    noise threshold in pp (2 pp for shares and scores); recomputed here from the values."""
    state = core_state("scorecard")
    df, meta = charts.scorecard_data(state)
    assert not df.empty
    for row in df[df["value"].notna() & df["eu27"].notna() & (df["geo"] != "EU27_2020")].itertuples():
        if row.geo == "BSR_AVG" and not queries.average_weighted(row.indicator):
            assert row.position == "missing"  # an average of countries (unweighted) is not compared with the EU27
            continue
        gap = row.value - row.eu27
        if str(row.unit).startswith(("PC_", "%")):
            assert row.noise == 2.0  # dashboard.meta.NOISE_PP: survey estimates' sampling error
        if abs(gap) <= row.noise:
            assert row.position == "same"
        else:
            assert row.position == ("better" if (gap > 0) == row.higher_is_better else "worse")
    fig = scorecard.figure(df, meta)
    heat = fig.data[0]
    assert len(heat.y) == df["indicator"].nunique()
    assert all(":" == t or any(ch.isdigit() for ch in t) for row in heat.text for t in row if t)


def test_scorecard_missing_cell_is_blank_not_zero():
    """A missing value is ':' and has no colour (None), never a 0."""
    rows = pd.DataFrame([
        {"indicator": "a", "title": "A", "unit": "%", "year": 2024, "geo": "EE", "value": None, "flags": None,
         "eu27": 50.0, "diff_vs_eu27": None, "position": "missing", "change_5y": None, "base_year": None,
         "target_2030": None, "distance_to_target": None, "higher_is_better": True, "spark": []},
        {"indicator": "a", "title": "A", "unit": "%", "year": 2024, "geo": "EU27_2020", "value": 50.0, "flags": "e",
         "eu27": 50.0, "diff_vs_eu27": 0.0, "position": "same", "change_5y": 3.0, "base_year": 2019,
         "target_2030": 80.0, "distance_to_target": 30.0, "higher_is_better": True, "spark": [47.0, 50.0]},
    ])
    meta = ChartMeta(title="t", source="Source: Eurostat, x", columns=("EE", "EU27_2020"))
    fig = scorecard.figure(rows, meta)
    assert fig.data[0].z[0][0] is None and fig.data[0].text[0][0] == ":"
    assert fig.data[0].text[0][1] == "50.0 e ↗<br>30.0 to the target"  # the EU column: no position symbol
    assert "+30.0 to the 2030 target of 80.0" in fig.data[0].customdata[0][1][2]
    assert fig.data[0].x[-1] == "2030 target" and fig.data[0].text[0][-1] == "80.0"


def test_empty_selection_gives_a_message_not_an_error():
    """No values: a chart with a message (the page still works)."""
    df = pd.DataFrame({"geo": ["EE"], "name": ["Estonia"], "year": [2020], "period": ["2020"], "value": [None],
                       "flags": [None]})
    meta = ChartMeta(title="T", unit="PC", unit_label="%", source="Source: Eurostat, x")
    fig = trends.figure(df, meta)
    assert fig.layout.meta["empty"] and "No values" in fig.layout.annotations[0].text


def test_source_line_and_flag_texts():
    """Source line wording, DESI credited to the Commission, flag descriptions from FLAG_MEANINGS."""
    assert common.source_line("isoc_ci_in_h", "2025-04-08") == "Source: Eurostat, isoc_ci_in_h (updated 2025-04-08)"
    assert common.source_line("desi", None) == "Source: European Commission, DESI"
    assert common.describe_flags("bu") == "b: break in time series; u: low reliability"
    assert common.flag_letters(float("nan")) == "" and common.marker_symbol("p") == "circle-open"


def test_country_colours_fixed_distinct_and_stable():
    """Each peer has its own colour, EU27 black, the BSR average dashed; an added country keeps its colour."""
    peers = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]
    assert len({colours.colour_for(c) for c in peers}) == 9
    assert colours.colour_for("EU27_2020") == "#000000" and colours.dash_for("BSR_AVG") == "dash"
    assert colours.colour_for("FR") == colours.colour_for("FR")
    assert colours.colour_for("FR") not in {colours.colour_for(c) for c in peers}


def test_sparkline_follows_the_values():
    """Sparkline blocks rise and fall with the values; flat and short series are handled."""
    assert scorecard.sparkline([1.0, 2.0, 3.0]) == "▁▅█"
    assert scorecard.sparkline([3.0, None, 1.0]) == "█▁"
    assert scorecard.sparkline([5.0, 5.0]) == "▄▄" and scorecard.sparkline([7.0]) == ""
