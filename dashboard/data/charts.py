"""The rows and metadata behind every chart: one function per chart, state -> (DataFrame, ChartMeta).

Pages declare which function feeds which chart (dashboard.registry); figures draw what these return.
The state is already validated and resolved by its page (registry.Page.state); nothing here reads the URL.
"""
from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd

from dashboard import i18n
from dashboard.data import digital_decade as dd  # the Digital Decade page's KPIs and targets
from dashboard.data import freshness, profile, queries
from dashboard.data.connection import cached
from dashboard.figures import common
from dashboard.insights import competition_rank
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import _
from dashboard.meta import BSR_AVERAGE, EU27, EU_REFERENCES, NOISE_PP, IndicatorMeta
from dashboard.state import State, href

COMPOSITE = "composite"  # the DESI trend chart's measure for the overall DESI score
EDITION = "edition"      # URL parameter of the DESI edition (not 'year': that one is validated against an indicator)


@cached
def chart_meta(indicator_id: str) -> ChartMeta:
    """Everything a figure needs to label one indicator: its catalogue facts, unit, source line, average method."""
    facts = queries.indicator_meta(indicator_id)
    info = queries.source_info(indicator_id)
    frame = queries.indicator_frame(indicator_id)
    units = sorted(frame["unit"].dropna().unique())
    unit = units[0] if units else facts.unit
    return ChartMeta(
        indicator=facts,
        title=facts.title,
        unit=unit,
        # the catalogue's unit is a human label ("% of households"); the data's is a Eurostat code (PC_HH)
        unit_label=facts.unit if isinstance(facts.unit, str) and facts.unit else common.unit_label(unit),
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
    # '7 of 9 reporting' where the average covers fewer countries than the peer group
    reporting = [_("{n} of {peers} reporting", n=int(n), peers=int(k)) if n < k else None
                 for n, k in zip(avg["n_countries"], avg["n_peers"])]
    avg = avg.assign(period=avg["year"].astype(str), reporting=reporting)[
        ["geo", "year", "period", "value", "flags", "method", "reporting"]]
    out = pd.concat([frame.assign(method=None, reporting=None), avg], ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out


@cached
def trends_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Time series of the chosen countries, EU27 and the BSR average (geo, name, year, period, value, flags)."""
    m = chart_meta(state.indicator)
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
    m = chart_meta(state.indicator)
    geo = queries.countries()
    members = set(geo.loc[geo["is_eu27"] & ~geo["is_aggregate"], "code"]) if "is_eu27" in geo.columns else set()
    peers = set(queries.peer_group())
    shown = members | peers | (set(state.geos) - {EU27, BSR_AVERAGE})
    df = _annual(state.indicator)
    df = df[df["year"] == state.year]
    countries_ = df[df["geo"].isin(shown)].copy()
    missing = sorted(shown - set(countries_.loc[countries_["value"].notna(), "geo"]))
    higher = m.indicator.higher_is_better
    countries_ = countries_.sort_values("value", ascending=not higher, na_position="last").reset_index(drop=True)
    countries_["rank"] = competition_rank(countries_["value"], higher).astype("Int64")  # ties share a rank
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
    m = chart_meta(state.indicator)
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


HEADLINE, DIGITAL_DECADE = "headline", "digital_decade"  # the scorecard's two groups of rows


@cached
def scorecard_indicators() -> list[tuple[str, str]]:
    """(indicator, group) of the scorecard's rows: the headline indicators, then the Digital Decade KPIs whose 2030
    target applies to each country (shares and scores; a target in counts, such as 500 unicorns, is the EU's)."""
    rows = [(i, HEADLINE) for i in queries.headline_indicators()]
    for indicator_id in dd.kpi_ids():
        kpi = dd.meta_of(indicator_id)
        if kpi.target_2030 is not None and dd.per_country(kpi):
            rows.append((indicator_id, DIGITAL_DECADE))
    return rows


@cached
def scorecard_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Headline indicators and Digital Decade KPIs x (peers, added countries, EU27, BSR average): latest value,
    5-year change, position against the EU aggregate of the row (EU28 for DESI 2020 rows) within its noise
    threshold, distance to the 2030 target."""
    columns = list(dict.fromkeys([*state.geos, EU27, BSR_AVERAGE]))
    rows = [row for ind, group in scorecard_indicators() for row in _scorecard_rows(ind, group, tuple(columns))]
    df = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    return df, ChartMeta(title=_("Headline indicators and Digital Decade targets against the EU"),
                         source=_scorecard_source(), names=queries.geo_names(), columns=tuple(columns),
                         notes=scorecard_legend(df))


def scorecard_legend(df: pd.DataFrame) -> tuple[str, str]:
    """What the symbols mean, with the 'about the same' band in percentage points (the noise thresholds in use):
    the page's sentence and the chart's one-line legend."""
    bands = sorted({float(n) for n in df.drop_duplicates("indicator")["noise"] if n and n > 1e-6})
    band = " / ".join(i18n.format_number(n, 1) for n in bands) or i18n.format_number(NOISE_PP, 1)
    short = _("▲ better, ▼ worse, ≈ within {band} pp of the EU aggregate · ↗ ↘ → five-year change · last column: "
              "2030 target", band=band)
    return _("▲ better than the EU aggregate, ▼ worse, ≈ about the same (within {band} pp, the noise threshold of "
             "survey estimates; the EU28 for DESI 2020 rows); ↗ ↘ → change over five years; the last column is the "
             "2030 target, and each cell says how far it is from it.", band=band), short


SCORECARD_COLUMNS = ["indicator", "group", "title", "unit", "year", "geo", "value", "flags", "eu27", "reference",
                     "diff_vs_eu27", "position", "noise", "change_5y", "base_year", "target_2030",
                     "distance_to_target", "higher_is_better", "spark", "href"]


def scorecard_noise(indicator_id: str) -> float:
    """The row's 'about the same' band: the indicator's noise threshold (IndicatorMeta.noise: 2 pp for shares and
    scores, the catalogue's own where it sets one)."""
    return queries.indicator_meta(indicator_id).noise


@cached
def _scorecard_rows(indicator_id: str, group: str, columns: tuple[str, ...]) -> list[dict]:
    """One scorecard row per column geo for one indicator at its latest year (cached per indicator and columns)."""
    m = chart_meta(indicator_id)
    facts = m.indicator
    df = _annual(indicator_id)
    year = queries.latest_year(indicator_id)
    cells = {(g, int(y)): (None if pd.isna(v) else float(v), f)
             for g, y, v, f in zip(df["geo"], df["year"], df["value"], df["flags"])}
    # the row's EU aggregate: the EU27 where the year has it, else the EU28 the source published (DESI 2020)
    reference = next((r for r in EU_REFERENCES if cells.get((r, year), (None,))[0] is not None), EU27)
    eu_value = cells.get((reference, year), (None, None))[0]
    # an average of countries (unweighted) is not compared with the EU aggregate, which is population-weighted
    weighted = set(queries.bsr_average(indicator_id).query("weighted")["year"].astype(int))
    target = dd.targets().get(indicator_id, facts.target_2030) if group == DIGITAL_DECADE else facts.target_2030
    noise = scorecard_noise(indicator_id)
    rows = []
    for geo in columns:
        shown = reference if geo == EU27 else geo  # the EU column shows the row's own EU aggregate
        value, flags = cells.get((shown, year), (None, None))
        comparable = geo != BSR_AVERAGE or year in weighted
        history = [(y, cells[(shown, y)][0]) for y in range(year - 5, year + 1)
                   if (shown, y) in cells and cells[(shown, y)][0] is not None]
        base = [(y, v) for y, v in history if y <= year - 5]
        change = None if value is None or not base else value - base[-1][1]
        is_reference = geo == EU27
        rows.append({
            "indicator": indicator_id, "group": group, "title": facts.title, "unit": m.unit, "year": year, "geo": geo,
            "value": value, "flags": flags, "eu27": eu_value, "reference": reference,
            "diff_vs_eu27": None if value is None or eu_value is None or not comparable or is_reference
            else value - eu_value,
            "position": ("reference" if is_reference and value is not None else
                         _position(value, eu_value, facts.higher_is_better, noise) if comparable else "missing"),
            "noise": noise, "change_5y": change, "base_year": base[-1][0] if base else None,
            "target_2030": target, "distance_to_target": None if value is None or target is None else target - value,
            "higher_is_better": facts.higher_is_better, "spark": [v for _, v in history],
            "href": scorecard_cell_href(indicator_id, geo, columns, year),
        })
    return rows


def scorecard_cell_href(indicator_id: str, geo: str, columns: tuple[str, ...], year: int | None) -> str:
    """The chart behind a cell: Compare for that indicator and year with the cell's country highlighted (the
    scorecard's countries for the EU and BSR columns)."""
    shown = tuple(c for c in columns if c not in (EU27, BSR_AVERAGE))
    geos = shown if geo in (EU27, BSR_AVERAGE) else (geo,)
    return href(State(page="/compare", indicator=indicator_id, geos=geos, year=year))


def _position(value, eu_value, higher_is_better: bool, noise: float) -> str:
    """'better', 'worse', 'same' (within the noise threshold, in the indicator's unit, of the EU value), or
    'missing'."""
    if value is None or eu_value is None or pd.isna(eu_value):
        return "missing"
    if abs(value - eu_value) <= noise:
        return "same"
    better = value > eu_value if higher_is_better else value < eu_value
    return "better" if better else "worse"


def _scorecard_source() -> str:
    """Source line naming every dataset behind the scorecard's rows: Eurostat's, the DESI 2020 export, the Digital
    Scoreboard's Digital Decade 2026 facts."""
    datasets = sorted({queries.source_info(i)["dataset"] for i, _group in scorecard_indicators()} - {None})
    commission = [_("DESI 2020 export") if d == profile.DESI_DATASET else
                  _("Digital Scoreboard, Digital Decade 2026") if d == DIGITAL_DECADE else d
                  for d in datasets if d.startswith(("desi", DIGITAL_DECADE, "egov"))]
    eurostat = [d for d in datasets if not d.startswith(("desi", DIGITAL_DECADE, "egov"))]
    if commission:
        return _("Source: Eurostat ({eurostat}); European Commission ({commission})", eurostat=", ".join(eurostat),
                 commission=", ".join(commission))
    return _("Source: Eurostat ({eurostat})", eurostat=", ".join(eurostat))


# ---------------------------------------------------------------- relationships

def relationships_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Points of the relationships scatter for a resolved state (indicator = x, extra 'y', year)."""
    x_id, y_id = state.indicator, state.get("y")
    assert x_id and y_id and state.year is not None, f"relationships state is incomplete: {state}"
    x_meta, y_meta = chart_meta(x_id), chart_meta(y_id)
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
    """'Source: Eurostat, isoc_ec_esels (updated 2024-12-12), ...; European Commission, DESI, desi_2020' for
    datasets, in the current language (dates in its style)."""
    updated = profile.dataset_updates()

    def named(dataset: str) -> str:
        """A dataset code with the date of its newest source update, when its files state one."""
        if dataset not in updated:
            return dataset
        return _("{dataset} (updated {date})", dataset=dataset, date=i18n.format_date(updated[dataset]))

    codes = sorted({d for d in datasets if d})
    eurostat = [named(d) for d in codes if not d.startswith("desi")]
    desi = [named(d) for d in codes if d.startswith("desi")]
    parts = ([f"Eurostat, {', '.join(eurostat)}"] if eurostat else []) + (
        [f"{_('European Commission, DESI')}, {', '.join(desi)}"] if desi else [])
    return _("Source: {name}", name="; ".join(parts)) if parts else _("Source: none (no data)")


# ---------------------------------------------------------------- DESI

WEIGHT_PREFIX = "w_"  # URL parameters w_<dimension>: the visitor's dimension weights (any scale, normalised to 100 %)


def edition_text(year: int, source: str) -> str:
    """The URL form of an edition: '2022' for the preferred source of that year, '2019-export' for the other."""
    preferred = profile.desi_edition_sources().get(year, (source,))[0]
    return str(year) if source == preferred else f"{year}-{source}"


def desi_edition(state: State) -> tuple[int, str]:
    """(edition year, source) of a resolved DESI state (URL 'edition': '2022', '2019-export')."""
    text = state.get(EDITION) or ""
    year, _sep, source = text.partition("-")
    year = int(year)
    return year, source or profile.desi_edition_sources()[year][0]


def edition_label(year: int, source: str) -> str:
    """'DESI 2022 (2022 workbook)'; an edition also in the 2020 export says the workbook is preferred."""
    sources = profile.desi_edition_sources().get(year, (source,))
    if source == profile.WORKBOOK:
        if profile.EXPORT in sources:
            return _("DESI {edition} (2022 workbook; preferred over the 2020 export)", edition=year)
        return _("DESI {edition} (2022 workbook)", edition=year)
    if profile.WORKBOOK in sources:
        return _("DESI {edition} (2020 export; the 2022 workbook restates it)", edition=year)
    return _("DESI {edition} (2020 export)", edition=year)


@cached
def official_weights(year: int, source: str) -> dict[str, float]:
    """The published dimension weights of an edition (shares summing to 1), in the dimensions' order."""
    scores = profile.desi_scores()
    rows = scores[(scores["year"] == year) & (scores["source"] == source)]
    medians = rows.groupby("dimension")["weight"].median()
    order = [d for d in profile.desi_dimensions(source)["dimension"] if d in medians.index]
    return {d: float(medians[d]) for d in order}


def desi_weights(state: State, year: int, source: str) -> tuple[dict[str, float], bool, list[str]]:
    """(normalised weights per dimension, whether the visitor set them, dimensions asked for that this edition does
    not have) from the URL's w_<dimension> parameters; unset dimensions keep their official weight.

    ValueError (its message for the visitor) for a weight that is not a number, negative, all weights zero, or a
    dimension no DESI edition has."""
    official = official_weights(year, source)
    asked = {k[len(WEIGHT_PREFIX):]: v for k, v in state.extra if k.startswith(WEIGHT_PREFIX)}
    known = set(profile.DESI_DIMENSION_LABELS)
    for code, text in asked.items():
        if code not in known:
            raise ValueError(_("“{param}” names no DESI dimension: the weights are {params}.",
                               param=WEIGHT_PREFIX + code, params=", ".join(WEIGHT_PREFIX + d for d in known)))
        value = _weight_number(text)
        if value is None:
            raise ValueError(_("The weight {param}={value} is not a number.", param=WEIGHT_PREFIX + code, value=text))
        if value < 0:
            raise ValueError(_("The weight {param}={value} is negative: a weight is zero or more.",
                               param=WEIGHT_PREFIX + code, value=text))
    ignored = [code for code in asked if code not in official]
    raw = {d: _weight_number(asked[d]) if d in asked else official[d] * 100 for d in official}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError(_("Every dimension weight is zero: give at least one dimension a weight above zero."))
    weights = {d: w / total for d, w in raw.items()}
    # the export's weights are implied by contribution / score, exact to about 1e-6
    custom = any(abs(weights[d] - official[d]) > 1e-4 for d in official)
    return (weights if custom else official), custom, ignored


def _weight_number(text: str) -> float | None:
    """A finite number written in ASCII ('25', '12.5', '-3'), else None."""
    text = str(text).strip()
    if not text.isascii():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def desi_composites(year: int, source: str, weights: dict[str, float]) -> pd.DataFrame:
    """Every geo's composite of an edition under the given weights (geo, value) and its competition rank among the
    edition's countries (the EU aggregates are not ranked); a geo missing a dimension score gets no composite."""
    scores = profile.desi_scores()
    rows = scores[(scores["year"] == year) & (scores["source"] == source) & scores["dimension"].isin(list(weights))]
    complete = rows.groupby("geo")["score"].count() == len(weights)
    weighted = (rows["score"] * rows["dimension"].map(weights)).groupby(rows["geo"]).sum()
    df = pd.DataFrame({"geo": weighted.index, "value": weighted.values})
    df = df[df["geo"].map(complete).fillna(False).astype(bool)].reset_index(drop=True)
    countries = ~df["geo"].isin(profile.EU_REFERENCES)
    df["rank"] = pd.NA
    df.loc[countries, "rank"] = competition_rank(df.loc[countries, "value"]).astype(int)
    df.attrs["ranked"] = int(countries.sum())
    return df


def _names_and_order(state: State, year: int, source: str) -> tuple[dict, list[str], str | None]:
    """Display names of every geo with DESI data, the countries shown (the state's, then the edition's EU
    reference), the reference."""
    reference = profile.desi_reference(year, source)
    scores = profile.desi_scores()
    present = set(scores.loc[(scores["year"] == year) & (scores["source"] == source), "geo"])
    order = [g for g in state.geos if g in present and g != reference] + ([reference] if reference else [])
    names = queries.geo_names()
    return {g: reference_name(g) if g in profile.EU_REFERENCES else names.get(g, g) for g in present}, order, reference


def reference_name(code: str) -> str:
    """How the page names an EU aggregate: 'EU27 (2020 composition)', 'EU28 (with the United Kingdom)'."""
    return _("EU28 (with the United Kingdom)") if code == "EU28" else _("EU27 (2020 composition)")


def _desi_source(source: str = profile.EXPORT) -> str:
    """Source line of one DESI source: the Commission, its update stamp when known, which file and editions."""
    composite = profile.desi_composite(source)
    updated = queries.source_info(composite)["source_updated"] if composite else None
    line = common.source_line(profile.DESI_DATASETS[source], updated)
    if source == profile.WORKBOOK:
        return _("{source} — DESI 2022 calculation workbook, editions 2017–2022", source=line)
    return _("{source} — DESI 2020 export (digital-agenda-data.eu), editions 2015–2020", source=line)


def _weight_text(weights: dict[str, float]) -> str:
    """'Connectivity 25 % · Human capital 25 % · ...' from normalised weights."""
    return " · ".join(f"{profile.desi_dimension_label(d)} {i18n.format_percent(w * 100, 1)}" for d, w in weights.items()
                      if w is not None and not pd.isna(w))


def _weight_notes(ignored: list[str], year: int) -> tuple[str, ...]:
    """A sentence for the weights asked for dimensions this edition does not have."""
    return tuple(_("{dimension} is not a dimension of DESI {edition}: its weight is not used.",
                   dimension=profile.desi_dimension_label(d), edition=year) for d in ignored)


@cached
def stack_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """Weighted dimension contributions of one edition (URL 'edition') for the state's countries and the edition's
    EU aggregate, under the official or the visitor's weights (w_<dimension>), with every country's rank."""
    year, source = desi_edition(state)
    weights, custom, ignored = desi_weights(state, year, source)
    names, order, reference = _names_and_order(state, year, source)
    scores = profile.desi_scores()
    df = scores[(scores["year"] == year) & (scores["source"] == source) & scores["geo"].isin(order)
                & scores["dimension"].isin(list(weights))].copy()
    df["weight"] = df["dimension"].map(weights)
    if custom:  # the published contributions hold for the official weights only
        df["contribution"] = df["score"] * df["weight"]
        df["flags"] = df["score_flags"]
    composites = desi_composites(year, source, weights)
    values = dict(zip(composites["geo"], composites["value"]))
    ranked = composites.attrs["ranked"]
    ranks = {g: (int(r), ranked) for g, r in zip(composites["geo"], composites["rank"]) if not pd.isna(r)}
    flags = df.groupby("geo")["flags"].agg(lambda f: "".join(sorted({c for x in f if x for c in x})) or None)
    totals = {g: (values.get(g), flags.get(g)) for g in order}
    countries = sorted([g for g in order if g != reference], key=lambda g: -(values.get(g) or 0))
    order = countries + ([reference] if reference else [])
    label = edition_label(year, source)
    return df.reset_index(drop=True), ChartMeta(
        year=year, names={g: names[g] for g in order}, order=tuple(order), reference=reference, totals=totals,
        ranks={g: ranks[g] for g in order if g in ranks}, weights=_weight_text(weights), custom_weights=custom,
        notes=_weight_notes(ignored, year), source=_desi_source(source), unit="score (0-100)", edition_label=label,
        unit_label=desi_unit_label(source), title=_("DESI {edition}", edition=year),
        dataset=profile.DESI_DATASETS[source], indicator=facts_of(profile.desi_composite(source)))


@cached
def trend_data(state: State) -> tuple[pd.DataFrame, ChartMeta]:
    """The composite (measure 'composite', under the state's weights) or one dimension's score across the editions
    of the chosen edition's source, for the state's countries and that source's EU aggregate."""
    year, source = desi_edition(state)
    weights, custom, _ignored = desi_weights(state, year, source)
    measure = state.get("measure") or COMPOSITE
    names, order, reference = _names_and_order(state, year, source)
    dims = set(profile.desi_dimensions(source)["dimension"])
    scores = profile.desi_scores()
    scores = scores[scores["source"] == source]
    notes: tuple[str, ...] = ()
    if measure != COMPOSITE and measure not in dims:
        notes = (_("{dimension} is not a dimension of DESI {edition}: the chart shows the overall score.",
                   dimension=profile.desi_dimension_label(measure), edition=year),)
        measure = COMPOSITE
    if measure == COMPOSITE:
        editions = sorted(scores["year"].unique())
        df = pd.concat([desi_composites(int(y), source, weights).assign(year=int(y)) for y in editions],
                       ignore_index=True)[["geo", "year", "value"]]
        df["flags"] = None
        label = _("DESI overall score (your weights)") if custom else _("DESI overall score")
    else:
        df = scores.loc[scores["dimension"] == measure, ["geo", "year", "score", "score_flags"]]
        df = df.rename(columns={"score": "value", "score_flags": "flags"})
        label = _("DESI {dimension} score", dimension=profile.desi_dimension_label(measure))
    df = df[df["geo"].isin(order)].sort_values(["geo", "year"]).reset_index(drop=True)
    return df, ChartMeta(measure=measure, measure_label=label, names={g: names[g] for g in order},
                         order=tuple(order), references=(reference,) if reference else (), reference=reference,
                         source=_desi_source(source), unit="score (0-100)", unit_label=desi_unit_label(source),
                         title=label, notes=notes,
                         edition_label=edition_label(year, source), custom_weights=custom,
                         dataset=profile.DESI_DATASETS[source],
                         indicator=facts_of(_measure_indicator(source, measure)))


def desi_unit_label(source: str) -> str:
    """The DESI scores' unit as a reader reads it, in the current language (the composite's catalogue unit)."""
    facts = facts_of(profile.desi_composite(source))
    return facts.unit if facts and facts.unit else ""


def facts_of(indicator_id: str | None) -> IndicatorMeta | None:
    """The catalogue's facts about an indicator id; None for no indicator."""
    return queries.indicator_meta(indicator_id) if indicator_id else None


def _measure_indicator(source: str, measure: str) -> str | None:
    """Catalogue id of a trend measure in a source: its composite, or the dimension's score."""
    if measure == COMPOSITE:
        return profile.desi_composite(source)
    dims = profile.desi_dimensions(source)
    found = dims.loc[dims["dimension"] == measure, "indicator"]
    return found.iloc[0] if not found.empty else None
