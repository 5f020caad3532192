"""One state, every view: the side panel and the highlights follow the page's year, indicator and countries."""
from __future__ import annotations

import re

import pytest
from dash import dcc, html

from dashboard.data import queries
from tests.dashboard import walk

INDICATOR = "households_internet_access"


@pytest.fixture
def real(dsm_env, is_standin):
    """These cases name real indicators and years: the ETL's build of ../shared/data."""
    if is_standin:
        pytest.skip("needs the real database (households_internet_access, 2010)")
    return dsm_env


def text(component) -> str:
    """All text of a component tree, in order."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else text(children)


def insights_of(panel) -> list[html.Li]:
    """The insight items of a side panel, in order."""
    return [c for c in walk(panel) if isinstance(c, html.Li) and getattr(c, "className", "") == "insight"]


def page(app, path: str, **query):
    """A page built as Dash builds it for a URL query."""
    import dash

    return next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)(**query)


def view_state(tree) -> dict:
    """The page's view-state store (what the side panel callback receives)."""
    return next(c for c in walk(tree) if isinstance(c, dcc.Store) and c.id == "view-state").data


def test_compare_2010_side_panel_speaks_of_2010(real, app):
    """Compare in 2010: the side panel's sentences are about 2010, as the chart is, not about the latest year."""
    from dashboard import side_panel

    latest = queries.available_years(INDICATOR)[-1]
    tree = page(app, "/compare", indicator=INDICATOR, year="2010")
    state = view_state(tree)
    assert state["year"] == 2010
    items = insights_of(side_panel.fill_side_panel(state))
    assert items, "no insight for the chosen year"
    years = {int(item.to_plotly_json()["props"]["data-year"]) for item in items}
    assert years == {2010}, years
    sentences = text(items)
    assert "in 2010" in sentences and f"in {latest}" not in sentences
    # the latest view still speaks of the latest year
    latest_items = insights_of(side_panel.fill_side_panel(view_state(page(app, "/compare", indicator=INDICATOR))))
    assert {int(i.to_plotly_json()["props"]["data-year"]) for i in latest_items} == {latest}


def test_country_page_side_panel_speaks_of_latvia_after_the_bsr(real, app):
    """Latvia's profile: after the BSR-wide statements, every sentence names Latvia; no 'Denmark leads' out of context."""
    from dashboard import side_panel

    panel = side_panel.fill_side_panel(view_state(page(app, "/country", geo="LV")))
    items = insights_of(panel)
    assert items
    kinds = [i.to_plotly_json()["props"]["data-kind"] for i in items]
    names = [text(i.children[0]) for i in items]
    for kind, sentence in zip(kinds, names):
        if kind != "convergence":
            assert "Latvia" in sentence, sentence
    for other in ("Denmark", "Finland", "Estonia", "Germany", "Sweden", "Norway", "Poland", "Lithuania"):
        assert not any(re.search(rf"\b{other} (jointly )?leads?\b", s) for s in names), other
    # per indicator, the BSR-wide statement comes before Latvia's
    by_indicator: dict[str, list[str]] = {}
    for item in items:
        props = item.to_plotly_json()["props"]
        by_indicator.setdefault(props["data-indicator"], []).append(props["data-kind"])
    for kinds_ in by_indicator.values():
        if "convergence" in kinds_:
            assert kinds_[0] == "convergence", kinds_


def test_side_panel_keeps_every_bsr_statement_when_the_whole_bsr_is_chosen(real):
    """The default view (the whole BSR) still names the BSR leader, whoever it is."""
    from dashboard import side_panel

    items = insights_of(side_panel.fill_side_panel({"indicator": INDICATOR, "geos": queries.peer_group()}))
    assert "leader" in [i.to_plotly_json()["props"]["data-kind"] for i in items]
    few = insights_of(side_panel.fill_side_panel({"indicator": INDICATOR, "geos": ["LV", "EE"]}))
    geos = {i.to_plotly_json()["props"]["data-geo"] for i in few} - {""}
    assert geos <= {"LV", "EE"} and geos, geos


def test_about_view_orders_bsr_first_then_the_chosen_countries():
    """The ordering rule on made-up insights: BSR-wide, then countries in the order chosen; others dropped."""
    from dashboard.insights import Insight
    from dashboard.side_panel import about_view

    peers = ["EE", "LV", "DK"]
    items = [Insight("leader", "x", "Denmark leads", "/", geo="DK"),
             Insight("gap_eu27", "x", "Estonia gap", "/", geo="EE"),
             Insight("gap_eu27", "x", "Latvia gap", "/", geo="LV"),
             Insight("leader", "x", "Latvia and Denmark jointly lead", "/", details={"geos": ["DK", "LV"]}),
             Insight("convergence", "x", "The BSR is converging", "/", details={"geos": peers})]
    assert [i.sentence for i in about_view(items, ["LV", "EE"], peers)] == [
        "The BSR is converging", "Latvia gap", "Latvia and Denmark jointly lead", "Estonia gap"]
    assert len(about_view(items, peers, peers)) == len(items)


def test_deselecting_germany_uncolours_it(real, app):
    """Highlight countries: the highlighted bars ARE the chosen countries; Germany dropped from them turns grey."""
    from dashboard import colours

    def bar_colours(**query) -> dict[str, str]:
        graph = next(c for c in walk(page(app, "/compare", indicator=INDICATOR, **query)) if isinstance(c, dcc.Graph))
        bars = graph.figure.to_dict()["data"][0] if hasattr(graph.figure, "to_dict") else graph.figure["data"][0]
        return dict(zip([d[0] for d in bars["customdata"]], bars["marker"]["color"]))

    everyone = bar_colours()
    assert everyone["DE"] == colours.colour_for("DE") and everyone["FR"] == colours.MUTED
    without_germany = [g for g in queries.peer_group() if g != "DE"]
    chosen = bar_colours(geo=",".join(without_germany))
    assert chosen["DE"] == colours.MUTED
    assert all(chosen[g] == colours.colour_for(g) for g in without_germany if g in chosen)
    added = bar_colours(geo="EE,FR")
    assert added["FR"] == colours.colour_for("FR") and added["LV"] == colours.MUTED
