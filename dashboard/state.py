"""The whole view state lives in the URL query string: the State, its canonical query string and link (checking a
query against the database is dashboard.registry.parse_state)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, parse_qsl

from dashboard import i18n

VIEWS = ("chart", "table")
# Query keys every page understands; anything else is kept in State.extra for page-specific controls.
CORE_KEYS = ("indicator", "geo", "year", "view", "lang")


class InvalidState(ValueError):
    """A URL asked for something that does not exist (indicator, country, year, view); the message says what."""


@dataclass(frozen=True)
class State:
    """A page's full view state: page path, indicator, countries, year, chart/table view, language, page extras."""

    page: str = "/"
    indicator: str | None = None
    geos: tuple[str, ...] = ()
    year: int | None = None
    view: str = "chart"
    lang: str = field(default_factory=i18n.current)  # a state made inside a page build speaks the page's language
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def get(self, key: str, default: str | None = None) -> str | None:
        """A page-specific parameter from the URL (e.g. 'compare=all')."""
        return dict(self.extra).get(key, default)

    def with_(self, **changes) -> "State":
        """A copy with some fields changed (extras by keyword 'extra_<name>')."""
        extras = dict(self.extra)
        for key in [k for k in changes if k.startswith("extra_")]:
            value = changes.pop(key)
            name = key[len("extra_"):]
            extras.pop(name, None) if value in (None, "") else extras.__setitem__(name, str(value))
        if "geos" in changes:
            changes["geos"] = tuple(changes["geos"] or ())
        return replace(self, extra=tuple(sorted(extras.items())), **changes)


def is_year_text(value: str) -> bool:
    """True for ASCII digits only ('²' and '２' pass str.isdigit() but not int())."""
    return value.isascii() and value.isdigit()


def parse_query_string(search: str | None) -> dict[str, str]:
    """'?a=1&b=2' -> {'a': '1', 'b': '2'} (last value wins; blank values kept as '')."""
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=True))


def state_to_query(state: State, *, defaults: State | None = None) -> str:
    """'?indicator=..&geo=EE,LV&year=2023&view=chart&...' — only what differs from `defaults` when given."""
    params: list[tuple[str, str]] = []
    if state.indicator and not (defaults and defaults.indicator == state.indicator):
        params.append(("indicator", state.indicator))
    if state.geos and not (defaults and defaults.geos == state.geos):
        params.append(("geo", ",".join(state.geos)))
    if state.year is not None and not (defaults and defaults.year == state.year):
        params.append(("year", str(state.year)))
    if state.view != "chart":
        params.append(("view", state.view))
    if state.lang != i18n.DEFAULT:
        params.append(("lang", state.lang))
    params += list(state.extra)
    return "?" + urlencode(params, safe=",") if params else ""


def href(state: State) -> str:
    """Page path plus canonical query string: a link that reproduces the view."""
    return state.page + state_to_query(state)
