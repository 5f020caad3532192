"""DESI page: the composite stacked by weighted dimension contributions, and composite/dimension scores over editions."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta

# One fixed colour per DESI dimension (Okabe-Ito), so the stack reads the same in every edition.
DIMENSION_COLOURS = {
    "desi_1_conn": colours.OKABE_ITO["blue"],
    "desi_2_hc": colours.OKABE_ITO["orange"],
    "desi_3_ui": colours.OKABE_ITO["bluish_green"],
    "desi_4_idt": colours.OKABE_ITO["reddish_purple"],
    "desi_5_dps": colours.OKABE_ITO["sky_blue"],
}


def stack_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Bars per country for one edition, stacked by the dimensions' weighted contributions; total = DESI score."""
    title = f"DESI {meta.year}: overall score by weighted dimension contribution"
    if df.empty:
        return common.empty_figure("No DESI scores for this edition and these countries.", title=title)
    order = list(meta.order) or sorted(df["geo"].unique())
    names = {**meta.names, **{r: r for r in colours.EU_REFERENCES}}  # 'EU28', not the aggregate's long name
    x = [names.get(g, g) for g in order]
    cells = {(r["dimension"], r["geo"]): r for r in df.to_dict("records")}  # ~50 rows: plain dicts beat pandas
    labels = {r["dimension"]: r["label"] for r in cells.values() if isinstance(r["label"], str)}
    traces = [_dimension_bar(dimension, labels.get(dimension, dimension), cells, order, x)
              for dimension in sorted({d for d, _ in cells})]
    totals = meta.totals
    traces.append({"type": "scatter", "x": x, "y": [totals.get(g, (None, None))[0] for g in order], "mode": "text",
                   "showlegend": False, "hoverinfo": "skip", "textposition": "top center",
                   "text": [_total_label(*totals.get(g, (None, None))) for g in order], "name": "DESI score"})
    shapes, notes = [], []
    reference = meta.reference
    if reference in totals and totals[reference][0] is not None:
        shape, note = common.reference_line(totals[reference][0], colour=colours.colour_for(colours.EU27), dash="dot",
                                            label=f"{reference}: {totals[reference][0]:.1f}", position="left")
        shapes.append(shape), notes.append(note)
    layout = {
        "barmode": "stack", "legend": {"traceorder": "reversed", "title": {"text": "Dimension"}},
        "xaxis": {"type": "category", "tickangle": 0},
        "yaxis": {"title": {"text": "DESI score (0-100)"}, "rangemode": "tozero"},
    }
    source = meta.source + (f" · weights implied by the data: {meta.weights}" if meta.weights else "")
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
        "hovertemplate": (f"<b>%{{x}}</b> (%{{customdata[0]}})<br>{label}: score %{{customdata[1]:.1f}} × weight "
                          "%{customdata[2]:.0f} % = %{y:.2f} points%{customdata[3]}<extra></extra>"),
    }


def _number(value) -> float | None:
    """A plain float for the figure, None when missing (missing stays missing, never 0)."""
    return None if value is None or pd.isna(value) else float(value)


def _total_label(value, flags) -> str:
    """The composite above a stack, with its flags as published."""
    if value is None or pd.isna(value):
        return ":"
    letters = common.flag_letters(flags)
    return f"{value:.1f}" + (f" {letters}" if letters else "")


def trend_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """The composite (or one dimension score) across DESI editions, one line per country, EU reference dotted."""
    title = f"{meta.measure_label or 'DESI'} across DESI editions"
    if df.empty:
        return common.empty_figure("No DESI values for these countries.", title=title)
    names = meta.names
    references = set(meta.references)
    lines: dict[str, list[dict]] = {}
    for record in df.sort_values("year").to_dict("records"):
        lines.setdefault(record["geo"], []).append(record)
    traces = [_trend_line(geo, lines[geo], names.get(geo, geo), geo in references)
              for geo in (meta.order or sorted(lines)) if geo in lines]
    layout = {"xaxis": {"title": {"text": "DESI edition"}, "dtick": 1},
              "yaxis": {"title": {"text": meta.measure_label or "score"}}}
    return common.make_figure(traces, layout, title=title, unit="score (0-100)", source=meta.source,
                              flags=df["flags"].tolist(), height=480, notes_offset=60, chars=common.NOTE_CHARS)


def _trend_line(geo: str, points: list[dict], name: str, is_reference: bool) -> dict:
    """One country's (or the EU reference's) line across editions, flags on the markers."""
    colour = colours.colour_for(colours.EU27 if is_reference else geo)
    flags = [p["flags"] for p in points]
    return {
        "type": "scatter", "x": [int(p["year"]) for p in points], "y": [float(p["value"]) for p in points],
        "mode": "lines+markers+text", "name": name,
        "line": {"color": colour, "width": 3 if is_reference else 2, "dash": "dot" if is_reference else "solid"},
        "marker": {"color": colour, "size": 8, "symbol": [common.marker_symbol(f) for f in flags]},
        "text": [common.flag_letters(f) for f in flags], "textposition": "top center",
        "customdata": [[geo, common.hover_flags(f)] for f in flags],
        "hovertemplate": f"<b>{name}</b> (%{{customdata[0]}})<br>DESI %{{x}}: %{{y:.1f}}%{{customdata[1]}}<extra></extra>",
    }
