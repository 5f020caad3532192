"""Compare, Trends, Map and Relationships, their figures, exports, embeds and plain errors in the visitor's language.

Expected values are read from the database directly (DuckDB), names from CLDR through Babel, not from the code under
test."""
from __future__ import annotations

import csv
import io
import re

import duckdb
import openpyxl
import pytest
from babel import Locale
from dash import dcc, html

from dashboard import i18n
from tests.dashboard.test_pages_core import find, page_layout, text_of

INDICATOR = "households_internet_access"


@pytest.fixture
def client(dsm_env, app):
    """A test client of the app against the test database."""
    return app.server.test_client()


@pytest.fixture
def db(dashboard_data_dir):
    """The test database, read directly."""
    con = duckdb.connect(str(dashboard_data_dir / "dsm.duckdb"), read_only=True)
    yield con
    con.close()


def latest(db, indicator: str = INDICATOR) -> tuple[int, dict]:
    """The latest year with a German value of an indicator and every geo's value in that year."""
    year = db.execute("SELECT max(year) FROM indicator_values WHERE indicator = ? AND geo = 'DE' AND value IS NOT NULL",
                      [indicator]).fetchone()[0]
    rows = db.execute("SELECT geo, value FROM indicator_values WHERE indicator = ? AND year = ? AND value IS NOT NULL",
                      [indicator, year]).fetchall()
    return int(year), dict(rows)


def cldr(lang: str, code: str) -> str:
    """A territory's name in a language, straight from Babel's CLDR data."""
    return Locale.parse(lang).territories[code]


@pytest.mark.parametrize("lang", ["pl", "de", "fi"])
def test_compare_page_speaks_the_language(dsm_env, app, db, lang):
    """Heading, control labels and intro translated; the bars named by CLDR; the table's heads and decimal comma."""
    year, _values = latest(db)
    tree = page_layout(app, "/compare")(indicator=INDICATOR, year=str(year), lang=lang)
    text = text_of(tree)
    with i18n.use(lang):
        assert i18n._("Compare countries") in text and i18n._("Highlight countries") in text
        assert i18n._("Compare countries") != "Compare countries"
    figure = find(tree, dcc.Graph)[0].figure
    assert cldr(lang, "DE") in list(figure.data[0].x)
    assert figure.layout.separators == Locale.parse(lang).number_symbols["latn"]["decimal"] + \
        Locale.parse(lang).number_symbols["latn"]["group"]
    assert "All EU countries" not in text and "Source:" not in figure.layout.meta["source"]
    table = page_layout(app, "/compare")(indicator=INDICATOR, year=str(year), lang=lang, view="table")
    heads = [th.children for th in find(table, html.Th)]
    assert "country" not in heads and "value" not in heads
    cells = [td.children for td in find(table, html.Td) if isinstance(td.children, str)]
    assert any("," in c and c.replace(",", "").isdigit() for c in cells), "no value with a decimal comma"


def test_trends_map_and_relationships_in_latvian(dsm_env, app):
    """The other chart pages: titles, legend names, axis titles and the fit statement in Latvian."""
    trends = page_layout(app, "/trends")(indicator=INDICATOR, geo="DE,EE", lang="lv")
    fig = find(trends, dcc.Graph)[0].figure
    names = [trace.name for trace in fig.data]
    assert cldr("lv", "DE") in names and cldr("lv", "EE") in names
    with i18n.use("lv"):
        averages = {i18n._("BSR average (weighted)"), i18n._("BSR average (unweighted)")}
    assert averages & set(names) and not {"BSR average (weighted)", "BSR average (unweighted)"} & set(names), names
    assert "Izmaiņas laika gaitā" in text_of(trends)
    atlas = page_layout(app, "/map")(indicator=INDICATOR, lang="lv")
    assert "Baltijas jūras reģiona valstis" in text_of(atlas)
    assert [t.name for t in find(atlas, dcc.Graph)[0].figure.data][-1] == "Baltijas jūras reģions"
    pair = page_layout(app, "/relationships")(indicator="internet_use", y=INDICATOR, lang="lv")
    fig = find(pair, dcc.Graph)[0].figure
    assert {t.name for t in fig.data} >= {"BJR valstis", "Citas valstis"}
    assert "MKM aproksimācija" in text_of(pair) and "Pīrsona r = " in text_of(pair)
    assert fig.layout.xaxis.title.text.startswith("Interneta lietotāji (")
    assert " pret Interneta lietotāji, " in fig.layout.title.text


@pytest.mark.parametrize("n, lang, word", [(1, "pl", "państwo"), (2, "pl", "państwa"), (5, "pl", "państw"),
                                           (21, "lt", "šalis"), (12, "lt", "šalių"), (2, "fi", "maata")])
def test_fit_statement_has_the_plural_form_of_the_language(n, lang, word):
    """'n = 5 państw', 'n = 21 šalis': the fit text's country count takes the language's plural form."""
    from dashboard.figures import scatter

    with i18n.use(lang):
        text = scatter.fit_text(scatter.Fit(slope=0.5, intercept=-1.25, r=0.875, n=n), n)
    assert f"= {n} {word})" in text and "0,88" in text and "-1,25" in text.replace("\u2212", "-")


def test_csv_in_polish_keeps_codes_and_numbers_beside_the_translated_labels(client, db):
    """Polish CSV: Polish headings, the value column still the machine number (read back equal to the database),
    its Polish spelling beside it, geo codes untouched, CLDR names, flag meanings in Polish."""
    year, values = latest(db)
    body = client.get(f"/export/ranked_bar.csv?indicator={INDICATOR}&year={year}&lang=pl").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    head = rows[0]
    with i18n.use("pl"):
        expected = [i18n._(m) for m in ("indicator code", "country code", "country", "period", "year", "value")]
    assert head[:6] == expected and expected[:3] != ["indicator code", "country code", "country"]
    assert head[:2] == ["kod wskaźnika", "kod państwa"] and head[5] == "wartość"
    assert head[6] == "wartość w zapisie lokalnym" and "znaczenie znaczników" in head
    by_geo = {row[1]: row for row in rows[1:]}
    germany = by_geo["DE"]
    assert germany[2] == cldr("pl", "DE") == "Niemcy"
    assert float(germany[5]) == pytest.approx(values["DE"])
    assert germany[6] == f"{values['DE']:.2f}".replace(".", ",")
    english = client.get(f"/export/ranked_bar.csv?indicator={INDICATOR}&year={year}&lang=en").get_data(as_text=True)
    assert english.splitlines()[0].startswith("indicator,geo,geo_name,period,year,value,unit,unit_label,flags")
    # the unit in words beside its code, in the language (the catalogue's unit through etl/translations/pl.toml)
    with i18n.use("pl"):
        from dashboard.data import queries
        words = queries.indicator(INDICATOR)["unit"]
    assert germany[head.index(i18n.translations("pl").gettext("unit"))] == words and words.startswith("%")


def test_flag_meanings_in_the_export_follow_the_language(client, db):
    """A flagged value's meaning is explained in the download's language."""
    flagged = db.execute("SELECT indicator, geo, year, flags FROM indicator_values WHERE flags = 'b' AND value IS NOT "
                         "NULL AND geo = 'DE' ORDER BY year DESC LIMIT 1").fetchone()
    if flagged is None:
        pytest.skip("no German value flagged 'b' in this database")
    indicator, _geo, year, _flags = flagged
    body = client.get(f"/export/trends.csv?indicator={indicator}&geo=DE&lang=de").get_data(as_text=True)
    rows = [row for row in csv.DictReader(io.StringIO(body)) if row["Ländercode"] == "DE" and row["Jahr"] == str(year)]
    with i18n.use("de"):
        assert rows and rows[0]["Bedeutung der Kennzeichen"] == f"b: {i18n.flag_meaning('b')}"
    assert i18n.flag_meaning("b") == "break in time series"


def test_xlsx_in_german_has_german_sheets_and_headings_and_numeric_values(client, db):
    """The workbook's sheet names, headings and About sheet speak German; values stay numbers."""
    year, values = latest(db)
    data = client.get(f"/export/choropleth.xlsx?indicator={INDICATOR}&year={year}&lang=de").data
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Daten", "Info"]
    sheet = list(book["Daten"].iter_rows(values_only=True))
    head = list(sheet[0])
    row = dict(zip(head, next(r for r in sheet[1:] if r[head.index("Ländercode")] == "DE")))
    assert row["Land"] == "Deutschland" and isinstance(row["Wert"], float)
    assert row["Wert"] == pytest.approx(values["DE"])
    about = dict(list(book["Info"].iter_rows(values_only=True))[1:])
    assert about["Lizenz"].startswith("Quelle: Eurostat")
    assert "Titel" in about and "exportiert am" in about


def test_embed_pages_declare_and_speak_the_language(client):
    """The embed page and its script-free variant: <html lang>, footer link text, the full view's link keeps lang."""
    page = client.get(f"/embed/trends?indicator={INDICATOR}&lang=et").get_data(as_text=True)
    assert page.startswith('<!DOCTYPE html>\n<html lang="et">')
    assert "ava täisvaade" in page and "lang=et" in page and "open the full view" not in page
    static = client.get(f"/embed/trends?indicator={INDICATOR}&lang=sv&static=1").get_data(as_text=True)
    assert '<html lang="sv">' in static and "öppna den interaktiva vyn" in static


def test_share_controls_speak_the_page_language_and_links_carry_it(dsm_env, app):
    """The chart card's share controls (filled by a callback, whose request carries no ?lang=) follow the page's
    URL; their export and embed links carry the language, so the files come in it."""
    from dashboard import embed

    with app.server.test_request_context("/_dash-update-component", method="POST"):
        with i18n.use("nb"):
            controls = embed.export_slot_controls("trends", f"?indicator={INDICATOR}&lang=nb")
    links = find(controls, html.A)
    assert len(links) == 6 and all("lang=nb" in a.href for a in links)
    assert "Last ned:" in text_of(controls) and "Kopier innebyggingskode" in text_of(controls)
    assert all(a.title.startswith("Last ned ") for a in links)


@pytest.mark.parametrize("path, status, words", [
    ("/export/nope.csv?lang=pl", 404, "Nieznany wykres „nope”"),
    ("/export/trends.png?size=huge&lang=de", 400, "Unbekannte Größe „huge“"),
    ("/embed/trends?static=2&lang=fi", 400, "käytä static=1"),
    ("/export/trends.csv?indicator=nope&lang=lt", 400, "Netinkama rodinio būsena"),
])
def test_plain_error_messages_are_translated(client, path, status, words):
    """4xx answers stay one plain-text line, in the language the URL asks for."""
    response = client.get(path)
    assert response.status_code == status and response.mimetype == "text/plain"
    assert words in response.get_data(as_text=True)


def test_too_long_an_address_is_refused_in_the_visitors_language(client):
    """The 414 before anything is parsed follows the visit's language (Accept-Language here)."""
    response = client.get("/compare?x=" + "a" * 5000, headers={"Accept-Language": "da"})
    assert response.status_code == 414 and "Adressen er for lang" in response.get_data(as_text=True)


def test_unknown_language_and_malformed_accept_language_fall_back_to_english(client):
    """?lang=xx and a junk Accept-Language give the English page, export and embed, never an error."""
    page = client.get("/compare?lang=xx", headers={"Accept-Language": ";;q=x,,=="})
    assert page.status_code == 200 and '<html lang="en"' in page.get_data(as_text=True)
    csv_body = client.get(f"/export/trends.csv?indicator={INDICATOR}&lang=xx", headers={"Accept-Language": "q=;"})
    assert csv_body.status_code == 200 and csv_body.get_data(as_text=True).startswith("indicator,geo,geo_name")
    embed = client.get(f"/embed/trends?indicator={INDICATOR}&lang=%00", headers={"Accept-Language": "\x7f;q=9"})
    assert embed.status_code == 200 and '<html lang="en">' in embed.get_data(as_text=True)


def test_pptx_slide_and_notes_in_lithuanian(client, db):
    """The slide's title, source and speaker-notes table speak Lithuanian, numbers with a decimal comma."""
    from pptx import Presentation

    year, values = latest(db)
    data = client.get(f"/export/ranked_bar.pptx?indicator={INDICATOR}&year={year}&lang=lt").data
    slide = Presentation(io.BytesIO(data)).slides[0]
    texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert any(t.startswith("Šaltinis: Eurostat") for t in texts), texts
    notes = slide.notes_slide.notes_text_frame.text.splitlines()
    assert notes[1].startswith("Diagramos duomenys")
    head = notes[2].split("\t")
    assert head[:2] == ["šalis", "šalies kodas"]
    germany = next(line.split("\t") for line in notes[3:] if "\tDE\t" in line)
    assert germany[0] == cldr("lt", "DE") and germany[head.index("reikšmė")] == f"{values['DE']:.2f}".replace(".", ",")


def test_relationships_table_in_polish(dsm_env, app):
    """The scatter's table view: translated heads (indicator titles as columns), yes/no for BSR, decimal commas."""
    tree = page_layout(app, "/relationships")(indicator="internet_use", y=INDICATOR, lang="pl", view="table")
    heads = [th.children for th in find(tree, html.Th)]
    with i18n.use("pl"):
        country = i18n._("country")
    assert {country, "kod", "RMB", "znaczniki x", "znaczniki y"} <= set(heads) and "country" not in heads
    cells = [td.children for td in find(tree, html.Td)]
    assert {"tak", "nie"} <= set(cells) and any(isinstance(c, str) and "," in c for c in cells)


def test_browser_titles_follow_the_language(dsm_env, app):
    """Dash asks the page title per request: the index page's meta title (and the router's) is in the visitor's
    language."""
    import dash

    fresh = app.server.test_client()
    body = fresh.get("/compare?lang=de").get_data(as_text=True)
    assert 'content="Vergleich — Dashboard digitaler Binnenmarkt Ostseeraum"' in body
    assert "<title>Vergleich — Dashboard digitaler Binnenmarkt Ostseeraum</title>" in body    # before the router
    assert "<title>Compare — Baltic DSM Dashboard</title>" in fresh.get("/compare?lang=en").get_data(as_text=True)
    assert "<title>Dashboard digitaler Binnenmarkt Ostseeraum</title>" in fresh.get("/nowhere?lang=de").get_data(
        as_text=True)
    title = next(p["title"] for p in dash.page_registry.values() if p["path"] == "/compare")
    with i18n.use("pl"):
        assert title() == f"{i18n._('Compare')} — {i18n._('Baltic DSM Dashboard')}" != "Compare — Baltic DSM Dashboard"
    assert title() == "Compare — Baltic DSM Dashboard"


TABLES = {"/digital-decade": ["dd_targets-table", "dd_trajectory-table", "wp3_crossborder-table"],
          "/desi": ["desi_stack-table"], "/country": ["profile-table"],
          "/sources": ["catalogue-table", "provenance-table", "freshness-table", "flags-table"]}


@pytest.mark.parametrize("lang", ["de", "lv"])
def test_page_tables_head_their_columns_in_the_language_and_flag_columns_read_as_flags(dsm_env, app, lang):
    """Every heading of these tables (chart pages and Data & sources) is its column's heading in the visitor's language (one table of headings,
    dashboard.columns), a flag column shows '—' for "no flag", never ':' (which reads as "no value"), and
    the Digital Decade trajectory's series are named as in its legend."""
    from dashboard import columns

    with i18n.use(lang):
        headings = {columns.table_heading(column) for column in columns.HEADINGS}
        flag_headings = {columns.table_heading(column) for column in columns.HEADINGS if column.endswith("flags")}
    flag_columns = 0
    for path, ids in TABLES.items():
        tree = page_layout(app, path)(view="table", lang=lang)
        with i18n.use(lang):
            assert i18n._("Data and sources") != "Data and sources"
            if path == "/sources":   # the analysts' page too, not only its tables
                assert i18n._("Data and sources") in text_of(tree) and "Provenance per dataset" not in text_of(tree)
            if path == "/country":   # the flag legend under the chart, and a refused address, in the language too
                assert i18n.flag_meaning("e") in text_of(tree) and "estimated" not in text_of(tree)
                chart = find(page_layout(app, path)(lang=lang), dcc.Graph)[0].figure
                rows = [str(label) for trace in chart.data for label in (trace.y or [])]
                assert any(r.startswith(i18n.theme_label("connectivity") + " · ") for r in rows), rows[:3]
                assert not any(r.startswith("Connectivity · ") for r in rows)
                with i18n.use(lang):
                    assert chart.layout.title.text == i18n._("{name}: every indicator against the EU",
                                                             name=i18n.country_name("EE", "Estonia"))
                assert "EU average" not in chart.layout.xaxis.title.text
                refused = text_of(page_layout(app, path)(geo="EE,LV", lang=lang))
                assert i18n.ngettext("A country profile shows one country; the address names {n} ({codes}).",
                                     "A country profile shows one country; the address names {n} ({codes}).", 2,
                                     codes="EE, LV") in refused and "shows one country" not in refused
        for table_id in ids:
            table = find(tree, html.Table, id=table_id)[0]
            head = [th.children for th in find(table, html.Th)]
            assert set(head) <= headings, f"{table_id}: headings not in the language: {set(head) - headings}"
            rows = [[td.children for td in find(tr, html.Td)] for tr in find(table, html.Tr)][1:]
            if table_id == "dd_trajectory-table":   # the series by their legend names, not their codes
                assert not {row[0] for row in rows} & {"country", "eu", "path", "eu_path"}, rows[:3]
            for at, heading in enumerate(head):
                if heading in flag_headings:
                    flag_columns += 1
                    assert ":" not in {row[at] for row in rows}, f"{table_id}: ':' in the flag column {heading!r}"
    assert flag_columns >= 5


def test_relationships_table_names_the_eu_as_its_chart_does(dsm_env, app):
    """The EU27 reference row is 'EU27' in the table, as on the chart, not the geo table's long English label."""
    tree = page_layout(app, "/relationships")(view="table", lang="de")
    rows = [[td.children for td in find(tr, html.Td)] for tr in find(find(tree, html.Table, id="scatter-table")[0], html.Tr)]
    names = {row[0] for row in rows[1:]}
    assert "EU27" in names and not any("European Union" in str(name) for name in names), sorted(names)[:5]


def test_country_profile_sources_ranks_and_digital_decade_choices_in_the_language(dsm_env, app):
    """The country profile's heading, its source line (dates in the locale's style) and its ranking pool ('EU27 (25 of 27
    reporting)') in German; the Digital Decade's country list names the EU27 as the charts do, and its definitions,
    published only in English, are marked lang="en"."""
    import re

    with i18n.use("de"):
        prefix = i18n._("Source: {name}", name="")
        updated = i18n._("{dataset} (updated {date})", dataset="", date="").strip(" ()")
    assert prefix != "Source: " and updated != "updated"
    page = page_layout(app, "/country")(lang="de")
    heading = find(page, html.H1)[0].children
    with i18n.use("de"):
        assert heading == i18n._("Country profile: {country}", country="Estland") != "Country profile: Estland"
    chart = find(page, dcc.Graph)[0].figure
    source = chart.layout.meta["source"]
    assert source.startswith(prefix) and "(updated" not in source and updated in source, source[:120]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", source), source[:120]      # 06.09.2024, not 2024-09-06
    table = text_of(page_layout(app, "/country")(view="table", lang="de"))
    assert "reporting" not in table and "Source:" not in table
    with i18n.use("de"):
        assert i18n._("{n} of {peers} reporting", n=26, peers=27) in table
    tree = page_layout(app, "/digital-decade")(lang="de")
    labels = [option["label"] for dropdown in find(tree, dcc.Dropdown) for option in (dropdown.options or [])
              if isinstance(option, dict) and option.get("value") == "EU27_2020"]
    assert labels and all(label == "EU27 (EU27_2020)" for label in labels), labels
    definitions = find(tree, html.Dd)
    assert definitions and all(dd.lang == "en" for dd in definitions if dd.children != "—")


@pytest.mark.parametrize("lang", ["de", "lt"])
def test_every_download_column_is_headed_in_the_language(client, lang):
    """Every CSV column of every registered chart, in chart and in table view, is headed by its words from
    dashboard.columns in the visitor's language (a column the map lacks kept its English name, e.g. the Digital
    Decade's 'required_per_year')."""
    from dashboard import columns, registry

    with i18n.use(lang):
        headings = {columns.download_heading(column) for column in columns.HEADINGS}
    charts = list(registry.charts())
    assert len(charts) >= 10
    for name in charts:
        for view in ("chart", "table"):
            answer = client.get(f"/export/{name}.csv?lang={lang}&view={view}")
            assert answer.status_code == 200, name
            head = next(csv.reader(io.StringIO(answer.get_data(as_text=True))))
            assert set(head) <= headings, f"{name}: {sorted(set(head) - headings)} not in the language"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_xlsx_about_sheets_never_print_nan_and_name_the_desi_unit_in_words(client, db, lang):
    """No About sheet of any chart prints a missing source date as 'nan' (the DESI files state none: 'unknown');
    the DESI charts' unit is the catalogue's words in the language, not the English 'score (0-100)'."""
    from dashboard import registry

    undated = db.execute("SELECT count(*) FROM provenance WHERE source_updated IS NULL").fetchone()[0]
    assert undated, "every recorded file states its update: the 'unknown' path is not exercised"
    with i18n.use(lang):
        unknown, unit_field = i18n._("unknown"), i18n._("unit")
        desi_unit = i18n.localise_catalogue(db.execute(
            "SELECT id, unit FROM catalogue WHERE id = 'desi2022_overall'").df())["unit"].iloc[0]
    seen_unknown = False
    for name in registry.charts():
        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/export/{name}.xlsx?lang={lang}").data))
        rows = list(book.worksheets[-1].iter_rows(values_only=True))[1:]
        cells = [str(value) for row in rows for value in row if value is not None]
        assert not [c for c in cells if re.search(r"\bnan\b", c)], f"{name}: 'nan' on the About sheet"
        seen_unknown |= any(f" {unknown};" in c for c in cells)
        if name == "desi_stack":
            assert dict(rows)[unit_field] == desi_unit and (lang == "en" or desi_unit != "score (0-100)")
    assert seen_unknown
