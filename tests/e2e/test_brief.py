"""Policy briefs end to end: served over loopback, rendered in headless Chromium, one A4 page, numbers = database."""
from __future__ import annotations

import math
import re
import urllib.error
import urllib.request

import duckdb
import pytest

from tests.e2e.conftest import block_internet

pytestmark = pytest.mark.browser

A4_POINTS = (595.3, 841.9)


@pytest.fixture
def base_url(app_url) -> str:
    """The real app under gunicorn (tests/e2e/conftest.py); the Findings page module registers the brief routes."""
    return app_url


@pytest.fixture(scope="module")
def database(e2e_data_dir):
    """An independent read-only connection to the same database file the app serves."""
    con = duckdb.connect(str(e2e_data_dir / "dsm.duckdb"), read_only=True)
    yield con
    con.close()


def peers(database) -> list[str]:
    """The BSR countries, read straight from the geo table."""
    return [r[0] for r in database.execute("SELECT code FROM geo WHERE is_bsr ORDER BY code").fetchall()]


def fetch(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page object in a PDF (Chromium writes uncompressed page dicts)."""
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    boxes = [tuple(float(x) for x in m.split()[2:4]) for m in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)]
    assert boxes, "no MediaBox in the PDF"
    return [boxes[0]] * len(pages) if len(boxes) == 1 else boxes[: len(pages)]


def brief_paths(database) -> list[str]:
    """Every brief: one per BSR country and one per work package."""
    return [*(f"/brief/country/{g}" for g in peers(database)), *(f"/brief/wp/{wp}" for wp in ("WP2", "WP3", "WP4"))]


def shown_cells(page) -> list[dict]:
    """Every value cell the brief shows, read from the rendered DOM."""
    return page.eval_on_selector_all("td[data-indicator]", """cells => cells.map(c => ({
        indicator: c.dataset.indicator, geo: c.dataset.geo, year: Number(c.dataset.year),
        flags: c.dataset.flags, text: c.textContent}))""")


# Printing costs ~2 s of Chromium per brief, so the PDF check covers every work package and three countries
# (first and last BSR code, and Norway, which DESI does not cover); the print-layout height of every brief is
# checked in the browser test below.
PDF_COUNTRIES = ("EE", "SE", "NO")


def test_briefs_are_one_a4_page_in_the_pdf(base_url, database):
    paths = [p for p in brief_paths(database) if p.startswith("/brief/wp/") or p.rsplit("/", 1)[1] in PDF_COUNTRIES]
    assert len(paths) == 6
    for path in paths:
        status, content_type, body = fetch(f"{base_url}{path}?format=pdf")
        assert status == 200 and content_type.startswith("application/pdf"), (path, status, body[:200])
        assert body.startswith(b"%PDF"), path
        pages = pdf_pages(body)
        assert len(pages) == 1, f"{path}: {len(pages)} pages, the brief must fit one A4 page"
        width, height = pages[0]
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, f"{path}: page {width}x{height} pt"


def check_cells_against_database(path: str, cells: list[dict], database) -> None:
    """Every number the brief shows equals the database's value (to the shown decimal) and carries its flags."""
    for cell in cells:
        rows = database.execute(
            "SELECT value, flags FROM indicator_values WHERE indicator = ? AND geo = ? AND year = ? "
            "AND value IS NOT NULL ORDER BY period DESC LIMIT 1",
            [cell["indicator"], cell["geo"], cell["year"]]).fetchall()
        assert rows, f"{path}: shows {cell} which the database does not hold"
        value, flags = rows[0]
        number = float(re.search(r"-?\d+(?:\.\d+)?", cell["text"].replace(",", "")).group())
        # printed to one decimal by CLDR (half up: 89.35 -> 89.4), so within 0.05 of the database's value
        assert math.isclose(number, value, abs_tol=0.0501), f"{path}: {cell} vs database {value}"
        assert (cell["flags"] or None) == flags, f"{path}: flags {cell['flags']!r} vs database {flags!r}"
        if flags:
            assert f"({flags})" in cell["text"], f"{path}: flag {flags} not shown in {cell['text']!r}"


def test_every_brief_renders_fits_a4_and_its_numbers_equal_the_database(base_url, page, database):
    blocked = block_internet(page)
    failed, checked = [], 0
    page.on("requestfailed", lambda r: failed.append(r.url))
    for path in brief_paths(database):
        response = page.goto(base_url + path)
        assert response.status == 200, path
        assert page.eval_on_selector_all("figure img", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"), path
        assert page.locator("figure img").count() >= 1, f"{path}: no chart"
        captions = page.locator("figcaption").all_inner_texts()
        assert captions and all(c.startswith("Source: ") for c in captions), f"{path}: chart without a source line"
        assert page.locator("li[data-finding]").count() >= 1, f"{path}: no finding"
        cells = shown_cells(page)
        check_cells_against_database(path, cells, database)
        checked += len(cells)
        page.emulate_media(media="print")
        # Chromium's own layout of the print page: content must fit a 297 mm page minus the 2 x 11 mm margins.
        height_mm = page.evaluate("document.querySelector('main').getBoundingClientRect().height * 25.4 / 96")
        assert height_mm <= 297 - 22, f"{path}: content is {height_mm:.0f} mm tall"
        page.emulate_media(media="screen")
    assert checked > 0, "no value cells found in any brief"
    assert not failed and not blocked, f"requests failed: {failed}, blocked: {blocked}"
    assert not page.console_errors, page.console_errors


def test_brief_year_is_the_latest_year_most_bsr_countries_report(base_url, page, database):
    bsr = peers(database)
    page.goto(f"{base_url}/brief/wp/WP4")
    for cell in shown_cells(page):
        by_year = dict(database.execute(
            "SELECT year, count(DISTINCT geo) FROM indicator_values WHERE indicator = ? AND value IS NOT NULL "
            "AND geo = ANY(?) GROUP BY year", [cell["indicator"], bsr]).fetchall())
        reporting = database.execute(
            "SELECT count(DISTINCT geo) FROM indicator_values WHERE indicator = ? AND value IS NOT NULL AND geo = ANY(?)",
            [cell["indicator"], bsr]).fetchone()[0]
        expected = max(y for y, n in by_year.items() if n * 2 >= reporting)
        assert cell["year"] == expected, f"{cell['indicator']}: brief uses {cell['year']}, expected {expected}"


def test_unknown_country_or_work_package_is_a_plain_404(base_url):
    for path in ("/brief/country/XX", "/brief/country/FR", "/brief/wp/WP9", "/brief/wp/wp4"):
        status, content_type, body = fetch(base_url + path)
        assert status == 404 and content_type.startswith("text/plain"), (path, status, content_type)
        assert b"No brief for" in body
    status, _, body = fetch(f"{base_url}/brief/wp/WP4?format=docx")
    assert status == 400 and b"Unknown format" in body
