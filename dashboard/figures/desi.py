"""DESI page: the composite stacked by weighted dimension contributions, and composite/dimension scores over editions."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.meta import EU27, EU_REFERENCES

# One fixed colour per DESI dimension (Okabe-Ito), so the stack reads the same in every edition.
DIMENSION_COLOURS = {
    "conn": colours.OKABE_ITO["blue"],
    "hc": colours.OKABE_ITO["orange"],
    "ui": colours.OKABE_ITO["bluish_green"],
    "idt": colours.OKABE_ITO["reddish_purple"],
    "dps": colours.OKABE_ITO["sky_blue"],
}
DIMENSION_ORDER = tuple(DIMENSION_COLOURS)  # the published order, bottom of the stack first


def stack_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Bars per country for one edition, stacked by the dimensions' weighted contributions; total = DESI score,
    with the country's rank among the edition's countries."""
    if meta.custom_weights:
        title = _("{edition}: overall score with your weights, by weighted dimension contribution",
                  edition=meta.edition_label or meta.title)
    else:
        title = _("{edition}: overall score by weighted dimension contribution", edition=meta.edition_label or meta.title)
    if df.empty:
        return common.empty_figure(_("No DESI scores for this edition and these countries."), title=title)
    order = list(meta.order) or sorted(df["geo"].unique())
    names = {**meta.names, **{r: r.removesuffix("_2020") for r in EU_REFERENCES}}  # 'EU27', 'EU28' on the axis
    x = [names.get(g, g) for g in order]
    cells = {(r["dimension"], r["geo"]): r for r in df.to_dict("records")}  # ~50 rows: plain dicts beat pandas
    labels = {r["dimension"]: r["label"] for r in cells.values() if isinstance(r["label"], str)}
    present = {d for d, _g in cells}
    traces = [_dimension_bar(dimension, labels.get(dimension, dimension), cells, order, x)
              for dimension in sorted(present, key=lambda d: (DIMENSION_ORDER + (d,)).index(d))]
    totals = meta.totals
    traces.append({"type": "scatter", "x": x, "y": [totals.get(g, (None, None))[0] for g in order], "mode": "text",
                   "showlegend": False, "hoverinfo": "skip", "textposition": "top center", "cliponaxis": False,
                   "text": [_total_label(*totals.get(g, (None, None)), meta.ranks.get(g)) for g in order],
                   "name": _("DESI score")})
    shapes, notes = [], []
    reference = meta.reference
    if reference in totals and totals[reference][0] is not None:
        shape, note = common.reference_line(totals[reference][0], colour=colours.colour_for(EU27), dash="dot",
                                            label=f"{meta.names.get(reference, reference)}: "
                                                  f"{i18n.format_number(totals[reference][0], 1)}", position="left")
        shapes.append(shape), notes.append(note)
    layout = {
        "barmode": "stack", "legend": {"traceorder": "reversed", "title": {"text": _("Dimension")}},
        "xaxis": {"type": "category", "tickangle": 0},
        "yaxis": {"title": {"text": _("DESI score (0-100)")}, "rangemode": "tozero"},
    }
    if meta.weights:
        source = (_("{source} · your weights: {weights}", source=meta.source, weights=meta.weights) if meta.custom_weights
                  else _("{source} · official weights: {weights}", source=meta.source, weights=meta.weights))
    else:
        source = meta.source
    return common.make_figure(traces, layout, title=title, unit="score (0-100)", source=source,
                              flags=df["flags"].tolist() + df["score_flags"].tolist(), height=540, shapes=shapes,
                              annotations=notes, notes_offset=60, chars=common.NOTE_CHARS)


def _dimension_bar(dimension: str, label: str, cells: dict, order: list[str], x: list[str]) -> dict:
    """One dimension's weighted contributions across the countries, hover explaining score × weight."""
    rows = [cells.get((dimension, g), {}) for g in order]
    weights = [_number(r.get("weight")) for r in rows]
    return {
        "type": "bar", "x": x, "y": [_number(r.get("contribution")) for r in rows], "name": label,
        "marker": {"color": DIMENSION_COLOURS.get(dimension, "#999")},
        "customdata": [[g, _number(r.get("score")), None if w is None else w * 100, common.hover_flags(r.get("flags"))]
                       for g, r, w in zip(order, rows, weights)],
        "hovertemplate": _("<b>%{{x}}</b> (%{{customdata[0]}})<br>{dimension}: score %{{customdata[1]:.1f}} × weight "
                           "%{{customdata[2]:.1f}} % = %{{y:.2f}} points%{{customdata[3]}}<extra></extra>",
                           dimension=label),
    }


def _number(value) -> float | None:
    """A plain float for the figure, None when missing (missing stays missing, never 0)."""
    return None if value is None or pd.isna(value) else float(value)


def _total_label(value, flags, rank=None) -> str:
    """The composite above a stack, with its flags as published and its rank ('56.5 · #9')."""
    if value is None or pd.isna(value):
        return ":"
    letters = common.flag_letters(flags)
    text = i18n.format_number(value, 1) + (f" {letters}" if letters else "")
    return _("{score} · #{rank}", score=text, rank=rank[0]) if rank else text


def trend_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """The composite (or one dimension score) across DESI editions, one line per country, EU reference dotted."""
    title = _("{measure} across DESI editions ({source})", measure=meta.measure_label or "DESI",
              source=_source_name(meta))
    if df.empty:
        return common.empty_figure(_("No DESI values for these countries."), title=title)
    names = meta.names
    references = set(meta.references)
    lines: dict[str, list[dict]] = {}
    for record in df.sort_values("year").to_dict("records"):
        lines.setdefault(record["geo"], []).append(record)
    traces = [_trend_line(geo, lines[geo], names.get(geo, geo), geo in references)
              for geo in (meta.order or sorted(lines)) if geo in lines]
    layout = {"xaxis": {"title": {"text": _("DESI edition")}, "dtick": 1},
              "yaxis": {"title": {"text": meta.measure_label or _("score")}}}
    return common.make_figure(traces, layout, title=title, unit="score (0-100)", source=meta.source,
                              flags=df["flags"].tolist(), height=480, notes_offset=60, chars=common.NOTE_CHARS)


def _trend_line(geo: str, points: list[dict], name: str, is_reference: bool) -> dict:
    """One country's (or the EU reference's) line across editions, flags on the markers."""
    colour = colours.colour_for(EU27 if is_reference else geo)
    flags = [p["flags"] for p in points]
    return {
        "type": "scatter", "x": [int(p["year"]) for p in points], "y": [float(p["value"]) for p in points],
        "mode": "lines+markers+text", "name": name,
        "line": {"color": colour, "width": 3 if is_reference else 2, "dash": "dot" if is_reference else "solid"},
        "marker": {"color": colour, "size": 8, "symbol": [common.marker_symbol(f) for f in flags]},
        "text": [common.flag_letters(f) for f in flags], "textposition": "top center",
        "customdata": [[geo, common.hover_flags(f)] for f in flags],
        "hovertemplate": _("<b>{name}</b> (%{{customdata[0]}})<br>DESI %{{x}}: %{{y:.1f}}%{{customdata[1]}}<extra></extra>",
                           name=name),
    }


def _source_name(meta: ChartMeta) -> str:
    """'2022 workbook, editions 2017–2022' or '2020 export, editions 2015–2020' for the trend title."""
    return (_("2020 export, editions 2015–2020") if meta.reference == "EU28"
            else _("2022 workbook, editions 2017–2022"))
