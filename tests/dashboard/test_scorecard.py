"""Overview scorecard: the Digital Decade KPIs with their 2030 targets and the distance to them, the DESI rows against
the edition's EU28, better/worse in symbols and words (never colour alone), the 'about the same' band in pp from
dashboard.insights, and every cell's link. Chart data, figure and page called as plain functions against the real
ETL build of ../shared/data; targets and EU28 values read independently from the recorded files."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
from dash import dcc, html

# the fixtures (app, env: the dashboard on the real build) and helpers of the page tests
from tests.dashboard.test_pages_more import env, text_of, walk  # noqa: F401

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def scorecard(env):
    from dashboard.data import charts
    from dashboard.pages import overview

    return charts.scorecard_data(overview.PAGE.state({}))


@pytest.fixture(scope="module")
def recorded_targets() -> dict[str, float]:
    """Scoreboard indicator code -> the EU's 2030 target, from the recorded facts file (rows dd_target_2030)."""
    facts = json.loads((SHARED / "scoreboard" / "digital_decade_2026_facts.json").read_text())
    return {f["fields"]["indicator"][0]: f["fields"]["value"] for f in facts
            if f["fields"]["breakdown"] == ["dd_target_2030"]}


def test_digital_decade_kpis_join_the_scorecard_with_the_recorded_targets(scorecard, recorded_targets):
    """Every Digital Decade KPI with a per-country target (shares and scores) is a row, its target the facts' own;
    counts (unicorns) and EU-only series (ICT specialists, millions) are not rows; distance = target - value."""
    from dashboard.data import queries

    df, _meta = scorecard
    kpis = df[df["group"] == "digital_decade"].drop_duplicates("indicator")
    assert len(kpis) == 11
    assert {"dd_unicorns", "dd_ict_specialists"}.isdisjoint(set(df["indicator"]))
    for row in kpis.itertuples():
        code = queries.selection_of(row.indicator)["indicator"]
        assert row.target_2030 == pytest.approx(recorded_targets[code]), row.indicator
    cells = df[df["distance_to_target"].notna()]
    assert (cells["distance_to_target"] == cells["target_2030"] - cells["value"]).all()
    estonia = df[(df["indicator"] == "dd_basic_digital_skills") & (df["geo"] == "EE")].iloc[0]
    assert estonia["target_2030"] == 80.0 and estonia["distance_to_target"] == pytest.approx(80 - estonia["value"])


def test_desi_rows_use_the_editions_eu28(scorecard):
    """The DESI 2020 rows compare with the EU28 the export publishes (read from the file), shown in the EU column
    as '52.6 EU28' instead of ':'; their countries are compared with it."""
    from dashboard.figures import scorecard as figures

    with open(SHARED / "desi" / "desi_2020_export.csv", newline="", encoding="utf-8") as handle:
        # the export's composite: the EU's five weighted dimension contributions (indicator 'desi') in 2020
        eu28 = sum(float(row["value"]) for row in csv.DictReader(handle)
                   if row["ref_area"] == "EU" and row["time_period"] == "2020" and row["indicator"] == "desi")
    df, _meta = scorecard
    desi = df[df["indicator"] == "desi_overall"]
    column = desi[desi["geo"] == "EU27_2020"].iloc[0]
    assert column["reference"] == "EU28" and column["value"] == pytest.approx(eu28, abs=1e-3)
    assert column["eu27"] == column["value"]  # the reference every DESI row is compared with
    assert round(column["value"], 1) == 52.6
    assert figures.cell_text(column) == "52.6 EU28 ↗"
    assert set(desi.loc[desi["geo"].isin(["EE", "PL"]), "position"]) <= {"better", "worse", "same"}


def test_better_and_worse_are_in_symbols_and_words_and_the_band_is_in_pp(scorecard):
    """Every compared cell carries ▲ ▼ ≈ in the heatmap and words in the table; 'about the same' is the noise
    threshold of dashboard.meta in pp: Estonia's 5G 2023 (87.5 against 89.3, -1.8 pp) is about the same
    (it was 'worse' under the old 2 % rule)."""
    from dashboard.meta import NOISE_PP
    from dashboard.figures import scorecard as figures

    df, meta = scorecard
    assert "within 2.0 pp" in meta.notes[0] and NOISE_PP == 2.0
    symbol = {"better": "▲", "worse": "▼", "same": "≈"}
    for row in df[df["position"].isin(list(symbol)) & (df["geo"] != "EU27_2020")].to_dict("records"):
        assert symbol[row["position"]] in figures.cell_text(row), row
        assert figures.position_text(row)
    five_g = df[(df["indicator"] == "coverage_5g") & (df["geo"] == "EE")].iloc[0]
    assert five_g["diff_vs_eu27"] == pytest.approx(-1.8) and five_g["position"] == "same"
    assert "about the same as the EU27 (within 2.0 pp)" in figures.position_text(five_g)
    figure = figures.figure(df, meta)
    assert "within 2.0 pp" in figure.layout.title.subtitle.text and list(figure.data[0].x)[-1] == "2030 target"


def test_the_table_view_says_position_and_distance_in_text_and_links_every_cell(env):
    """Table view: each cell is a link to Compare for that indicator and country, with its position and its
    distance to the 2030 target in words; the legend is on the page."""
    from dashboard.data import charts
    from dashboard.pages import overview

    tree = overview.layout(view="table", geo="EE,LV")
    table = next(c for c in walk(tree) if getattr(c, "id", None) == "scorecard-table")
    links = [c for c in walk(table) if isinstance(c, dcc.Link)]
    rows = charts.scorecard_indicators()
    assert len(links) == len(rows) * (2 + 2 + 1)  # EE, LV, EU, BSR average + the row title
    cell_links = [link for link in links if "year=" in link.href and "geo=" in link.href]
    assert any(dict(parse_qsl(urlparse(link.href).query)).get("geo") == "LV" for link in cell_links)
    words = text_of(table)
    assert "to the target" in words and ("better than the EU27" in words or "worse than the EU27" in words)
    assert "EU28" in words  # the DESI rows' reference
    legend = next(c for c in walk(tree) if getattr(c, "id", None) == "scorecard-legend")
    assert "2.0 pp" in legend.children
    assert any(isinstance(c, html.Table) for c in walk(tree))


def test_the_heatmap_offers_the_table_of_links_to_the_keyboard(env):
    """Chart view: a link under the heatmap opens the table view (its cells are keyboard-reachable links)."""
    from dashboard.pages import overview

    tree = overview.layout()
    link = next(c for c in walk(tree) if getattr(c, "id", None) == "scorecard-table-link")
    assert isinstance(link, dcc.Link) and "view=table" in link.href


@pytest.mark.parametrize("size", ["column", "slide169"])
def test_exported_scorecard_keeps_names_title_and_footer_apart(scorecard, size):
    """At export size the column names (tilted) get their own band between the subtitle and the plot, the row names
    fit left of it, the footer starts at the image's left edge wrapped to its width, the cell text as large as the
    cells allow."""
    from dashboard import export
    from dashboard.figures import scorecard as figures

    df, meta = scorecard
    out = export.static_figure(figures.figure(df, meta), df, size=size)
    width, _height = export.SIZES[size]
    base = out.layout.font.size
    longest_column = max(len(x) for x in out.data[0].x)
    band = longest_column * 0.6 * base * 0.7          # names written at -45°
    title_and_subtitle = out.layout.title.font.size * 1.7 + out.layout.title.subtitle.font.size * 1.7
    assert out.layout.xaxis.tickangle == -45 and out.layout.margin.t >= title_and_subtitle + band
    assert out.layout.margin.l >= max(len(y) for y in out.data[0].y) * 0.55 * base
    footer = [a for a in out.layout.annotations if a.name == export.FOOTER_NAME]
    assert footer and all(a.xshift == 8 - out.layout.margin.l for a in footer)
    assert all(len(a.text) * 0.55 * a.font.size <= width for a in footer)
    cell = (width - out.layout.margin.l - out.layout.margin.r) / len(out.data[0].x)
    lines = [line for row in out.data[0].text for text in row for line in str(text or "").split("<br>")]
    size = out.data[0].textfont.size
    assert size >= 8 and (size == 8 or size * max(map(len, lines)) * 0.6 <= cell)      # as large as the cells allow


def test_scorecard_images_default_to_slide_size(env):
    """The scorecard's PNG/SVG downloads are slide-sized unless a size is asked; other charts stay column-sized."""
    from dashboard import export

    assert export.parse_export_request("scorecard.png", {}).size == "slide169"
    assert export.parse_export_request("scorecard.svg", {"size": "column"}).size == "column"
    assert export.parse_export_request("trends.png", {}).size == export.DEFAULT_SIZE == "column"
