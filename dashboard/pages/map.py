"""Map page: choropleth of Europe for one indicator and year, drawn from geometry shipped with the app."""
from __future__ import annotations

import dash
from dash import html

from dashboard import charts, components
from dashboard.i18n import _
from dashboard.figures import choropleth

PATH = "/map"
dash.register_page(__name__, path=PATH, title="Map — Baltic DSM Dashboard", name="Map", order=3)


def layout(**query):
    """The page for a URL query (indicator, year, view)."""
    return components.guarded(build, query, PATH)


def build(state):
    """Controls and the map (or its table) for a valid state."""
    chart = charts.CHARTS["choropleth"]
    df = chart.data(state)
    meta = df.attrs["meta"]
    controls = [
        components.dropdown("indicator", components.indicator_options(), state.indicator, label=_("Indicator")),
        components.dropdown("year", components.year_options(state.indicator), state.year, label=_("Year")),
    ]
    table = df[["name", "geo", "value", "flags"]].rename(columns={"name": "country"})
    card = components.chart_card("choropleth", charts.page_figure("choropleth", state), table, view=state.view,
                                 source=meta["source"], graph_config=choropleth.GRAPH_CONFIG,
                                 note=html.P(_("Baltic Sea Region countries are outlined in black. {geometry} "
                                               "Grey: no data.", geometry=_(choropleth.GEOMETRY_NOTE)),
                                             className="map-note"))
    return components.page(_("Map of Europe"), controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "year": state.year})
