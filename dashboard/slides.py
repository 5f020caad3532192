"""PowerPoint output: 16:9 slides with native title, subtitle and source text, the chart as a picture, and the data
table in the speaker notes (python-pptx).

Type sizes, chosen to be read from the back of a meeting room (a 13.33 x 7.5 in slide projected ~2.5 m wide):
title 30 pt, subtitle 18 pt, text inside the chart picture 14 pt or more, source line and flag legend 12 pt
(MIN_POINT_SIZE). Nothing on a slide is smaller.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from dashboard.i18n import ngettext

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TITLE_PT, SUBTITLE_PT, BODY_PT, CHART_TEXT_PT, MIN_POINT_SIZE = 30, 18, 18, 14, 12
PICTURE_TOP, PICTURE_HEIGHT = Inches(1.55), Inches(4.95)
PICTURE_WIDTH = SLIDE_WIDTH - 2 * MARGIN
FOOTER_TOP = Inches(6.6)
BRIEF_PICTURE_HEIGHT = Inches(3.75)  # a brief's indicator slide: the picture, then its sentences at BODY_PT
PICTURE_SCALE = 2  # pixels per point of picture width x 2 (sharp on a projector)
NOTE_ROWS = 60     # data-table rows written into the speaker notes (the full table is in the CSV/XLSX export)
GREY = RGBColor(0x44, 0x44, 0x44)


def picture_pixels(height: Emu = PICTURE_HEIGHT) -> tuple[int, int]:
    """Pixel size of the chart picture: the picture box (full width, `height` EMU tall) at 96 px per inch, times
    PICTURE_SCALE (so its text shows at CHART_TEXT_PT whatever the height)."""
    return (round(PICTURE_WIDTH / 914400 * 96 * PICTURE_SCALE), round(height / 914400 * 96 * PICTURE_SCALE))


def chart_font_px() -> int:
    """Body font size in picture pixels that shows as CHART_TEXT_PT on the slide."""
    return round(CHART_TEXT_PT / 72 * 96 * PICTURE_SCALE)


@dataclass
class SlideSpec:
    """One slide: title, subtitle, an optional PNG picture, bullet lines, footer lines and speaker notes."""

    title: str
    subtitle: str = ""
    picture: bytes | None = None
    picture_height: Emu = PICTURE_HEIGHT  # shorter when bullet lines sit under the picture
    bullets: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    notes: str = ""


def _note_cell(column: str, value) -> str:
    """One notes cell: a missing value ':' (Eurostat's 'not available'), no flag '—', anything else as text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return "—" if column == "flags" else ":"
    return str(value)


def notes_table(table: pd.DataFrame, columns: list[str]) -> str:
    """The data behind a chart as tab-separated lines for the speaker notes."""
    present = [c for c in columns if c in table.columns]
    lines = ["\t".join(present)]
    for _, row in table.head(NOTE_ROWS).iterrows():
        lines.append("\t".join(_note_cell(c, row[c]) for c in present))
    if len(table) > NOTE_ROWS:
        lines.append(ngettext("... {n} more row in the CSV/XLSX download", "... {n} more rows in the CSV/XLSX download",
                              len(table) - NOTE_ROWS))
    return "\n".join(lines)


def _text_box(slide, top: Emu, height: Emu, lines: list[str], size: int, *, bold: bool = False,
              colour: RGBColor | None = None, name: str = ""):
    """A left-aligned, word-wrapped text box across the slide's width."""
    box = slide.shapes.add_textbox(MARGIN, top, SLIDE_WIDTH - 2 * MARGIN, height)
    box.name = name or box.name
    frame = box.text_frame
    frame.word_wrap = True
    for i, text in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        if colour is not None:
            run.font.color.rgb = colour
    return box


def add_slide(deck: Presentation, spec: SlideSpec) -> None:
    """Append one slide built from a SlideSpec (blank layout; every text a native, editable text box)."""
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    _text_box(slide, Inches(0.3), Inches(0.75), [spec.title], TITLE_PT, bold=True, name="Title")
    if spec.subtitle:
        _text_box(slide, Inches(1.0), Inches(0.5), [spec.subtitle], SUBTITLE_PT, colour=GREY, name="Subtitle")
    if spec.picture is not None:
        picture = slide.shapes.add_picture(io.BytesIO(spec.picture), MARGIN, PICTURE_TOP, PICTURE_WIDTH,
                                           spec.picture_height)
        picture.name = "Chart"
    if spec.bullets:
        top = PICTURE_TOP + (spec.picture_height if spec.picture is not None else 0)
        _text_box(slide, top, FOOTER_TOP - top, [f"• {b}" for b in spec.bullets], BODY_PT, name="Body")
    if spec.footer:
        _text_box(slide, FOOTER_TOP, Inches(0.8), spec.footer, MIN_POINT_SIZE, colour=GREY, name="Source")
    if spec.notes:
        slide.notes_slide.notes_text_frame.text = spec.notes


def deck_bytes(specs: list[SlideSpec]) -> bytes:
    """A 16:9 .pptx holding one slide per spec."""
    assert specs, "a deck needs at least one slide"
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    for spec in specs:
        add_slide(deck, spec)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
