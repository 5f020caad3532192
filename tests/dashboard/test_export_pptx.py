"""PowerPoint downloads over real HTTP on loopback, opened with python-pptx; spreadsheet cells safe to open."""
from __future__ import annotations

import io
import struct

import pandas as pd
import pytest
from pptx import Presentation
from pptx.util import Pt

from dashboard import export, slides
from tests.dashboard.test_export import base_url, close_renderer, db, fetch, peers  # noqa: F401 - fixtures

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def picture_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", png[16:24])


def open_deck(base_url: str, path: str) -> Presentation:
    """GET a .pptx and open it with python-pptx."""
    status, headers, body = fetch(f"{base_url}{path}")
    assert status == 200, body[:300]
    assert headers["Content-Type"] == PPTX_TYPE
    assert headers["Content-Disposition"].endswith('.pptx"')
    return Presentation(io.BytesIO(body))


def texts(slide) -> dict[str, str]:
    """Shape name -> its text, for the text boxes of a slide."""
    return {shape.name: shape.text_frame.text for shape in slide.shapes if shape.has_text_frame}


@pytest.fixture(scope="module")
def indicator(db, peers) -> str:
    """A headline indicator with values for most peers in its latest year."""
    return db.execute(
        "SELECT indicator FROM indicator_values WHERE geo = ANY(?) AND indicator IN "
        "(SELECT id FROM catalogue WHERE headline) GROUP BY indicator ORDER BY count(*) DESC, indicator LIMIT 1",
        [peers]).fetchone()[0]


def test_chart_slide_has_title_picture_source_and_the_data_in_its_notes(base_url, db, peers, indicator):
    deck = open_deck(base_url, f"/export/ranked_bar.pptx?indicator={indicator}")
    assert (deck.slide_width, deck.slide_height) == (slides.SLIDE_WIDTH, slides.SLIDE_HEIGHT)
    assert round(deck.slide_width / deck.slide_height, 3) == round(16 / 9, 3)
    (slide,) = deck.slides
    title, dataset = db.execute("SELECT title, dataset FROM catalogue WHERE id = ?", [indicator]).fetchone()
    boxes = texts(slide)
    assert title in boxes["Title"]
    assert dataset in boxes["Source"] and "Interactive view: http" in boxes["Source"]
    assert "<b>" not in boxes["Source"], "markup of the figure's annotations is stripped"
    (picture,) = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
    assert picture_size(picture.image.blob) == slides.picture_pixels()
    # The notes hold the chart's rows: every peer's value of the latest year, as the database has it.
    year = db.execute("SELECT max(year) FROM indicator_values WHERE indicator = ? AND geo = ANY(?)",
                      [indicator, peers]).fetchone()[0]
    notes = slide.notes_slide.notes_text_frame.text.splitlines()
    header = notes[2].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in notes[3:] if "\t" in line]
    expected = dict(db.execute("SELECT geo, value FROM indicator_values WHERE indicator = ? AND year = ? AND geo = ANY(?)",
                               [indicator, year, peers]).fetchall())
    noted = {r["geo"]: r["value"] for r in rows if r["geo"] in expected}
    assert noted and set(noted) == set(expected)
    for geo, value in expected.items():
        assert float(noted[geo]) == pytest.approx(value), geo


def test_every_text_on_a_chart_slide_is_at_least_the_minimum_point_size(base_url, indicator):
    deck = open_deck(base_url, f"/export/trends.pptx?indicator={indicator}")
    sizes = [run.font.size for shape in deck.slides[0].shapes if shape.has_text_frame
             for paragraph in shape.text_frame.paragraphs for run in paragraph.runs]
    assert sizes and all(size is not None and size >= Pt(slides.MIN_POINT_SIZE) for size in sizes)


def test_picture_text_is_drawn_at_slide_legible_size():
    # 14 pt on the slide, in the picture's own pixels: the picture is shown at PICTURE_WIDTH inches wide.
    width_px, _ = slides.picture_pixels()
    shown_pt = slides.chart_font_px() / width_px * (slides.PICTURE_WIDTH / 914400) * 72
    assert shown_pt == pytest.approx(slides.CHART_TEXT_PT, abs=0.3)


def test_map_slide_renders(base_url, indicator):
    deck = open_deck(base_url, f"/export/choropleth.pptx?indicator={indicator}")
    (picture,) = [s for s in deck.slides[0].shapes if s.shape_type == 13]
    assert len(picture.image.blob) > 20_000, "a drawn map, not an empty canvas"


def test_unknown_chart_as_pptx_is_a_404(base_url):
    status, _, body = fetch(f"{base_url}/export/no_such_chart.pptx")
    assert status == 404 and b"Unknown chart" in body


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised_and_numbers_stay_numbers(text):
    table = export.export_table(pd.DataFrame({"geo": ["EE"], "geo_name": [text], "year": [2024], "value": [-5.0],
                                              "flags": [None]}))
    assert table.loc[0, "geo_name"] == "'" + text
    assert table.loc[0, "value"] == -5.0 and isinstance(table.loc[0, "value"], float)


def test_xlsx_cells_are_neutralised_text_and_numeric_numbers():
    from openpyxl import load_workbook

    table = export.export_table(pd.DataFrame({"geo": ["EE"], "geo_name": ["=1+1"], "year": [2024], "value": [-5.0],
                                              "flags": [None]}))
    book = load_workbook(io.BytesIO(export.to_xlsx(table, {"title": "=cmd"})))
    header = [c.value for c in book["Data"][1]]
    row = dict(zip(header, [c.value for c in book["Data"][2]]))
    assert row["geo_name"] == "'=1+1" and row["value"] == -5.0
    assert book["Data"].cell(row=2, column=header.index("geo_name") + 1).data_type == "s"
    about = {r[0].value: r[1].value for r in book["About"].iter_rows(min_row=2)}
    assert about["title"] == "'=cmd"
