"""Registry of every chart: name -> Chart(data(state) -> DataFrame, figure(df, state) -> Figure, page path).

Exports and embeds render any chart from a State through `render(name, state)`. Other modules register their
charts with `register(Chart(...))` at import time of a module in dashboard.figures (see `load_all`).
Chart metadata (title, unit, source line, target, BSR-average method) travels in `df.attrs["meta"]`, so a
figure function needs nothing but its DataFrame and the state.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import plotly.graph_objects as go

from dashboard.data import freshness, queries
from dashboard.data.connection import cached
from dashboard.data.queries import BSR_AVERAGE, EU27
from dashboard.figures import common
from dashboard.insights import competition_rank
from dashboard.state import State


@dataclass(frozen=True)
class Chart:
    """One renderable chart: where its data comes from, how it is drawn, which page shows it."""

    name: str
    title: str
    page: str
    data: Callable[[State], pd.DataFrame]
    figure: Callable[[pd.DataFrame, State], go.Figure]


CHARTS: dict[str, Chart] = {}


def register(chart: Chart) -> Chart:
    """Add a chart to the registry (re-registering the same name replaces it: module reloads in tests)."""
    CHARTS[chart.name] = chart
    return chart


def load_all() -> dict[str, Chart]:
    """Import every dashboard.figures module so that all charts are registered; returns the registry."""
    import dashboard.figures as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"dashboard.figures.{module.name}")
    return CHARTS


def render(name: str, state: State) -> go.Figure:
    """The figure of a registered chart for a state (what exports and embeds call); a fresh figure each time."""
    chart = load_all()[name]
    return chart.figure(chart.data(state), state)


@cached
def page_figure(name: str, state: State) -> go.Figure:
    """The figure for a page, cached per (chart, state, database version); pages only serialise it, never change it."""
    chart = CHARTS[name]
    return chart.figure(chart.data(state), state)


@cached
def meta(indicator_id: str) -> dict:
    """Everything a figure needs to label one indicator: title, unit, source line, target, average method."""
    entry = queries.indicator(indicator_id)
    info = queries.source_info(indicator_id)
    frame = queries.indicator_frame(indicator_id)
    units = sorted(frame["unit"].dropna().unique())
    unit = units[0] if units else entry.get("unit")
    return {
        "indicator": indicator_id,
        "title": entry.get("title") or indicator_id,
        "unit": unit,
        # the catalogue's unit is a human label ("% of households"); the data's is a Eurostat code (PC_HH)
        "unit_label": entry.get("unit") if isinstance(entry.get("unit"), str) and entry.get("unit") else common.unit_label(unit),
        "higher_is_better": bool(entry.get("higher_is_better", True)),
        "target_2030": entry.get("target_2030"),
        "target_label": entry.get("target_label") if isinstance(entry.get("target_label"), str) else None,
        "dataset": info["dataset"],
        "source": common.source_line(info["dataset"], info["source_updated"]) + freshness.source_note(info["dataset"]),
        "average_method": queries.average_method(indicator_id),
        "names": queries.geo_names(),
    }


class Meta(dict):
    """Chart metadata; pandas deep-copies attrs on every operation, so this dict hands out itself instead."""

    def __deepcopy__(self, memo):
        """Metadata is never mutated after creation: sharing it is safe and free."""
        return self


def with_meta(df: pd.DataFrame, meta_: dict) -> pd.DataFrame:
    """Attach chart metadata to a frame (figures read df.attrs['meta'])."""
    df.attrs["meta"] = Meta(meta_)
    return df


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
def trends_data(state: State) -> pd.DataFrame:
    """Time series of the chosen countries, EU27 and the BSR average (geo, name, year, period, value, flags)."""
    m = meta(state.indicator)
    wanted = list(dict.fromkeys([*state.geos, EU27, BSR_AVERAGE]))
    df = _annual(state.indicator)
    df = df[df["geo"].isin(wanted)].copy()
    df["geo"] = pd.Categorical(df["geo"], categories=wanted, ordered=True)
    df = df.sort_values(["geo", "year"]).reset_index(drop=True)
    df["geo"] = df["geo"].astype(str)
    df.insert(1, "name", df["geo"].map(m["names"]).fillna(df["geo"]))
    return with_meta(df, m)


@cached
def compare_data(state: State) -> pd.DataFrame:
    """One year's values for every EU country plus Norway and any added country, ranked, with EU27/BSR references."""
    m = meta(state.indicator)
    geo = queries.countries()
    members = set(geo.loc[geo["is_eu27"] & ~geo["is_aggregate"], "code"]) if "is_eu27" in geo.columns else set()
    peers = set(queries.peer_group())
    shown = members | peers | (set(state.geos) - {EU27, BSR_AVERAGE})
    df = _annual(state.indicator)
    df = df[df["year"] == state.year]
    countries_ = df[df["geo"].isin(shown)].copy()
    missing = sorted(shown - set(countries_.loc[countries_["value"].notna(), "geo"]))
    reverse = not m["higher_is_better"]
    countries_ = countries_.sort_values("value", ascending=reverse, na_position="last").reset_index(drop=True)
    countries_["rank"] = competition_rank(countries_["value"], m["higher_is_better"]).astype("Int64")  # ties share a rank
    countries_["is_bsr"] = countries_["geo"].isin(peers)
    countries_["is_selected"] = countries_["geo"].isin(state.geos)
    refs = df[df["geo"].isin([EU27, BSR_AVERAGE])].copy()
    refs["rank"], refs["is_bsr"], refs["is_selected"] = None, False, False
    out = pd.concat([countries_, refs], ignore_index=True)
    out.insert(1, "name", out["geo"].map(m["names"]).fillna(out["geo"]))
    return with_meta(out, {**m, "year": state.year, "no_data": missing})


@cached
def map_data(state: State) -> pd.DataFrame:
    """One year's values for every European country with its ISO-3 code for the map."""
    m = meta(state.indicator)
    geo = queries.countries()
    countries_ = geo[~geo["is_aggregate"]]
    iso3 = dict(zip(countries_["code"], countries_["iso3"])) if "iso3" in countries_.columns else {}
    df = _annual(state.indicator)
    df = df[(df["year"] == state.year) & df["geo"].isin(set(countries_["code"]))].copy()
    df["iso3"] = df["geo"].map(lambda code: iso3.get(code) or ISO3.get(code))
    df = df[df["iso3"].notna() & df["value"].notna()].sort_values("geo").reset_index(drop=True)
    df.insert(1, "name", df["geo"].map(m["names"]).fillna(df["geo"]))
    df["is_bsr"] = df["geo"].isin(queries.peer_group())
    return with_meta(df, {**m, "year": state.year})


@cached
def scorecard_data(state: State) -> pd.DataFrame:
    """Headline indicators x (peers, added countries, EU27, BSR average): latest value, 5-year change, vs EU27."""
    columns = list(dict.fromkeys([*state.geos, EU27, BSR_AVERAGE]))
    rows = [row for ind in queries.headline_indicators() for row in _scorecard_rows(ind, tuple(columns))]
    df = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    return with_meta(df, {"title": "Headline indicators: latest year against the EU27",
                          "source": _scorecard_source(), "names": queries.geo_names(), "columns": columns,
                          "unit": None})


SCORECARD_COLUMNS = ["indicator", "title", "unit", "year", "geo", "value", "flags", "eu27", "diff_vs_eu27",
                     "position", "change_5y", "base_year", "target_2030", "distance_to_target", "higher_is_better",
                     "spark"]
TOLERANCE = 0.02  # within 2 % of the EU27 value counts as "about the same"


@cached
def _scorecard_rows(indicator_id: str, columns: tuple[str, ...]) -> list[dict]:
    """One scorecard row per column geo for one indicator at its latest year (cached per indicator and columns)."""
    m = meta(indicator_id)
    df = _annual(indicator_id)
    year = queries.latest_year(indicator_id)
    cells = {(g, int(y)): (None if pd.isna(v) else float(v), f)
             for g, y, v, f in zip(df["geo"], df["year"], df["value"], df["flags"])}
    eu_value = cells.get((EU27, year), (None, None))[0]
    target = m["target_2030"]
    rows = []
    for geo in columns:
        value, flags = cells.get((geo, year), (None, None))
        history = [(y, cells[(geo, y)][0]) for y in range(year - 5, year + 1)
                   if (geo, y) in cells and cells[(geo, y)][0] is not None]
        base = [(y, v) for y, v in history if y <= year - 5]
        change = None if value is None or not base else value - base[-1][1]
        rows.append({
            "indicator": indicator_id, "title": m["title"], "unit": m["unit"], "year": year, "geo": geo,
            "value": value, "flags": flags, "eu27": eu_value,
            "diff_vs_eu27": None if value is None or eu_value is None else value - eu_value,
            "position": _position(value, eu_value, m["higher_is_better"]),
            "change_5y": change, "base_year": base[-1][0] if base else None,
            "target_2030": target, "distance_to_target": None if value is None or target is None else target - value,
            "higher_is_better": m["higher_is_better"], "spark": [v for _, v in history],
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


# Eurostat geo code -> ISO 3166-1 alpha-3, for when the geo table has no iso3 column (Eurostat uses EL and UK).
ISO3 = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CY": "CYP", "CZ": "CZE", "DE": "DEU", "DK": "DNK", "EE": "EST",
    "EL": "GRC", "ES": "ESP", "FI": "FIN", "FR": "FRA", "HR": "HRV", "HU": "HUN", "IE": "IRL", "IT": "ITA",
    "LT": "LTU", "LU": "LUX", "LV": "LVA", "MT": "MLT", "NL": "NLD", "PL": "POL", "PT": "PRT", "RO": "ROU",
    "SE": "SWE", "SI": "SVN", "SK": "SVK", "NO": "NOR", "IS": "ISL", "CH": "CHE", "UK": "GBR", "LI": "LIE",
    "ME": "MNE", "MK": "MKD", "AL": "ALB", "RS": "SRB", "TR": "TUR", "BA": "BIH", "XK": "XKX", "UA": "UKR",
    "MD": "MDA", "GE": "GEO",
}


def _register_core() -> None:
    """Register the four core charts (imports here: the figure modules import this one)."""
    from dashboard.figures import choropleth, ranked_bar, scorecard, trends

    register(Chart("scorecard", "Headline scorecard", "/", scorecard_data, scorecard.figure))
    register(Chart("ranked_bar", "Ranked comparison", "/compare", compare_data, ranked_bar.figure))
    register(Chart("trends", "Trends over time", "/trends", trends_data, trends.figure))
    register(Chart("choropleth", "Map of Europe", "/map", map_data, choropleth.figure))


_register_core()
