"""The standalone HTML export opened from disk in headless Chromium with every non-file:// request aborted:
the interactive chart (plotly.js and, for the map, its topojson inlined) must still draw."""
from __future__ import annotations

import urllib.request

import pytest

from tests.e2e.conftest import wait_for_chart

pytestmark = pytest.mark.browser




@pytest.fixture
def offline_page(browser):
    """A tab that aborts every request that is not file:// (records what it aborted)."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.blocked = []
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            tab.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    yield tab
    context.close()


def download(url: str, path) -> None:
    """Save an export to disk as a user's browser would."""
    with urllib.request.urlopen(url, timeout=120) as response:
        assert response.status == 200
        path.write_bytes(response.read())


@pytest.mark.parametrize("chart, trace_selector", [
    ("trends", ".scatterlayer .trace path.js-line"),
    ("ranked_bar", ".barlayer .trace .point"),
    ("choropleth", ".choroplethlayer path.choroplethlocation"),
])
def test_standalone_html_draws_with_the_network_cut(offline_page, app_url, indicator, tmp_path, chart, trace_selector):
    """Opened from file:// with the network blocked, the HTML draws its traces and asks for nothing off disk."""
    indicator_id, title = indicator
    path = tmp_path / f"{chart}.html"
    download(f"{app_url}/export/{chart}.html?indicator={indicator_id}", path)
    offline_page.goto(path.as_uri())
    assert wait_for_chart(offline_page) > 0
    offline_page.wait_for_selector(trace_selector, state="attached")
    drawn = offline_page.locator(trace_selector).count()
    assert drawn > 0, f"no {trace_selector} drawn"
    assert offline_page.blocked == [], f"the file tried to reach the network: {offline_page.blocked[:3]}"
    assert offline_page.errors == []
    assert title in offline_page.title()
    assert title in offline_page.locator(".gtitle").text_content()
    texts = " ".join(offline_page.locator(".annotation-text").all_text_contents())
    assert "Source:" in texts


def test_map_html_draws_every_country_with_a_value(offline_page, app_url, indicator, tmp_path):
    """Every country in the exported map's data is a drawn shape (the inlined topojson has them all)."""
    indicator_id, _ = indicator
    path = tmp_path / "map.html"
    download(f"{app_url}/export/choropleth.html?indicator={indicator_id}", path)
    offline_page.goto(path.as_uri())
    wait_for_chart(offline_page)
    locations = offline_page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].locations.length")
    offline_page.wait_for_selector(".choroplethlayer path.choroplethlocation", state="attached")
    first_trace = offline_page.locator(".choroplethlayer .trace").first.locator("path.choroplethlocation").count()
    assert locations > 0 and first_trace == locations
    assert offline_page.blocked == []
