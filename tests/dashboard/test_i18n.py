"""The visitor's language: ?lang=, cookie, Accept-Language, the State, <html lang>, the header, CLDR formats."""
from __future__ import annotations

import pytest
from dash import dcc, html

from dashboard import i18n
from dashboard.registry import parse_state
from dashboard.state import href, state_to_query
from tests.dashboard.test_pages_core import find, page_layout, text_of


@pytest.mark.parametrize("header, expected", [
    ("de-AT,de;q=0.9,en;q=0.8", "de"),
    ("fr-FR, sv;q=0.3", "sv"),        # the first language we speak, by quality
    ("no;q=0.5", "nb"),                # Norwegian without a variant is Bokmål
    ("en;q=0.1, pl;q=0.9", "pl"),
    ("fr, it", None),
    (";;;q=abc,,,", None),            # malformed: ignored
    ("pl;q=0", None),                  # q=0 means "not this one"
    ("", None),
])
def test_accept_language(header, expected):
    """The first visit's language comes from Accept-Language; junk or only foreign languages give none."""
    assert i18n.from_accept_language(header) == expected


def test_resolve_order(app):
    """?lang= beats the visit's cookie, which beats Accept-Language; an unknown lang is English."""
    with app.server.test_request_context("/", headers={"Accept-Language": "fi", "Cookie": "lang=lv"}):
        assert i18n.resolve("de") == "de"
        assert i18n.resolve("xx") == "en"
        assert i18n.resolve(None) == "lv"
    with app.server.test_request_context("/", headers={"Accept-Language": "fi"}):
        assert i18n.resolve(None) == "fi"
    with app.server.test_request_context("/", headers={"Accept-Language": "=;q=1;;", "Cookie": "lang=<script>"}):
        assert i18n.resolve(None) == "en"


def test_state_carries_the_language(dsm_env):
    """lang is part of the state: parsed, written back (English, the default, is left out), never refused."""
    state = parse_state({"lang": "pl", "view": "table"}, "/compare")
    assert state.lang == "pl" and "lang=pl" in state_to_query(state)
    assert parse_state({"lang": "klingon"}, "/compare").lang == "en"
    assert "lang" not in href(parse_state({"lang": "en"}, "/compare"))
    assert dict(state.extra).get("lang") is None  # a core key, not a page extra


def test_index_declares_the_language(app):
    """<html lang> follows ?lang= and the visit; the page remembers the choice in a session cookie."""
    client = app.server.test_client()
    page = client.get("/compare?lang=lt")
    assert '<html lang="lt"' in page.get_data(as_text=True)
    cookie = page.headers.get("Set-Cookie", "")
    assert "lang=lt" in cookie and "Expires" not in cookie and "HttpOnly" in cookie
    assert '<html lang="lt"' in client.get("/trends").get_data(as_text=True)  # remembered for the visit
    fresh = app.server.test_client()
    assert '<html lang="de"' in fresh.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en"' in fresh.get("/?lang=zz", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_header_navigation_and_switcher_speak_the_language(app):
    """The shell's navigation is translated, its links keep the language, the switcher offers every language."""
    from dashboard.app import shell

    with i18n.use("et"):
        tree = shell()
    nav = [link for link in find(tree, dcc.Link) if "nav-link" in (link.className or "")]
    assert "Ülevaade" in [link.children for link in nav] and all(link.href.endswith("?lang=et") for link in nav)
    switcher = find(tree, id=i18n.SWITCHER_ID)[0]
    links = switcher.children
    assert [a.lang for a in links] == list(i18n.LANGUAGES)
    assert {a.children for a in links} >= {"Polski", "Eesti", "Latviešu", "Lietuvių", "Suomi", "Deutsch"}
    assert [a.lang for a in links if "current" in a.className] == ["et"]


def test_switcher_links_keep_the_view():
    """A switcher link changes only lang; a path that is not a plain local path becomes '/'."""
    assert i18n.link_with_language("/compare", "?indicator=x&geo=EE,LV&lang=pl", "de") == \
        "/compare?indicator=x&geo=EE,LV&lang=de"
    assert i18n.link_with_language("//evil.example/x", "", "fi") == "/?lang=fi"


def test_a_page_builds_in_the_asked_language(dsm_env, app):
    """The Overview in Finnish: every scorecard link keeps lang=fi, so the next page speaks Finnish too."""
    tree = page_layout(app, "/")(lang="fi", view="table")
    links = find(find(tree, html.Table, id="scorecard-table")[0], dcc.Link)
    assert links and all("lang=fi" in link.href for link in links)
    english = page_layout(app, "/")(view="table")
    assert not any("lang=" in link.href for link in find(english, dcc.Link))


@pytest.mark.parametrize("lang, number, percent", [
    ("en", "12,345.7", "45.3%"), ("pl", "12\xa0345,7", "45,3%"), ("de", "12.345,7", "45,3\xa0%"),
    ("fi", "12\xa0345,7", "45,3\xa0%"), ("da", "12.345,7", "45,3\xa0%"),
])
def test_numbers_follow_the_locale(lang, number, percent):
    """Decimal comma, group separator and percent spacing from CLDR; missing stays ':' (never 0)."""
    with i18n.use(lang):
        assert i18n.format_number(12345.67) == number
        assert i18n.format_percent(45.3) == percent
        assert i18n.format_number(None) == ":" and i18n.format_number(float("nan")) == ":"
        assert i18n.format_signed(12345.67) == "+" + number and i18n.format_signed(-12345.67) == "−" + number
        assert i18n.format_signed(0.0, 1, zero="±") == "±" + i18n.format_number(0.0) and i18n.format_signed(None) == ":"


@pytest.mark.parametrize("lang, germany", [("pl", "Niemcy"), ("et", "Saksamaa"), ("lv", "Vācija"),
                                           ("lt", "Vokietija"), ("fi", "Saksa"), ("sv", "Tyskland"),
                                           ("de", "Deutschland"), ("nb", "Tyskland"), ("da", "Tyskland")])
def test_country_names_from_cldr(lang, germany):
    """Country names come from CLDR; Eurostat's EL is Greece; an aggregate keeps its fallback name."""
    with i18n.use(lang):
        assert i18n.country_name("DE") == germany
        assert i18n.country_name("EL") != "EL"
        assert i18n.country_name("EU27_2020", "EU27") == "EU27"


def test_plural_forms_per_language():
    """Polish has three plural forms; the catalogue's header says so and ngettext picks by n."""
    assert i18n.translations("pl").plural(1) == 0
    assert i18n.translations("pl").plural(3) == 1 and i18n.translations("pl").plural(5) == 2


def test_flag_meanings_are_marked_for_translation():
    """Every Eurostat flag meaning the ETL defines is among the messages marked for translation, and only those."""
    from etl.model import FLAG_MEANINGS

    assert set(i18n.FLAG_MEANING_MESSAGES) == set(FLAG_MEANINGS.values())
    with i18n.use("de"):
        assert i18n.flag_meaning("e") == "geschätzt" and i18n.flag_meaning("?") == "unbekanntes Kennzeichen"




def test_indicator_titles_are_translated_with_an_english_fallback(dsm_env):
    """Catalogue titles come from etl/translations/<lang>.toml; a title it lacks stays English with a note."""
    import pandas as pd

    rows = pd.DataFrame({"id": ["households_internet_access", "brand_new"], "title": ["Households with internet access",
                         "Brand new"], "description": ["x", "y"], "unit": ["% of households", "% of households"]})
    with i18n.use("lt"):
        out = i18n.localise_catalogue(rows)
    assert out.loc[0, "title"] == "Namų ūkiai, turintys interneto prieigą" and out.loc[0, "unit"] == "% namų ūkių"
    assert out.loc[1, "title"] == "Brand new (dar neišversta)" and out.loc[1, "description"] == "y"
