"""How the app's responses travel (dashboard/serving.py): compressed, cached when fingerprinted, <html lang>, and
plotly.js as the partial bundle when scripts/js/build.sh has built it."""
from __future__ import annotations

import gzip
import re

import brotli
import pytest

from dashboard import serving


@pytest.fixture(scope="module")
def client(dashboard_data_dir):
    """The real app's Flask test client against the test data."""
    import os

    from dashboard.data import connection

    previous = os.environ.get("DSM_DATA_DIR")
    os.environ["DSM_DATA_DIR"] = str(dashboard_data_dir)
    connection.clear_cache()
    from dashboard.app import app

    yield app.server.test_client()
    connection.clear_cache()
    if previous is None:
        os.environ.pop("DSM_DATA_DIR", None)
    else:
        os.environ["DSM_DATA_DIR"] = previous


def scripts_of(client) -> list[str]:
    """The script URLs the index page loads."""
    return re.findall(r'<script src="([^"]+)"', client.get("/").get_data(as_text=True))


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_html_js_and_json_are_compressed(client, encoding, decode):
    """The page, a component bundle, the layout JSON and plotly.js arrive compressed and decode to the same bytes."""
    paths = ["/compare", scripts_of(client)[0], "/_dash-layout", "/_dash-component-suites/plotly/package_data/plotly.min.js"]
    for path in paths:
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": f"{encoding}"})
        assert packed.headers.get("Content-Encoding") == encoding, f"{path}: {packed.headers.get('Content-Encoding')}"
        same = plain.data if path != "/compare" else plain.data[:2000]  # the index carries a per-request id later on
        assert decode(packed.data)[:len(same)] == same, path
        assert len(packed.data) < len(plain.data) / 2, f"{path}: {len(packed.data)} of {len(plain.data)} bytes"


def test_fingerprinted_files_are_cached_for_a_year(client):
    """Dash's fingerprinted bundles and ?m= assets: a year, immutable; topojson (not fingerprinted): a day."""
    for path in scripts_of(client) + re.findall(r'href="(/assets/[^"]+\?m=[^"]+)"', client.get("/").get_data(as_text=True)):
        assert client.get(path).headers["Cache-Control"] == serving.ONE_YEAR, path
    assert client.get("/assets/topojson/world_50m.json").headers["Cache-Control"] == serving.ONE_DAY
    assert "max-age" not in client.get("/compare").headers.get("Cache-Control", ""), "a page must not be cached long"


def test_static_compression_is_kept_and_pages_are_not():
    """Only static files' compressed bodies are kept (the set of files bounds the cache)."""
    cache = serving.StaticCompressionCache()
    cache.set("br;static:/assets/style.css?m=1", b"x")
    cache.set("br;dynamic", b"y")
    assert cache.get("br;static:/assets/style.css?m=1") == b"x" and cache.get("br;dynamic") is None and len(cache) == 1


def test_html_lang(client):
    """Every page declares its language (WCAG 3.1.1)."""
    assert client.get("/").get_data(as_text=True).startswith('<!DOCTYPE html>\n<html lang="en">')
    assert serving.with_html_lang("<html><body>", 'x"y') == '<html lang="x&quot;y"><body>'


def test_plotly_is_the_partial_bundle_when_built(client):
    """dcc.Graph's plotly.js URL answers the partial bundle (bar, heatmap, choropleth registered) when it is built."""
    body = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js").data
    if not (serving.VENDOR_DIR / serving.PAGE_BUNDLE).is_file():
        pytest.skip("partial bundle not built (bash scripts/js/build.sh)")
    assert body == (serving.VENDOR_DIR / serving.PAGE_BUNDLE).read_bytes()
    assert len(body) < 2_000_000, f"{len(body)} bytes: not a partial bundle"
    for trace in ("choropleth", "heatmap", "bar"):
        assert f'"{trace}"' in body.decode("utf-8", "replace"), f"{trace} missing from the bundle"
