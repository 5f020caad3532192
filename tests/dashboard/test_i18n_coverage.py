"""Coverage: every message the code uses is translated in every catalogue, with the same named placeholders."""
from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from dashboard import i18n

REPO = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def used_messages() -> dict[str, tuple[str, ...]]:
    """msgid -> (msgid, plural...) of every message the dashboard's code marks, extracted as `pybabel extract` does."""
    method_map = [("dashboard/**.py", "python"), ("dashboard/templates/**.html", "jinja2")]  # as babel.cfg says
    found = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(REPO), method_map, keywords=KEYWORDS):
        ids = message if isinstance(message, tuple) else (message,)
        if ids[0]:
            found[ids[0]] = ids
    return found


def placeholders(text: str) -> set[str]:
    """The named `{placeholders}` of a message."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def problems(catalog, used: dict[str, tuple[str, ...]]) -> list[str]:
    """What a catalogue lacks for the code: untranslated or missing messages, plural forms, placeholders."""
    out = []
    for msgid, ids in used.items():
        entry = catalog.get(msgid if len(ids) == 1 else ids[0])
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or not strings or not all(strings):
            out.append(f"untranslated: {msgid!r}")
            continue
        if len(ids) > 1 and len(strings) != catalog.num_plurals:
            out.append(f"{len(strings)} plural forms instead of {catalog.num_plurals}: {msgid!r}")
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            if placeholders(text) - wanted or (len(ids) == 1 and placeholders(text) != wanted):
                out.append(f"placeholders {sorted(placeholders(text))} instead of {sorted(wanted)}: {msgid!r}")
    return out


def catalogue_of(lang: str):
    """The .po catalogue of a language as Babel reads it."""
    with open(i18n.TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as handle:
        return read_po(handle, locale=lang)


def test_the_code_uses_messages():
    """The extraction finds the shell's messages, so an empty result cannot pass the coverage check below."""
    used = used_messages()
    assert {"Language", "Try again", "Flags: {list}"} <= set(used)
    assert "What the data say" in used, "the briefs' templates are extracted too"


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_every_used_message_is_translated(lang):
    """Each language's catalogue translates every message the code marks, placeholders intact."""
    found = problems(catalogue_of(lang), used_messages())
    assert not found, f"{lang}: {len(found)} problems, first: " + "; ".join(found[:10])


def test_the_check_catches_a_missing_message_and_a_lost_placeholder():
    """The check itself fails on an untranslated message and on a translation that drops a placeholder."""
    catalog = catalogue_of("de")
    catalog.add("In {year}", "Im Jahr")
    found = problems(catalog, {"Brand-new message": ("Brand-new message",), "In {year}": ("In {year}",)})
    assert any("untranslated" in p and "Brand-new" in p for p in found)
    assert any("placeholders" in p and "In {year}" in p for p in found)


def indicator_problems(lang: str, catalogue) -> list[str]:
    """What a language's indicator file lacks for the catalogue: titles, descriptions, target labels, units.
    (Entries for indicators not in this catalogue are allowed: translations may land before their indicators.)"""
    texts = i18n.indicator_texts.__wrapped__(lang)
    out = []
    for item in catalogue.indicators:
        own = texts["indicators"].get(item.id, {})
        wanted = ["title", "description"] + (["target_label"] if item.target_label else [])
        out += [f"{item.id}: no {field}" for field in wanted if not str(own.get(field, "")).strip()]
        if item.unit not in texts["units"]:
            out.append(f"unit {item.unit!r} (of {item.id}) untranslated")
    return out


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_every_indicator_is_translated(lang):
    """Each language's file beside the catalogue (etl/translations/<lang>.toml) has every indicator and unit."""
    from etl.catalogue import load_catalogue

    catalogue = load_catalogue()
    found = indicator_problems(lang, catalogue)
    assert not found, f"{lang}: {len(found)} problems, first: " + "; ".join(found[:10])


def test_the_indicator_check_catches_a_missing_indicator(tmp_path, monkeypatch):
    """A language file without some indicator fails the check, naming the indicator."""
    from etl.catalogue import load_catalogue

    (tmp_path / "de.toml").write_text('[units]\n"% of households" = "% der Haushalte"\n'
                                      '[indicators.households_internet_access]\ntitle = "Haushalte mit Internet"\n',
                                      encoding="utf-8")
    monkeypatch.setattr(i18n, "indicator_translations_dir", lambda: tmp_path)
    found = indicator_problems("de", load_catalogue())
    assert "households_internet_access: no description" in found
    assert any(p.startswith("coverage_5g: no title") for p in found)
