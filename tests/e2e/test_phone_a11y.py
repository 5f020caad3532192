"""Every page on a phone (390 px), a tablet (768 px) and a desktop (1440 px) in real Chromium: no sideways scrolling,
the chart inside the screen, legends under the plot on phones, no chart text cut at the chart's edge; axe-core finds no WCAG 2.0/2.1 A/AA violation; the
controls are reachable by keyboard with a visible focus.

axe-core comes from npm (scripts/js, installed by scripts/setup.sh) and is injected into the test browser only,
whose context bypasses the app's Content-Security-Policy for that one script.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import PAGE_TIMEOUT_MS, REPO, browser_page

pytestmark = pytest.mark.browser

AXE = REPO / "scripts" / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
PAGES = ["/", "/compare", "/trends", "/map", "/relationships", "/country", "/desi", "/digital-decade", "/findings",
         "/sources"]
CHART_PAGES = {"/compare", "/trends", "/map", "/relationships", "/country", "/desi"}
WIDTHS = {390: 844, 768: 1024, 1440: 900}
WAIT_MS = 3 * PAGE_TIMEOUT_MS  # nine pages per width on a shared machine
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"  # gitignored; look at them


def settle(page, path: str) -> None:
    """Wait until the page's content (a drawn chart, a table or a message) is there."""
    page.wait_for_selector("#_pages_content h1", timeout=WAIT_MS)
    if path in CHART_PAGES:   # a drawn chart, or on a phone the table a crowded chart opens as
        page.wait_for_function("() => { const g = document.querySelector('.js-plotly-plot');"
                               " return g && g._fullLayout && g.data && g.data.length > 0"
                               " || document.querySelector('.data-table'); }", timeout=WAIT_MS)
    page.wait_for_timeout(600)  # the phone layout redraws once after the first draw


def axe_violations(page) -> list[tuple[str, str, int, list]]:
    """(rule, impact, nodes, first target) of every axe-core violation of the WCAG A/AA rules on the page."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in result["violations"]]


@pytest.fixture(scope="module")
def axe_source() -> Path:
    """axe-core as installed by scripts/setup.sh."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} missing: run bash scripts/setup.sh (it installs axe-core from npm)")
    return AXE


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_fits_the_screen_and_passes_axe(app_url, browser, axe_source, width):
    """No horizontal overflow, the chart inside the viewport, legends below on phones; axe at 390 and 1440 px."""
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, bypass_csp=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    try:
        for path in PAGES:
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(app_url + path)
            try:
                settle(page, path)
            except Exception as exc:  # noqa: BLE001 - name the page that did not draw
                raise AssertionError(f"{path} at {width} px did not draw: {exc}") from None
            page.screenshot(path=str(SCREENSHOTS / f"{(path.strip('/') or 'overview')}-{width}.png"), full_page=True)
            scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
            if scroll > inner:
                problems.append(f"{path}: scrolls sideways to {scroll} px at {inner} px")
            box = page.evaluate("() => { const g = document.querySelector('.js-plotly-plot .main-svg');"
                                " if (!g) return null; const r = g.getBoundingClientRect(); return [r.left, r.right, r.width]; }")
            if box is not None and (box[0] < -1 or box[1] > inner + 1 or box[2] < inner * 0.6):
                problems.append(f"{path}: chart box {box} at {inner} px")
            if width < 700 and box is not None:
                legend = page.evaluate("() => { const g = document.querySelector('.js-plotly-plot');"
                                       " return g.layout.showlegend === false || !g.layout.legend ? null : g.layout.legend.orientation; }")
                if legend not in (None, "h"):
                    problems.append(f"{path}: legend beside the plot on a phone ({legend})")
                if page.locator(".js-plotly-plot .modebar-container").first.is_visible():
                    problems.append(f"{path}: plotly toolbar shown on a phone")
            if width in (390, 1440):
                problems += [f"{path} at {width} px: axe {v}" for v in axe_violations(page)]
            page.close()
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# The pages whose chart opens as its table on a phone, and that table
PHONE_TABLES = {"/digital-decade": "#dd_targets-table", "/country": "#profile-table"}
# Every title, legend entry, note and tick label of every chart that runs past its chart's edge (where it is cut off)
CUT_TEXT = """() => [...document.querySelectorAll('.js-plotly-plot .main-svg:first-of-type')].flatMap(svg => {
  const edge = svg.getBoundingClientRect();
  return [...svg.parentElement.querySelectorAll('.gtitle, .legendtext, .annotation-text, .xtick text, .ytick text')]
    .map(t => [t.textContent, t.getBoundingClientRect()])
    .filter(([, r]) => r.width && (r.right > edge.right + 2 || r.left < edge.left - 2))
    .map(([text, r]) => `${text.slice(0, 60)} (${Math.round(r.left)}-${Math.round(r.right)} px, chart ${Math.round(edge.left)}-${Math.round(edge.right)})`);
})"""


@pytest.mark.parametrize("lang", ["de", "fi", "lt"])
def test_no_chart_text_is_cut_on_a_phone(app_url, browser, lang):
    """At 390 px in the languages with the longest words: every chart's title, legend entries and notes are broken
    over lines to fit; the Digital Decade KPIs and the country profile, whose row labels would leave the plot a
    sliver, open as their tables."""
    cut = []
    with browser_page(browser, 390, WIDTHS[390]) as page:
        for path in sorted(CHART_PAGES - set(PHONE_TABLES)):
            page.goto(f"{app_url}{path}?lang={lang}")
            settle(page, path)
            cut += [f"{path}: {text}" for text in page.evaluate(CUT_TEXT)]
        for path, table in PHONE_TABLES.items():
            page.goto(f"{app_url}{path}?lang={lang}")
            page.wait_for_selector(table, timeout=WAIT_MS)
            assert page.locator(".view-toggle input[value='table']").first.is_checked(), path
    assert not cut, "\n".join(cut)


BAR_SHAPE = ("() => { const g = document.querySelector('.js-plotly-plot'); const t = g.data[0];"
             " return [t.orientation || 'v', t.y.length, g._fullLayout.yaxis.type, g._fullLayout.height,"
             " (g.layout.shapes || []).filter(s => s.type === 'line').map(s => s.xref + ':' + s.yref),"
             " (g.layout.shapes || []).filter(s => s.type === 'line' && s.showlegend && s.name).length,"
             " (g.layout.annotations || []).filter(a => a.textangle).map(a => a.text)]; }")


def test_ranked_bars_are_horizontal_on_a_phone_and_vertical_on_a_desktop(app_url, browser):
    """Compare at 390 px: one row per country (names on the category axis), the reference lines vertical; a new
    year redrawn by the server turns horizontal again; at 1440 px the bars stay vertical."""
    for width, expected in ((390, "h"), (1440, "v")):
        with browser_page(browser, width, WIDTHS[width]) as page:
            page.goto(app_url + "/compare")
            settle(page, "/compare")
            orientation, count, category_axis, height, lines, named, labels = page.evaluate(BAR_SHAPE)
            assert orientation == expected, (width, orientation)
            if expected == "h":
                assert category_axis == "category" and count >= 20 and height >= count * 20, (count, height)
                assert lines and all(line == "x:paper" for line in lines), lines
                # each line named in the legend, not by a label running over the bars
                assert named == len(lines) and not labels, (named, labels)
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width
                page.goto(app_url + "/compare?geo=EE,FI")
                settle(page, "/compare")
                assert page.evaluate(BAR_SHAPE)[0] == "h"
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "compare_390_horizontal.png"), full_page=True)


STACK_SHAPE = ("() => { const g = document.querySelector('.js-plotly-plot');"
               " return [g.data.map(t => t.type + ':' + (t.orientation || t.textposition || 'v')),"
               " g._fullLayout.yaxis.type, g._fullLayout.xaxis.range[1], Math.max(...g.data.at(-1).x),"
               " (g.layout.shapes || []).filter(s => s.type === 'line').map(s => s.xref + ':' + s.yref),"
               " (g.layout.shapes || []).filter(s => s.type === 'line' && s.showlegend && s.name).length,"
               " (g.layout.annotations || []).filter(a => a.textangle).map(a => a.text)]; }")


def test_desi_stacks_are_horizontal_on_a_phone(app_url, browser):
    """DESI at 390 px: every dimension's bars horizontal, the totals after the stacks with room for them, the EU
    reference line vertical; nothing scrolls sideways."""
    with browser_page(browser, 390, WIDTHS[390]) as page:
        page.goto(app_url + "/desi")
        settle(page, "/desi")
        kinds, category_axis, axis_end, widest, lines, named, labels = page.evaluate(STACK_SHAPE)
        assert kinds[:-1] and all(kind == "bar:h" for kind in kinds[:-1]) and kinds[-1] == "scatter:middle right", kinds
        assert category_axis == "category" and axis_end > widest * 1.2, (axis_end, widest)
        assert lines and all(line == "x:paper" for line in lines), lines
        assert named == len(lines) and not labels, (named, labels)   # the EU line named in the legend
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "desi_390_horizontal.png"), full_page=True)


def test_phone_scorecard_is_its_table_and_map_shows_the_region(app_url, browser):
    """On a phone the scorecard opens as its table and the map is zoomed to the Baltic Sea Region, most of the width."""
    with browser_page(browser, 390, 844) as page:
        page.goto(app_url + "/")
        page.wait_for_selector(".data-table")
        assert page.locator(".view-toggle input[value='table']").is_checked()
        page.goto(app_url + "/map")
        settle(page, "/map")
        lon, width = page.evaluate("() => { const g = document.querySelector('.js-plotly-plot');"
                                   " return [g._fullLayout.geo.lonaxis.range, g._fullLayout._size.w]; }")
        assert lon == [-2, 34] and width > 390 * 0.6, (lon, width)


def test_keyboard_reaches_every_control_with_a_visible_focus(app_url, browser):
    """Tab walks through the page's controls; each focused one shows an outline; Enter opens a dropdown."""
    with browser_page(browser, 1440, 900) as page:
        page.goto(app_url + "/compare")
        settle(page, "/compare")
        seen, unfocused = [], []
        for _ in range(40):
            page.keyboard.press("Tab")
            info = page.evaluate("() => { const e = document.activeElement; const s = getComputedStyle(e);"
                                 " return [e.tagName, e.className && String(e.className), s.outlineStyle, s.outlineWidth,"
                                 " e.getAttribute('aria-hidden')]; }")
            seen.append(info)
            if info[0] != "BODY" and (info[2] == "none" or info[3] == "0px"):
                unfocused.append(info)
            assert info[4] != "true", f"focus landed on an aria-hidden element: {info}"
        assert not unfocused, f"focused without a visible outline: {unfocused[:5]}"
        assert any("dash-dropdown" in (c or "") for _, c, *_ in seen), f"no dropdown reached by Tab: {seen[:12]}"
        assert any(tag == "INPUT" and "radio" in (c or "") or tag == "INPUT" for tag, c, *_ in seen)
        page.locator("button.dash-dropdown").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(".dash-dropdown-options", timeout=5000)
