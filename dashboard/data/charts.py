"""The rows and metadata behind every chart: one function per chart, state -> (DataFrame, ChartMeta).

Pages declare which function feeds which chart (dashboard.registry); figures draw what these return.
The state is already validated and resolved by its page (registry.Page.state); nothing here reads the URL.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from dashboard.data import freshness, profile, queries
from dashboard.data.connection import cached
from dashboard.data.queries import BSR_AVERAGE, EU27
from dashboard.figures import common
from dashboard.insights import competition_rank
from dashboard.figures.meta import ChartMeta
from dashboard.state import State

COMPOSITE = "composite"  # the DESI trend chart's measure for the overall DESI score
EDITION = "edition"      # URL parameter of the DESI edition (not 'year': that one is validated against an indicator)


@cached
def indicator_meta(indicator_id: str) -> ChartMeta:
    """Everything a figure needs to label one indicator: title, unit, source line, target, average method."""
    entry = queries.indicator(indicator_id)
    info = queries.source_info(indicator_id)
    frame = queries.indicator_frame(indicator_id)
    units = sorted(frame["unit"].dropna().unique())
    unit = units[0] if units else entry.get("unit")
    label = entry.get("unit")
    return ChartMeta(
        indicator=indicator_id,
        title=entry.get("title") or indicator_id,
        unit=unit,
        # the catalogue's unit is a human label ("% of households"); the data's is a Eurostat code (PC_HH)
        unit_label=label if isinstance(label, str) and label else common.unit_label(unit),
        higher_is_better=bool(entry.get("higher_is_better", True)),
        target_2030=entry.get("target_2030"),
        target_label=entry.get("target_label") if isinstance(entry.get("target_label"), str) else None,
        dataset=info["dataset"],
        source=common.source_line(info["dataset"], info["source_updated"]) + freshness.source_note(info["dataset"]),
        average_method=queries.average_method(indicator_id),
        average_label=queries.average_label()[queries.average_weighted(indicator_id)],
        names=queries.geo_names(),
    )


@cached
def _annual(indicator_id: str) -> pd.DataFrame:
    """All annual values of the indicator plus the BSR average as geo BSR_AVG."""
    frame = queries.indicator_frame(indicator_id)[["geo", "year", "period", "value", "flags"]]
    avg = queries.bsr_average(indicator_id)
    avg = avg.assign(period=avg["year"].astype(str))[["geo", "year", "period", "value", "flags", "method"]]
    out = pd.concat([frame.assign(method=None), avg], ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out


@cached
def trends_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Time series of the chosen countries, EU27 and the BSR average (geo, name, year, period, value, flags)."""
    m = indicator_meta(state.indicator)
    wanted = list(dict.fromkeys([*state.geos, EU27, BSR_AVERAGE]))
    df = _annual(state.indicator)
    df = df[df["geo"].isin(wanted)].copy()
    df["geo"] = pd.Categorical(df["geo"], categories=wanted, ordered=True)
    df = df.sort_values(["geo", "year"]).reset_index(drop=True)
    df["geo"] = df["geo"].astype(str)
    df.insert(1, "name", df["geo"].map(m.names).fillna(df["geo"]))
    return df, m


@cached
def compare_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """One year's values for every EU country plus Norway and any added country, ranked, with EU27/BSR references."""
    m = indicator_meta(state.indicator)
    geo = queries.countries()
    members = set(geo.loc[geo["is_eu27"] & ~geo["is_aggregate"], "code"]) if "is_eu27" in geo.columns else set()
    peers = set(queries.peer_group())
    shown = members | peers | (set(state.geos) - {EU27, BSR_AVERAGE})
    df = _annual(state.indicator)
    df = df[df["year"] == state.year]
    countries_ = df[df["geo"].isin(shown)].copy()
    missing = sorted(shown - set(countries_.loc[countries_["value"].notna(), "geo"]))
    reverse = not m.higher_is_better
    countries_ = countries_.sort_values("value", ascending=reverse, na_position="last").reset_index(drop=True)
    countries_["rank"] = competition_rank(countries_["value"], m.higher_is_better).astype("Int64")  # ties share a rank
    countries_["is_bsr"] = countries_["geo"].isin(peers)
    countries_["is_selected"] = countries_["geo"].isin(state.geos)
    refs = df[df["geo"].isin([EU27, BSR_AVERAGE])].copy()
    refs["rank"], refs["is_bsr"], refs["is_selected"] = None, False, False
    out = pd.concat([countries_, refs], ignore_index=True)
    out.insert(1, "name", out["geo"].map(m.names).fillna(out["geo"]))
    return out, replace(m, year=state.year, no_data=tuple(missing))


@cached
def map_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """One year's values for every European country with its ISO-3 code for the map."""
    m = indicator_meta(state.indicator)
    geo = queries.countries()
    countries_ = geo[~geo["is_aggregate"]]
    iso3 = dict(zip(countries_["code"], countries_["iso3"]))  # from etl/codelists/geo.csv
    df = _annual(state.indicator)
    df = df[(df["year"] == state.year) & df["geo"].isin(set(countries_["code"]))].copy()
    df["iso3"] = df["geo"].map(iso3)
    df = df[df["iso3"].notna() & df["value"].notna()].sort_values("geo").reset_index(drop=True)
    df.insert(1, "name", df["geo"].map(m.names).fillna(df["geo"]))
    df["is_bsr"] = df["geo"].isin(queries.peer_group())
    return df, replace(m, year=state.year)


@cached
def scorecard_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Headline indicators x (peers, added countries, EU27, BSR average): latest value, 5-year change, vs EU27."""
    columns = list(dict.fromkeys([*state.geos, EU27, BSR_AVERAGE]))
    rows = [row for ind in queries.headline_indicators() for row in _scorecard_rows(ind, tuple(columns))]
    df = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    return df, ChartMeta(title="Headline indicators: latest year against the EU27", source=_scorecard_source(),
                         names=queries.geo_names(), columns=tuple(columns))


SCORECARD_COLUMNS = ["indicator", "title", "unit", "year", "geo", "value", "flags", "eu27", "diff_vs_eu27",
                     "position", "change_5y", "base_year", "target_2030", "distance_to_target", "higher_is_better",
                     "spark"]
TOLERANCE = 0.02  # within 2 % of the EU27 value counts as "about the same"


@cached
def _scorecard_rows(indicator_id: str, columns: tuple[str, ...]) -> list[dict]:
    """One scorecard row per column geo for one indicator at its latest year (cached per indicator and columns)."""
    m = indicator_meta(indicator_id)
    df = _annual(indicator_id)
    year = queries.latest_year(indicator_id)
    cells = {(g, int(y)): (None if pd.isna(v) else float(v), f)
             for g, y, v, f in zip(df["geo"], df["year"], df["value"], df["flags"])}
    eu_value = cells.get((EU27, year), (None, None))[0]
    # an average of countries (unweighted) is not compared with the EU aggregate, which is population-weighted
    weighted = set(queries.bsr_average(indicator_id).query("weighted")["year"].astype(int))
    target = m.target_2030
    rows = []
    for geo in columns:
        value, flags = cells.get((geo, year), (None, None))
        comparable = geo != BSR_AVERAGE or year in weighted
        history = [(y, cells[(geo, y)][0]) for y in range(year - 5, year + 1)
                   if (geo, y) in cells and cells[(geo, y)][0] is not None]
        base = [(y, v) for y, v in history if y <= year - 5]
        change = None if value is None or not base else value - base[-1][1]
        rows.append({
            "indicator": indicator_id, "title": m.title, "unit": m.unit, "year": year, "geo": geo,
            "value": value, "flags": flags, "eu27": eu_value,
            "diff_vs_eu27": None if value is None or eu_value is None or not comparable else value - eu_value,
            "position": _position(value, eu_value, m.higher_is_better) if comparable else "missing",
            "change_5y": change, "base_year": base[-1][0] if base else None,
            "target_2030": target, "distance_to_target": None if value is None or target is None else target - value,
            "higher_is_better": m.higher_is_better, "spark": [v for _, v in history],
        })
    return rows


def _position(value, eu_value, higher_is_better: bool) -> str:
    """'better', 'worse', 'same' (within TOLERANCE of EU27), 'reference' for EU27 itself, or 'missing'."""
    if value is None or eu_value is None or pd.isna(eu_value):
        return "missing"
    if abs(value - eu_value) <= TOLERANCE * abs(eu_value):
        return "same"
    better = value > eu_value if higher_is_better else value < eu_value
    return "better" if better else "worse"


def _scorecard_source() -> str:
    """Source line naming every dataset behind the headline indicators."""
    datasets = sorted({queries.source_info(i)["dataset"] for i in queries.headline_indicators()} - {None})
    return "Source: Eurostat, " + ", ".join(datasets) if datasets else "Source: Eurostat"


# ---------------------------------------------------------------- relationships

def relationships_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Points of the relationships scatter for a resolved state (indicator = x, extra 'y', year)."""
    x_id, y_id = state.indicator, state.get("y")
    assert x_id and y_id and state.year is not None, f"relationships state is incomplete: {state}"
    x_meta, y_meta = indicator_meta(x_id), indicator_meta(y_id)
    points = profile.pair_values(x_id, y_id, int(state.year))
    source = x_meta.source if x_meta.source == y_meta.source else f"{x_meta.source} · {y_meta.source}"
    return points, ChartMeta(
        x=x_id, y=y_id, x_title=x_meta.title, y_title=y_meta.title, x_unit=x_meta.unit, y_unit=y_meta.unit,
        x_unit_label=unit_text(x_id, x_meta.unit), y_unit_label=unit_text(y_id, y_meta.unit), year=int(state.year),
        source=source, title=f"{y_meta.title} against {x_meta.title}, {state.year}")


def unit_text(indicator_id: str, unit_code: str | None) -> str:
    """Readable unit: the house label of a Eurostat unit code, else the catalogue's own unit text."""
    label = common.unit_label(unit_code)
    if label and label != unit_code:
        return label
    return queries.indicator(indicator_id).get("unit") or label


# ---------------------------------------------------------------- country profile

def profile_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Profile rows of the state's one country, with its name and the source line of every dataset used."""
    (geo,) = state.geos
    df = profile.country_profile(geo)
    source = sources_line(df["dataset"].dropna().unique())
    return df, ChartMeta(geo=geo, name=queries.geo_names().get(geo, geo), source=source,
                         title=f"Country profile: {geo}")


def sources_line(datasets) -> str:
    """'Source: Eurostat, isoc_ec_esels (updated 2024-12-12), ...; European Commission, DESI export' for datasets."""
    updated = profile.dataset_updates()
    named = [f"{d} (updated {updated[d]})" if d in updated else d for d in sorted(set(datasets)) if d]
    eurostat = [n for n in named if not n.startswith("desi")]
    desi = [n.replace("desi", "DESI export", 1) for n in named if n.startswith("desi")]
    parts = ([f"Eurostat, {', '.join(eurostat)}"] if eurostat else []) + (
        [f"European Commission, {', '.join(desi)}"] if desi else [])
    return "Source: " + "; ".join(parts) if parts else "Source: none (no data)"


# ---------------------------------------------------------------- DESI

def _names_and_order(state: State, year: int | None = None) -> tuple[dict, list[str], str | None]:
    """Display names of every geo with DESI data, the countries shown (the state's, then the EU reference), the
    reference."""
    if year is None:
        year = max(profile.desi_editions(), default=None)
    reference = profile.desi_reference(year) if year is not None else None
    present = profile.desi_geos()
    order = [g for g in state.geos if g in present and g != reference] + ([reference] if reference else [])
    names = queries.geo_names()
    return {g: names.get(g, g) for g in present}, order, reference


def _desi_source() -> str:
    """Source line of the DESI export: the Commission's scoreboard, its update stamp when known."""
    composite = profile.desi_composite()
    updated = queries.source_info(composite)["source_updated"] if composite else None
    return common.source_line("desi", updated) + " — DESI 2020 export (digital-agenda-data.eu), editions 2015-2020"


def _weight_text(weights: pd.Series) -> str:
    """'Connectivity 25 % · Human capital 25 % · ...' from the implied weights of one edition."""
    return " · ".join(f"{label} {weight * 100:.0f} %" for label, weight in weights.items() if pd.notna(weight))


def stack_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Weighted dimension contributions of one edition (URL 'edition') for the state's countries and the EU."""
    year = int(state.get(EDITION))
    names, order, reference = _names_and_order(state, year)
    scores = profile.desi_scores()
    df = scores[(scores["year"] == year) & scores["geo"].isin(order)].copy()
    totals_frame = profile.desi_totals()
    totals_frame = totals_frame[(totals_frame["year"] == year) & totals_frame["geo"].isin(order)]
    totals = {g: (v, f) for g, v, f in zip(totals_frame["geo"], totals_frame["value"], totals_frame["flags"])}
    ranked = sorted([g for g in order if g != reference], key=lambda g: -(totals.get(g, (0, None))[0] or 0))
    weights = df.groupby("label", sort=False)["weight"].median()
    order = ranked + ([reference] if reference else [])
    return df, ChartMeta(year=year, names={g: names[g] for g in order}, order=tuple(order), reference=reference,
                         totals=totals, weights=_weight_text(weights), source=_desi_source(), unit="score (0-100)",
                         title=f"DESI {year}")


def trend_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """The composite (measure 'composite') or one dimension's score per edition for the state's countries and EU."""
    measure = state.get("measure") or COMPOSITE
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
    return df, ChartMeta(measure=measure, measure_label=label, names={g: names[g] for g in order},
                         order=tuple(order), references=tuple(r for r in profile.EU_REFERENCES if r in order),
                         source=_desi_source(), unit="score (0-100)", title=label)
