"""DESI page: DESI 2022 (the Commission's workbook) by default, editions from two sources, the visitor's dimension
weights (w_<dimension>) recomputing composite and ranking, the edition's own EU aggregate. Layouts and chart data
are called as plain functions against the real ETL build of ../shared/data; expected values are read independently
from the recorded workbook (openpyxl) and the database (SQL)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dash import dcc

# the fixtures (app, env: the dashboard on the real build, db: a direct connection) and helpers of the page tests
from tests.dashboard.test_pages_more import assert_friendly, db, env, graphs, plain, text_of, walk  # noqa: F401

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
WORKBOOK = SHARED / "desi" / "desi_2022_workbook.xlsx"
BSR_EU = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE"]


@pytest.fixture(scope="module")
def workbook_scores() -> pd.DataFrame:
    """Sheet 'Data 3' of the recorded workbook read with openpyxl: Year, Country, Variable, BrkDwn, Raw value."""
    import openpyxl

    book = openpyxl.load_workbook(WORKBOOK, read_only=True, data_only=True)
    rows = book["Data 3"].iter_rows(values_only=True)
    for row in rows:
        if row and row[0] == "Year + Country":
            header = list(row)
            break
    records = [dict(zip(header, row)) for row in rows if row and row[0]]
    book.close()
    df = pd.DataFrame(records)
    return df[["Year", "Country", "Variable", "BrkDwn", "Raw value", "Weight"]]


def stack_of(layout) -> dict:
    return next(g for g in graphs(layout) if g.id == "desi_stack-graph").figure


def totals_of(figure) -> dict[str, str]:
    """x label -> the text above the stack ('52.9 · #13')."""
    text = next(t for t in figure["data"] if t["type"] == "scatter")
    return dict(zip(plain(text["x"]), plain(text["text"])))


def control(layout, key):
    return next(c for c in walk(layout) if isinstance(getattr(c, "id", None), dict) and c.id.get("key") == key)


# ---------------------------------------------------------------- editions and sources

def test_default_edition_is_desi_2022_and_reproduces_the_workbook(env, workbook_scores):
    """The page opens on DESI 2022 from the workbook; its composite equals the workbook's: DE 52.9, EU 52.3."""
    from dashboard.data import charts
    from dashboard.pages import desi

    layout = desi.layout(geo=",".join(BSR_EU))
    assert control(layout, "edition").value == "2022"
    figure = stack_of(layout)
    assert figure["layout"]["title"]["text"].startswith("DESI 2022 (2022 workbook)")
    totals = totals_of(figure)
    assert totals["Germany"].startswith("52.9") and totals["EU27"].startswith("52.3")
    _frame, meta = charts.stack_data(desi.PAGE.state({"geo": ",".join(BSR_EU)}))
    published = workbook_scores[(workbook_scores["Variable"] == "desi_total") & (workbook_scores["Year"] == 2022)]
    published = dict(zip(published["Country"].replace({"EU": "EU27_2020"}), published["Raw value"]))
    for geo in [*BSR_EU, "EU27_2020"]:
        assert meta.totals[geo][0] == pytest.approx(published[geo], abs=1e-9), geo
    assert round(meta.totals["DE"][0], 1) == 52.9 and round(meta.totals["EU27_2020"][0], 1) == 52.3
    # the four official weights are the workbook's (25 % each) and are said so
    assert "Official weights of DESI 2022" in text_of(layout) and "25.0%" in text_of(layout)


def test_edition_selector_names_each_source_and_the_workbook_wins(env):
    """Editions 2017-2022 from the workbook, 2015-2020 from the 2020 export; where both hold an edition the
    workbook's comes first and says so, and the export's stays reachable as '<year>-export'."""
    from dashboard.pages import desi

    options = {o["value"]: o["label"] for o in control(desi.layout(), "edition").options}
    assert options["2022"] == "DESI 2022 (2022 workbook)"
    assert options["2016"] == "DESI 2016 (2020 export)"
    assert "preferred over the 2020 export" in options["2019"]
    assert options["2019-export"].startswith("DESI 2019 (2020 export")
    assert set(options) == {str(y) for y in range(2015, 2023)} | {f"{y}-export" for y in range(2017, 2021)}
    values = list(options)
    assert values.index("2019") < values.index("2019-export")


@pytest.mark.parametrize("edition, reference, label, count", [
    ("2022", "EU27_2020", "EU27 (2020 composition)", 27),
    ("2020", "EU27_2020", "EU27 (2020 composition)", 27),   # the workbook recomputes its editions for the EU27
    ("2020-export", "EU28", "EU28 (with the United Kingdom)", 28),
    ("2015", "EU28", "EU28 (with the United Kingdom)", 28),
])
def test_the_reference_is_the_editions_own_eu_aggregate_everywhere(env, db, edition, reference, label, count):
    """Stack, trend and intro use the EU aggregate the edition's source publishes, labelled as such; ranks are among
    the edition's countries."""
    from dashboard.data import charts
    from dashboard.pages import desi

    state = desi.PAGE.state({"edition": edition, "geo": "EE"})
    _df, meta = charts.stack_data(state)
    trend, trend_meta = charts.trend_data(state)
    assert meta.reference == reference and meta.names[reference] == label
    assert set(trend["geo"]) == {"EE", reference} and trend_meta.references == (reference,)
    assert meta.ranks["EE"][1] == count
    layout = desi.layout(edition=edition, geo="EE")
    assert f"The reference is {label}" in text_of(layout)
    trend_figure = next(g for g in graphs(layout) if g.id == "desi_trend-graph").figure
    assert {t["name"] for t in trend_figure["data"]} == {"Estonia", label}
    assert trend_figure["layout"]["xaxis"]["title"]["text"] == "DESI edition"


def test_the_trend_chart_has_the_card_controls(env):
    """The trend chart is a chart card like the first: chart/table toggle and share/download slot."""
    from dashboard.pages import desi

    layout = desi.layout()
    cards = [c for c in walk(layout) if getattr(c, "className", None) == "chart-card"]
    trend_card = next(c for c in cards if getattr(c, "data-chart", None) == "desi_trend")
    assert any(getattr(c, "className", None) == "share" for c in walk(trend_card))
    table = desi.layout(view="table")
    assert any(getattr(c, "id", None) == "desi_trend-table" for c in walk(table))


# ---------------------------------------------------------------- weights

def test_weights_recompute_composite_and_competition_ranking(env, db):
    """Connectivity alone (w_conn=1, the rest 0): each composite is the connectivity score and the ranks are the
    competition ranking of the 27 countries' connectivity scores (read from the database)."""
    from dashboard.data import charts
    from dashboard.pages import desi

    query = {"geo": ",".join(BSR_EU), "w_conn": "1", "w_hc": "0", "w_idt": "0", "w_dps": "0"}
    _df, meta = charts.stack_data(desi.PAGE.state(query))
    conn = db.execute("SELECT geo, value FROM indicator_values WHERE indicator = 'desi2022_connectivity' "
                      "AND year = 2022 AND geo <> 'EU27_2020'").df().set_index("geo")["value"]
    assert len(conn) == 27
    expected = conn.rank(method="min", ascending=False).astype(int)
    for geo in BSR_EU:
        assert meta.totals[geo][0] == pytest.approx(conn[geo])
        assert meta.ranks[geo] == (expected[geo], 27)
    assert meta.custom_weights and list(meta.order[:-1]) == sorted(BSR_EU, key=lambda g: -conn[g])
    official = charts.stack_data(desi.PAGE.state({"geo": ",".join(BSR_EU)}))[1]
    assert official.ranks != meta.ranks  # the ranking changed
    layout = desi.layout(**query)
    assert "Your weights, normalised to 100 %: Connectivity 100.0% · Human capital 0.0%" in text_of(layout)
    assert stack_of(layout)["layout"]["title"]["text"].startswith("DESI 2022 (2022 workbook): overall score with your")


def test_weights_are_normalised_and_official_ones_are_one_click_away(env):
    """Weights of any scale are normalised to 100 % (2/2/2/2 is the official 25 % each); unset dimensions keep their
    official weight; the 'Official weights' link is the same view without any w_<dimension>."""
    from dashboard.data import charts
    from dashboard.pages import desi

    same = desi.PAGE.state({"w_conn": "2", "w_hc": "2", "w_idt": "2", "w_dps": "2"})
    weights, custom, _ignored = charts.desi_weights(same, 2022, "workbook")
    assert not custom and weights == pytest.approx({"conn": 0.25, "hc": 0.25, "idt": 0.25, "dps": 0.25})
    partial = desi.PAGE.state({"w_conn": "75"})  # 75 against the others' official 25: 50 %
    weights, custom, _ignored = charts.desi_weights(partial, 2022, "workbook")
    assert custom and weights["conn"] == pytest.approx(0.5) and sum(weights.values()) == pytest.approx(1)
    layout = desi.layout(geo="EE,LV", w_conn="75", edition="2021")
    link = next(c for c in walk(layout) if getattr(c, "id", None) == "desi-official-weights")
    assert isinstance(link, dcc.Link) and "w_" not in link.href
    assert link.href.startswith("/desi?") and "edition=2021" in link.href and "geo=EE,LV" in link.href
    assert control(layout, "w_conn").value == 75 and control(layout, "w_hc").value == 25


def test_the_export_editions_have_five_dimensions_and_a_workbook_weight_they_lack_is_named(env):
    """DESI 2016 (2020 export) has five weights (25/25/15/20/15); w_ui on DESI 2022 is named as not used."""
    from dashboard.data import charts
    from dashboard.pages import desi

    assert charts.official_weights(2016, "export") == pytest.approx(
        {"conn": 0.25, "hc": 0.25, "ui": 0.15, "idt": 0.20, "dps": 0.15}, abs=1e-4)
    layout = desi.layout(w_ui="40")
    assert "Use of internet is not a dimension of DESI 2022: its weight is not used." in text_of(layout)


@pytest.mark.parametrize("query, words", [
    ({"w_conn": "-5"}, ["w_conn=-5", "negative"]),
    ({"w_hc": "lots"}, ["w_hc=lots", "not a number"]),
    ({"w_hc": "²"}, ["not a number"]),
    ({"w_hc": "nan"}, ["not a number"]),
    ({"w_conn": "0", "w_hc": "0", "w_idt": "0", "w_dps": "0"}, ["zero"]),
    ({"w_magic": "10"}, ["w_magic", "w_conn"]),
    ({"measure": "desi_9_magic"}, ["desi_9_magic"]),
])
def test_bad_weights_give_the_friendly_message(env, query, words):
    """Negative, non-numeric, all-zero weights or an unknown dimension: the friendly message, never a chart."""
    from dashboard.pages import desi

    assert_friendly(desi.layout(**query), *words)


def test_bad_weights_are_a_400_for_exports(env):
    """The same weights reaching an export are a plain 400."""
    from dashboard import export

    with pytest.raises(export.ExportError):
        export.resolve_view("desi_stack", {"w_conn": "-1"})
    view = export.resolve_view("desi_stack", {"w_conn": "1", "w_hc": "0", "w_idt": "0", "w_dps": "0"})
    assert "your weights" in view.figure.layout.meta["source"]
