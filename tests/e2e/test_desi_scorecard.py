"""DESI weights and the Overview scorecard in headless Chromium against the app under gunicorn: a weight typed into
the page re-ranks the countries and lands in the URL; a scorecard cell opens its chart by mouse and by keyboard."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_chart, wait_for_url

pytestmark = pytest.mark.browser

STACK = "[data-chart='desi_stack'] .js-plotly-plot"


def stack_ranks(page) -> dict[str, str]:
    """Country label -> the rank text above its stack ('56.5 · #9')."""
    return page.evaluate(
        "sel => { const g = document.querySelector(sel); const t = g.data.find(d => d.type === 'scatter');"
        " return Object.fromEntries(t.x.map((x, i) => [x, t.text[i]])); }", STACK)


def test_desi_weights_change_the_ranking_and_the_official_link_restores_it(app_url, page):
    """DESI 2022 opens by default; connectivity alone (the other weights 0) changes the order and ranks, the weights
    are in the URL, and 'Official weights' brings back the published ranking."""
    page.goto(app_url + "/desi")
    wait_for_chart(page, STACK)
    assert page.evaluate("sel => document.querySelector(sel)._fullLayout.title.text", STACK).startswith(
        "DESI 2022 (2022 workbook)")
    official = stack_ranks(page)
    assert official["Germany"].startswith("52.9") and official["EU27"].startswith("52.3")
    used = "() => (document.querySelector('#desi-weights-used') || {}).innerText || ''"
    for key in ("hc", "idt", "dps"):
        before = page.evaluate(used)
        box = page.locator(f".control-w_{key} input")
        box.fill("0")
        box.press("Enter")
        wait_for_url(page, f"loc.search.includes('w_{key}=0')")
        # the page is rebuilt for the new weights: type the next one into the new controls, not the old ones
        page.wait_for_function(f"prev => ({used})() !== prev", arg=before)
    page.wait_for_function(
        "sel => { const g = document.querySelector(sel); return g && g._fullLayout &&"
        " g._fullLayout.title.text.includes('your weights'); }", arg=STACK)
    # the page redraws once per typed weight: wait for the last one (connectivity alone) before reading it
    page.wait_for_function("() => (document.querySelector('#desi-weights-used') || {}).innerText"
                           "?.includes('Connectivity 100.0%')")
    mine = stack_ranks(page)
    assert mine != official and mine["Estonia"] != official["Estonia"]
    assert "Connectivity 100.0%" in page.locator("#desi-weights-used").inner_text()
    page.click("#desi-official-weights")
    wait_for_url(page, "!loc.search.includes('w_')")
    page.wait_for_function(
        "sel => { const g = document.querySelector(sel); return g && g._fullLayout &&"
        " !g._fullLayout.title.text.includes('your weights'); }", arg=STACK)
    assert stack_ranks(page) == official
    assert page.locator("[data-chart='desi_trend'] .chart-card-bar").count() == 1
    assert not page.console_errors, page.console_errors


def click_cell(page, row: int, column: int) -> None:
    """Click the heatmap cell (row, column) of the scorecard where a mouse would."""
    box = page.evaluate(
        "([r, c]) => { const g = document.querySelector('#scorecard-graph .js-plotly-plot');"
        " const L = g._fullLayout, drag = g.querySelector('.nsewdrag').getBoundingClientRect();"
        " return {x: drag.left + L.xaxis.l2p(c), y: drag.top + L.yaxis.l2p(r)}; }", [row, column])
    page.mouse.click(box["x"], box["y"])


def test_a_scorecard_cell_opens_its_chart_by_mouse_and_by_keyboard(app_url, page):
    """A click on a heatmap cell opens Compare for that indicator with that country highlighted; from the keyboard,
    the link under the heatmap opens the table view, whose cell links open the same chart."""
    page.goto(app_url + "/")
    wait_for_chart(page, "#scorecard-graph .js-plotly-plot")
    indicator, geo = page.evaluate(
        "() => document.querySelector('#scorecard-graph .js-plotly-plot').data[0].customdata[0][1].slice(0, 2)")
    click_cell(page, 0, 1)
    wait_for_url(page, "loc.pathname === '/compare'")
    assert f"indicator={indicator}" in page.url and f"geo={geo}" in page.url, page.url
    wait_for_chart(page)
    page.go_back()
    wait_for_url(page, "loc.pathname === '/'")
    wait_for_chart(page, "#scorecard-graph .js-plotly-plot")
    page.focus("#scorecard-table-link")
    page.keyboard.press("Enter")
    wait_for_url(page, "loc.search.includes('view=table')")
    first = page.locator("#scorecard-table tbody td.score a").nth(1)
    href = first.get_attribute("href")
    first.focus()
    page.keyboard.press("Enter")
    wait_for_url(page, "loc.pathname === '/compare'")
    assert page.url.endswith(href), (page.url, href)
    assert not page.console_errors, page.console_errors
