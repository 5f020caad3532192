"""Overview page: scorecard of the headline indicators and the Digital Decade KPIs against the EU aggregate, the BSR
average and the 2030 targets; every cell opens its chart, by mouse (heatmap or table) and by keyboard (table)."""
from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.figures import scorecard
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import N_, _
from dashboard.state import State, href

PATH = "/"
# 21 rows x 12 columns: legible on a slide, not in an 800 x 500 column
CHART = registry.Chart("scorecard", "Headline scorecard", chart_data.scorecard_data, scorecard.figure,
                       image_size="slide169")
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Overview"), order=0, needs_indicator=False, needs_year=False,
                                               charts=(CHART,)))


def build(state: State):
    """Country picker and the scorecard (heatmap or table of links) for a valid state (URL: geo: the countries shown;
    view: heatmap or linked table)."""
    df, meta = CHART.data(state)
    controls = [components.dropdown("geo", components.country_options(), list(state.geos), label=_("Countries"),
                                    multi=True)]
    legend = meta.notes[0] if meta.notes else ""
    if state.view == "chart":
        view = [dcc.Graph(id="scorecard-graph", figure=registry.page_figure("scorecard", state),
                          config=components.GRAPH_CONFIG, className="chart"),
                dcc.Link(_("The scorecard as a table of links (keyboard and screen readers)"),
                         href=href(state.with_(view="table")), id="scorecard-table-link", className="table-link")]
    else:
        view = [scorecard_table(df, meta, state)]
    body = html.Section(className="chart-card", **{"data-chart": "scorecard"}, children=[
        html.Div(className="chart-card-bar", children=[components.view_toggle(state.view),
                                                        components.share_slot("scorecard")]),
        *view,
        html.P(legend, className="scorecard-legend", id="scorecard-legend"),
        html.P(meta.source, className="source-line"),
    ])
    intro = _("Latest year of each headline indicator and Digital Decade KPI, against the EU aggregate and the 2030 "
              "target. Green and ▲: better than the EU aggregate, red and ▼: worse, pale and ≈: about the same "
              "(respecting whether higher is better). Click a cell, or open the table view and follow its links, "
              "for that indicator's chart with that country.")
    return components.page(_("Digital single market at a glance"), intro=intro, controls=controls, body=[body],
                           state_data={"page": PATH, "geos": list(state.geos)})


def cell_href(indicator_id: str, geo: str, state: State) -> str:
    """The chart behind a cell: Compare for that indicator with the cell's country highlighted (the scorecard's
    countries for the EU and BSR columns), at the indicator's latest year."""
    columns = tuple(dict.fromkeys([*state.geos, chart_data.EU27, chart_data.BSR_AVERAGE]))
    return chart_data.scorecard_cell_href(indicator_id, geo, columns, None)


def scorecard_table(df: pd.DataFrame, meta: ChartMeta, state: State) -> html.Table:
    """The scorecard as an HTML table whose every cell is a link to its chart; position and distance to the 2030
    target in text in each cell."""
    columns = [c for c in meta.columns if c in set(df["geo"])]
    head = html.Thead(html.Tr([html.Th(_("Indicator")), html.Th(_("Year")), html.Th(_("2030 target"))] +
                              [html.Th(meta.names.get(c, c), title=c) for c in columns]))
    rows = []
    for indicator_id, group in df.groupby("indicator", sort=False):
        cells = {r["geo"]: r for r in group.to_dict("records")}
        first = group.iloc[0]
        row = [html.Th(dcc.Link(first["title"], href=href(State(page="/compare", indicator=indicator_id,
                                                                geos=state.geos, year=int(first["year"]))))),
               html.Td(str(int(first["year"]))),
               html.Td(scorecard.target_text(first) or "–")]
        for geo in columns:
            cell = cells[geo]
            words = scorecard.position_text(cell)
            link = [scorecard.cell_text(cell), html.Br(), html.Small(scorecard.sparkline(cell["spark"]), className="spark")]
            if words:
                link += [html.Br(), html.Small(words, className="position")]
            gap = cell.get("distance_to_target")
            if gap is not None and not pd.isna(gap):
                link += [html.Br(), html.Small(scorecard.distance_text(cell), className="distance")]
            row.append(html.Td(dcc.Link(link, href=cell.get("href") or cell_href(indicator_id, geo, state)),
                               className=f"score score-{cell['position']}",
                               title=scorecard.describe(cell).replace("<br>", "\n")))
        rows.append(html.Tr(row))
    return html.Table([head, html.Tbody(rows)], id="scorecard-table", className="data-table scorecard")


def open_cell(click) -> str | None:
    """The link behind a clicked heatmap cell, None for a click beside the cells, on the 2030 target column, or a
    forged point: the rule dashboard/assets/scorecard.js applies in the browser, where a click on a cell follows
    customdata[3] (built by data.charts.scorecard_cell_href) as a dcc.Link does (a history entry, no reload). The
    table view's cells are plain links, reachable by keyboard."""
    try:
        link = click["points"][0]["customdata"][3]
    except (KeyError, IndexError, TypeError):
        return None
    return link if isinstance(link, str) and link.startswith("/") and not link.startswith("//") else None


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
