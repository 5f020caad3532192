"""The side panel beside a chart: the DIGINNO findings and computed insights about what is on screen."""
from __future__ import annotations

from dash import Input, Output, callback, dcc, html

from dashboard import i18n
from dashboard.i18n import _
from dashboard import findings as findings_registry
from dashboard import insights as insights_module
from dashboard.data import insights as data_insights
from dashboard.data import queries

# Region-wide statements first, then the ones about a single country on screen.
KIND_ORDER = ("leader", "laggard", "fastest_improver", "convergence", "gap_eu27", "target_2030")
MAX_INSIGHTS_PER_INDICATOR = 8
MAX_INSIGHTS_TOTAL = 12  # the overview shows every headline indicator: keep the panel to a screenful


COMPACT = {"fontSize": ".85rem", "paddingLeft": "1rem", "margin": ".25rem 0"}  # the shared stylesheet is not ours


def finding_item(finding: findings_registry.Finding) -> html.Li:
    """One finding: work package and title; its text, source document and evidence link unfold on click."""
    return html.Li(className="finding", **{"data-finding": finding.id}, style={"marginBottom": ".4rem"}, children=[
        html.Details([
            html.Summary([html.Span(finding.work_package, className="badge wp-badge"), " ", html.Strong(finding.title)]),
            html.P(finding.text, className="finding-text"),
            html.Small(_("Source: {name}", name=f"{finding.source.document}, {i18n.format_date(finding.source.date)}"),
                       className="finding-source"),
        ]),
        dcc.Link(_("Evidence chart →"), href=finding.chart_href, className="evidence-link"),
    ])


def insight_item(insight: insights_module.Insight) -> html.Li:
    """One insight sentence with a link to the chart that shows it."""
    return html.Li(className="insight", **{"data-kind": insight.kind, "data-indicator": insight.indicator,
                                           "data-geo": insight.geo or "", "data-year": insight.year or ""}, children=[
        insight.sentence, " ", dcc.Link(_("chart →"), href=insight.href, className="insight-link"),
    ])


REGION_WIDE = ("convergence",)  # statements about the BSR as a whole: they name no single country
BSR_RANKS = ("leader", "laggard", "fastest_improver")  # BSR-wide when the whole BSR is on screen


def about_view(items: list[insights_module.Insight], geos: list[str], peers: list[str]) -> list[insights_module.Insight]:
    """The insights a view's countries make relevant: the BSR-wide ones, then those naming a chosen country.

    With the whole BSR chosen (the default) every BSR statement stays; with a few countries chosen a statement about
    another country ("Denmark leads") is out of context and goes. Order: BSR-wide first, then the chosen countries
    in the order they were chosen."""
    everyone = not geos or set(peers) <= set(geos)
    order = {geo: i for i, geo in enumerate(geos)}

    def place(item: insights_module.Insight) -> int | None:
        """Where an insight goes (0: BSR-wide, 1+: the first chosen country it names), None when out of context."""
        if item.kind in REGION_WIDE or (everyone and item.kind in BSR_RANKS):
            return 0
        named = [order[g] for g in (item.geo, *item.details.get("geos", ())) if g in order]
        return 1 + min(named) if named else None

    placed = [(place(item), item) for item in items]
    return [item for where, item in sorted(((w, i) for w, i in placed if w is not None), key=lambda p: p[0])]


def relevant_insights(indicators: list[str], geos: list[str], year: int | None = None,
                      ) -> tuple[list[insights_module.Insight], str | None]:
    """Insights about the indicators and countries on screen as of the view's year (the latest when none), the
    BSR-wide ones first, then the chosen countries'; or an explanation why there are none."""
    try:
        # a past year: only the indicators on screen (every insight of every year would be costly to compute)
        items = (data_insights.insights(as_of=year, only=tuple(sorted(indicators))) if year is not None and indicators
                 else data_insights.insights())
        peers = queries.peer_group()
    except Exception as exc:  # a missing or half-built database must not break the chart page beside it
        return [], _("Insights are unavailable: {problem}", problem=exc)
    chosen = insights_module.select(items, indicators=indicators)
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    chosen.sort(key=lambda i: (indicators.index(i.indicator) if i.indicator in indicators else 99,
                               rank.get(i.kind, 99), i.geo or ""))
    chosen = about_view(chosen, geos or list(peers), list(peers))
    chosen.sort(key=lambda i: indicators.index(i.indicator) if i.indicator in indicators else 99)  # stable
    per_indicator: dict[str, int] = {}
    kept = []
    for item in chosen:
        per_indicator[item.indicator] = per_indicator.get(item.indicator, 0) + 1
        if per_indicator[item.indicator] <= MAX_INSIGHTS_PER_INDICATOR:
            kept.append(item)
    return kept[:MAX_INSIGHTS_TOTAL], None


def side_panel(indicators: list[str], geos: list[str], year: int | None = None) -> html.Div:
    """Findings and insights concerning the indicators, countries and year on screen (a Dash component)."""
    indicators, geos = _codes(list(indicators or [])), _codes(list(geos or []))
    registry = findings_registry.registry()
    related = findings_registry.select(registry.findings, indicators=indicators, geos=geos)
    items, problem = relevant_insights(indicators, geos, year)
    return html.Div(className="side-panel-content", children=[
        html.H4(_("DIGINNO findings")),
        html.Ul([finding_item(f) for f in related], className="findings-list", style=COMPACT)
        if related else html.P(_("No project finding concerns this view."), className="muted"),
        html.H4(_("What the data say")),
        html.P(problem, className="muted") if problem else
        html.Ul([insight_item(i) for i in items], className="insights-list", style=COMPACT)
        if items else html.P(_("No computed insight for this view (headline indicators only)."), className="muted"),
        dcc.Link(_("All findings →"), href="/findings"),
    ])


@callback(Output("side-panel", "children"), Input("view-state", "data"))
def fill_side_panel(view_state: dict | None):
    """Fill a chart page's side-panel slot from the page's view state (indicator, countries and year on screen)."""
    view_state = view_state if isinstance(view_state, dict) else {}
    indicators = _codes(view_state.get("indicators")) or _codes([view_state.get("indicator")])
    lang = view_state.get("lang")
    year = view_state.get("year")
    year = year if isinstance(year, int) and not isinstance(year, bool) and 1900 < year < 2100 else None
    with i18n.use(i18n.resolve(lang if isinstance(lang, str) else None)):  # the page's language
        return side_panel(indicators, _codes(view_state.get("geos")), year)


def _codes(value) -> list[str]:
    """The text items of a list from the browser; anything else (a number, a dict, None) counts as none."""
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []
