"""DESI page: composite and dimension scores across the editions in the data, BSR countries against the EU."""
from __future__ import annotations

from dash import dcc, html

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.data import profile, queries
from dashboard.data.charts import COMPOSITE, EDITION
from dashboard.figures import desi as desi_figures
from dashboard.state import InvalidState, is_year_text

PATH = "/desi"


def layout(**query):
    """The page for a URL query (edition, geo, measure, view); a bad parameter gives a friendly message."""
    return components.guarded(build, query, PATH)


def resolve(state, query: dict):
    """Validate the edition and the trend measure against the DESI data (latest edition, composite when blank)."""
    edition, measure = edition_of(state), measure_of(state)
    return state.with_(extra_edition=edition, extra_measure=None if measure == COMPOSITE else measure)


def edition_of(state) -> int:
    """The DESI edition of a state (URL 'edition'); the latest in the data when blank; InvalidState when unknown."""
    editions = profile.desi_editions()
    asked = (state.get(EDITION) or "").strip()
    if not editions:
        raise InvalidState("The database holds no DESI scores; refresh with the DESI export first.")
    if not asked:
        return editions[-1]
    if not is_year_text(asked) or int(asked) not in editions:
        raise InvalidState(f"There is no DESI {asked} edition in the data (editions: {editions[0]}–{editions[-1]}).")
    return int(asked)


def measure_of(state) -> str:
    """The trend chart's measure (URL 'measure'): the composite when blank; InvalidState when unknown."""
    measure = state.get("measure") or COMPOSITE
    known = [COMPOSITE, *profile.desi_dimensions()["dimension"]]
    if measure not in known:
        raise InvalidState(f"Unknown DESI measure “{measure}”: choose the composite or one of {', '.join(known[1:])}.")
    return measure


STACK = registry.Chart("desi_stack", "DESI by weighted dimension contribution", chart_data.stack_data,
                       desi_figures.stack_figure)
TREND = registry.Chart("desi_trend", "DESI across editions", chart_data.trend_data, desi_figures.trend_figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, "DESI", order=6, needs_indicator=False, needs_year=False,
                                               resolve=resolve, charts=(STACK, TREND)))


def build(state):
    """Controls, the stacked edition chart and the trend chart (or their tables) for a valid state."""
    (stack, meta), (trend, trend_meta) = STACK.data(state), TREND.data(state)
    dims = profile.desi_dimensions()
    controls = [
        components.dropdown(EDITION, [(str(y), f"DESI {y}") for y in reversed(profile.desi_editions())],
                            state.get(EDITION), label="Edition"),
        components.dropdown("measure", [(COMPOSITE, "Overall DESI score")]
                            + list(zip(dims["dimension"], dims["label"] + " score")),
                            state.get("measure") or COMPOSITE, label="Measure over time"),
        components.dropdown("geo", components.country_options(), list(state.geos), label="Countries", multi=True),
    ]
    chart_view = state.view == "chart"  # build only what is shown: the figures or the tables
    card = components.chart_card("desi_stack", STACK.figure(stack, meta) if chart_view else None,
                                 None if chart_view else _stack_table(stack, meta), view=state.view, source=meta.source)
    trend_figure = TREND.figure(trend, trend_meta) if chart_view else None
    return components.page("Digital Economy and Society Index (DESI)", intro=_intro(state, meta), controls=controls,
                           body=[card, _trend_section(trend_figure, trend, trend_meta, state.view)],
                           state_data={"page": PATH, "edition": state.get(EDITION),
                                       "geos": list(state.geos),
                                       "indicators": [profile.desi_composite(), *dims["indicator"]],
                                       "measure": state.get("measure") or COMPOSITE})


def _intro(state, meta) -> str:
    """What the charts show, which EU aggregate is the reference and which chosen countries DESI does not cover."""
    names = queries.geo_names()
    covered = profile.desi_geos()
    missing = [names.get(g, g) for g in state.geos if g not in covered]
    text = (f"Each bar is a country's DESI {meta.year} score, split into the five dimensions' weighted "
            f"contributions (dimension score × weight; weights implied by the data: {meta.weights}). "
            f"The reference is {meta.reference}, the EU average as the edition published it.")
    return text + (f" Not covered by the DESI: {', '.join(missing)}." if missing else "")


def _trend_section(figure, trend, meta, view: str) -> html.Section:
    """The second chart (scores across editions), or its table in table view."""
    body = (dcc.Graph(id="desi_trend-graph", figure=figure, config=components.GRAPH_CONFIG, className="chart")
            if view == "chart" else components.data_table(_trend_table(trend, meta), table_id="desi_trend-table"))
    return html.Section(className="chart-card", **{"data-chart": "desi_trend"}, children=[
        body, html.P(meta.source, className="source-line"),
    ])


def _stack_table(stack, meta):
    """Table view of the stacked chart: score, weight and contribution per country and dimension."""
    names = meta.names
    table = stack[["geo", "label", "score", "score_flags", "weight", "contribution", "flags"]].copy()
    table.insert(0, "country", table["geo"].map(names).fillna(table["geo"]))
    table["weight"] = table["weight"] * 100
    return table.rename(columns={"label": "dimension", "score_flags": "score flags", "weight": "weight %",
                                 "contribution": "weighted contribution", "flags": "contribution flags"})


def _trend_table(trend, meta):
    """Table view of the trend chart: one row per country and edition."""
    names = meta.names
    table = trend[["geo", "year", "value", "flags"]].copy()
    table.insert(0, "country", table["geo"].map(names).fillna(table["geo"]))
    return table.rename(columns={"year": "edition", "value": meta.measure_label})
