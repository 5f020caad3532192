"""DESI page: one edition's composite by weighted dimension contributions and rank, the visitor's own dimension
weights (URL w_<dimension>), and the composite or a dimension across the editions of the same source."""
from __future__ import annotations

from dash import dcc, html

from dashboard import components, registry
from dashboard.data import charts as chart_data
from dashboard.data import profile, queries
from dashboard.data.charts import COMPOSITE, EDITION, WEIGHT_PREFIX
from dashboard.figures import desi as desi_figures
from dashboard.i18n import N_, _
from dashboard.state import InvalidState, State, href, is_year_text

PATH = "/desi"


def resolve(state, query: dict):
    """Validate the edition, the trend measure and the weights against the DESI data (default: the latest edition
    of its preferred source, the composite, the official weights)."""
    year, source = edition_of(state)
    state = state.with_(extra_edition=chart_data.edition_text(year, source))
    try:
        chart_data.desi_weights(state, year, source)
    except ValueError as exc:
        raise InvalidState(str(exc)) from None
    measure = measure_of(state)
    return state.with_(extra_measure=None if measure == COMPOSITE else measure)


def edition_of(state) -> tuple[int, str]:
    """(edition, source) of the URL 'edition' ('2022', '2019-export'); the latest edition's preferred source when
    blank; InvalidState when the data holds no such edition."""
    sources = profile.desi_edition_sources()
    if not sources:
        raise InvalidState(_("The database holds no DESI scores; refresh with the DESI export first."))
    asked = (state.get(EDITION) or "").strip()
    if not asked:
        latest = max(sources)
        return latest, sources[latest][0]
    year, _sep, source = asked.partition("-")
    if not is_year_text(year) or int(year) not in sources or (source and source not in sources[int(year)]):
        raise InvalidState(_("There is no DESI {edition} edition in the data (editions: {first}–{last}).",
                             edition=asked, first=min(sources), last=max(sources)))
    return int(year), source or sources[int(year)][0]


def measure_of(state) -> str:
    """The trend chart's measure (URL 'measure'): the composite when blank, else a dimension code ('hc'; the 2020
    export's 'desi_2_hc' is read as 'hc'); InvalidState when unknown."""
    measure = state.get("measure") or COMPOSITE
    if measure == COMPOSITE:
        return measure
    code = profile.desi_dimension_code(measure) if measure.startswith("desi_") else measure
    known = profile.DESI_DIMENSION_LABELS
    if code not in known:
        raise InvalidState(_("Unknown DESI measure “{measure}”: choose the composite or one of {choices}.",
                             measure=measure, choices=", ".join(known)))
    return code


STACK = registry.Chart("desi_stack", "DESI by weighted dimension contribution", chart_data.stack_data,
                       desi_figures.stack_figure)
TREND = registry.Chart("desi_trend", "DESI across editions", chart_data.trend_data, desi_figures.trend_figure)
PAGE = registry.register_page(__name__, registry.Page(PATH, N_("DESI"), order=6, needs_indicator=False, needs_year=False,
                                                      resolve=resolve, charts=(STACK, TREND)))


def build(state):
    """Controls, weights, the stacked edition chart and the trend chart (or their tables) for a valid state (URL:
    edition, geo, measure, w_<dimension>, view)."""
    (stack, meta), (trend, trend_meta) = STACK.data(state), TREND.data(state)
    year, source = chart_data.desi_edition(state)
    dims = profile.desi_dimensions(source)
    editions = profile.desi_edition_sources()
    edition_options = [(chart_data.edition_text(y, s), chart_data.edition_label(y, s))
                       for y in sorted(editions, reverse=True) for s in editions[y]]
    controls = [
        components.dropdown(EDITION, edition_options, state.get(EDITION), label=_("Edition")),
        components.dropdown("measure", [(COMPOSITE, _("Overall DESI score"))]
                            + [(d, _("{dimension} score", dimension=label)) for d, label in zip(dims["dimension"],
                                                                                                dims["label"])],
                            trend_meta.measure, label=_("Measure over editions")),
        components.dropdown("geo", components.country_options(), list(state.geos), label=_("Countries"), multi=True),
    ]
    chart_view = state.view == "chart"  # build only what is shown: the figures or the tables
    card = components.chart_card("desi_stack", STACK.figure(stack, meta) if chart_view else None,
                                 None if chart_view else _stack_table(stack, meta), view=state.view, source=meta.source)
    trend_card = components.chart_card("desi_trend", TREND.figure(trend, trend_meta) if chart_view else None,
                                       None if chart_view else _trend_table(trend, trend_meta), view=state.view,
                                       source=trend_meta.source,
                                       note=_notes(trend_meta.notes) if trend_meta.notes else None)
    return components.page(_("Digital Economy and Society Index (DESI)"), intro=_intro(state, meta),
                           controls=controls, body=[_weights_panel(state, year, source, meta), card, trend_card],
                           state_data={"page": PATH, "edition": state.get(EDITION), "geos": list(state.geos),
                                       "indicators": [profile.desi_composite(source), *dims["indicator"]],
                                       "measure": trend_meta.measure})


def official_href(state: State) -> str:
    """The same view with the official weights: the URL without any w_<dimension>."""
    return href(state.with_(**{f"extra_{k}": None for k, _v in state.extra if k.startswith(WEIGHT_PREFIX)}))


def _weights_panel(state: State, year: int, source: str, meta) -> html.Section:
    """One number input per dimension (URL w_<dimension>, any scale), the weights as used (normalised to 100 %),
    and a link back to the official weights."""
    official = chart_data.official_weights(year, source)
    asked = {k[len(WEIGHT_PREFIX):]: v for k, v in state.extra if k.startswith(WEIGHT_PREFIX)}
    inputs = []
    for code, weight in official.items():
        value = float(asked[code]) if code in asked else round(weight * 100, 4)
        # the input inside its label: named for screen readers without a DOM id (the control's id is a dict)
        inputs.append(html.Label(className=f"control control-{WEIGHT_PREFIX}{code}", children=[
            html.Span(profile.desi_dimension_label(code)),
            dcc.Input(id=components.url_control_id(WEIGHT_PREFIX + code), type="number", min=0, step="any",
                      value=int(value) if float(value).is_integer() else value, debounce=True, inputMode="decimal"),
        ]))
    if meta.custom_weights:
        used = _("Your weights, normalised to 100 %: {weights}. Official weights of DESI {edition}: {official}.",
                 weights=meta.weights, edition=year, official=chart_data._weight_text(official))
    else:
        used = _("Official weights of DESI {edition}: {weights}.", edition=year, weights=meta.weights)
    return html.Section(className="desi-weights", **{"aria-labelledby": "desi-weights-title"}, children=[
        html.H2(_("Dimension weights"), id="desi-weights-title"),
        html.P(_("Set any weights: they are normalised to 100 %, and the composite and the ranking are recomputed."),
               className="hint"),
        html.Div(inputs, className="controls weights"),
        html.P(used, id="desi-weights-used", className="weights-used"),
        _notes(meta.notes) if meta.notes else "",
        dcc.Link(_("Official weights"), href=official_href(state), id="desi-official-weights",
                 className="official-weights"),
    ])


def _notes(notes) -> html.Ul:
    """Sentences about weights or measures this edition does not have."""
    return html.Ul([html.Li(n) for n in notes], className="chart-notes")


def _intro(state, meta) -> str:
    """What the charts show, the edition and its source, which EU aggregate is the reference, how countries are
    ranked, and which chosen countries the edition does not cover."""
    names = queries.geo_names()
    missing = [names.get(g, g) for g in state.geos if g not in meta.names]
    ranked = next(iter(meta.ranks.values()), (None, 0))[1]
    text = _("{edition}: each bar is a country's overall score, split into the dimensions' weighted contributions "
             "(dimension score × weight). Ranks are among the edition's {count} countries (tied countries share a "
             "rank). The reference is {reference}, the EU aggregate this edition publishes. DESI editions are "
             "editions, not data years: an edition mostly reports the data of the year or two before it.",
             edition=meta.edition_label, count=ranked, reference=meta.names.get(meta.reference, meta.reference or "–"))
    if missing:
        text += " " + _("Not covered by this DESI edition: {countries}.", countries=", ".join(missing))
    return text


def _stack_table(stack, meta):
    """Table view of the stacked chart: rank, score, weight and contribution per country and dimension."""
    names = meta.names
    table = stack[["geo", "label", "score", "score_flags", "weight", "contribution", "flags"]].copy()
    table.insert(0, "country", table["geo"].map(names).fillna(table["geo"]))
    table.insert(1, "rank", table["geo"].map(lambda g: _("{rank} of {count}", rank=meta.ranks[g][0],
                                                        count=meta.ranks[g][1]) if g in meta.ranks else "–"))
    table.insert(2, "overall_score", table["geo"].map(lambda g: meta.totals.get(g, (None, None))[0]))
    table["weight"] = table["weight"] * 100
    order = {g: i for i, g in enumerate(meta.order)}
    table = table.sort_values(["geo", "label"], key=lambda s: s.map(order) if s.name == "geo" else s)
    return table.rename(columns={"label": "dimension", "weight": "weight_pct", "flags": "contribution_flags"})


def _trend_table(trend, meta):
    """Table view of the trend chart: one row per country and edition."""
    names = meta.names
    table = trend[["geo", "year", "value", "flags"]].copy()
    table.insert(0, "country", table["geo"].map(names).fillna(table["geo"]))
    return table.rename(columns={"year": "edition", "value": meta.measure_label})


layout = components.page_layout(build, PATH)  # Dash's pages router calls it with the URL query
