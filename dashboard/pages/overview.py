"""Overview page: scorecard of the headline indicators against EU27 and the BSR average; every cell links on."""
from __future__ import annotations

import pandas as pd
from dash import Input, Output, callback, dcc, html, no_update
from dash import State as DashState

from dashboard import components, registry
from dashboard.i18n import N_
from dashboard.data import charts as chart_data
from dashboard.figures import scorecard
from dashboard.figures.meta import ChartMeta
from dashboard.state import State, href

PATH = "/"
CHART = registry.Chart("scorecard", "Headline scorecard", chart_data.scorecard_data, scorecard.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Overview"), order=0, needs_indicator=False, needs_year=False,
                                               charts=(CHART,)))


def layout(**query):
    """The page for a URL query (geo: the countries shown; view: heatmap or linked table)."""
    return components.guarded(build, query, PATH)


def build(state: State):
    """Country picker and the scorecard (heatmap or table of links) for a valid state."""
    df, meta = CHART.data(state)
    controls = [components.dropdown("geo", components.country_options(), list(state.geos), label="Countries",
                                    multi=True)]
    body = html.Section(className="chart-card", **{"data-chart": "scorecard"}, children=[
        html.Div(className="chart-card-bar", children=[components.view_toggle(state.view),
                                                        components.share_slot("scorecard")]),
        dcc.Graph(id="scorecard-graph", figure=registry.page_figure("scorecard", state), config=components.GRAPH_CONFIG,
                  className="chart") if state.view == "chart" else scorecard_table(df, meta, state),
        html.P(meta.source, className="source-line"),
    ])
    intro = ("Latest year of each headline indicator. Green: better than the EU27, red: worse, pale: within 2 % of it "
             "(respecting whether higher is better). ▲▼► five-year direction. Click a cell for its chart.")
    return components.page("Digital single market at a glance", intro=intro, controls=controls, body=[body],
                           state_data={"page": PATH, "geos": list(state.geos)})


def cell_href(indicator_id: str, geo: str, state: State) -> str:
    """The chart behind a cell: Trends for that indicator with the cell's country (or the peer group for references)."""
    geos = state.geos if geo in ("EU27_2020", "BSR_AVG") else tuple(dict.fromkeys([geo, *state.geos]))
    return href(State(page="/trends", indicator=indicator_id, geos=geos))


def scorecard_table(df: pd.DataFrame, meta: ChartMeta, state: State) -> html.Table:
    """The scorecard as an HTML table whose every cell is a link to its chart."""
    columns = [c for c in meta.columns if c in set(df["geo"])]
    head = html.Thead(html.Tr([html.Th("Indicator"), html.Th("Year"), html.Th("2030 target")] +
                              [html.Th(meta.names.get(c, c), title=c) for c in columns]))
    rows = []
    for indicator_id, group in df.groupby("indicator", sort=False):
        cells = {r["geo"]: r for r in group.to_dict("records")}
        first = group.iloc[0]
        row = [html.Th(dcc.Link(first["title"], href=href(State(page="/compare", indicator=indicator_id,
                                                                geos=state.geos, year=int(first["year"]))))),
               html.Td(str(int(first["year"]))),
               html.Td("–" if first["target_2030"] is None or pd.isna(first["target_2030"]) else f"{first['target_2030']:g}")]
        for geo in columns:
            cell = cells[geo]
            link = [scorecard.cell_text(cell), html.Br(), html.Small(scorecard.sparkline(cell["spark"]), className="spark")]
            row.append(html.Td(dcc.Link(link, href=cell_href(indicator_id, geo, state)),
                               className=f"score score-{cell['position']}",
                               title=scorecard.describe(cell).replace("<br>", "\n")))
        rows.append(html.Tr(row))
    return html.Table([head, html.Tbody(rows)], id="scorecard-table", className="data-table scorecard")


@callback(
    Output(components.PAGES_LOCATION, "href", allow_duplicate=True),
    Input("scorecard-graph", "clickData"),
    DashState("view-state", "data"),
    prevent_initial_call=True,
)
def open_cell(click, view_state=None):
    """A click on a heatmap cell opens the chart behind it (with the countries the scorecard shows)."""
    try:
        indicator_id, geo = click["points"][0]["customdata"][:2]
    except (KeyError, IndexError, TypeError, ValueError):
        return no_update  # no click, a click beside the cells, or a forged request
    if not indicator_id or not isinstance(indicator_id, str) or not isinstance(geo, str):
        return no_update
    geos = tuple((view_state if isinstance(view_state, dict) else {}).get("geos") or ())
    return cell_href(indicator_id, geo, State(page=PATH, geos=geos))
