"""Relationships page: any two indicators for one year, a point per country, BSR highlighted, OLS line with r and n."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.data import profile, queries
from dashboard.figures import scatter
from dashboard.i18n import N_, _
from dashboard.state import InvalidState, is_year_text, parse_query_string

PATH = "/relationships"
Y_CONTROL = "relationships-y"  # not a generic URL control: changing y must also drop the year (see set_y)


def resolve(state, query: dict):
    """Complete a parsed state: validate the y indicator and the year for the pair (defaults when blank)."""
    year_text = str(query.get("year") or "").strip()
    y_id = (state.get("y") or "").strip() or default_y(state.indicator)
    if y_id not in set(queries.indicator_ids(with_data=False)):
        raise InvalidState(_("Unknown indicator “{value}” for the y axis: it is not in the catalogue.", value=y_id))
    if y_id not in set(queries.indicator_ids()):
        raise InvalidState(_("Indicator “{value}” has no data in this database.", value=y_id))
    years = profile.pair_years(state.indicator, y_id)
    if not years:
        raise InvalidState(_("No country has values of both {x} and {y} in the same year; choose another pair.",
                             x=state.indicator, y=y_id))
    if not year_text:
        year = years[-1]
    elif not is_year_text(year_text) or int(year_text) not in years:
        raise InvalidState(_("No country has values of both {x} and {y} in {year} (years with both: {span}).",
                             x=state.indicator, y=y_id, year=year_text, span=f"{years[0]}–{years[-1]}"))
    else:
        year = int(year_text)
    return state.with_(year=year, extra_y=y_id)


def default_y(x_id: str) -> str:
    """The first headline indicator (else any) other than x that shares at least one year with x."""
    candidates = queries.headline_indicators() + queries.indicator_ids()
    for candidate in dict.fromkeys(candidates):
        if candidate != x_id and profile.pair_years(x_id, candidate):
            return candidate
    return x_id


def build(state):
    """Controls, the scatter (or its table) and the fit statement for a valid state (URL: indicator = x axis, y, year,
    view)."""
    df, meta = CHART.data(state)
    fitted = scatter.fit_points(df)
    fit = scatter.ols_fit(fitted["x"], fitted["y"])
    options = components.indicator_options()
    controls = [
        components.dropdown("indicator", options, state.indicator, label=_("Indicator on the x axis")),
        html.Div(className="control control-y", children=[
            html.Label(_("Indicator on the y axis"), htmlFor=Y_CONTROL),
            dcc.Dropdown(id=Y_CONTROL, options=options, value=state.get("y"), clearable=False, searchable=True),
        ]),
        components.dropdown("year", _year_options(state), state.year, label=_("Year")),
    ]
    summary = html.P(scatter.fit_text(fit, len(fitted)), id="fit-summary", className="fit-summary")
    chart_view = state.view == "chart"  # build only what is shown: the figure or the table
    card = components.chart_card("scatter", CHART.figure(df, meta) if chart_view else None,
                                 None if chart_view else _table(df, meta), view=state.view, source=meta.source,
                                 note=components.flag_legend(queries.flags_legend()))
    intro = _("Each point is a country with values of both indicators in the chosen year; Baltic Sea Region "
              "countries are coloured and labelled, EU27 is shown as a reference but not used in the fit. "
              "Flag letters follow the country code; hollow markers: estimated, provisional or low reliability. "
              "A correlation across countries says nothing about cause.")
    return components.page(_("Relationships between indicators"), intro=intro, controls=controls, body=[summary, card],
                           state_data={"page": PATH, "indicator": state.indicator, "y": state.get("y"),
                                       "indicators": [state.indicator, state.get("y")], "year": state.year})


def _year_options(state) -> list[dict]:
    """Years in which some country has both values, newest first."""
    return [{"value": y, "label": str(y)} for y in reversed(profile.pair_years(state.indicator, state.get("y")))]


def _table(df, meta):
    """Table view rows: country, both values with their flags as published."""
    table = df[["name", "geo", "x", "x_flags", "y", "y_flags", "is_bsr"]].copy()
    table["is_bsr"] = table["is_bsr"].map(lambda bsr: _("yes") if bsr else _("no"))
    return table.rename(columns={"name": "country", "x": meta.x_title, "y": meta.y_title})


CHART = registry.Chart("scatter", N_("Relationship between two indicators"), chart_data.relationships_data,
                       scatter.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Relationships"), order=4, needs_year=False, resolve=resolve,
                                               charts=(CHART,)))


@callback(
    Output(components.PAGES_LOCATION, "search", allow_duplicate=True),
    Input(Y_CONTROL, "value"),
    State(components.PAGES_LOCATION, "search"),
    prevent_initial_call=True,
)
def set_y(y_id, search):
    """Write the chosen y indicator into the URL and drop the year (it may not exist for the new pair)."""
    return y_query(search, y_id)


def y_query(search: str | None, y_id: str | None) -> str:
    """The query string with `y` replaced and `year` removed; no_update when nothing changes."""
    query = parse_query_string(search)
    if not y_id or query.get("y") == y_id:
        return no_update
    query["y"] = y_id
    query.pop("year", None)
    return "?" + urlencode(list(query.items()), safe=",")


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
