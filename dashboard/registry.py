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

from dashboard.data.connection import cached
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.state import State, parse_state

SITE = "Baltic DSM Dashboard"


@dataclass(frozen=True)
class Chart:
    """One renderable chart: where its data comes from, how it is drawn, which page shows it."""

    name: str
    title: str
    data: Callable[[State], tuple[pd.DataFrame, ChartMeta]]   # in dashboard/data/charts.py
    figure: Callable[[pd.DataFrame, ChartMeta], go.Figure]    # in dashboard/figures/
    page: str = ""  # set by register_page(): the path of the page that declares the chart


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
