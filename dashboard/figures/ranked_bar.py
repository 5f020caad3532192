"""Compare: countries ranked for one indicator and year; BSR highlighted; EU27, BSR average and 2030 target lines."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common, labels
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.meta import BSR_AVERAGE, EU27

VALUE_LABEL_PX, VALUE_LABEL_MIN_PX = 11, 8  # value labels on the bars; smaller than 8 px they are not shown
REFERENCE_FONT_PX = 11                     # common.reference_line's label size
HEADROOM = 1.05                            # plotly's autorange above the tallest bar or line


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Ranked bars (geo, name, value, flags, is_bsr, is_selected, rank) plus reference lines."""
    title = _("{title}, {year}", title=meta.title, year=meta.year)
    bars = df[df["rank"].notna() & df["value"].notna()]
    if bars.empty:
        return common.empty_figure(_("No values for this year."), title=title)
    shapes, notes, placed = [], [], []
    refs = df[df["geo"].isin([EU27, BSR_AVERAGE]) & df["value"].notna()]
    lowest = refs["value"].min()
    for row in refs.itertuples(index=False):
        # The higher line's label sits above it and the lower one's below (EU27 above on a tie): they never overlap.
        above = len(refs) == 1 or row.value > lowest or (refs["value"].nunique() == 1 and row.geo == EU27)
        label = _reference_label(row, meta)
        shape, note = common.reference_line(row.value, colour=colours.colour_for(row.geo),
                                            dash=colours.dash_for(row.geo), label=label, above=above)
        shapes.append(shape), notes.append(note), placed.append((float(row.value), label, "right", above))
    values = bars["value"].astype(float).tolist()
    target = meta.indicator.target_2030
    top = max([*values, *(p[0] for p in placed), *([target] if target is not None else [])])
    if target is not None:
        label = common.target_label(meta.indicator)
        # over bars that stay below it and clear of the EU27/BSR labels, not on the tallest bars
        side, above = labels.reference_label_side(values, target, label, font_px=REFERENCE_FONT_PX,
                                                  others=placed, y_max=top * HEADROOM)
        shape, note = common.reference_line(target, colour=colours.TARGET, dash="dot", label=label,
                                            position=side, above=above)
        shapes.append(shape), notes.append(note)
    layout = {
        "xaxis": {"type": "category", "tickangle": -60},
        "yaxis": {"title": {"text": meta.unit_label}, "rangemode": "tozero"},
        "showlegend": False, "bargap": 0.25,
        # value labels only where the bar is wide enough for them at a legible size (plotly hides the others)
        "uniformtext": {"mode": "hide", "minsize": VALUE_LABEL_MIN_PX},
    }
    lines = [p[0] for p in placed] + ([target] if target is not None else [])
    lines_high = not lines or min(lines) > top / 2  # reference lines in the upper half: values at the bars' base
    return common.make_figure([_bars(bars, meta, lines_high)], layout, title=title, unit=meta.unit, source=_source(meta),
                              flags=df["flags"], height=560, shapes=shapes, annotations=notes,
                              notes_offset=110)


def _bars(bars: pd.DataFrame, meta: ChartMeta, lines_high: bool = True) -> dict:
    """One bar per country: the chosen countries (the BSR by default) in their colour, others grey; e/p/u hatched;
    flags on top."""
    colour = [colours.colour_for(g) if s else colours.MUTED for g, s in zip(bars["geo"], bars["is_selected"])]
    flags = bars["flags"].tolist()
    return {
        "type": "bar", "x": bars["name"].tolist(), "y": bars["value"].astype(float).tolist(),
        "marker": {"color": colour,
                   "pattern": {"shape": ["/" if common.is_hollow(f) else "" for f in flags], "fillmode": "replace",
                               "bgcolor": "white", "fgcolor": colour, "size": 6, "solidity": 0.5}},
        "text": [common.flag_letters(f) for f in flags], "textposition": "inside", "cliponaxis": False,
        # the value inside each bar, read upwards, with its flag letters (the bar's text), at the end of the bar
        # away from the reference lines (plotly picks a text colour that contrasts with the bar)
        "texttemplate": "%{y:.1f} %{text}", "textangle": -90, "textfont": {"size": VALUE_LABEL_PX},
        "insidetextanchor": "start" if lines_high else "end",
        "customdata": [[g, common.hover_flags(f)] for g, f in zip(bars["geo"], flags)],
        "hovertemplate": f"<b>%{{x}}</b> (%{{customdata[0]}})<br>%{{y:.1f}} {meta.unit_label}%{{customdata[1]}}<extra></extra>",
        "name": meta.title,
    }


def _reference_label(row, meta: ChartMeta) -> str:
    """'EU27: 91.2' or 'BSR average (unweighted): 90.1 e', plus '(7 of 9 reporting)' when peers are missing."""
    label = _("EU27") if row.geo == EU27 else meta.average_label
    flag = common.flag_letters(row.flags)
    text = f"{label}: {i18n.format_number(row.value)}{' ' + flag if flag else ''}"
    reporting = getattr(row, "reporting", None)
    return _("{label} ({reporting})", label=text, reporting=reporting) if isinstance(reporting, str) else text


def _source(meta: ChartMeta) -> str:
    """Source line plus the countries that have no value this year (missing is shown as missing, not zero)."""
    if not meta.no_data:
        return meta.source
    return _("{source} · no data: {countries}", source=meta.source, countries=", ".join(meta.no_data))
