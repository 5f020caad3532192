"""How responses travel: brotli/gzip compression, long-lived caching of fingerprinted files, the page's language.

`install_serving(app)` is called once by dashboard/app.py. Static files (Dash's component bundles, plotly.js,
/assets/) are compressed once per worker and kept (the set of files is fixed, so the cache is bounded by it);
pages, callback JSON and exports are compressed per response.
"""
from __future__ import annotations

import html
import logging
import re
import threading
from pathlib import Path
from typing import Any

import plotly
from flask import Flask, Response, request
from flask_compress import Compress

from dashboard import i18n

COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
                    "application/json", "image/svg+xml"]
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/embed/_assets/")
ONE_YEAR = "public, max-age=31536000, immutable"
ONE_DAY = "public, max-age=86400"
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"  # built by scripts/js/build.sh (scripts/setup.sh runs it)
PAGE_BUNDLE = "plotly-dsm.min.js"  # bar, scatter, heatmap, choropleth: every trace type the pages draw
PLOTLY_PATH = re.compile(r".*/_dash-component-suites/plotly/package_data/plotly(\.v[\w]+)?\.min\.js")
BROTLI_QUALITY = 5  # 1.4 MB of plotly.js: 453 kB in 0.4 s (quality 11: 404 kB in 16 s; gzip -6: 494 kB)


class StaticCompressionCache:
    """flask-compress cache backend that keeps only static files' compressed bodies (keys from static_cache_key)."""

    def __init__(self):
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The compressed body stored under a key, if any."""
        return self._bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        """Keep a static file's compressed body; other responses are never kept."""
        if key.split(";", 1)[-1].startswith("static:"):
            with self._lock:
                self._bodies[key] = value

    def __len__(self) -> int:
        return len(self._bodies)


def static_cache_key(req: Any) -> str:
    """'static:<path?query>' for a static file (its body depends on the URL only), a never-kept key otherwise."""
    if req.method == "GET" and req.path.startswith(STATIC_PREFIXES):
        return "static:" + req.full_path
    return "dynamic"


def page_language() -> str:
    """The language of the page being served (the visitor's: dashboard.i18n answers per request)."""
    return i18n.current()


def with_html_lang(index: str, language: str) -> str:
    """Dash's index page with <html lang="..."> set (screen readers and axe's html-has-lang need it)."""
    return index.replace("<html>", f'<html lang="{html.escape(language, quote=True)}">', 1)


def cache_headers(response: Response) -> Response:
    """Fingerprinted files (Dash's ?m=/.v<version> names) are cached a year; other static files a day."""
    if request.method != "GET" or response.status_code != 200 or not request.path.startswith(STATIC_PREFIXES):
        return response
    fingerprinted = "m" in request.args or "v" in request.args or ".v" in request.path.rsplit("/", 1)[-1]
    response.headers["Cache-Control"] = ONE_YEAR if fingerprinted else ONE_DAY
    return response


def plotly_bundle(name: str = PAGE_BUNDLE) -> bytes:
    """A partial plotly.js bundle from dashboard/vendor/, or plotly's full bundle when it has not been built."""
    path = VENDOR_DIR / name
    if path.is_file():
        return path.read_bytes()
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


def plotly_route(server: Flask) -> None:
    """dcc.Graph fetches plotly.js from a fixed URL (/_dash-component-suites/plotly/package_data/plotly.min.js);
    answer it with the partial bundle (1.4 MB, not 4.8 MB) when it is built."""
    if not (VENDOR_DIR / PAGE_BUNDLE).is_file():
        logging.getLogger(__name__).warning("%s not built (bash scripts/js/build.sh): serving plotly's full bundle",
                                            VENDOR_DIR / PAGE_BUNDLE)
        return

    @server.before_request
    def _partial_plotly():
        if request.method == "GET" and PLOTLY_PATH.fullmatch(request.path):
            response = Response(plotly_bundle(), mimetype="text/javascript")
            response.add_etag()
            return response.make_conditional(request)
        return None


def install_serving(app: Any) -> None:
    """Compression, cache headers and <html lang> on a Dash app (once)."""
    server: Flask = app.server
    if server.extensions.get("dsm_serving"):
        return
    server.extensions["dsm_serving"] = True
    server.config.update(
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=BROTLI_QUALITY,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=500,
        COMPRESS_STREAMS=True,                 # Flask sends /assets/ files as streams
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_CACHE_KEY=static_cache_key,
        COMPRESS_CACHE_BACKEND=StaticCompressionCache,
    )
    server.after_request(cache_headers)  # Flask runs after_request hooks last-registered first: Compress, then this
    Compress(server)
    plotly_route(server)
    original = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        """Dash's index page with the page language set."""
        return with_html_lang(original(**kwargs), page_language())

    app.interpolate_index = interpolate_index
