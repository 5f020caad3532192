"""The whole view state lives in the URL query string; parse it strictly and write it back canonically."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, parse_qsl

from dashboard import i18n
from dashboard.data import queries
from dashboard.i18n import _

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


def parse_state(query: dict, page: str, *, needs_indicator: bool = True, needs_year: bool = True) -> State:
    """Validate a page's URL query against the catalogue, geo table and available years; raise InvalidState.

    The language is never refused: an unknown `lang` is English, a missing one the visit's (i18n.resolve)."""
    query = {k: ("" if v is None else str(v)) for k, v in (query or {}).items()}
    lang = i18n.resolve(query.get("lang"))
    asked_indicator, asked_year = query.get("indicator", "").strip(), query.get("year", "").strip()
    # A page that needs no indicator/year still refuses a wrong one rather than silently ignoring it.
    indicator_id = _parse_indicator(asked_indicator) if (needs_indicator or asked_indicator) else None
    geos = _parse_geos(query.get("geo", ""))
    wants_year = needs_year or bool(asked_year)
    if asked_year and not indicator_id and not is_year_text(asked_year):
        raise InvalidState(_("“{value}” is not a year.", value=asked_year))
    year = _parse_year(asked_year, indicator_id) if (wants_year and indicator_id) else None
    view = query.get("view", "chart").strip() or "chart"
    if view not in VIEWS:
        raise InvalidState(_("Unknown view “{view}”: choose chart or table.", view=view))
    extra = tuple(sorted((k, v) for k, v in query.items() if k not in CORE_KEYS and v != ""))
    return State(page=page, indicator=indicator_id, geos=geos, year=year, view=view, lang=lang, extra=extra)


def _parse_indicator(value: str) -> str:
    """An indicator id that the catalogue holds and that has data; blank means the first headline indicator."""
    if not value:
        choices = queries.headline_indicators() or queries.indicator_ids()
        if not choices:
            raise InvalidState(_("The database holds no indicator values yet; run a refresh first."))
        return choices[0]
    known = set(queries.indicator_ids(with_data=False))
    if value not in known:
        raise InvalidState(_("Unknown indicator “{value}”: it is not in the catalogue.", value=value))
    if value not in set(queries.indicator_ids()):
        raise InvalidState(_("Indicator “{value}” has no data in this database (it may be available only from the "
                             "live service).", value=value))
    return value


def _parse_geos(value: str) -> tuple[str, ...]:
    """Comma-separated country codes, each known to the geo table; blank means the BSR peer group."""
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes:
        return tuple(queries.peer_group())
    known = set(queries.countries()["code"])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidState(i18n.ngettext("Unknown country code {codes}.", "Unknown country codes {codes}.",
                                         len(unknown), codes=", ".join(unknown)))
    return tuple(dict.fromkeys(codes))  # drop repeats, keep order


def _parse_year(value: str, indicator_id: str) -> int | None:
    """A year for which the indicator has values; blank means the latest such year."""
    years = queries.available_years(indicator_id)
    if not value:
        return years[-1] if years else None
    if not is_year_text(value):
        raise InvalidState(_("“{value}” is not a year.", value=value))
    if int(value) not in years:
        span = f"{years[0]}–{years[-1]}" if years else _("none")
        raise InvalidState(_("No data for {indicator} in {year} (years with data: {span}).", indicator=indicator_id,
                             year=value, span=span))
    return int(value)


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
