"""Trends: one line per country over time, EU27 and BSR average as references, flags on every point."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common

BREAK_SYMBOL = "diamond"


def figure(df: pd.DataFrame, state=None) -> go.Figure:
    """Lines over time (geo, name, year, value, flags); breaks start a new segment, e/p/u values are hollow."""
    meta = df.attrs["meta"]
    if df["value"].notna().sum() == 0:
        return common.empty_figure("No values for this selection.", title=meta["title"])
    fig = go.Figure()
    for geo, rows in df.groupby("geo", sort=False):
        fig.add_trace(_line(geo, rows.sort_values("year"), meta))
    if meta.get("target_2030") is not None:
        _add_target(fig, meta)
    fig.update_xaxes(title=None, dtick=1 if df["year"].nunique() <= 12 else 2, showgrid=False)
    fig.update_yaxes(title=meta["unit_label"], rangemode="tozero")
    fig.update_layout(hovermode="closest", legend={"orientation": "v", "x": 1.02, "y": 1})
    return common.finish(fig, title=meta["title"], unit=meta["unit"], source=meta["source"], flags=df["flags"])


def _line(geo: str, rows: pd.DataFrame, meta: dict) -> go.Scatter:
    """One series; a None point before each break so the line is cut there (no false continuity)."""
    points = _with_break_gaps(rows)
    name = meta["names"].get(geo, geo)
    if geo == "BSR_AVG":
        name = f"BSR average ({meta['average_method'].split(' of the')[0]})"
    flags = points["flags"].tolist()
    return go.Scatter(
        x=points["year"], y=points["value"], name=name, mode="lines+markers+text", connectgaps=False,
        line={"color": colours.colour_for(geo), "dash": colours.dash_for(geo), "width": colours.width_for(geo)},
        marker={"symbol": [_symbol(f) for f in flags], "size": [10 if common.has_break(f) else 7 for f in flags],
                "color": colours.colour_for(geo), "line": {"width": 1.5, "color": colours.colour_for(geo)}},
        text=[common.flag_letters(f) for f in flags], textposition="top center",
        textfont={"size": 10, "color": colours.colour_for(geo)},
        customdata=[[common.hover_flags(f)] for f in flags],
        hovertemplate=f"<b>{name}</b><br>%{{x}}: %{{y:.1f}} {meta['unit_label']}%{{customdata[0]}}<extra></extra>",
        meta={"geo": geo},
    )


def _symbol(flags) -> str:
    """Diamond at a break, hollow for estimated/provisional/low reliability, filled circle otherwise."""
    return common.marker_symbol(flags, BREAK_SYMBOL if common.has_break(flags) else "circle")


def _with_break_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Insert an empty point half a year before every break ('b') that follows an earlier value."""
    rows = rows[["year", "value", "flags"]].reset_index(drop=True)
    breaks = rows.index[rows["flags"].map(common.has_break) & (rows.index > 0)]
    if len(breaks) == 0:
        return rows
    gaps = pd.DataFrame({"year": rows.loc[breaks, "year"] - 0.5, "value": None, "flags": None})
    return pd.concat([rows, gaps]).sort_values("year").reset_index(drop=True)


def _add_target(fig: go.Figure, meta: dict) -> None:
    """Horizontal line at the 2030 target, labelled."""
    label = meta.get("target_label") or "2030 target"
    fig.add_hline(y=meta["target_2030"], line={"color": colours.TARGET, "dash": "dot", "width": 2},
                  annotation_text=f"{label}: {meta['target_2030']:g}", annotation_position="top left",
                  annotation_font_color=colours.TARGET)
