"""Security headers on every response of the real app over loopback: CSP, framing only for /embed/*, nosniff, referrer."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.dashboard.test_export import fetch, serve_app


@pytest.fixture(scope="module")
def base_url(dashboard_data_dir):
    """The dashboard served over loopback."""
    with serve_app(dashboard_data_dir) as url:
        yield url


def policy(headers: dict) -> dict[str, list[str]]:
    """Content-Security-Policy header -> {directive: [sources]}."""
    value = headers.get("Content-Security-Policy")
    assert value, "no Content-Security-Policy header"
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"directive {words[0]} given twice"
            directives[words[0]] = words[1:]
    return directives


NOT_FRAMEABLE = ["/", "/trends", "/compare", "/map", "/_dash-layout", "/_dash-dependencies", "/export/trends.csv",
                 "/export/no_such_chart.csv", "/no-such-page-at-all"]
FRAMEABLE = ["/embed/trends", "/embed/choropleth", "/embed/_assets/embed.js", "/embed/no_such_chart"]


@pytest.mark.parametrize("path", NOT_FRAMEABLE)
def test_pages_refuse_framing(base_url, path):
    """Every response outside /embed/ forbids framing twice over: CSP frame-ancestors 'none' and X-Frame-Options."""
    _, headers, _ = fetch(base_url + path)
    assert policy(headers)["frame-ancestors"] == ["'none'"]
    assert headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize("path", FRAMEABLE)
def test_embeds_may_be_framed_anywhere(base_url, path):
    """/embed/* (errors included) may be framed by any site, and carries no X-Frame-Options that would veto it."""
    _, headers, _ = fetch(base_url + path)
    assert policy(headers)["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in headers


@pytest.mark.parametrize("path", NOT_FRAMEABLE + FRAMEABLE)
def test_every_response_has_nosniff_and_referrer_policy(base_url, path):
    """nosniff and strict-origin-when-cross-origin on all responses, 4xx included."""
    _, headers, _ = fetch(base_url + path)
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"


def test_script_policy_is_tight(base_url):
    """No 'unsafe-inline' or 'unsafe-eval' for scripts, no wildcard sources, objects forbidden."""
    _, headers, _ = fetch(base_url + "/")
    directives = policy(headers)
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and not any(s.startswith("http") for s in scripts)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]


def inline_scripts(page: str) -> list[str]:
    """Bodies of the inline scripts a browser would execute (not JSON data blocks, not src= scripts, not comments)."""
    bodies = []
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)  # e.g. Dash's <!--[if IE]> warning never runs
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S):
        if "src=" in attrs:
            continue
        kind = re.search(r'type="([^"]+)"', attrs)
        if kind and "json" in kind.group(1):
            continue
        bodies.append(body)
    return bodies


@pytest.mark.parametrize("path", ["/", "/trends", "/map"])
def test_every_inline_script_of_a_page_is_allowed_by_its_hash(base_url, path):
    """Each inline script of the served page has its sha256 in script-src (hashed here, independently of Dash)."""
    _, headers, body = fetch(base_url + path)
    scripts = policy(headers)["script-src"]
    bodies = inline_scripts(body.decode("utf-8"))
    assert bodies, "the Dash index page has at least its renderer script inline"
    for script in bodies:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in scripts, f"inline script not allowed by CSP: {script[:80]!r}"


def test_embed_page_needs_no_inline_script(base_url):
    """The embed page draws the chart from an inert JSON block and a same-origin script: nothing inline runs."""
    _, _, body = fetch(base_url + "/embed/trends")
    assert inline_scripts(body.decode("utf-8")) == []


def test_a_callback_with_a_path_outside_the_app_is_refused():
    """A forged page-router request whose pathname does not start with '/' is a 400, not dash's 500."""
    from dashboard.security import well_typed_values

    body = {"output": ".._pages_content.children..._pages_store.data..",
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": ""},
                       {"id": "_pages_location", "property": "search", "value": None}]}
    assert not well_typed_values(body)
    body["inputs"][0]["value"] = "/compare"
    assert well_typed_values(body)
    other = {**body, "output": "export-slot.children"}  # other callbacks cope with any path themselves
    other["inputs"] = [{**body["inputs"][0], "value": ""}, body["inputs"][1]]
    assert well_typed_values(other)
