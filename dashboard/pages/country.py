"""Country profile page: one country, every indicator against the EU and the BSR average, rank, change, strengths."""
from __future__ import annotations

from dash import html

from dashboard import components, i18n, registry
from dashboard.data import charts as chart_data
from dashboard.data import profile, queries
from dashboard.figures import profile as profile_figure
from dashboard.i18n import N_, _, ngettext
from dashboard.state import InvalidState

PATH = "/country"
SHOWN_AREAS = 2  # strongest and weakest themes named in the summary
DEFAULT_GEO = "EE"  # the profile shown when the URL names no country


def resolve(state, query: dict):
    """Exactly one country that has indicators to compare with the EU (EE when the URL names none)."""
    if not str(query.get("geo") or "").strip():
        state = state.with_(geos=(DEFAULT_GEO,))
    return state.with_(geos=(profile_geo(state),))


def profile_geo(state) -> str:
    """The state's one country; the default (EE) when the URL named none (the state then holds the peer group)."""
    if len(state.geos) != 1:
        if tuple(state.geos) != tuple(queries.peer_group()):
            raise InvalidState(ngettext("A country profile shows one country; the address names {n} ({codes}).",
                                        "A country profile shows one country; the address names {n} ({codes}).",
                                        len(state.geos), codes=", ".join(state.geos)))
        return DEFAULT_GEO
    if state.geos[0] not in set(profile.profile_countries()):
        name = queries.geo_names().get(state.geos[0], state.geos[0])
        raise InvalidState(_("No indicator in this database compares {name} ({code}) with the EU average, so there "
                             "is no profile to show.", name=name, code=state.geos[0]))
    return state.geos[0]


CHART = registry.Chart("profile", "Country profile against the EU", chart_data.profile_data, profile_figure.figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Country profile"), order=5, needs_indicator=False,
                                               needs_year=False, resolve=resolve, charts=(CHART,)))


def build(state):
    """Country control, strengths summary and the profile chart (or table) for a valid state (URL: geo = one country,
    view)."""
    df, meta = CHART.data(state)
    with_profile = set(profile.profile_countries())
    options = [o for o in components.country_options() if o["value"] in with_profile]
    controls = [components.dropdown("geo", options, state.geos[0], label=_("Country"))]
    chart_view = state.view == "chart"  # build only what is shown: the figure or the table
    card = components.chart_card("profile", CHART.figure(df, meta) if chart_view else None,
                                 None if chart_view else table_rows(df), view=state.view, source=meta.source,
                                 note=components.flag_legend(queries.flags_legend()))
    intro = " ".join([
        _("Each indicator at the latest year in which both {country} and the EU average have a value (EU27; EU28 "
          "for the DESI 2020 editions, as published). Positions are direction-adjusted: right of zero is better "
          "than the EU whether higher or lower values are better. Rank 1 is the best; the pool is named for each "
          "indicator.", country=meta.name),
        _("Diamonds: the BSR average ({method}).", method=queries.average_method(df["indicator"].iloc[0]))
        if not df.empty and df["bsr_weighted"].fillna(False).astype(bool).any() else
        _("The BSR average is in the table: an average of countries (unweighted) is not placed against the EU "
          "aggregate, which is weighted by population."),
        _("Areas are ranked by a standardised score: each indicator's distance from the EU in standard deviations "
          "across the EU27 countries, at the indicator's latest common year (the latest in which at least half of "
          "them report), averaged over the area. Composition shares, such as the share of ICT specialists who are "
          "women, have no better or worse direction: they are in the table, not in the areas."),
    ])
    return components.page(_("Country profile: {country}", country=meta.name), intro=intro, controls=controls,
                           body=[areas_summary(df), card],
                           state_data={"page": PATH, "geos": list(state.geos)})


def areas_summary(df) -> html.Section:
    """Strongest and weakest areas by their mean standardised score (profile.theme_positions): the strongest are
    the furthest above the EU, the weakest the furthest below it; none below it is said so."""
    themes = profile.theme_positions(df)
    if themes.empty:
        return html.Section(html.P(_("No indicator with a better/worse direction to judge strengths by.")),
                            id="profile-areas", className="profile-areas")
    above = themes[themes["mean_score"] > 0].head(SHOWN_AREAS)
    below = themes[themes["mean_score"] < 0].iloc[::-1].head(SHOWN_AREAS)
    return html.Section(id="profile-areas", className="profile-areas", children=[
        html.Div([html.H2(_("Strongest areas")), _area_list(above, "strongest-areas") if not above.empty else
                  html.P(_("No area above the EU."), id="strongest-areas")]),
        html.Div([html.H2(_("Weakest areas")), _area_list(below, "weakest-areas") if not below.empty else
                  html.P(_("No area below the EU."), id="weakest-areas")]),
    ])


def _area_list(themes, list_id: str) -> html.Ul:
    """One line per theme: name, mean standardised score, number of indicators and their common years."""
    return html.Ul(id=list_id, children=[
        html.Li(ngettext("{area}: {score} standard deviations from the EU on average ({n} indicator, {years})",
                         "{area}: {score} standard deviations from the EU on average ({n} indicators, {years})",
                         int(row.n_indicators), area=i18n.theme_label(row.theme),
                         score=i18n.format_signed(row.mean_score, 2),
                         years=str(row.first_year) if row.first_year == row.last_year
                         else f"{row.first_year}–{row.last_year}"))
        for row in themes.itertuples()
    ])


def table_rows(df):
    """Table view: one row per indicator with values, flags as published, rank and five-year change."""
    table = df[["theme", "title", "year", "value", "flags", "reference", "eu27", "eu27_flags", "bsr", "bsr_flags",
                "rank", "ranked", "rank_among", "change_5y", "change_from", "gap_pct"]].copy()
    table["theme"] = table["theme"].map(i18n.theme_label)
    table["change_from"] = table["change_from"].map(lambda y: None if y != y or y is None else str(int(y)))
    return table.rename(columns={"title": "indicator"})


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
