"""Column headings: the one place a column of a page table or a download is named, in words that translate.

A download (CSV, XLSX, the data of a slide) heads its columns by `HEADINGS` outside English (English keeps the
column names scripts rely on; in every language the cells are the same codes and machine-readable numbers). A page
table heads them in every language by `SHORT` where a page needs fewer words than a spreadsheet, else by `HEADINGS`.
A column in neither keeps its name. Pages pass their frames with these column names, so flag columns are found by
name ('...flags') and a heading is never translated before a table is built.
"""
from __future__ import annotations

from dashboard.i18n import N_, _

HEADINGS = {
    "indicator": N_("indicator code"), "title": N_("indicator"), "geo": N_("country code"),
    "geo_name": N_("country"), "period": N_("period"), "year": N_("year"), "value": N_("value"),
    "value_text": N_("value as written locally"), "unit": N_("unit code"), "unit_label": N_("unit"),
    "reporting": N_("countries reporting"), "group": N_("indicator group"),
    "noise": N_("about-the-same band (percentage points)"), "href": N_("link to the chart"), "flags": N_("flags"),
    "flag_meaning": N_("meaning of the flags"), "dataset": N_("dataset"),
    "source_updated": N_("updated at the source"), "retrieved_at": N_("retrieved"),
    "method": N_("how the BSR average is computed"), "rank": N_("rank"), "is_bsr": N_("Baltic Sea Region country"),
    "is_selected": N_("highlighted"), "is_reference": N_("reference (not in the fit)"),
    "iso3": N_("ISO 3166 alpha-3 code"), "eu27": N_("EU27 value"), "eu27_flags": N_("EU27 flags"),
    "eu27_flag_meaning": N_("meaning of the EU27 flags"), "diff_vs_eu27": N_("difference from the EU27"),
    "position": N_("position against the EU27"), "change_5y": N_("change over five years"),
    "base_year": N_("base year of the change"), "target_2030": N_("2030 target"),
    "distance_to_target": N_("distance to the 2030 target"), "higher_is_better": N_("higher is better"),
    "spark": N_("values of the last six years"), "theme": N_("theme"), "direction": N_("direction"),
    "reference": N_("reference"), "bsr": N_("BSR average"), "bsr_flags": N_("BSR average flags"),
    "bsr_flag_meaning": N_("meaning of the BSR average flags"), "ranked": N_("countries ranked"),
    "rank_among": N_("ranked among"), "change_from": N_("change from year"), "gap_pct": N_("gap to the EU27 (%)"),
    "composite": N_("composite index"), "dimension": N_("dimension code"), "label": N_("dimension"),
    "score": N_("score"), "score_flags": N_("score flags"), "score_flag_meaning": N_("meaning of the score flags"),
    "contribution": N_("weighted contribution"), "weight": N_("weight"),
    "x_indicator": N_("x-axis indicator code"), "x": N_("x-axis value"), "x_unit": N_("x-axis unit code"),
    "x_flags": N_("x-axis flags"), "x_flag_meaning": N_("meaning of the x-axis flags"),
    "x_period": N_("x-axis period"), "x_dataset": N_("x-axis dataset"),
    "x_source_updated": N_("x-axis updated at the source"), "x_retrieved_at": N_("x-axis retrieved"),
    "y_indicator": N_("y-axis indicator code"), "y": N_("y-axis value"), "y_unit": N_("y-axis unit code"),
    "y_flags": N_("y-axis flags"), "y_flag_meaning": N_("meaning of the y-axis flags"),
    "y_period": N_("y-axis period"), "y_dataset": N_("y-axis dataset"),
    "y_source_updated": N_("y-axis updated at the source"), "y_retrieved_at": N_("y-axis retrieved"),
    "common_year": N_("year compared across countries"), "bsr_weighted": N_("BSR average weighted by population"),
    "source": N_("DESI source file"), "series": N_("series"), "measure": N_("measure"),
    "gap": N_("gap between national and cross-border (points)"), "eu_value": N_("EU value"),
    "eu_year": N_("EU year"), "eu_flags": N_("EU flags"), "eu_flag_meaning": N_("meaning of the EU flags"),
    "distance": N_("distance to the 2030 target"),
    "required_per_year": N_("change needed per year to reach the target"),
    "observed_per_year": N_("observed change per year"), "observed_window": N_("years of the observed change"),
    "observed_points": N_("points in the observed change"), "verdict": N_("verdict code"),
    "verdict_text": N_("verdict"), "drawn": N_("shown per country"),
    "definition": N_("definition (Digital Scoreboard, in English)"),
    "sources": N_("indicator codes behind the KPI"), "country": N_("country"), "kpi": N_("KPI"),
    "overall_score": N_("overall score"), "weight_pct": N_("weight %"),
    "contribution_flags": N_("contribution flags"), "edition": N_("DESI edition"), "id": N_("id"),
    "target_label": N_("target"), "headline": N_("headline"), "live_only": N_("live only"),
    "has_data": N_("data loaded"), "population": N_("BSR average weighted by"), "file": N_("file"),
    "rows": N_("rows"), "sha256_short": N_("sha256 (first 12)"), "format": N_("format"), "bytes": N_("bytes"),
    "added": N_("added"), "removed": N_("removed"), "revised": N_("revised"),
    "last_checked": N_("last checked (UTC)"), "last_refreshed": N_("last refreshed (UTC)"),
    "warning": N_("warning"), "flag": N_("flag"), "meaning": N_("meaning"),
}

# page tables: shorter headings than the downloads' for the same columns
SHORT = {
    "geo": N_("geo"), "x_flags": N_("x flags"), "y_flags": N_("y flags"), "is_bsr": N_("BSR"),
    "indicator": N_("indicator"), "ranked": N_("of"), "eu_value": N_("EU27"), "distance": N_("distance"),
    "required_per_year": N_("needed a year"), "observed_per_year": N_("observed a year"),
    "observed_window": N_("observed over"), "gap": N_("gap (points)"), "dimension": N_("dimension"),
    "gap_pct": N_("ahead of the EU27 (%, + better)"), "title": N_("title"), "higher_is_better": N_("better when"),
    "retrieved_at": N_("retrieved (UTC)"),
}


def download_heading(column: str) -> str:
    """A download's heading for a column in the current language (its name when it has none)."""
    return _(HEADINGS[column]) if column in HEADINGS else column


def table_heading(column) -> str:
    """A page table's heading for a column in the current language (its name when it has none)."""
    message = SHORT.get(column) or HEADINGS.get(column)
    return _(message) if message else str(column)
