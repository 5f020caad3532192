"""Map page: choropleth of Europe for one indicator and year, drawn from geometry shipped with the app."""
from __future__ import annotations

from dash import html

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.figures import choropleth
from dashboard.i18n import N_, _

PATH = "/map"
CHART = registry.Chart("choropleth", N_("Map of Europe"), chart_data.map_data, choropleth.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Map"), order=3, charts=(CHART,)))


def build(state):
    """Controls and the map (or its table) for a valid state (URL: indicator, year, view)."""
    df, meta = CHART.data(state)
    controls = [
        components.indicator_control(state),
        components.year_control(state),
    ]
    table = df[["name", "geo", "value", "flags"]].rename(columns={"name": "country"})
    card = components.chart_card("choropleth", registry.page_figure("choropleth", state), table, view=state.view,
                                 source=meta.source, graph_config=choropleth.GRAPH_CONFIG,
                                 note=html.P(_("Baltic Sea Region countries are outlined in black. {geometry} "
                                               "Grey: no data.", geometry=_(choropleth.GEOMETRY_NOTE)),
                                             className="map-note"))
    return components.page(_("Map of Europe"), controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "year": state.year})


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
