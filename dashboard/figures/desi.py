"""DESI page: the composite stacked by weighted dimension contributions, and composite/dimension scores over editions."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common

# One fixed colour per DESI dimension (Okabe-Ito), so the stack reads the same in every edition.
DIMENSION_COLOURS = {
    "desi_1_conn": colours.OKABE_ITO["blue"],
    "desi_2_hc": colours.OKABE_ITO["orange"],
    "desi_3_ui": colours.OKABE_ITO["bluish_green"],
    "desi_4_idt": colours.OKABE_ITO["reddish_purple"],
    "desi_5_dps": colours.OKABE_ITO["sky_blue"],
}
COMPOSITE = "composite"  # the trend chart's measure for the overall DESI score


def _weight_text(weights: pd.Series) -> str:
    """'Connectivity 25 % · Human capital 25 % · ...' from the implied weights of one edition."""
    return " · ".join(f"{label} {weight * 100:.0f} %" for label, weight in weights.items() if pd.notna(weight))


def stack_figure(df: pd.DataFrame, state=None) -> go.Figure:
    """Bars per country for one edition, stacked by the dimensions' weighted contributions; total = DESI score."""
    meta = df.attrs.get("meta", {})
    title = f"DESI {meta.get('year', '')}: overall score by weighted dimension contribution"
    if df.empty:
        return common.empty_figure("No DESI scores for this edition and these countries.", title=title)
    order = meta.get("order") or sorted(df["geo"].unique())
    names = meta.get("names", {})
    x = [names.get(g, g) for g in order]
    fig = go.Figure()
    for dimension, group in df.groupby("dimension", sort=True):
        group = group.set_index("geo").reindex(order)
        label = group["label"].dropna().iloc[0] if group["label"].notna().any() else dimension
        fig.add_trace(go.Bar(
            x=x, y=group["contribution"].tolist(), name=label, marker={"color": DIMENSION_COLOURS.get(dimension, "#999")},
            customdata=list(zip(order, group["score"], group["weight"] * 100,
                                [common.hover_flags(f) for f in group["flags"]])),
            hovertemplate=(f"<b>%{{x}}</b> (%{{customdata[0]}})<br>{label}: score %{{customdata[1]:.1f}} × weight "
                           "%{customdata[2]:.0f} % = %{y:.2f} points%{customdata[3]}<extra></extra>"),
        ))
    totals = meta.get("totals", {})
    fig.add_trace(go.Scatter(
        x=x, y=[totals.get(g, (None, None))[0] for g in order], mode="text", showlegend=False, hoverinfo="skip",
        text=[_total_label(*totals.get(g, (None, None))) for g in order], textposition="top center",
    ))
    reference = meta.get("reference")
    if reference in totals:
        fig.add_hline(y=totals[reference][0], line={"color": colours.colour_for(colours.EU27), "width": 1, "dash": "dot"},
                      annotation_text=f"{reference}: {totals[reference][0]:.1f}", annotation_position="top left")
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})
    fig.update_xaxes(type="category", title=None)
    fig.update_yaxes(title="DESI score (0-100), sum of weighted dimension scores", rangemode="tozero")
    source = meta.get("source", "") + (f" · weights implied by the data: {meta['weights']}" if meta.get("weights") else "")
    return common.finish(fig, title=title, unit="score (0-100)", source=source, flags=list(df["flags"]), height=520)


def _total_label(value, flags) -> str:
    """The composite above a stack, with its flags as published."""
    if value is None or pd.isna(value):
        return ":"
    letters = common.flag_letters(flags)
    return f"{value:.1f}" + (f" {letters}" if letters else "")


def trend_figure(df: pd.DataFrame, state=None) -> go.Figure:
    """The composite (or one dimension score) across DESI editions, one line per country, EU reference in black."""
    meta = df.attrs.get("meta", {})
    title = f"{meta.get('measure_label', 'DESI')} across DESI editions"
    if df.empty:
        return common.empty_figure("No DESI values for these countries.", title=title)
    fig = go.Figure()
    names = meta.get("names", {})
    references = set(meta.get("references", ()))
    for geo in meta.get("order") or sorted(df["geo"].unique()):
        line = df[df["geo"] == geo].sort_values("year")
        if line.empty:
            continue
        is_reference = geo in references
        colour = colours.colour_for(colours.EU27 if is_reference else geo)
        fig.add_trace(go.Scatter(
            x=line["year"], y=line["value"], mode="lines+markers+text", name=names.get(geo, geo),
            line={"color": colour, "width": 3 if is_reference else 2, "dash": "dot" if is_reference else "solid"},
            marker={"color": colour, "size": 8, "symbol": [common.marker_symbol(f) for f in line["flags"]]},
            text=[common.flag_letters(f) for f in line["flags"]], textposition="top center",
            customdata=[[geo, common.hover_flags(f)] for f in line["flags"]],
            hovertemplate=f"<b>{names.get(geo, geo)}</b> (%{{customdata[0]}})<br>DESI %{{x}}: %{{y:.1f}}%{{customdata[1]}}<extra></extra>",
        ))
    fig.update_xaxes(title="DESI edition", dtick=1)
    fig.update_yaxes(title=meta.get("measure_label", "score"))
    return common.finish(fig, title=title, unit="score (0-100)", source=meta.get("source", ""),
                         flags=list(df["flags"]), height=460)


# ---------------------------------------------------------------- data and registration

def _names_and_order(state, year: int | None = None) -> tuple[dict, list[str], str | None]:
    """Display names, the countries shown (state's countries with DESI data, then the EU reference), the reference."""
    from dashboard.data import profile, queries

    scores = profile.desi_scores()
    if year is None:
        year = max(profile.desi_editions(), default=None)
    reference = profile.desi_reference(year) if year is not None else None
    present = set(scores["geo"])
    order = [g for g in state.geos if g in present and g != reference] + ([reference] if reference else [])
    return queries.geo_names(), order, reference


def _source() -> str:
    """Source line of the DESI export: the Commission's scoreboard, its update stamp when known."""
    from dashboard.data import profile, queries

    composite = profile.desi_composite()
    updated = queries.source_info(composite)["source_updated"] if composite else None
    return common.source_line("desi", updated) + " — DESI 2020 export (digital-agenda-data.eu), editions 2015-2020"


def stack_data(state) -> pd.DataFrame:
    """Weighted dimension contributions of one edition (state.year) for the state's countries and the EU reference."""
    from dashboard.data import profile

    year = int(state.year)
    names, order, reference = _names_and_order(state, year)
    scores = profile.desi_scores()
    df = scores[(scores["year"] == year) & scores["geo"].isin(order)].copy()
    totals_frame = profile.desi_totals()
    totals_frame = totals_frame[(totals_frame["year"] == year) & totals_frame["geo"].isin(order)]
    totals = {g: (v, f) for g, v, f in zip(totals_frame["geo"], totals_frame["value"], totals_frame["flags"])}
    ranked = sorted([g for g in order if g != reference], key=lambda g: -(totals.get(g, (0, None))[0] or 0))
    weights = df.groupby("label", sort=False)["weight"].median()
    df.attrs["meta"] = {"year": year, "names": names, "order": ranked + ([reference] if reference else []),
                        "reference": reference, "totals": totals, "weights": _weight_text(weights),
                        "source": _source(), "unit": "score (0-100)", "title": f"DESI {year}"}
    return df


def trend_data(state) -> pd.DataFrame:
    """The composite (measure 'composite') or one dimension's score per edition for the state's countries and EU."""
    from dashboard.data import profile

    measure = state.get("measure") or COMPOSITE
    names, order, reference = _names_and_order(state)
    present = set(profile.desi_scores()["geo"])
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
    df.attrs["meta"] = {"measure": measure, "measure_label": label, "names": names, "order": order,
                        "references": [r for r in profile.EU_REFERENCES if r in order], "source": _source(), "unit": "score (0-100)", "title": label}
    return df


def _register() -> None:
    """Add the two DESI charts to the chart registry."""
    from dashboard import charts

    charts.register(charts.Chart("desi_stack", "DESI by weighted dimension contribution", "/desi", stack_data,
                                 stack_figure))
    charts.register(charts.Chart("desi_trend", "DESI across editions", "/desi", trend_data, trend_figure))


_register()
