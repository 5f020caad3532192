"""Views that agree with each other, in the real browser (issue 12): the side panel follows the page's year and
countries, the highlighted bars are the chosen countries, every chart card has labelled share controls whose words
click, dropdowns show titles. Screenshots of the fixed views go to $DSM_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import browser_page, choose_option, wait_for_chart, wait_for_url
from tests.e2e.test_embed import read_clipboard
from tests.e2e.test_phone_a11y import axe_source  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
INDICATOR = "households_internet_access"
MUTED = "#C8C8C8"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots of the fixed views are written."""
    folder = Path(os.environ.get("DSM_SCREENSHOTS") or tmp_path_factory.mktemp("views_screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def insights(page) -> list[dict]:
    """The side panel's insight items as the browser shows them (kind, geo, year, text)."""
    page.wait_for_selector("#side-panel .insight")
    return page.evaluate("""() => [...document.querySelectorAll('#side-panel .insight')].map(li => ({
        kind: li.dataset.kind, geo: li.dataset.geo, year: li.dataset.year, text: li.innerText}))""")


def bar_colours(page) -> dict[str, str]:
    """geo -> bar colour of the ranked chart as drawn."""
    return page.evaluate("""() => { const t = document.querySelector('.js-plotly-plot').data[0];
        return Object.fromEntries(t.customdata.map((c, i) => [c[0], t.marker.color[i]])); }""")


def test_compare_in_2010_the_side_panel_speaks_of_2010(app_url, page, e2e_data_dir, shots):
    page.goto(f"{app_url}/compare?indicator={INDICATOR}")
    wait_for_chart(page)
    choose_option(page, "year", "2010")
    wait_for_url(page, "loc.search.includes('year=2010')")
    page.wait_for_function("() => [...document.querySelectorAll('#side-panel .insight')].length > 0 && "
                           "[...document.querySelectorAll('#side-panel .insight')].every(li => li.dataset.year === '2010')")
    items = insights(page)
    assert items and all(i["year"] == "2010" for i in items), items
    assert all("2025" not in i["text"] and "2024" not in i["text"] for i in items)
    page.screenshot(path=str(shots / "compare-2010-side-panel.png"), full_page=True)
    assert not page.console_errors


def test_latvia_profile_side_panel_speaks_of_latvia(app_url, page, shots):
    page.goto(f"{app_url}/country?geo=LV")
    wait_for_chart(page)
    items = insights(page)
    assert items
    for item in items:
        if item["kind"] != "convergence":
            assert "Latvia" in item["text"], item
    assert not any(re.search(r"\b(Denmark|Finland|Estonia|Sweden|Germany|Norway|Poland|Lithuania) (jointly )?leads?\b",
                             i["text"]) for i in items)
    page.screenshot(path=str(shots / "country-LV-side-panel.png"), full_page=True)


def test_deselecting_germany_uncolours_it(app_url, page, shots):
    page.goto(f"{app_url}/compare?indicator={INDICATOR}")
    wait_for_chart(page)
    before = bar_colours(page)
    assert before["DE"] != MUTED
    choose_option(page, "geo", "Germany (DE)")  # a chosen option clicked again is de-selected
    wait_for_url(page, "loc.search.includes('geo=') && !loc.search.includes('DE')")
    page.wait_for_function(f"""() => {{ const t = document.querySelector('.js-plotly-plot').data[0];
        const i = t.customdata.findIndex(c => c[0] === 'DE'); return i >= 0 && t.marker.color[i] === '{MUTED}'; }}""")
    after = bar_colours(page)
    assert after["DE"] == MUTED and after["EE"] == before["EE"] != MUTED
    page.screenshot(path=str(shots / "compare-without-germany.png"), full_page=True)


def test_every_card_has_labelled_share_controls_and_the_words_click(app_url, page, shots):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.goto(f"{app_url}/desi")
    wait_for_chart(page)
    cards = page.locator(".chart-card")
    assert cards.count() >= 2
    for i in range(cards.count()):
        card = cards.nth(i)
        assert card.locator(".share-controls a.export-pptx").count() == 1
        link = card.locator(".copy-link")
        link.wait_for()
        page.wait_for_function("el => el.getAttribute('aria-label') === 'Copy link' && el.getAttribute('role') "
                               "=== 'button'", arg=link.element_handle())
        assert card.locator(".share-copy-label", has_text="Copy embed code").is_visible()
    # the words "Copy embed code" of the second card copy that card's embed code
    cards.nth(1).locator(".share-copy-label", has_text="Copy embed code").click()
    code = read_clipboard(page, lambda text: text.startswith("<iframe"))
    assert code.startswith("<iframe") and "/embed/desi_trend" in code
    # the copy-link button works from the keyboard
    cards.nth(0).locator(".copy-link").focus()
    page.keyboard.press("Enter")
    copied = read_clipboard(page, lambda text: text.startswith("http"))
    assert copied.startswith(app_url + "/desi")
    page.screenshot(path=str(shots / "desi-share-controls.png"), full_page=True)


def test_indicator_dropdown_shows_titles_under_theme_headings(app_url, page, e2e_data_dir):
    import duckdb

    con = duckdb.connect(str(e2e_data_dir / "dsm.duckdb"), read_only=True)
    ids = [r[0] for r in con.execute("SELECT DISTINCT indicator FROM indicator_values").fetchall()]
    con.close()
    page.goto(f"{app_url}/trends?indicator={INDICATOR}")
    wait_for_chart(page)
    page.click(".control-indicator button.dash-dropdown")
    page.wait_for_selector(".dash-dropdown-options .dash-dropdown-option")
    texts = page.locator(".dash-dropdown-options .dash-dropdown-option").all_inner_texts()
    assert len(texts) >= 5  # the list is virtualised: the options in view
    assert not [t for t in texts if any(i in t for i in ids)], "an indicator id shows in the dropdown"
    search = page.locator(".dash-dropdown-search").first
    for typed, expected in (("internet access", "Households with internet access"), ("coverage_5g", "5G coverage")):
        search.fill(typed)  # searchable by title, and by id although the id is not shown
        page.wait_for_function("() => { const o = [...document.querySelectorAll('.dash-dropdown-options "
                               ".dash-dropdown-option')]; return o.length > 0 && o.length < 8; }")
        shown = page.locator(".dash-dropdown-options .dash-dropdown-option").all_inner_texts()
        assert any(expected in t for t in shown), (typed, shown)
    page.keyboard.press("Escape")


@pytest.mark.parametrize("path", ["/desi", "/findings", "/compare"])
def test_share_controls_and_brief_buttons_pass_axe(app_url, browser, axe_source, path):
    """The per-card share controls (two on DESI), the copy buttons and the Findings page's brief buttons add no
    WCAG 2.0/2.1 A/AA violation at 390 and 1440 px."""
    from tests.e2e.test_phone_a11y import axe_violations, settle

    for width, height in ((390, 844), (1440, 900)):
        with browser_page(browser, width, height, bypass_csp=True) as page:  # axe injected
            page.goto(app_url + path)
            settle(page, path)
            assert axe_violations(page) == [], (path, width)
