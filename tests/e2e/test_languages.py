"""The ten languages in a real browser: Overview, Compare and DESI in each (<html lang>, translated navigation, the
CLDR name of Germany in the chart, a number in the locale's spelling), and a Polish CSV and PNG from the Compare
page's own download links. One browser page for the whole module."""
from __future__ import annotations

import csv
import io
import json
import re
import struct
import urllib.request

import pytest

from dashboard import i18n
from tests.e2e.conftest import browser_page, wait_for_chart

pytestmark = pytest.mark.browser

# Germany as CLDR names it (written out here, not read from Babel, so the test checks the data the app ships).
GERMANY = {"en": "Germany", "pl": "Niemcy", "et": "Saksamaa", "lv": "Vācija", "lt": "Vokietija", "fi": "Saksa",
           "sv": "Tyskland", "da": "Tyskland", "de": "Deutschland", "nb": "Tyskland"}
DECIMAL = {lang: "," for lang in GERMANY} | {"en": "."}  # every language but English writes a decimal comma
PAGES = ("/", "/compare", "/desi")

# Every string a chart shows: trace names, categories, text labels, annotations, axis titles, title.
CHART_TEXTS = """() => {
  const out = [];
  const add = v => { if (typeof v === 'string') out.push(v);
                     else if (Array.isArray(v)) v.forEach(add); };
  for (const g of document.querySelectorAll('.js-plotly-plot')) {
    for (const t of g.data || []) { ['name', 'x', 'y', 'text', 'hovertext', 'locations'].forEach(k => add(t[k])); }
    const l = g.layout || {};
    add((l.title || {}).text);
    (l.annotations || []).forEach(a => add(a.text));
    for (const el of g.querySelectorAll('svg text')) add(el.textContent);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def tab(browser):
    """One browser page for every check of this module."""
    with browser_page(browser, accept_downloads=True) as page:
        yield page


def translated(lang: str, message: str) -> str:
    """A message in a language, from the catalogues the server compiled."""
    with i18n.use(lang):
        return i18n._(message)


@pytest.mark.parametrize("lang", list(GERMANY))
@pytest.mark.parametrize("path", list(PAGES))
def test_overview_compare_and_desi_speak_each_language(app_url, tab, path, lang):
    """Each page in each language: <html lang>, navigation in the language, Germany's CLDR name and a localised
    number in the chart."""
    tab.goto(f"{app_url}{path}?lang={lang}")
    wait_for_chart(tab)
    assert tab.evaluate("() => document.documentElement.lang") == lang
    nav = tab.locator(".app-header .nav-link").all_inner_texts()
    assert translated(lang, "Compare") in nav and translated(lang, "DESI") in nav, nav
    if lang != "en":
        assert "Compare" not in nav and translated(lang, "Compare") != "Compare"
    texts = tab.evaluate(CHART_TEXTS)
    assert any(GERMANY[lang] in text for text in texts), texts[:40]
    numbers = [t for t in texts if re.search(r"\d[.,]\d", t)]
    assert any(re.search(rf"\d{re.escape(DECIMAL[lang])}\d", t) for t in numbers), numbers[:20]


def test_polish_csv_and_png_downloaded_from_the_compare_page(app_url, tab):
    """The Compare page's CSV link gives Polish headings with the numbers machine-readable; its PNG link renders
    the figure whose texts (read from the server's JSON of the same state) are Polish."""
    tab.goto(f"{app_url}/compare?lang=pl")
    wait_for_chart(tab)
    csv_link = tab.locator("a.export-link.export-csv").first
    csv_link.wait_for()
    assert "lang=pl" in csv_link.get_attribute("href")
    with tab.expect_download() as download:
        csv_link.click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    head = rows[0]
    assert head[:3] == [translated("pl", m) for m in ("indicator code", "country code", "country")]
    assert head[:2] == ["kod wskaźnika", "kod państwa"] and "wartość" in head
    germany = next(r for r in rows[1:] if r[1] == "DE")
    assert germany[2] == "Niemcy"
    value = germany[head.index("wartość")]
    assert float(value) >= 0 and germany[head.index("wartość w zapisie lokalnym")] == f"{float(value):.2f}".replace(".", ",")

    png_href = tab.locator("a.export-link.export-png").first.get_attribute("href")
    assert "lang=pl" in png_href
    query = png_href.split("?", 1)[1]
    embed = urllib.request.urlopen(f"{app_url}/embed/ranked_bar?{query}", timeout=60).read().decode("utf-8")
    assert '<html lang="pl">' in embed
    figure = json.loads(re.search(r'<script type="application/json" id="dsm-embed-figure">(.*?)</script>', embed,
                                  re.S).group(1).replace("<\\/", "</"))
    notes = [a["text"] for a in figure["layout"]["annotations"]]
    assert any(n.startswith("Źródło: Eurostat") for n in notes), notes
    assert "Niemcy" in figure["data"][0]["x"] and figure["layout"]["separators"] == ",\u00a0"
    with urllib.request.urlopen(app_url + png_href, timeout=120) as response:
        assert response.headers["Content-Type"] == "image/png"
        png = response.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1920, 1080)  # the link asks for the 16:9 slide size


def test_unknown_address_and_unknown_language(app_url, tab):
    """The not-found page speaks the URL's language (its browser title too); an unknown lang is English."""
    tab.goto(f"{app_url}/no-such-page?lang=de")
    tab.wait_for_selector(".friendly-error")
    assert tab.evaluate("() => document.documentElement.lang") == "de"
    assert translated("de", "There is no page at this address.") in tab.inner_text(".friendly-error")
    tab.wait_for_function("t => document.title === t", arg=translated("de", "Not found — {site}").format(
        site=translated("de", "Baltic DSM Dashboard")))
    tab.goto(f"{app_url}/compare?lang=tlh")
    wait_for_chart(tab)
    assert tab.evaluate("() => document.documentElement.lang") == "en"
    assert "Compare" in tab.locator(".app-header .nav-link").all_inner_texts()
