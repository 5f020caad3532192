"""/findings: the DIGINNO work packages' findings beside the evidence, filtered by work package, country and theme."""
from __future__ import annotations

from dash import dcc, html

from dashboard import findings as findings_registry
from dashboard import components, i18n, registry, side_panel
from dashboard.data import queries
from dashboard.i18n import N_, _

# The findings filters (wp, geo, theme) are free lists, not a view state: layout reads them itself.
PAGE = registry.register_page(__name__, registry.Page("/findings", N_("Findings"), order=7, needs_indicator=False,
                                               needs_year=False))

def _split(value: str | list | None) -> list[str]:
    """'WP2,WP3' or ['WP2'] -> ['WP2', 'WP3']."""
    if not value:
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    return [p.strip() for p in parts if p and p.strip()]


def _catalogue_info() -> tuple[dict[str, str], dict[str, str], str | None]:
    """indicator -> theme, indicator -> title from the database catalogue, or an explanation why not."""
    try:
        cat = queries.catalogue()
    except Exception as exc:  # no database yet: the findings still show, without themes
        return {}, {}, _("The indicator catalogue is unavailable ({problem}); themes and indicator checks are skipped.",
                         problem=exc)
    themes = dict(zip(cat["id"], cat["theme"].fillna(""))) if "theme" in cat.columns else {}
    titles = dict(zip(cat["id"], cat["title"].fillna(cat["id"]))) if "title" in cat.columns else {}
    return themes, titles, None


def _peers() -> list[str]:
    """The BSR countries from the database (none while there is no database: no country briefs to link)."""
    try:
        return queries.peer_group()
    except Exception:  # no database yet
        return []


def _names() -> dict[str, str]:
    """Country names in the page's language (codes alone when there is no database yet)."""
    try:
        return queries.geo_names()
    except Exception:  # no database yet
        return {}


def filtered(wps: list[str], geos: list[str], themes: list[str]) -> list[findings_registry.Finding]:
    """Findings matching the filters; a theme matches when any linked indicator belongs to it."""
    chosen = findings_registry.select(findings_registry.registry().findings, work_packages=wps, geos=geos)
    if themes:
        theme_of, _titles, _problem = _catalogue_info()
        chosen = [f for f in chosen if {theme_of.get(i) for i in f.indicators} & set(themes)]
    return chosen


CARD_STYLE = {"background": "#fff", "border": "1px solid #d9dee5", "borderRadius": "6px", "padding": ".75rem 1rem",
              "marginBottom": ".75rem"}


def _joined(items: list, separator: str = " · ") -> list:
    """Items with a separator between them."""
    out = []
    for i, item in enumerate(items):
        out += [separator, item] if i else [item]
    return out


def brief_links(path: str, label: str) -> html.Span:
    """One brief: its page, and its PDF and PowerPoint downloads as labelled buttons."""
    return html.Span(className="brief-links", children=[
        html.A(label, href=path, className="brief-link"), " ",
        html.A("PDF", href=f"{path}?format=pdf", download="", className="brief-download brief-pdf",
               title=_("Download the {brief} brief as PDF", brief=label)), " ",
        html.A("PowerPoint", href=f"{path}?format=pptx", download="", className="brief-download brief-pptx",
               title=_("Download the {brief} brief as PowerPoint", brief=label)),
    ])


def briefs_line(peers: list[str]) -> html.Div:
    """The policy briefs of every work package and BSR country: page (A4 HTML), PDF and PowerPoint."""
    names = _names()
    return html.Div(className="briefs-line", children=[
        html.P(_("Policy briefs: one A4 page each, or a short slide deck.")),
        html.Ul([html.Li(brief_links(f"/brief/wp/{wp}", wp)) for wp in findings_registry.WORK_PACKAGES]
                + [html.Li(brief_links(f"/brief/country/{geo}", names.get(geo, geo))) for geo in peers],
                className="briefs-list"),
    ])


def finding_card(finding: findings_registry.Finding, titles: dict[str, str]) -> html.Article:
    """A finding with its linked indicators, source document, evidence chart and what the data say now."""
    items, problem = side_panel.relevant_insights(list(finding.indicators), [])  # the BSR-wide statements
    region_wide = [i for i in items if i.kind in ("leader", "laggard", "fastest_improver", "convergence")]
    return html.Article(className="finding-card", id=f"finding-{finding.id}", **{"data-wp": finding.work_package},
                        style=CARD_STYLE, children=[
        html.Header([html.Span(finding.work_package, className="badge wp-badge"), " ", html.H3(finding.title)]),
        html.P(finding.text),
        html.P(_("Countries: {countries}", countries=", ".join(finding.countries)), className="finding-countries"),
        html.P([_("Indicators:"), " ", *_joined([dcc.Link(titles.get(i, i), href=f"/trends?indicator={i}", title=i,
                                                          className="indicator-chip") for i in finding.indicators])]),
        html.P([html.Small(_("Source: {document}, {date} ({file})", document=finding.source.document,
                             date=i18n.format_date(finding.source.date), file=finding.source.file)
                           if finding.source.file else
                           _("Source: {document}, {date}", document=finding.source.document,
                             date=i18n.format_date(finding.source.date))),
                " ", dcc.Link(_("Evidence chart →"), href=finding.chart_href, className="evidence-link"),
                " ", html.A(_("{work_package} brief", work_package=finding.work_package),
                            href=f"/brief/wp/{finding.work_package}")]),
        html.Details([html.Summary(_("What the data say now")),
                      html.P(problem, className="muted") if problem else
                      html.Ul([side_panel.insight_item(i) for i in region_wide], className="insights-list")]),
    ])


def problems_box() -> html.Div | None:
    """Analyst notes: every file or field in the registry that did not validate, and unknown indicators."""
    registry = findings_registry.registry()
    themes, _titles, unavailable = _catalogue_info()
    errors = list(registry.errors)
    if not unavailable:
        errors += findings_registry.check_indicators(registry, themes.keys())
    if not errors:
        return None
    return html.Div(id="findings-errors", className="alert alert-warning", children=[
        html.Strong(i18n.ngettext("{n} problem in the findings files (dashboard/findings/); the rest loaded:",
                                  "{n} problems in the findings files (dashboard/findings/); the rest loaded:",
                                  len(errors))),
        html.Ul([html.Li(str(e)) for e in errors]),
    ])


def results(wps: list[str], geos: list[str], themes: list[str]) -> list:
    """The list of finding cards for the filters."""
    _themes, titles, _problem = _catalogue_info()
    chosen = filtered(wps, geos, themes)
    if not chosen:
        return [html.P(_("No finding matches these filters."), className="muted")]
    return [html.P(i18n.ngettext("{n} finding", "{n} findings", len(chosen)), id="findings-count"),
            *[finding_card(f, titles) for f in chosen]]


def layout(wp: str | None = None, geo: str | None = None, theme: str | None = None, **_other) -> html.Div:
    """The page for the filters in the URL (?wp=WP2,WP3&geo=EE&theme=...); the filters write back to the URL."""
    wps, geos, themes = _split(wp), _split(geo), _split(theme)
    registry = findings_registry.registry()
    theme_of, _titles, unavailable = _catalogue_info()
    all_geos = sorted({g for f in registry.findings for g in f.countries})
    all_themes = sorted({theme_of.get(i) for f in registry.findings for i in f.indicators} - {None, ""})
    names = _names()
    controls = [
        components.dropdown("wp", [(w, w) for w in findings_registry.WORK_PACKAGES], wps, label=_("Work package"),
                            multi=True, clearable=True, placeholder=_("All work packages")),
        components.dropdown("geo", sorted(((g, f"{names.get(g, g)} ({g})") for g in all_geos),
                                          key=lambda option: option[1]),
                            geos, label=_("Country"), multi=True, clearable=True, placeholder=_("All countries")),
        components.dropdown("theme", sorted(((t, i18n.theme_label(t)) for t in all_themes), key=lambda o: o[1]),
                            themes, label=_("Theme"), multi=True, clearable=True, placeholder=_("All themes")),
    ]
    intro = _("What each DIGINNO work package set out to establish, from the project documents, linked to the "
              "indicators that bear on it. The numbers under each finding are computed from the database, never typed "
              "in.") + (f" {unavailable}" if unavailable else "")
    return components.page(_("DIGINNO findings beside the evidence"), intro=intro, controls=controls, panel=False,
                           body=[briefs_line(_peers()), problems_box() or "",
                                 html.Div(id="findings-results", children=results(wps, geos, themes))],
                           state_data={"page": "/findings", "wp": wps, "geos": geos, "theme": themes})
