"""Queries of the Relationships, Country profile, DESI and Data & sources pages (bound parameters, cached)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.data import queries
from dashboard.data.connection import cached, query

EU27 = queries.EU27
RANK_EXTRA = "NO"  # Norway is ranked with the EU27 members where it reports (the DIGINNO peer group includes it)
CHANGE_YEARS = 5


# ---------------------------------------------------------------- relationships

_PAIR_SQL = """
WITH x AS (
    SELECT geo, value, flags FROM indicator_values
    WHERE indicator = ? AND year = ? AND value IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY geo ORDER BY period DESC) = 1
), y AS (
    SELECT geo, value, flags FROM indicator_values
    WHERE indicator = ? AND year = ? AND value IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY geo ORDER BY period DESC) = 1
)
SELECT g.code AS geo, coalesce(g.name, g.code) AS name, x.value AS x, x.flags AS x_flags,
       y.value AS y, y.flags AS y_flags, coalesce(g.is_bsr, false) AS is_bsr,
       coalesce(g.is_aggregate, false) AS is_aggregate
FROM x JOIN y USING (geo) JOIN geo g ON g.code = x.geo
ORDER BY g.code
"""


@cached
def pair_values(x_indicator: str, y_indicator: str, year: int) -> pd.DataFrame:
    """Countries (and EU27 as a reference) with values of both indicators in one year; other aggregates left out."""
    df = query(_PAIR_SQL, [x_indicator, int(year), y_indicator, int(year)])
    df = df[~df["is_aggregate"].astype(bool) | (df["geo"] == EU27)].copy()
    df["is_reference"] = df["geo"] == EU27
    df["is_bsr"] = df["is_bsr"].astype(bool) & ~df["is_reference"]
    for column in ("x_flags", "y_flags"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df.drop(columns=["is_aggregate"]).reset_index(drop=True)


@cached
def pair_years(x_indicator: str, y_indicator: str) -> list[int]:
    """Years in which at least one single country has values of both indicators, ascending."""
    df = query(
        "SELECT DISTINCT x.year FROM indicator_values x JOIN indicator_values y "
        "ON x.geo = y.geo AND x.year = y.year JOIN geo g ON g.code = x.geo "
        "WHERE x.indicator = ? AND y.indicator = ? AND x.value IS NOT NULL AND y.value IS NOT NULL "
        "AND NOT coalesce(g.is_aggregate, false) ORDER BY x.year",
        [x_indicator, y_indicator],
    )
    return [int(y) for y in df["year"]]


# ---------------------------------------------------------------- country profile

_PROFILE_SQL = """
SELECT v.indicator, v.geo, v.year, v.value, v.flags
FROM indicator_values v JOIN geo g ON g.code = v.geo
WHERE v.value IS NOT NULL AND v.year IS NOT NULL
  AND (coalesce(g.is_eu27, false) OR NOT coalesce(g.is_aggregate, false) OR v.geo = ?)
QUALIFY row_number() OVER (PARTITION BY v.indicator, v.geo, v.year ORDER BY v.period DESC) = 1
ORDER BY v.indicator, v.geo, v.year
"""


@cached
def annual_country_values() -> pd.DataFrame:
    """One value per indicator, single country (plus EU27) and year — the table every profile is cut from."""
    df = query(_PROFILE_SQL, [EU27])
    df["year"] = df["year"].astype(int)
    df["flags"] = df["flags"].astype(object).where(df["flags"].notna(), None)
    return df


@cached
def eu27_members() -> frozenset[str]:
    """Codes of the EU27 member states according to the geo table."""
    geo = queries.countries()
    return frozenset(geo.loc[geo["is_eu27"] & ~geo["is_aggregate"], "code"])


def direction_of(entry: dict) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when the catalogue gives no direction."""
    value = entry.get("higher_is_better")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return 0
    return 1 if bool(value) else -1


@cached
def raw_directions() -> dict[str, int]:
    """Indicator id -> direction from the catalogue as stored (NULL stays 'no direction')."""
    df = query("SELECT id, higher_is_better FROM catalogue")
    return {row.id: direction_of({"higher_is_better": None if pd.isna(row.higher_is_better) else row.higher_is_better})
            for row in df.itertuples()}


def _rank(values: pd.DataFrame, geo: str, direction: int) -> tuple[int | None, int]:
    """1-based rank of `geo` among `values` (best first; ties share the better rank) and the number ranked."""
    if geo not in set(values["geo"]):
        return None, len(values)
    ascending = direction < 0  # with no direction, rank 1 is the highest value
    ranks = values["value"].rank(method="min", ascending=ascending)
    return int(ranks[values["geo"] == geo].iloc[0]), len(values)


def _ranking_pool(year_values: pd.DataFrame, geo: str, members: frozenset[str]) -> tuple[pd.DataFrame, str]:
    """The countries a value is ranked among in one year, and how to say which they are."""
    pool = set(members)
    extra = [code for code in (RANK_EXTRA, geo) if code not in members and code != EU27]
    present = set(year_values["geo"])
    added = [code for code in dict.fromkeys(extra) if code in present]
    pool |= set(added)
    label = "EU27" + "".join(f" + {code}" for code in added)
    return year_values[year_values["geo"].isin(pool)], label


def _bsr_value(indicator_id: str, year: int) -> tuple[float | None, str | None]:
    """The BSR average of an indicator in one year (value, flags), or (None, None) when too few peers report."""
    avg = queries.bsr_average(indicator_id)
    row = avg[avg["year"] == year]
    if row.empty:
        return None, None
    return float(row["value"].iloc[0]), row["flags"].iloc[0]


def _profile_row(entry: dict, frame: pd.DataFrame, geo: str, members: frozenset[str], direction: int) -> dict | None:
    """One indicator of a country's profile at the latest year both the country and EU27 have a value."""
    mine = frame[frame["geo"] == geo].set_index("year")
    eu = frame[frame["geo"] == EU27].set_index("year")
    common_years = sorted(set(mine.index) & set(eu.index))
    if not common_years:
        return None
    year = common_years[-1]
    value, eu_value = float(mine.at[year, "value"]), float(eu.at[year, "value"])
    pool, pool_label = _ranking_pool(frame[frame["year"] == year], geo, members)
    rank, ranked = _rank(pool, geo, direction)
    bsr, bsr_flags = _bsr_value(entry["id"], year)
    before = year - CHANGE_YEARS
    change = value - float(mine.at[before, "value"]) if before in mine.index else None
    return {
        "indicator": entry["id"], "title": entry.get("title") or entry["id"], "theme": entry.get("theme") or "other",
        "unit": entry.get("unit"), "dataset": entry.get("dataset"), "direction": direction, "year": int(year),
        "value": value, "flags": mine.at[year, "flags"], "eu27": eu_value, "eu27_flags": eu.at[year, "flags"],
        "bsr": bsr, "bsr_flags": bsr_flags, "rank": rank, "ranked": ranked, "rank_among": pool_label,
        "change_5y": change, "change_from": before if change is not None else None,
        "gap_pct": position_vs_eu(value, eu_value, direction),
    }


def position_vs_eu(value: float, eu_value: float, direction: int) -> float | None:
    """How far the country is ahead of EU27, in % of the EU27 value, signed so that positive is better."""
    if direction == 0 or eu_value == 0 or eu_value is None or np.isnan(eu_value):
        return None
    return direction * (value - eu_value) / abs(eu_value) * 100.0


PROFILE_COLUMNS = ["indicator", "title", "theme", "unit", "dataset", "direction", "year", "value", "flags", "eu27",
                   "eu27_flags", "bsr", "bsr_flags", "rank", "ranked", "rank_among", "change_5y", "change_from",
                   "gap_pct"]


@cached
def country_profile(geo: str) -> pd.DataFrame:
    """Every indicator with data for `geo` against EU27 and the BSR average, its rank, and its 5-year change."""
    values = annual_country_values()
    members = eu27_members()
    directions = raw_directions()
    cat = queries.catalogue()
    rows = []
    for indicator_id, frame in values.groupby("indicator", sort=True):
        match = cat[cat["id"] == indicator_id]
        if match.empty:
            continue
        entry = match.iloc[0].to_dict()
        row = _profile_row(entry, frame, geo, members, directions.get(indicator_id, 0))
        if row is not None:
            rows.append(row)
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def theme_positions(profile: pd.DataFrame) -> pd.DataFrame:
    """Mean position vs EU27 per theme (positive = better than EU27), strongest first; undirected indicators left out."""
    scored = profile.dropna(subset=["gap_pct"])
    if scored.empty:
        return pd.DataFrame(columns=["theme", "mean_gap_pct", "n_indicators"])
    grouped = scored.groupby("theme")["gap_pct"].agg(["mean", "size"]).reset_index()
    grouped.columns = ["theme", "mean_gap_pct", "n_indicators"]
    return grouped.sort_values(["mean_gap_pct", "theme"], ascending=[False, True]).reset_index(drop=True)


def profile_countries() -> list[str]:
    """Single countries a profile can be shown for: every non-aggregate geo with at least one value."""
    values = annual_country_values()
    geo = queries.countries()
    singles = set(geo.loc[~geo["is_aggregate"], "code"])
    return sorted(set(values["geo"]) & singles)
