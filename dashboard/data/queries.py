"""Every query the dashboard runs: small cached functions returning pandas DataFrames (bound parameters only)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dashboard import i18n
from dashboard.data.connection import cached, query
from dashboard.i18n import N_, _
from dashboard.meta import BSR_AVERAGE, EU27, IndicatorMeta
from etl.model import FLAG_MEANINGS

VALUE_COLUMNS = ["indicator", "geo", "period", "year", "value", "flags", "unit", "dataset", "source_updated", "retrieved_at"]
MIN_AVERAGE_SHARE = 2 / 3  # a BSR average needs at least this share of the peer group reporting that year


class UnknownIndicator(KeyError):
    """An indicator id that the catalogue does not hold."""


class UnknownGroup(KeyError):
    """A country group that the database's country_groups table does not hold (or holds empty)."""


@cached
def catalogue() -> pd.DataFrame:
    """The indicator catalogue, one row per indicator, with has_data telling whether any value is loaded."""
    df = i18n.localise_catalogue(query("SELECT * FROM catalogue ORDER BY id"))
    df["has_data"] = df["id"].isin(set(_values_table()["indicator"]))
    for column in ("higher_is_better", "headline", "live_only"):
        if column in df.columns:
            df[column] = df[column].fillna(False).astype(bool)
    if "target_2030" in df.columns:
        df["target_2030"] = pd.to_numeric(df["target_2030"], errors="coerce")
    return df


def indicator(indicator_id: str) -> dict:
    """One catalogue entry as a dict; raises UnknownIndicator for an id the catalogue does not hold."""
    cat = catalogue()
    row = cat[cat["id"] == indicator_id]
    if row.empty:
        raise UnknownIndicator(indicator_id)
    entry = row.iloc[0].to_dict()
    entry["target_2030"] = None if pd.isna(entry.get("target_2030")) else float(entry["target_2030"])
    return entry


@cached
def indicator_ids(with_data: bool = True) -> list[str]:
    """Catalogue ids, by default only those with at least one loaded value."""
    cat = catalogue()
    return cat.loc[cat["has_data"], "id"].tolist() if with_data else cat["id"].tolist()


@cached
def headline_indicators() -> list[str]:
    """Ids of the headline indicators that have data, in catalogue order."""
    cat = catalogue()
    if "headline" not in cat.columns:
        return []
    return cat.loc[cat["headline"] & cat["has_data"], "id"].tolist()


@cached
def indicator_meta(indicator_id: str) -> IndicatorMeta:
    """The catalogue's facts about one indicator; raises UnknownIndicator for an id the catalogue does not hold."""
    entry = indicator(indicator_id)
    label, noise, directed = entry.get("target_label"), entry.get("noise_pp"), entry.get("directed")
    return IndicatorMeta(
        id=indicator_id, title=entry.get("title") or indicator_id, unit=entry.get("unit"),
        higher_is_better=bool(entry.get("higher_is_better", True)), theme=entry.get("theme"),
        target_2030=entry["target_2030"], target_label=label if isinstance(label, str) else None,
        noise_pp=None if noise is None or pd.isna(noise) else float(noise),
        directed=directed is None or pd.isna(directed) or bool(directed),
    )


@cached
def countries() -> pd.DataFrame:
    """The geo table (code, name, is_eu27, is_bsr, is_aggregate, iso3 when present); names in the current language
    from CLDR (English keeps Eurostat's labels; aggregates CLDR does not name keep theirs)."""
    df = query("SELECT * FROM geo ORDER BY code")
    if "name" not in df.columns and "label" in df.columns:
        df = df.rename(columns={"label": "name"})
    if i18n.current() != i18n.DEFAULT and "name" in df.columns:
        single = ~df["is_aggregate"].fillna(False).astype(bool) if "is_aggregate" in df.columns else True
        df.loc[single, "name"] = [i18n.country_name(c, n) for c, n in zip(df.loc[single, "code"], df.loc[single, "name"])]
    for column in ("is_eu27", "is_bsr", "is_aggregate"):
        if column in df.columns:
            df[column] = df[column].fillna(False).astype(bool)
    return df


@cached
def geo_names() -> dict[str, str]:
    """Code -> display name for every geo, plus the computed BSR average."""
    geo = countries()
    names = dict(zip(geo["code"], geo["name"].fillna(geo["code"])))
    names[EU27] = _("EU27")  # the geo table's full name is too long for legends and column heads
    names[BSR_AVERAGE] = _("BSR average")
    return names


@cached
def group(name: str) -> list[str]:
    """The geo codes of one country group (catalogue [groups], table country_groups) in the catalogue's order."""
    codes = query("SELECT geo FROM country_groups WHERE group_id = ? ORDER BY position", [name])["geo"].tolist()
    if not codes:
        raise UnknownGroup(name)
    return codes


def peer_group() -> list[str]:
    """The BSR peer group, in the order the dashboard lists it (the catalogue's [groups] bsr)."""
    return group("bsr")


def european_countries() -> list[str]:
    """Codes of the single countries (not aggregates) that the user may add to a view."""
    geo = countries()
    return geo.loc[~geo["is_aggregate"], "code"].tolist()


@cached
def _values_table() -> pd.DataFrame:
    """Every row of indicator_values, read once per database version (~10k rows): pages slice it in memory.

    One scan of the view costs about as much as one filtered query (the view deduplicates across files), so
    reading it whole and slicing per indicator is what keeps callbacks fast.
    """
    return _typed(query(f"SELECT {', '.join(VALUE_COLUMNS)} FROM indicator_values ORDER BY indicator, geo, period"))


@cached
def _annual_table() -> pd.DataFrame:
    """Every row of annual_values (the database's one annual pick: the latest period of each year), read once."""
    return _typed(query(f"SELECT {', '.join(VALUE_COLUMNS)} FROM annual_values ORDER BY indicator, geo, period"))


@cached
def series(indicator_id: str, geos: tuple[str, ...] | list[str], years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Observations of one indicator for the given geos (all periods, or years=(first, last) inclusive)."""
    table = _values_table()
    rows = table[(table["indicator"] == indicator_id) & table["geo"].isin(list(geos))]
    if years is not None:
        rows = rows[(rows["year"] >= int(years[0])) & (rows["year"] <= int(years[1]))]
    return rows.reset_index(drop=True)


@cached
def indicator_frame(indicator_id: str) -> pd.DataFrame:
    """All annual values of one indicator for every geo (the latest period of a year when sub-annual)."""
    table = _annual_table()
    return table[table["indicator"] == indicator_id].reset_index(drop=True)


def values_for_year(indicator_id: str, year: int) -> pd.DataFrame:
    """One value per geo for one year (the latest period within the year when the series is sub-annual)."""
    frame = indicator_frame(indicator_id)
    return frame[frame["year"] == int(year)].reset_index(drop=True)


@cached
def available_years(indicator_id: str) -> list[int]:
    """Years in which the indicator has at least one value (not just a flag), ascending."""
    frame = indicator_frame(indicator_id)
    return sorted(int(y) for y in frame.loc[frame["value"].notna(), "year"].dropna().unique())


def latest_year(indicator_id: str) -> int | None:
    """The most recent year with any value, or None when the indicator has none."""
    years = available_years(indicator_id)
    return years[-1] if years else None


AVERAGE_COLUMNS = ["year", "value", "flags", "n_countries", "n_peers", "missing", "method", "weighted", "population"]
POPULATION_CARRY_YEARS = 3  # a population count up to this many years older than the data year may weight it
UNWEIGHTED_ROW = N_("average of countries (unweighted), {n} of {peers} reporting")
WEIGHTED_ROW = N_("population-weighted average (weights: {population}), {n} of {peers} reporting")


@cached
def bsr_average(indicator_id: str) -> pd.DataFrame:
    """BSR average per year, weighted by the indicator's population where the database holds it, else unweighted.

    Columns: year, value, flags (union of the members' flag letters), n_countries, n_peers, missing, method,
    weighted (bool), population (the weighting indicator's id, None when unweighted).
    Years where fewer than MIN_AVERAGE_SHARE of the peers report are left out rather than averaged thinly.
    """
    table = all_bsr_averages()
    out = table[table["indicator"] == indicator_id].drop(columns=["indicator"]).reset_index(drop=True)
    if out.empty:
        out = pd.DataFrame(columns=AVERAGE_COLUMNS)  # object columns, as an average of nothing always had
    out["flags"] = out["flags"].astype(object).where(out["flags"].notna(), None)  # None, not NaN, when unflagged
    out.insert(0, "geo", BSR_AVERAGE)
    return out


@cached
def all_bsr_averages() -> pd.DataFrame:
    """The BSR average of every indicator and year in one grouped pass (indicator + bsr_average's columns).

    Computed once per database version: looping over years per indicator cost 0.15-0.2 s per indicator.
    """
    cat = catalogue()
    population_of = ({i: p for i, p in zip(cat["id"], cat["population"]) if isinstance(p, str) and p}
                     if "population" in cat.columns else {})
    titles = dict(zip(cat["id"], cat["title"].fillna(cat["id"])))
    out = compute_bsr_averages(_annual_table(), peer_group(), population_of)
    out["method"] = [_(WEIGHTED_ROW, population=titles.get(p, p), n=n, peers=k) if w else
                     _(UNWEIGHTED_ROW, n=n, peers=k)
                     for w, p, n, k in zip(out["weighted"], out["population"], out["n_countries"], out["n_peers"])]
    return out


def compute_bsr_averages(values: pd.DataFrame, peers: list[str], population_of: dict[str, str]) -> pd.DataFrame:
    """The one BSR-average rule, on annual (indicator, geo, year, value, flags) rows: per indicator and year, the
    mean of the peers reporting (at least MIN_AVERAGE_SHARE of them), weighted by the indicator's population
    (population_of: indicator -> population indicator id) when every reporting peer has that population for the
    year or one of the POPULATION_CARRY_YEARS before it (counts move slowly), else the unweighted mean of countries.
    Columns: indicator, year, value, flags, n_countries, n_peers, missing, method (''), weighted, population.
    """
    annual = values[values["geo"].isin(peers) & values["value"].notna() & values["year"].notna()]
    annual = annual.assign(year=annual["year"].astype(int), value=annual["value"].astype(float))
    rows = annual[["indicator", "geo", "year", "value", "flags"]].assign(
        population=annual["indicator"].map(lambda i: population_of.get(i, "")))
    counts = annual[annual["indicator"].isin(set(population_of.values()))]
    counts = counts[["indicator", "geo", "year", "value"]].rename(columns={"indicator": "population", "value": "weight"})
    rows = pd.merge_asof(rows.sort_values("year"), counts.sort_values("year").assign(weight_year=counts["year"]),
                         on="year", by=["population", "geo"], direction="backward",
                         tolerance=POPULATION_CARRY_YEARS) if not counts.empty else rows.assign(weight=np.nan)
    rows["weighted_value"] = rows["value"] * rows["weight"]
    grouped = rows.groupby(["indicator", "year"], sort=True).agg(
        n_countries=("value", "size"), mean=("value", "mean"), n_weights=("weight", "count"),
        weight_sum=("weight", "sum"), weighted_sum=("weighted_value", "sum"), population=("population", "first"),
        flags=("flags", _flag_union), geos=("geo", frozenset)).reset_index()
    grouped = grouped[grouped["n_countries"] >= MIN_AVERAGE_SHARE * len(peers)]
    # weighted only when every reporting peer has a population, as one unweighted member would skew it
    weighted = ((grouped["n_weights"] == grouped["n_countries"]) & (grouped["weight_sum"] > 0)).to_numpy()
    out = pd.DataFrame({
        "indicator": grouped["indicator"].to_numpy(),
        "year": grouped["year"].astype(int).to_numpy(),
        "value": np.where(weighted, grouped["weighted_sum"] / grouped["weight_sum"].where(weighted, 1.0),
                          grouped["mean"]).astype(float),
        "flags": grouped["flags"].to_numpy(),
        "n_countries": grouped["n_countries"].to_numpy().astype(int),
        "n_peers": len(peers),
        "missing": [",".join(p for p in peers if p not in geos) for geos in grouped["geos"]],
        "method": "",
        "weighted": weighted.astype(bool),
        "population": np.where(weighted, grouped["population"].to_numpy(), None),
    })
    out["flags"] = out["flags"].astype(object).where(out["flags"].notna(), None)  # None, not NaN, when unflagged
    assert not out.duplicated(["indicator", "year"]).any(), "one BSR average per indicator and year"
    return out.reset_index(drop=True)


def _flag_union(flags: pd.Series) -> str | None:
    """The sorted union of the flag letters in a group, None when no member is flagged."""
    return "".join(sorted(set("".join(flags.dropna())))) or None


def average_weighted(indicator_id: str) -> bool:
    """Whether the indicator's BSR average is population-weighted in its latest year (comparable with the EU
    aggregate, itself weighted); an unweighted average of countries is not compared with it."""
    avg = bsr_average(indicator_id)
    return bool(not avg.empty and avg.sort_values("year")["weighted"].iloc[-1])


def average_label() -> dict[bool, str]:
    """The BSR average's legend name: {True: weighted, False: unweighted}."""
    return {True: _("BSR average (weighted)"), False: _("BSR average (unweighted)")}


def average_method(indicator_id: str) -> str:
    """How the BSR average of this indicator is computed, in words (labels, hovers, exports)."""
    avg = bsr_average(indicator_id)
    if avg.empty:
        return _("BSR average not available (too few countries report)")
    kinds = set(avg["weighted"].astype(bool))
    least, peers = int(np.ceil(MIN_AVERAGE_SHARE * avg["n_peers"].iloc[0])), int(avg["n_peers"].iloc[0])
    population = next((p for p in avg["population"] if isinstance(p, str) and p), None)
    if kinds == {False}:
        return _("average of countries (unweighted): every BSR country reporting counts alike (at least {least} of "
                 "{peers}); not compared with the EU aggregate, which is weighted by population", least=least, peers=peers)
    name = indicator(population).get("title") or population
    if kinds == {True}:
        return _("population-weighted average of the BSR countries reporting (weights: {population}; at least {least} "
                 "of {peers})",
                 population=name, least=least, peers=peers)
    return _("population-weighted average of the BSR countries reporting (weights: {population}) in the years every "
             "one of them has a weight, else the average of countries (unweighted); at least {least} of {peers}",
             population=name, least=least, peers=peers)


@cached
def provenance(dataset: str) -> pd.DataFrame:
    """Provenance rows (file, url, sha256, bytes, source_updated, retrieved_at, rows, format) of one dataset."""
    return query("SELECT * FROM provenance WHERE dataset = ? ORDER BY file", [dataset])


@cached
def source_info(indicator_id: str) -> dict:
    """Dataset code and its latest source update / retrieval time, for a chart's source line."""
    rows = _indicator_rows(indicator_id)
    if rows.empty:
        entry = indicator(indicator_id)
        return {"dataset": entry.get("dataset"), "source_updated": None, "retrieved_at": None}
    return {
        "dataset": ", ".join(sorted(rows["dataset"].dropna().unique())),
        "source_updated": _date_only(rows["source_updated"].dropna().max()),
        "retrieved_at": _date_only(rows["retrieved_at"].dropna().max()),
    }


def _indicator_rows(indicator_id: str) -> pd.DataFrame:
    """All rows of one indicator (every geo and period)."""
    table = _values_table()
    return table[table["indicator"] == indicator_id]


@cached
def last_refresh() -> dict | None:
    """The most recent refresh run (run_id, started_at, finished_at, status, message), if any."""
    df = query("SELECT * FROM refresh_runs ORDER BY started_at DESC LIMIT 1")
    return None if df.empty else df.iloc[0].to_dict()


def flags_legend() -> pd.DataFrame:
    """Every Eurostat flag letter and its meaning (from etl.model.FLAG_MEANINGS)."""
    return pd.DataFrame(sorted(FLAG_MEANINGS.items()), columns=["flag", "meaning"])


def selection_of(indicator_id: str) -> dict:
    """The catalogue's selection JSON for an indicator, decoded."""
    raw = indicator(indicator_id).get("selection")
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return {}
    return raw if isinstance(raw, dict) else json.loads(raw)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give value/year sensible dtypes whatever DuckDB handed back (an empty result has object columns)."""
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["year"] = pd.to_numeric(df["year"], errors="coerce").astype("Int64")
    df["flags"] = df["flags"].astype(object).where(df["flags"].notna(), None)
    return df


def _date_only(stamp) -> str | None:
    """YYYY-MM-DD of an ISO stamp or timestamp (None stays None)."""
    if stamp is None or stamp is pd.NaT or (isinstance(stamp, float) and np.isnan(stamp)):
        return None
    return str(pd.Timestamp(stamp).date()) if not isinstance(stamp, str) else stamp[:10]
