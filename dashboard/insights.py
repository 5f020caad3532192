"""Data-driven insights: pure rules and sentences from an indicator's values (never typed in; never a query —
dashboard.data.insights reads the database and calls compute_insights)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from babel.lists import format_list

from dashboard import i18n
from dashboard.i18n import N_, _
from dashboard.meta import EPSILON, EU27, EU28, EU_REFERENCES, IndicatorMeta

# The EU reference of a year (eu_reference): the EU27 where published, else the edition's own EU28 (DESI up to
# 2020), named as such.
REFERENCE_LABELS = {EU27: "EU27", EU28: "EU28"}
PACE_WINDOW_YEARS = 5                 # a pace is the linear trend over the last five years (six annual points)
MIN_PACE_POINTS = 3                   # fewer points give no pace: two points are a difference, not a trend
BREAK_FLAG = "b"                      # Eurostat's break in series: the years before it are not comparable
TARGET_YEAR, LAST_PRINTED_YEAR = 2030, 2050
TRENDS_PAGE, COMPARE_PAGE = "/trends", "/compare"


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

    def concerns(self, geo: str) -> bool:
        """Whether the statement names this country (alone, or among those tied)."""
        return self.geo == geo or geo in self.details.get("geos", ())


# ---------------------------------------------------------------- formatting

def fmt_value(meta: IndicatorMeta, value: float, flags: str | None = None) -> str:
    """A level with its unit and flags in the current locale, e.g. '45.2% (p)' ('45,2 % (p)' in German)."""
    text = i18n.format_percent(value) if meta.is_percent else i18n.format_number(value)
    return _("{value} ({flags})", value=text, flags=flags) if flags else text


def fmt_diff(meta: IndicatorMeta, diff: float) -> str:
    """A difference of levels: percentage points for percentages, points otherwise ('1.8 pp', '3.2 points')."""
    number = i18n.format_number(abs(diff))
    return _("{value} pp", value=number) if meta.is_percent else _("{value} points", value=number)


def join_names(names: list[str]) -> str:
    """'Denmark', 'Denmark and Estonia', 'Denmark, Estonia and Finland' (the locale's list pattern, from CLDR)."""
    return format_list(list(names), locale=i18n.locale())


def chart_link(page: str, indicator: str, geos: Iterable[str], **extra: Any) -> str:
    """The dashboard URL of the chart that shows an insight."""
    query = {"indicator": indicator, "geo": ",".join(geos), **{k: str(v) for k, v in extra.items()}}
    return f"{page}?{urlencode(query, safe=',')}"


# ---------------------------------------------------------------- computations (pure, on one indicator's frame)

def competition_rank(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """The one ranking rule: competition ranking (1, 1, 3): tied values share the better rank; missing stays unranked."""
    return values.rank(method="min", ascending=not higher_is_better)

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
    """Least-squares slope (units a year) of a year-indexed series; None with fewer than MIN_PACE_POINTS years."""
    series = series.dropna()
    if len(series) < MIN_PACE_POINTS:
        return None
    years = series.index.to_numpy(dtype=float)
    slope = np.polyfit(years - years.mean(), series.to_numpy(dtype=float), 1)[0]
    return float(slope)


@dataclass(frozen=True)
class Pace:
    """A linear trend a reader can check: its slope, the window it was fitted on and how many points it used."""

    per_year: float
    first: int
    last: int
    points: int
    start_value: float
    end_value: float
    break_year: int | None = None   # a break in series (flag b) cut the window: only the years from it on are used

    @property
    def method(self) -> str:
        """'linear trend 2019–2024, 6 points' (or '..., from the break in series in 2021')."""
        if self.break_year:
            return _(PACE_METHOD_BREAK, first=self.first, last=self.last, points=self.points, year=self.break_year)
        return _(PACE_METHOD, first=self.first, last=self.last, points=self.points)


PACE_METHOD = N_("linear trend {first}–{last}, {points} points")
PACE_METHOD_BREAK = N_("linear trend {first}–{last}, {points} points, from the break in series in {year}")


def pace_of(rows: pd.DataFrame, last_year: int, window: int = PACE_WINDOW_YEARS) -> Pace | None:
    """The pace of one geo's (year, value, flags) rows over [last_year - window, last_year]: only the segment from
    the latest break in series (flag b) on, and only with at least MIN_PACE_POINTS points; else None."""
    rows = rows[rows["year"].between(last_year - window, last_year) & rows["value"].notna()].sort_values("year")
    breaks = [int(y) for y, f in zip(rows["year"], rows["flags"]) if isinstance(f, str) and BREAK_FLAG in f]
    break_year = max(breaks) if breaks and max(breaks) > int(rows["year"].min()) else None
    if break_year is not None:
        rows = rows[rows["year"] >= break_year]
    series = rows.set_index("year")["value"].astype(float)
    slope = pace_per_year(series)
    if slope is None:
        return None
    return Pace(slope, int(series.index.min()), int(series.index.max()), len(series), float(series.iloc[0]),
                float(series.iloc[-1]), break_year)


def required_pace(value: float, target: float, year: int, target_year: int = TARGET_YEAR) -> float | None:
    """The yearly change needed from `year` to reach the target by `target_year` (the Digital Decade's measure)."""
    return None if year >= target_year else (target - value) / (target_year - year)


def on_track_2030(value: float, per_year: float, required: float, target: float, year: int, *,
                  higher_is_better: bool, noise: float) -> bool:
    """The one on-track rule (side panel, briefs, Digital Decade page): the observed yearly change is at least the
    required one, or keeping it to 2030 misses the target by no more than the indicator's noise threshold."""
    sign = 1.0 if higher_is_better else -1.0
    projected = value + per_year * (TARGET_YEAR - year)
    return sign * per_year >= sign * required or sign * (target - projected) <= noise


def year_target_reached(value: float, pace: float | None, target: float, year: int, higher_is_better: bool) -> int | None:
    """The year the target is met at a linear pace: `year` if already met, None if not at this pace or beyond 2050."""
    sign = 1.0 if higher_is_better else -1.0
    remaining = sign * (target - value)
    if remaining <= EPSILON:
        return year
    if pace is None or sign * pace <= EPSILON:
        return None
    reached = year + math.ceil(round(remaining / (sign * pace), 9))
    return reached if reached <= LAST_PRINTED_YEAR else None


def eu_reference(frame: pd.DataFrame, year: int | None) -> str | None:
    """The EU aggregate published for that year: the EU27 where present, else the EU28 (DESI 2020 and earlier)."""
    if year is None:
        return None
    present = set(frame.loc[frame["year"] == year, "geo"])
    return next((code for code in EU_REFERENCES if code in present), None)


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
        self.eu = eu_reference(frame, self.year)
        self.eu_label = REFERENCE_LABELS.get(self.eu, self.eu)
        self.latest = frame[(frame["year"] == self.year) & frame["geo"].isin(bsr)] if self.year else frame.iloc[0:0]
        self.sign = 1.0 if meta.higher_is_better else -1.0

    def name(self, geo: str) -> str:
        """A country's name, or its code."""
        return self.names.get(geo, geo)

    def pace(self, geo: str) -> Pace | None:
        """The pace of one geo over the window ending in the latest common year."""
        return pace_of(self.frame[self.frame["geo"] == geo], self.year)

    def geos(self) -> list[str]:
        """The geos a chart link shows: the BSR and the EU27 aggregate."""
        return [*self.bsr, *([self.eu] if self.eu else [])]


LEADER_ONE = N_("{country} leads the BSR on {indicator} in {year}: {value} (of {n} BSR countries reporting).")
LEADER_TIED = N_("{countries} jointly lead the BSR on {indicator} in {year}: {value} (of {n} BSR countries reporting).")
LAGGARD_ONE = N_("{country} trails the BSR on {indicator} in {year}: {value} (of {n} BSR countries reporting).")
LAGGARD_TIED = N_("{countries} are jointly last in the BSR on {indicator} in {year}: {value} (of {n} BSR countries "
                  "reporting).")
ALL_LEVEL = N_("All {n} BSR countries reporting are level on {indicator} in {year}: {value}.")


def leader_and_laggard(ctx: _Context) -> list[Insight]:
    """The best and worst BSR countries in the latest year by competition ranking: ties lead (or trail) jointly."""
    if ctx.year is None or len(ctx.latest) < 2:
        return []
    latest = ctx.latest.assign(rank=competition_rank(ctx.latest["value"], ctx.meta.higher_is_better))
    latest = latest.sort_values(["rank", "geo"])
    n = len(latest)
    top = latest[latest["rank"] == latest["rank"].min()]
    bottom = latest[latest["rank"] == latest["rank"].max()]
    if len(top) == n:
        row = top.iloc[0]
        sentence = _(ALL_LEVEL, n=n, indicator=ctx.meta.title, year=ctx.year, value=fmt_value(ctx.meta, row.value))
        return [Insight("leader", ctx.meta.id, sentence, chart_link(COMPARE_PAGE, ctx.meta.id, ctx.geos(), year=ctx.year),
                        year=ctx.year, value=float(row.value),
                        details={"countries_reporting": n, "geos": top["geo"].tolist(), "rank": 1})]
    out = []
    for kind, group, one, tied in (("leader", top, LEADER_ONE, LEADER_TIED), ("laggard", bottom, LAGGARD_ONE, LAGGARD_TIED)):
        row = group.iloc[0]
        names = [ctx.name(g) for g in group["geo"]]
        sentence = _(one if len(group) == 1 else tied,
            country=names[0], countries=join_names(names), indicator=ctx.meta.title, year=ctx.year,
            value=fmt_value(ctx.meta, row.value, flags_of(row)) if len(group) == 1 else fmt_value(ctx.meta, row.value), n=n)
        out.append(Insight(kind, ctx.meta.id, sentence, chart_link(COMPARE_PAGE, ctx.meta.id, ctx.geos(), year=ctx.year),
                           geo=row.geo if len(group) == 1 else None, year=ctx.year, value=float(row.value),
                           flags=flags_of(row) if len(group) == 1 else None,
                           details={"countries_reporting": n, "geos": group["geo"].tolist(), "rank": int(row["rank"])}))
    return out


GAP_ABOVE = N_("{country}: {value} in {year}, {gap} above the {reference} ({reference_value}).")
GAP_BELOW = N_("{country}: {value} in {year}, {gap} below the {reference} ({reference_value}).")
GAP_SAME = N_("{country}: {value} in {year}, about the same as the {reference} ({reference_value}; within {noise}).")


def gaps_to_eu27(ctx: _Context) -> list[Insight]:
    """Each BSR country's distance from the year's EU aggregate; within the noise threshold it is 'about the same'."""
    eu_row = _row(ctx.frame, ctx.eu, ctx.year) if ctx.eu and ctx.year else None
    if eu_row is None:
        return []
    out = []
    for row in ctx.latest.sort_values("geo").itertuples():
        gap = float(row.value) - float(eu_row.value)
        side = "same" if abs(gap) < ctx.meta.noise else "above" if gap > 0 else "below"
        template = {"above": GAP_ABOVE, "below": GAP_BELOW, "same": GAP_SAME}[side]
        flags = flags_of(pd.Series(row._asdict()))
        sentence = _(template, country=ctx.name(row.geo), value=fmt_value(ctx.meta, row.value, flags),
                                   year=ctx.year, gap=fmt_diff(ctx.meta, gap), reference=ctx.eu_label,
                                   reference_value=fmt_value(ctx.meta, eu_row.value, flags_of(eu_row)),
                                   noise=fmt_diff(ctx.meta, ctx.meta.noise))
        out.append(Insight("gap_eu27", ctx.meta.id, sentence,
                           chart_link(COMPARE_PAGE, ctx.meta.id, [row.geo, ctx.eu], year=ctx.year),
                           geo=row.geo, year=ctx.year, value=float(row.value), flags=flags,
                           details={"eu27": float(eu_row.value), "eu27_code": ctx.eu, "gap": gap, "side": side,
                                    "noise": ctx.meta.noise}))
    return out


FASTEST_RISING = N_("Fastest improver on {indicator}: {country}, rising {pace} a year ({method}; {start_value} in "
                    "{first}, {end_value} in {last}).")
FASTEST_FALLING = N_("Fastest improver on {indicator}: {country}, falling {pace} a year ({method}; {start_value} in "
                     "{first}, {end_value} in {last}).")
NONE_IMPROVED = N_("No BSR country improved on {indicator} beyond {noise} over the window; the best trend is "
                   "{country}'s, {pace} a year ({method}): about the same.")


def fastest_improver(ctx: _Context) -> list[Insight]:
    """The BSR country with the best linear trend over the last five years (breaks respected, >= 3 points).

    It improved only when the trend's change over its window is beyond the indicator's noise threshold.
    """
    if ctx.year is None:
        return []
    paces = {geo: ctx.pace(geo) for geo in ctx.latest["geo"]}
    paces = {geo: p for geo, p in paces.items() if p is not None}
    if not paces:
        return []
    best = sorted(paces, key=lambda g: (-ctx.sign * paces[g].per_year, g))[0]
    pace = paces[best]
    trend_change = ctx.sign * pace.per_year * (pace.last - pace.first)
    improved = trend_change >= ctx.meta.noise
    fields = dict(indicator=ctx.meta.title, country=ctx.name(best), pace=_signed(ctx.meta, pace.per_year)
                  if not improved else fmt_diff(ctx.meta, pace.per_year), method=pace.method, first=pace.first, last=pace.last, noise=fmt_diff(ctx.meta, ctx.meta.noise),
                  start_value=fmt_value(ctx.meta, pace.start_value), end_value=fmt_value(ctx.meta, pace.end_value))
    sentence = _(NONE_IMPROVED if not improved else FASTEST_RISING if pace.per_year > 0 else FASTEST_FALLING, **fields)
    return [Insight("fastest_improver", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, ctx.geos()),
                    geo=best, year=ctx.year, value=pace.end_value,
                    details={"pace_per_year": pace.per_year, "start_year": pace.first, "start_value": pace.start_value,
                             "points": pace.points, "break_year": pace.break_year, "method": pace.method,
                             "improved": improved})]


TARGET_MET = N_("{country} already meets the 2030 target for {indicator} ({target}): {value} in {year}.")
TARGET_ON_TRACK = N_("{country}, {indicator}: {value} in {year}, {distance} from the 2030 target ({target}); needs "
                     "{required} a year, observed {observed} a year ({method}): on track by 2030.")
TARGET_OFF_TRACK = N_("{country}, {indicator}: {value} in {year}, {distance} from the 2030 target ({target}); needs "
                      "{required} a year, observed {observed} a year ({method}): not on track by 2030.")
TARGET_NO_PACE = N_("{country}, {indicator}: {value} in {year}, {distance} from the 2030 target ({target}); needs "
                    "{required} a year; no observed pace (fewer than 3 comparable years since any break in series).")


def _signed(meta: IndicatorMeta, change: float) -> str:
    """'+1.8 pp' / '−0.3 pp'."""
    return f"{'+' if change >= 0 else '−'}{fmt_diff(meta, change)}"  # the signs are the same in every language


def target_2030(ctx: _Context) -> list[Insight]:
    """Distance to the 2030 target: the yearly change required to reach it against the change observed (the
    Digital Decade's way), per BSR country and the EU aggregate; on track as on_track_2030 says."""
    target = ctx.meta.target_2030
    if target is None or ctx.year is None or (isinstance(target, float) and math.isnan(target)):
        return []
    out = []
    # A target in counts (20 million ICT specialists) is the EU's, not each country's.
    countries = sorted(ctx.latest["geo"]) if ctx.meta.is_share_or_score else []
    for geo in [*countries, *([ctx.eu] if ctx.eu else [])]:
        row = _row(ctx.frame, geo, ctx.year)
        if row is None:
            continue
        value = float(row.value)
        pace = ctx.pace(geo)
        required = required_pace(value, target, ctx.year)
        met = ctx.sign * (target - value) <= EPSILON
        on_track = met or (pace is not None and required is not None and on_track_2030(
            value, pace.per_year, required, target, ctx.year, higher_is_better=ctx.meta.higher_is_better,
            noise=ctx.meta.noise))
        template = (TARGET_MET if met else TARGET_NO_PACE if pace is None or required is None
                    else TARGET_ON_TRACK if on_track else TARGET_OFF_TRACK)
        sentence = _(template,
            country=ctx.name(geo) if geo != ctx.eu else ctx.eu_label, value=fmt_value(ctx.meta, value, flags_of(row)),
            year=ctx.year, indicator=ctx.meta.title, target=fmt_value(ctx.meta, target),
            distance=fmt_diff(ctx.meta, target - value), required="" if required is None else _signed(ctx.meta, required),
            observed="" if pace is None else _signed(ctx.meta, pace.per_year), method="" if pace is None else pace.method)
        reached = year_target_reached(value, None if pace is None else pace.per_year, target, ctx.year,
                                      ctx.meta.higher_is_better)
        out.append(Insight("target_2030", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, [geo]),
                           geo=geo, year=ctx.year, value=value, flags=flags_of(row),
                           details={"target": float(target), "distance": target - value, "required_per_year": required,
                                    "pace_per_year": None if pace is None else pace.per_year,
                                    "method": None if pace is None else pace.method, "year_reached": reached,
                                    "on_track_2030": bool(on_track)}))
    return out


CONVERGING = N_("The BSR is converging on {indicator}: standard deviation {sd_start} ({start}) to {sd_end} ({end}) "
                "across {n} countries; coefficient of variation {cv_start} to {cv_end}.")
DIVERGING = N_("The BSR is diverging on {indicator}: standard deviation {sd_start} ({start}) to {sd_end} ({end}) "
               "across {n} countries; coefficient of variation {cv_start} to {cv_end}.")
CONVERGENCE_SAME = N_("The BSR spread on {indicator} is about the same: standard deviation {sd_start} ({start}) to "
                      "{sd_end} ({end}) across {n} countries, within {noise}; coefficient of variation {cv_start} to "
                      "{cv_end}.")


def coefficient_of_variation(values: pd.Series) -> float | None:
    """Population standard deviation over the mean (None when the mean is 0): spread relative to the level."""
    mean = float(np.mean(values))
    return None if abs(mean) < EPSILON else float(np.std(values)) / abs(mean)


def convergence(ctx: _Context) -> list[Insight]:
    """Is the BSR spread (population standard deviation) narrowing between five years ago and the latest year?

    The start year is the earliest of the last five with at least three (or all) of the latest year's countries;
    both spreads are taken over the same countries, so a country joining or leaving does not fake a trend. A
    change of the standard deviation within the noise threshold is 'about the same'; the coefficient of variation
    is reported beside it (a spread that stays put while levels rise is relative convergence).
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
    cv_then, cv_now = coefficient_of_variation(then["value"]), coefficient_of_variation(now["value"])
    change = spread_now - spread_then
    verdict = "converging" if change <= -ctx.meta.noise else "diverging" if change >= ctx.meta.noise else "stable"
    fields = dict(indicator=ctx.meta.title, n=len(geos), sd_start=fmt_diff(ctx.meta, spread_then),
                  sd_end=fmt_diff(ctx.meta, spread_now), start=start, end=ctx.year,
                  noise=fmt_diff(ctx.meta, ctx.meta.noise),
                  cv_start=_("n/a") if cv_then is None else i18n.format_number(cv_then, 3),
                  cv_end=_("n/a") if cv_now is None else i18n.format_number(cv_now, 3))
    template = {"stable": CONVERGENCE_SAME, "converging": CONVERGING, "diverging": DIVERGING}[verdict]
    sentence = _(template, **fields)
    return [Insight("convergence", ctx.meta.id, sentence, chart_link(TRENDS_PAGE, ctx.meta.id, ctx.geos()),
                    year=ctx.year, value=spread_now,
                    details={"verdict": verdict, "converging": verdict == "converging", "start_year": start,
                             "spread_start": spread_then, "spread_end": spread_now, "cv_start": cv_then,
                             "cv_end": cv_now, "geos": geos, "noise": ctx.meta.noise,
                             "range_start": float(then["value"].max() - then["value"].min()),
                             "range_end": float(now["value"].max() - now["value"].min())})]


BUILDERS = (leader_and_laggard, gaps_to_eu27, fastest_improver, target_2030, convergence)


@dataclass(frozen=True)
class Twin:
    """A newer source of the same measure (the catalogue's `same_measure_as`, e.g. the Digital Decade facts)."""

    indicator: str          # the newer source's indicator id
    source: str             # its name in words ('the Digital Decade 2026 report')
    breaks: bool = False    # its years follow another method (catalogue twin_break): a break in series where they join


NEWER_SOURCE = N_("Newest data: the {year} values are from {source}.")
SOURCE_NAMES = {"digital_decade": N_("the Digital Decade 2026 report")}


def splice_newest(frame: pd.DataFrame, twin_frame: pd.DataFrame, twin: Twin) -> pd.DataFrame:
    """Newest data wins: per geo, the indicator's own years, then the twin's years after the last of them, marked
    in a `source` column (None for the indicator's own rows); the first of them carries the break flag (b) when the
    twin follows another method, so no pace runs across the join."""
    own = frame.assign(source=None)
    if twin_frame.empty:
        return own
    last = own.groupby("geo")["year"].max()
    later = twin_frame[twin_frame["year"] > twin_frame["geo"].map(last).fillna(-1)].sort_values(["geo", "year"])
    later = later.assign(indicator=frame["indicator"].iloc[0] if not frame.empty else twin_frame["indicator"].iloc[0],
                         source=twin.indicator)
    if twin.breaks and not later.empty:
        first = ~later["geo"].duplicated()
        later.loc[first, "flags"] = [f if isinstance(f, str) and BREAK_FLAG in f else BREAK_FLAG + (f or "")
                                     for f in later.loc[first, "flags"]]
    return pd.concat([own, later], ignore_index=True).sort_values(["geo", "year"]).reset_index(drop=True)


def compute_insights(metas: Iterable[IndicatorMeta], values: pd.DataFrame, names: dict[str, str] | None = None,
                     *, bsr: Iterable[str], twins: dict[str, Twin] | None = None) -> list[Insight]:
    """Every insight for every headline indicator, from (indicator, geo, period, year, value, flags) rows.

    twins: headline id -> its newer source (whose rows are in `values` under the twin's id); the insights continue
    the indicator's series with the twin's later years and say so (newest data wins).
    """
    bsr = tuple(bsr)
    annual = annual_values(values)
    out: list[Insight] = []
    for meta in metas:
        frame = annual[annual["indicator"] == meta.id]
        twin = (twins or {}).get(meta.id)
        if twin is not None:
            frame = splice_newest(frame, annual[annual["indicator"] == twin.indicator], twin)
        assert not frame.duplicated(["geo", "year"]).any(), f"{meta.id}: several yearly values for one geo and year"
        ctx = _Context(meta, frame, names or {}, bsr)
        newer = twin is not None and ctx.year is not None and \
            frame.loc[(frame["year"] == ctx.year) & frame["geo"].isin(bsr), "source"].notna().any()
        for build in BUILDERS:
            for item in build(ctx):
                if newer:
                    note = _(NEWER_SOURCE, year=ctx.year, source=twin.source)
                    item = replace(item, sentence=f"{item.sentence} {note}",
                                   details={**item.details, "source": twin.indicator})
                out.append(item)
    return out


def twins_of(catalogue: pd.DataFrame, ids: list[str]) -> dict[str, Twin]:
    """Indicator id -> the newer source of the same measure in the catalogue (`same_measure_as` naming it, the same
    unit), if any: the Digital Decade facts beside the Eurostat series."""
    if "same_measure_as" not in catalogue.columns:
        return {}
    units = dict(zip(catalogue["id"], catalogue["unit"]))
    out = {}
    for row in catalogue[catalogue["same_measure_as"].isin(ids)].to_dict("records"):
        if row["unit"] != units.get(row["same_measure_as"]):
            continue  # another unit (millions against thousands, % of internet users against % of individuals)
        name = SOURCE_NAMES.get(row.get("dataset"))
        breaks = row.get("twin_break")
        out[row["same_measure_as"]] = Twin(row["id"], _(name) if name else str(row.get("dataset_title") or row["dataset"]),
                                           bool(breaks) if breaks is not None and not pd.isna(breaks) else False)
    return out


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
