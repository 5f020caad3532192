"""Page components as plain functions: the table view's notation."""
from __future__ import annotations

import pandas as pd

from dashboard.components import data_table


def cells(table) -> list[list[str]]:
    """Body cell texts of an html.Table."""
    return [[td.children for td in tr.children] for tr in table.children[1].children]


def test_table_view_writes_no_flag_as_a_dash_and_a_missing_value_as_a_colon():
    frame = pd.DataFrame({"geo": ["EE", "LV", "LT"], "value": [81.5, float("nan"), 70.0], "flags": [None, "b", ""]})
    assert cells(data_table(frame)) == [["EE", "81.50", "—"], ["LV", ":", "b"], ["LT", "70.00", "—"]]


# --- readable controls: labels not ids, grouped by theme, searchable; share controls on every chart card --------

import pytest  # noqa: E402
from dash import dcc, html  # noqa: E402

from dashboard import components  # noqa: E402
from tests.dashboard import text_of, walk  # noqa: E402


def page(path: str, **query):
    """A page built as Dash builds it for a URL query."""
    import dash

    return next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)(**query)


def test_indicator_options_show_titles_grouped_by_theme_then_title(dsm_env, app):
    from dashboard.data import queries
    from dashboard.i18n import theme_label

    cat = queries.catalogue()
    cat = cat[cat["has_data"]]
    options = components.indicator_options()
    chosen = [o for o in options if not o.get("disabled")]
    assert sorted(o["value"] for o in chosen) == sorted(cat["id"])  # every indicator once, headings apart
    titles = dict(zip(cat["id"], cat["title"]))
    for option in chosen:
        assert option["label"] == titles[option["value"]] and option["value"] not in option["label"]  # no ids
        assert option["value"] in option["search"]  # the id still finds it
    # headings in alphabetical order, each followed by its theme's indicators in alphabetical order of title
    headings = [o for o in options if o.get("disabled")]
    assert [h["label"] for h in headings] == sorted((h["label"] for h in headings), key=components._sort_key)
    theme_of = dict(zip(cat["id"], cat["theme"].map(theme_label)))
    current, group = None, []
    for option in options + [{"disabled": True, "label": None}]:
        if option.get("disabled"):
            assert [o["label"] for o in group] == sorted((o["label"] for o in group), key=components._sort_key)
            current, group = option["label"], []
        else:
            assert theme_of[option["value"]] == current
            group.append(option)


def test_country_options_are_alphabetical_and_searchable(dsm_env, app):
    options = components.country_options()
    names = [o["label"] for o in options]
    assert names == sorted(names, key=components._sort_key)
    assert all(o["value"] in o["search"] for o in options)


def test_every_dropdown_is_searchable_with_a_placeholder(dsm_env, app):
    for path in ("/compare", "/trends", "/map", "/findings"):
        for dropdown in (c for c in walk(page(path)) if isinstance(c, dcc.Dropdown)):
            if isinstance(dropdown.id, dict):  # the URL-bound controls
                assert dropdown.searchable and dropdown.placeholder, (path, dropdown.id)


def test_findings_filters_have_placeholders_and_names(dsm_env, app):
    tree = page("/findings")
    dropdowns = {c.id["key"]: c for c in walk(tree) if isinstance(c, dcc.Dropdown)}
    assert dropdowns["wp"].placeholder == "All work packages"
    assert dropdowns["geo"].placeholder == "All countries" and dropdowns["theme"].placeholder == "All themes"
    assert all(not o["label"].islower() for o in dropdowns["theme"].options)  # 'E-commerce', not 'e_commerce'
    links = [c.href for c in walk(tree) if isinstance(c, html.A) and "brief-download" in (getattr(c, "className", None) or "")]
    assert "/brief/wp/WP2?format=pdf" in links and "/brief/country/EE?format=pptx" in links


def share_controls_of(card) -> list:
    """The share-controls blocks inside one chart card."""
    return [c for c in walk(card) if getattr(c, "className", None) == "share-controls"]


@pytest.mark.parametrize("path, query", [("/compare", {}), ("/trends", {}), ("/desi", {}), ("/relationships", {}),
                                         ("/country", {"geo": "LV"}), ("/map", {})])
def test_every_chart_card_has_its_own_labelled_share_and_download_controls(dsm_env, app, is_standin, path, query):
    if is_standin and path in ("/desi", "/relationships", "/country"):
        pytest.skip("these pages need the real database's DESI and pair data")
    tree = page(path, **query)
    cards = [c for c in walk(tree) if getattr(c, "className", None) == "chart-card"]
    assert cards, path
    for card in cards:
        chart = card.to_plotly_json()["props"]["data-chart"]
        (controls,) = share_controls_of(card)
        assert any("view-toggle" in (getattr(c, "className", None) or "") for c in walk(card)), chart  # chart/table
        assert controls.to_plotly_json()["props"]["data-chart"] == chart
        texts = text_of(controls)
        assert "Copy link" in texts and "Copy embed code" in texts
        formats = {c.className.split("export-")[-1] for c in walk(controls)
                   if isinstance(c, html.A) and "export-link" in (getattr(c, "className", None) or "")}
        assert {"png", "svg", "csv", "xlsx", "html", "pptx"} <= formats, (chart, formats)
        hrefs = [c.href for c in walk(controls) if isinstance(c, html.A)]
        assert all(h.startswith(f"/export/{chart}.") for h in hrefs), hrefs
    ids = [c.id for c in walk(tree) if getattr(c, "id", None) is not None]
    assert len([repr(i) for i in ids]) == len({repr(i) for i in ids}), "component ids repeat"




@pytest.mark.parametrize("view", ["chart", "table"])
def test_one_source_line_per_chart(dsm_env, app, view):
    """The chart prints its source line (with the update date) itself; the card repeats it only in table view."""
    tree = page("/compare", view=view)
    (card,) = [c for c in walk(tree) if getattr(c, "className", None) == "chart-card"]
    below = [c for c in walk(card) if getattr(c, "className", None) == "source-line"]
    graphs = [c for c in walk(card) if isinstance(c, dcc.Graph)]
    if view == "chart":
        figure = graphs[0].figure.to_plotly_json() if hasattr(graphs[0].figure, "to_plotly_json") else graphs[0].figure
        sources = [a["text"] for a in figure["layout"]["annotations"] if a.get("name") == "source"]
        assert len(sources) == 1 and "updated" in sources[0] and below == []
    else:
        assert len(below) == 1 and not graphs
