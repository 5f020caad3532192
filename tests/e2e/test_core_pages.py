"""Core pages in a real browser against the real app under gunicorn: controls change the URL and the chart,
back restores, reload reproduces, bad URLs get a friendly message, and the map draws with the internet cut off."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

import pytest

from tests.e2e.conftest import block_internet, choose_option, wait_for_chart, wait_for_url

pytestmark = pytest.mark.browser


@pytest.fixture
def db(e2e_data_dir, monkeypatch):
    """The dashboard's queries pointed at the same data dir as the server (for choosing values to click)."""
    from dashboard.data import connection, queries

    monkeypatch.setenv("DSM_DATA_DIR", str(e2e_data_dir))
    connection.clear_cache()
    return queries


def chart_title(page) -> str:
    """Title text of the page's plotly chart."""
    return page.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")


def query_of(page) -> dict:
    """The current URL's query parameters."""
    return dict(parse_qsl(urlparse(page.url).query))


def wait_for_title(page, text: str) -> None:
    """Wait until the chart (re-rendered after navigation) has a title containing text."""
    page.wait_for_function(
        "t => { const g = document.querySelector('.js-plotly-plot');"
        " return g && g.layout && g.layout.title && g.layout.title.text.includes(t); }", arg=text)


def test_compare_year_control_url_and_back(app_url, page, db):
    """Choosing a year writes it to the URL and redraws; back restores the latest year; reload reproduces."""
    ind = db.headline_indicators()[0]
    years = db.available_years(ind)
    page.goto(f"{app_url}/compare?indicator={ind}")
    assert wait_for_chart(page) >= 1
    wait_for_title(page, str(years[-1]))
    choose_option(page, "year", str(years[0]))
    wait_for_url(page, f"loc.search.includes('year={years[0]}')")
    wait_for_title(page, str(years[0]))
    assert query_of(page) == {"indicator": ind, "year": str(years[0])}
    page.reload()
    wait_for_chart(page)
    wait_for_title(page, str(years[0]))
    page.go_back()
    wait_for_url(page, "!loc.search.includes('year=')")
    wait_for_title(page, str(years[-1]))
    assert not page.console_errors


def test_trends_indicator_control(app_url, page, db):
    """Switching indicator on Trends updates URL and chart (lines for the peers, EU27 and the BSR average)."""
    first, second = db.indicator_ids()[:2]
    page.goto(f"{app_url}/trends?indicator={first}")
    assert wait_for_chart(page) >= 3
    choose_option(page, "indicator", db.indicator(second)["title"])  # titles, not ids, in the dropdown
    wait_for_url(page, f"loc.search.includes('indicator={second}')")
    wait_for_title(page, db.indicator(second)["title"])
    names = page.evaluate("() => document.querySelector('.js-plotly-plot').data.map(t => t.name)")
    assert "EU27" in names
    page.go_back()
    wait_for_url(page, f"loc.search.includes('indicator={first}')")
    wait_for_title(page, db.indicator(first)["title"])
    assert not page.console_errors


def test_overview_table_view_and_cell_link(app_url, page, db):
    """The scorecard draws; the Table toggle goes into the URL; a cell link opens its indicator on Compare with
    that country chosen."""
    page.goto(app_url + "/")
    wait_for_chart(page)
    page.get_by_label("Table").check()
    wait_for_url(page, "loc.search.includes('view=table')")
    page.wait_for_selector("#scorecard-table")
    first_cell = page.locator("#scorecard-table td.score a").first
    first_cell.click()
    wait_for_url(page, "loc.pathname === '/compare'")
    assert wait_for_chart(page) >= 1
    assert query_of(page)["indicator"] in db.headline_indicators() and query_of(page).get("geo")
    page.go_back()
    page.wait_for_selector("#scorecard-table")
    assert not page.console_errors


def test_map_draws_offline_and_follows_the_year(app_url, page, db):
    """With every non-loopback request aborted, the map's country shapes are drawn from the local topojson."""
    blocked = block_internet(page)
    ind = db.headline_indicators()[0]
    years = db.available_years(ind)
    page.goto(f"{app_url}/map?indicator={ind}")
    wait_for_chart(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .geo path.choroplethlocation').length >= 20")
    drawn = page.evaluate("() => document.querySelectorAll('.js-plotly-plot .geo path.choroplethlocation').length")
    with_values = len(db.values_for_year(ind, years[-1]).dropna(subset=["value"]))
    assert drawn >= min(20, with_values)
    assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot .geo .countries path').length") > 0
    choose_option(page, "year", str(years[0]))
    wait_for_url(page, f"loc.search.includes('year={years[0]}')")
    wait_for_title(page, str(years[0]))
    assert blocked == [], f"the page tried to reach the internet: {blocked}"
    assert not page.console_errors


BAD_URLS = [
    ("/", "view=pie", "pie"),
    ("/trends", "geo=EE,QQ", "QQ"),
    ("/map", "year=1700", "1700"),
    ("/compare", "indicator=no_such_thing", "no_such_thing"),
]


def test_bad_urls_friendly_message_and_way_back(app_url, page):
    """A wrong parameter on each page shows a plain message naming it; the link leads back to a working chart."""
    for path, query, bad in BAD_URLS:
        page.goto(f"{app_url}{path}?{query}")
        message = page.wait_for_selector(".friendly-error")
        assert bad in message.inner_text(), path
    page.click(".friendly-error .back-link")
    wait_for_chart(page)
    assert urlparse(page.url).path == "/compare"
    assert not page.console_errors


def test_unknown_page_is_friendly(app_url, page):
    """An address with no page gets the friendly 404 with a link to the overview."""
    page.goto(app_url + "/no-such-page")
    assert "no page" in page.wait_for_selector(".friendly-error").inner_text()
