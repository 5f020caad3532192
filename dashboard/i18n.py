"""The visitor's language and everything said in it: gettext catalogues, CLDR names, numbers and dates (Babel).

The language is chosen by `?lang=` (it travels in the page State, so permalinks, embeds and exports carry it),
else by the `lang` cookie that remembers the visit, else by the browser's Accept-Language, else English.
Code asks `current()`; `use(lang)` sets it for a block (a page build, an export, a brief).
"""
from __future__ import annotations

import io
import logging
import math
import re
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from dash import Input, Output, html
from flask import g, has_request_context, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from etl.catalogue import CATALOGUE_PATH
from etl.model import FLAG_MEANINGS

LANGUAGES = ("en", "pl", "et", "lv", "lt", "fi", "sv", "da", "de", "nb")
DEFAULT = "en"
COOKIE = "lang"
DOMAIN = "messages"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
# Accept-Language tags that mean one of our languages under another code (Norwegian: no, nn -> Bokmål).
ALIASES = {"no": "nb", "nn": "nb"}
# Eurostat geo codes that differ from the ISO 3166 codes CLDR names territories by.
EUROSTAT_TO_ISO = {"EL": "GR", "UK": "GB"}
MISSING = ":"  # Eurostat's notation for a missing value, the same in every language

_chosen: ContextVar[str | None] = ContextVar("dsm_language", default=None)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (module-level labels are translated when shown)."""
    return message


def supported(value: str | None) -> str | None:
    """Our code for a language tag ('pl', 'PL', 'de-AT', 'nb_NO', 'no'), or None when we do not speak it."""
    if not isinstance(value, str) or not value.strip():
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    primary = ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages by an Accept-Language header; None when it names none or is malformed."""
    try:
        offers = parse_accept_header(header or "", LanguageAccept)
    except ValueError:
        return None
    for tag, quality in offers:  # werkzeug orders them by quality, best first
        code = supported(tag)
        if code and quality > 0:
            return code
    return None


def resolve(asked: str | None = None) -> str:
    """The language for a request: `?lang=` when given (unknown -> English), else the visit's cookie, else
    Accept-Language, else English."""
    if asked is not None and str(asked).strip():
        return supported(str(asked)) or DEFAULT

    if has_request_context():
        return (supported(request.cookies.get(COOKIE)) or from_accept_language(request.headers.get("Accept-Language"))
                or DEFAULT)
    return DEFAULT


def current() -> str:
    """The language in force: set by `use()`, else the one the current HTTP request asks for, else English."""
    chosen = _chosen.get()
    if chosen:
        return chosen

    if has_request_context():
        if "dsm_lang" not in g:
            g.dsm_lang = resolve(request.args.get("lang"))
        return g.dsm_lang
    return DEFAULT


@contextmanager
def use(lang: str | None):
    """Speak `lang` (resolved: unknown -> English) inside the block."""
    token = _chosen.set(supported(lang) or DEFAULT)
    try:
        yield
    finally:
        _chosen.reset(token)


# ---------------------------------------------------------------- gettext

@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of a language (English, and a language without a catalogue, translate to themselves).

    Reads the .mo that `pybabel compile` (scripts/setup.sh) wrote; when it is missing or older than its .po (a
    checkout where nobody compiled yet) the .po is compiled in memory, so a fresh clone never shows stale text."""
    if lang == DEFAULT:
        return NullTranslations()
    folder = TRANSLATIONS_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if not po.exists():
        logging.getLogger(__name__).warning("no catalogue for %s in %s: showing English", lang, folder)
        return NullTranslations()
    buffer = io.BytesIO(compiled(po, lang))
    return Translations(buffer, domain=DOMAIN)


def compiled(po: Path, lang: str) -> bytes:
    """The .mo bytes of one .po catalogue."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_catalogues() -> list[Path]:
    """Write messages.mo beside every language's messages.po (scripts/setup.sh runs it: `python -m dashboard.i18n`).

    This is `pybabel compile` without Babel's %-format checker, which takes the unit labels ('% of households')
    for %-format strings and fails; the dashboard formats with str.format, whose {placeholders}
    tests/dashboard/test_i18n_coverage.py checks in every catalogue."""
    written = []
    for lang in LANGUAGES:
        po = TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            mo = po.with_suffix(".mo")
            mo.write_bytes(compiled(po, lang))
            written.append(mo)
    return written


def _(message: str, **params) -> str:
    """The message in the current language; named placeholders `{name}` filled from `params`."""
    text = translations(current()).gettext(message)
    return text.format(**params) if params else text


gettext = _


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    """The singular or the right plural form for `n` in the current language (`{n}` and `params` filled in)."""
    text = translations(current()).ngettext(singular, plural, n)
    return text.format(n=format_number(n, 0), **params)


# ---------------------------------------------------------------- CLDR names, numbers, dates

def locale(lang: str | None = None) -> Locale:
    """Babel's CLDR locale for one of our languages (the current one by default)."""
    return _locale(lang or current())


@lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    """Locale.parse, once per language."""
    return Locale.parse(lang)


def language_name(lang: str) -> str:
    """A language's own name ('polski', 'Deutsch'), capitalised as in a menu."""
    name = locale(lang).get_display_name(lang)
    return name[:1].upper() + name[1:]


def country_name(code: str, fallback: str | None = None) -> str:
    """A country's name in the current language from CLDR ('DE' -> 'Niemcy' in Polish); aggregates and codes CLDR
    does not know keep `fallback` (the geo table's English name) or the code."""
    iso = EUROSTAT_TO_ISO.get(code, code)
    name = locale().territories.get(iso) if len(iso) == 2 and iso.isalpha() else None
    return name or fallback or code


def _missing(value) -> bool:
    """None, NaN and pandas' NA are missing (never 0)."""
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return True  # pd.NA refuses truth tests


def format_number(value, decimals: int = 1) -> str:
    """A number in the current locale ('1 234,5' in Polish, '1,234.5' in English); missing is ':'."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=locale(), decimal_quantization=True)


def format_signed(value, decimals: int = 1, *, zero: str = "+") -> str:
    """A change with its sign in the locale's number format ('+12,5', '−3,0'; `zero` before 0); missing is ':'."""
    if _missing(value):
        return MISSING
    value = float(value)
    sign = "+" if value > 0 else "−" if value < 0 else zero
    return sign + format_number(abs(value), decimals)


def format_percent(value, decimals: int = 1) -> str:
    """A value already in percent (45.3) with the locale's percent sign and spacing ('45,3 %' in German)."""
    if _missing(value):
        return MISSING
    standard = locale().percent_formats[None].pattern  # '#,##0%', '#,##0 %', ...: the locale's sign and spacing
    last = standard.rfind("0")
    pattern = standard[:last + 1] + ("." + "0" * decimals if decimals > 0 else "") + standard[last + 1:]
    return numbers.format_percent(float(value) / 100, format=pattern, locale=locale(), decimal_quantization=True)


def format_date(value, style: str = "medium") -> str:
    """A date (or ISO date text) in the current locale's style ('2. Dez. 2026'); blank stays blank."""
    if value is None or value == "" or _missing(value):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if current() == DEFAULT:
        return value.isoformat()  # English keeps the ISO dates the dashboard has always shown
    return dates.format_date(value, format=style, locale=locale())


def separators() -> str:
    """Plotly's layout.separators for the current locale: decimal symbol, then group symbol."""
    loc = locale()
    return numbers.get_decimal_symbol(loc) + numbers.get_group_symbol(loc)


# ---------------------------------------------------------------- wiring into the app

SWITCHER_ID = "language-switcher"


def link_with_language(pathname: str | None, search: str | None, lang: str) -> str:
    """The same view (path and query) in another language: only `lang` changes."""
    path = pathname if isinstance(pathname, str) and pathname.startswith("/") and not pathname.startswith("//") else "/"
    query = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=True) if k != "lang"]
    return path + "?" + urlencode([*query, ("lang", lang)], safe=",")


def language_links(pathname: str | None = "/", search: str | None = "") -> list:
    """One plain link per language (a full page load, so the header, navigation and `<html lang>` follow)."""
    here = current()
    return [html.A(language_name(code), href=link_with_language(pathname, search, code), lang=code, hrefLang=code,
                   className="language-link" + (" current" if code == here else ""),
                   **({"aria-current": "true"} if code == here else {}))
            for code in LANGUAGES]


def language_switcher():
    """The header's language menu: every language by its own name, the current one marked."""
    return html.Nav(id=SWITCHER_ID, className="language-switcher", children=language_links(),
                    **{"aria-label": _("Language")})


def with_html_lang(page: str, lang: str) -> str:
    """An HTML document whose <html> tag declares `lang` (replacing any lang it had)."""
    return re.sub(r"<html\b(?:\s+lang=\"[^\"]*\")?", f'<html lang="{lang}"', page, count=1, flags=re.IGNORECASE)


def install(app) -> None:
    """Wire the language into a Dash app: `<html lang>`, the cookie that remembers the visit, Vary headers, and
    the switcher's links (kept pointing at the current view)."""
    render_index = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        """Dash's index page with <html lang> in the visitor's language."""
        return with_html_lang(render_index(**kwargs), current())

    app.interpolate_index = interpolate_index

    @app.server.after_request
    def _remember_language(response):
        """A `?lang=` in a page's URL is remembered for the visit (a session cookie); answers depend on it."""
        if "lang" in request.args and request.method == "GET":
            response.set_cookie(COOKIE, resolve(request.args.get("lang")), httponly=True, samesite="Lax")
        response.vary.update(("Cookie", "Accept-Language"))
        return response

    @app.callback(Output(SWITCHER_ID, "children"), Input("_pages_location", "pathname"),
                  Input("_pages_location", "search"))
    def _switcher_links(pathname, search):
        """The switcher's links for the view now shown (in the language its URL asks for); a forged non-text
        location gives the links of the front page."""

        search = search if isinstance(search, str) else ""
        with use(resolve((parse_qs(search.lstrip("?")).get("lang") or [None])[-1])):
            return language_links(pathname, search)


# ---------------------------------------------------------------- Eurostat's flag meanings

# etl.model.FLAG_MEANINGS' texts, marked here so that extraction finds them (a test keeps the two the same).
FLAG_MEANING_MESSAGES = (
    N_("break in time series"), N_("confidential"), N_("definition differs (see metadata)"), N_("estimated"),
    N_("forecast"), N_("not significant"), N_("provisional"), N_("revised"), N_("Eurostat estimate"),
    N_("low reliability"), N_("not applicable"), N_("missing"), N_("see metadata"), N_("aggregate not available"),
)


def flag_meaning(letter: str) -> str:
    """What a Eurostat flag letter means, in the current language."""
    return _(FLAG_MEANINGS[letter]) if letter in FLAG_MEANINGS else _("unknown flag")


# ---------------------------------------------------------------- indicator titles and descriptions

INDICATOR_FIELDS = ("title", "description", "target_label")


def indicator_translations_dir() -> Path:
    """etl/translations/: one <lang>.toml beside the catalogue per language."""
    return CATALOGUE_PATH.parent / "translations"


@lru_cache(maxsize=None)
def indicator_texts(lang: str) -> dict:
    """A language's indicator texts: {'units': {English: text}, 'indicators': {id: {field: text}}} (read once)."""
    path = indicator_translations_dir() / f"{lang}.toml"
    if lang == DEFAULT or not path.exists():
        return {"units": {}, "indicators": {}}
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    return {"units": dict(document.get("units", {})), "indicators": dict(document.get("indicators", {}))}


def localise_catalogue(df):
    """Catalogue rows (id, title, description, unit, target_label) in the current language; a title without a
    translation stays English with a visible note, other fields fall back to English silently."""
    lang = current()
    if lang == DEFAULT or df.empty or "id" not in df.columns:
        return df
    texts = indicator_texts(lang)
    df = df.copy()
    for index, row in df.iterrows():
        own = texts["indicators"].get(row["id"], {})
        for field in INDICATOR_FIELDS:
            if field in df.columns and isinstance(own.get(field), str) and own[field].strip():
                df.at[index, field] = own[field]
        if "title" in df.columns and not own.get("title") and isinstance(row["title"], str):
            df.at[index, "title"] = _("{title} (not translated yet)", title=row["title"])
        if "unit" in df.columns and isinstance(row["unit"], str):
            df.at[index, "unit"] = texts["units"].get(row["unit"], row["unit"])
    return df


# ---------------------------------------------------------------- catalogue themes

THEME_LABELS = {
    "overall": N_("Overall"), "connectivity": N_("Connectivity"), "human_capital": N_("Human capital"),
    "use_of_internet": N_("Use of internet"), "integration_of_digital_technology": N_("Integration of digital technology"),
    "digital_public_services": N_("Digital public services"), "e_commerce": N_("E-commerce"),
    "cross_border": N_("Cross-border"), "population": N_("Population"),
}


def theme_label(theme) -> str:
    """A catalogue theme's name in the current language ('human_capital' -> 'Human capital')."""
    key = str(theme)
    return _(THEME_LABELS[key]) if key in THEME_LABELS else key.replace("_", " ").capitalize()


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path}")
