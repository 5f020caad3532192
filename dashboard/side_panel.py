"""The side panel beside a chart: the DIGINNO findings and computed insights about what is on screen."""
from __future__ import annotations

from dash import Input, Output, callback, dcc, html

from dashboard import i18n
from dashboard.i18n import _
from dashboard import findings as findings_registry
from dashboard import insights as insights_module

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
                                           "data-geo": insight.geo or ""}, children=[
        insight.sentence, " ", dcc.Link(_("chart →"), href=insight.href, className="insight-link"),
    ])


def relevant_insights(indicators: list[str], geos: list[str]) -> tuple[list[insights_module.Insight], str | None]:
    """Insights about the indicators and countries on screen, ordered region-wide first; or an explanation why none."""
    try:
        items = insights_module.insights()
    except Exception as exc:  # a missing or half-built database must not break the chart page beside it
        return [], _("Insights are unavailable: {problem}", problem=exc)
    chosen = insights_module.select(items, indicators=indicators, geos=geos)
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    chosen.sort(key=lambda i: (indicators.index(i.indicator) if i.indicator in indicators else 99,
                               rank.get(i.kind, 99), i.geo or ""))
    per_indicator: dict[str, int] = {}
    kept = []
    for item in chosen:
        per_indicator[item.indicator] = per_indicator.get(item.indicator, 0) + 1
        if per_indicator[item.indicator] <= MAX_INSIGHTS_PER_INDICATOR:
            kept.append(item)
    return kept[:MAX_INSIGHTS_TOTAL], None


def side_panel(indicators: list[str], geos: list[str]) -> html.Div:
    """Findings and insights concerning the indicators and countries on screen (a Dash component)."""
    indicators, geos = _codes(list(indicators or [])), _codes(list(geos or []))
    registry = findings_registry.registry()
    related = findings_registry.select(registry.findings, indicators=indicators, geos=geos)
    items, problem = relevant_insights(indicators, geos)
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
    """Fill a chart page's side-panel slot from the page's view state (indicator and countries on screen)."""
    view_state = view_state if isinstance(view_state, dict) else {}
    indicators = _codes(view_state.get("indicators")) or _codes([view_state.get("indicator")])
    lang = view_state.get("lang")
    with i18n.use(i18n.resolve(lang if isinstance(lang, str) else None)):  # the page's language
        return side_panel(indicators, _codes(view_state.get("geos")))


def _codes(value) -> list[str]:
    """The text items of a list from the browser; anything else (a number, a dict, None) counts as none."""
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []
