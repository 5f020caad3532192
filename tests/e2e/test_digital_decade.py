"""The Digital Decade page in headless Chromium: Estonia's page draws the dot-and-target rows, the trajectory and
the WP3 dumbbells, states the cross-border gap, writes a KPI choice to the URL; a screenshot for the record."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import browser_page, choose_option, wait_for_chart, wait_for_url
from tests.e2e.test_phone_a11y import WIDTHS, axe_source, axe_violations  # noqa: F401  (its fixture and helpers)

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"  # gitignored; look at them


def traces(page, chart: str) -> int:
    """Number of traces drawn in a chart card's plotly graph."""
    selector = f"#{chart}-graph .js-plotly-plot"
    wait_for_chart(page, selector)
    return page.evaluate("sel => document.querySelector(sel).data.length", selector)


def test_estonia_renders_both_charts_and_the_wp3_view(app_url, page):
    page.goto(app_url + "/digital-decade?geo=EE")
    assert page.locator(".page-main h1").first.inner_text() == "Digital Decade 2030: targets and pace"
    assert traces(page, "dd_targets") >= 4        # distance bars, targets, EU dots, verdict groups
    assert traces(page, "dd_trajectory") >= 4     # Estonia, EU27, straight paths, EU trajectory
    assert traces(page, "wp3_crossborder") == 6   # per year: bars, national, cross-border
    title = page.evaluate("() => document.querySelector('#dd_targets-graph .js-plotly-plot')._fullLayout.title.text")
    assert title == "Estonia: Digital Decade KPIs against the 2030 targets"
    wp3 = page.locator("#wp3").inner_text()
    assert "Estonia (2023): 100.0 national, 97.5 cross-border, gap 2.5 points" in wp3
    assert "Secondary compilation" in wp3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "digital_decade_EE.png"), full_page=True)
    choose_option(page, "indicator", "At least basic digital skills (Digital Decade)")
    wait_for_url(page, "loc.search.includes('indicator=dd_basic_digital_skills')")
    page.wait_for_function("() => document.querySelector('#dd_trajectory-graph .js-plotly-plot')"
                           "._fullLayout.title.text.startsWith('At least basic digital skills')")
    assert "needs +3.50 a year, observed +1.54 a year" in page.locator("section[data-chart=dd_trajectory]").inner_text()
    assert not page.console_errors, page.console_errors


def test_norway_shows_the_not_covered_note(app_url, page):
    page.goto(app_url + "/digital-decade?geo=NO")
    page.wait_for_selector(".dd-not-covered")
    assert "Norway is not covered by the Digital Scoreboard" in page.locator(".dd-not-covered").inner_text()
    assert traces(page, "wp3_crossborder") == 6
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("width", [390, 1440])
def test_the_page_fits_a_phone_and_passes_axe(app_url, browser, axe_source, width):
    """As test_phone_a11y checks the other pages: no sideways scrolling, every chart inside the screen, legends under
    the plot on a phone, no axe-core WCAG A/AA violation."""
    with browser_page(browser, width, WIDTHS[width], bypass_csp=True) as page:
        page.goto(app_url + "/digital-decade?geo=EE")
        for chart in ("dd_targets", "dd_trajectory", "wp3_crossborder"):
            traces(page, chart)
        page.wait_for_timeout(600)  # the phone layout redraws once after the first draw
        problems = []
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems.append(f"scrolls sideways to {scroll} px at {inner} px")
        boxes = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(g => {"
                              " const r = g.querySelector('.main-svg').getBoundingClientRect();"
                              " return [r.left, r.right, r.width, g.layout.legend ? g.layout.legend.orientation : null]; })")
        for left, right, box_width, legend in boxes:
            if left < -1 or right > inner + 1 or box_width < inner * 0.6:
                problems.append(f"chart box {[left, right, box_width]} at {inner} px")
            if width < 700 and legend not in (None, "h"):
                problems.append(f"legend beside the plot on a phone ({legend})")
        problems += [f"axe {v}" for v in axe_violations(page)]
        assert not problems, "\n".join(problems)
