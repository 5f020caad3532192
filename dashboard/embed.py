"""Embeds and sharing: /embed/<chart>?<state> (only the chart, sized to its iframe), share controls, the install hook.

`install_sharing(app)` is the one call dashboard/app.py makes: it adds the embed and export routes, the share
controls' clientside callbacks, the callback that fills each chart card's export slot, and the security headers.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
from dash import MATCH, Input, Output, State, dcc, get_relative_path, html, strip_relative_path
from flask import Response, request

from dashboard import export, i18n, registry, render, security, serving
from dashboard.data.connection import cached
from dashboard.figures.choropleth import TOPOJSON_URL
from dashboard.i18n import _
from dashboard.state import parse_query_string, state_to_query

EMBED_ASSETS = "/embed/_assets/"
EMBED_HEIGHT = 480  # default iframe height in the copied embed code (px); the chart fills whatever it gets
EXPORT_LABELS = [("png", "PNG"), ("svg", "SVG"), ("pptx", "PowerPoint"), ("csv", "CSV"), ("xlsx", "Excel"),
                 ("html", "HTML")]

# The embed page's only script: draw the figure from the inert JSON block, sized by its container (no inline JS,
# so the page runs under script-src 'self').
EMBED_JS = """(function () {
  var holder = document.getElementById('dsm-embed-figure');
  var chart = document.getElementById('dsm-embed-chart');
  var fig = JSON.parse(holder.textContent);
  var layout = Object.assign({}, fig.layout || {}, {autosize: true});
  delete layout.width; delete layout.height;
  var config = Object.assign({responsive: true, displaylogo: false}, JSON.parse(chart.getAttribute('data-config') || '{}'));
  Plotly.newPlot(chart, fig.data || [], layout, config).then(function () {
    document.body.setAttribute('data-rendered', 'true');
  });
})();
"""
EMBED_CSS = """html, body { margin: 0; padding: 0; width: 100%; height: 100%; overflow: hidden; background: #fff;
  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; }
.dsm-embed { display: flex; flex-direction: column; width: 100vw; height: 100vh; box-sizing: border-box; }
.dsm-embed-chart { flex: 1 1 auto; min-height: 0; width: 100%; }
.dsm-embed-footer { flex: 0 0 auto; margin: 0; padding: 2px 8px 4px; font-size: 12px; color: #444; }
.dsm-embed-footer a { color: #0b5394; }
"""


# --- URLs ----------------------------------------------------------------------------------------------------------

def _relative(path: str) -> str:
    """The path under the app's URL prefix (dash.get_relative_path inside an app, the path itself outside)."""
    try:
        return get_relative_path(path)
    except Exception:  # noqa: BLE001 - outside a running app there is no prefix to apply
        return path


def embed_path(chart_name: str, query: str) -> str:
    """'/embed/<chart>?<state>' for a chart and a canonical query string ('' or '?...')."""
    return _relative(f"/embed/{quote(chart_name)}") + (query or "")


def export_path(chart_name: str, fmt: str, query: str, **params: str) -> str:
    """'/export/<chart>.<fmt>?<state>&size=..' for a chart, a format and a canonical query string."""
    extra = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v)
    query = query or ""
    if extra:
        query = (query + "&" if query else "?") + extra
    return _relative(f"/export/{quote(chart_name)}.{fmt}") + query


def embed_code(url: str, title: str, height: int = EMBED_HEIGHT) -> str:
    """The <iframe> snippet a web editor pastes to show the chart (absolute URL)."""
    return (f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" '
            f'height="{height}" style="border:0;max-width:100%" loading="lazy"></iframe>')


# --- share controls ----------------------------------------------------------------------------------------------

def _query_of(state: Any) -> str:
    """Canonical query string of a State, or a raw '?...' string passed through."""
    if isinstance(state, str):
        return state if not state or state.startswith("?") else "?" + state
    return state_to_query(state)


def share_controls(chart_name: str, state: Any, *, title: str = "", include_link: bool = True,
                   instance: str = "") -> html.Div:
    """'Copy link', 'Copy embed code' and download links for one chart in one state (a State or a '?query')."""
    query = _query_of(state)
    page = getattr(state, "page", None) if not isinstance(state, str) else None
    full_path = _relative(page) + query if page else None
    key = {"chart": chart_name, "instance": instance}
    copies = []
    if include_link and full_path:
        copies.append(_copy_button("link", key, full_path, title, _("Copy link"), _("Copy a link to this view")))
    copies.append(_copy_button("embed", key, embed_path(chart_name, query), title, _("Copy embed code"),
                               _("Copy an <iframe> snippet that shows this chart on another web page")))
    downloads = [html.A(label, href=export_path(chart_name, fmt, query, size="slide169" if fmt in ("png", "svg") else ""),
                        className=f"export-link export-{fmt}", download="", rel="nofollow",
                        title=(_("Download {format} (16:9 slide)", format=label) if fmt in ("png", "svg", "pptx")
                               else _("Download {format}", format=label)))
                 for fmt, label in EXPORT_LABELS]
    return html.Div(className="share-controls", **{"data-chart": chart_name}, children=[
        html.Div(copies, className="share-copy"),
        html.Div([html.Span(_("Download:") + " ", className="export-label"), *downloads], className="share-downloads"),
    ])


def _copy_button(kind: str, key: dict, path: str, title: str, label: str, tooltip: str) -> html.Span:
    """A labelled clipboard button whose text is made absolute in the browser (it knows the origin)."""
    ident = {**key, "kind": kind}
    path = security.public_base_url() + path
    return html.Span(className=f"share-copy-{kind}", children=[
        dcc.Store(id={"type": "dsm-share-path", **ident}, data={"path": path, "title": title}),
        dcc.Clipboard(id={"type": "dsm-share-copy", **ident}, title=tooltip, className=f"copy-{kind}",
                      style={"display": "inline-block"}),
        html.Span(label, className="share-copy-label"),
    ])


# Clientside: the stored path is absolute when DSM_PUBLIC_URL is set, else made so from the browser's own origin;
# the embed kind wraps it in an <iframe> snippet.
COPY_JS = """function (n, stored, id) {
  if (!n || !stored) { return window.dash_clientside.no_update; }
  var url = /^https?:[/][/]/.test(stored.path) ? stored.path : window.location.origin + stored.path;
  if (id.kind !== 'embed') { return url; }
  var esc = function (s) { return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'); };
  return '<iframe src="' + esc(url) + '" title="' + esc(stored.title || 'Baltic DSM Dashboard chart') +
    '" width="100%" height="%HEIGHT%" style="border:0;max-width:100%" loading="lazy"></iframe>';
}""".replace("%HEIGHT%", str(EMBED_HEIGHT))


def register_share_callbacks(app: Any) -> None:
    """The clientside copy callback of every share control, and the filler of the chart cards' export slot."""
    app.clientside_callback(
        COPY_JS,
        Output({"type": "dsm-share-copy", "chart": MATCH, "instance": MATCH, "kind": MATCH}, "content"),
        Input({"type": "dsm-share-copy", "chart": MATCH, "instance": MATCH, "kind": MATCH}, "n_clicks"),
        State({"type": "dsm-share-path", "chart": MATCH, "instance": MATCH, "kind": MATCH}, "data"),
        State({"type": "dsm-share-copy", "chart": MATCH, "instance": MATCH, "kind": MATCH}, "id"),
        prevent_initial_call=True,
    )

    # components.share_slot's own "copy-link" clipboard: the link is the page's current URL (it carries the state).
    app.clientside_callback(
        "function (n) { return n ? window.location.href : window.dash_clientside.no_update; }",
        Output("copy-link", "content"),
        Input("copy-link", "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("export-slot", "children"),
        Input("_pages_location", "pathname"),
        Input("_pages_location", "search"),
    )
    def fill_export_slot(pathname, search):
        """Share controls of the chart on the current page (components.share_slot leaves the slot empty)."""
        chart_name = chart_for_page(_strip_prefix(pathname or "/"))
        if chart_name is None:
            return []
        search = search if isinstance(search, str) else ""
        with i18n.use(i18n.resolve(_query_dict(search).get("lang"))):  # the page's language, not the cookie's
            return export_slot_controls(chart_name, search)


@cached
def export_slot_controls(chart_name: str, search: str):
    """Share controls of one chart in one URL state, cached per database version (building the figure is costly)."""
    try:
        view = export.resolve_view(chart_name, _query_dict(search))
    except export.ExportError:
        return []  # the page itself shows the friendly error for a bad URL
    return share_controls(chart_name, view.state, title=view.title, include_link=False)


def _strip_prefix(pathname: str) -> str:
    """The page path without the app's URL prefix."""
    try:
        return "/" + (strip_relative_path(pathname) or "")
    except Exception:  # noqa: BLE001
        return pathname


def _query_dict(search: str | None) -> dict:
    """'?a=1&b=2' -> {'a': '1', 'b': '2'}."""
    return parse_query_string(search)


def chart_for_page(page: str) -> str | None:
    """The chart shown on a page path (the first the page declares when it has several)."""
    declared = registry.pages().get(page)
    return declared.charts[0].name if declared and declared.charts else None


# --- the embed page ----------------------------------------------------------------------------------------------

def embed_figure(fig: go.Figure) -> go.Figure:
    """The chart's figure made to fill its frame: no fixed size, autosize on."""
    out = go.Figure(fig)
    out.update_layout(width=None, height=None, autosize=True)
    return out


def graph_config(fig: go.Figure) -> dict:
    """plotly.js config for the embed: maps read topojson from the app's own assets (no CDN)."""
    if export.has_geo(fig):
        return {"topojsonURL": _relative(TOPOJSON_URL)}
    return {}


def embed_html(view: export.ChartView, full_url: str) -> str:
    """The embed page: the chart filling the frame, then a link back to the full view."""
    esc = escape
    fig = embed_figure(view.figure)
    figure_json = fig.to_json().replace("</", "<\\/")
    config = json.dumps(graph_config(fig))
    footer = _("{title} — open the full view in the Baltic DSM Dashboard", title=view.title)
    return f"""<!DOCTYPE html>
<html lang="{esc(i18n.current())}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(page_title(view))}</title>
<link rel="stylesheet" href="{esc(_relative(EMBED_ASSETS + 'embed.css'))}">
<script src="{esc(_relative(EMBED_ASSETS + embed_bundle(fig)))}"></script>
</head><body>
<main class="dsm-embed" data-chart="{esc(view.name)}">
<div id="dsm-embed-chart" class="dsm-embed-chart" data-config="{esc(config)}" role="img" aria-label="{esc(view.title)}"></div>
<p class="dsm-embed-footer"><a href="{esc(full_url)}" target="_blank" rel="noopener">{esc(footer)}</a></p>
</main>
<script type="application/json" id="dsm-embed-figure">{figure_json}</script>
<script src="{esc(_relative(EMBED_ASSETS + 'embed.js'))}"></script>
</body></html>
"""


def page_title(view: export.ChartView) -> str:
    """The embed page's <title>: 'Households with internet access, 2024 · Baltic DSM Dashboard'."""
    return _("{title} · {site}", title=export.plain_text(view.title), site=_(registry.SITE))


def embed_bundle(fig: go.Figure) -> str:
    """The plotly.js bundle an embed of this figure needs: the map's (geo) or the x/y charts' (cartesian)."""
    return "plotly-geo.min.js" if export.has_geo(fig) else "plotly-cartesian.min.js"


EMBED_ASSET_BODIES = {
    "embed.js": (lambda: EMBED_JS.encode("utf-8"), "text/javascript; charset=utf-8"),
    "embed.css": (lambda: EMBED_CSS.encode("utf-8"), "text/css; charset=utf-8"),
    # partial bundles from dashboard/vendor/ (plotly's full bundle until scripts/js/build.sh has built them)
    "plotly-geo.min.js": (lru_cache(maxsize=1)(lambda: serving.plotly_bundle("plotly-geo.min.js")),
                          "text/javascript; charset=utf-8"),
    "plotly-cartesian.min.js": (lru_cache(maxsize=1)(lambda: serving.plotly_bundle("plotly-cartesian.min.js")),
                                "text/javascript; charset=utf-8"),
}


def embed_asset(name: str) -> Response:
    """One static file of the embed page (cached by the browser for a day)."""
    if name not in EMBED_ASSET_BODIES:
        return export.plain_error(_("No embed asset '{name}'.", name=name), 404)
    body, media_type = EMBED_ASSET_BODIES[name]
    response = Response(body(), headers={"Content-Type": media_type})
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


PATH_DATA = re.compile(r'( d=")([^"]*)"')
DECIMALS = re.compile(r"(\.\d)\d+")
STATIC_CSS = ("body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;background:#fff}"
              "figure{margin:0}svg{display:block;width:100%;height:auto}"
              "p{margin:2px 8px 4px;font-size:12px}a{color:#0b5394}")


def static_svg(view: export.ChartView) -> str:
    """The chart as an SVG element (title, source line and flag legend drawn in), cached per state and database."""
    request = export.ExportRequest(chart=view.name, fmt="svg", size=registry.chart(view.name).image_size)
    body = export.export_bytes(view, request).decode("utf-8")
    # path coordinates to 0.1 px: a map's country outlines shrink to about a third, drawn the same at screen size
    body = PATH_DATA.sub(lambda m: m.group(1) + DECIMALS.sub(r"\1", m.group(2)) + '"', body)
    return body[body.index("<svg"):]


def static_embed_html(view: export.ChartView, full_url: str) -> str:
    """/embed/<chart>?<state>&static=1: the chart as inline SVG with its title and a link to the interactive view;
    no script at all (for pages and slide tools that must not run one)."""
    esc = export._html_escape
    footer = _("{title} — open the interactive view in the Baltic DSM Dashboard", title=view.title)
    return f"""<!DOCTYPE html>
<html lang="{esc(i18n.current())}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(page_title(view))}</title><style>{STATIC_CSS}</style></head><body>
<figure role="img" aria-label="{esc(view.title)}" data-chart="{esc(view.name)}">{static_svg(view)}</figure>
<p><a href="{esc(full_url)}" target="_blank" rel="noopener">{esc(footer)}</a></p>
</body></html>
"""


def embed_response(chart_name: str, args: dict) -> Response:
    """The Flask response for /embed/<chart>?<state>[&static=1]: the page, or a plain 4xx/503 message."""
    static = args.get("static", "")
    if static not in ("", "0", "1"):
        return export.plain_error(_("static={value}: use static=1 for the script-free SVG embed.", value=repr(static)),
                                  400)
    try:
        view = export.resolve_view(chart_name, args)
        full_url = security.public_base_url() + _relative(view.href())
        page = static_embed_html(view, full_url) if static == "1" else embed_html(view, full_url)
    except export.ExportError as exc:
        return export.plain_error(str(exc), exc.status)
    except render.RenderError as exc:
        response = export.plain_error(str(exc), exc.status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return Response(page, headers={"Content-Type": "text/html; charset=utf-8"})


def register_embed_routes(app: Any) -> None:
    """GET /embed/<chart>?<state> and its static assets on the Dash app's Flask server."""
    server = getattr(app, "server", app)
    prefix = getattr(getattr(app, "config", None), "routes_pathname_prefix", "/") or "/"
    server.add_url_rule(f"{prefix}embed/_assets/<name>", "dsm_embed_asset", embed_asset, methods=["GET"])
    server.add_url_rule(f"{prefix}embed/<chart_name>", "dsm_embed_chart",
                        lambda chart_name: embed_response(chart_name, request.args.to_dict()), methods=["GET"])


def install_sharing(app: Any) -> None:
    """Everything sharing needs on a Dash app: embed + export routes, share callbacks, security headers (once)."""
    server = getattr(app, "server", app)
    if "dsm_export_chart" in server.view_functions:
        return
    register_embed_routes(app)
    export.register_export_routes(app)
    register_share_callbacks(app)
    security.apply_security_headers(app)
