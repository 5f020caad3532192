"""Data & sources page: the indicator catalogue, provenance per dataset, the flag legend and a download of everything."""
from __future__ import annotations

import math

from dash import Input, Output, callback, dcc, html

from dashboard import components, i18n, insights, registry
from dashboard.data import freshness, profile, queries
from dashboard.data.connection import cached
from dashboard.i18n import N_, _
from dashboard.meta import NOISE_PP
from dashboard.state import InvalidState

PATH = "/sources"
DOWNLOAD_NAME = "baltic-dsm-data.zip"
ALL_THEMES = "all"


def resolve(state, query: dict):
    """Check the theme filter against the catalogue's themes ('all' or blank shows every indicator)."""
    theme = state.get("theme") or ALL_THEMES
    themes = sorted(queries.catalogue()["theme"].dropna().unique())
    if theme != ALL_THEMES and theme not in themes:
        raise InvalidState(_("Unknown theme “{theme}”: choose one of {themes}.", theme=theme, themes=", ".join(themes)))
    return state.with_(extra_theme=None if theme == ALL_THEMES else theme)


PAGE = registry.register_page(__name__, registry.Page(PATH, N_("Data & sources"), order=8, needs_indicator=False,
                                               needs_year=False, resolve=resolve))


def build(state):
    """Catalogue, provenance, flag legend and the download button for a valid state (URL: theme filter for the
    catalogue)."""
    theme = state.get("theme") or ALL_THEMES
    themes = sorted(queries.catalogue()["theme"].dropna().unique())
    options = [(ALL_THEMES, _("All themes"))] + [(t, i18n.theme_label(t)) for t in themes]
    controls = [components.dropdown("theme", options, theme, label=_("Theme"))]
    body = [
        html.Section(id="catalogue-section", children=[html.H2(_("Indicators")), catalogue_table(theme)]),
        html.Section(id="provenance-section", children=[html.H2(_("Provenance per dataset")), provenance_table(),
                                                        _refresh_note()]),
        html.Section(id="changes-section", children=[
            html.H2(_("What changed in the last refresh")), changes_summary(), freshness_table(),
            html.Button(_("Download the changes (CSV)"), id="download-changes-button", n_clicks=0,
                        className="download-button"),
            dcc.Download(id="download-changes"),
        ]),
        html.Section(id="flags-section", children=[html.H2(_("Eurostat flags")), flags_table()]),
        methods_note(),
        html.Section(id="download-section", children=[
            html.H2(_("Download everything")),
            html.P(_("A zip of CSV files: every observation with its flags as published and its provenance "
                     "(source file, source update, retrieval time), the catalogued values, the catalogue, the "
                     "provenance of each raw file and the flag legend.")),
            html.Button(_("Download all data (zip of CSV)"), id="download-all-button", n_clicks=0,
                        className="download-button"),
            dcc.Download(id="download-all"),
        ]),
    ]
    intro = _("Where every number comes from: the Eurostat datasets and the DESI export behind each indicator, when "
              "each file was published and retrieved, and what the flag letters mean.")
    return components.page(_("Data and sources"), intro=intro, controls=controls, body=body, panel=False,
                           state_data={"page": PATH, "theme": theme})


METHOD_RULES = (
    # (heading, paragraph): every statistical rule the dashboard's sentences, averages and profiles follow
    (N_("Ranking"),
     N_("Countries are ranked by competition ranking: tied values share the better rank (1, 1, 3), and a sentence "
        "names every country tied first or last (\u201cjointly lead\u201d, \u201cjointly last\u201d). Every page, brief and "
        "export uses this one rule.")),
    (N_("Paces and windows"),
     N_("A pace is the least-squares linear trend over the last {window} years up to the latest year, stated with "
        "its window and its number of points (\u201clinear trend 2019\u20132024, 6 points\u201d). It needs at least "
        "{min_points} points: two points are a difference, not a trend. Progress towards a 2030 target compares the "
        "yearly change required to reach it with the change observed, as the Digital Decade reports do; no year "
        "beyond {last_year} is printed (\u201cnot on track by 2030\u201d instead).")),
    (N_("Breaks in series"),
     N_("A value flagged b (break in series) is not comparable with the years before it: a pace uses only the "
        "years from the latest break on, and without {min_points} such years there is no pace, which the sentence "
        "says.")),
    (N_("Noise thresholds"),
     N_("The survey estimates carry roughly \u00b11\u20132 percentage points of sampling error. A difference, the "
        "change of a trend over its window or a change of spread is called one only beyond {noise} percentage "
        "points (shares and 0\u2013100 scores); below it the sentence says \u201cabout the same\u201d.")),
    (N_("Averages and weights"),
     N_("The BSR average is the mean of the BSR countries reporting, only in years when at least {least} of {peers} "
        "report. It is weighted by the population the indicator refers to (persons from demo_pjan, households from "
        "lfst_hhnhtych, enterprises or SMEs from sbs_sc_ovw) when every reporting country has that count for the "
        "year or up to {carry} years before. Otherwise it is the average of countries (unweighted), labelled so, "
        "and it is not coloured or compared against the EU aggregate, which is weighted by population. Hovers say "
        "how many countries report each year.")),
    (N_("Coefficient of variation"),
     N_("Convergence is judged on the population standard deviation of the same BSR countries at both ends of the "
        "window, with the coefficient of variation (standard deviation over the mean) beside it: a spread that "
        "stays put while levels rise is convergence relative to the level.")),
    (N_("DESI editions and data years"),
     N_("A DESI edition is a publication year, not a data year: an edition mostly reports data of the year or two "
        "before, and an indicator can repeat the same values over two editions (SMEs selling online cross-border "
        "does). DESI values are compared with the edition's own EU aggregate: the EU28 up to the 2020 edition, the "
        "EU27 from 2022.")),
    (N_("Newest data wins"),
     N_("Where the Digital Decade facts (DESI 2026) hold later years of a measure than the Eurostat series, such "
        "as basic digital skills and 5G coverage in 2025, the insights and paces continue the series with those "
        "years and name their source. Where the newer source follows another method, the join counts as a break "
        "in series.")),
    (N_("Country profiles"),
     N_("Areas are ranked by a standardised score: each indicator's distance from the EU reference in standard "
        "deviations across the EU27 countries, at the indicator's latest common year (the latest in which at least "
        "half of them report), averaged over the area. Composition shares, such as the age, sex or education mix "
        "of ICT specialists, and counts have no better or worse direction and are left out. The weakest areas are "
        "those furthest below the EU; when none is below it, the profile says so.")),
)


def methods_note() -> html.Section:
    """The methods note: every rule behind the computed sentences, averages and profiles, in plain words."""
    peers = len(queries.peer_group())
    values = dict(window=insights.PACE_WINDOW_YEARS, min_points=insights.MIN_PACE_POINTS,
                  last_year=insights.LAST_PRINTED_YEAR, noise=i18n.format_number(NOISE_PP, 1),
                  peers=peers, least=math.ceil(queries.MIN_AVERAGE_SHARE * peers),
                  carry=queries.POPULATION_CARRY_YEARS)
    items = [html.Div([html.H3(_(heading)), html.P(_(text, **values))], className="method-rule")
             for heading, text in METHOD_RULES]
    return html.Section(id="methods-section", children=[html.H2(_("Methods")), *items])


def catalogue_frame(theme: str = ALL_THEMES):
    """The catalogue rows shown on the page (one theme or all), in display columns."""
    cat = queries.catalogue()
    if theme != ALL_THEMES:
        cat = cat[cat["theme"] == theme]
    for column in ("population", "directed"):
        if column not in cat.columns:
            cat = cat.assign(**{column: None})
    table = cat[["id", "title", "dataset", "unit", "theme", "higher_is_better", "target_2030", "target_label",
                 "headline", "live_only", "has_data", "population"]].copy()
    table["theme"] = table["theme"].map(i18n.theme_label)
    table["population"] = table["population"].map(dict(zip(cat["id"], cat["title"])))
    table["higher_is_better"] = table["higher_is_better"].map({True: _("higher"), False: _("lower")})
    table.loc[cat["directed"].fillna(True).astype(bool).to_numpy() == False, "higher_is_better"] = \
        _("no direction")  # noqa: E712  (composition shares, counts)
    for column in ("headline", "live_only", "has_data"):
        table[column] = table[column].map({True: _("yes"), False: _("no")})
    return table


@cached  # one build per database version: Dash only serialises a component tree, never changes it
def catalogue_table(theme: str) -> html.Table:
    """The catalogue as an HTML table."""
    return components.data_table(catalogue_frame(theme), table_id="catalogue-table")


def provenance_frame():
    """Provenance in display columns: dataset, file, source update, retrieval, rows, sha256 (short), format."""
    prov = profile.all_provenance()
    table = prov[["dataset", "file", "source_updated", "retrieved_at", "rows", "sha256_short", "format", "bytes"]].copy()
    table["retrieved_at"] = table["retrieved_at"].astype(str).str.slice(0, 19)
    table["source_updated"] = table["source_updated"].where(table["source_updated"].notna(), None)
    return table


@cached  # one build per database version: Dash only serialises a component tree, never changes it
def provenance_table() -> html.Table:
    """Provenance as an HTML table (':' where the source states no update time)."""
    return components.data_table(provenance_frame(), table_id="provenance-table")


@cached  # one build per database version: Dash only serialises a component tree, never changes it
def flags_table() -> html.Table:
    """Every flag letter (etl.model.FLAG_MEANINGS) and its meaning."""
    legend = queries.flags_legend()
    return components.data_table(legend.assign(meaning=legend["flag"].map(i18n.flag_meaning)), table_id="flags-table")


def _refresh_note() -> html.P:
    """When the database was last refreshed and how that went."""
    run = queries.last_refresh()
    if not run:
        return html.P(_("No refresh run is recorded."), className="refresh-note")
    return html.P(_("Last refresh {time} UTC: {status} — {detail}",
                    time=str(run.get("finished_at") or run.get("started_at"))[:19], status=run.get("status"),
                    detail=run.get("message") or ""), className="refresh-note", id="refresh-note")


def changes_summary():
    """Cells added, removed and revised per dataset and indicator by the refresh that built the database."""
    changes = freshness.last_changes()
    if changes.empty:
        return html.P(_("The last refresh added, removed or revised no published value (or it was the first "
                        "build)."), id="changes-note")
    counts = freshness.change_counts(changes)
    totals = counts[["added", "removed", "revised"]].sum()
    return html.Div([
        html.P(_("Values against the data it replaced: added {added}, removed {removed}, revised {revised}.",
                 added=totals["added"], removed=totals["removed"], revised=totals["revised"]), id="changes-note"),
        components.data_table(counts, table_id="changes-table"),
    ])


def freshness_table():
    """Per dataset: when the source was last checked and last refreshed, flagged when stale or failed."""
    table = freshness.freshness(sorted(queries.catalogue()["dataset"].dropna().unique()))
    table["warning"] = table["warning"].fillna("")
    return components.data_table(table, table_id="freshness-table")


@callback(Output("download-changes", "data"), Input("download-changes-button", "n_clicks"), prevent_initial_call=True)
def download_changes(n_clicks):
    """Send the last refresh's changes as CSV (one row per cell, old and new value and flags)."""
    return dcc.send_data_frame(freshness.last_changes().to_csv, "baltic-dsm-changes.csv", index=False)


@callback(Output("download-all", "data"), Input("download-all-button", "n_clicks"), prevent_initial_call=True)
def download_all(n_clicks):
    """Send the zip of every observation with flags and provenance."""
    return dcc.send_bytes(profile.export_zip(), DOWNLOAD_NAME, type="application/zip")


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
