"""The Digital Decade page's rows: the Digital Scoreboard's KPIs (DESI 2026 edition) against their 2030 targets,
the yearly change required against the change observed, and the eGovernment Benchmark's national against
cross-border online availability (WP3). Only this package queries; the rules (pace, required pace, noise, rank)
are dashboard.insights' own.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

import pandas as pd

from dashboard import i18n, insights
from dashboard.data import queries
from dashboard.data.connection import cached, query
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import N_, _
from dashboard.meta import EU27, IndicatorMeta
from dashboard.state import State

DATASET = "digital_decade"            # catalogue dataset of the Digital Decade KPIs
EGOV_DATASET = "egov_benchmark"
DEFAULT_GEO = "EE"
AUDIENCE = "audience"                 # URL parameter of the WP3 view: services for businesses or for citizens
AUDIENCES = {"businesses": ("egov_o_av_bus", "egov_cb_o_av_bus"),
             "citizens": ("egov_o_av_citiz", "egov_cb_o_av_citiz")}
AUDIENCE_LABELS = {"businesses": N_("Services for businesses"), "citizens": N_("Services for citizens")}
# The scoreboard's EU trajectory codes (digital_decade_trajectories.json) of the KPIs that have one.
TRAJECTORY_CODES = {"dd_5g_coverage": "dd_5gc", "dd_ict_specialists": "dd_ictspec"}
TRAJECTORY_SERIES = ("dd_baseline_2023", "dd_ideal_2026")  # breakdowns of the EU trajectory rows
THEME_ORDER = ("connectivity", "human_capital", "integration_of_digital_technology", "digital_public_services",
               "use_of_internet")
VERDICTS = {
    "met": N_("target met"),
    "on_track": N_("on track"),
    "off_track": N_("off track"),
    "too_few_years": N_("too few years"),
    "no_target": N_("no 2030 target"),
    "eu_only": N_("EU-level target"),
}
EDITION = N_("Digital Decade 2026 (DESI 2026 edition)")


# ---------------------------------------------------------------- the KPIs, their targets and definitions

@cached
def kpis() -> pd.DataFrame:
    """The Digital Decade KPIs with data, by theme then catalogue id (id, title, unit, higher_is_better, ...)."""
    cat = queries.catalogue()
    rows = cat[(cat["dataset"] == DATASET) & cat["has_data"]].copy()
    rows["theme_order"] = rows["theme"].map({t: i for i, t in enumerate(THEME_ORDER)}).fillna(len(THEME_ORDER))
    return rows.sort_values(["theme_order", "id"]).drop(columns="theme_order").reset_index(drop=True)


def kpi_ids() -> list[str]:
    """Catalogue ids of the KPIs, in page order."""
    return kpis()["id"].tolist()


@cached
def targets() -> dict[str, float]:
    """indicator -> 2030 target (the facts' own dd_target_2030 rows, via the view indicator_targets)."""
    rows = query("SELECT indicator, target_2030 FROM indicator_targets WHERE target_2030 IS NOT NULL")
    return {str(i): float(t) for i, t in zip(rows["indicator"], rows["target_2030"])}


def _plain(text) -> str:
    """A scoreboard definition without its HTML (tags, entities, line breaks)."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


@cached
def _scoreboard_labels() -> dict[tuple[str, str], str]:
    """(dimension, code) -> text of the scoreboard's labels and definitions (scoreboard_indicators.json)."""
    rows = query("SELECT dimension, code, label FROM labels WHERE dimension IN (?, ?)",
                 ["scoreboard_indicator", "scoreboard_definition"])
    return {(d, c): lab for d, c, lab in zip(rows["dimension"], rows["code"], rows["label"])}


def scoreboard_code(indicator_id: str) -> str | None:
    """The scoreboard's own indicator code of a KPI (its catalogue selection)."""
    return queries.selection_of(indicator_id).get("indicator")


def definition(indicator_id: str) -> str:
    """The scoreboard's definition of a KPI in plain text ('' when the scoreboard gives none)."""
    return _plain(_scoreboard_labels().get(("scoreboard_definition", scoreboard_code(indicator_id)), ""))


def trajectory_definition(indicator_id: str) -> tuple[str, str]:
    """(label, definition) of the EU trajectory series drawn on a KPI, ('', '') when it has none."""
    code = TRAJECTORY_CODES.get(indicator_id)
    labels = _scoreboard_labels()
    return (_plain(labels.get(("scoreboard_indicator", code), "")),
            _plain(labels.get(("scoreboard_definition", code), ""))) if code else ("", "")


@cached
def covered_geos() -> frozenset[str]:
    """Geos with at least one Digital Decade KPI value (the Member States and the EU; not Norway)."""
    table = queries.catalogue()
    ids = set(table.loc[table["dataset"] == DATASET, "id"])
    values = pd.concat([queries.indicator_frame(i) for i in ids if i in set(queries.indicator_ids())]
                       or [pd.DataFrame(columns=["geo", "value"])])
    return frozenset(values.loc[values["value"].notna(), "geo"])


def meta_of(indicator_id: str) -> IndicatorMeta:
    """The KPI's catalogue facts with its 2030 target from the data (the facts' dd_target_2030 rows)."""
    return replace(queries.indicator_meta(indicator_id), target_2030=targets().get(indicator_id))


def per_country(meta: IndicatorMeta) -> bool:
    """Shares and scores are comparable across countries; a target in counts (500 unicorns) is the EU's alone."""
    return meta.is_share_or_score


# ---------------------------------------------------------------- required against observed pace (pure)

@dataclass(frozen=True)
class Progress:
    """A KPI for one geo: latest value, 2030 target, required and observed yearly change, verdict."""

    value: float | None
    year: int | None
    flags: str | None
    target: float | None
    distance: float | None           # target - value
    required: float | None           # yearly change needed from the latest year to 2030
    pace: insights.Pace | None       # yearly change observed (linear trend, >= 3 points, no break inside)
    verdict: str                     # a key of VERDICTS


def progress(rows: pd.DataFrame, target: float | None, *, higher_is_better: bool, noise: float) -> Progress:
    """Progress of one geo's (year, value, flags) rows towards a 2030 target.

    The pace is insights.pace_of over the PACE_WINDOW_YEARS before the latest year (from the latest break in series
    on, at least MIN_PACE_POINTS points). Target met: the latest value is at or beyond the target. On track: the
    observed pace is at least the required one, or keeping it to 2030 misses the target by no more than the
    indicator's noise threshold (2 pp for shares and scores); off track otherwise."""
    rows = rows[rows["value"].notna()].sort_values("year")
    if rows.empty:
        return Progress(None, None, None, target, None, None, None, "no_target" if target is None else "too_few_years")
    last = rows.iloc[-1]
    value, year, flags = float(last["value"]), int(last["year"]), insights.flags_of(last)
    # pace_flags (kpi_series) mark where a twin of another method joins: a break for the pace, not a published flag
    pace = insights.pace_of(rows.assign(flags=rows["pace_flags"]) if "pace_flags" in rows.columns else rows, year)
    if target is None:
        return Progress(value, year, flags, None, None, None, pace, "no_target")
    sign = 1.0 if higher_is_better else -1.0
    required = insights.required_pace(value, target, year)
    if sign * (target - value) <= insights.EPSILON:
        verdict = "met"
    elif pace is None or required is None:
        verdict = "too_few_years"
    else:
        verdict = "on_track" if insights.on_track_2030(value, pace.per_year, required, target, year,
                                                       higher_is_better=higher_is_better, noise=noise) else "off_track"
    return Progress(value, year, flags, target, target - value, required, pace, verdict)


def window_text(pace: insights.Pace | None) -> str:
    """'linear trend 2021–2025, 3 points' (and the break that shortened it), or 'too few years'."""
    if pace is None:
        return _("too few years (fewer than 3 comparable years)")
    if pace.break_year:
        return _("linear trend {first}–{last}, {points} points, from the break in series in {year}",
                 first=pace.first, last=pace.last, points=pace.points, year=pace.break_year)
    return _("linear trend {first}–{last}, {points} points", first=pace.first, last=pace.last, points=pace.points)


# ---------------------------------------------------------------- a KPI's series: the scoreboard's, then its twin's

def twin_of(indicator_id: str) -> insights.Twin | None:
    """The catalogue series measuring the same thing (same_measure_as) when insights would join the two (same unit,
    insights.twins_of) and it has data: Twin(its id, ..., breaks) with breaks from the catalogue's twin_break."""
    twin = queries.indicator(indicator_id).get("same_measure_as")
    if not isinstance(twin, str) or twin not in set(queries.indicator_ids()):
        return None
    joined = insights.twins_of(queries.catalogue(), [twin]).get(twin)
    return insights.Twin(twin, joined.source, joined.breaks) if joined and joined.indicator == indicator_id else None


@cached
def kpi_series(indicator_id: str) -> pd.DataFrame:
    """Every geo's yearly values of a KPI (indicator, geo, year, value, flags, pace_flags): the scoreboard's, and
    before its first year the values of its same-measure twin (e.g. Eurostat's isoc_sk_dskl_i21 for basic digital
    skills), each row naming the indicator it comes from. Flags stay as published; pace_flags adds the break in
    series (b) where a twin of another method (twin_break) joins, so no observed pace runs across the join."""
    own = queries.indicator_frame(indicator_id)[["geo", "year", "value", "flags"]].assign(indicator=indicator_id)
    own = own[own["value"].notna()]
    twin = twin_of(indicator_id)
    joined = pd.Series(False, index=own.index)
    if twin:
        first = own.groupby("geo")["year"].min()
        earlier = queries.indicator_frame(twin.indicator)[["geo", "year", "value", "flags"]].assign(indicator=twin.indicator)
        earlier = earlier[earlier["value"].notna() & (earlier["year"] < earlier["geo"].map(first).fillna(-1))]
        if twin.breaks:
            joined = own["geo"].isin(set(earlier["geo"])) & (own["year"] == own["geo"].map(first))
        own = pd.concat([own.assign(joined=joined), earlier.assign(joined=False)], ignore_index=True)
    else:
        own = own.assign(joined=False)
    own["year"] = own["year"].astype(int)
    own["flags"] = own["flags"].astype(object).where(own["flags"].notna(), None)
    own["pace_flags"] = [(f or "") + insights.BREAK_FLAG if j and insights.BREAK_FLAG not in (f or "") else f
                         for f, j in zip(own["flags"], own["joined"])]
    columns = ["indicator", "geo", "year", "value", "flags", "pace_flags"]
    return own.sort_values(["geo", "year"]).reset_index(drop=True)[columns]


def short_title(title: str) -> str:
    """A KPI title without its trailing '(Digital Decade)' (every row of the page is one)."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", str(title)) or str(title)


def _unit_label(entry: dict) -> str:
    """The catalogue's unit label of a KPI."""
    unit = entry.get("unit")
    return unit if isinstance(unit, str) else ""


# ---------------------------------------------------------------- chart 1: dot-and-target rows

TARGET_COLUMNS = ["indicator", "label", "geo", "name", "year", "value", "flags", "unit_label", "eu_value", "eu_year",
                  "eu_flags", "target_2030", "distance", "required_per_year", "observed_per_year", "observed_window",
                  "observed_points", "verdict", "verdict_text", "rank", "ranked", "drawn", "definition", "sources"]


def _progress_row(indicator_id: str, geo: str, series: pd.DataFrame, eu: Progress, label: str,
                  ranks: pd.Series, names: dict) -> dict:
    """One dot-and-target row: the KPI for one geo beside the EU."""
    entry, meta = queries.indicator(indicator_id), meta_of(indicator_id)
    target = meta.target_2030 if (per_country(meta) or geo == EU27) else None
    rows = series[series["geo"] == geo]
    p = progress(rows, target, higher_is_better=meta.higher_is_better, noise=meta.noise)
    verdict = "eu_only" if meta.target_2030 is not None and target is None else p.verdict
    return {
        "indicator": indicator_id, "label": label, "geo": geo, "name": names.get(geo, geo), "year": p.year,
        "value": p.value, "flags": p.flags, "unit_label": _unit_label(entry), "eu_value": eu.value,
        "eu_year": eu.year, "eu_flags": eu.flags, "target_2030": target, "distance": p.distance,
        "required_per_year": p.required, "observed_per_year": None if p.pace is None else p.pace.per_year,
        "observed_window": window_text(p.pace) if p.value is not None else "",
        "observed_points": None if p.pace is None else p.pace.points, "verdict": verdict,
        "verdict_text": _(VERDICTS[verdict]), "rank": ranks.get(geo), "ranked": int(ranks.notna().sum()),
        "drawn": per_country(meta), "definition": definition(indicator_id),
        "sources": ", ".join(sorted(set(rows["indicator"]))),
    }


def members() -> set[str]:
    """The EU Member States (geo table)."""
    return set(queries.countries().query("is_eu27 and not is_aggregate")["code"])


def _ranks(indicator_id: str, series: pd.DataFrame, higher_is_better: bool) -> pd.Series:
    """Competition rank (insights.competition_rank) of each Member State's latest scoreboard value; geo -> rank."""
    own = series[(series["indicator"] == indicator_id) & series["geo"].isin(members())]
    latest = own.sort_values("year").drop_duplicates("geo", keep="last")
    return pd.Series(insights.competition_rank(latest["value"], higher_is_better).astype("Int64").values,
                     index=latest["geo"].values, dtype="Int64")


@cached
def targets_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Dot-and-target rows: every KPI for the state's country (no indicator), or one KPI for every covered
    country (an indicator chosen): value, EU value, 2030 target, required and observed pace, verdict, rank."""
    geo, names = state.geos[0], queries.geo_names()
    rows = []
    if geo in covered_geos():
        if state.indicator:
            series = kpi_series(state.indicator)
            eu = _eu_progress(state.indicator, series)
            ranks = _ranks(state.indicator, series, meta_of(state.indicator).higher_is_better)
            geos = sorted(set(series["geo"]) & members())
            rows = [_progress_row(state.indicator, g, series, eu, names.get(g, g), ranks, names) for g in geos]
        else:
            for indicator_id, title in zip(kpis()["id"], kpis()["title"]):
                series = kpi_series(indicator_id)
                if series[series["geo"] == geo].empty:
                    continue
                ranks = _ranks(indicator_id, series, meta_of(indicator_id).higher_is_better)
                rows.append(_progress_row(indicator_id, geo, series, _eu_progress(indicator_id, series),
                                          short_title(title), ranks, names))
    frame = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    for column in ("flags", "eu_flags"):  # None, never NaN, for an unflagged value
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    if state.indicator and not frame.empty:
        frame = frame.sort_values("value", ascending=not meta_of(state.indicator).higher_is_better,
                                  na_position="last").reset_index(drop=True)
    return frame, _targets_meta(state, frame)


def _eu_progress(indicator_id: str, series: pd.DataFrame) -> Progress:
    """The EU's progress on a KPI (its target is the EU's own)."""
    meta = meta_of(indicator_id)
    return progress(series[series["geo"] == EU27], meta.target_2030, higher_is_better=meta.higher_is_better,
                    noise=meta.noise)


def source_line(frame: pd.DataFrame, *, twins: list[str] = ()) -> str:
    """'Source: European Commission, Digital Scoreboard, Digital Decade 2026 (DESI 2026 edition); data year 2025'
    (the data years of the scoreboard's rows; the Eurostat datasets of the earlier years a twin series fills)."""
    own = frame[frame["indicator"].isin(kpi_ids())] if "indicator" in frame.columns else frame.iloc[0:0]
    years = sorted({int(y) for y in own["year"].dropna()}) if "year" in own.columns else []
    if not years:
        text = _("Source: European Commission, Digital Scoreboard, {edition}", edition=_(EDITION))
    elif len(years) == 1:
        text = _("Source: European Commission, Digital Scoreboard, {edition}; data year {year}", edition=_(EDITION),
                 year=years[0])
    else:
        text = _("Source: European Commission, Digital Scoreboard, {edition}; data years {first}–{last}",
                 edition=_(EDITION), first=years[0], last=years[-1])
    datasets = sorted({queries.indicator(t).get("dataset") for t in twins if t} - {None, DATASET})
    if datasets:
        text += "; " + _("earlier years of the same measure: {datasets}", datasets=", ".join(datasets))
    return text


def _targets_meta(state: State, frame: pd.DataFrame) -> ChartMeta:
    """Title, source line and labels of the dot-and-target chart."""
    names = queries.geo_names()
    geo = state.geos[0]
    twins = sorted({s for cell in frame["sources"] for s in str(cell).split(", ")} - set(kpi_ids()))
    if geo not in covered_geos():
        title = _("{country} is not covered by the Digital Scoreboard", country=names.get(geo, geo))
    elif state.indicator:
        title = _("{indicator}: every Member State against the 2030 target",
                  indicator=queries.indicator(state.indicator).get("title") or state.indicator)
    else:
        title = _("{country}: Digital Decade KPIs against the 2030 targets", country=names.get(geo, geo))
    meta = ChartMeta(title=title, source=source_line(frame, twins=twins), names=names, geo=geo,
                     name=names.get(geo, geo), dataset=DATASET)
    if state.indicator:
        meta = replace(meta, indicator=meta_of(state.indicator), measure=definition(state.indicator),
                       unit_label=_unit_label(queries.indicator(state.indicator)))
    return meta


# ---------------------------------------------------------------- chart 2: a KPI's trajectory

TRAJECTORY_COLUMNS = ["series", "indicator", "geo", "name", "year", "value", "flags"]


def trajectory_kpi(state: State) -> str | None:
    """The KPI the trajectory chart draws: the chosen one, else the first KPI with a target the country reports."""
    if state.indicator:
        return state.indicator
    geo = state.geos[0]
    for indicator_id in kpi_ids():
        meta = meta_of(indicator_id)
        if meta.target_2030 is not None and per_country(meta) and (kpi_series(indicator_id)["geo"] == geo).any():
            return indicator_id
    return None


@cached
def eu_trajectory(indicator_id: str) -> pd.DataFrame:
    """The Commission's EU trajectory of a KPI (digital_decade_trajectories.json: 2023 baseline, 2026 ideal path):
    series, year, value, flags; empty for a KPI without one."""
    code = TRAJECTORY_CODES.get(indicator_id)
    if not code:
        return pd.DataFrame(columns=["series", "year", "value", "flags"])
    rows = query("SELECT dims['breakdown'] AS series, period, value, flags FROM observations "
                 "WHERE dataset = ? AND dims['indicator'] = ? AND dims['breakdown'] IN (?, ?) AND value IS NOT NULL "
                 "ORDER BY series, period", [DATASET, code, *TRAJECTORY_SERIES])
    rows = rows[rows["period"].astype(str).str.fullmatch(r"\d{4}")]
    return pd.DataFrame({"series": rows["series"], "year": rows["period"].astype(int),
                         "value": rows["value"].astype(float), "flags": rows["flags"]}).reset_index(drop=True)


@cached
def trajectory_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """A KPI over the years for the country and the EU, the straight path from the latest value to the 2030
    target, and the EU trajectory where the scoreboard publishes one (series: country, eu, path, eu_path, and the
    trajectory breakdowns)."""
    geo, names = state.geos[0], queries.geo_names()
    indicator_id = trajectory_kpi(state) if geo in covered_geos() else None
    if indicator_id is None:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS), ChartMeta(title=_("Digital Decade trajectory"), geo=geo,
                                                                   names=names, source=source_line(pd.DataFrame()))
    meta = meta_of(indicator_id)
    series = kpi_series(indicator_id)
    parts = []
    for code, kind in ((geo, "country"), (EU27, "eu")) if geo != EU27 else ((EU27, "eu"),):
        rows = series[series["geo"] == code]
        parts.append(rows.assign(series=kind))
        target = meta.target_2030 if (per_country(meta) or code == EU27) else None
        if target is not None and not rows.empty:
            last = rows.iloc[-1]
            if int(last["year"]) < insights.TARGET_YEAR:
                parts.append(pd.DataFrame({"series": "path" if kind == "country" else "eu_path",
                                           "indicator": indicator_id, "geo": code,
                                           "year": [int(last["year"]), insights.TARGET_YEAR],
                                           "value": [float(last["value"]), float(target)], "flags": None}))
    trajectory = eu_trajectory(indicator_id)
    if not trajectory.empty:
        parts.append(trajectory.assign(indicator=indicator_id, geo=EU27))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    frame["name"] = frame["geo"].map(names).fillna(frame["geo"])
    frame = frame[TRAJECTORY_COLUMNS].reset_index(drop=True)
    observed = frame[frame["series"].isin(["country", "eu"])]
    twins = sorted(set(observed["indicator"]) - {indicator_id})
    label, traj_definition = trajectory_definition(indicator_id)
    return frame, ChartMeta(
        title=_("{indicator}: {country} and the EU on the way to 2030", indicator=meta.title,
                country=names.get(geo, geo)),
        source=source_line(observed, twins=twins), names=names, geo=geo, name=names.get(geo, geo),
        indicator=meta, dataset=DATASET, unit_label=_unit_label(queries.indicator(indicator_id)),
        measure=definition(indicator_id), measure_label=(f"{label}: {traj_definition}" if label else ""),
    )


# ---------------------------------------------------------------- chart 3 (WP3): national against cross-border

WP3_COLUMNS = ["indicator", "measure", "geo", "name", "year", "value", "flags", "is_bsr", "gap"]


def audience_of(state: State) -> str:
    """The WP3 view's audience (URL 'audience'): businesses unless citizens is asked."""
    return state.get(AUDIENCE) or "businesses"


@cached
def crossborder_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """National and cross-border online availability of public services per Member State and measurement year
    (eGovernment Benchmark, a secondary compilation), with the gap national - cross-border."""
    audience = audience_of(state)
    national, cross = AUDIENCES[audience]
    names, peers = queries.geo_names(), set(queries.peer_group())
    parts = [queries.indicator_frame(i)[["geo", "year", "value", "flags"]].assign(indicator=i, measure=m)
             for i, m in ((national, "national"), (cross, "cross_border"))]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["value"].notna()].copy()
    frame["year"] = frame["year"].astype(int)
    wide = frame.pivot_table(index=["geo", "year"], columns="measure", values="value", aggfunc="first")
    gaps = (wide.get("national") - wide.get("cross_border")).rename("gap").reset_index()
    frame = frame.merge(gaps, on=["geo", "year"], how="left")
    frame["name"] = frame["geo"].map(names).fillna(frame["geo"])
    frame["is_bsr"] = frame["geo"].isin(peers)
    frame = frame.sort_values(["year", "geo", "measure"], ascending=[True, True, False]).reset_index(drop=True)
    years = sorted(frame["year"].unique())
    source = _("Source: eGovernment Benchmark {years} (European Commission), secondary compilation by a third party "
               "(a DG CONNECT research internship on DESI 2022)",
               years=", ".join(str(y) for y in years))
    title = _("{audience}: national against cross-border online availability (secondary compilation)",
              audience=_(AUDIENCE_LABELS[audience]))
    return frame[WP3_COLUMNS], ChartMeta(title=title, source=source, names=names, dataset=EGOV_DATASET,
                                         unit_label=queries.indicator(national).get("unit") or "",
                                         geo=state.geos[0] if state.geos else "", measure=audience,
                                         year=int(years[-1]) if years else None)


def gap_sentence(frame: pd.DataFrame, geo: str, year: int | None) -> str:
    """'Estonia (2023): 100.0 national, 97.5 cross-border, gap 2.5 points', or '' when the geo has no pair."""
    rows = frame[(frame["geo"] == geo) & (frame["year"] == year)]
    values = dict(zip(rows["measure"], rows["value"]))
    if not {"national", "cross_border"} <= set(values):
        return ""
    gap = values["national"] - values["cross_border"]
    return _("{country} ({year}): {national} national, {cross} cross-border, gap {gap} points",
             country=rows["name"].iloc[0], year=year, national=i18n.format_number(values["national"], 1),
             cross=i18n.format_number(values["cross_border"], 1), gap=i18n.format_number(gap, 1))
