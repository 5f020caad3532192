"""Digital Decade page: a country's Digital Decade KPIs (Digital Scoreboard, DESI 2026 edition) against the 2030
targets, required against observed yearly change, a KPI's trajectory, and the WP3 view of national against
cross-border online public services (eGovernment Benchmark, a secondary compilation)."""
from __future__ import annotations

from dash import html

from dashboard import components, i18n, registry
from dashboard.data import digital_decade as dd
from dashboard.data import queries
from dashboard.figures import digital_decade as figures
from dashboard.i18n import N_, _
from dashboard.state import InvalidState
from dashboard.meta import EU27

PATH = "/digital-decade"
ALL_KPIS = ""  # the indicator dropdown's value for "every KPI of the country"
WP3_ANCHOR = "wp3"


def resolve(state, query: dict):
    """One country (EE when blank), an optional Digital Decade KPI, the WP3 audience; InvalidState otherwise."""
    asked = [c.strip() for c in (query.get("geo") or "").split(",") if c.strip()]
    if len(asked) > 1:
        raise InvalidState(_("Choose one country for the Digital Decade page (the URL asks for {codes}).",
                             codes=", ".join(asked)))
    geo = asked[0] if asked else dd.DEFAULT_GEO
    if state.indicator and state.indicator not in dd.kpi_ids():
        raise InvalidState(_("“{value}” is not a Digital Decade KPI: choose one from the list on this page.",
                             value=state.indicator))
    audience = (query.get(dd.AUDIENCE) or "").strip()
    if audience and audience not in dd.AUDIENCES:
        raise InvalidState(_("Unknown audience “{value}”: choose businesses or citizens.", value=audience))
    return state.with_(geos=(geo,), extra_audience=audience or None)


TARGETS = registry.Chart("dd_targets", N_("Digital Decade KPIs against the 2030 targets"), dd.targets_data,
                         figures.targets_figure)
TRAJECTORY = registry.Chart("dd_trajectory", N_("Digital Decade trajectory to 2030"), dd.trajectory_data,
                            figures.trajectory_figure)
CROSSBORDER = registry.Chart("wp3_crossborder", N_("National against cross-border online public services (WP3)"),
                             dd.crossborder_data, figures.crossborder_figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Digital Decade"), order=6.5, needs_indicator=False,
                                                      needs_year=False, resolve=resolve,
                                                      charts=(TARGETS, TRAJECTORY, CROSSBORDER)))


def build(state):
    """Controls, the not-covered note or the two Digital Decade cards, and the WP3 card (URL: geo, indicator, audience,
    view)."""
    geo = state.geos[0]
    names = queries.geo_names()
    chart_view = state.view == "chart"
    controls = [
        components.dropdown("geo", _country_options(), geo, label=_("Country")),
        components.dropdown("indicator", [(ALL_KPIS, _("All Digital Decade KPIs"))]
                            + components.indicator_options(tuple(dd.kpi_ids())), state.indicator or ALL_KPIS,
                            label=_("KPI")),
        components.dropdown(dd.AUDIENCE, [(k, _(v)) for k, v in dd.AUDIENCE_LABELS.items()], dd.audience_of(state),
                            label=_("Cross-border view")),
    ]
    covered = geo in dd.covered_geos()
    body = [] if covered else [html.P(_not_covered(geo, names), className="dd-not-covered note", role="note")]
    body.append(_targets_card(state, chart_view))
    if covered:
        body.append(_trajectory_card(state, chart_view))
    body.append(_crossborder_card(state, chart_view))
    return components.page(_("Digital Decade 2030: targets and pace"), intro=_intro(), controls=controls, body=body,
                           state_data={"page": PATH, "geos": [geo], "indicator": state.indicator,
                                       "indicators": ([state.indicator] if state.indicator else dd.kpi_ids())
                                       + list(dd.AUDIENCES[dd.audience_of(state)]),
                                       "audience": dd.audience_of(state)})


def _country_options() -> list[dict]:
    """The Member States, the EU and Norway (named, so choosing it explains why it has no KPIs)."""
    wanted = dd.members() | set(queries.peer_group()) | {EU27}
    return [o for o in components.country_options(include_aggregates=True) if o["value"] in wanted]


def _intro() -> str:
    """What the page shows and how the verdict is reached."""
    return _("The European Commission's Digital Decade KPIs (Digital Scoreboard, DESI 2026 edition) against the "
             "EU's 2030 targets. For each KPI: the latest value and its year, the target, the distance to it, the "
             "yearly change needed from the latest year to reach it by 2030 and the yearly change observed (a linear "
             "trend over the last five years, at least 3 points, none before a break in series). On track: the "
             "observed change is at least the needed one, or keeping it misses the target by no more than 2 points. "
             "The recorded scoreboard edition holds one year per KPI; earlier years come from the Eurostat series of "
             "the same measure where the database has them, else the verdict says too few years. Targets in counts "
             "(unicorns, ICT specialists) are the EU's alone.")


def _not_covered(geo: str, names: dict) -> str:
    """The in-page note for a country the scoreboard does not cover (Norway)."""
    return _("{country} is not covered by the Digital Scoreboard: the Commission publishes the Digital Decade KPIs "
             "and their 2030 targets for the 27 EU Member States and the EU only. Choose a Member State above; "
             "{country}'s Eurostat series are on the Compare and Trends pages.", country=names.get(geo, geo))


def _targets_card(state, chart_view: bool):
    """Dot-and-target rows (or their table), the KPIs not drawn, every KPI's definition."""
    df, meta = TARGETS.data(state)
    figure = registry.page_figure(TARGETS.name, state) if chart_view else None
    table = df[["label", "name", "year", "value", "flags", "unit_label", "eu_value", "target_2030", "distance",
                "required_per_year", "observed_per_year", "observed_window", "verdict_text", "rank", "ranked"]]
    table = table.drop(columns=["label" if state.indicator else "name"]).rename(columns={"label": "kpi", "name": "country"})
    undrawn = df.loc[~df["drawn"].astype(bool), "label"].tolist()
    note = [html.P(_("Not drawn (counts, not shares or scores): {kpis}; see the table.", kpis=", ".join(undrawn)),
                   className="chart-note")] if undrawn and chart_view else []
    note.append(_definitions(df, state))
    return components.chart_card(TARGETS.name, figure, table, view=state.view, source=meta.source,
                                 note=html.Div(note))


def _definitions(df, state) -> html.Details:
    """The scoreboard's definition of every KPI shown (scoreboard_indicators.json), marked as the English the
    Commission publishes them in, so a screen reader reads them as English on a page in another language."""
    shown = df.drop_duplicates("indicator")
    return html.Details(className="definitions", children=[
        html.Summary(_("Definitions (Digital Scoreboard)")),
        html.Dl([item for r in shown.itertuples() for item in
                 (html.Dt(queries.indicator(r.indicator).get("title") or r.indicator),
                  html.Dd(r.definition, lang="en") if r.definition else html.Dd("—"))]),
    ])


def _trajectory_card(state, chart_view: bool):
    """The chosen (or first targeted) KPI's trajectory with the required and observed pace in words."""
    df, meta = TRAJECTORY.data(state)
    figure = registry.page_figure(TRAJECTORY.name, state) if chart_view else None
    names = figures.series_names(meta)
    table = df.assign(series=df["series"].map(lambda s: names.get(s, s))).rename(columns={"name": "country"})
    table = table.drop(columns=["geo"])
    return components.chart_card(TRAJECTORY.name, figure, table, view=state.view, source=meta.source,
                                 note=html.P(_pace_sentence(state, meta), className="chart-note"))


def _pace_sentence(state, meta) -> str:
    """'Estonia, At least basic digital skills: 62.5 in 2025, target 80.0; needs +3.50 a year, observed +1.54 a
    year (linear trend 2021–2025, 3 points): off track.'"""
    if not meta.indicator:
        return ""
    rows, _meta = TARGETS.data(state.with_(indicator=meta.indicator.id))
    row = rows[rows["geo"] == state.geos[0]]
    if row.empty or row.iloc[0]["value"] is None:
        return ""
    r = row.iloc[0]
    if r["target_2030"] is None or r["target_2030"] != r["target_2030"]:
        return _("{country}, {indicator}: {value} in {year}; {verdict}.", country=meta.name, indicator=meta.title,
                 value=i18n.format_number(r["value"], 1), year=int(r["year"]), verdict=r["verdict_text"])
    return _("{country}: {value} in {year}, 2030 target {target}; needs {required} a year, observed {observed} a "
             "year ({window}): {verdict}.", country=meta.name, value=i18n.format_number(r["value"], 1),
             year=int(r["year"]), target=i18n.format_number(r["target_2030"], 1),
             required=figures.signed(r["required_per_year"]), observed=figures.signed(r["observed_per_year"]),
             window=r["observed_window"], verdict=r["verdict_text"])


def _crossborder_card(state, chart_view: bool):
    """The WP3 dumbbells (or their table) with the chosen country's gap in numbers; a secondary compilation."""
    df, meta = CROSSBORDER.data(state)
    figure = registry.page_figure(CROSSBORDER.name, state) if chart_view else None
    table = df.rename(columns={"name": "country"}).drop(columns=["indicator", "is_bsr"])
    sentences = [s for s in (dd.gap_sentence(df, state.geos[0], y) for y in sorted(df["year"].unique())) if s]
    note = html.Div([
        html.P(_("Secondary compilation: the eGovernment Benchmark's country scores as compiled by a third party, "
                 "not the Commission's own release."), className="chart-note secondary-compilation"),
        *[html.P(s, className="chart-note gap-sentence") for s in sentences],
    ])
    return html.Div(id=WP3_ANCHOR, children=[
        html.H2(_("WP3: national against cross-border online public services")),
        components.chart_card(CROSSBORDER.name, figure, table, view=state.view, source=meta.source, note=note),
    ])


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
