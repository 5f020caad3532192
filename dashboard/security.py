"""Response headers for every response: a tight Content-Security-Policy, and framing allowed only on /embed/*.

Why each CSP source is there (checked in real Chromium, tests/dashboard/test_security.py and tests/e2e/):
- script-src 'self' + sha256 hashes: Dash's index page runs exactly one inline script per clientside
  callback plus `var renderer = new DashRenderer(...)`; `Dash.csp_hashes()` hashes them, so no
  'unsafe-inline' is needed. Neither Dash 4 nor plotly.js (cartesian and geo traces) needs 'unsafe-eval'.
- style-src 'unsafe-inline': React renders `style=` attributes and plotly.js injects <style> elements.
- img-src data: blob:: plotly's modebar icons and "download plot" use data/blob URLs.
"""
from __future__ import annotations

import json
import os
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import dash
from dash import strip_relative_path
from dash.exceptions import DependencyException
from flask import Flask, Response, request

from dashboard.i18n import _, ngettext

EMBED_PREFIX = "/embed/"
# Bounds checked before anything is parsed (a client's mistake is a plain 4xx, never a 500).
MAX_BODY_BYTES = 1024 * 1024   # a callback request is a few kB; Flask refuses larger bodies with 413 as well
MAX_JSON_DEPTH = 32            # the deepest callback body Dash sends is about 6 levels (pattern-matching ids)
MAX_URL_CHARS = 4096           # path + query; gunicorn's limit_request_line (serving.py) is above this
CALLBACK_SUFFIX = "/_dash-update-component"
COMPONENT_SUITES = "/_dash-component-suites/"

BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def public_base_url() -> str:
    """The site's public origin for absolute links ($DSM_PUBLIC_URL, e.g. https://dsm.example.org), '' when unset.

    Links are never built from the request's Host header (a client can send any Host)."""
    value = os.environ.get("DSM_PUBLIC_URL", "").strip().rstrip("/")
    if value:
        parts = urlsplit(value)
        assert parts.scheme in ("http", "https") and parts.netloc, f"DSM_PUBLIC_URL={value!r} is not an http(s) URL"
    return value


def is_embed_path(path: str) -> bool:
    """True for the only routes other sites may put in an iframe."""
    return path.startswith(EMBED_PREFIX)


LOCATION_PROPERTIES = ("pathname", "search", "hash", "href")
_SCALAR = (str, int, float)
# JSON types a browser sends for the component properties our callbacks read; anything else is a forged request.
PROPERTY_TYPES: dict[str, Any] = {
    **{name: lambda v: isinstance(v, str) for name in LOCATION_PROPERTIES},
    "n_clicks": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "value": lambda v: isinstance(v, _SCALAR) and not isinstance(v, bool)
    or isinstance(v, list) and all(isinstance(x, _SCALAR) and not isinstance(x, bool) for x in v),
    "data": lambda v: isinstance(v, (dict, list, str, int, float)),
    "id": lambda v: isinstance(v, (dict, str)),
}
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when a JSON text nests arrays/objects deeper than `limit` (counted on the bytes, before parsing)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def well_typed_values(body: dict) -> bool:
    """True when every input and state value in a callback request body has the type its property takes."""
    items = []
    for part in (body.get("inputs"), body.get("state")):
        if part is None:
            continue
        if not isinstance(part, list):
            return False
        for item in part:
            items.extend(item if isinstance(item, list) else [item])
    for item in items:
        if not isinstance(item, dict):
            return False
        check = PROPERTY_TYPES.get(item.get("property"))
        if check is not None and item.get("value") is not None and not check(item.get("value")):
            return False
        if item.get("property") == "pathname" and isinstance(item.get("value"), str) \
                and not item["value"].startswith("/") and "_pages_content" in str(body.get("output", "")):
            return False  # dash's page router raises (a 500) on a path outside its prefix
    return True


def callback_refusal(raw: bytes, known_outputs: Any) -> str | None:
    """Why a /_dash-update-component body is refused (too deep, not JSON, unknown output, wrong types), else None."""
    if json_too_deep(raw):
        return _("Malformed callback request: nested too deeply.")
    try:
        body = json.loads(raw)
    except ValueError:
        return _("Malformed callback request: not JSON.")
    if not isinstance(body, dict) or not well_typed_values(body):
        return _("Malformed callback request.")
    if not isinstance(body.get("output"), str) or body["output"] not in known_outputs:
        return _("Malformed callback request: unknown output.")
    return None


def build_policy(script_hashes: list[str], *, frameable: bool) -> str:
    """The Content-Security-Policy header value, with framing open (embeds) or closed (everything else)."""
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    policy["script-src"] += script_hashes
    policy["frame-ancestors"] = ["*"] if frameable else ["'none'"]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


class _ScriptHashes:
    """Hashes of the Dash app's inline scripts, computed once on the first response (all callbacks exist by then)."""

    def __init__(self, dash_app: Any | None):
        self._dash_app = dash_app
        self._hashes: list[str] | None = None
        self._lock = threading.Lock()

    def get(self) -> list[str]:
        """The 'sha256-...' sources for script-src."""
        if self._hashes is None:
            with self._lock:
                if self._hashes is None:
                    self._hashes = list(self._dash_app.csp_hashes()) if self._dash_app is not None else []
        return self._hashes


def apply_security_headers(app: Any) -> None:
    """Set the security headers on every response of a Dash app (preferred: script hashes) or a bare Flask server."""
    server: Flask = app if isinstance(app, Flask) else app.server
    dash_app = None if isinstance(app, Flask) else app
    assert isinstance(server, Flask), f"apply_security_headers needs a Dash app or a Flask server, got {type(app)!r}"
    if server.extensions.get("dsm_security_headers"):
        return  # installing twice would only duplicate work
    server.extensions["dsm_security_headers"] = True
    hashes = _ScriptHashes(dash_app)

    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @server.before_request
    def _refuse_malformed_requests():
        """Too long a URL (414), too big a body (413), a forged callback request (400): plain text, nothing parsed."""
        if len(request.full_path) > MAX_URL_CHARS:
            return plain(ngettext("The address is too long (more than {n} character).",
                                  "The address is too long (more than {n} characters).", MAX_URL_CHARS), 414)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return plain(ngettext("The request body is too large (more than {n} byte).",
                                  "The request body is too large (more than {n} bytes).", MAX_BODY_BYTES), 413)
        if request.method == "POST" and request.path.endswith(CALLBACK_SUFFIX):
            known = dash_app.callback_map if dash_app is not None else ()
            refusal = callback_refusal(request.get_data(cache=True), known)
            if refusal:
                return plain(refusal, 400)
        return None

    if dash_app is not None:
        install_not_found(server, dash_app)

    @server.after_request
    def _set_security_headers(response: Response) -> Response:
        frameable = is_embed_path(request.path)
        response.headers["Content-Security-Policy"] = build_policy(hashes.get(), frameable=frameable)
        if frameable:
            response.headers.pop("X-Frame-Options", None)
        else:
            response.headers["X-Frame-Options"] = "DENY"
        for name, value in STATIC_HEADERS.items():
            response.headers[name] = value
        return response


def plain(message: str, status: int) -> Response:
    """A one-line text/plain answer."""
    return Response(message + "\n", status=status, mimetype="text/plain")


def is_page_path(path: str) -> bool:
    """True when a path (without the app's URL prefix) is one of the registered pages."""
    path = "/" + path.strip("/") if path not in ("", "/") else "/"
    return any(page["path"] == path and page["path"] != "/404" for page in dash.page_registry.values())


def install_not_found(server: Flask, dash_app: Any) -> None:
    """Unknown paths answer 404 (the index still loads, so dash shows the friendly not-found page); a bad path under
    /_dash-component-suites/ is a plain 404, not Dash's 500."""
    @server.errorhandler(DependencyException)
    def _unknown_component_file(_exc):
        return plain(_("No such file."), 404)

    @server.after_request
    def _not_found_status(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else ""
        if request.method == "GET" and response.status_code == 200 and rule.endswith("<path:path>"):
            if not is_page_path("/" + (strip_relative_path(request.path) or "")):
                response.status_code = 404
        return response
