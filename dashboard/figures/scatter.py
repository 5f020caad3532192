"""Relationships page: two indicators for one year, one point per country, fitted OLS line with Pearson r and n."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common, labels
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _, ngettext
from dashboard.meta import EU27

MIN_POINTS_FOR_FIT = 3  # a line through two points says nothing about a relationship


@dataclass(frozen=True)
class Fit:
    """Ordinary least squares line y = intercept + slope * x, Pearson r and the number of countries."""

    slope: float
    intercept: float
    r: float
    n: int


def ols_fit(x, y) -> Fit | None:
    """OLS line and Pearson r of paired values; None when fewer than 3 pairs or a variable does not vary."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    assert x.shape == y.shape, f"x and y differ in length ({x.shape} vs {y.shape})"
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < MIN_POINTS_FOR_FIT or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return Fit(slope=float(slope), intercept=float(intercept), r=float(np.corrcoef(x, y)[0, 1]), n=n)


def fit_points(points: pd.DataFrame) -> pd.DataFrame:
    """The rows the line is fitted to: single countries with both values (aggregates such as EU27 are shown, not fitted)."""
    if points.empty:
        return points
    return points[~points["is_reference"].astype(bool) & points["x"].notna() & points["y"].notna()]


def fit_text(fit: Fit | None, n_points: int) -> str:
    """'Pearson r = 0.82 (n = 27 countries)', or why no line is drawn."""
    if fit is None:
        return ngettext("No fitted line: {n} country with both values (need {least}, and both must vary)",
                        "No fitted line: {n} countries with both values (need {least}, and both must vary)",
                        n_points, least=MIN_POINTS_FOR_FIT)
    return ngettext("OLS fit: y = {intercept} + {slope}·x · Pearson r = {r} (n = {n} country)",
                    "OLS fit: y = {intercept} + {slope}·x · Pearson r = {r} (n = {n} countries)",
                    fit.n, intercept=common.significant(fit.intercept), slope=common.significant(fit.slope),
                    r=i18n.format_number(fit.r, 2))



def _marker_trace(group: pd.DataFrame, meta: ChartMeta, *, name: str, size: int, highlight: bool) -> dict:
    """One group of points (BSR, other countries or reference aggregates) with labels and flagged hollow markers."""
    rows = list(group.itertuples(index=False))
    hollow = [common.is_hollow(r.x_flags) or common.is_hollow(r.y_flags) for r in rows]
    base = "diamond" if group["is_reference"].astype(bool).all() else "circle"
    colour = [colours.colour_for(r.geo) if highlight or r.geo == EU27 else colours.MUTED for r in rows]
    return {
        "type": "scatter", "x": group["x"].astype(float).tolist(), "y": group["y"].astype(float).tolist(),
        "mode": "markers+text", "name": name,
        "text": [r.label_text if isinstance(r.label_position, str) else "" for r in rows],
        "textposition": [r.label_position if isinstance(r.label_position, str) else "top center" for r in rows],
        "textfont": {"size": 11 if highlight else 9, "color": "#222" if highlight else "#777"},
        "marker": {"size": size, "color": colour, "symbol": [f"{base}-open" if h else base for h in hollow],
                   "line": {"width": 2 if highlight else 1, "color": colour}},
        "hovertext": [_hover(r, meta) for r in rows], "hoverinfo": "text",
        "customdata": group["geo"].tolist(),
    }


def figure(points: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Scatter of two indicators (BSR highlighted, others muted, EU27 as a reference) with OLS line and r stated."""
    title = _("{y} against {x}, {year}", y=meta.y_title, x=meta.x_title, year=meta.year)
    if points.empty:
        return common.empty_figure(_("No country has values for both indicators in this year."), title=title)
    fitted = fit_points(points)
    fit = ols_fit(fitted["x"], fitted["y"])
    reference = points["is_reference"].astype(bool)
    bsr = points["is_bsr"].astype(bool) & ~reference
    points = with_label_positions(points, bsr, reference)
    traces = [_marker_trace(group, meta, name=name, size=size, highlight=highlight)
              for group, name, size, highlight in [
                  (points[~bsr & ~reference], _("Other countries"), 9, False),
                  (points[bsr], _("BSR countries"), 13, True),
                  (points[reference], _("EU27 (not in the fit)"), 13, False)]
              if not group.empty]
    if fit is not None:
        xs = [float(fitted["x"].min()), float(fitted["x"].max())]
        traces.append({"type": "scatter", "x": xs, "y": [fit.intercept + fit.slope * x for x in xs], "mode": "lines",
                       "name": _("OLS fit (r = {r})", r=i18n.format_number(fit.r, 2)), "line": {"color": "#444", "dash": "dot", "width": 2},
                       "hoverinfo": "skip"})
    note = {"text": fit_text(fit, len(fitted)), "xref": "paper", "yref": "paper", "x": 0, "y": 1.0, "xanchor": "left",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 12}, "name": "fit"}
    layout = {
        "xaxis": {"title": {"text": _("{title} ({unit})", title=meta.x_title, unit=meta.x_unit_label)}},
        "yaxis": {"title": {"text": _("{title} ({unit})", title=meta.y_title, unit=meta.y_unit_label)}},
    }
    flags = list(points["x_flags"]) + list(points["y_flags"])
    fig = common.make_figure(traces, layout, title=title, unit=None, source=meta.source, flags=flags,
                      height=580, annotations=[note], notes_offset=70,
                             chars=common.NOTE_CHARS)
    fig.layout.meta = {**fig.layout.meta, "fit": None if fit is None else fit.__dict__}
    return fig


LABEL_PX = {"bsr": 11, "reference": 9, "other": 9}   # the traces' label font sizes
MARKER_PX = {"bsr": 13, "reference": 13, "other": 9}  # and marker sizes


def with_label_positions(points: pd.DataFrame, bsr: pd.Series, reference: pd.Series) -> pd.DataFrame:
    """The points with label_text and label_position (a plotly text position, or None: no label) chosen so that
    labels avoid each other and the points (figures/labels.py): BSR countries first, then the EU27, then the
    others, whose label is left out where it cannot be placed clear (the hover still names them)."""
    kind = np.where(bsr, "bsr", np.where(reference, "reference", "other"))
    texts = [_label(r) for r in points.itertuples(index=False)]
    drawable = points["x"].notna() & points["y"].notna()
    rank = {"bsr": 0, "reference": 1, "other": 2}
    index = [i for i in range(len(points)) if drawable.iloc[i]]
    order = sorted(range(len(index)), key=lambda k: (rank[kind[index[k]]], index[k]))
    placed = labels.place_point_labels(
        points["x"].to_numpy(float)[index], points["y"].to_numpy(float)[index], [texts[i] for i in index],
        [LABEL_PX[kind[i]] for i in index], [MARKER_PX[kind[i]] for i in index], order=order,
        optional=[kind[i] == "other" for i in index]) if index else []
    positions: list[str | None] = [None] * len(points)
    for k, i in enumerate(index):
        positions[i] = placed[k]
    return points.assign(label_text=texts, label_position=positions)


def _label(row) -> str:
    """Point label: country code ('EU27' for the aggregate, not EU27_2020) plus the flag letters of either value."""
    letters = "/".join(f for f in (common.flag_letters(row.x_flags), common.flag_letters(row.y_flags)) if f)
    code = _("EU27") if row.geo == EU27 else str(row.geo)
    return f"{code} ({letters})" if letters else code


def _hover(row, meta: ChartMeta) -> str:
    """Hover text for one country: name, both values with their units and flags."""
    x_unit, y_unit = meta.x_unit_label, meta.y_unit_label
    return (
        f"<b>{row.name}</b> ({row.geo})"
        f"<br>{meta.x_title}: {common.significant(row.x, 4)} {x_unit}{common.hover_flags(row.x_flags)}"
        f"<br>{meta.y_title}: {common.significant(row.y, 4)} {y_unit}{common.hover_flags(row.y_flags)}"
    )
