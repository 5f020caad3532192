"""Compare page: one indicator and year across the EU countries and Norway, ranked, BSR highlighted."""
from __future__ import annotations

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.figures import ranked_bar
from dashboard.i18n import N_, _
from dashboard.meta import BSR_AVERAGE, EU27

PATH = "/compare"
CHART = registry.Chart("ranked_bar", N_("Ranked comparison"), chart_data.compare_data, ranked_bar.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Compare"), order=1, charts=(CHART,)))


def build(state):
    """Controls and the ranked chart (or its table) for a valid state (URL: indicator, year, geo for added countries,
    view)."""
    df, meta = CHART.data(state)
    controls = [
        components.indicator_control(state),
        components.year_control(state),
        components.dropdown("geo", components.country_options(), list(state.geos), label=_("Highlight countries"),
                            multi=True),
    ]
    table = df[["rank", "name", "geo", "value", "flags"]].rename(columns={"name": "country"})
    card = components.chart_card("ranked_bar", registry.page_figure("ranked_bar", state), table, view=state.view, source=meta.source)
    drawn = set(df.loc[df["rank"].isna() & df["value"].notna(), "geo"])  # the reference lines on the chart
    return components.page(_("Compare countries"), intro=_intro(state.year, meta.average_method, drawn),
                           controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "year": state.year,
                                       "geos": list(state.geos)})


def _intro(year, method: str, drawn: set) -> str:
    """The intro as one whole sentence per case: it names only the reference lines the chart draws."""
    if EU27 in drawn and BSR_AVERAGE in drawn:
        return _("All EU countries and Norway in {year}, best first; tied values share a rank. Black line: EU27. "
                 "Dashed: BSR average ({method}). Hatched bars: estimated, provisional or low-reliability values.",
                 year=year, method=method)
    if EU27 in drawn:
        return _("All EU countries and Norway in {year}, best first; tied values share a rank. Black line: EU27. "
                 "Hatched bars: estimated, provisional or low-reliability values.", year=year)
    if BSR_AVERAGE in drawn:
        return _("All EU countries and Norway in {year}, best first; tied values share a rank. Dashed: BSR average "
                 "({method}). Hatched bars: estimated, provisional or low-reliability values.",
                 year=year, method=method)
    return _("All EU countries and Norway in {year}, best first; tied values share a rank. Hatched bars: estimated, "
             "provisional or low-reliability values.", year=year)


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
