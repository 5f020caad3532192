"""Digital Decade figures: dot-and-target rows, a KPI's trajectory to 2030, the WP3 national/cross-border dumbbells.

Pure functions (frame, ChartMeta) -> go.Figure over the rows dashboard/data/digital_decade.py returns."""
from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import N_, _
from dashboard.meta import EU27

VERDICT_COLOURS = {"met": colours.BETTER, "on_track": colours.OKABE_ITO["blue"], "off_track": colours.WORSE,
                   "too_few_years": "#777777", "no_target": "#AAAAAA", "eu_only": "#AAAAAA"}
VERDICT_X = 103            # where the verdicts are printed, right of the 0-100 scale
EU_COLOUR = colours.COUNTRY_COLOURS[EU27]
DEFINITION_CHARS = 320     # a definition longer than this is cut on the figure (the page and table give it whole)
LABEL_CHARS = 44           # row labels wrap at this width
AXIS_TITLE_OFFSET = 75     # px from the plot to the source line when the x axis has a title
SOURCE_CHARS = 120         # the source line wraps here: these figures start it at the plot's left, past long labels


def _number(value) -> str:
    """A value as the locale writes it, 1 decimal; ':' when missing."""
    return ":" if value is None or pd.isna(value) else i18n.format_number(float(value), 1)


def signed(value) -> str:
    """'+1.50' / '−0.30' a year; ':' when missing."""
    return i18n.format_signed(value, 2)


def _short(text: str, chars: int = DEFINITION_CHARS) -> str:
    """A definition cut at a word boundary with an ellipsis."""
    return text if len(text) <= chars else textwrap.shorten(text, chars, placeholder=" …")


def _label(text: str) -> str:
    """A row label wrapped over lines for the axis."""
    return "<br>".join(textwrap.wrap(str(text), LABEL_CHARS)) or str(text)


def _top_margin(fig: go.Figure, top: int) -> go.Figure:
    """Room above the plot for a subtitle or a legend, the house bottom margin (source line, flag legend) kept."""
    fig.layout.margin.t = top
    return fig


# ---------------------------------------------------------------- dot-and-target rows

def targets_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """One row per KPI (or per country for one KPI): the value dot coloured by verdict, the 2030 target marker, the
    EU dot (or EU line), a grey bar from the value to the target; verdicts printed at the right."""
    rows = df[df["drawn"].astype(bool) & df["value"].notna()] if len(df) else df
    if rows.empty:
        return common.empty_figure(_("No Digital Decade values for this selection."), title=meta.title)
    rows = rows.iloc[::-1].reset_index(drop=True)  # plotly draws the first category at the bottom
    labels = [_label(r.label) if r.geo != meta.geo or not meta.indicator else f"<b>{_label(r.label)}</b>"
              for r in rows.itertuples()]
    traces = [_connectors(rows, labels), _targets(rows, labels)]
    if not meta.indicator:
        traces.append(_eu_dots(rows, labels))
    for verdict, colour in VERDICT_COLOURS.items():
        chosen = rows["verdict"] == verdict
        if chosen.any():
            traces.append(_value_dots(rows[chosen], [l for l, c in zip(labels, chosen) if c], verdict, colour, meta))
    shapes, notes = [], []
    if meta.indicator and rows["eu_value"].notna().any():
        eu = float(rows["eu_value"].dropna().iloc[0])
        shapes.append({"type": "line", "xref": "x", "x0": eu, "x1": eu, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": EU_COLOUR, "width": 2}, "name": "eu"})
        notes.append({"text": _("EU27 {value}", value=_number(eu)), "xref": "x", "x": eu, "yref": "paper", "y": 1,
                      "yanchor": "bottom", "showarrow": False, "font": {"size": 11}})
    notes += [{"text": text, "xref": "x", "x": VERDICT_X, "xanchor": "left", "yref": "y", "y": label,
               "showarrow": False, "font": {"size": 11, "color": VERDICT_COLOURS[v]}, "name": "verdict"}
              for label, text, v in zip(labels, rows["verdict_text"], rows["verdict"])]
    axis = meta.unit_label if meta.indicator else _("% or score (0–100)")
    definition = _("Definition: {text}", text=_short(meta.measure, 150)) if meta.measure else ""
    layout = {
        "title": {"text": meta.title, "x": 0, "xanchor": "left", "font": {"size": 17},
                  "subtitle": {"text": definition, "font": {"size": 11, "color": "#444"}}},
        "xaxis": {"title": {"text": axis}, "range": [0, 122], "zeroline": False,
                  "tickvals": [0, 20, 40, 60, 80, 100]},
        "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": labels, "automargin": True,
                  "tickfont": {"size": 12}},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    }
    height = max(360, 30 * len(rows) + 220)
    fig = common.make_figure(traces, layout, title=meta.title, unit=meta.unit, source=meta.source,
                             flags=rows["flags"], height=height, shapes=shapes, annotations=notes,
                             chars=SOURCE_CHARS, notes_offset=AXIS_TITLE_OFFSET)
    return _top_margin(fig, 130 if definition else 110)


def _connectors(rows: pd.DataFrame, labels: list[str]) -> dict:
    """Grey bars from each value to its target (the distance still to go)."""
    xs, ys = [], []
    for label, value, target in zip(labels, rows["value"], rows["target_2030"]):
        if pd.notna(target):
            xs += [float(value), float(target), None]
            ys += [label, label, None]
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": {"color": "#D0D0D0", "width": 6},
            "hoverinfo": "skip", "showlegend": False, "name": "distance"}


def _targets(rows: pd.DataFrame, labels: list[str]) -> dict:
    """The 2030 target of each row as a tall tick."""
    has = rows["target_2030"].notna().tolist()
    return {"type": "scatter", "name": _("2030 target"), "mode": "markers",
            "x": [float(t) for t, h in zip(rows["target_2030"], has) if h], "y": [l for l, h in zip(labels, has) if h],
            "marker": {"symbol": "line-ns-open", "size": 20, "line": {"width": 3, "color": colours.TARGET},
                       "color": colours.TARGET},
            "hovertemplate": _("2030 target: %{x}") + "<extra></extra>"}


def _eu_dots(rows: pd.DataFrame, labels: list[str]) -> dict:
    """The EU27's value on each KPI as a hollow black circle."""
    has = rows["eu_value"].notna().tolist()
    return {"type": "scatter", "name": _("EU27"), "mode": "markers",
            "x": [float(v) for v, h in zip(rows["eu_value"], has) if h], "y": [l for l, h in zip(labels, has) if h],
            "marker": {"symbol": "circle-open", "size": 11, "color": EU_COLOUR, "line": {"width": 2}},
            "hovertemplate": _("EU27: %{x:.1f}") + "<extra></extra>"}


def _value_dots(rows: pd.DataFrame, labels: list[str], verdict: str, colour: str, meta: ChartMeta) -> dict:
    """The country's values with one verdict: filled dots (hollow for e/p/u), hover with the paces."""
    hover = [
        _("{label}<br>{value} {unit} in {year}{flags}<br>2030 target: {target}<br>Needed: {required} a year; "
          "observed: {observed} a year ({window})<br>Rank {rank} of {ranked} Member States<br><i>{definition}</i>",
          label=r.label if not meta.indicator else r.name, value=_number(r.value), unit=r.unit_label,
          year=int(r.year), flags=common.hover_flags(r.flags), target=_number(r.target_2030),
          required=signed(r.required_per_year), observed=signed(r.observed_per_year), window=r.observed_window,
          rank=":" if pd.isna(r.rank) else int(r.rank), ranked=r.ranked,
          definition="<br>".join(textwrap.wrap(_short(r.definition or "", 200), 70)))
        for r in rows.itertuples()]
    return {"type": "scatter", "name": rows["verdict_text"].iloc[0], "mode": "markers+text", "x": rows["value"].tolist(),
            "y": labels, "text": [common.flag_letters(f) for f in rows["flags"]], "textposition": "top center",
            "marker": {"symbol": [common.marker_symbol(f) for f in rows["flags"]], "size": 13, "color": colour,
                       "line": {"width": 1.5, "color": colour}},
            "customdata": [[h] for h in hover], "hovertemplate": "%{customdata[0]}<extra></extra>",
            "meta": {"verdict": verdict}}


# ---------------------------------------------------------------- a KPI's trajectory

TRAJECTORY_DASH = {"dd_baseline_2023": "dashdot", "dd_ideal_2026": "longdash"}
TRAJECTORY_LABELS = {"dd_baseline_2023": N_("EU trajectory (2023 baseline)"),
                     "dd_ideal_2026": N_("EU ideal trajectory (2026)")}


def series_names(meta: ChartMeta) -> dict[str, str]:
    """What each series of the trajectory chart is called, in its legend and in its table."""
    return {
        "country": meta.name, "eu": _("EU27"),
        "path": _("{country}: straight path to the 2030 target", country=meta.name),
        "eu_path": _("EU27: straight path to the 2030 target"),
        **{code: _(label) for code, label in TRAJECTORY_LABELS.items()},
    }


def trajectory_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """The country's and the EU's values over the years, the straight path from the latest value to the 2030
    target (dashed), the Commission's EU trajectory where it has one; the definition printed under the chart."""
    if df.empty or df["value"].notna().sum() == 0:
        return common.empty_figure(_("No Digital Decade values for this selection."), title=meta.title)
    country = colours.colour_for(meta.geo)
    styles = {
        "country": (country, "solid", "lines+markers"), "eu": (EU_COLOUR, "solid", "lines+markers"),
        "path": (country, "dash", "lines"), "eu_path": (EU_COLOUR, "dot", "lines"),
        **{code: ("#777777", TRAJECTORY_DASH[code], "lines") for code in TRAJECTORY_LABELS},
    }
    names = series_names(meta)
    traces = []
    for series, rows in df.groupby("series", sort=False):
        name = names.get(series, series)
        colour, dash, mode = styles.get(series, ("#777777", "dot", "lines"))
        traces.append({
            "type": "scatter", "x": rows["year"].tolist(), "y": rows["value"].astype(float).tolist(), "name": name,
            "mode": mode, "line": {"color": colour, "dash": dash, "width": 3 if series in ("country", "eu") else 2},
            "marker": {"symbol": [common.marker_symbol(f) for f in rows["flags"]], "size": 8, "color": colour},
            "customdata": [[i, common.hover_flags(f)] for i, f in zip(rows["indicator"], rows["flags"])],
            "hovertemplate": f"<b>{name}</b><br>%{{x}}: %{{y:.1f}} {meta.unit_label}%{{customdata[1]}}"
                             "<br>%{customdata[0]}<extra></extra>",
            "meta": {"series": series},
        })
    shapes, notes = [], []
    target = meta.indicator.target_2030
    if target is not None:
        traces.append({"type": "scatter", "x": [2030], "y": [target], "mode": "markers",
                       "name": _("2030 target: {target}", target=_number(target)),
                       "marker": {"symbol": "star", "size": 16, "color": colours.TARGET},
                       "hovertemplate": _("2030 target: %{y}") + "<extra></extra>"})
    definition = _("Definition: {text}", text=_short(meta.measure, 150)) if meta.measure else ""
    if meta.measure_label:
        definition += "<br>" + _("EU trajectory: {text}", text=_short(meta.measure_label, 150))
    layout = {
        "title": {"text": meta.title, "x": 0, "xanchor": "left", "font": {"size": 17},
                  "subtitle": {"text": definition, "font": {"size": 11, "color": "#444"}}},
        "xaxis": {"dtick": 1, "showgrid": False, "range": [min(df["year"]) - 0.5, 2030.5]},
        "yaxis": {"title": {"text": meta.unit_label}, "rangemode": "tozero"},
        "legend": {"orientation": "v", "x": 1.02, "y": 1},
    }
    fig = common.make_figure(traces, layout, title=meta.title, unit=meta.unit, source=meta.source,
                             flags=df["flags"], shapes=shapes, annotations=notes, chars=SOURCE_CHARS, height=560)
    return _top_margin(fig, 100 if definition else 70)


# ---------------------------------------------------------------- WP3: national against cross-border

def crossborder_figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """A dumbbell per Member State and measurement year: national availability (filled) to cross-border (hollow),
    the gap printed beside it; BSR countries in bold and colour, the others grey; sorted by the latest year's gap."""
    if df.empty:
        return common.empty_figure(_("No eGovernment Benchmark values in the database."), title=meta.title)
    years = sorted(int(y) for y in df["year"].unique())
    latest = df[df["year"] == years[-1]].drop_duplicates("geo").sort_values("gap")
    order = latest["geo"].tolist() + sorted(set(df["geo"]) - set(latest["geo"]))
    names = dict(zip(df["geo"], df["name"]))
    bsr = set(df.loc[df["is_bsr"].astype(bool), "geo"])
    labels = {g: (f"<b>{names[g]}</b>" if g in bsr else names[g]) for g in order}
    traces, notes = [], []
    for i, year in enumerate(years):
        axis = "" if i == 0 else str(i + 1)
        rows = df[df["year"] == year]
        wide = rows.pivot_table(index="geo", columns="measure", values="value", aggfunc="first")
        xs, ys = [], []
        for geo in order:
            if geo in wide.index and wide.loc[geo].notna().all():
                xs += [float(wide.loc[geo, "cross_border"]), float(wide.loc[geo, "national"]), None]
                ys += [labels[geo]] * 2 + [None]
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "xaxis": f"x{axis}",
                       "yaxis": f"y{axis}", "line": {"color": "#BBBBBB", "width": 3}, "hoverinfo": "skip",
                       "showlegend": False})
        for measure, name, symbol in (("national", _("National"), "circle"),
                                      ("cross_border", _("Cross-border"), "circle-open")):
            part = rows[rows["measure"] == measure]
            part = part.set_index("geo").reindex([g for g in order if g in set(part["geo"])]).reset_index()
            colour = [colours.colour_for(g) if g in bsr else "#999999" for g in part["geo"]]
            traces.append({
                "type": "scatter", "x": part["value"].tolist(), "y": [labels[g] for g in part["geo"]],
                "mode": "markers", "name": name, "legendgroup": measure, "showlegend": i == 0,
                "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                "marker": {"symbol": symbol, "size": 10, "color": colour, "line": {"width": 2, "color": colour}},
                "customdata": [[n, _number(g)] for n, g in zip(part["name"], part["gap"])],
                "hovertemplate": "<b>%{customdata[0]}</b> " + str(year) + "<br>" + name + ": %{x:.1f}<br>"
                                 + _("gap %{customdata[1]} points") + "<extra></extra>",
                "meta": {"measure": measure, "year": year},
            })
        gaps = rows.drop_duplicates("geo").set_index("geo")["gap"]
        notes += [{"text": _number(gaps[g]), "xref": f"x{axis}", "x": 101, "xanchor": "left", "yref": f"y{axis}",
                   "y": labels[g], "showarrow": False, "font": {"size": 10, "color": "#444"}, "name": "gap"}
                  for g in order if g in gaps.index and pd.notna(gaps[g])]
        notes.append({"text": f"<b>{year}</b> · " + _("gap (points)"), "xref": f"x{axis} domain", "x": 1,
                      "xanchor": "right", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False,
                      "font": {"size": 12}, "name": "panel"})
    width = 1.0 / len(years)
    layout = {"legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"}}
    for i in range(len(years)):
        axis = "" if i == 0 else str(i + 1)
        layout[f"xaxis{axis}"] = {"domain": [i * width + (0.04 if i else 0), (i + 1) * width - 0.06],
                                  "range": [0, 108], "anchor": f"y{axis}",
                                  "title": {"text": _("{year}: score (0–100)", year=years[i])}}
        layout[f"yaxis{axis}"] = {"type": "category", "categoryorder": "array",
                                  "categoryarray": [labels[g] for g in order], "anchor": f"x{axis}",
                                  "showticklabels": i == 0, **({"matches": "y"} if i else {})}
    fig = common.make_figure(traces, layout, title=meta.title, unit=meta.unit, source=meta.source, flags=df["flags"],
                             height=max(520, 24 * len(order) + 260), annotations=notes, chars=SOURCE_CHARS,
                             notes_offset=AXIS_TITLE_OFFSET)
    return _top_margin(fig, 110)
