"""Core pages called as plain functions against the built database: charts, tables, links, friendly errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
from dash import dcc, html

from dashboard.data import queries
from dashboard.registry import parse_state
from tests.dashboard import find, text_of, walk  # noqa: F401  (imported by other test modules from here)

REPO = Path(__file__).resolve().parents[2]
PAGES = {"/": "overview", "/compare": "compare", "/trends": "trends", "/map": "map"}


def page_layout(app, path: str):
    """The layout function dash registered for a path."""
    import dash

    return next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)








@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_default_view_has_a_chart(dsm_env, app, path):
    """Each page with no parameters shows a chart with traces, a source line and the findings slot."""
    tree = page_layout(app, path)()
    graphs = find(tree, dcc.Graph)
    assert len(graphs) == 1 and len(graphs[0].figure.data) >= 1
    # one source line per chart: in the chart itself (the card repeats it only in table view)
    figure = graphs[0].figure if isinstance(graphs[0].figure, dict) else graphs[0].figure.to_plotly_json()
    notes = " ".join(a.get("text", "") for a in figure["layout"].get("annotations", []))
    assert "Source: Eurostat" in notes
    assert find(tree, id="side-panel") and find(tree, dcc.Store, id="view-state")


@pytest.mark.parametrize("path", ["/compare", "/trends", "/map"])
def test_table_view_lists_the_chart_rows(dsm_env, app, path):
    """view=table shows the rows of the chart's data (flags in their own column), no graph."""
    from dashboard import registry

    name = {"/compare": "ranked_bar", "/trends": "trends", "/map": "choropleth"}[path]
    tree = page_layout(app, path)(view="table")
    assert not find(tree, dcc.Graph)
    table = find(tree, html.Table)[0]
    header = [th.children for th in find(table, html.Th)]
    assert "flags" in header and "value" in header
    state = registry.PAGES[path].state({"view": "table"})
    assert len(find(table, html.Tr)) - 1 == len(registry.chart(name).data(state)[0])


@pytest.mark.parametrize("path", sorted(PAGES))
@pytest.mark.parametrize("query, bad", [
    ({"indicator": "not_an_indicator"}, "not_an_indicator"),
    ({"geo": "EE,ZZ"}, "ZZ"),
    ({"indicator": "__first__", "year": "1066"}, "1066"),
    ({"view": "3d"}, "3d"),
])
def test_bad_url_parameter_gives_friendly_message(dsm_env, app, path, query, bad):
    """An unknown indicator, country, year or view: a message naming it and a link back to the page."""
    if query.get("indicator") == "__first__":
        query = {**query, "indicator": queries.indicator_ids()[0]}
    tree = page_layout(app, path)(**query)
    assert tree.className == "friendly-error" and tree.role == "alert"
    assert bad in text_of(tree)
    links = find(tree, dcc.Link)
    assert links and links[0].href == path
    assert not find(tree, dcc.Graph)


def test_unknown_path_has_a_friendly_404(dsm_env, app):
    """dash's 404 slot uses our page: a message and a link to the overview."""
    import dash

    not_found = next(p for p in dash.page_registry.values() if p["module"].endswith("not_found_404"))
    tree = not_found["layout"]()
    assert tree.className == "friendly-error" and find(tree, dcc.Link)[0].href == "/"


def test_overview_cells_link_to_their_charts(dsm_env, app):
    """Every scorecard cell links to a Compare view that parses and shows that indicator (headline indicators and
    the Digital Decade KPIs with a per-country 2030 target)."""
    from dashboard.data import charts

    tree = page_layout(app, "/")(view="table")
    table = find(tree, html.Table, id="scorecard-table")[0]
    links = find(table, dcc.Link)
    rows = [i for i, _group in charts.scorecard_indicators()]
    assert set(queries.headline_indicators()) <= set(rows)
    columns = len(queries.peer_group()) + 2  # + EU27 + BSR average
    assert len(links) == len(rows) * (columns + 1)  # the row title links to Compare
    for link in links:
        url = urlparse(link.href)
        assert url.path in {"/trends", "/compare"}
        state = parse_state(dict(parse_qsl(url.query)), url.path)
        assert state.indicator in rows


def test_overview_extra_country_adds_a_column(dsm_env, app):
    """Adding a country in the URL adds its column; EU27 and the BSR average are always there."""
    tree = page_layout(app, "/")(geo="EE,FR")
    heat = find(tree, dcc.Graph)[0].figure.data[0]
    assert list(heat.x)[:2] == ["Estonia", "France"] and list(heat.x)[-2:] == ["BSR average", "2030 target"]
    assert list(heat.x)[2].startswith("EU27")


def test_overview_click_opens_the_cell_chart(dsm_env, app):
    """A click on a heatmap cell follows the cell's link: the Compare view of that indicator and year with that
    country highlighted (the scorecard's countries for the EU column); the target column and forged points go
    nowhere."""
    from dashboard.pages.overview import open_cell

    tree = page_layout(app, "/")(geo="EE,LV")
    heat = find(tree, dcc.Graph)[0].figure.data[0]
    ind = queries.headline_indicators()[0]
    row = list(heat.customdata[0])
    latvia = row[1]
    assert latvia[:2] == (ind, "LV") or list(latvia[:2]) == [ind, "LV"]
    url = urlparse(open_cell({"points": [{"customdata": latvia}]}))
    year = str(queries.latest_year(ind))
    assert url.path == "/compare" and dict(parse_qsl(url.query)) == {"indicator": ind, "geo": "LV", "year": year}
    eu = dict(parse_qsl(urlparse(open_cell({"points": [{"customdata": row[2]}]})).query))
    assert eu["geo"] == "EE,LV"
    assert open_cell({"points": [{"customdata": row[-1]}]}) is None  # the 2030 target column
    for forged in (None, {}, {"points": []}, {"points": [{"customdata": ["a", "b", "c", "//evil.example/x"]}]},
                   {"points": [{"customdata": ["a", "b", "c", "javascript:alert(1)"]}]}):
        assert open_cell(forged) is None


def test_compare_state_in_url_reproduces_the_view(dsm_env, app):
    """A shared link (indicator, year, added country) gives the same chart."""
    ind = queries.indicator_ids()[0]
    year = queries.available_years(ind)[0]
    tree = page_layout(app, "/compare")(indicator=ind, year=str(year), geo="EE,IS")
    fig = find(tree, dcc.Graph)[0].figure
    assert str(year) in fig.layout.title.text
    store = find(tree, dcc.Store, id="view-state")[0].data
    assert store["controls"]["year"] == str(year) and store["controls"]["geo"] == "EE,IS"


def test_view_state_feeds_the_side_panel(dsm_env, app):
    """The page's view-state store names the indicator and countries on screen (the findings panel reads it)."""
    ind = queries.indicator_ids()[0]
    tree = page_layout(app, "/trends")(indicator=ind, geo="EE,LV")
    store = find(tree, dcc.Store, id="view-state")[0].data
    assert store["indicator"] == ind and store["geos"] == ["EE", "LV"] and store["page"] == "/trends"


def test_app_import_touches_no_data(tmp_path):
    """Creating the app reads nothing: it imports with DSM_DATA_DIR pointing at an empty, read-only folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    empty.chmod(0o555)
    code = ("import dashboard.app as a; import dash; "
            "print(a.server.name, sorted(p['path'] for p in dash.page_registry.values()))")
    env = {**os.environ, "DSM_DATA_DIR": str(empty)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(p in done.stdout for p in PAGES)
    assert list(empty.iterdir()) == [] and not (tmp_path / "data").exists()


def test_missing_database_gives_friendly_message(app, tmp_path, monkeypatch):
    """Serving before the first refresh: each page explains, no traceback."""
    from dashboard.data import connection

    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path))
    connection.clear_cache()
    for path in PAGES:
        tree = page_layout(app, path)()
        assert tree.className == "friendly-error" and "refresh" in text_of(tree)


def test_index_serves_everything_locally(dsm_env, app):
    """The HTML page and layout reference no external host: scripts, styles and fonts are served by the app."""
    client = app.server.test_client()
    index = client.get("/")
    assert index.status_code == 200
    body = index.get_data(as_text=True)
    for marker in ('src="http', "href=\"http", "cdn.", "fonts.googleapis"):
        assert marker not in body
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and "_pages_content" in layout.get_data(as_text=True)
    assert client.get("/assets/topojson/world_50m.json").status_code == 200


def test_routing_callback_over_http(dsm_env, app):
    """The real dash routing callback renders the Compare page for a URL with state, through the Flask app."""
    client = app.server.test_client()
    ind = queries.indicator_ids()[0]
    year = queries.available_years(ind)[-1]
    search = f"?indicator={ind}&year={year}"
    routing = [d for d in client.get("/_dash-dependencies").get_json() if "_pages_content.children" in d["output"]]
    assert len(routing) == 1
    payload = {
        "output": routing[0]["output"],
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/compare"},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"], "state": [],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = json.loads(response.get_data(as_text=True))
    text = json.dumps(body)
    assert f"{queries.indicator(ind)['title']}, {year}" in text
