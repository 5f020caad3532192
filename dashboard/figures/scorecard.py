"""Overview scorecard: headline indicators (rows) x countries, EU27 and BSR average (columns), coloured vs EU27."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta

POSITION_SCORE = {"worse": -1, "same": 0, "better": 1, "reference": 0, "missing": None}
ARROWS = {1: "▲", -1: "▼", 0: "►"}


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Heatmap of positions vs EU27 with the value, flags and 5-year arrow in every cell."""
    if df.empty:
        return common.empty_figure("No headline indicator has data.", title=meta.title)
    columns = [c for c in meta.columns if c in set(df["geo"])]
    rows = list(dict.fromkeys(df["indicator"]))
    titles = {r["indicator"]: row_label(r) for r in df.drop_duplicates("indicator").to_dict("records")}
    grid = {(r["indicator"], r["geo"]): r for r in df.to_dict("records")}
    z = [[_score(grid.get((ind, geo))) for geo in columns] for ind in rows]
    text = [[cell_text(grid[(ind, geo)]) if (ind, geo) in grid else "" for geo in columns] for ind in rows]
    custom = [[_custom(grid.get((ind, geo)), geo) for geo in columns] for ind in rows]
    heat = {
        "type": "heatmap", "z": z, "x": [meta.names.get(c, c) for c in columns], "y": [titles[i] for i in rows],
        "text": text, "texttemplate": "%{text}", "customdata": custom,
        "colorscale": [[0, colours.WORSE], [0.5, colours.NEUTRAL], [1, colours.BETTER]],
        "zmin": -1, "zmax": 1, "showscale": False, "xgap": 2, "ygap": 2,
        "hovertemplate": "<b>%{y}</b><br>%{x}: %{customdata[2]}<extra></extra>",
    }
    layout = {"yaxis": {"autorange": "reversed"}, "xaxis": {"side": "top"}}
    return common.make_figure([heat], layout, title=meta.title, unit=None, source=meta.source,
                              flags=df["flags"], height=140 + 48 * len(rows))


def _score(cell: dict | None):
    """-1 worse, 0 about the same / reference, 1 better than EU27; None (blank) when missing."""
    if cell is None:
        return None
    return 0 if cell["geo"] == colours.EU27 else POSITION_SCORE[cell["position"]]


def _custom(cell: dict | None, geo: str) -> list:
    """[indicator id, geo, hover text] for a cell (the page turns a click into a link)."""
    if cell is None:
        return ["", geo, "no data"]
    return [cell["indicator"], geo, describe(cell)]


def row_label(row) -> str:
    """Row heading: indicator title and year, plus its 2030 target when one exists."""
    target = row.get("target_2030")
    suffix = "" if target is None or pd.isna(target) else f" · 2030 target {target:g}"
    return f"{row['title']} ({int(row['year'])}){suffix}"


def cell_text(row) -> str:
    """'83.2 e ▲' — value, flags as published, direction of the 5-year change; ':' when missing."""
    if row["value"] is None or pd.isna(row["value"]):
        return ":"
    flags = common.flag_letters(row["flags"])
    return f"{row['value']:.1f}{' ' + flags if flags else ''} {trend_arrow(row['change_5y'])}".strip()


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
    """▲ up, ▼ down, ► flat (|change| < 0.5), '' when no 5-year base."""
    if change is None or pd.isna(change):
        return ""
    return ARROWS[0] if abs(change) < 0.5 else ARROWS[1 if change > 0 else -1]


def describe(row) -> str:
    """Hover text: value and flags, difference to EU27, 5-year change, distance to the 2030 target."""
    if row["value"] is None or pd.isna(row["value"]):
        return f"no data for {int(row['year'])}"
    parts = [f"{row['value']:.1f} ({int(row['year'])}){common.hover_flags(row['flags'])}"]
    if row["diff_vs_eu27"] is not None and not pd.isna(row["diff_vs_eu27"]) and row["geo"] != colours.EU27:
        parts.append(f"{row['diff_vs_eu27']:+.1f} vs EU27 ({row['position']})")
    if row["change_5y"] is not None and not pd.isna(row["change_5y"]):
        parts.append(f"{row['change_5y']:+.1f} since {int(row['base_year'])}")
    if row["distance_to_target"] is not None and not pd.isna(row["distance_to_target"]):
        parts.append(f"{row['distance_to_target']:+.1f} to the 2030 target of {row['target_2030']:g}")
    return "<br>".join(parts)
