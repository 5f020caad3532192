"""Downloads of a chart: the data behind it (CSV, XLSX), images for slides and documents (PNG, SVG), offline HTML,
and a PowerPoint slide (PPTX, see dashboard.slides).

Everything here works from one chart of the page registry (dashboard.registry) and one URL state, so the
file always holds exactly the rows the chart shows.

    GET /export/<chart>.<png|svg|csv|xlsx|html|pptx>?<the page's query string>&size=<size>&theme=<theme>

- chart: a registry name (scorecard, ranked_bar, trends, choropleth, scatter, profile, desi_stack, desi_trend, ...).
- the state parameters are the page's own (indicator, geo, year, view, page extras); copy them from the address bar.
- size (images; default column): slide169 = 1920x1080 (16:9 slide), slide43 = 1600x1200 (4:3 slide; the same
  aspect as 1024x768 at a resolution that stays sharp when projected), column = 800x500 (a document column).
- theme: default (the dashboard's look) or presentation (large type for slides, white background, thick lines).
- csv/xlsx: the chart's rows with value, unit, flags and flag_meaning (every letter explained), dataset,
  source_updated and retrieved_at; xlsx adds an 'About' sheet (view link, sources, flag legend, licence).
- html: one self-contained file (plotly.js and, for the map, the topojson inlined) that works offline.
- pptx: one 16:9 slide: native title, subtitle, source line with dates, flag legend and view link; the chart as a
  picture drawn with 14 pt text at its size on the slide; the data table in the speaker notes.
- csv/xlsx/pptx text cells that a spreadsheet would run as a formula (=, +, -, @ first) start with an apostrophe.
- errors: 404 for an unknown chart or format, 400 for a bad size, theme or state, 503 when no database or no
  Chromium; always a one-line text/plain message.

Scripting a deck:  for c in trends ranked_bar choropleth; do
    curl -fo "$c.png" "http://127.0.0.1:8050/export/$c.png?indicator=households_internet_access&size=slide169&theme=presentation"; done

PNG/SVG are drawn by the render service (dashboard/render.py: kaleido through the system Chromium, a bounded number
at once per worker, 503 + Retry-After when all are taken), kept per state and database version.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
import math
import re
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from flask import Response, request

from dashboard import i18n, registry, render, slides
from dashboard.columns import download_heading
from dashboard.data import queries
from dashboard.data.connection import DatabaseMissing, cached, remember
from dashboard.figures import common
from dashboard.figures.choropleth import TOPOJSON_URL
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import N_, _
from dashboard.security import public_base_url
from dashboard.state import InvalidState, href, state_to_query
from etl.model import FLAG_MEANINGS

# Pixel sizes: a 16:9 slide, a 4:3 slide (1600x1200: sharp when projected, same aspect as 1024x768), a document column.
SIZES: dict[str, tuple[int, int]] = {
    "slide169": (1920, 1080),
    "slide43": (1600, 1200),
    "column": (800, 500),
}
DEFAULT_SIZE = "column"
THEMES = ("default", "presentation")
DEFAULT_THEME = "default"
IMAGE_FORMATS = ("png", "svg")
DATA_FORMATS = ("csv", "xlsx")
FORMATS = IMAGE_FORMATS + DATA_FORMATS + ("html", "pptx")
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Columns every data download carries, in this order, ahead of whatever else the chart's data holds.
LEADING_COLUMNS = ["indicator", "geo", "geo_name", "period", "year", "value", "unit", "unit_label", "flags",
                   "flag_meaning", "dataset", "source_updated", "retrieved_at"]
PROVENANCE_COLUMNS = ["dataset", "source_updated", "retrieved_at"]
# A two-indicator chart (scatter) lists each axis's value with its own flags and provenance.
PAIRED_LEADING = ["geo", "geo_name"] + [f"{axis}_{c}" if c else axis for axis in ("x", "y") for c in
                                        ("indicator", "", "unit", "flags", "flag_meaning", "period", "dataset",
                                         "source_updated", "retrieved_at")] + ["dataset", "retrieved_at"]
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # first characters that make a spreadsheet cell a formula
FOOTER_NAME = "dsm-export-footer"  # annotation name, so a figure is never given two footers
LICENCE = N_("Source: Eurostat / European Commission (DESI); reuse authorised with acknowledgement (Decision 2011/833/EU).")


class ExportError(ValueError):
    """A request for an export that cannot be made; `status` is the HTTP status to answer with."""
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ExportRequest:
    """What to export: chart name, file format, image size and theme (already validated)."""
    chart: str
    fmt: str
    size: str = DEFAULT_SIZE
    theme: str = DEFAULT_THEME


# --- flags -------------------------------------------------------------------------------------------------------

def explain_flags(flags: Any) -> str:
    """'bu' -> 'b: break in time series; u: low reliability'; no flag -> ''."""
    if flags is None or (not isinstance(flags, str) and pd.isna(flags)) or flags == "":
        return ""
    unknown = [letter for letter in str(flags) if letter not in FLAG_MEANINGS]
    assert not unknown, f"flag {flags!r} has letters {unknown} that etl.model.FLAG_MEANINGS does not define"
    return "; ".join(f"{letter}: {i18n.flag_meaning(letter)}" for letter in str(flags))


def flags_present(frame: pd.DataFrame) -> list[str]:
    """The distinct flag letters in a frame's flags column, sorted."""
    if "flags" not in frame.columns:
        return []
    return sorted(set("".join(str(f) for f in frame["flags"].dropna())))


# --- the data table ----------------------------------------------------------------------------------------------

def _iso_utc(stamp: Any) -> str | None:
    """A timestamp as 'YYYY-MM-DDTHH:MM:SSZ' (UTC); strings pass through; missing stays None."""
    if stamp is None or (not isinstance(stamp, str) and pd.isna(stamp)):
        return None
    if isinstance(stamp, str):
        return stamp
    ts = pd.Timestamp(stamp)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) behind a leading apostrophe (OWASP)."""
    return "'" + text if text[:1] in FORMULA_TRIGGERS else text


def _cell(value: Any) -> Any:
    """A spreadsheet-safe cell: lists/dicts as JSON text, formula-like text neutralised, pandas missing as None.

    Numbers stay numbers: only str cells are touched."""
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return neutralise_formula(value) if isinstance(value, str) else value


def export_table(data: pd.DataFrame, *, provenance: dict | None = None, geo_names: dict | None = None) -> pd.DataFrame:
    """The rows behind a chart, one per row of `data`, with flag meanings and provenance columns in front.

    `provenance` (dataset, source_updated, retrieved_at) fills rows that carry none themselves, such as a computed
    BSR average; `geo_names` adds a readable country name.
    """
    table = data.copy().reset_index(drop=True)
    paired = "value" not in table.columns and {"x", "y"} <= set(table.columns)  # a scatter: values in x and y
    for column in (["unit"] if paired else ["value", "unit", "flags"]) + PROVENANCE_COLUMNS:
        if column not in table.columns:
            table[column] = None
    for column in PROVENANCE_COLUMNS:
        if provenance and provenance.get(column) is not None:
            table[column] = table[column].astype(object).where(table[column].notna(), provenance[column])
    if "name" in table.columns and "geo_name" not in table.columns:
        table = table.rename(columns={"name": "geo_name"})  # the charts' display name of the geo
    elif geo_names is not None and "geo" in table.columns:
        table["geo_name"] = table["geo"].map(lambda code: geo_names.get(code, code))
    if "flags" in table.columns:
        table["flags"] = table["flags"].astype(object).where(table["flags"].notna(), None)
        table["flag_meaning"] = table["flags"].map(explain_flags)
    for column in [c for c in table.columns if c.endswith("_flags")]:  # e.g. eu27_flags, score_flags
        table[column] = table[column].astype(object).where(table[column].notna(), None)
        table[f"{column[:-len('flags')]}flag_meaning"] = table[column].map(explain_flags)
    for column in [c for c in table.columns if c.endswith(("retrieved_at", "source_updated"))]:
        table[column] = table[column].map(_iso_utc)
    if "unit" in table.columns and "unit_label" not in table.columns:  # the unit in words beside its code
        words = [_unit_words(ind, code) for ind, code in zip(table.get("indicator", [None] * len(table)), table["unit"])]
        table.insert(table.columns.get_loc("unit") + 1, "unit_label", words)
    if "rank" in table.columns:  # competition ranks are whole numbers (NaN for rows that are not ranked)
        table["rank"] = pd.to_numeric(table["rank"], errors="coerce").astype("Int64")
    if "value" in table.columns:
        table["value"] = pd.to_numeric(table["value"], errors="coerce").astype(float)
        if i18n.current() != i18n.DEFAULT:  # the machine-readable number stays in `value`; its local spelling beside it
            table.insert(table.columns.get_loc("value") + 1, "value_text",
                         [i18n.format_number(v, 2) if pd.notna(v) else "" for v in table["value"]])
    if paired:
        table = table.drop(columns=[c for c in ("unit", "source_updated") if table[c].isna().all()])
    leading = [c for c in (PAIRED_LEADING if paired else LEADING_COLUMNS) if c in table.columns]
    if "value_text" in table.columns and "value" in leading:
        leading.insert(leading.index("value") + 1, "value_text")
    table = table[leading + [c for c in table.columns if c not in leading]]
    for column in table.select_dtypes("float").columns:  # derived numbers without float noise (7.049999999999997)
        table[column] = table[column].round(9)
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].astype(object).map(_cell)
    assert len(table) == len(data), f"export table has {len(table)} rows for {len(data)} chart rows"
    return table


def _unit_words(indicator_id, code) -> str | None:
    """A unit in words: the catalogue's for the indicator (translated), else the Eurostat code's label."""
    if not isinstance(code, str) or not code:
        return None
    if isinstance(indicator_id, str):
        try:
            words = queries.indicator(indicator_id).get("unit")
        except queries.UnknownIndicator:
            words = None
        if isinstance(words, str) and words:
            return words
    return common.unit_label(code)


def headed(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its column headings in the current language (English keeps the column names)."""
    if i18n.current() == i18n.DEFAULT:
        return table
    return table.rename(columns={c: download_heading(c) for c in table.columns})


def to_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV (headings in the current language); a missing value is an empty cell, never 0."""
    return headed(table).to_csv(index=False, na_rep="", lineterminator="\n").encode("utf-8")


def about_rows(table: pd.DataFrame, meta: dict) -> list[tuple[str, str]]:
    """(field, text) lines for the XLSX 'About' sheet: what, where from, when, what the flags mean."""
    rows = [(key, "" if value is None else str(value)) for key, value in meta.items()]
    # a two-indicator table (scatter) keeps each axis's provenance in x_/y_ columns
    prefixes = [""] if set(PROVENANCE_COLUMNS) <= set(table.columns) else ["x_", "y_"]
    for prefix in prefixes:
        columns = [prefix + c for c in PROVENANCE_COLUMNS]
        sources = table[columns].drop_duplicates() if len(table) else pd.DataFrame(columns=columns)
        for _row, source in sources.iterrows():
            dataset, updated, retrieved = (source[c] for c in columns)
            rows.append((_("source dataset"), _("{dataset} (updated {updated}; retrieved {retrieved})",
                                               dataset=dataset, updated=_known(updated) or _("unknown"),
                                               retrieved=_known(retrieved) or _("unknown"))))
    for letter in flags_present(table):
        rows.append((_("flag {letter}", letter=letter), i18n.flag_meaning(letter)))
    rows.append((_("missing values"), _("an empty value cell means not available (':' in Eurostat), never zero")))
    rows.append((_("licence"), _(LICENCE)))
    return rows


def _known(value) -> str:
    """A provenance cell as text, '' when it is missing (None, NaN or blank: never printed as 'nan')."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def to_xlsx(table: pd.DataFrame, meta: dict) -> bytes:
    """An XLSX workbook: sheet 'Data' (the rows) and sheet 'About' (title, link, sources, flag meanings), headings
    and sheet names in the current language."""
    buffer = io.BytesIO()
    data_sheet, about_sheet = _("Data"), _("About")
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        headed(table).to_excel(writer, sheet_name=data_sheet, index=False)
        about = [(field, neutralise_formula(text)) for field, text in about_rows(table, meta)]
        pd.DataFrame(about, columns=[_("field"), _("value")]).to_excel(writer, sheet_name=about_sheet, index=False)
        sheet = writer.sheets[data_sheet]
        sheet.freeze_panes = "A2"
        for column_cells in sheet.columns:
            width = max(len(str(c.value or "")) for c in column_cells[:200])
            sheet.column_dimensions[column_cells[0].column_letter].width = min(60, max(8, width + 2))
    return buffer.getvalue()


# --- figures for images and standalone HTML ----------------------------------------------------------------------

def _title_text(fig: go.Figure) -> str:
    """The figure's title text ('' when none)."""
    title = fig.layout.title
    return (title.text or "") if title is not None else ""


def _meta(fig: go.Figure) -> dict:
    """The figure's layout.meta when it is a dict (dashboard.figures.common.finish stores source and legend there)."""
    meta = fig.layout.meta
    return meta if isinstance(meta, dict) else {}


def _named_annotation_text(fig: go.Figure, name: str) -> str | None:
    """Text of the annotation with this name, if the figure has one."""
    for annotation in fig.layout.annotations:
        if annotation.name == name:
            return annotation.text
    return None


def footer_lines(fig: go.Figure, data: pd.DataFrame, source_line: str | None = None) -> list[str]:
    """The source line and flag legend an exported figure must carry (the figure's own, else built here)."""
    meta = _meta(fig)
    source = source_line or meta.get("source") or _named_annotation_text(fig, "source")
    legend = meta.get("flag_legend") or _named_annotation_text(fig, "flag-legend") or common.flag_legend_text(flags_present(data))
    return [line for line in (source, legend) if line]


def default_subtitle(fig: go.Figure, data: pd.DataFrame, unit_words: str | None = None) -> str:
    """'% of households · 2015–2024' from the unit in words (the chart's, else the catalogue's for the data's one
    indicator, else the code's label) and the years the data covers."""
    parts = []
    unit = _meta(fig).get("unit")
    units = data["unit"].dropna().unique() if "unit" in data.columns else []
    if unit is None and len(units) == 1:  # several units (e.g. the scorecard): no single unit to name
        unit = str(units[0])
    indicators = data["indicator"].dropna().unique() if "indicator" in data.columns else []
    if unit or unit_words:
        parts.append(unit_words or _unit_words(indicators[0] if len(indicators) == 1 else None, unit))
    if "year" in data.columns and data["year"].notna().any():
        first, last = int(data["year"].dropna().min()), int(data["year"].dropna().max())
        parts.append(str(first) if first == last else f"{first}–{last}")
    return " · ".join(parts)


def _without_footer(fig: go.Figure) -> go.Figure:
    """A copy of the figure without its source/flag-legend annotations (they are redrawn at export size)."""
    out = go.Figure(fig)
    keep = [a for a in out.layout.annotations if a.name not in ("source", "flag-legend", FOOTER_NAME)]
    out.layout.annotations = keep
    return out


def _presentation_fonts(width: int) -> dict:
    """Large type for slides, scaled to the image width (24 px body text on a 1920 px slide)."""
    base = max(14, round(width / 80))
    return {"base": base, "title": round(base * 1.6), "subtitle": round(base * 1.05), "footer": round(base * 0.75)}


def _default_fonts(width: int) -> dict:
    """The dashboard's own type sizes, grown a little on large canvases so text stays legible."""
    base = max(12, round(width / 110))
    return {"base": base, "title": round(base * 1.4), "subtitle": base, "footer": max(10, round(base * 0.8))}


def _has_cartesian_axes(fig: go.Figure) -> bool:
    """True when the figure draws x/y axes (tick labels need room above the footer)."""
    return any("xaxis" in trace._valid_props for trace in fig.data)


def _tick_label_space(fig: go.Figure, labels, base: int, plot_width: int) -> int:
    """Pixels the x tick labels take across the axis; crowded ones are tilted -45° (set here, so what lies beyond
    them, the footer below or the title above, can be placed: plotly's own auto-angle is only known after rendering)."""
    longest = max((len(label) for label in labels), default=4)
    angle = fig.layout.xaxis.tickangle
    if labels and angle is None and len(labels) * (longest + 1) * 0.6 * base > plot_width:
        angle = -45
        fig.update_xaxes(tickangle=angle)
    if not angle:
        return int(base * 1.6)
    return int(longest * 0.6 * base * abs(math.sin(math.radians(float(angle)))) + base * 1.4)


def _x_axis_space(fig: go.Figure, base: int, plot_width: int) -> int:
    """Pixels under the plot for x tick labels (long category labels tilted) and the axis title."""
    labels = {str(x) for trace in fig.data if getattr(trace, "orientation", None) != "h"
              for x in (getattr(trace, "x", None) or ()) if isinstance(x, str)}
    title_px = base * 2 if fig.layout.xaxis.title.text else 0
    return int(_tick_label_space(fig, labels, base, plot_width) + title_px + base * 0.6)


def _category_labels(fig: go.Figure, axis: str) -> list[str]:
    """The text category labels a figure writes along its x or y axis (heatmap columns/rows, bar categories)."""
    labels = []
    for trace in fig.data:
        if trace.type == "heatmap" or (trace.type == "bar" and (axis == "y") == (trace.orientation == "h")):
            labels += [label for label in (getattr(trace, axis, None) or ()) if isinstance(label, str)]
    return labels


def _left_space(fig: go.Figure, base: int) -> int:
    """Pixels left of the plot for the longest row label (a heatmap's rows, horizontal bars' names)."""
    rows = _category_labels(fig, "y")
    return int(max(map(len, rows)) * 0.55 * base + base) if rows else 0


def _top_axis_space(fig: go.Figure, base: int, plot_width: int) -> int:
    """Pixels above the plot for the column names of an x axis drawn on top (the scorecard), tilted when crowded."""
    labels = _category_labels(fig, "x")
    if fig.layout.xaxis.side != "top" or not labels:
        return 0
    return _tick_label_space(fig, labels, base, plot_width) + int(base * 0.4)


def _fit_cell_text(fig: go.Figure, base: int, plot_width: int) -> None:
    """Write a heatmap's cell texts as large as its cells allow (plotly's own choice is small at export sizes)."""
    for trace in fig.data:
        if trace.type != "heatmap" or not trace.text or not trace.x:
            continue
        lines = [line for row in trace.text for cell in row for line in str(cell or "").split("<br>")]
        longest = max(map(len, lines), default=1) or 1
        trace.textfont.size = max(8, min(round(base * 0.75), int(plot_width / len(trace.x) / (longest * 0.6))))


def _wrapped(lines: list[str], width: int, size: int) -> list[str]:
    """Footer lines wrapped at spaces to fit `width` pixels of `size` px text."""
    chars = max(40, int(width / (0.55 * size)))
    return [part for line in lines for part in textwrap.wrap(line, chars, break_long_words=False)]


def static_figure(fig: go.Figure, data: pd.DataFrame, *, size: str = DEFAULT_SIZE, theme: str = DEFAULT_THEME,
                  subtitle: str | None = None, source_line: str | None = None,
                  pixels: tuple[int, int] | None = None, fonts: dict | None = None, chrome: bool = True) -> go.Figure:
    """A copy of a chart's figure at a fixed pixel size with title, subtitle, source line and flag legend baked in.

    `pixels` and `fonts` override the size's pixels and the theme's type sizes; chrome=False leaves out title,
    subtitle and footer (a slide carries them as its own text) and keeps every annotation at least 6/7 of body text.
    """
    assert size in SIZES, f"unknown size {size!r}; choose one of {sorted(SIZES)}"
    assert theme in THEMES, f"unknown theme {theme!r}; choose one of {THEMES}"
    width, height = pixels or SIZES[size]
    lines = footer_lines(fig, data, source_line) if chrome else []
    out = _without_footer(fig)
    fonts = fonts or (_presentation_fonts(width) if theme == "presentation" else _default_fonts(width))
    subtitle = subtitle if subtitle is not None else (_title_subtitle(out) or default_subtitle(out, data))
    title = _title_text(out)
    if not chrome:
        title, subtitle = "", ""
    left, right = max(60, int(fonts["base"] * 4.5), _left_space(out, fonts["base"])), max(30, int(fonts["base"] * 2))
    lines = _wrapped(lines, width - 16, fonts["footer"])   # the footer runs from the image's left edge
    line_px = fonts["footer"] * 1.45
    footer_px = int(len(lines) * line_px + fonts["footer"])
    top_axis_px = _top_axis_space(out, fonts["base"], width - left - right)
    _fit_cell_text(out, fonts["base"], width - left - right)
    if top_axis_px:
        axis_px = int(fonts["base"] * 0.6)
    else:
        axis_px = (_x_axis_space(out, fonts["base"], width - left - right) if _has_cartesian_axes(out)
                   else int(fonts["base"] * 0.6))
    top_px = int((fonts["title"] * 1.7 if title else 0) + (fonts["subtitle"] * 1.7 if subtitle else 0) + fonts["base"]
                 + top_axis_px)
    out.update_layout(
        width=width, height=height, autosize=False,
        font=dict(size=fonts["base"]),
        title=dict(text=title, font=dict(size=fonts["title"]), x=0.01, xanchor="left", xref="container",
                   y=1, yanchor="top", yref="container", pad=dict(t=int(fonts["base"] * 0.8)),
                   subtitle=dict(text=subtitle or "", font=dict(size=fonts["subtitle"], color="#444"))),
        margin=dict(t=top_px, b=axis_px + footer_px, l=left, r=right),
        legend=dict(font=dict(size=fonts["base"])),
    )
    if theme == "presentation":
        scale = fonts["base"] / 13  # the dashboard's figures are drawn for 13 px body text
        for annotation in out.layout.annotations:
            if annotation.name != FOOTER_NAME:
                annotation.font.size = round((annotation.font.size or 12) * scale)
                if not chrome:
                    annotation.font.size = max(annotation.font.size, round(fonts["base"] * 6 / 7))
        out.update_layout(template="plotly_white", paper_bgcolor="white", plot_bgcolor="white")
        out.update_xaxes(tickfont=dict(size=fonts["base"]), title_font=dict(size=fonts["base"]))
        out.update_yaxes(tickfont=dict(size=fonts["base"]), title_font=dict(size=fonts["base"]))
        out.update_traces(selector=dict(type="scatter"), line=dict(width=4), marker=dict(size=fonts["base"] * 0.6))
    for i, text in enumerate(lines):
        out.add_annotation(
            name=FOOTER_NAME, text=text, showarrow=False, align="left",
            xref="paper", yref="paper", x=0, xanchor="left", y=0, yanchor="top", xshift=8 - left,
            yshift=-axis_px - i * line_px, font=dict(size=fonts["footer"], color="#444"),
        )
    return out


def _title_subtitle(fig: go.Figure) -> str:
    """The figure's own subtitle text ('' when none)."""
    return (fig.layout.title.subtitle.text or "") if fig.layout.title.subtitle else ""


def standalone_html(fig: go.Figure, data: pd.DataFrame, *, title: str, link: str | None = None,
                    topojson: dict[str, Any] | None = None) -> str:
    """A single offline HTML file of the interactive chart (plotly.js inlined, no network needed)."""
    out = go.Figure(fig)
    lines = footer_lines(out, data)
    has_footer = any(a.name in ("source", "flag-legend", FOOTER_NAME) for a in out.layout.annotations)
    if lines and not has_footer:
        for i, text in enumerate(lines):
            out.add_annotation(name=FOOTER_NAME, text=text, showarrow=False, align="left", xref="paper",
                               yref="paper", x=0, xanchor="left", y=0, yanchor="top", yshift=-45 - 18 * i,
                               font=dict(size=11, color="#444"))
        out.update_layout(margin=dict(b=70 + 18 * len(lines)))
    out.update_layout(autosize=True, width=None, height=None)
    page = out.to_html(include_plotlyjs=True, full_html=True, default_width="100%", default_height="90vh",
                       config={"responsive": True, "displaylogo": False})
    page = i18n.with_html_lang(page, i18n.current())
    head = f'<head><meta charset="utf-8"><title>{html.escape(title)}</title>'
    if topojson:
        # plotly.js looks in window.PlotlyGeoAssets before fetching a map's topojson, so the file needs no network.
        assets = json.dumps({"topojson": topojson}, separators=(",", ":")).replace("</", "<\\/")
        head += f"<script>window.PlotlyGeoAssets = {assets};</script>"
    page = page.replace("<head>", head, 1)
    if link:
        anchor = f'<a href="{html.escape(link)}">{html.escape(link)}</a>'
        note = ('<p style="font:13px sans-serif;margin:4px 8px">'
                + html.escape(_("Exported from the Baltic DSM Dashboard: {link}", link="\0")).replace("\0", anchor)
                + "</p>")
        page = page.replace("</body>", note + "</body>", 1)
    return page


def _html_escape(text: str) -> str:
    """Escape text for HTML element content and attribute values."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def exported_at() -> str:
    """Now, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- one chart for one URL state -----------------------------------------------------------------------------------

CONTROL_PARAMS = ("size", "theme", "static")  # export/embed parameters that are not part of the view state


@dataclass
class ChartView:
    """A chart resolved for one state: the rows it shows, its figure, its metadata."""
    name: str
    chart: Any
    state: Any
    data: pd.DataFrame
    figure: go.Figure
    meta: dict

    @property
    def title(self) -> str:
        """The chart's title as the figure shows it (registry title when the figure has none)."""
        return _title_text(self.figure) or self.meta.get("title") or _(self.chart.title)

    def href(self) -> str:
        """Path + query of the full dashboard view of this state."""
        return href(self.state)

    def query(self) -> str:
        """The canonical query string of this state ('' or '?a=..')."""
        return state_to_query(self.state)


def load_chart(name: str) -> Any:
    """The registered chart of this name; ExportError 404 naming the known charts otherwise."""
    charts = registry.charts()
    if name not in charts:
        raise ExportError(_("Unknown chart '{name}'. Known charts: {charts}.", name=name,
                            charts=", ".join(sorted(charts))), status=404)
    return charts[name]


def chart_state(chart: Any, query: dict) -> Any:
    """Validate the URL query for the chart's page; ExportError 400 with the state's own message otherwise."""
    try:
        return registry.chart_state(chart, query)
    except InvalidState as exc:
        raise ExportError(_("Invalid view state: {reason}", reason=exc), status=400) from None


def resolve_view(name: str, query: dict) -> ChartView:
    """Chart + state + data + figure for a chart name and a URL query (export parameters ignored)."""
    chart = load_chart(name)
    state = chart_state(chart, {k: v for k, v in query.items() if k not in CONTROL_PARAMS})
    try:
        data, chart_meta = chart.data(state)
    except DatabaseMissing as exc:
        raise ExportError(_("No data yet: {reason}", reason=exc), status=503) from None
    except InvalidState as exc:  # e.g. a DESI edition without scores for the chosen countries
        raise ExportError(_("Invalid view state: {reason}", reason=exc), status=400) from None
    figure = chart.figure(data, chart_meta)
    return ChartView(name=name, chart=chart, state=state, data=data, figure=figure, meta=meta_fields(chart_meta))


def meta_fields(chart_meta: ChartMeta) -> dict:
    """The chart's metadata as a dict, its indicator named by id (what the rows, sheets and file names carry)."""
    indicator = chart_meta.indicator
    return {**asdict(chart_meta), "indicator": indicator.id if indicator else None}


def with_provenance(data: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """The chart's rows with unit, dataset, source update and retrieval time of each value (same rows, same order).

    Values come from `indicator_values` (via dashboard.data.queries.indicator_frame, the frame the charts slice);
    a computed row such as the BSR average gets its indicator's dataset and latest update/retrieval.
    """
    out = data.copy().reset_index(drop=True)
    if "indicator" not in out.columns:
        out.insert(0, "indicator", meta.get("indicator"))
    if meta.get("x") and meta.get("y") and {"x", "y"} <= set(out.columns) and "geo" in out.columns:
        return _pair_provenance(out, meta)
    if not {"geo", "year"} <= set(out.columns) or out["indicator"].isna().all():
        return _fill_from_chart_dataset(out, meta)
    parts = []
    for indicator_id in out["indicator"].dropna().unique():
        frame = queries.indicator_frame(indicator_id)[["geo", "year", "unit", "dataset", "source_updated", "retrieved_at"]]
        parts.append(frame.assign(indicator=indicator_id, year=frame["year"].astype("Int64")))
    known = pd.concat(parts, ignore_index=True)
    assert not known.duplicated(["indicator", "geo", "year"]).any(), "indicator_frame must hold one value per geo and year"
    out["year"] = pd.to_numeric(out["year"], errors="coerce").astype("Int64")
    overlap = [c for c in ("unit", "dataset", "source_updated", "retrieved_at") if c in out.columns]
    merged = out.merge(known, on=["indicator", "geo", "year"], how="left", suffixes=("", "_db"))
    for column in overlap:  # the chart's own column wins where it has one
        merged[column] = merged[column].where(merged[column].notna(), merged.pop(f"{column}_db"))
    for indicator_id in merged["indicator"].dropna().unique():
        computed = (merged["indicator"] == indicator_id) & merged["dataset"].isna()
        if computed.any():
            frame = queries.indicator_frame(indicator_id)
            latest = {"dataset": ", ".join(sorted(frame["dataset"].dropna().unique())),
                      "source_updated": frame["source_updated"].dropna().max() if frame["source_updated"].notna().any() else None,
                      "retrieved_at": frame["retrieved_at"].dropna().max() if frame["retrieved_at"].notna().any() else None,
                      "unit": meta.get("unit") if meta.get("indicator") == indicator_id else None}
            for column, value in latest.items():
                if value is not None:
                    merged.loc[computed & merged[column].isna(), column] = value
    assert len(merged) == len(data), f"provenance join changed the row count ({len(data)} -> {len(merged)})"
    return _fill_from_chart_dataset(merged, meta)


def _pair_provenance(frame: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """A two-indicator chart (scatter: x and y for one year): each axis's indicator, unit and provenance per row;
    dataset/retrieved_at name both sources."""
    out = frame.drop(columns=["indicator"]).copy()
    year = meta.get("year")
    for axis in ("x", "y"):
        source = queries.indicator_frame(meta[axis])
        if year is not None:
            source = source[source["year"] == int(year)]
        source = source[["geo", "period", "unit", "dataset", "source_updated", "retrieved_at"]]
        assert not source["geo"].duplicated().any(), f"{meta[axis]}: more than one value per geo in {year}"
        out = out.merge(source.rename(columns={c: f"{axis}_{c}" for c in source.columns if c != "geo"}),
                        on="geo", how="left")
        out.insert(0, f"{axis}_indicator", meta[axis])
    out["dataset"] = [", ".join(dict.fromkeys(d for d in pair if isinstance(d, str))) or None
                      for pair in zip(out["x_dataset"], out["y_dataset"])]
    out["retrieved_at"] = out[["x_retrieved_at", "y_retrieved_at"]].max(axis=1)
    out["source_updated"] = None  # each axis has its own; see x_source_updated / y_source_updated
    assert len(out) == len(frame), f"scatter provenance join changed the row count ({len(frame)} -> {len(out)})"
    return out


def _fill_from_chart_dataset(frame: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Rows still without a dataset (e.g. DESI scores) take the chart's dataset and its latest provenance record."""
    if meta.get("unit") and "unit" in frame.columns:
        frame["unit"] = frame["unit"].astype(object).where(frame["unit"].notna(), meta["unit"])
    elif meta.get("unit"):
        frame["unit"] = meta["unit"]
    missing = frame["dataset"].isna() if "dataset" in frame.columns else pd.Series(True, index=frame.index)
    dataset = meta.get("dataset") or ("desi" if "DESI" in str(meta.get("source", "")) else None)
    if not missing.any() or not dataset:
        return frame
    records = pd.concat([queries.provenance(code.strip()) for code in str(dataset).split(",")], ignore_index=True)
    fill = {"dataset": dataset,
            "source_updated": records["source_updated"].dropna().max() if len(records) else None,
            "retrieved_at": records["retrieved_at"].dropna().max() if len(records) else None}
    for column, value in fill.items():
        if column not in frame.columns:
            frame[column] = None
        if value is not None and not (isinstance(value, float) and pd.isna(value)):
            frame[column] = frame[column].astype(object)
            frame.loc[missing & frame[column].isna(), column] = value
    return frame


def view_table(view: ChartView) -> pd.DataFrame:
    """The download table of a chart view: its rows, flags explained, provenance of every value."""
    names = view.meta.get("names")
    return export_table(with_provenance(view.data, view.meta), geo_names=names if isinstance(names, dict) else None)


def xlsx_meta(view: ChartView, link: str) -> dict:
    """The 'About' sheet's header fields."""
    return {
        _("title"): view.title,
        _("chart"): view.name,
        _("view"): link,
        _("indicator"): view.meta.get("indicator") or "",
        _("unit"): view.meta.get("unit_label") or view.meta.get("unit") or "",
        _("BSR average"): view.meta.get("average_method") or "",
        _("exported at"): exported_at(),
    }


def topojson_dir():
    """The app's own topojson folder for maps: the Europe-trimmed copy the map page itself loads."""


    return Path(__file__).resolve().parent / TOPOJSON_URL.strip("/")


def topojson_dir_uri() -> str:
    """file:// URI of the app's own topojson folder (maps render offline)."""
    return topojson_dir().as_uri() + "/"


def has_geo(fig: go.Figure) -> bool:
    """True when the figure draws a geo subplot (needs topojson)."""
    return any("geo" in trace._valid_props for trace in fig.data)


def export_bytes(view: ChartView, request: ExportRequest, *, base_url: str = "") -> bytes:
    """The file body for one export request of a resolved chart view."""
    link = base_url.rstrip("/") + view.href()
    if request.fmt == "csv":
        return to_csv(view_table(view))
    if request.fmt == "xlsx":
        return to_xlsx(view_table(view), xlsx_meta(view, link))
    if request.fmt == "html":
        figure = view.figure if request.theme == "default" else static_figure_for_html(view)
        return standalone_html(figure, view.data, title=view.title, link=link,
                               topojson=geo_assets(view.figure)).encode("utf-8")
    if request.fmt == "pptx":
        return chart_deck(view, link)
    return remember(("image", request, view.query()), lambda: render_export_image(view, request))


def render_export_image(view: ChartView, request: ExportRequest) -> bytes:
    """PNG/SVG bytes of a chart view at the request's size and theme (drawn in one of the render slots)."""
    render.slots().refuse_if_full()  # a busy worker says so before building the slide-size figure
    figure = static_figure(view.figure, view.data, size=request.size, theme=request.theme)
    width, height = SIZES[request.size]
    topojson = topojson_dir_uri() if has_geo(figure) else None
    return render.image(figure, request.fmt, width, height, topojson=topojson)


def plain_text(text: str) -> str:
    """A figure's annotation text without its HTML markup (<b>, <br>, entities)."""
    return html.unescape(re.sub(r"<br\s*/?>", " ", re.sub(r"<(?!br)[^>]+>", "", text))).strip()


def chart_deck(view: ChartView, link: str) -> bytes:
    """A one-slide 16:9 PowerPoint: native title, subtitle, source and flag legend; the chart as a picture drawn
    with 14 pt text at its size on the slide; the data table in the speaker notes."""
    return slides.deck_bytes([chart_slide(view, link)])


def chart_slide(view: ChartView, link: str, picture_height=None):
    """The slide of one chart view (a slides.SlideSpec; the picture `picture_height` EMU tall, default the full
    chart area): briefs' decks put a sentence under a shorter picture."""
    picture_height = picture_height or slides.PICTURE_HEIGHT
    width, height = slides.picture_pixels(picture_height)
    base = slides.chart_font_px()
    fonts = {"base": base, "title": base, "subtitle": base, "footer": base}
    figure = static_figure(view.figure, view.data, theme="presentation", pixels=(width, height), fonts=fonts,
                           chrome=False)
    picture = render.image(figure, "png", width, height, topojson=topojson_dir_uri() if has_geo(figure) else None)
    table = view_table(view)
    if "unit" in table.columns:
        indicators = table["indicator"] if "indicator" in table.columns else [view.meta.get("indicator")] * len(table)
        table["unit"] = [_unit_words(ind, code) or code for ind, code in zip(indicators, table["unit"])]
    footer = [plain_text(line) for line in footer_lines(view.figure, view.data)] + [
        _("Interactive view: {link}", link=link)]
    notes = (plain_text(view.title) + "\n" + _("Data behind the chart (':' = not available, '—' = no flag):") + "\n"
             + slides.notes_table(*notes_columns(table)))
    return slides.SlideSpec(title=plain_text(view.title), subtitle=plain_text(default_subtitle(view.figure, view.data, view.meta.get("unit_label"))),
                            picture=picture, picture_height=picture_height, footer=footer, notes=notes)


def notes_columns(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The speaker notes' table and its columns: headings and numbers in the current language (English as is)."""
    columns = [c for c in ("geo_name", "geo", "year", "value", "unit", "flags", "dataset") if c in table.columns]
    if i18n.current() == i18n.DEFAULT:
        return table, columns
    notes = table[columns].copy()
    if "value" in notes.columns:
        notes["value"] = [i18n.format_number(v, 2) if pd.notna(v) else None for v in notes["value"]]
    if "flags" in notes.columns:  # the notes mark a value without flags '—' (slides._note_cell knows only 'flags')
        notes["flags"] = [f if isinstance(f, str) and f else "—" for f in notes["flags"]]
    notes = headed(notes)
    return notes, list(notes.columns)


def static_figure_for_html(view: ChartView) -> go.Figure:
    """The presentation theme for the interactive HTML: large type, but the page keeps its own size."""
    fig = static_figure(view.figure, view.data, size="slide169", theme="presentation")
    fig.update_layout(width=None, height=None, autosize=True)
    return fig


def geo_assets(fig: go.Figure) -> dict[str, Any]:
    """Topojson files (name -> parsed JSON) a geo figure needs, read from the app's assets for inlining."""
    if not has_geo(fig):
        return {}
    folder = topojson_dir()
    names = set()
    for geo in fig.select_geos():
        scope = geo.scope or "world"
        resolution = int(geo.resolution or 110)
        names.add(f"{scope}_{resolution}m")
    names = names or {"world_110m"}
    assets = {}
    for name in sorted(names):
        path = folder / f"{name}.json"
        assert path.is_file(), f"{path}: topojson for the map is missing; the HTML would need the network"
        assets[name] = json.loads(path.read_text(encoding="utf-8"))
    return assets


def parse_export_request(filename: str, args: dict) -> ExportRequest:
    """'trends.png' + {'size': 'slide169'} -> ExportRequest; ExportError 400/404 naming what is wrong."""
    chart, dot, fmt = filename.rpartition(".")
    if not dot or not chart:
        raise ExportError(_("'{name}': name the format as /export/<chart>.<{formats}>.", name=filename,
                            formats="|".join(FORMATS)), status=404)
    if fmt not in FORMATS:
        raise ExportError(_("Unknown format '{value}': choose one of {choices}.", value=fmt,
                            choices=", ".join(FORMATS)), status=404)
    known = registry.charts().get(chart)
    size = args.get("size") or (known.image_size if known else DEFAULT_SIZE)
    if size not in SIZES:
        raise ExportError(_("Unknown size '{value}': choose one of {choices}.", value=size,
                            choices=", ".join(SIZES)), status=400)
    theme = args.get("theme") or DEFAULT_THEME
    if theme not in THEMES:
        raise ExportError(_("Unknown theme '{value}': choose one of {choices}.", value=theme,
                            choices=", ".join(THEMES)), status=400)
    return ExportRequest(chart=chart, fmt=fmt, size=size, theme=theme)


def download_name(view: ChartView, request: ExportRequest) -> str:
    """'trends_desi_conn_2023_slide169.png': chart, indicator, year, size."""
    parts = [view.name, view.meta.get("indicator") or "", str(getattr(view.state, "year", "") or "")]
    if request.fmt in IMAGE_FORMATS:
        parts.append(request.size)
    safe = "_".join(p for p in parts if p)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in safe)
    return f"{safe}.{request.fmt}"


def plain_error(message: str, status: int):
    """A plain-text error response (never a traceback)."""
    return Response(message + "\n", status=status, mimetype="text/plain")


def export_response(filename: str, args: dict, *, base_url: str = ""):
    """The Flask response for /export/<filename>?<args>."""


    try:
        request = parse_export_request(filename, args)
        if request.fmt == "csv":
            body, name = csv_export(request, args, base_url)
        else:
            view = resolve_view(request.chart, args)
            body, name = export_bytes(view, request, base_url=base_url), download_name(view, request)
    except ExportError as exc:
        return plain_error(str(exc), exc.status)
    except render.RenderError as exc:  # no Chromium, or every render slot taken: 503, retry later
        response = plain_error(str(exc), exc.status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Exception:  # noqa: BLE001 - the visitor gets a plain message; the log gets the traceback
        logging.getLogger(__name__).exception("export of %s failed", filename)
        return plain_error(_("The export failed on the server; the error has been logged."), 500)
    response = Response(body, mimetype=MEDIA_TYPES[request.fmt].split(";")[0])
    response.headers["Content-Type"] = MEDIA_TYPES[request.fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@cached
def csv_export(request: ExportRequest, args: dict, base_url: str) -> tuple[bytes, str]:
    """CSV body and download name; a state always gives the same bytes, so they are cached per database version
    (under load, rebuilding the view and its provenance for every download took most of the server's CPU)."""
    view = resolve_view(request.chart, args)
    return export_bytes(view, request, base_url=base_url), download_name(view, request)


def register_export_routes(app: Any) -> None:
    """Add GET /export/<chart>.<png|svg|csv|xlsx|html|pptx>?<state>&size=..&theme=.. to a Dash app's Flask server."""
    server = getattr(app, "server", app)
    prefix = getattr(getattr(app, "config", None), "routes_pathname_prefix", "/") or "/"

    def export_chart(filename: str):
        """Serve one export (see export_response)."""

        # a downloaded file needs an absolute link: the configured public URL, else the address the requester used
        # (the file goes only to that requester; CSV bodies are cached per base URL, images carry no link)
        return export_response(filename, request.args.to_dict(), base_url=public_base_url() or request.host_url)

    server.add_url_rule(f"{prefix}export/<path:filename>", "dsm_export_chart", export_chart, methods=["GET"])
