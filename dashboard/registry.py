"""The page registry: every page registers itself here once (path, name, order, state parameters, charts).

Navigation, URL validation, exports, embeds and briefs read it; nothing else lists pages or charts.

    PAGE = registry.register_page(__name__, registry.Page("/compare", "Compare", order=1,
                                                    charts=(registry.Chart("ranked_bar", ..., data, figure),)))

A page's state is `parse_state(query, path, needs_indicator=..., needs_year=...)` followed by the page's own
`resolve(state, query)` for its extra parameters (y axis, edition, theme, ...): `Page.state(query)` does both.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import dash
import pandas as pd
import plotly.graph_objects as go

from dashboard import i18n
from dashboard.data import queries
from dashboard.data.connection import cached
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.state import CORE_KEYS, VIEWS, InvalidState, State, is_year_text

SITE = "Baltic DSM Dashboard"


@dataclass(frozen=True)
class Chart:
    """One renderable chart: where its data comes from, how it is drawn, which page shows it."""

    name: str
    title: str
    data: Callable[[State], tuple[pd.DataFrame, ChartMeta]]   # in dashboard/data/charts.py
    figure: Callable[[pd.DataFrame, ChartMeta], go.Figure]    # in dashboard/figures/
    page: str = ""  # set by register_page(): the path of the page that declares the chart
    image_size: str = "column"  # the size (dashboard.export.SIZES) its PNG/SVG downloads have unless asked


@dataclass(frozen=True)
class Page:
    """A page of the dashboard: where it lives, its navigation label and place, its URL parameters, its charts."""

    path: str
    name: str
    order: int
    needs_indicator: bool = True  # a blank indicator means the first headline indicator
    needs_year: bool = True       # a blank year means the indicator's latest year
    resolve: Callable[[State, dict], State] | None = None  # validates the page's own parameters
    charts: tuple[Chart, ...] = ()
    nav: bool = True

    @property
    def title(self) -> str:
        """The browser title in the current language: 'Compare — Baltic DSM Dashboard'."""
        return _("{page} — {site}", page=_(self.name), site=_(SITE))

    def state(self, query: dict) -> State:
        """The validated state of a URL query for this page; InvalidState says what is wrong."""
        query = {k: ("" if v is None else str(v)) for k, v in (query or {}).items()}
        state = parse_state(query, self.path, needs_indicator=self.needs_indicator, needs_year=self.needs_year)
        return self.resolve(state, query) if self.resolve else state


PAGES: dict[str, Page] = {}


def register_page(module: str, page: Page, **dash_options) -> Page:
    """Register a page (and its charts) here and with Dash's router; returns the page as registered.

    (Named like dash.register_page on purpose: Dash's pages loader imports only files that contain that name.)"""
    page = replace(page, charts=tuple(replace(chart, page=page.path) for chart in page.charts))
    PAGES[page.path] = page
    # the title is a function: Dash asks it per request (index page and router), so it follows the language
    dash.register_page(module, path=page.path, title=lambda: page.title, name=page.name, order=page.order,
                       **dash_options)
    return page


def pages() -> dict[str, Page]:
    """Every registered page by path: empty until dashboard.app is built (Dash imports the pages then)."""
    return PAGES


def title_for(path: str) -> str:
    """The browser title of the page at `path` in the current language; the site's name elsewhere."""
    page = PAGES.get(path.rstrip("/") or "/")
    return page.title if page else _(SITE)


def navigation() -> list[tuple[str, str]]:
    """(path, name) of the pages in the navigation bar, in their declared order."""
    return [(p.path, p.name) for p in sorted(pages().values(), key=lambda p: p.order) if p.nav]


def charts() -> dict[str, Chart]:
    """Every chart of every page by name, in page order."""
    return {chart.name: chart for page in sorted(pages().values(), key=lambda p: p.order) for chart in page.charts}


def chart(name: str) -> Chart:
    """The chart of this name (KeyError when no page declares it)."""
    return charts()[name]


def page_of(chart_: Chart) -> Page:
    """The page that shows a chart."""
    return pages()[chart_.page]


def chart_state(chart_: Chart, query: dict) -> State:
    """A URL query validated as the chart's page validates it (InvalidState otherwise)."""
    return page_of(chart_).state(query)


def render(name: str, state: State) -> go.Figure:
    """The figure of a chart for a state (what exports and embeds call); a fresh figure each time."""
    found = chart(name)
    return found.figure(*found.data(state))


@cached
def page_figure(name: str, state: State) -> go.Figure:
    """The figure for a page, cached per (chart, state, database version); pages only serialise it, never change it."""
    return render(name, state)


# ---------------------------------------------------------------- URL validation against the database

def parse_state(query: dict, page: str, *, needs_indicator: bool = True, needs_year: bool = True) -> State:
    """Validate a page's URL query against the catalogue, geo table and available years; raise InvalidState.

    The language is never refused: an unknown `lang` is English, a missing one the visit's (i18n.resolve)."""
    query = {k: ("" if v is None else str(v)) for k, v in (query or {}).items()}
    lang = i18n.resolve(query.get("lang"))
    asked_indicator, asked_year = query.get("indicator", "").strip(), query.get("year", "").strip()
    # A page that needs no indicator/year still refuses a wrong one rather than silently ignoring it.
    indicator_id = _parse_indicator(asked_indicator) if (needs_indicator or asked_indicator) else None
    geos = _parse_geos(query.get("geo", ""))
    wants_year = needs_year or bool(asked_year)
    if asked_year and not indicator_id and not is_year_text(asked_year):
        raise InvalidState(_("“{value}” is not a year.", value=asked_year))
    year = _parse_year(asked_year, indicator_id) if (wants_year and indicator_id) else None
    view = query.get("view", "chart").strip() or "chart"
    if view not in VIEWS:
        raise InvalidState(_("Unknown view “{view}”: choose chart or table.", view=view))
    extra = tuple(sorted((k, v) for k, v in query.items() if k not in CORE_KEYS and v != ""))
    return State(page=page, indicator=indicator_id, geos=geos, year=year, view=view, lang=lang, extra=extra)


def _parse_indicator(value: str) -> str:
    """An indicator id that the catalogue holds and that has data; blank means the first headline indicator."""
    if not value:
        choices = queries.headline_indicators() or queries.indicator_ids()
        if not choices:
            raise InvalidState(_("The database holds no indicator values yet; run a refresh first."))
        return choices[0]
    known = set(queries.indicator_ids(with_data=False))
    if value not in known:
        raise InvalidState(_("Unknown indicator “{value}”: it is not in the catalogue.", value=value))
    if value not in set(queries.indicator_ids()):
        raise InvalidState(_("Indicator “{value}” has no data in this database (it may be available only from the "
                             "live service).", value=value))
    return value


def _parse_geos(value: str) -> tuple[str, ...]:
    """Comma-separated country codes, each known to the geo table; blank means the BSR peer group."""
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes:
        return tuple(queries.peer_group())
    known = set(queries.countries()["code"])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidState(i18n.ngettext("Unknown country code {codes}.", "Unknown country codes {codes}.",
                                         len(unknown), codes=", ".join(unknown)))
    return tuple(dict.fromkeys(codes))  # drop repeats, keep order


def _parse_year(value: str, indicator_id: str) -> int | None:
    """A year for which the indicator has values; blank means the latest such year."""
    years = queries.available_years(indicator_id)
    if not value:
        return years[-1] if years else None
    if not is_year_text(value):
        raise InvalidState(_("“{value}” is not a year.", value=value))
    if int(value) not in years:
        span = f"{years[0]}–{years[-1]}" if years else _("none")
        raise InvalidState(_("No data for {indicator} in {year} (years with data: {span}).", indicator=indicator_id,
                             year=value, span=span))
    return int(value)
