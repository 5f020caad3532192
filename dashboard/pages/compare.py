"""Compare page: one indicator and year across the EU countries and Norway, ranked, BSR highlighted."""
from __future__ import annotations

import dash

from dashboard import charts, components
from dashboard.i18n import _

PATH = "/compare"
dash.register_page(__name__, path=PATH, title="Compare — Baltic DSM Dashboard", name="Compare", order=1)


def layout(**query):
    """The page for a URL query (indicator, year, geo for added countries, view)."""
    return components.guarded(build, query, PATH)


def build(state):
    """Controls and the ranked chart (or its table) for a valid state."""
    chart = charts.CHARTS["ranked_bar"]
    df = chart.data(state)
    meta = df.attrs["meta"]
    controls = [
        components.dropdown("indicator", components.indicator_options(), state.indicator, label=_("Indicator")),
        components.dropdown("year", components.year_options(state.indicator), state.year, label=_("Year")),
        components.dropdown("geo", components.country_options(), list(state.geos), label=_("Highlight countries"),
                            multi=True),
    ]
    table = df[["rank", "name", "geo", "value", "flags"]].rename(columns={"name": "country"})
    card = components.chart_card("ranked_bar", charts.page_figure("ranked_bar", state), table, view=state.view, source=meta["source"])
    intro = _("All EU countries and Norway in {year}, best first. Black line: EU27; dashed: BSR average "
              "({method}). Hatched bars: estimated, provisional or low-reliability values.",
              year=state.year, method=meta["average_method"])
    return components.page(_("Compare countries"), intro=intro, controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "year": state.year,
                                       "geos": list(state.geos)})
