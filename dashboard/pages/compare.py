"""Compare page: one indicator and year across the EU countries and Norway, ranked, BSR highlighted."""
from __future__ import annotations

from dashboard.data.queries import BSR_AVERAGE, EU27
from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.figures import ranked_bar

PATH = "/compare"
CHART = registry.Chart("ranked_bar", "Ranked comparison", chart_data.compare_data, ranked_bar.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, "Compare", order=1, charts=(CHART,)))


def layout(**query):
    """The page for a URL query (indicator, year, geo for added countries, view)."""
    return components.guarded(build, query, PATH)


def build(state):
    """Controls and the ranked chart (or its table) for a valid state."""
    df, meta = CHART.data(state)
    controls = [
        components.dropdown("indicator", components.indicator_options(), state.indicator, label="Indicator"),
        components.dropdown("year", components.year_options(state.indicator), state.year, label="Year"),
        components.dropdown("geo", components.country_options(), list(state.geos), label="Highlight countries",
                            multi=True),
    ]
    table = df[["rank", "name", "geo", "value", "flags"]].rename(columns={"name": "country"})
    card = components.chart_card("ranked_bar", registry.page_figure("ranked_bar", state), table, view=state.view, source=meta.source)
    drawn = set(df.loc[df["rank"].isna() & df["value"].notna(), "geo"])  # the reference lines on the chart
    lines = " ".join(text for geo, text in ((EU27, "Black line: EU27."),
                                            (BSR_AVERAGE, f"Dashed: BSR average ({meta.average_method}).")) if geo in drawn)
    intro = (f"All EU countries and Norway in {state.year}, best first; tied values share a rank. {lines} "
             "Hatched bars: estimated, provisional or low-reliability values.").replace("  ", " ")
    return components.page("Compare countries", intro=intro, controls=controls, body=[card],
                           state_data={"page": PATH, "indicator": state.indicator, "year": state.year,
                                       "geos": list(state.geos)})
