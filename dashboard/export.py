"""Downloads of a chart: the data behind it (CSV, XLSX), images for slides and documents (PNG, SVG), offline HTML.

Everything here works from one chart of the registry (dashboard.charts.CHARTS) and one URL state, so the
file always holds exactly what the chart shows.  `/export/<chart>.<format>?<state>&size=..&theme=..`
serves them (see `register_export_routes`).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import shutil
import threading
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

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
FORMATS = IMAGE_FORMATS + DATA_FORMATS + ("html",)
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
# Columns every data download carries, in this order, ahead of whatever else the chart's data holds.
LEADING_COLUMNS = ["indicator", "geo", "geo_name", "period", "year", "value", "unit", "flags", "flag_meaning",
                   "dataset", "source_updated", "retrieved_at"]
PROVENANCE_COLUMNS = ["dataset", "source_updated", "retrieved_at"]
FOOTER_NAME = "dsm-export-footer"  # annotation name, so a figure is never given two footers
LICENCE = "Source: Eurostat / European Commission (DESI); reuse authorised with acknowledgement (Decision 2011/833/EU)."


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
    return "; ".join(f"{letter}: {FLAG_MEANINGS[letter]}" for letter in str(flags))


def flags_present(frame: pd.DataFrame) -> list[str]:
    """The distinct flag letters in a frame's flags column, sorted."""
    if "flags" not in frame.columns:
        return []
    return sorted(set("".join(str(f) for f in frame["flags"].dropna())))


def flag_legend_text(letters: list[str]) -> str:
    """'Flags: b = break in time series · u = low reliability' for the letters shown."""
    if not letters:
        return ""
    return "Flags: " + " · ".join(f"{letter} = {FLAG_MEANINGS[letter]}" for letter in letters)


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


def _cell(value: Any) -> Any:
    """A spreadsheet-safe cell: lists/dicts as JSON text, pandas missing as None."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value


def export_table(data: pd.DataFrame, *, provenance: dict | None = None, geo_names: dict | None = None) -> pd.DataFrame:
    """The rows behind a chart, one per row of `data`, with flag meanings and provenance columns in front.

    `provenance` (dataset, source_updated, retrieved_at) fills rows that carry none themselves, such as a computed
    BSR average; `geo_names` adds a readable country name.
    """
    table = data.copy().reset_index(drop=True)
    for column in ["value", "unit", "flags"] + PROVENANCE_COLUMNS:
        if column not in table.columns:
            table[column] = None
    for column in PROVENANCE_COLUMNS:
        if provenance and provenance.get(column) is not None:
            table[column] = table[column].astype(object).where(table[column].notna(), provenance[column])
    if geo_names is not None and "geo" in table.columns:
        table["geo_name"] = table["geo"].map(lambda code: geo_names.get(code, code))
    table["flags"] = table["flags"].astype(object).where(table["flags"].notna(), None)
    table["flag_meaning"] = table["flags"].map(explain_flags)
    table["retrieved_at"] = table["retrieved_at"].map(_iso_utc)
    table["source_updated"] = table["source_updated"].map(_iso_utc)
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype(float)
    leading = [c for c in LEADING_COLUMNS if c in table.columns]
    table = table[leading + [c for c in table.columns if c not in leading]]
    for column in table.columns:
        if table[column].dtype == object:
            table[column] = table[column].map(_cell)
    assert len(table) == len(data), f"export table has {len(table)} rows for {len(data)} chart rows"
    return table


def to_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV; a missing value is an empty cell, never 0."""
    return table.to_csv(index=False, na_rep="", lineterminator="\n").encode("utf-8")


def about_rows(table: pd.DataFrame, meta: dict) -> list[tuple[str, str]]:
    """(field, text) lines for the XLSX 'About' sheet: what, where from, when, what the flags mean."""
    rows = [(key, "" if value is None else str(value)) for key, value in meta.items()]
    sources = table[PROVENANCE_COLUMNS].drop_duplicates() if len(table) else pd.DataFrame(columns=PROVENANCE_COLUMNS)
    for _, source in sources.iterrows():
        rows.append(("source dataset", f"{source['dataset']} (updated {source['source_updated'] or 'unknown'}; "
                                       f"retrieved {source['retrieved_at'] or 'unknown'})"))
    for letter in flags_present(table):
        rows.append((f"flag {letter}", FLAG_MEANINGS[letter]))
    rows.append(("missing values", "an empty value cell means not available (':' in Eurostat), never zero"))
    rows.append(("licence", LICENCE))
    return rows


def to_xlsx(table: pd.DataFrame, meta: dict) -> bytes:
    """An XLSX workbook: sheet 'Data' (the rows) and sheet 'About' (title, link, sources, flag meanings)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame(about_rows(table, meta), columns=["field", "value"]).to_excel(writer, sheet_name="About", index=False)
        sheet = writer.sheets["Data"]
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


def footer_lines(fig: go.Figure, data: pd.DataFrame, source_line: str | None) -> list[str]:
    """Source line and flag legend that the exported figure must carry, skipping what the figure already says."""
    existing = " ".join(str(a.text or "") for a in fig.layout.annotations)
    lines = []
    if source_line and source_line not in existing:
        lines.append(source_line)
    legend = flag_legend_text(flags_present(data))
    if legend and "Flags:" not in existing:
        lines.append(legend)
    return lines


def _presentation_fonts(width: int) -> dict:
    """Large type for slides, scaled to the image width (24 px body text on a 1920 px slide)."""
    base = max(14, round(width / 80))
    return {"base": base, "title": round(base * 1.6), "subtitle": round(base * 1.05), "footer": round(base * 0.75)}


def _default_fonts(width: int) -> dict:
    """The dashboard's own type sizes, grown a little on large canvases so text stays legible."""
    base = max(12, round(width / 110))
    return {"base": base, "title": round(base * 1.45), "subtitle": base, "footer": max(10, round(base * 0.8))}


def static_figure(fig: go.Figure, data: pd.DataFrame, *, size: str = DEFAULT_SIZE, theme: str = DEFAULT_THEME,
                  subtitle: str | None = None, source_line: str | None = None) -> go.Figure:
    """A copy of a chart's figure at a fixed pixel size with title, subtitle, source line and flag legend baked in."""
    assert size in SIZES, f"unknown size {size!r}; choose one of {sorted(SIZES)}"
    assert theme in THEMES, f"unknown theme {theme!r}; choose one of {THEMES}"
    width, height = SIZES[size]
    out = go.Figure(fig)
    fonts = _presentation_fonts(width) if theme == "presentation" else _default_fonts(width)
    lines = footer_lines(out, data, source_line)
    footer_px = int(len(lines) * fonts["footer"] * 1.6 + 8)
    has_axes = any(t.type in (None, "scatter", "bar", "scattergl", "box", "heatmap") for t in out.data) and bool(out.data)
    axis_px = int(fonts["base"] * 4.2) if has_axes else int(fonts["base"] * 0.8)
    title = _title_text(out)
    subtitle = subtitle if subtitle is not None else (out.layout.title.subtitle.text if out.layout.title.subtitle else None)
    top_px = int(fonts["title"] * 1.5 + (fonts["subtitle"] * 1.6 if subtitle else 0) + fonts["base"] * 1.2)
    margin_b = axis_px + footer_px
    out.update_layout(
        width=width, height=height, autosize=False,
        font=dict(size=fonts["base"]),
        title=dict(text=f"<b>{title}</b>" if title and not title.startswith("<b>") else title,
                   font=dict(size=fonts["title"]), x=0.01, xanchor="left", y=1, yanchor="top",
                   yref="container", pad=dict(t=int(fonts["base"] * 0.6)),
                   subtitle=dict(text=subtitle or "", font=dict(size=fonts["subtitle"], color="#444"))),
        margin=dict(t=top_px, b=margin_b, l=max(60, int(fonts["base"] * 4)), r=max(30, int(fonts["base"] * 1.5))),
        legend=dict(font=dict(size=fonts["base"])),
    )
    if theme == "presentation":
        out.update_layout(template="plotly_white", paper_bgcolor="white", plot_bgcolor="white")
        out.update_xaxes(tickfont=dict(size=fonts["base"]), title_font=dict(size=fonts["base"]))
        out.update_yaxes(tickfont=dict(size=fonts["base"]), title_font=dict(size=fonts["base"]))
    if lines:
        plot_px = max(1, height - top_px - margin_b)
        out.add_annotation(
            name=FOOTER_NAME, text="<br>".join(lines), showarrow=False, align="left",
            xref="paper", yref="paper", x=0, xanchor="left", y=-axis_px / plot_px, yanchor="top",
            font=dict(size=fonts["footer"], color="#444"),
        )
    return out


def standalone_html(fig: go.Figure, data: pd.DataFrame, *, title: str, source_line: str | None = None,
                    link: str | None = None) -> str:
    """A single offline HTML file of the interactive chart (plotly.js inlined, no network needed)."""
    out = go.Figure(fig)
    lines = footer_lines(out, data, source_line)
    if lines:
        out.update_layout(margin=dict(b=max(120, 40 + 24 * len(lines))))
        out.add_annotation(name=FOOTER_NAME, text="<br>".join(lines), showarrow=False, align="left",
                           xref="paper", yref="paper", x=0, xanchor="left", y=-0.12, yanchor="top",
                           font=dict(size=12, color="#444"))
    out.update_layout(autosize=True, width=None, height=None)
    body = out.to_html(include_plotlyjs=True, full_html=True, default_width="100%", default_height="92vh",
                       config={"responsive": True, "displaylogo": False})
    escaped = _html_escape(title)
    head = f'<meta charset="utf-8"><title>{escaped}</title>'
    body = body.replace("<head>", "<head>" + head, 1)
    if link:
        note = (f'<p style="font:13px sans-serif;margin:4px 8px">Exported from the Baltic DSM Dashboard: '
                f'<a href="{_html_escape(link)}">{_html_escape(link)}</a></p>')
        body = body.replace("</body>", note + "</body>", 1)
    return body


def _html_escape(text: str) -> str:
    """Escape text for HTML element content and attribute values."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


# --- image rendering through kaleido and the system Chromium ----------------------------------------------------

BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser_path() -> str:
    """The Chromium kaleido drives: $BROWSER_PATH, else /usr/bin/chromium or the first on PATH; never a download."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError("Image export needs Chromium (apt-get install chromium, or set BROWSER_PATH).", status=503)


class ImageRenderer:
    """One kaleido browser shared by every thread; renders are submitted to its own event loop, so callers may race."""

    def __init__(self, timeout: float = 60.0):
        self._timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def _start(self) -> None:
        """Start the event-loop thread and open the browser (a few seconds, once per process)."""
        import kaleido  # imported here: the dashboard starts without paying for it

        path = browser_path()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kaleido-renderer", daemon=True)
        thread.start()

        async def open_browser():
            # mathjax=False: the default would fetch MathJax from a CDN; plotly.js comes from the installed plotly.
            k = kaleido.Kaleido(path=path, n=2, timeout=self._timeout, mathjax=False)
            await k.open()
            return k

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(self._timeout)
        except Exception:
            loop.call_soon_threadsafe(loop.stop)
            raise
        self._loop, self._thread = loop, thread

    def render(self, fig: go.Figure, fmt: str, width: int, height: int) -> bytes:
        """PNG or SVG bytes of a figure at exactly width x height pixels."""
        assert fmt in IMAGE_FORMATS, f"cannot render {fmt!r}; only {IMAGE_FORMATS}"
        with self._lock:
            if self._kaleido is None:
                self._start()
            kaleido_browser, loop = self._kaleido, self._loop
        opts = {"format": fmt, "width": width, "height": height, "scale": 1}
        future = asyncio.run_coroutine_threadsafe(kaleido_browser.calc_fig(fig, opts=opts), loop)
        try:
            return future.result(self._timeout + 5)
        except Exception:
            self.close()  # a crashed or hung browser is replaced on the next render
            raise

    def close(self) -> None:
        """Close the browser and stop the loop thread (a later render starts a fresh one)."""
        with self._lock:
            kaleido_browser, loop, thread = self._kaleido, self._loop, self._thread
            self._kaleido = self._loop = self._thread = None
        if kaleido_browser is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(kaleido_browser.close(), loop).result(15)
        except Exception:  # noqa: BLE001 - closing a broken browser must not hide the original error
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


_renderer: ImageRenderer | None = None
_renderer_lock = threading.Lock()


def renderer() -> ImageRenderer:
    """The process-wide image renderer (one Chromium per process, started on first use)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = ImageRenderer()
            import atexit

            atexit.register(_renderer.close)
        return _renderer


def render_image(fig: go.Figure, fmt: str, size: str = DEFAULT_SIZE) -> bytes:
    """PNG/SVG bytes of an already prepared figure at one of SIZES."""
    width, height = SIZES[size]
    return renderer().render(fig, fmt, width, height)


def exported_at() -> str:
    """Now, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
