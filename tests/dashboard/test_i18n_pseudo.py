"""Every visible text of every page goes through gettext: a pseudo-translation wraps each message in ⟦ ⟧, and what a
page then shows outside the brackets must be data (CLDR names, the indicator texts of etl/translations, codes,
numbers), never English prose written into the code. The DIGINNO findings (the project's own texts, English) and
text marked lang="en" (the Scoreboard's definitions, published only in English) are left out."""
from __future__ import annotations

import json
import re
from gettext import NullTranslations

import pytest
from dash import dcc

from dashboard import i18n
from dashboard.data import connection
from tests.dashboard import walk
from tests.dashboard.test_pages_core import page_layout

# words of English prose that no German data text here holds (checked: none of etl/translations/de.toml)
ENGLISH = {"the", "of", "and", "with", "from", "since", "against", "than", "between", "only", "not", "updated",
           "reporting", "average", "countries", "country", "source", "value", "values", "year", "years", "change",
           "score", "rank", "chart", "table", "indicator", "indicators", "points", "share", "none", "profile"}
VIEWS = {"/": [{}, {"view": "table"}], "/compare": [{}, {"view": "table"}], "/trends": [{}, {"view": "table"}],
         "/map": [{}, {"view": "table"}], "/relationships": [{}, {"view": "table"}],
         "/country": [{}, {"view": "table"}], "/desi": [{}, {"view": "table"}, {"edition": "2019"}],
         "/digital-decade": [{}, {"view": "table"}, {"geo": "NO"}], "/sources": [{}]}
FIGURE_TEXT = re.compile(r'"(?:text|name|hovertemplate|source)": "((?:[^"\\]|\\.)*)"')


class Pseudo(NullTranslations):
    """Each message wrapped in ⟦ ⟧, placeholders kept."""

    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"


@pytest.fixture
def pseudo(dsm_env, app, monkeypatch):
    """German names and numbers with every gettext message wrapped; the cache emptied before and after."""
    monkeypatch.setattr(i18n, "translations", lambda lang: Pseudo())
    connection.clear_cache()
    yield
    connection.clear_cache()


def shown(tree) -> list[str]:
    """The texts a reader meets: children, titles, labels, options, figure texts; not those marked lang="en"."""
    english = {id(node) for marked in walk(tree) if getattr(marked, "lang", None) == "en" for node in walk(marked)}
    out = []
    for node in walk(tree):
        if id(node) in english:
            continue
        children = getattr(node, "children", None)
        out += [children] if isinstance(children, str) else [c for c in children or () if isinstance(c, str)] \
            if isinstance(children, (list, tuple)) else []
        out += [getattr(node, a) for a in ("title", "placeholder", "alt") if isinstance(getattr(node, a, None), str)]
        out += [o["label"] for o in getattr(node, "options", None) or () if isinstance(o, dict)
                and isinstance(o.get("label"), str)]
        if isinstance(node, dcc.Graph) and node.figure is not None:
            figure = node.figure.to_plotly_json() if hasattr(node.figure, "to_plotly_json") else node.figure
            hidden = {note.get("name") for note in figure.get("layout", {}).get("annotations") or ()}  # never shown
            out += [text for m in FIGURE_TEXT.findall(json.dumps(figure, ensure_ascii=False))
                    if (text := json.loads(f'"{m}"')) not in hidden]
    return out


def english_outside_messages(text: str) -> set[str]:
    """English prose words of a text that lie outside every ⟦message⟧."""
    depth, outside = 0, []
    for char in text:
        depth += (char == "⟦") - (char == "⟧")
        outside.append(char if depth == 0 and char != "⟧" else " ")
    words = re.findall(r"[\w.]+", "".join(outside))   # a code such as ict_sector_value_added is one word
    return {w for w in words if w.isalpha() and w.lower() in ENGLISH}


def test_the_check_sees_an_unwrapped_sentence():
    """The detector itself: prose outside the brackets is found, inside is not."""
    assert english_outside_messages("⟦Quelle: {name}⟧ Eurostat, isoc_ci_in_h") == set()
    assert english_outside_messages("Country profile: Estland") == {"Country", "profile"}
    assert english_outside_messages("⟦EU27 (⟦{n} of {peers}⟧)⟧ + NO") == set()
    assert english_outside_messages("ict_sector_value_added, scoreboard_indicators.json") == set()


@pytest.mark.parametrize("path", sorted(VIEWS))
def test_every_page_text_is_a_message_or_data(pseudo, app, path):
    """No English prose outside a gettext message on any view of the page (German names and numbers)."""
    leaks = {}
    for query in VIEWS[path]:
        with i18n.use("de"):
            texts = shown(page_layout(app, path)(**query, lang="de"))
        assert any("⟦" in t for t in texts), f"{path}: the pseudo-translation did not reach the page"
        leaks.update({t[:120]: sorted(words) for t in texts if (words := english_outside_messages(t))})
    assert not leaks, f"{path}: English outside gettext: {leaks}"
