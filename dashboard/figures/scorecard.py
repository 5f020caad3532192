"""Overview scorecard: headline indicators and Digital Decade KPIs (rows) x countries, the EU aggregate and the BSR
average (columns), coloured against the row's EU aggregate AND marked ▲ ▼ ≈ (never colour alone), with a last
column holding the 2030 target and each cell's distance to it."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours, i18n
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.meta import EU27, EU_REFERENCES

POSITION_SCORE = {"worse": -1, "same": 0, "better": 1, "reference": 0, "missing": None}
POSITION_SYMBOLS = {"better": "▲", "worse": "▼", "same": "≈"}   # against the EU aggregate
ARROWS = {1: "↗", -1: "↘", 0: "→"}                              # five-year change
SOURCE_CHARS = 110                                               # the source line starts at the plot, not the page


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Heatmap of positions vs the EU aggregate with the value, flags, position symbol, 5-year arrow and distance to
    the 2030 target in every cell; the 2030 target in the last column."""
    legend = meta.notes[-1] if meta.notes else ""  # the short legend: one subtitle line (the page shows the long one)
    if df.empty:
        return common.empty_figure(_("No headline indicator has data."), title=meta.title)
    columns = [c for c in meta.columns if c in set(df["geo"])]
    rows = list(dict.fromkeys(df["indicator"]))
    firsts = {r["indicator"]: r for r in df.drop_duplicates("indicator").to_dict("records")}
    for r in df[df["target_2030"].notna()].drop_duplicates("indicator").to_dict("records"):
        firsts[r["indicator"]] = {**firsts[r["indicator"]], "target_2030": r["target_2030"]}  # the row's target
    grid = {(r["indicator"], r["geo"]): r for r in df.to_dict("records")}
    z = [[_score(grid.get((ind, geo))) for geo in columns] + [None] for ind in rows]
    text = [[cell_text(grid[(ind, geo)], distance=True) if (ind, geo) in grid else "" for geo in columns]
            + [target_text(firsts[ind])] for ind in rows]
    custom = [[_custom(grid.get((ind, geo)), geo) for geo in columns] + [_target_custom(firsts[ind])] for ind in rows]
    x = [_column_name(c, meta, df) for c in columns] + [_("2030 target")]
    heat = {
        "type": "heatmap", "z": z, "x": x, "y": [row_label(firsts[i]) for i in rows],
        "text": text, "texttemplate": "%{text}", "customdata": custom,
        "colorscale": [[0, colours.WORSE], [0.5, colours.NEUTRAL], [1, colours.BETTER]],
        "zmin": -1, "zmax": 1, "showscale": False, "xgap": 2, "ygap": 2,
        "hovertemplate": "<b>%{y}</b><br>%{x}: %{customdata[2]}<extra></extra>",
    }
    figure = common.make_figure([heat], {"yaxis": {"autorange": "reversed"}, "xaxis": {"side": "top"}},
                                title=meta.title, unit=None, source=meta.source, flags=df["flags"],
                                height=230 + 52 * len(rows), chars=SOURCE_CHARS)
    figure.layout.title.subtitle = {"text": legend}  # exports keep a figure's subtitle (dashboard.export)
    figure.layout.margin.t = 170  # title, legend line and the column names written at an angle above the plot
    return figure


def _column_name(code: str, meta: ChartMeta, df: pd.DataFrame) -> str:
    """Column heading: the country's name; the EU column names the aggregates its rows use ('EU27 / EU28')."""
    if code != EU27:
        return meta.names.get(code, code)
    used = [r for r in EU_REFERENCES if r in set(df["reference"].dropna())] if "reference" in df else []
    return " / ".join(r.removesuffix("_2020") for r in used) or meta.names.get(code, code)


def _score(cell: dict | None):
    """-1 worse, 0 about the same / reference, 1 better than the EU aggregate; None (blank) when missing."""
    if cell is None:
        return None
    return 0 if cell["geo"] == EU27 and cell["value"] is not None else POSITION_SCORE[cell["position"]]


def _custom(cell: dict | None, geo: str) -> list:
    """[indicator id, geo, hover text, link of the chart behind the cell] (a click opens the link)."""
    if cell is None:
        return ["", geo, _("no data"), ""]
    return [cell["indicator"], geo, describe(cell), cell.get("href") or ""]


def _target_custom(row) -> list:
    """The target column's cell: no link."""
    return ["", "", target_text(row) or _("no 2030 target"), ""]


def target_text(row) -> str:
    """The row's 2030 target ('80.0'), '' when it has none."""
    target = row.get("target_2030")
    return "" if target is None or pd.isna(target) else i18n.format_number(target, 1)


def row_label(row) -> str:
    """Row heading: indicator title and year."""
    return _("{title} ({year})", title=row["title"], year=int(row["year"]))


def cell_text(row, *, distance: bool = False) -> str:
    """'83.2 e ▲ ↗': value, flags as published, position against the EU aggregate (▲ better, ▼ worse, ≈ about the
    same), direction of the 5-year change; the EU column names a non-EU27 aggregate ('52.6 EU28'); with `distance`,
    a second line with the distance to the 2030 target. ':' when missing."""
    if row["value"] is None or pd.isna(row["value"]):
        return ":"
    flags = common.flag_letters(row["flags"])
    parts = [i18n.format_number(row["value"], 1), flags]
    reference = row.get("reference")
    if row["geo"] == EU27 and reference and reference != EU27:
        parts.append(str(reference))
    if row["geo"] != EU27:  # the EU column is the reference itself
        parts.append(POSITION_SYMBOLS.get(row["position"], ""))
    parts.append(trend_arrow(row["change_5y"]))
    text = " ".join(p for p in parts if p)
    gap = row.get("distance_to_target")
    if distance and gap is not None and not pd.isna(gap):
        text += "<br>" + distance_text(row)
    return text


def distance_text(row) -> str:
    """'17.4 to the target' or '2030 target met' (respecting whether higher is better)."""
    gap = row["distance_to_target"]
    if (gap <= 0) if row.get("higher_is_better", True) else (gap >= 0):
        return _("2030 target met")
    return _("{gap} to the target", gap=i18n.format_number(abs(gap), 1))


def _signed(value: float) -> str:
    """'+12.5' / '−3.0' / '±0.0' in the locale's number format."""
    return i18n.format_signed(value, 1, zero="±")


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values) -> str:
    """The last years as unicode blocks scaled between their own min and max ('' for fewer than two values)."""
    points = [v for v in (values or []) if v is not None and not pd.isna(v)]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = high - low
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((v - low) / span * top) if span else top // 2] for v in points)


def trend_arrow(change) -> str:
    """↗ up, ↘ down, → flat (|change| < 0.5), '' when no 5-year base."""
    if change is None or pd.isna(change):
        return ""
    return ARROWS[0] if abs(change) < 0.5 else ARROWS[1 if change > 0 else -1]


def position_text(row) -> str:
    """The position in words, for hovers, titles and screen readers."""
    reference = str(row.get("reference") or EU27).removesuffix("_2020")
    noise = i18n.format_number(row.get("noise") or 0, 1)
    position = row.get("position")
    if position == "better":
        return _("better than the {reference}", reference=reference)
    if position == "worse":
        return _("worse than the {reference}", reference=reference)
    if position == "same":
        return _("about the same as the {reference} (within {noise} pp)", reference=reference, noise=noise)
    return ""


def describe(row) -> str:
    """Hover text: value and flags, difference to the EU aggregate in words, 5-year change, distance to the 2030
    target."""
    if row["value"] is None or pd.isna(row["value"]):
        return _("no data for {year}", year=int(row["year"]))
    parts = [f"{i18n.format_number(row['value'], 1)} ({int(row['year'])}){common.hover_flags(row['flags'])}"]
    if row["geo"] == EU27 and row.get("reference") not in (None, EU27):
        parts.append(_("the {reference}, the EU aggregate of this edition", reference=row["reference"]))
    if row["diff_vs_eu27"] is not None and not pd.isna(row["diff_vs_eu27"]) and row["geo"] != EU27:
        parts.append(_("{diff} against the {reference}: {position}", diff=_signed(row["diff_vs_eu27"]),
                       reference=str(row.get("reference") or EU27).removesuffix("_2020"),
                       position=position_text(row)))
    if row["change_5y"] is not None and not pd.isna(row["change_5y"]):
        parts.append(_("{change} since {year}", change=_signed(row["change_5y"]), year=int(row["base_year"])))
    if row["distance_to_target"] is not None and not pd.isna(row["distance_to_target"]):
        parts.append(_("{distance} to the 2030 target of {target}", distance=_signed(row["distance_to_target"]),
                       target=i18n.format_number(row["target_2030"], 1)))
    return "<br>".join(parts)
