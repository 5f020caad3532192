"""Compare: countries ranked for one indicator and year; BSR highlighted; EU27, BSR average and 2030 target lines."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common

EU27, BSR_AVERAGE = colours.EU27, colours.BSR_AVERAGE


def figure(df: pd.DataFrame, state=None) -> go.Figure:
    """Ranked bars (geo, name, value, flags, is_bsr, is_selected, rank) plus reference lines."""
    meta = df.attrs["meta"]
    title = f"{meta['title']}, {meta['year']}"
    bars = df[df["rank"].notna() & df["value"].notna()]
    if bars.empty:
        return common.empty_figure("No values for this year.", title=title)
    fig = go.Figure(_bars(bars, meta))
    refs = df[df["geo"].isin([EU27, BSR_AVERAGE]) & df["value"].notna()].set_index("geo")
    for geo in (EU27, BSR_AVERAGE):
        if geo in refs.index:
            _reference_line(fig, geo, refs.loc[geo], meta)
    if meta.get("target_2030") is not None:
        fig.add_hline(y=meta["target_2030"], line={"color": colours.TARGET, "dash": "dot", "width": 2},
                      annotation_text=f"{meta.get('target_label') or '2030 target'}: {meta['target_2030']:g}",
                      annotation_position="top left", annotation_font_color=colours.TARGET)
    fig.update_xaxes(type="category", tickangle=-60, title=None)
    fig.update_yaxes(title=meta["unit_label"], rangemode="tozero")
    flags_seen = list(df["flags"])
    if meta.get("no_data"):
        flags_seen = flags_seen  # missing countries are named in the source note, not drawn as zero
    fig = common.finish(fig, title=title, unit=meta["unit"], source=_source(meta), flags=flags_seen, height=520)
    fig.update_layout(showlegend=False, bargap=0.25)
    return fig


def _bars(bars: pd.DataFrame, meta: dict) -> go.Bar:
    """One bar per country: BSR in its own colour, others grey; e/p/u bars hatched; flag letters on top."""
    colour = [colours.colour_for(g) if (b or s) else colours.MUTED
              for g, b, s in zip(bars["geo"], bars["is_bsr"], bars["is_selected"])]
    return go.Bar(
        x=bars["name"], y=bars["value"], marker={
            "color": colour, "line": {"color": colour, "width": 1.5},
            "pattern": {"shape": ["/" if common.is_hollow(f) else "" for f in bars["flags"]], "fillmode": "overlay",
                        "fgcolor": "white", "size": 6},
        },
        text=[common.flag_letters(f) for f in bars["flags"]], textposition="outside", cliponaxis=False,
        customdata=[[g, common.hover_flags(f)] for g, f in zip(bars["geo"], bars["flags"])],
        hovertemplate=f"<b>%{{x}}</b> (%{{customdata[0]}})<br>%{{y:.1f}} {meta['unit_label']}%{{customdata[1]}}<extra></extra>",
        name=meta["title"],
    )


def _reference_line(fig: go.Figure, geo: str, row: pd.Series, meta: dict) -> None:
    """EU27 (black, solid) or BSR average (grey, dashed) across the bars, labelled with its value."""
    label = "EU27" if geo == EU27 else f"BSR average ({meta['average_method'].split(' of the')[0]})"
    flag = common.flag_letters(row["flags"])
    fig.add_hline(y=row["value"], line={"color": colours.colour_for(geo), "dash": colours.dash_for(geo), "width": 2},
                  annotation_text=f"{label}: {row['value']:.1f}{' ' + flag if flag else ''}",
                  annotation_position="top right" if geo == EU27 else "bottom right",
                  annotation_font_color=colours.colour_for(geo))


def _source(meta: dict) -> str:
    """Source line plus the countries that have no value this year (missing is shown as missing)."""
    if not meta.get("no_data"):
        return meta["source"]
    return f"{meta['source']} · no data: {', '.join(meta['no_data'])}"
