"""Queries of the Relationships, Country profile, DESI and Data & sources pages (bound parameters, cached)."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv

from dashboard.data import queries
from dashboard.data.connection import cached, connection, query
from dashboard.i18n import N_, _
from dashboard.meta import EU27, EU_REFERENCES

RANK_EXTRA = "NO"  # Norway is ranked with the EU27 members where it reports (the DIGINNO peer group includes it)
CHANGE_YEARS = 5
MIN_COMMON_SHARE = 0.5  # an indicator's latest common year: the latest in which at least half the EU27 members report
AREA_THEMES_EXCLUDED = ("population", "overall")  # weights of averages; composites spanning every theme


# ---------------------------------------------------------------- relationships

@cached
def pair_values(x_indicator: str, y_indicator: str, year: int) -> pd.DataFrame:
    """Countries (and EU27 as a reference) with values of both indicators in one year; other aggregates left out."""
    columns = ["geo", "value", "flags"]
    x = queries.values_for_year(x_indicator, int(year))[columns].rename(columns={"value": "x", "flags": "x_flags"})
    y = queries.values_for_year(y_indicator, int(year))[columns].rename(columns={"value": "y", "flags": "y_flags"})
    both = x.merge(y, on="geo").dropna(subset=["x", "y"])
    geo = queries.countries()[["code", "name", "is_bsr", "is_aggregate"]].rename(columns={"code": "geo"})
    df = both.merge(geo, on="geo")
    df = df[~df["is_aggregate"] | (df["geo"] == EU27)].copy()
    df["name"] = df["geo"].map(queries.geo_names()).fillna(df["geo"])   # 'EU27', as the chart labels it
    df["is_reference"] = df["geo"] == EU27
    df["is_bsr"] = df["is_bsr"].astype(bool) & ~df["is_reference"]
    for column in ("x_flags", "y_flags"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    df = df[["geo", "name", "x", "x_flags", "y", "y_flags", "is_bsr", "is_reference"]]
    return df.sort_values("geo").reset_index(drop=True)


@cached
def pair_years(x_indicator: str, y_indicator: str) -> list[int]:
    """Years in which at least one single country has values of both indicators, ascending."""
    singles = set(queries.european_countries())
    frames = [queries.indicator_frame(i) for i in (x_indicator, y_indicator)]
    keys = [set(zip(f.loc[f["value"].notna() & f["geo"].isin(singles), "geo"],
                    f.loc[f["value"].notna() & f["geo"].isin(singles), "year"])) for f in frames]
    return sorted({int(year) for _, year in keys[0] & keys[1]})


# ---------------------------------------------------------------- country profile

# The database's annual pick (annual_values: the latest period of each year), values only.
_PROFILE_SQL = """
SELECT v.indicator, v.geo, v.year, v.value, v.flags
FROM annual_values v JOIN geo g ON g.code = v.geo
WHERE v.value IS NOT NULL AND (NOT coalesce(g.is_aggregate, false) OR v.geo = ANY(?))
ORDER BY v.indicator, v.geo, v.year
"""
PROFILE_COLUMNS = ["indicator", "title", "theme", "unit", "dataset", "direction", "geo", "year", "value", "flags",
                   "reference", "eu27", "eu27_flags", "bsr", "bsr_flags", "rank", "ranked", "rank_among",
                   "change_5y", "change_from", "gap_pct", "composite", "common_year", "score", "bsr_weighted"]


@cached
def annual_country_values() -> pd.DataFrame:
    """One value per indicator, single country (plus the EU references) and year: what every profile is cut from."""
    df = query(_PROFILE_SQL, [list(EU_REFERENCES)])
    for column in ("indicator", "geo"):
        df[column] = df[column].astype(object)  # plain objects: the per-country loops index them many times
    df["year"] = df["year"].astype(int)
    df["value"] = df["value"].astype(float)
    df["flags"] = df["flags"].astype(object).where(df["flags"].notna(), None)
    return df


@cached
def eu27_members() -> frozenset[str]:
    """Codes of the EU27 member states according to the geo table."""
    geo = queries.countries()
    return frozenset(geo.loc[geo["is_eu27"] & ~geo["is_aggregate"], "code"])


@cached
def directions() -> dict[str, int]:
    """Indicator id -> +1 (higher is better) or -1 (lower is better); 0 when the catalogue stores no direction or
    says the indicator is not directed (directed = false: composition shares such as women among ICT specialists)."""
    metas = [queries.indicator_meta(i) for i in queries.indicator_ids(with_data=False)]
    return {m.id: (1 if m.higher_is_better else -1) if m.directed else 0 for m in metas}


def position_vs_eu(value: float, eu_value: float, direction: int) -> float | None:
    """How far a value is ahead of the EU reference, in % of that reference, signed so that positive is better."""
    if direction == 0 or eu_value is None or np.isnan(eu_value) or eu_value == 0:
        return None
    return direction * (value - eu_value) / abs(eu_value) * 100.0


def _pool_label(members_reporting: int, members: int, extra: list[str]) -> str:
    """'EU27', 'EU27 (25 of 27 reporting)', plus ' + NO' etc. for the countries ranked beside the members."""
    label = _("EU27")
    if members_reporting != members:
        label = _("{label} ({reporting})", label=label,
                  reporting=_("{n} of {peers} reporting", n=members_reporting, peers=members))
    return label + "".join(f" + {code}" for code in extra)


def _references(values: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and year the EU reference value: EU27_2020 when the indicator publishes it, else EU28."""
    refs = values[values["geo"].isin(EU_REFERENCES)]
    chosen = refs.groupby("indicator")["geo"].agg(lambda g: next(c for c in EU_REFERENCES if c in set(g)))
    refs = refs[refs["geo"] == refs["indicator"].map(chosen)]
    return refs.rename(columns={"geo": "reference", "value": "eu27", "flags": "eu27_flags"})


def _latest_common(singles: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """Each country's value per indicator at the latest year in which it and the EU reference both have one."""
    both = singles.merge(refs, on=["indicator", "year"], how="inner")
    return both.sort_values("year").drop_duplicates(["indicator", "geo"], keep="last").reset_index(drop=True)


def _ranks(rows: pd.DataFrame, singles: pd.DataFrame, members: frozenset[str]) -> pd.DataFrame:
    """Rank (best first, ties share the better rank) and pool size of each row among EU27 members + NO that year."""
    standard = members | {RANK_EXTRA}
    pool = singles.loc[singles["geo"].isin(standard), ["indicator", "year", "geo", "value"]]
    pairs = rows[["indicator", "geo", "year", "value", "direction"]].merge(pool, on=["indicator", "year"],
                                                                          suffixes=("", "_other"))
    sign = pairs["direction"].replace(0, 1)  # with no direction, rank 1 is the highest value
    pairs["better"] = pairs["value_other"] * sign > pairs["value"] * sign
    pairs["member"] = pairs["geo_other"].isin(members)
    pairs["norway"] = pairs["geo_other"] == RANK_EXTRA
    counted = pairs.groupby(["indicator", "geo"]).agg(better=("better", "sum"), pool=("better", "size"),
                                                      reporting=("member", "sum"), norway=("norway", "any"))
    out = rows.join(counted, on=["indicator", "geo"])
    own = (~out["geo"].isin(standard)).astype(int)  # a country outside the standard pool is ranked beside it
    out["rank"] = (out["better"].fillna(0) + 1).astype(int)
    out["ranked"] = (out["pool"].fillna(0) + own).astype(int)
    out["rank_among"] = [_pool_label(int(r), len(members), ([RANK_EXTRA] if n else []) + ([g] if o else []))
                         for r, n, g, o in zip(out["reporting"].fillna(0), out["norway"].fillna(False), out["geo"], own)]
    return out.drop(columns=["better", "pool", "reporting", "norway"])


def standard_scores(singles: pd.DataFrame, refs: pd.DataFrame, members: frozenset[str],
                    direction: dict[str, int], comparable: set[str]) -> pd.DataFrame:
    """Every country's standardised position per indicator at the indicator's latest common year: (value − EU
    reference) / the standard deviation across the EU27 members that year, signed so that positive is better.

    The common year is the latest in which the EU reference and at least MIN_COMMON_SHARE of the members report,
    so every country is scored on the same year; a country without a value that year has no score. Only shares
    and 0-100 scores are scored (`comparable`): a count's EU aggregate is a sum, not a level to stand against.
    Undirected indicators (direction 0) and those with no spread get none. Columns: indicator, geo, common_year,
    score.
    """
    singles = singles[singles["indicator"].isin(comparable)]
    pool = singles[singles["geo"].isin(members)]
    counts = pool.groupby(["indicator", "year"])["geo"].nunique().rename("n").reset_index()
    counts = counts.merge(refs[["indicator", "year"]], on=["indicator", "year"])
    counts = counts[counts["n"] >= MIN_COMMON_SHARE * len(members)]
    common = counts.groupby("indicator")["year"].max().rename("common_year").reset_index()
    at = pool.merge(common, left_on=["indicator", "year"], right_on=["indicator", "common_year"])
    spread = at.groupby("indicator")["value"].std(ddof=0).rename("sd").reset_index()
    out = singles.merge(common, left_on=["indicator", "year"], right_on=["indicator", "common_year"])
    out = out.merge(spread, on="indicator").merge(refs[["indicator", "year", "eu27"]], on=["indicator", "year"])
    sign = out["indicator"].map(direction).fillna(0).astype(float)
    out["score"] = (sign * (out["value"] - out["eu27"]) / out["sd"]).where((sign != 0) & (out["sd"] > 0))
    return out[["indicator", "geo", "common_year", "score"]]


@cached
def comparable_indicators() -> set[str]:
    """Indicators whose levels compare across countries of any size: shares (unit '% of ...') and 0-100 scores."""
    cat = queries.catalogue()
    units = dict(zip(cat["id"], cat["unit"])) if "unit" in cat.columns else {}
    return {i for i, u in units.items() if isinstance(u, str) and (u.startswith("%") or "score" in u.lower()
                                                                    or u.upper().startswith("PC"))}


def _changes(rows: pd.DataFrame, singles: pd.DataFrame) -> pd.DataFrame:
    """The change of each row's value over CHANGE_YEARS years (NaN when the earlier value is missing)."""
    earlier = singles[["indicator", "geo", "year", "value"]].rename(columns={"value": "earlier"})
    earlier = earlier.assign(year=earlier["year"] + CHANGE_YEARS)
    out = rows.merge(earlier, on=["indicator", "geo", "year"], how="left")
    out["change_5y"] = out["value"] - out["earlier"]
    out["change_from"] = (out["year"] - CHANGE_YEARS).where(out["change_5y"].notna())
    return out.drop(columns=["earlier"])


def _bsr_table() -> pd.DataFrame:
    """The BSR average (indicator, year, bsr, bsr_flags) of every indicator: queries.all_bsr_averages, the one rule."""
    table = queries.all_bsr_averages().rename(columns={"value": "bsr", "flags": "bsr_flags", "weighted": "bsr_weighted"})
    return table[["indicator", "year", "bsr", "bsr_flags", "bsr_weighted"]]


@cached
def all_profiles() -> pd.DataFrame:
    """Every country's profile rows at once (computed once per database version; pages slice one country)."""
    values = annual_country_values()
    cat = queries.catalogue().set_index("id")
    values = values[values["indicator"].isin(cat.index)]
    singles = values[~values["geo"].isin(EU_REFERENCES)]
    rows = _latest_common(singles, _references(values))
    if rows.empty:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    rows["direction"] = rows["indicator"].map(directions()).fillna(0).astype(int)
    rows = _changes(_ranks(rows, singles, eu27_members()), singles)
    rows["gap_pct"] = [position_vs_eu(v, e, d) for v, e, d in zip(rows["value"], rows["eu27"], rows["direction"])]
    rows = rows.merge(_bsr_table(), on=["indicator", "year"], how="left")
    scores = standard_scores(singles, _references(values), eu27_members(), directions(), comparable_indicators())
    rows = rows.merge(scores, on=["indicator", "geo"], how="left")
    for column in ("title", "theme", "unit", "dataset"):
        rows[column] = rows["indicator"].map(cat[column])
    rows["title"] = rows["title"].fillna(rows["indicator"])
    # A composite (the DESI overall score) sums every theme; it is shown but does not count towards one theme.
    rows["composite"] = rows["indicator"].map(cat["aggregate"]).notna() if "aggregate" in cat.columns else False
    rows["theme"] = rows["theme"].fillna("other")
    rows["bsr_flags"] = rows["bsr_flags"].astype(object).where(rows["bsr_flags"].notna(), None)
    return rows[PROFILE_COLUMNS].sort_values(["geo", "theme", "indicator"]).reset_index(drop=True)


def country_profile(geo: str) -> pd.DataFrame:
    """Every indicator with data for `geo` against the EU reference and the BSR average, its rank and 5-year change."""
    rows = all_profiles()
    return rows[rows["geo"] == geo].reset_index(drop=True)


def theme_positions(profile: pd.DataFrame) -> pd.DataFrame:
    """Mean standardised score per theme (positive = better than the EU, in standard deviations across the EU27
    members at each indicator's latest common year), strongest first; undirected, composite and population
    indicators and those without a score left out. Columns: theme, mean_score, n_indicators, first_year, last_year."""
    # plain records: a profile is some 40 rows, where each pandas step (dropna, mask, groupby, sort) cost ~1-3 ms
    composite = profile["composite"].tolist() if "composite" in profile.columns else [False] * len(profile)
    scores: dict[str, list[tuple[float, int]]] = {}
    for theme, score, year, is_composite in zip(profile["theme"].tolist(), profile["score"].tolist(),
                                                profile["common_year"].tolist(), composite):
        if score is None or score != score or bool(is_composite) or theme in AREA_THEMES_EXCLUDED:  # NaN: no score
            continue
        scores.setdefault(theme, []).append((float(score), int(year)))
    columns = ["theme", "mean_score", "n_indicators", "first_year", "last_year"]
    if not scores:
        return pd.DataFrame(columns=columns)
    rows = sorted(((theme, sum(s for s, _ in items) / len(items), len(items), min(y for _, y in items),
                    max(y for _, y in items)) for theme, items in scores.items()), key=lambda row: (-row[1], row[0]))
    return pd.DataFrame(rows, columns=columns)


@cached
def profile_countries() -> list[str]:
    """Single countries a profile can be shown for (at least one indicator compared with the EU), by code."""
    return sorted(all_profiles()["geo"].unique())


# ---------------------------------------------------------------- DESI
# Two sources of DESI editions: the DESI 2022 calculation workbook (editions 2017-2022, four dimensions, its own
# weights, EU27 recomputed for every edition) and the DESI 2020 export (editions 2015-2020, five dimensions, EU28).
# Where an edition is in both, the workbook wins (desi_edition_sources lists it first); the export's stays reachable.

DESI_DATASET = "desi"
DESI_SCORE_SERIES = "desi_sliders"  # the export's series of the five dimension scores (0-100), breakdown = dimension
WORKBOOK, EXPORT = "workbook", "export"   # DESI sources, in order of preference
DESI_DATASETS = {WORKBOOK: "desi_2022", EXPORT: DESI_DATASET}
# Dimension code (the last part of the sources' codes: desi_1_conn, desi_conn -> conn) -> label, in the published order
DESI_DIMENSION_LABELS = {"conn": N_("Connectivity"), "hc": N_("Human capital"), "ui": N_("Use of internet"),
                         "idt": N_("Integration of digital technology"), "dps": N_("Digital public services")}

_CONTRIBUTIONS_SQL = """
SELECT geo, period, year, dims['breakdown'] AS dimension, value AS contribution, flags
FROM observations
WHERE dataset = ? AND indicator = ? AND value IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY geo, period, dims['breakdown']
                           ORDER BY source_updated DESC NULLS LAST, retrieved_at DESC NULLS LAST, source_file) = 1
ORDER BY geo, period, dimension
"""
# The workbook's dimension weights: sheet "Data 3", Variable 'DESI', BrkDwn = dimension, column Weight
_WORKBOOK_WEIGHTS_SQL = """
SELECT geo, year, dims['breakdown'] AS dimension, value AS weight
FROM observations
WHERE dataset = ? AND dims['indicator'] = 'DESI' AND dims['measure'] = 'weight' AND value IS NOT NULL
"""


def desi_dimension_code(code: str) -> str:
    """'desi_2_hc' (2020 export) and 'desi_hc' (2022 workbook) -> 'hc'."""
    return str(code).rsplit("_", 1)[-1]


def desi_dimension_label(code: str) -> str:
    """The translated label of a dimension code ('hc' -> 'Human capital')."""
    label = DESI_DIMENSION_LABELS.get(code)
    return _(label) if label else code


@cached
def desi_composite(source: str = EXPORT) -> str | None:
    """Catalogue id of a source's DESI composite (export: the indicator summing the weighted contributions)."""
    if source == WORKBOOK:
        df = query("SELECT id FROM catalogue WHERE dataset = ? AND json_extract_string(selection, '$.indicator') = "
                   "'desi_total' ORDER BY id", [DESI_DATASETS[WORKBOOK]])
    else:
        df = query("SELECT id FROM catalogue WHERE dataset = ? AND aggregate = 'sum' ORDER BY id", [DESI_DATASET])
    return df["id"].iloc[0] if not df.empty else None


@cached
def desi_dimensions(source: str | None = None) -> pd.DataFrame:
    """DESI dimensions: source, dimension code (conn, hc, ...), the source's breakdown code, catalogue id of the
    score, label; in the published order (one source's, or both sources')."""
    cat = queries.catalogue()
    order = list(DESI_DIMENSION_LABELS)
    rows = []
    for name in ([source] if source else [WORKBOOK, EXPORT]):
        for entry in cat[cat["dataset"] == DESI_DATASETS[name]].itertuples():
            selection = queries.selection_of(entry.id)
            series = selection.get("indicator")
            if selection.get("breakdown") and (series == DESI_SCORE_SERIES if name == EXPORT
                                               else series == "DESI" and selection.get("measure") == "score"):
                code = desi_dimension_code(selection["breakdown"])
                rows.append({"source": name, "dimension": code, "breakdown": selection["breakdown"],
                             "indicator": entry.id, "label": desi_dimension_label(code),
                             "position": order.index(code) if code in order else len(order)})
    df = pd.DataFrame(rows, columns=["source", "dimension", "breakdown", "indicator", "label", "position"])
    df["preference"] = df["source"].map({WORKBOOK: 0, EXPORT: 1})
    return df.sort_values(["preference", "position"]).drop(columns=["preference", "position"]).reset_index(drop=True)


def _export_scores(dims: pd.DataFrame) -> pd.DataFrame:
    """The 2020 export: contributions (series 'desi') and dimension scores; the weight is contribution / score."""
    composite = desi_composite(EXPORT)
    if dims.empty or composite is None:
        return pd.DataFrame()
    contributions = query(_CONTRIBUTIONS_SQL, [DESI_DATASET, composite])
    scores = query("SELECT indicator, geo, year, value AS score, flags AS score_flags FROM indicator_values "
                   "WHERE indicator = ANY(?) AND value IS NOT NULL", [dims["indicator"].tolist()])
    scores = scores.merge(dims, on="indicator")
    df = contributions.merge(scores[["geo", "year", "breakdown", "dimension", "label", "score", "score_flags"]],
                             left_on=["geo", "year", "dimension"], right_on=["geo", "year", "breakdown"],
                             how="left", suffixes=("_code", ""))
    df["dimension"] = df["dimension_code"].map(desi_dimension_code)
    df["label"] = df["dimension"].map(desi_dimension_label)
    # The export carries no weights; contribution / score gives the weight the Commission applied.
    df["weight"] = (df["contribution"] / df["score"]).where(df["score"] > 0)
    return df.assign(source=EXPORT)


def _workbook_scores(dims: pd.DataFrame) -> pd.DataFrame:
    """The 2022 workbook: dimension scores and the published weights; the contribution is score × weight."""
    if dims.empty:
        return pd.DataFrame()
    scores = query("SELECT indicator, geo, year, value AS score, flags AS score_flags FROM indicator_values "
                   "WHERE indicator = ANY(?) AND value IS NOT NULL", [dims["indicator"].tolist()])
    weights = query(_WORKBOOK_WEIGHTS_SQL, [DESI_DATASETS[WORKBOOK]])
    weights["dimension"] = weights["dimension"].map(desi_dimension_code)
    df = scores.merge(dims[["indicator", "dimension", "label"]], on="indicator").merge(
        weights, on=["geo", "year", "dimension"], how="left")
    df["contribution"] = df["score"] * df["weight"]
    return df.assign(flags=df["score_flags"], source=WORKBOOK)


@cached
def desi_scores() -> pd.DataFrame:
    """Per source, geo and DESI edition: each dimension's score (0-100), weight and weighted contribution."""
    columns = ["source", "geo", "year", "dimension", "label", "score", "score_flags", "contribution", "flags",
               "weight"]
    parts = [part for part in (_workbook_scores(desi_dimensions(WORKBOOK)), _export_scores(desi_dimensions(EXPORT)))
             if not part.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    df = pd.concat([part[columns] for part in parts], ignore_index=True)
    df["year"] = df["year"].astype(int)
    for column in ("flags", "score_flags"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df.sort_values(["source", "geo", "year", "dimension"]).reset_index(drop=True)


@cached
def desi_totals() -> pd.DataFrame:
    """The DESI composite per source, geo and edition as the source publishes it (source, geo, year, value, flags)."""
    frames = []
    for source in (WORKBOOK, EXPORT):
        composite = desi_composite(source)
        if composite is not None:
            frames.append(query("SELECT ? AS source, geo, year, value, flags FROM indicator_values "
                                "WHERE indicator = ? AND value IS NOT NULL ORDER BY geo, year", [source, composite]))
    if not frames:
        return pd.DataFrame(columns=["source", "geo", "year", "value", "flags"])
    df = pd.concat(frames, ignore_index=True)
    df["year"] = df["year"].astype(int)
    df["flags"] = df["flags"].astype(object).where(df["flags"].notna(), None)
    return df


@cached
def desi_edition_sources() -> dict[int, tuple[str, ...]]:
    """Each DESI edition in the database and its sources, the preferred (the workbook) first; ascending editions."""
    scores = desi_scores()
    found: dict[int, set[str]] = {}
    for source, year in zip(scores["source"], scores["year"]):
        found.setdefault(int(year), set()).add(source)
    return {year: tuple(s for s in (WORKBOOK, EXPORT) if s in found[year]) for year in sorted(found)}


@cached
def desi_editions() -> list[int]:
    """DESI editions (years) in the database, ascending."""
    return list(desi_edition_sources())


@cached
def desi_geos() -> frozenset[str]:
    """Every geo with DESI scores (countries and the EU aggregates)."""
    return frozenset(desi_scores()["geo"])


@cached
def desi_reference(year: int, source: str = WORKBOOK) -> str | None:
    """The EU aggregate a source publishes for an edition: EU27_2020 (the workbook, every edition), else EU28
    (the 2020 export)."""
    scores = desi_scores()
    present = set(scores.loc[(scores["year"] == year) & (scores["source"] == source), "geo"])
    return next((code for code in EU_REFERENCES if code in present), None)


# ---------------------------------------------------------------- data and sources

EXPORT_TABLES = {
    # file in the zip -> the SELECT that fills it (whole tables: no user input reaches these statements)
    "observations.csv": "SELECT dataset, indicator, geo, period, year, unit, to_json(dims) AS dims, value, flags, "
                        "source_updated, retrieved_at, source_file FROM observations "
                        "ORDER BY dataset, source_file, geo, period",
    "indicator_values.csv": "SELECT indicator, geo, period, year, value, flags, unit, dataset, source_updated, "
                            "retrieved_at, source_file FROM indicator_values ORDER BY indicator, geo, period",
    "catalogue.csv": "SELECT * FROM catalogue ORDER BY id",
    "provenance.csv": "SELECT * FROM provenance ORDER BY dataset, file",
    "geo.csv": "SELECT * FROM geo ORDER BY code",
}
EXPORT_README = """Baltic DSM Dashboard: every observation in the database, with Eurostat flags and provenance.

observations.csv      every published cell loaded (value empty = not available; flags exactly as published;
                      dims = the series' other dimension codes as JSON; source_file/source_updated/retrieved_at)
indicator_values.csv  the catalogued series the dashboard shows (one row per indicator, geo, period)
catalogue.csv         the indicators: dataset, unit, theme, 2030 target, direction, live-only
provenance.csv        one row per raw file: URL, sha256, bytes, source update, retrieval time, rows
geo.csv               geo codes and names, EU27/BSR membership
flags.csv             what each Eurostat flag letter means
Sources: Eurostat and the European Commission (DESI); reuse authorised with acknowledgement
(Commission Decision 2011/833/EU).
"""


@cached
def all_provenance() -> pd.DataFrame:
    """Every raw file the database was built from, with a short sha256 for display."""
    df = query("SELECT * FROM provenance ORDER BY dataset, file")
    df["sha256_short"] = df["sha256"].astype(str).str.slice(0, 12)
    return df


@cached
def dataset_updates() -> dict[str, str]:
    """Dataset -> date of its newest source update among the raw files (datasets whose files state none left out)."""
    prov = all_provenance().dropna(subset=["source_updated"])
    return {d: str(u)[:10] for d, u in prov.groupby("dataset")["source_updated"].max().items()}


@cached
def export_zip() -> bytes:
    """A zip of CSVs: all observations with flags and provenance, the catalogued values, catalogue, provenance."""
    con, _ = connection()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, sql in EXPORT_TABLES.items():
            table = con.sql(sql).to_arrow_table()
            csv_bytes = io.BytesIO()
            pa_csv.write_csv(table, csv_bytes)
            archive.writestr(name, csv_bytes.getvalue())
        archive.writestr("flags.csv", queries.flags_legend().to_csv(index=False))
        archive.writestr("README.txt", EXPORT_README)
    return buffer.getvalue()
