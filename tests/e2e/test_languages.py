"""Every language in a real browser: Overview, Compare and DESI with <html lang>, translated navigation, CLDR country
names in the chart and numbers in the locale's format; a Polish CSV, PNG and SVG export; bad language input."""
from __future__ import annotations

import csv
import re
import urllib.request

import pytest

from tests.e2e.conftest import wait_for_chart, wait_for_url

pytestmark = pytest.mark.browser

LANGUAGES = ("en", "pl", "et", "lv", "lt", "fi", "sv", "da", "de", "nb")
# The navigation's "Compare" and CLDR's name of Germany per language (the examples), written out here so
# that the test does not ask the code under test what to expect.
COMPARE = {"en": "Compare", "pl": "Porównanie", "et": "Võrdlus", "lv": "Salīdzinājums", "lt": "Palyginimas",
           "fi": "Vertailu", "sv": "Jämförelse", "da": "Sammenligning", "de": "Vergleich", "nb": "Sammenligning"}
GERMANY = {"en": "Germany", "pl": "Niemcy", "et": "Saksamaa", "lv": "Vācija", "lt": "Vokietija", "fi": "Saksa",
           "sv": "Tyskland", "da": "Tyskland", "de": "Deutschland", "nb": "Tyskland"}
DECIMAL = {lang: "." if lang == "en" else "," for lang in LANGUAGES}  # every language here but English: comma


FIRST_LOAD_MS = 90_000  # a page's first build in a fresh worker, on a loaded machine


def load(page, url: str) -> None:
    """Open a URL and wait until its chart is drawn (patiently: every language builds its pages once)."""
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot", timeout=FIRST_LOAD_MS)
    wait_for_chart(page)


def html_lang(page) -> str:
    """The document's <html lang>."""
    return page.evaluate("() => document.documentElement.lang")


def chart_strings(page) -> list[str]:
    """Category labels, texts and annotation texts of the page's first plotly chart, flattened."""
    return page.evaluate("""() => {
      const g = document.querySelector('.js-plotly-plot'); const out = [];
      const flat = v => Array.isArray(v) ? v.forEach(flat) : (v !== null && v !== undefined && out.push(String(v)));
      (g.data || []).forEach(t => { flat(t.x); flat(t.y); flat(t.text); });
      ((g.layout || {}).annotations || []).forEach(a => flat(a.text));
      return out;
    }""")


def local_number(strings: list[str], decimal: str) -> bool:
    """Whether some chart text holds a number with the locale's decimal separator (e.g. '83,2')."""
    return any(re.search(rf"\d{re.escape(decimal)}\d", text) for text in strings)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_on_overview_compare_and_desi(app_url, page, lang):
    """<html lang>, translated navigation, CLDR names and local numbers on three pages; the language survives a
    click on the navigation."""
    load(page, f"{app_url}/?lang={lang}")
    assert html_lang(page) == lang
    assert page.locator(".nav .nav-link", has_text=COMPARE[lang]).count() == 1
    overview = chart_strings(page)
    assert GERMANY[lang] in overview, f"{lang}: no {GERMANY[lang]} among the scorecard's columns"
    assert local_number(overview, DECIMAL[lang]), f"{lang}: no number with '{DECIMAL[lang]}' in the scorecard"
    assert page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.separators")[0] == DECIMAL[lang]

    page.locator(".nav .nav-link", has_text=COMPARE[lang]).click()  # client-side navigation keeps the language
    if lang != "en":
        wait_for_url(page, f"loc.pathname === '/compare' && loc.search.includes('lang={lang}')")
    else:
        wait_for_url(page, "loc.pathname === '/compare'")
    page.wait_for_function("() => document.querySelector('.js-plotly-plot') && "
                           "document.querySelector('.js-plotly-plot').layout.xaxis.type === 'category'",
                           timeout=FIRST_LOAD_MS)
    compare = chart_strings(page)
    assert GERMANY[lang] in compare and local_number(compare, DECIMAL[lang])

    load(page, f"{app_url}/desi?lang={lang}")
    assert html_lang(page) == lang
    assert page.locator(".nav .nav-link", has_text=COMPARE[lang]).count() == 1
    desi = chart_strings(page)
    assert GERMANY[lang] in desi and local_number(desi, DECIMAL[lang])
    assert not page.console_errors


def fetch(url: str) -> tuple[bytes, str]:
    """GET an export; its body and content type."""
    with urllib.request.urlopen(url, timeout=180) as response:
        assert response.status == 200
        return response.read(), response.headers.get("Content-Type", "")


def test_polish_csv_png_and_svg_exports(app_url, page):
    """The Compare page's download links in Polish carry lang=pl; the CSV keeps codes and machine numbers beside
    Polish names and local spellings; the PNG renders; the SVG's text is Polish."""
    load(page, f"{app_url}/compare?lang=pl")
    page.wait_for_selector(".export-slot a.export-csv", timeout=FIRST_LOAD_MS)
    assert page.locator(".export-slot .export-label").inner_text().startswith("Pobierz")
    hrefs = {fmt: page.get_attribute(f".export-slot a.export-{fmt}", "href") for fmt in ("csv", "png", "svg")}
    assert all("lang=pl" in href for href in hrefs.values()), hrefs

    body, kind = fetch(app_url + hrefs["csv"])
    assert kind.startswith("text/csv")
    lines = body.decode("utf-8").splitlines()
    header = lines[0].split(",")
    assert {"geo", "geo_name", "value", "value_text", "flag_meaning"} <= set(header)
    germany = next(line for line in lines[1:] if ",DE," in line)
    assert "Niemcy" in germany
    row = dict(zip(header, next(csv.reader([germany]))))
    assert re.fullmatch(r"\d+(\.\d+)?", row["value"]) and row["value_text"] == row["value_text"].replace(".", "")
    assert float(row["value"]) == float(row["value_text"].replace("\xa0", "").replace(",", "."))

    png, kind = fetch(app_url + hrefs["png"])
    assert kind == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    svg, kind = fetch(app_url + hrefs["svg"])
    assert kind.startswith("image/svg") and "Niemcy" in svg.decode("utf-8") and "Źródło" in svg.decode("utf-8")


def test_unknown_lang_and_malformed_accept_language_fall_back_to_english(app_url, browser):
    """?lang=xx is English with the page working; a malformed Accept-Language is ignored; a good one picks the
    first visit's language, which the visit then keeps."""
    junk = browser.new_context(extra_http_headers={"Accept-Language": ";;q=abc,,*;q=x"})
    german = browser.new_context(extra_http_headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    try:
        tab = junk.new_page()
        load(tab, f"{app_url}/compare?lang=xx")
        assert html_lang(tab) == "en" and tab.locator(".friendly-error").count() == 0
        load(tab, f"{app_url}/compare")
        assert html_lang(tab) == "en"
        tab = german.new_page()
        load(tab, f"{app_url}/trends")
        assert html_lang(tab) == "de" and tab.locator(".nav .nav-link", has_text="Vergleich").count() == 1
        load(tab, f"{app_url}/trends?lang=fi")
        tab.goto(f"{app_url}/map")  # no lang: the visit's choice (Finnish) beats the browser's German
        wait_for_chart(tab)
        assert html_lang(tab) == "fi"
    finally:
        junk.close()
        german.close()
