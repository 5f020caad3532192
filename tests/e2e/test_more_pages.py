"""Relationships, Country profile, DESI and Data & sources in headless Chromium against the app under gunicorn:
load each page, change a control, see the chart (or table) and the URL change, back/forward, no console errors."""
from __future__ import annotations

import io
import zipfile

import pytest

from tests.e2e.conftest import choose_option, wait_for_chart, wait_for_url

pytestmark = pytest.mark.browser


def heading(page) -> str:
    """The page's H1 text."""
    return page.locator(".page-main h1").first.inner_text()


def chart_title(page, selector: str = ".js-plotly-plot") -> str:
    """The title text of the first plotly chart matching a selector."""
    return page.evaluate("sel => document.querySelector(sel)._fullLayout.title.text", selector)


def test_relationships_year_and_y_axis(app_url, page):
    """Changing the year redraws the scatter for that year; changing y writes it to the URL and drops the year."""
    page.goto(app_url + "/relationships?indicator=desi_overall&y=desi_egov_users&year=2019")
    assert wait_for_chart(page) >= 3
    assert "2019" in chart_title(page)
    assert "Pearson r" in page.locator("#fit-summary").inner_text()
    choose_option(page, "year", "2017")
    wait_for_url(page, "loc.search.includes('year=2017')")
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout.title.text.includes('2017')")
    choose_option(page, "y", "DESI Human capital score")
    url = wait_for_url(page, "loc.search.includes('y=desi_2_hc')")
    assert "year=" not in url
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.title.text.startsWith('DESI Human capital')")
    assert not page.console_errors, page.console_errors


def test_country_profile_switch_country_and_back(app_url, page):
    """Choosing another country changes the URL and the profile; the browser's back button restores the first."""
    page.goto(app_url + "/country?geo=EE")
    wait_for_chart(page)
    assert heading(page) == "Country profile: Estonia"
    assert page.locator("#strongest-areas li").count() >= 1
    choose_option(page, "geo", "Latvia (LV)")
    wait_for_url(page, "loc.search.includes('geo=LV')")
    page.wait_for_function("() => document.querySelector('.page-main h1').innerText.includes('Latvia')")
    wait_for_chart(page)
    assert "Latvia" in chart_title(page)
    page.go_back()
    wait_for_url(page, "loc.search.includes('geo=EE')")
    page.wait_for_function("() => document.querySelector('.page-main h1').innerText.includes('Estonia')")
    assert not page.console_errors, page.console_errors


def test_desi_edition_and_table_view(app_url, page):
    """Another edition redraws the stacked chart; the table toggle shows the rows; both land in the URL."""
    page.goto(app_url + "/desi")
    wait_for_chart(page, "[data-chart='desi_stack'] .js-plotly-plot")
    assert chart_title(page, "[data-chart='desi_stack'] .js-plotly-plot").startswith("DESI 2022 (2022 workbook)")
    assert page.locator(".js-plotly-plot").count() == 2
    choose_option(page, "edition", "DESI 2017")
    wait_for_url(page, "loc.search.includes('edition=2017')")
    page.wait_for_function(
        "() => { const g = document.querySelector(\"[data-chart='desi_stack'] .js-plotly-plot\");"
        " return g && g._fullLayout && g._fullLayout.title.text.startsWith('DESI 2017'); }")
    page.get_by_label("Table").first.check()
    wait_for_url(page, "loc.search.includes('view=table')")
    page.wait_for_selector("#desi_stack-table")
    assert page.locator("#desi_stack-table tbody tr").count() >= 5
    assert not page.console_errors, page.console_errors


def test_sources_theme_filter_and_download(app_url, page):
    """The theme filter narrows the catalogue and updates the URL; the download is a zip of every observation."""
    page.goto(app_url + "/sources")
    page.wait_for_selector("#catalogue-table")
    everything = page.locator("#catalogue-table tbody tr").count()
    assert page.locator("#provenance-table tbody tr").count() >= 10
    assert page.locator("#flags-table tbody tr").count() >= 10
    choose_option(page, "theme", "E-commerce")
    wait_for_url(page, "loc.search.includes('theme=e_commerce')")
    page.wait_for_function(
        f"() => document.querySelectorAll('#catalogue-table tbody tr').length < {everything}")
    with page.expect_download(timeout=60_000) as download_info:
        page.click("#download-all-button")
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    assert "observations.csv" in archive.namelist()
    header = archive.open("observations.csv").readline().decode()
    assert "flags" in header and "source_file" in header
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("path", ["/relationships?indicator=nope", "/country?geo=XX", "/desi?edition=1990",
                                  "/sources?theme=nope"])
def test_bad_urls_show_the_friendly_message(app_url, page, path):
    """A bad parameter in the address shows the friendly message with a link back, never a server error."""
    page.goto(app_url + path)
    page.wait_for_selector(".friendly-error")
    assert page.locator(".friendly-error .back-link").count() == 1
    assert not page.console_errors, page.console_errors
