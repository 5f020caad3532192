"""Country profile: every indicator's position against the EU reference, with the BSR average beside it."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common
from dashboard.i18n import _
from dashboard.figures.meta import ChartMeta
from dashboard.meta import BSR_AVERAGE, EU27

BSR_AVERAGE = BSR_AVERAGE


PROFILE_NOTE_CHARS = 80  # the profile's plot area is narrow: its long indicator labels take the left half


def _flagged(value, flags) -> str:
    """'62.6 b' — a value followed by its flags exactly as published."""
    letters = common.flag_letters(flags)
    return f"{i18n.format_number(value, 1)} {letters}".rstrip()


def _change_text(row) -> str:
    """'+2.8 since 2019', or why there is no five-year change."""
    if pd.isna(row["change_5y"]):
        return _("no value in {year} to compare with", year=int(row["year"]) - 5)
    return _("{change} since {year}", change=i18n.format_signed(row["change_5y"], 1), year=int(row["change_from"]))


def _hover(row, name: str) -> str:
    """Everything the profile knows about one indicator, for the country's marker."""
    direction = {1: _("higher is better"), -1: _("lower is better")}.get(int(row["direction"]),
                                                                        _("no better/worse direction"))
    return (
        f"<b>{row['title']}</b> ({row['year']}, {direction})"
        f"<br>{name}: {_flagged(row['value'], row['flags'])} {row['unit'] or ''}{common.hover_flags(row['flags'])}"
        f"<br>{row['reference']}: {_flagged(row['eu27'], row['eu27_flags'])}"
        f"<br>{_('BSR average')}: {_flagged(row['bsr'], row['bsr_flags'])}"
        "<br>" + _("Rank {rank} of {ranked} ({among})", rank=row["rank"], ranked=row["ranked"], among=row["rank_among"])
        + "<br>" + _("Change over five years: {change}", change=_change_text(row))
        + _score_text(row)
    )


def _score_text(row) -> str:
    """The standardised score the areas are ranked by, with its common year ('' when the indicator has none)."""
    score = row.get("score")
    if score is None or pd.isna(score):
        return ""
    return "<br>" + _("Standardised score: {score} standard deviations from the EU ({year}, across the EU27 countries)",
                      score=f"{'+' if score >= 0 else '−'}{i18n.format_number(abs(score), 2)}",
                      year=int(row["common_year"]))


def bsr_gap(df: pd.DataFrame) -> pd.Series:
    """The BSR average's position vs the EU reference, signed like gap_pct (positive = better); only where the
    average is population-weighted like the EU aggregate (an average of countries is not placed against it)."""
    sign = df["direction"].replace(0, 1)
    weighted = df["bsr_weighted"].fillna(False).astype(bool) if "bsr_weighted" in df.columns else False
    return (sign * (df["bsr"] - df["eu27"]) / df["eu27"].abs() * 100.0).where(weighted)


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Dot chart: % ahead of (+) or behind (−) the EU reference per indicator, country and BSR average."""
    name = meta.name or meta.geo
    title = _("{name}: every indicator against the EU", name=name)
    rows = df.dropna(subset=["gap_pct"])
    if rows.empty:
        return common.empty_figure(_("No indicator of this country can be compared with the EU."), title=title)
    rows = rows.sort_values(["theme", "title"], ascending=[False, False])
    labels = [f"{i18n.theme_label(t)} · {ti}" for t, ti in zip(rows["theme"], rows["title"])]
    colour = colours.colour_for(meta.geo)
    flags = rows["flags"].tolist()
    bsr_x = [None if pd.isna(v) else float(v) for v in bsr_gap(rows)]
    bsr = {"type": "scatter", "x": bsr_x, "y": labels, "mode": "markers",
           "name": _("BSR average"), "hovertemplate": _("BSR average: %{x:+.1f} % against the EU") + "<extra></extra>",
           "marker": {"symbol": "diamond-open", "size": 10, "color": colours.colour_for(BSR_AVERAGE)}}
    country = {
        "type": "scatter", "x": rows["gap_pct"].astype(float).tolist(), "y": labels, "mode": "markers+text",
        "name": name, "textposition": "middle right", "textfont": {"size": 10}, "hoverinfo": "text",
        "marker": {"size": 12, "color": colour, "line": {"color": colour, "width": 2},
                   "symbol": [common.marker_symbol(f) for f in flags]},
        "text": [f"#{r}/{n}" + (f" {common.flag_letters(f)}" if common.flag_letters(f) else "")
                 for r, n, f in zip(rows["rank"], rows["ranked"], flags)],
        "hovertext": [_hover(r, name) for r in rows.to_dict("records")],
    }
    zero = {"type": "line", "xref": "x", "x0": 0, "x1": 0, "yref": "paper", "y0": 0, "y1": 1,
            "line": {"color": colours.colour_for(EU27), "width": 2}, "name": "EU"}
    zero_note = {"text": _("EU = 0"), "xref": "x", "x": 0, "yref": "paper", "y": 1, "yanchor": "bottom",
                 "showarrow": False, "font": {"size": 11}}
    positions = pd.concat([rows["gap_pct"], bsr_gap(rows), pd.Series([0.0])]).astype(float)
    low, high = float(positions.min()), float(positions.max())
    pad = max(high - low, 1.0) * 0.06
    layout = {
        "xaxis": {"title": {"text": _("% better (+) or worse (−) than the EU average, direction-adjusted")},
                  "zeroline": False, "range": [low - pad, high + 3 * pad]},  # room for the rank labels
        "yaxis": {"automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    }
    traces = [bsr, country] if any(v is not None for v in bsr_x) else [country]  # no weighted average: no diamonds
    return common.make_figure(traces, layout, title=title, unit="% vs EU", source=meta.source,
                              flags=flags + rows["eu27_flags"].tolist(), height=max(420, 110 + 26 * len(rows)),
                              shapes=[zero], annotations=[zero_note], notes_offset=70, chars=PROFILE_NOTE_CHARS)
