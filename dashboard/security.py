"""Response headers for every response: a tight Content-Security-Policy, and framing allowed only on /embed/*.

Why each CSP source is there (checked in real Chromium, tests/dashboard/test_security.py and tests/e2e/):
- script-src 'self' + sha256 hashes: Dash's index page runs exactly one inline script per clientside
  callback plus `var renderer = new DashRenderer(...)`; `Dash.csp_hashes()` hashes them, so no
  'unsafe-inline' is needed. Neither Dash 4 nor plotly.js (cartesian and geo traces) needs 'unsafe-eval'.
- style-src 'unsafe-inline': React renders `style=` attributes and plotly.js injects <style> elements.
- img-src data: blob:: plotly's modebar icons and "download plot" use data/blob URLs.
"""
from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, request

EMBED_PREFIX = "/embed/"

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


def is_embed_path(path: str) -> bool:
    """True for the only routes other sites may put in an iframe."""
    return path.startswith(EMBED_PREFIX)


LOCATION_PROPERTIES = ("pathname", "search", "hash", "href")


def well_typed_location_values(body: dict) -> bool:
    """True when every dcc.Location value in a callback request body (inputs and state) is text or empty."""
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
        if isinstance(item.get("id"), str) and item.get("property") in LOCATION_PROPERTIES \
                and item.get("value") is not None and not isinstance(item.get("value"), str):
            return False
        if item.get("property") == "pathname" and isinstance(item.get("value"), str) \
                and not item["value"].startswith("/") and "_pages_content" in str(body.get("output", "")):
            return False  # dash's page router raises (a 500) on a path outside its prefix
    return True


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

    @server.before_request
    def _refuse_malformed_callback_requests():
        """A forged callback request whose URL inputs are not text gets a plain 400 (Dash's router would 500)."""
        if request.method == "POST" and request.path.endswith("/_dash-update-component"):
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not well_typed_location_values(body):
                return Response("Malformed callback request.\n", status=400, mimetype="text/plain")
        return None

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
