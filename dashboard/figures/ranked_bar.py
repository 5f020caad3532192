"""Compare: countries ranked for one indicator and year; BSR highlighted; EU27, BSR average and 2030 target lines."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _

EU27, BSR_AVERAGE = colours.EU27, colours.BSR_AVERAGE


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Ranked bars (geo, name, value, flags, is_bsr, is_selected, rank) plus reference lines."""
    title = _("{title}, {year}", title=meta.title, year=meta.year)
    bars = df[df["rank"].notna() & df["value"].notna()]
    if bars.empty:
        return common.empty_figure(_("No values for this year."), title=title)
    shapes, notes = [], []
    refs = df[df["geo"].isin([EU27, BSR_AVERAGE]) & df["value"].notna()]
    lowest = refs["value"].min()
    for row in refs.itertuples(index=False):
        # The higher line's label sits above it and the lower one's below (EU27 above on a tie): they never overlap.
        above = len(refs) == 1 or row.value > lowest or (refs["value"].nunique() == 1 and row.geo == EU27)
        shape, note = common.reference_line(row.value, colour=colours.colour_for(row.geo),
                                            dash=colours.dash_for(row.geo), label=_reference_label(row, meta),
                                            above=above)
        shapes.append(shape), notes.append(note)
    if meta.target_2030 is not None:
        label = common.target_label(meta)
        shape, note = common.reference_line(meta.target_2030, colour=colours.TARGET, dash="dot", label=label,
                                            position="left")
        shapes.append(shape), notes.append(note)
    layout = {
        "xaxis": {"type": "category", "tickangle": -60},
        "yaxis": {"title": {"text": meta.unit_label}, "rangemode": "tozero"},
        "showlegend": False, "bargap": 0.25,
    }
    return common.make_figure([_bars(bars, meta)], layout, title=title, unit=meta.unit, source=_source(meta),
                              flags=df["flags"], height=560, shapes=shapes, annotations=notes,
                              notes_offset=110)


def _bars(bars: pd.DataFrame, meta: ChartMeta) -> dict:
    """One bar per country: the chosen countries (the BSR by default) in their colour, others grey; e/p/u hatched;
    flags on top."""
    colour = [colours.colour_for(g) if s else colours.MUTED for g, s in zip(bars["geo"], bars["is_selected"])]
    flags = bars["flags"].tolist()
    return {
        "type": "bar", "x": bars["name"].tolist(), "y": bars["value"].astype(float).tolist(),
        "marker": {"color": colour,
                   "pattern": {"shape": ["/" if common.is_hollow(f) else "" for f in flags], "fillmode": "replace",
                               "bgcolor": "white", "fgcolor": colour, "size": 6, "solidity": 0.5}},
        "text": [common.flag_letters(f) for f in flags], "textposition": "outside", "cliponaxis": False,
        "customdata": [[g, common.hover_flags(f)] for g, f in zip(bars["geo"], flags)],
        "hovertemplate": f"<b>%{{x}}</b> (%{{customdata[0]}})<br>%{{y:.1f}} {meta.unit_label}%{{customdata[1]}}<extra></extra>",
        "name": meta.title,
    }


def _reference_label(row, meta: ChartMeta) -> str:
    """'EU27: 91.2' or 'BSR average (unweighted mean ...): 90.1 e'."""
    label = _("EU27") if row.geo == EU27 else meta.average_label
    flag = common.flag_letters(row.flags)
    return f"{label}: {i18n.format_number(row.value)}{' ' + flag if flag else ''}"


def _source(meta: ChartMeta) -> str:
    """Source line plus the countries that have no value this year (missing is shown as missing, not zero)."""
    if not meta.no_data:
        return meta.source
    return _("{source} · no data: {countries}", source=meta.source, countries=", ".join(meta.no_data))
