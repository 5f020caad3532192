"""The Dash app: multi-page, all assets served locally, no I/O at import (pages build from the URL on request)."""
from __future__ import annotations

import html as markup
from pathlib import Path

import dash
from dash import Dash, dcc, html
from flask import request

from dashboard import components  # noqa: F401  (imported for its side effect: it registers the URL-sync callback)
from dashboard import i18n, registry
from dashboard.brief import register_brief_routes
from dashboard.embed import install_sharing
from dashboard.i18n import N_, _
from dashboard.serving import install_serving

PACKAGE_DIR = Path(__file__).resolve().parent
TITLE = N_("Baltic DSM Dashboard")  # registry.SITE, marked here for the catalogues
assert TITLE == registry.SITE, "the site name is spelled once in dashboard.registry"


def create_app() -> Dash:
    """Build the app (pages are imported, nothing is read: layouts are functions of the URL)."""
    app = Dash(
        "dashboard",  # package name: dash then names page modules dashboard.pages.<page>
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(PACKAGE_DIR / "assets"),
        suppress_callback_exceptions=True,  # page components come and go with the URL
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        title=TITLE,
        update_title=None,
    )
    app.layout = shell
    title_index_page(app)                # <title> of the page asked for, in the visit's language
    install_sharing(app)                 # /embed and /export routes, share callbacks, security headers
    i18n.install(app)                    # <html lang>, the visit's language cookie, the language switcher
    install_serving(app)                 # brotli/gzip, cache headers on fingerprinted files, <html lang>
    register_brief_routes(app.server)    # /brief/country/<geo>, /brief/wp/<wp> (HTML and PDF)
    return app


def title_index_page(app: Dash) -> None:
    """Dash titles its index page with the app's (English) name until the router runs: give it the page's title."""
    render_index = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        """Dash's index page titled for the path asked for (looked up, never echoed)."""
        return render_index(**{**kwargs, "title": markup.escape(registry.title_for(request.path))})

    app.interpolate_index = interpolate_index


def shell() -> html.Div:
    """Header, navigation, language switcher, page container and footer shared by all pages (in the visit's
    language; links carry a non-default language so every URL names it)."""
    lang = i18n.current()
    suffix = "" if lang == i18n.DEFAULT else f"?lang={lang}"
    return html.Div(className="app", lang=lang, children=[
        html.Header(className="app-header", children=[
            dcc.Link(_(TITLE), href="/" + suffix, className="brand"),
            html.Nav([dcc.Link(_(label), href=path + suffix, className="nav-link") for path, label in registry.navigation()],
                     className="nav"),
            i18n.language_switcher(),
        ]),
        html.Main(dash.page_container, className="app-main"),
        html.Footer(className="app-footer", children=[
            _("Data: Eurostat and the European Commission (DESI); reuse authorised with acknowledgement "
              "(Commission Decision 2011/833/EU). Map boundaries: Natural Earth (public domain). DIGINNO WP4."),
        ]),
    ])


app = create_app()
server = app.server
