"""Data-driven insights computed from the database on request and cached per database version; never typed in."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from dashboard.data.connection import remember
from dashboard.data import queries
from dashboard.data.queries import DEFAULT_PEERS, EU27

# Only the EU27 itself: the DESI 2020 export's aggregate is the EU28 (with the UK), which is not comparable.
EU27_CODES = (EU27,)
PACE_WINDOW_YEARS = 5                 # linear pace over the last five years
TRENDS_PAGE, COMPARE_PAGE = "/trends", "/compare"
EPSILON = 1e-9
STABLE_SPREAD_SHARE = 0.02            # spread changes under 2 % of the starting spread count as stable


@dataclass(frozen=True)
class Insight:
    """One computed statement: its sentence, the chart that shows it, and the numbers behind it."""

    kind: str                    # leader | laggard | gap_eu27 | fastest_improver | target_2030 | convergence
    indicator: str
    sentence: str
    href: str
    geo: str | None = None
    year: int | None = None
    value: float | None = None
    flags: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorMeta:
    """What the catalogue says about a headline indicator."""

    id: str
    title: str
    unit: str | None
    higher_is_better: bool
    theme: str | None = None
    target_2030: float | None = None
    target_label: str | None = None


# ---------------------------------------------------------------- formatting

def _is_percent(meta: IndicatorMeta) -> bool:
    """Percentages: Eurostat codes PC_ENT, PC_HH, ... or catalogue labels '% of households'."""
    return bool(meta.unit) and (meta.unit.startswith("%") or meta.unit.upper().startswith("PC"))


def _is_share_or_score(meta: IndicatorMeta) -> bool:
    """Percentages and 0-100 scores are comparable across countries; counts (thousand persons) are not."""
    return _is_percent(meta) or bool(meta.unit and "score" in meta.unit.lower())


def fmt_value(meta: IndicatorMeta, value: float, flags: str | None = None) -> str:
    """A level with its unit and flags, e.g. '45.2% (p)'."""
    text = f"{value:.1f}%" if _is_percent(meta) else f"{value:.1f}"
    return f"{text} ({flags})" if flags else text


def fmt_diff(meta: IndicatorMeta, diff: float) -> str:
    """A difference of levels: percentage points for percentages, points otherwise."""
    return f"{abs(diff):.1f} {'pp' if _is_percent(meta) else 'points'}"


def chart_link(page: str, indicator: str, geos: Iterable[str], **extra: Any) -> str:
    """The dashboard URL of the chart that shows an insight."""
    query = {"indicator": indicator, "geo": ",".join(geos), **{k: str(v) for k, v in extra.items()}}
    return f"{page}?{urlencode(query, safe=',')}"


# ---------------------------------------------------------------- computations (pure, on one indicator's frame)

def annual_values(values: pd.DataFrame) -> pd.DataFrame:
    """Observations that carry a value (one per geo and year; flag-only cells such as 'c' are missing, not zero)."""
    annual = values[values["value"].notna() & values["year"].notna()]
    return annual.assign(year=annual["year"].astype(int), value=annual["value"].astype(float))


def latest_common_year(frame: pd.DataFrame, bsr: Iterable[str]) -> int | None:
    """The latest year in which at least half of the BSR countries reporting the indicator have a value."""
    in_bsr = frame[frame["geo"].isin(list(bsr))]
    if in_bsr.empty:
        return None
    needed = math.ceil(in_bsr["geo"].nunique() / 2)
    counts = in_bsr.groupby("year")["geo"].nunique()
    eligible = counts[counts >= max(needed, 1)]
    return int(eligible.index.max()) if not eligible.empty else None


def pace_per_year(series: pd.Series) -> float | None:
    """Least-squares slope (units a year) of a year-indexed series; None with fewer than two years."""
    series = series.dropna()
    if len(series) < 2:
        return None
    years = series.index.to_numpy(dtype=float)
    slope = np.polyfit(years - years.mean(), series.to_numpy(dtype=float), 1)[0]
    return float(slope)


def year_target_reached(value: float, pace: float | None, target: float, year: int, higher_is_better: bool) -> int | None:
    """The year the target is met at the current linear pace: `year` if already met, None if not at this pace."""
    sign = 1.0 if higher_is_better else -1.0
    remaining = sign * (target - value)
    if remaining <= EPSILON:
        return year
    if pace is None or sign * pace <= EPSILON:
        return None
    return year + math.ceil(round(remaining / (sign * pace), 9))


def _series(frame: pd.DataFrame, geo: str, first: int, last: int) -> pd.Series:
    """One geo's values by year within [first, last]."""
    rows = frame[(frame["geo"] == geo) & frame["year"].between(first, last)]
    return rows.set_index("year")["value"].sort_index()


def _row(frame: pd.DataFrame, geo: str, year: int) -> pd.Series | None:
    """The observation of one geo in one year, if any."""
    rows = frame[(frame["geo"] == geo) & (frame["year"] == year)]
    return rows.iloc[0] if not rows.empty else None


def flags_of(row: pd.Series) -> str | None:
    """A row's flags, None when unflagged."""
    flag = row.get("flags")
    return None if flag is None or (isinstance(flag, float) and math.isnan(flag)) or flag == "" else str(flag)


class _Context:
    """One indicator's data and labels, shared by the insight builders."""

    def __init__(self, meta: IndicatorMeta, frame: pd.DataFrame, names: dict[str, str], bsr: tuple[str, ...]):
        self.meta, self.frame, self.names, self.bsr = meta, frame, names, bsr
        self.year = latest_common_year(frame, bsr)
        present = set(frame["geo"])
        self.eu = next((code for code in EU27_CODES if code in present), None)
        self.latest = frame[(frame["year"] == self.year) & frame["geo"].isin(bsr)] if self.year else frame.iloc[0:0]
        self.sign = 1.0 if meta.higher_is_better else -1.0

    def name(self, geo: str) -> str:
        """A country's name, or its code."""
        return self.names.get(geo, geo)

    def geos(self) -> list[str]:
        """The geos a chart link shows: the BSR and the EU27 aggregate."""
        return [*self.bsr, *([self.eu] if self.eu else [])]


def leader_and_laggard(ctx: _Context) -> list[Insight]:
    """The best and worst BSR country in the latest year (respecting whether higher is better)."""
    if ctx.year is None or len(ctx.latest) < 2:
        return []
    ranked = ctx.latest.assign(score=ctx.sign * ctx.latest["value"]).sort_values(["score", "geo"], ascending=[False, True])
    out = []
    for kind, row, word in (("leader", ranked.iloc[0], "leads"), ("laggard", ranked.iloc[-1], "trails")):
        sentence = (f"{ctx.name(row.geo)} {word} the BSR on {ctx.meta.title} in {ctx.year}: "
                    f"{fmt_value(ctx.meta, row.value, flags_of(row))} (of {len(ranked)} BSR countries reporting).")
        out.append(Insight(kind, ctx.meta.id, sentence, chart_link(COMPARE_PAGE, ctx.meta.id, ctx.geos(), year=ctx.year),
                           geo=row.geo, year=ctx.year, value=float(row.value), flags=flags_of(row),
                           details={"countries_reporting": len(ranked)}))
    return out


def gaps_to_eu27(ctx: _Context) -> list[Insight]:
    """Each BSR country's distance from the EU27 aggregate in the latest year."""
    eu_row = _row(ctx.frame, ctx.eu, ctx.year) if ctx.eu and ctx.year else None
    if eu_row is None:
        return []
    out = []
    for row in ctx.latest.sort_values("geo").itertuples():
        gap = float(row.value) - float(eu_row.value)
        side = "above" if gap > EPSILON else "below" if gap < -EPSILON else "level with"
        amount = "" if side == "level with" else f"{fmt_diff(ctx.meta, gap)} "
        sentence = (f"{ctx.name(row.geo)}: {fmt_value(ctx.meta, row.value, flags_of(pd.Series(row._asdict())))} "
                    f"in {ctx.year}, {amount}{side} the EU27 ({fmt_value(ctx.meta, eu_row.value, flags_of(eu_row))}).")
        out.append(Insight("gap_eu27", ctx.meta.id, sentence,
                           chart_link(COMPARE_PAGE, ctx.meta.id, [row.geo, ctx.eu], year=ctx.year),
                           geo=row.geo, year=ctx.year, value=float(row.value),
                           flags=flags_of(pd.Series(row._asdict())),
                           details={"eu27": float(eu_row.value), "eu27_code": ctx.eu, "gap": gap}))
    return out


def fastest_improver(ctx: _Context) -> list[Insight]:
    """The BSR country with the best linear pace over the last five years."""
    if ctx.year is None:
        return []
    first = ctx.year - PACE_WINDOW_YEARS
    paces = {geo: pace_per_year(_series(ctx.frame, geo, first, ctx.year)) for geo in ctx.latest["geo"]}
    paces = {geo: p for geo, p in paces.items() if p is not None}
    if not paces:
        return []
    best = sorted(paces, key=lambda g: (-ctx.sign * paces[g], g))[0]
    pace = paces[best]
    series = _series(ctx.frame, best, first, ctx.year)
    start_year, end_year = int(series.index.min()), int(series.index.max())
    direction = "rising" if pace > 0 else "falling"
    improved = ctx.sign * pace > EPSILON
    lead = "Fastest improver" if improved else "No BSR country improved; the best pace"
    sentence = (f"{lead} on {ctx.meta.title}, {start_year}–{end_year}: {ctx.name(best)}, {direction} "
                f"{fmt_diff(ctx.meta, pace)} a year (from {fmt_value(ctx.meta, series.iloc[0])} "
                f"to {fmt_value(ctx.meta, series.iloc[-1])}).")
    return [Insight("fastest_improver", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, ctx.geos()),
                    geo=best, year=ctx.year, value=float(series.iloc[-1]),
                    details={"pace_per_year": pace, "start_year": start_year, "start_value": float(series.iloc[0]),
                             "improved": improved})]


def target_2030(ctx: _Context) -> list[Insight]:
    """Distance to the 2030 target and the year it would be met at the current pace, per BSR country and the EU27."""
    target = ctx.meta.target_2030
    if target is None or ctx.year is None or (isinstance(target, float) and math.isnan(target)):
        return []
    out = []
    # A target in counts (20 million ICT specialists) is the EU's, not each country's.
    countries = sorted(ctx.latest["geo"]) if _is_share_or_score(ctx.meta) else []
    for geo in [*countries, *([ctx.eu] if ctx.eu else [])]:
        row = _row(ctx.frame, geo, ctx.year)
        if row is None:
            continue
        value = float(row.value)
        pace = pace_per_year(_series(ctx.frame, geo, ctx.year - PACE_WINDOW_YEARS, ctx.year))
        reached = year_target_reached(value, pace, target, ctx.year, ctx.meta.higher_is_better)
        distance = target - value
        if reached == ctx.year:
            when = f"already meets the 2030 target ({fmt_value(ctx.meta, target)})"
        elif reached is None:
            when = f"is {fmt_diff(ctx.meta, distance)} from the 2030 target ({fmt_value(ctx.meta, target)}): not at the current pace"
        else:
            late = " — after 2030" if reached > 2030 else ""
            when = (f"is {fmt_diff(ctx.meta, distance)} from the 2030 target ({fmt_value(ctx.meta, target)}): "
                    f"reached in {reached} at the current pace{late}")
        sentence = f"{ctx.name(geo)} ({fmt_value(ctx.meta, value, flags_of(row))} in {ctx.year}) {when}."
        out.append(Insight("target_2030", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, [geo]),
                           geo=geo, year=ctx.year, value=value, flags=flags_of(row),
                           details={"target": float(target), "distance": distance, "pace_per_year": pace,
                                    "year_reached": reached, "on_track_2030": reached is not None and reached <= 2030}))
    return out


def convergence(ctx: _Context) -> list[Insight]:
    """Is the BSR spread (population standard deviation) narrowing between five years ago and the latest year?

    The start year is the earliest of the last five with at least three (or all) of the latest year's countries;
    both spreads are taken over the same countries, so a country joining or leaving does not fake a trend.
    """
    if ctx.year is None:
        return []
    latest_geos = set(ctx.latest["geo"])
    for start in range(ctx.year - PACE_WINDOW_YEARS, ctx.year):
        then = ctx.frame[(ctx.frame["year"] == start) & ctx.frame["geo"].isin(latest_geos)]
        if len(then) >= 3 or (len(then) >= 2 and len(then) == len(latest_geos)):
            break
    else:
        return []
    geos = sorted(then["geo"])
    now = ctx.latest[ctx.latest["geo"].isin(geos)]
    spread_then, spread_now = float(np.std(then["value"])), float(np.std(now["value"]))
    change = spread_now - spread_then
    # A spread that moved by less than STABLE_SPREAD_SHARE of itself is noise to a reader, not a trend.
    threshold = max(EPSILON, STABLE_SPREAD_SHARE * spread_then)
    verdict = "converging" if change < -threshold else "diverging" if change > threshold else "stable"
    sentence = (f"The BSR is {verdict} on {ctx.meta.title}: the spread across {len(geos)} countries (standard "
                f"deviation) went from {fmt_diff(ctx.meta, spread_then)} in {start} to "
                f"{fmt_diff(ctx.meta, spread_now)} in {ctx.year}.")
    return [Insight("convergence", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, ctx.geos()),
                    year=ctx.year, value=spread_now,
                    details={"verdict": verdict, "converging": verdict == "converging", "start_year": start,
                             "spread_start": spread_then, "spread_end": spread_now, "geos": geos,
                             "range_start": float(then["value"].max() - then["value"].min()),
                             "range_end": float(now["value"].max() - now["value"].min())})]


BUILDERS = (leader_and_laggard, gaps_to_eu27, fastest_improver, target_2030, convergence)


def compute_insights(metas: Iterable[IndicatorMeta], values: pd.DataFrame, names: dict[str, str] | None = None,
                     bsr: Iterable[str] = DEFAULT_PEERS) -> list[Insight]:
    """Every insight for every headline indicator, from (indicator, geo, period, year, value, flags) rows."""
    bsr = tuple(bsr)
    annual = annual_values(values)
    out: list[Insight] = []
    for meta in metas:
        frame = annual[annual["indicator"] == meta.id]
        assert not frame.duplicated(["geo", "year"]).any(), f"{meta.id}: several yearly values for one geo and year"
        ctx = _Context(meta, frame, names or {}, bsr)
        for build in BUILDERS:
            out.extend(build(ctx))
    return out


# ---------------------------------------------------------------- reading the database, cached per version

def _read_inputs() -> tuple[list[IndicatorMeta], pd.DataFrame, dict[str, str], list[str]]:
    """Headline catalogue rows, their values, geo names and the peer group, via the dashboard's data module."""
    catalogue = queries.catalogue()
    headline = catalogue[catalogue["headline"]] if "headline" in catalogue.columns else catalogue.iloc[0:0]
    metas = [meta_of(row) for row in headline.to_dict("records")]
    frames = [queries.indicator_frame(meta.id) for meta in metas]
    columns = ["indicator", "geo", "period", "year", "value", "flags"]
    values = pd.concat([f[columns] for f in frames], ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return metas, values, queries.geo_names(), queries.peer_group()


def meta_of(row: dict) -> IndicatorMeta:
    """An IndicatorMeta from one catalogue row."""
    target = row.get("target_2030")
    return IndicatorMeta(
        id=row["id"], title=row.get("title") or row["id"], unit=row.get("unit"),
        higher_is_better=bool(row.get("higher_is_better", True)), theme=row.get("theme"),
        target_2030=None if target is None or pd.isna(target) else float(target),
        target_label=row.get("target_label"),
    )


def insights() -> list[Insight]:
    """All insights for the current database, computed on first request and again whenever it is rebuilt."""
    def make() -> list[Insight]:
        """Compute every insight from the database."""
        metas, values, names, peers = _read_inputs()
        return compute_insights(metas, values, names, bsr=peers)

    return remember(("insights",), make)


def select(items: Iterable[Insight], *, indicators: Iterable[str] = (), geos: Iterable[str] = (),
           kinds: Iterable[str] = ()) -> list[Insight]:
    """Insights about any of the indicators and geos (region-wide insights match every geo)."""
    indicators, geos, kinds = set(indicators), set(geos), set(kinds)
    return [
        i for i in items
        if (not indicators or i.indicator in indicators)
        and (not geos or i.geo is None or i.geo in geos or i.kind in ("leader", "laggard", "fastest_improver"))
        and (not kinds or i.kind in kinds)
    ]
