"""Briefs as short PowerPoint decks (/brief/...?format=pptx), opened with python-pptx; PDF/PowerPoint buttons."""
from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Pt

from dashboard import slides
from tests.dashboard.test_export import close_renderer, db  # noqa: F401 - fixtures

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.fixture(scope="module")
def client(dashboard_data_dir):
    """The dashboard's Flask test client reading the test database (one app for the module)."""
    from dashboard.data import connection

    patch = pytest.MonkeyPatch()
    patch.setenv("DSM_DATA_DIR", str(dashboard_data_dir))
    connection.clear_cache()
    from dashboard.app import app

    yield app.server.test_client()
    connection.clear_cache()
    patch.undo()


def deck(client, path: str) -> Presentation:
    """GET a brief deck and open it with python-pptx."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == PPTX_TYPE
    assert response.headers["Content-Disposition"].endswith('.pptx"')
    return Presentation(io.BytesIO(response.data))


def boxes(slide) -> dict[str, str]:
    """Shape name -> text of a slide's text boxes."""
    return {shape.name: shape.text_frame.text for shape in slide.shapes if shape.has_text_frame}


def pictures(slide) -> list:
    """The picture shapes of a slide."""
    return [shape for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]


def assert_legible(presentation: Presentation) -> None:
    """16:9; every run at least 12 pt, every title at least 28 pt."""
    assert round(presentation.slide_width / presentation.slide_height, 3) == round(16 / 9, 3)
    for slide in presentation.slides:
        for shape in slide.shapes:
            if not shape.has_text_frame:
                continue
            for paragraph in shape.text_frame.paragraphs:
                for run in paragraph.runs:
                    assert run.font.size is not None and run.font.size >= Pt(slides.MIN_POINT_SIZE), run.text
                    if shape.name == "Title":
                        assert run.font.size >= Pt(28), run.text


def test_country_deck_title_indicators_findings_sources(client, db, is_standin):
    if is_standin:
        pytest.skip("the brief's findings and key indicators are those of the real catalogue")
    presentation = deck(client, "/brief/country/EE?format=pptx")
    assert_legible(presentation)
    shown = presentation.slides
    headline = [r[0] for r in db.execute("SELECT id FROM catalogue WHERE headline ORDER BY id").fetchall()]
    titles = dict(db.execute("SELECT id, title FROM catalogue").fetchall())
    # title slide, one slide per key indicator (at most four), findings, sources
    assert len(shown) == 2 + slides_with_pictures(shown) + 1 and 1 <= slides_with_pictures(shown) <= 4
    assert "Estonia" in boxes(shown[0])["Title"] and not pictures(shown[0])
    assert "\t" in shown[0].notes_slide.notes_text_frame.text  # the brief's table in the notes
    for slide in list(shown)[1:-2]:
        (picture,) = pictures(slide)
        assert picture.image.blob[:8] == b"\x89PNG\r\n\x1a\n"
        text = boxes(slide)
        # the chart shows the newest source of the measure: the headline series or its same_measure_as twin
        shown_id = max((i for i in titles if text["Title"].startswith(titles[i])), key=lambda i: len(titles[i]))
        twin_of = dict(db.execute("SELECT id, same_measure_as FROM catalogue WHERE same_measure_as IS NOT NULL").fetchall())
        indicator = shown_id if shown_id in headline else twin_of[shown_id]
        assert indicator in headline
        sentence = text["Body"].splitlines()[0]
        assert sentence.startswith(f"• {titles[indicator]}: Estonia"), sentence  # the sentence names the indicator
        year = int(text["Title"].rsplit(", ", 1)[1])
        value = db.execute("SELECT arg_max(value, period) FROM indicator_values WHERE indicator = ? AND geo = 'EE' "
                           "AND year = ?", [shown_id, year]).fetchone()[0]
        assert f"{value:.1f}" in sentence, (sentence, value)
        notes = slide.notes_slide.notes_text_frame.text
        assert sentence[2:] in notes and "geo_name\tgeo\tyear\tvalue" in notes and "\nEstonia\tEE\t" in notes
        assert "geo=EE" in text["Source"] and "Source:" in text["Source"]
    findings, sources = boxes(shown[-2]), boxes(shown[-1])
    assert "Estonia" in findings["Title"] and findings["Body"].startswith("• WP")
    assert shown[-2].notes_slide.notes_text_frame.text  # the findings' texts
    assert sources["Title"] == "Sources" and "/country?geo=EE" in sources["Body"]
    assert "(updated 2" in sources["Body"] or "(retrieved 2" in sources["Body"], "every dataset dated"


def slides_with_pictures(shown) -> int:
    """How many slides carry a chart picture."""
    return sum(1 for slide in shown if pictures(slide))


def test_wp_deck(client, is_standin):
    if is_standin:
        pytest.skip("work-package findings link real indicators")
    presentation = deck(client, "/brief/wp/WP2?format=pptx")
    assert_legible(presentation)
    shown = list(presentation.slides)
    charts = slides_with_pictures(shown)
    assert charts >= 1 and len(shown) == charts + 3
    assert boxes(shown[0])["Title"].startswith("WP2")
    for slide in shown[1:-2]:
        text = boxes(slide)
        indicator_title = text["Title"].rsplit(", ", 1)[0]
        assert text["Body"].startswith(f"• {indicator_title}, "), text["Body"]  # names the indicator
        assert "best in the BSR" in text["Body"]
    assert boxes(shown[-2])["Body"].count("• WP2:") >= 1


@pytest.mark.parametrize("path, status", [("/brief/country/FR?format=pptx", 404), ("/brief/country/xx?format=pptx", 404),
                                          ("/brief/wp/WP9?format=pptx", 404), ("/brief/country/EE?format=ppt", 400)])
def test_bad_brief_requests_get_a_plain_4xx(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and "Traceback" not in response.get_data(as_text=True)


def test_html_brief_offers_pdf_and_powerpoint_buttons(client, is_standin):
    if is_standin:
        pytest.skip("briefs read the real findings")
    page = client.get("/brief/country/LV").get_data(as_text=True)
    assert 'class="button" href="?format=pdf"' in page and 'class="button" href="?format=pptx"' in page
    assert "Download as PDF" in page and "Download as PowerPoint" in page


def test_brief_charts_keep_whole_titles_units_and_no_axis_title(dsm_env, monkeypatch, is_standin):
    """The gap chart's indicator titles are whole (wrapped, never cut) with each gap in its unit; the ranking
    chart states its unit under the chart, not as an axis title that ran into the chart title."""
    if is_standin:
        pytest.skip("headline indicators of the real catalogue")
    from concurrent.futures import Future

    from dashboard import brief
    from dashboard.data import queries

    drawn = []

    def capture(fig, alt):
        drawn.append(fig)
        done = Future()
        done.set_result("")
        return done

    monkeypatch.setattr(brief, "_svg_img", capture)
    headline = queries.headline_indicators()
    _img, caption = brief.gap_chart("EE", headline)
    gap = drawn[-1]
    titles = {queries.indicator_meta(i).title for i in headline}
    shown = {label.replace("<br>", " ") for label in gap.data[0].y}
    assert shown <= titles and not any("…" in s for s in shown)
    assert all(t.endswith((" pp", " points")) and t[0] in "+−" for t in gap.data[0].text)
    _img, caption = brief.ranking_chart(headline[0], highlight="EE")
    assert drawn[-1].layout.yaxis.title.text is None and "Unit: %" in caption


def test_a_brief_in_one_language_is_not_served_in_another(client, is_standin):
    """The brief's cache is per language: a Polish visit first does not give the next English visitor Polish."""
    if is_standin:
        pytest.skip("briefs read the real findings")
    polish = client.get("/brief/wp/WP4?lang=pl").get_data(as_text=True)
    english = client.get("/brief/wp/WP4?lang=en").get_data(as_text=True)
    assert "Pobierz jako PDF" in polish and "Pobierz jako PDF" not in english and "Download as PDF" in english


def test_the_html_brief_speaks_the_language_of_its_url(client, is_standin):
    """Template text goes through the catalogues too: <html lang>, headings, table heads and footer in Polish / German."""
    if is_standin:
        pytest.skip("briefs read the real findings")
    from dashboard import i18n

    def said(lang, message, **params):
        return i18n.translations(lang).gettext(message).format(**params)

    polish = client.get("/brief/country/EE?lang=pl").get_data(as_text=True)
    assert polish.startswith('<!doctype html><html lang="pl">')
    for heading in (said("pl", "Where {country} stands", country="Estonia"), said("pl", "What the data say")):
        assert f"<h2>{heading}</h2>" in polish and heading != "What the data say"
    assert said("pl", "Headline indicator") in polish and "Headline indicator" not in polish
    assert "Baltic DSM Dashboard dla projektu DIGINNO" in polish and "Brief made" not in polish
    german = client.get("/brief/wp/WP3?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in german and "<th>Indikator (Jahr)</th>" in german
    assert f"<h2>{said('de', 'The evidence: linked indicators, latest year')}</h2>" in german


def test_the_country_table_takes_the_newest_source_and_the_editions_eu(client, db, is_standin):
    """Where the Digital Decade facts are newer than the Eurostat series the table shows them, marked † with the
    source named (as the insights do); a DESI 2020 row names its EU28 reference."""
    if is_standin:
        pytest.skip("briefs read the real database")
    import re

    html = client.get("/brief/country/EE?lang=en").get_data(as_text=True)
    twin = db.execute("SELECT id FROM catalogue WHERE same_measure_as = 'basic_digital_skills'").fetchone()[0]
    year, value = db.execute("SELECT year, value FROM indicator_values WHERE indicator = ? AND geo = 'EE' "
                             "ORDER BY year DESC LIMIT 1", [twin]).fetchone()
    cell = re.search(rf'data-indicator="{twin}" data-geo="EE" data-year="{year}" data-value="([^"]+)"', html)
    assert cell and float(cell.group(1)) == pytest.approx(value), "the skills row is the newer source's"
    assert f"{year} †" in html and "† Newest data, from the Digital Decade 2026 report." in html
    assert re.search(r'data-geo="EU28"[^>]*>[^<]*<span class="muted">EU28</span>', html)
