"""DESI page: the composite stacked by weighted dimension contributions, and composite/dimension scores over editions."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common
from dashboard.figures.profile import make_figure, without_attrs

# One fixed colour per DESI dimension (Okabe-Ito), so the stack reads the same in every edition.
DIMENSION_COLOURS = {
    "desi_1_conn": colours.OKABE_ITO["blue"],
    "desi_2_hc": colours.OKABE_ITO["orange"],
    "desi_3_ui": colours.OKABE_ITO["bluish_green"],
    "desi_4_idt": colours.OKABE_ITO["reddish_purple"],
    "desi_5_dps": colours.OKABE_ITO["sky_blue"],
}
COMPOSITE = "composite"  # the trend chart's measure for the overall DESI score
EU_CODES = ("EU27_2020", "EU28")  # the EU averages DESI editions publish, shown by code
EDITION = "edition"      # URL parameter of the DESI edition (not 'year': that one is validated against an indicator)


def _weight_text(weights: pd.Series) -> str:
    """'Connectivity 25 % · Human capital 25 % · ...' from the implied weights of one edition."""
    return " · ".join(f"{label} {weight * 100:.0f} %" for label, weight in weights.items() if pd.notna(weight))


def stack_figure(df: pd.DataFrame, state=None) -> go.Figure:
    """Bars per country for one edition, stacked by the dimensions' weighted contributions; total = DESI score."""
    meta = df.attrs.get("meta", {})
    df = without_attrs(df)
    title = f"DESI {meta.get('year', '')}: overall score by weighted dimension contribution"
    if df.empty:
        return common.empty_figure("No DESI scores for this edition and these countries.", title=title)
    order = meta.get("order") or sorted(df["geo"].unique())
    names = {**meta.get("names", {}), **{r: r for r in EU_CODES}}  # 'EU28', not the aggregate's long name
    x = [names.get(g, g) for g in order]
    cells = {(r["dimension"], r["geo"]): r for r in df.to_dict("records")}  # ~50 rows: plain dicts beat pandas
    labels = {r["dimension"]: r["label"] for r in cells.values() if isinstance(r["label"], str)}
    traces = [_dimension_bar(dimension, labels.get(dimension, dimension), cells, order, x)
              for dimension in sorted({d for d, _ in cells})]
    totals = meta.get("totals", {})
    traces.append({"type": "scatter", "x": x, "y": [totals.get(g, (None, None))[0] for g in order], "mode": "text",
                   "showlegend": False, "hoverinfo": "skip", "textposition": "top center",
                   "text": [_total_label(*totals.get(g, (None, None))) for g in order], "name": "DESI score"})
    shapes, notes = [], []
    reference = meta.get("reference")
    if reference in totals and totals[reference][0] is not None:
        shape, note = common.reference_line(totals[reference][0], colour=colours.colour_for(colours.EU27), dash="dot",
                                            label=f"{reference}: {totals[reference][0]:.1f}", position="left")
        shapes.append(shape), notes.append(note)
    layout = {
        "barmode": "stack", "legend": {"traceorder": "reversed", "title": {"text": "Dimension"}},
        "xaxis": {"type": "category", "tickangle": 0},
        "yaxis": {"title": {"text": "DESI score (0-100)"}, "rangemode": "tozero"},
    }
    source = meta.get("source", "") + (f" · weights implied by the data: {meta['weights']}" if meta.get("weights") else "")
    return make_figure(traces, layout, title=title, unit="score (0-100)", source=source,
                       flags=df["flags"].tolist() + df["score_flags"].tolist(), height=540, shapes=shapes,
                       annotations=notes, notes_offset=60)


def _dimension_bar(dimension: str, label: str, cells: dict, order: list[str], x: list[str]) -> dict:
    """One dimension's weighted contributions across the countries, hover explaining score × weight."""
    rows = [cells.get((dimension, g), {}) for g in order]
    weights = [_number(r.get("weight")) for r in rows]
    return {
        "type": "bar", "x": x, "y": [_number(r.get("contribution")) for r in rows], "name": label,
        "marker": {"color": DIMENSION_COLOURS.get(dimension, "#999")},
        "customdata": [[g, _number(r.get("score")), None if w is None else w * 100, common.hover_flags(r.get("flags"))]
                       for g, r, w in zip(order, rows, weights)],
        "hovertemplate": (f"<b>%{{x}}</b> (%{{customdata[0]}})<br>{label}: score %{{customdata[1]:.1f}} × weight "
                          "%{customdata[2]:.0f} % = %{y:.2f} points%{customdata[3]}<extra></extra>"),
    }


def _number(value) -> float | None:
    """A plain float for the figure, None when missing (missing stays missing, never 0)."""
    return None if value is None or pd.isna(value) else float(value)


def _total_label(value, flags) -> str:
    """The composite above a stack, with its flags as published."""
    if value is None or pd.isna(value):
        return ":"
    letters = common.flag_letters(flags)
    return f"{value:.1f}" + (f" {letters}" if letters else "")


def trend_figure(df: pd.DataFrame, state=None) -> go.Figure:
    """The composite (or one dimension score) across DESI editions, one line per country, EU reference dotted."""
    meta = df.attrs.get("meta", {})
    df = without_attrs(df)
    title = f"{meta.get('measure_label', 'DESI')} across DESI editions"
    if df.empty:
        return common.empty_figure("No DESI values for these countries.", title=title)
    names = meta.get("names", {})
    references = set(meta.get("references", ()))
    lines: dict[str, list[dict]] = {}
    for record in df.sort_values("year").to_dict("records"):
        lines.setdefault(record["geo"], []).append(record)
    traces = [_trend_line(geo, lines[geo], names.get(geo, geo), geo in references)
              for geo in (meta.get("order") or sorted(lines)) if geo in lines]
    layout = {"xaxis": {"title": {"text": "DESI edition"}, "dtick": 1},
              "yaxis": {"title": {"text": meta.get("measure_label", "score")}}}
    return make_figure(traces, layout, title=title, unit="score (0-100)", source=meta.get("source", ""),
                       flags=df["flags"].tolist(), height=480, notes_offset=60)


def _trend_line(geo: str, points: list[dict], name: str, is_reference: bool) -> dict:
    """One country's (or the EU reference's) line across editions, flags on the markers."""
    colour = colours.colour_for(colours.EU27 if is_reference else geo)
    flags = [p["flags"] for p in points]
    return {
        "type": "scatter", "x": [int(p["year"]) for p in points], "y": [float(p["value"]) for p in points],
        "mode": "lines+markers+text", "name": name,
        "line": {"color": colour, "width": 3 if is_reference else 2, "dash": "dot" if is_reference else "solid"},
        "marker": {"color": colour, "size": 8, "symbol": [common.marker_symbol(f) for f in flags]},
        "text": [common.flag_letters(f) for f in flags], "textposition": "top center",
        "customdata": [[geo, common.hover_flags(f)] for f in flags],
        "hovertemplate": f"<b>{name}</b> (%{{customdata[0]}})<br>DESI %{{x}}: %{{y:.1f}}%{{customdata[1]}}<extra></extra>",
    }


# ---------------------------------------------------------------- data and registration

def _names_and_order(state, year: int | None = None) -> tuple[dict, list[str], str | None]:
    """Display names of every geo with DESI data, the countries shown (the state's, then the EU reference), the
    reference. Only the shown names go into df.attrs: pandas deep-copies attrs on every operation."""
    from dashboard.data import profile, queries

    if year is None:
        year = max(profile.desi_editions(), default=None)
    reference = profile.desi_reference(year) if year is not None else None
    present = profile.desi_geos()
    order = [g for g in state.geos if g in present and g != reference] + ([reference] if reference else [])
    names = queries.geo_names()
    return {g: names.get(g, g) for g in present}, order, reference


def _source() -> str:
    """Source line of the DESI export: the Commission's scoreboard, its update stamp when known."""
    from dashboard.data import profile, queries

    composite = profile.desi_composite()
    updated = queries.source_info(composite)["source_updated"] if composite else None
    return common.source_line("desi", updated) + " — DESI 2020 export (digital-agenda-data.eu), editions 2015-2020"


def edition_of(state) -> int | None:
    """The DESI edition of a state (URL 'edition'); the latest in the data when blank; InvalidState when unknown."""
    from dashboard.data import profile
    from dashboard.state import InvalidState

    editions = profile.desi_editions()
    asked = (state.get(EDITION) or "").strip()
    if not editions:
        raise InvalidState("The database holds no DESI scores; refresh with the DESI export first.")
    if not asked:
        return editions[-1]
    if not asked.isdigit() or int(asked) not in editions:
        raise InvalidState(f"There is no DESI {asked} edition in the data (editions: {editions[0]}–{editions[-1]}).")
    return int(asked)


def measure_of(state) -> str:
    """The trend chart's measure (URL 'measure'): the composite when blank; InvalidState when unknown."""
    from dashboard.data import profile
    from dashboard.state import InvalidState

    measure = state.get("measure") or COMPOSITE
    known = [COMPOSITE, *profile.desi_dimensions()["dimension"]]
    if measure not in known:
        raise InvalidState(f"Unknown DESI measure “{measure}”: choose the composite or one of {', '.join(known[1:])}.")
    return measure


def stack_data(state) -> pd.DataFrame:
    """Weighted dimension contributions of one edition (URL 'edition') for the state's countries and the EU."""
    from dashboard.data import profile

    year = edition_of(state)
    names, order, reference = _names_and_order(state, year)
    scores = profile.desi_scores()
    df = scores[(scores["year"] == year) & scores["geo"].isin(order)].copy()
    totals_frame = profile.desi_totals()
    totals_frame = totals_frame[(totals_frame["year"] == year) & totals_frame["geo"].isin(order)]
    totals = {g: (v, f) for g, v, f in zip(totals_frame["geo"], totals_frame["value"], totals_frame["flags"])}
    ranked = sorted([g for g in order if g != reference], key=lambda g: -(totals.get(g, (0, None))[0] or 0))
    weights = df.groupby("label", sort=False)["weight"].median()
    order = ranked + ([reference] if reference else [])
    df.attrs["meta"] = {"year": year, "names": {g: names[g] for g in order}, "order": order,
                        "reference": reference, "totals": totals, "weights": _weight_text(weights),
                        "source": _source(), "unit": "score (0-100)", "title": f"DESI {year}"}
    return df


def trend_data(state) -> pd.DataFrame:
    """The composite (measure 'composite') or one dimension's score per edition for the state's countries and EU."""
    from dashboard.data import profile

    measure = measure_of(state)
    names, order, reference = _names_and_order(state)
    present = profile.desi_geos()
    order = [g for g in order if g != reference] + [r for r in profile.EU_REFERENCES if r in present]
    if measure == COMPOSITE:
        df = profile.desi_totals()[["geo", "year", "value", "flags"]]
        label = "DESI overall score"
    else:
        scores = profile.desi_scores()
        df = scores.loc[scores["dimension"] == measure, ["geo", "year", "score", "score_flags", "label"]]
        label = f"DESI {df['label'].iloc[0]} score" if not df.empty else measure
        df = df.rename(columns={"score": "value", "score_flags": "flags"}).drop(columns="label")
    df = df[df["geo"].isin(order)].sort_values(["geo", "year"]).reset_index(drop=True)
    df.attrs["meta"] = {"measure": measure, "measure_label": label, "names": {g: names[g] for g in order},
                        "order": order, "references": [r for r in profile.EU_REFERENCES if r in order],
                        "source": _source(), "unit": "score (0-100)", "title": label}
    return df
