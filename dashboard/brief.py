"""One-page policy briefs (/brief/country/<geo>, /brief/wp/<WP>): plain HTML for A4, or PDF with ?format=pdf.

Charts are static SVG and the PDF is the same HTML printed, both by the render service (dashboard/render.py: kaleido
and Playwright through the one system Chromium, in bounded slots). Both are cached per database version.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import re
import textwrap
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from flask import Flask, Response, request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dashboard import export, i18n, slides
from dashboard import findings as findings_registry
from dashboard import insights as insights_module
from dashboard import render as render_service
from dashboard.data import insights as data_insights
from dashboard.data import queries
from dashboard.data.connection import remember
from dashboard.figures.common import flag_legend_text, unit_label
from dashboard.i18n import N_, _
from dashboard.security import public_base_url
from dashboard.meta import EU27, EU_REFERENCES

CHART_SIZE = (330, 235)    # px; two charts side by side across an A4 column
MAX_FINDINGS, MAX_INSIGHTS, MAX_TABLE_ROWS = 6, 4, 10  # 4 insights: the insights grew (newest data named); one A4 page
GAP_LABEL_CHARS = 30  # the gap chart's indicator titles wrap at this width (whole, never cut)

STYLE = """
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { font: 8.6pt/1.3 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0; }
main { max-width: 186mm; margin: 0 auto; }
h1 { font-size: 14pt; margin: 0 0 1mm; } h2 { font-size: 10pt; margin: 3mm 0 1mm; border-bottom: 0.3mm solid #999; }
.sub { color: #444; margin: 0 0 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 7.8pt; }
th, td { border-bottom: 0.2mm solid #ccc; padding: 0.6mm 1mm; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; gap: 4mm; } figure { margin: 0; flex: 1; } figure img { width: 100%; height: auto; }
figcaption, .source { font-size: 7pt; color: #444; }
ul { margin: 0; padding-left: 4mm; } li { margin: 0 0 0.6mm; }
.wp { font-weight: bold; } .muted { color: #666; } footer { font-size: 6.8pt; color: #555; margin-top: 2mm; }
@media print { .no-print { display: none; } }
.no-print { font-size: 8pt; margin: 0 0 2mm; }
.button { display: inline-block; padding: 1mm 3mm; border: 0.3mm solid #0072B2; border-radius: 1mm; color: #0072B2;
  text-decoration: none; font-weight: bold; } .button:hover, .button:focus { background: #0072B2; color: #fff; }
@media screen { body { background: #eee; } main { background: #fff; padding: 11mm 12mm; width: 210mm; max-width: none; } }
"""


# The briefs' HTML comes from dashboard/templates/brief_*.html (autoescaped; read on first use, not at import).
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True))
TEMPLATES.filters["repr"] = repr
TEMPLATES.globals["fmt_value"] = insights_module.fmt_value
TEMPLATES.globals["_"] = _  # {{ _("Whole sentence with {name}", name=...) }}: extracted by Babel's jinja2 method


class BriefNotFound(LookupError):
    """No brief exists for the requested country or work package."""


@dataclass(frozen=True)
class Cell:
    """One published value as the brief shows it, with what identifies it in the database."""
    indicator: str
    geo: str
    year: int
    value: float
    flags: str | None


def esc(text: object) -> str:
    """HTML-escape any text."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- data (all through dashboard.data.queries)

def latest_cells(indicator_id: str, geos: list[str]) -> tuple[int | None, dict[str, Cell]]:
    """The latest year most BSR countries report, and each geo's value in that year."""
    frame = insights_module.annual_values(queries.indicator_frame(indicator_id))
    year = insights_module.latest_common_year(frame, queries.peer_group())
    if year is None:
        return None, {}
    rows = frame[(frame["year"] == year) & frame["geo"].isin(geos)]
    cells = {r.geo: Cell(indicator_id, r.geo, year, float(r.value), insights_module.flags_of(pd.Series(r._asdict())))
             for r in rows.itertuples()}
    return year, cells


def source_line(indicator_ids: list[str]) -> str:
    """'Source: Eurostat isoc_e_dii (updated 2025-04-08); ...' for the datasets behind the indicators."""
    parts = []
    for indicator_id in dict.fromkeys(indicator_ids):
        info = queries.source_info(indicator_id)
        dataset = info.get("dataset") or "?"
        if info.get("source_updated"):
            parts.append(_("{dataset} (updated {date})", dataset=dataset, date=info["source_updated"]))
        elif info.get("retrieved_at"):  # a source that states no update date (the scoreboard's facts): when we read it
            parts.append(_("{dataset} (retrieved {date})", dataset=dataset, date=info["retrieved_at"]))
        else:
            parts.append(dataset)
    return _("Source: Eurostat / European Commission (DESI): {datasets}.", datasets="; ".join(dict.fromkeys(parts)))


# ---------------------------------------------------------------- charts

_render_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="brief-svg")  # kaleido renders 2 tabs at once


def _svg_img(fig: go.Figure, alt: str) -> Future:
    """A future <img> holding the figure as SVG (a data URI keeps each chart's SVG ids apart); renders in parallel."""
    width, height = CHART_SIZE
    left = fig.layout.margin.l if fig.layout.margin.l is not None else 40  # the gap chart's labels need more
    fig.update_layout(width=width, height=height, margin=dict(l=left, r=10, t=30, b=30), font=dict(size=10),
                      template="plotly_white", showlegend=False, title=dict(font=dict(size=11), x=0.01))

    def render() -> str:
        svg = render_service.image(fig, "svg", width, height)
        return f'<img alt="{esc(alt)}" src="data:image/svg+xml;base64,{base64.b64encode(svg).decode("ascii")}">'

    return _render_pool.submit(render)


def ranking_chart(indicator_id: str, highlight: str | None = None, references: list[str] = ()) -> tuple[Future, str] | None:
    """Bars of every BSR country (and reference countries, grey) in the latest year, the EU27 as a line."""
    meta, peers = queries.indicator_meta(indicator_id), queries.peer_group()
    year, cells = latest_cells(indicator_id, [*peers, *references, *EU_REFERENCES])
    shown = [*peers, *references]
    bars = sorted((c for c in cells.values() if c.geo in shown), key=lambda c: c.value, reverse=meta.higher_is_better)
    if not bars:
        return None
    colours = ["#777" if c.geo in references else "#0072B2" if c.geo == highlight or not highlight else "#9ab"
               for c in bars]
    fig = go.Figure(go.Bar(x=[c.geo for c in bars], y=[c.value for c in bars], marker_color=colours,
                           text=[f"{c.value:.0f}{c.flags or ''}" for c in bars], textposition="outside"))
    eu = next((cells[code] for code in EU_REFERENCES if code in cells), None)
    if eu:
        fig.add_hline(y=eu.value, line_dash="dash", line_color="#000",
                      annotation_text=f"{_reference_label(eu)} {eu.value:.1f}", annotation_position="top right")  # over the short bars
    # the unit goes under the chart in words: a rotated axis title ran into the chart title
    fig.update_layout(title=dict(text=f"{_short(meta.title, 46)}, {year}"), yaxis=dict(title=None))
    note = f" Grey: best-practice reference ({', '.join(c.geo for c in bars if c.geo in references)})." \
        if any(c.geo in references for c in bars) else ""
    unit = " " + _("Unit: {unit}.", unit=unit_label(meta.unit)) if meta.unit else ""
    return _svg_img(fig, f"{meta.title}, BSR countries, {year}"), source_line([indicator_id]) + unit + note


def _short(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis, for chart labels."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def gap_chart(geo: str, indicator_ids: list[str]) -> tuple[Future, str] | None:
    """Horizontal bars: the country's gap to the EU27 on each headline indicator in its latest year."""
    rows = []
    for indicator_id in indicator_ids:
        _year, cells = latest_cells(indicator_id, [geo, *EU_REFERENCES])
        eu = next((cells[c] for c in EU_REFERENCES if c in cells), None)
        if geo in cells and eu:
            meta = queries.indicator_meta(indicator_id)
            gap = (1 if meta.higher_is_better else -1) * (cells[geo].value - eu.value)
            # whole titles on up to three lines (they were cut), the gap with its unit at the bar's end
            label = "<br>".join(textwrap.wrap(meta.title, GAP_LABEL_CHARS, break_on_hyphens=False))
            rows.append((label, gap, f"{'+' if gap >= 0 else '−'}{insights_module.fmt_diff(meta, gap)}"))
    if not rows:
        return None
    fig = go.Figure(go.Bar(y=[r[0] for r in rows], x=[r[1] for r in rows], orientation="h", text=[r[2] for r in rows],
                           textposition="outside", cliponaxis=False, textfont=dict(size=9),
                           marker_color=["#009E73" if r[1] >= 0 else "#D55E00" for r in rows]))
    span = max(abs(r[1]) for r in rows) or 1.0
    fig.update_layout(title=dict(text=_("Ahead of (+) or behind (−) the EU")), margin=dict(l=125),
                      xaxis=dict(range=[-span * 1.9, span * 1.9], title=None),
                      yaxis=dict(autorange="reversed", tickfont=dict(size=7)))
    return _svg_img(fig, f"{geo}: gap to the EU27 by indicator"), source_line(indicator_ids) + \
        " " + _("Gaps in percentage points (pp) or points, the sign turned so that + is better.")


def shown_charts(charts: list[tuple[Future, str] | None]) -> list[tuple[Markup, str]]:
    """Up to two rendered figures (an <img> each) with their source lines."""
    return [(Markup(img.result()), caption) for img, caption in [c for c in charts if c][:2]]


# ---------------------------------------------------------------- building blocks

def finding_sources(chosen: list[findings_registry.Finding]) -> list[str]:
    """The project documents the findings come from, each once: 'document, 2018-06-06'."""
    return list(dict.fromkeys(f"{f.source.document}, {f.source.date.isoformat()}" for f in chosen))


def page(title: str, subtitle: str, body: str, notes: list[str] = ()) -> str:
    """The whole HTML document for one A4 page around a rendered body (`notes`: sentences for the footer)."""
    run = queries.last_refresh() if _has_refresh_runs() else None
    stamp = str(run.get('finished_at') or run.get('started_at'))[:16] if run else ""
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    letters = sorted(set("".join(re.findall(r'data-flags="([a-z]*)"', body))))
    legend = f" {flag_legend_text(letters, markup=False)}." if letters else ""
    legend += "".join(f" {note}" for note in notes)
    return TEMPLATES.get_template("brief_page.html").render(
        title=title, subtitle=subtitle, body=Markup(body), style=Markup(STYLE), made=made, stamp=stamp, legend=legend,
        lang=i18n.current(),
        labels={"pdf": _("Download as PDF"), "pptx": _("Download as PowerPoint"), "findings": _("All findings")})


def _has_refresh_runs() -> bool:
    """Whether the database has a refresh_runs table (a test database may not)."""
    try:
        queries.last_refresh()
        return True
    except Exception:
        return False


# ---------------------------------------------------------------- the two briefs

def check_country(geo: str) -> list[str]:
    """The peer group, when `geo` is one of it (briefs exist for the BSR countries); BriefNotFound otherwise."""
    peers = queries.peer_group()
    if geo not in peers:
        raise BriefNotFound(f"No brief for country {geo!r}: briefs exist for {', '.join(peers)}.")
    return peers


def country_rows(geo: str) -> list[dict]:
    """Per headline indicator: its meta, the latest common year, the country's and the EU's cells, its BSR rank."""
    peers = check_country(geo)
    rows = []
    headline = queries.headline_indicators()[:MAX_TABLE_ROWS]
    twins = insights_module.twins_of(queries.catalogue(), headline)
    for indicator_id in headline:
        meta = queries.indicator_meta(indicator_id)
        year, cells = latest_cells(indicator_id, [*peers, *EU_REFERENCES])
        newer = None
        if indicator_id in twins:  # the newest data wins, as in the insights: a newer source of the same measure
            twin_year, twin_cells = latest_cells(twins[indicator_id].indicator, [*peers, *EU_REFERENCES])
            if twin_year is not None and (year is None or twin_year > year):
                year, cells, newer = twin_year, twin_cells, twins[indicator_id].source
        eu = next((cells[c] for c in EU_REFERENCES if c in cells), None)
        peer_values = pd.Series({c.geo: c.value for c in cells.values() if c.geo in peers}, dtype=float)
        ranks = insights_module.competition_rank(peer_values, meta.higher_is_better)  # ties share a rank
        rank = _("{rank} of {n}", rank=int(ranks[geo]), n=len(ranks)) if geo in ranks.index else "–"
        rows.append({"meta": meta, "year": year, "cell": cells.get(geo), "eu": eu, "rank": rank, "newer": newer,
                     "shown": twins[indicator_id].indicator if newer else indicator_id,  # whose values the row shows
                     # the edition's own EU aggregate where it is not EU27 (DESI 2020: EU28), named in the cell
                     "eu_label": eu.geo if eu is not None and eu.geo != EU27 else "",
                     "rank_number": int(ranks[geo]) if geo in ranks.index else None, "reporting": len(ranks)})
    return rows


def country_brief_html(geo: str) -> str:
    """The one-page brief for one BSR country."""
    check_country(geo)
    name = queries.geo_names().get(geo, geo)
    headline = queries.headline_indicators()[:MAX_TABLE_ROWS]
    rows = country_rows(geo)
    all_insights = data_insights.insights()
    mine = [i for i in all_insights if i.concerns(geo) and i.kind in ("leader", "laggard", "fastest_improver", "target_2030")]
    mine += [i for i in all_insights if i.kind == "convergence"][: max(0, MAX_INSIGHTS - len(mine))]
    chosen = findings_registry.select(findings_registry.registry().findings, geos=[geo])[:MAX_FINDINGS]
    charts = shown_charts([gap_chart(geo, headline), ranking_chart(headline[0], highlight=geo) if headline else None])
    body = TEMPLATES.get_template("brief_country.html").render(
        name=name, rows=rows, charts=charts, insights=mine[:MAX_INSIGHTS], findings=chosen,
        sources=finding_sources(chosen))
    newer = [_("† Newest data, from {source}.", source=source) for source in dict.fromkeys(r["newer"] for r in rows) if source]
    return page(_("{country}: digital single market brief", country=name),
                _("{country} against the Baltic Sea Region peers and the EU27 · latest common year per indicator",
                  country=name), body, notes=newer)


WP_TITLES = {
    "WP2": N_("WP2 — digital transformation of SMEs"),
    "WP3": N_("WP3 — innovative cross-border G2B digital services"),
    "WP4": N_("WP4 — the digital single market in the Baltic Sea Region"),
}


def wp_parts(wp: str) -> tuple[list[findings_registry.Finding], list[str], list[str]]:
    """A work package's findings, the indicators they link to (with data) and the reference countries they name
    beyond the BSR (WP4: the Netherlands); BriefNotFound for an unknown work package."""
    if wp not in findings_registry.WORK_PACKAGES:
        raise BriefNotFound(f"No brief for work package {wp!r}: briefs exist for {', '.join(findings_registry.WORK_PACKAGES)}.")
    peers = queries.peer_group()
    chosen = findings_registry.select(findings_registry.registry().findings, work_packages=[wp])
    known = set(queries.indicator_ids())
    indicator_ids = [i for i in dict.fromkeys(x for f in chosen for x in f.indicators) if i in known][:MAX_TABLE_ROWS]
    references = [g for g in dict.fromkeys(c for f in chosen for c in f.countries)
                  if g not in peers and g not in EU_REFERENCES]
    return chosen, indicator_ids, references


def wp_brief_html(wp: str) -> str:
    """The one-page brief for one work package."""
    peers = queries.peer_group()
    chosen, indicator_ids, references = wp_parts(wp)
    rows = []
    for indicator_id in indicator_ids:
        meta = queries.indicator_meta(indicator_id)
        year, cells = latest_cells(indicator_id, [*peers, *references, *EU_REFERENCES])
        eu = next((cells[c] for c in EU_REFERENCES if c in cells), None)
        rows.append({"meta": meta, "year": year, "cells": [cells.get(g) for g in [*peers, *references]], "eu": eu})
    region = [i for i in insights_module.select(data_insights.insights(), indicators=indicator_ids)
              if i.kind in ("leader", "laggard", "fastest_improver", "convergence")]
    charts = shown_charts([ranking_chart(i, references=references) for i in indicator_ids[:2]])
    shown = chosen[:MAX_FINDINGS]
    body = TEMPLATES.get_template("brief_wp.html").render(
        findings=shown, sources=finding_sources(shown), peers=peers, references=references, rows=rows, charts=charts,
        insights=region[:MAX_INSIGHTS])
    return page(_("{work_package}: brief", work_package=_(WP_TITLES[wp])),
                _("DIGINNO work package findings beside the BSR evidence"), body)


# ---------------------------------------------------------------- PowerPoint decks

DECK_INDICATORS = 4  # a short deck: a title slide, four indicator slides, findings, sources
DECK_FINDINGS = 6


def _made_line() -> str:
    """'Brief made 2 Dec 2026; database refreshed 2026-12-02 04:00 UTC.' for the title and sources slides."""
    run = queries.last_refresh() if _has_refresh_runs() else None
    made = i18n.format_date(dt.datetime.now(dt.timezone.utc).date())
    if run:
        return _("Brief made {date}; database refreshed {refreshed} UTC.", date=made,
                 refreshed=str(run.get("finished_at") or run.get("started_at"))[:16])
    return _("Brief made {date}.", date=made)


def _reference_label(cell: Cell | None) -> str:
    """'EU27' or 'EU28' (the edition's aggregate) for an EU cell."""
    return insights_module.REFERENCE_LABELS.get(cell.geo, cell.geo) if cell else ""


def country_key_sentence(row: dict, name: str) -> str:
    """The sentence naming the indicator under its chart: the country's value, its BSR rank and the EU's value."""
    meta, cell, eu = row["meta"], row["cell"], row["eu"]
    fields = dict(indicator=meta.title, country=name, value=insights_module.fmt_value(meta, cell.value, cell.flags),
                  year=row["year"], rank=row["rank_number"], n=row["reporting"])
    if eu is None:
        return _("{indicator}: {country} {value} in {year}, rank {rank} of {n} BSR countries reporting.", **fields)
    return _("{indicator}: {country} {value} in {year}, rank {rank} of {n} BSR countries reporting; {reference} "
             "{reference_value}.", reference=_reference_label(eu),
             reference_value=insights_module.fmt_value(meta, eu.value, eu.flags), **fields)


def region_key_sentence(indicator_id: str) -> str | None:
    """'<indicator>, 2024: best in the BSR Denmark (98.1%), weakest Poland (89.0%).' from the latest common year."""
    meta, peers = queries.indicator_meta(indicator_id), queries.peer_group()
    year, cells = latest_cells(indicator_id, peers)
    if len(cells) < 2:
        return None
    values = pd.Series({geo: cell.value for geo, cell in cells.items()}, dtype=float)
    ranks = insights_module.competition_rank(values, meta.higher_is_better)  # ties share a rank
    names = queries.geo_names()

    def group(rank: float) -> tuple[str, str]:
        geos = sorted(g for g in ranks.index if ranks[g] == rank)
        return insights_module.join_names([names.get(g, g) for g in geos]), insights_module.fmt_value(meta, values[geos[0]])

    (best, best_value), (worst, worst_value) = group(ranks.min()), group(ranks.max())
    return _("{indicator}, {year}: best in the BSR {best} ({best_value}), weakest {worst} ({worst_value}).",
             indicator=meta.title, year=year, best=best, best_value=best_value, worst=worst, worst_value=worst_value)


def indicator_slide(indicator_id: str, year: int, sentences: list[str], base_url: str, geo: str | None = None):
    """One key indicator's slide: the Compare chart of that year (the country highlighted) as a picture, the
    sentences naming the indicator under it, the source line, the data in the speaker notes."""
    query = {"indicator": indicator_id, "year": str(year), "lang": i18n.current(), **({"geo": geo} if geo else {})}
    view = export.resolve_view("ranked_bar", query)
    spec = export.chart_slide(view, base_url.rstrip("/") + view.href(), picture_height=slides.BRIEF_PICTURE_HEIGHT)
    spec.bullets = [s for s in sentences if s][:2]
    spec.notes = "\n".join([*spec.bullets, "", spec.notes])
    return spec


def findings_slide(chosen: list[findings_registry.Finding], heading: str):
    """The findings slide: one line per finding (work package and title); their texts in the speaker notes."""
    shown = chosen[:DECK_FINDINGS]
    lines = [_("{work_package}: {title}", work_package=f.work_package, title=f.title) for f in shown]
    notes = "\n\n".join(f"{f.work_package} — {f.title}\n{f.text}\n{f.source.document}, {f.source.date.isoformat()}"
                          for f in shown)
    return slides.SlideSpec(title=heading, bullets=lines or [_("No finding in the registry concerns this.")],
                            notes=notes)


def sources_slide(indicator_ids: list[str], chosen: list[findings_registry.Finding], link: str):
    """The sources slide: the datasets with their update dates, the project documents, the interactive view."""
    lines = [source_line(indicator_ids)] if indicator_ids else []
    documents = finding_sources(chosen[:DECK_FINDINGS])
    if documents:
        lines.append(_("DIGINNO documents: {documents}.", documents="; ".join(documents)))
    lines += [_("Interactive dashboard: {link}", link=link), _made_line()]
    notes = _("Numbers are computed from Eurostat and DESI data; ':' means not available. {legend}",
              legend=flag_legend_text(sorted(set("bcdefnpsuz")), markup=False))
    return slides.SlideSpec(title=_("Sources"), bullets=lines, notes=notes)


def country_deck(geo: str, base_url: str) -> bytes:
    """A short 16:9 deck for one BSR country: title, its key indicators (chart + sentence), findings, sources."""
    rows = country_rows(geo)
    name = queries.geo_names().get(geo, geo)
    all_insights = data_insights.insights()
    shown = [row for row in rows if row["cell"] is not None and row["year"] is not None][:DECK_INDICATORS]
    table = "\n".join(["\t".join(["indicator", "year", geo, "EU", "BSR rank"])] + [
        "\t".join([row["meta"].title, str(row["year"] or ":"),
                   ":" if row["cell"] is None else insights_module.fmt_value(row["meta"], row["cell"].value, row["cell"].flags),
                   ":" if row["eu"] is None else insights_module.fmt_value(row["meta"], row["eu"].value, row["eu"].flags),
                   row["rank"]]) for row in rows])
    specs = [slides.SlideSpec(title=_("{country}: digital single market brief", country=name),
                              subtitle=_("{country} against the Baltic Sea Region peers and the EU", country=name),
                              bullets=[_("Baltic DSM Dashboard for the DIGINNO project (WP4)."), _made_line()],
                              notes=table)]
    for row in shown:
        about = [i.sentence for i in all_insights if i.indicator == row["meta"].id and i.concerns(geo)
                 and i.kind in ("leader", "laggard", "target_2030", "fastest_improver")]
        specs.append(indicator_slide(row["shown"], row["year"], [country_key_sentence(row, name), *about[:1]],
                                     base_url, geo=geo))
    chosen = findings_registry.select(findings_registry.registry().findings, geos=[geo])
    specs.append(findings_slide(chosen, _("DIGINNO findings concerning {country}", country=name)))
    specs.append(sources_slide([row["shown"] for row in shown], chosen,
                               base_url.rstrip("/") + f"/country?geo={geo}"))
    return slides.deck_bytes(specs)


def wp_deck(wp: str, base_url: str) -> bytes:
    """A short 16:9 deck for one work package: title, its linked indicators (chart + sentence), findings, sources."""
    chosen, indicator_ids, _references = wp_parts(wp)
    shown = [i for i in indicator_ids if latest_cells(i, queries.peer_group())[0] is not None][:DECK_INDICATORS]
    specs = [slides.SlideSpec(title=_(WP_TITLES[wp]), subtitle=_("DIGINNO work package findings beside the BSR evidence"),
                              bullets=[_("Baltic DSM Dashboard for the DIGINNO project (WP4)."), _made_line()],
                              notes="\n".join(f"{f.title}: {f.text}" for f in chosen[:DECK_FINDINGS]))]
    region = insights_module.select(data_insights.insights(), indicators=shown, kinds=("leader", "convergence"))
    for indicator_id in shown:
        year, _cells = latest_cells(indicator_id, queries.peer_group())
        about = [i.sentence for i in region if i.indicator == indicator_id and i.kind == "convergence"]
        specs.append(indicator_slide(indicator_id, year, [region_key_sentence(indicator_id), *about[:1]], base_url))
    specs.append(findings_slide(chosen, _("What the work package set out to establish")))
    specs.append(sources_slide(shown, chosen, base_url.rstrip("/") + f"/findings?wp={wp}"))
    return slides.deck_bytes(specs)


# ---------------------------------------------------------------- PDF and caching

def html_to_pdf(document: str) -> bytes:
    """Print an HTML document to PDF (the render service's Chromium)."""
    return render_service.pdf(document)


FORMATS = {"html": "text/html", "pdf": "application/pdf",
           "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


def render(kind: str, key: str, fmt: str, base_url: str = "") -> str | bytes:
    """A brief as HTML text, PDF or PowerPoint bytes, cached per database version, findings files and language (a
    deck also per the site address its links name)."""
    stamp = findings_registry._directory_stamp(findings_registry.FINDINGS_DIR)

    def make() -> str | bytes:
        """Build the brief (the PDF prints exactly the cached HTML)."""
        if fmt == "pdf":
            return html_to_pdf(render(kind, key, "html"))
        if fmt == "pptx":
            return country_deck(key, base_url) if kind == "country" else wp_deck(key, base_url)
        return country_brief_html(key) if kind == "country" else wp_brief_html(key)

    # per language (the insight sentences and buttons come translated); a deck also per site address its links name
    extra = (base_url,) if fmt == "pptx" else ()
    return remember(("brief", kind, key, fmt, stamp, i18n.current(), *extra), make)


def _respond(kind: str, key: str) -> Response:
    """The Flask response for a brief request: HTML, PDF or PowerPoint download, or a plain 404/400."""
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        return Response(f"Unknown format {fmt!r}: use html, pdf or pptx.\n", status=400, mimetype="text/plain")
    try:
        with i18n.use(i18n.resolve(request.args.get("lang"))):
            body = render(kind, key, fmt, public_base_url() or request.host_url)
    except BriefNotFound as exc:
        return Response(f"{exc}\n", status=404, mimetype="text/plain")
    except render_service.RenderError as exc:  # no Chromium, or every render slot taken
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain", headers=headers)
    if fmt in ("pdf", "pptx"):
        headers = {"Content-Disposition": f'attachment; filename="brief-{kind}-{key}.{fmt}"'}
        return Response(body, mimetype=FORMATS[fmt], headers=headers)
    return Response(body, mimetype="text/html")


def register_brief_routes(server: Flask) -> None:
    """Add /brief/country/<geo> and /brief/wp/<wp> to the Dash app's Flask server (app.server)."""
    if server.extensions.get("dsm_brief_routes"):
        return
    server.extensions["dsm_brief_routes"] = True
    server.add_url_rule("/brief/country/<geo>", "brief_country", lambda geo: _respond("country", geo))
    server.add_url_rule("/brief/wp/<wp>", "brief_wp", lambda wp: _respond("wp", wp))
