"""Shared page pieces: URL-bound controls, chart card with chart/table toggle, side panel, friendly error."""
from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from contextvars import ContextVar
from typing import Iterator
from urllib.parse import urlencode

import pandas as pd
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from dashboard import embed, i18n, registry
from dashboard.data import profile, queries
from dashboard.data.connection import DatabaseMissing, cached, clear_cache, database_version, remember
from dashboard.columns import table_heading
from dashboard.i18n import _
from dashboard.state import InvalidState, href, parse_query_string

PAGES_LOCATION = "_pages_location"  # the dcc.Location of dash's page_container (refresh="callback-nav")
# Changing the key on the left drops the keys on the right from the URL, so they fall back to their defaults
# (a year valid for one indicator may not exist for the next).
RESETS = {"indicator": ("year",)}
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def url_control_id(key: str) -> dict:
    """Id of a control whose value is the URL parameter `key`; the one sync_url callback writes it to the URL."""
    return {"type": "url-control", "key": key}


@callback(
    Output(PAGES_LOCATION, "search", allow_duplicate=True),
    Input({"type": "url-control", "key": ALL}, "value"),
    State({"type": "url-control", "key": ALL}, "id"),
    State(PAGES_LOCATION, "search"),
    State("view-state", "data"),
    prevent_initial_call=True,
)
def sync_url(values, ids, search, view_state):
    """Write the controls the user changed into the query string (a history entry, so back/forward work)."""
    rendered = view_state.get("controls") if isinstance(view_state, dict) else None
    rendered = rendered if isinstance(rendered, dict) else {}  # a forged view-state must not break the URL sync
    new_search = query_with_controls(search, [i["key"] for i in ids], values, rendered)
    return no_update if new_search is None else new_search


def query_with_controls(search: str | None, keys: list[str], values: list, rendered: dict[str, str]) -> str | None:
    """The new query string, or None when no control differs from what the page was rendered with.

    Controls are compared with the page's own rendering (not with the URL, which may leave defaults out), so a
    page appearing never rewrites its URL; only keys the user changed are written, lists comma-joined.
    """
    changed = {k: _as_param(v) for k, v in zip(keys, values) if _as_param(v) != rendered.get(k, "")}
    if not changed:
        return None
    query = parse_query_string(search)
    for key, text in changed.items():
        query.pop(key, None) if text == "" else query.__setitem__(key, text)
    for dropped in (d for key in changed for d in RESETS.get(key, ())):
        query.pop(dropped, None)
    return "?" + urlencode(list(query.items()), safe=",") if query else ""


def walk(tree) -> Iterator:
    """Every component in a tree, in document order (lists flattened; text and numbers are not components)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(reversed(node))
            continue
        if node is None or isinstance(node, (str, int, float)):
            continue
        yield node
        children = getattr(node, "children", None)
        if children is not None:
            stack.append(children)


def control_values(component) -> dict[str, str]:
    """{key: URL text} of every URL-bound control inside a component tree (what the page was rendered with)."""
    found: dict[str, str] = {}
    for node in walk(component):
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == "url-control":
            found[node_id["key"]] = _as_param(getattr(node, "value", None))
    return found


def _as_param(value) -> str:
    """A control value as URL text: lists comma-joined, None/[] as ''."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def dropdown(key: str, options, value, *, label: str, multi: bool = False, clearable: bool = False,
             placeholder: str | None = None) -> html.Div:
    """A labelled, searchable URL-bound dropdown (options: list of (value, label) or dicts); `placeholder` says
    what an empty choice means."""
    opts = [o if isinstance(o, dict) else {"value": o[0], "label": o[1]} for o in options]
    return html.Div(className=f"control control-{key}", children=[
        html.Label(label, htmlFor=f"control-{key}"),
        dcc.Dropdown(id=url_control_id(key), options=opts, value=value, multi=multi, clearable=clearable,
                     searchable=True, persistence=False, placeholder=placeholder or _("Type to search…")),
    ])


def indicator_control(state) -> html.Div:
    """The indicator dropdown of a one-indicator page (every indicator with data, grouped by theme)."""
    return dropdown("indicator", indicator_options(), state.indicator, label=_("Indicator"))


def year_control(state) -> html.Div:
    """The year dropdown of a one-indicator page (the years the indicator has values, newest first)."""
    return dropdown("year", year_options(state.indicator), state.year, label=_("Year"))


def view_toggle(view: str) -> dcc.RadioItems:
    """Chart/table switch bound to the URL's `view` parameter."""
    return dcc.RadioItems(
        id=url_control_id("view"), className="view-toggle", inline=True, value=view,
        options=[{"label": _("Chart"), "value": "chart"}, {"label": _("Table"), "value": "table"}],
    )


def data_table(df: pd.DataFrame, *, table_id: str | None = None, max_rows: int = 500) -> html.Table:
    """The chart's rows as a plain HTML table (flags in their own column, missing shown as ':')."""
    assert len(df) <= max_rows, f"table of {len(df)} rows is too long for a page; aggregate first"
    header = html.Thead(html.Tr([html.Th(table_heading(c)) for c in df.columns]))
    flag_columns = [str(c).lower().endswith("flags") for c in df.columns]
    body = html.Tbody([html.Tr([html.Td(_cell(v, no_value="—" if is_flag else ":"))
                                for v, is_flag in zip(row, flag_columns)]) for row in df.itertuples(index=False)])
    return html.Table([header, body], id=table_id or "data-table", className="data-table")


def _cell(value, no_value: str = ":") -> str:
    """Table cell text: ':' for a missing value (Eurostat's notation), '—' for no flag, numbers to 2 decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or (no_value == "—" and value == ""):
        return no_value
    if isinstance(value, float):
        return i18n.format_number(value, 2)  # the locale's decimal and group separators
    return str(value)


def chart_card(name: str, figure, table: pd.DataFrame, *, view: str, source: str, graph_config: dict | None = None,
               note=None) -> html.Section:
    """A chart (or its table) with the chart/table toggle, source line, and its own share and download controls."""
    config = {**GRAPH_CONFIG, **(graph_config or {})}
    body = (dcc.Graph(id=f"{name}-graph", figure=figure, config=config, className="chart")
            if view == "chart" else data_table(table, table_id=f"{name}-table"))
    return html.Section(className="chart-card", **{"data-chart": name}, children=[
        html.Div(className="chart-card-bar", children=[_card_view_toggle(view),
                                                       share_slot(name, title=_figure_title(figure))]),
        body,
        # one source line per chart: the figure's own (whole, with the update date) or, in table view, this one
        "" if view == "chart" and _figure_has_source(figure) else html.P(source, className="source-line"),
        note or "",
    ])


# The state of the page being built (components.guarded sets it): every chart card of the page gets its own share
# and download controls for that state, not only the first card.
_building: ContextVar = ContextVar("dsm_page_state", default=None)


def share_slot(chart_name: str, *, title: str = "") -> html.Div:
    """'Copy link' and 'Copy embed code' (labelled in text) and the downloads of one chart in the page's state; the
    export/embed module's `export-slot` hook when no page state is known (a card built outside a page)."""
    state = _building.get()
    if state is not None and chart_name in registry.charts():
        return html.Div(className="share", children=[
            embed.share_controls(chart_name, state, title=title or registry.chart(chart_name).title,
                                 instance=chart_name)])
    return html.Div(className="share", children=[
        dcc.Clipboard(id="copy-link", title=_("Copy a link to this view"), className="copy-link",
                      children=_("Copy link")),
        html.Div(id="export-slot", className="export-slot", **{"data-chart": chart_name}),
    ])


def _figure_has_source(figure) -> bool:
    """Whether a figure prints its source line itself (figures.common.make_figure's 'source' annotation)."""
    if figure is None:
        return False
    layout = figure.get("layout", {}) if isinstance(figure, dict) else figure.to_plotly_json().get("layout", {})
    return any(isinstance(a, dict) and a.get("name") == "source" and a.get("text")
               for a in layout.get("annotations", ()) or ())


def _figure_title(figure) -> str:
    """A figure's title text without markup ('' for none or a table view)."""
    if figure is None:
        return ""
    layout = figure.get("layout", {}) if isinstance(figure, dict) else figure.to_plotly_json().get("layout", {})
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title or "")
    return re.sub(r"<[^>]+>", " ", text).strip()


def side_panel() -> html.Aside:
    """Slot where the findings/insights module lists what applies to the current view."""
    return html.Aside(id="side-panel", className="side-panel", children=[])


def page(title: str, *, intro=None, controls=(), body=(), state_data: dict | None = None, panel: bool = True) -> html.Div:
    """Standard page frame: heading, intro, controls row, main body, findings side panel, state store."""
    main = html.Div(className="page-main", children=[
        html.H1(title),
        html.P(intro, className="intro") if intro else "",
        html.Div(list(controls), className="controls") if controls else "",
        *list(body),
    ])
    return html.Div(className="page", children=[
        main,
        side_panel() if panel else "",
        dcc.Store(id="view-state", data={**(state_data or {}), "lang": i18n.current(),
                                         "controls": control_values([controls, body])}),
    ])


def friendly_error(message: str, back_href: str = "/", *, back_label: str | None = None) -> html.Div:
    """A plain-language message for a URL that asks for something that does not exist, and a way back."""
    return html.Div(className="friendly-error", role="alert", children=[
        html.H1(_("This view is not available")),
        html.P(message, className="friendly-error-message"),
        dcc.Link(back_label or _("Back to the default view"), href=back_href, className="back-link"),
    ])


def flag_legend(flags: pd.DataFrame) -> html.Details:
    """Collapsible list of every Eurostat flag letter and its meaning in the current language."""
    return html.Details(className="flag-legend", children=[
        html.Summary(_("What the flag letters mean")),
        html.Dl([item for row in flags.itertuples(index=False)
                 for item in (html.Dt(row.flag), html.Dd(i18n.flag_meaning(row.flag)))]),
    ])


def guarded(build, query: dict, page_path: str):
    """Parse the URL into the page's State (dashboard.registry) and build the page; a bad URL or a missing
    database gives a friendly message."""
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}  # repeated keys: last wins
    query["lang"] = i18n.resolve(query.get("lang"))  # the URL's, else the visit's: one page build per language
    try:
        with i18n.use(query["lang"]):
            key = (page_path, f"{build.__module__}.{build.__qualname__}", _frozen(query))
            try:
                return _remembered_page(key, lambda: _build_in_state(build, registry.PAGES[page_path].state(query)))
            except InvalidState as exc:
                return friendly_error(str(exc), page_path)
            except DatabaseMissing:
                return friendly_error(_("No data has been loaded yet: run `dsm refresh` and reload this page."),
                                      page_path, back_label=_("Try again"))
    finally:
        warm_in_background()  # after the first page is built, so the warm-up does not slow that page down


def page_layout(build, page_path: str):
    """A page's Dash layout function: the URL query -> `guarded(build, ...)` (the page, or a friendly message)."""

    def layout(**query):
        """The page for a URL query; a bad parameter gives a friendly message."""
        return guarded(build, query, page_path)

    return layout


_cards: ContextVar = ContextVar("dsm_page_cards", default=None)  # chart cards built so far on the page


def _build_in_state(build, state):
    """Build a page with its state known to the chart cards inside it (their share controls link that state)."""
    token, cards = _building.set(state), _cards.set([])
    try:
        return build(state)
    finally:
        _building.reset(token), _cards.reset(cards)


def _card_view_toggle(view: str):
    """The chart/table switch of a card: the page's URL-bound toggle on its first card; on the next cards (ids are
    one per page) the same choice as two links to this state in chart and in table view."""
    state, built = _building.get(), _cards.get()
    if built is None or state is None:
        return view_toggle(view)
    built.append(view)
    if len(built) == 1:
        return view_toggle(view)
    return html.Div(className="view-toggle view-links", children=[
        dcc.Link(label, href=href(state.with_(view=choice)),
                 className="view-link view-link-current" if choice == view else "view-link")
        for choice, label in (("chart", _("Chart")), ("table", _("Table")))])


PAGE_CACHE_MAX_KEY = 2000  # longer URL queries are built every time rather than filling the cache


def _frozen(mapping: dict) -> tuple:
    """A hashable, order-independent form of a URL query or options dict."""
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


def _remembered_page(key: tuple, make):
    """A built page per (page, URL query, database version): a layout is a pure function of those, so concurrent
    visitors of a popular view share one build (Dash only serialises the tree, it never changes it)."""
    if len(repr(key)) > PAGE_CACHE_MAX_KEY:
        return make()
    return remember(("page", *key), make)  # InvalidState and DatabaseMissing propagate: only good pages are kept


@cached
def indicator_options(ids: tuple[str, ...] | None = None) -> list[dict]:
    """Dropdown options for every indicator with data (or those of `ids`): titles, not ids, grouped under their
    theme (a heading that cannot be chosen), themes and titles in alphabetical order; searching finds the title,
    the id or the theme."""
    cat = queries.catalogue()
    cat = cat[cat["has_data"] & (cat["id"].isin(ids) if ids is not None else True)]
    themes = cat["theme"].map(lambda t: i18n.theme_label(t) if isinstance(t, str) and t else _("Other"))
    cat = cat.assign(title=cat["title"].fillna(cat["id"]), theme_name=themes)
    options = []
    for theme, group in sorted(cat.groupby("theme_name"), key=lambda item: _sort_key(item[0])):
        options.append({"value": f"{THEME_HEADING}{theme}", "label": theme, "disabled": True})
        options += [{"value": i, "label": t, "search": f"{t} {i} {theme}", "title": t}
                    for i, t in sorted(zip(group["id"], group["title"]), key=lambda it: _sort_key(it[1]))]
    return options


THEME_HEADING = "theme:"  # value prefix of the theme headings in the indicator dropdown (never an indicator id)


def _sort_key(text: str) -> tuple:
    """Alphabetical order that ignores case and accents in any of the ten languages."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return (plain.casefold(), str(text))


@cached
def country_options(include_aggregates: bool = False) -> list[dict]:
    """Dropdown options for countries (and aggregates when asked): 'Name (code)' in alphabetical order of the
    names in the page's language; searching finds the name or the code."""
    geo = queries.countries()
    if not include_aggregates:
        geo = geo[~geo["is_aggregate"]]
    names = queries.geo_names()  # the EU27 by its short name, as the charts call it
    named = sorted(((code, names.get(code, code)) for code in geo["code"]), key=lambda cn: _sort_key(cn[1]))
    return [{"value": c, "label": f"{n} ({c})", "search": f"{n} {c}"} for c, n in named]


@cached
def year_options(indicator_id: str) -> list[dict]:
    """Dropdown options for the years in which the indicator has values, newest first."""
    return [{"value": y, "label": str(y)} for y in reversed(queries.available_years(indicator_id))]


# ---------------------------------------------------------------- warming the per-database-version aggregates

_warmed_versions: set[tuple] = set()
_warm_lock = threading.Lock()


def _warm_steps() -> list:
    """The aggregates every page shares, computed once per database version, in the order pages need them."""
    return [queries.catalogue, queries.headline_indicators, queries.all_bsr_averages, profile.all_profiles,
            profile.profile_countries, profile.desi_scores, profile.desi_totals, profile.desi_editions,
            profile.all_provenance, profile.dataset_updates, indicator_options, country_options,
            profile.export_zip]  # the sources page's zip last: it is the slowest (~1 s) and the least visited


def warm_in_background() -> threading.Thread | None:
    """Start computing the shared aggregates in a daemon thread, once per database version (None when already
    started or there is no database): the first visitor of a fresh worker then does not wait for all of them.

    Called on the first page request, never at import: importing the app must not read data."""
    try:
        version = database_version()
    except DatabaseMissing:
        return None
    with _warm_lock:
        if version in _warmed_versions:
            return None
        _warmed_versions.add(version)
    thread = threading.Thread(target=_warm, args=(version,), name="dsm-warm-up", daemon=True)
    thread.start()
    return thread


def _warm(version: tuple) -> None:
    """Run every warm-up step while the database stays the one the warm-up started for."""
    for step in _warm_steps():
        try:
            step()
        except DatabaseMissing:  # removed meanwhile: the next page says so
            return
        except Exception:  # a warm-up failure must not kill anything: the page that needs it computes it, or says why
            logging.getLogger(__name__).exception("warm-up step %s failed", getattr(step, "__name__", step))
            return
        if not _still(version, database_version):
            # the file was swapped during the step: its result may sit under the old version's key, so drop it
            clear_cache()
            return


def _still(version: tuple, database_version) -> bool:
    """Whether the database file is still the given version (False when it has gone)."""
    try:
        return database_version() == version
    except DatabaseMissing:
        return False
