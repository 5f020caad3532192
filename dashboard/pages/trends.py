"""Trends page: lines over time for chosen countries plus EU27 and the BSR average, the 2030 target, flags."""
from __future__ import annotations

from dashboard import components, registry
from dashboard.data import charts as chart_data, queries
from dashboard.figures import trends
from dashboard.i18n import N_, _

PATH = "/trends"
CHART = registry.Chart("trends", N_("Trends over time"), chart_data.trends_data, trends.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Trends"), order=2, needs_year=False, charts=(CHART,)))


def build(state):
    """Controls and the trends chart (or its table) for a valid state (URL: indicator, geo, view)."""
    df, meta = CHART.data(state)
    controls = [
        components.indicator_control(state),
        components.dropdown("geo", components.country_options(), list(state.geos), label=_("Countries"), multi=True),
    ]
    card = components.chart_card("trends", registry.page_figure("trends", state), _table(df), view=state.view,
                                 source=meta.source, note=components.flag_legend(queries.flags_legend()))
    intro = _("EU27 (black) is the reference; the BSR average is the {method}. Hollow markers: estimated, "
              "provisional or low-reliability values; diamonds and a gap: break in series.", method=meta.average_method)
    return components.page(_("Trends over time"), intro=intro, controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "geos": list(state.geos)})


def _table(df):
    """Table view rows: country, year, value, flags as published."""
    return df[["name", "geo", "period", "value", "flags"]].rename(columns={"name": "country"})


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
