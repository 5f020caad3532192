"""Trends: one line per country over time, EU27 and BSR average as references, flags on every point."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.meta import BSR_AVERAGE

BREAK_SYMBOL = "diamond"


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Lines over time (geo, name, year, value, flags); breaks start a new segment, e/p/u values are hollow."""
    if df["value"].notna().sum() == 0:
        return common.empty_figure(_("No values for this selection."), title=meta.title)
    traces = [_line(geo, rows, meta) for geo, rows in df.groupby("geo", sort=False)]
    shapes, notes = [], []
    target = meta.indicator.target_2030
    if target is not None:
        label = common.target_label(meta.indicator)
        shape, note = common.reference_line(target, colour=colours.TARGET, dash="dot", label=label,
                                            position="left")
        shapes.append(shape), notes.append(note)
    years = df["year"].nunique()
    layout = {
        "xaxis": {"dtick": 1 if years <= 12 else 2, "showgrid": False},
        "yaxis": {"title": {"text": meta.unit_label}, "rangemode": "tozero"},
        "hovermode": "closest", "legend": {"orientation": "v", "x": 1.02, "y": 1},
    }
    return common.make_figure(traces, layout, title=meta.title, unit=meta.unit, source=meta.source,
                              flags=df["flags"], shapes=shapes, annotations=notes)


def _line(geo: str, rows: pd.DataFrame, meta: ChartMeta) -> dict:
    """One series as a scatter trace; a None point before each break so the line is cut there."""
    years, values, flags = _with_break_gaps(rows["year"].tolist(), rows["value"].tolist(), rows["flags"].tolist())
    name = meta.names.get(geo, geo)
    methods = [""] * len(years)
    if geo == BSR_AVERAGE:
        name = meta.average_label
        # how each year's average was made ('average of countries (unweighted), 6 of 9 reporting'), gaps kept aligned
        by_year = dict(zip(rows["year"], rows["method"])) if "method" in rows.columns else {}
        methods = [f"<br>{by_year[y]}" if isinstance(by_year.get(y), str) and by_year.get(y) else "" for y in years]
    colour = colours.colour_for(geo)
    return {
        "type": "scatter", "x": years, "y": values, "name": name, "mode": "lines+markers+text", "connectgaps": False,
        "line": {"color": colour, "dash": colours.dash_for(geo), "width": colours.width_for(geo)},
        "marker": {"symbol": [_symbol(f) for f in flags], "size": [10 if common.has_break(f) else 7 for f in flags],
                   "color": colour, "line": {"width": 1.5, "color": colour}},
        "text": [common.flag_letters(f) for f in flags], "textposition": "top center",
        "textfont": {"size": 10, "color": colour},
        "customdata": [[common.hover_flags(f), m] for f, m in zip(flags, methods)],
        "hovertemplate": f"<b>{name}</b><br>%{{x}}: %{{y:.1f}} {meta.unit_label}%{{customdata[0]}}%{{customdata[1]}}"
                         "<extra></extra>",
        "meta": {"geo": geo},
    }


def _symbol(flags) -> str:
    """Diamond at a break, hollow for estimated/provisional/low reliability, filled circle otherwise."""
    return common.marker_symbol(flags, BREAK_SYMBOL if common.has_break(flags) else "circle")


def _with_break_gaps(years: list, values: list, flags: list) -> tuple[list, list, list]:
    """Insert an empty point half a year before every break ('b') that follows an earlier point."""
    out_years, out_values, out_flags = [], [], []
    for i, (year, value, flag) in enumerate(zip(years, values, flags)):
        if i > 0 and common.has_break(flag):
            out_years.append(year - 0.5), out_values.append(None), out_flags.append(None)
        out_years.append(year)
        out_values.append(None if value is None or pd.isna(value) else float(value))
        out_flags.append(flag)
    return out_years, out_values, out_flags
