"""URL state: strict parsing against the database, canonical writing, round trips, and the URL-sync rules."""
from __future__ import annotations

import pytest
from dash import dcc, html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import components
from dashboard.data import queries
from dashboard.registry import parse_state
from dashboard.state import InvalidState, State, href, parse_query_string, state_to_query


@pytest.fixture
def some_indicator(dsm_env) -> str:
    """A catalogue indicator that has data, with at least two years."""
    for ind in queries.indicator_ids():
        if len(queries.available_years(ind)) >= 2:
            return ind
    pytest.fail("no indicator with two years of data")


def test_blank_query_gives_defaults(dsm_env):
    """No parameters: first headline indicator, the BSR peer group, the latest year, the chart view."""
    state = parse_state({}, "/compare")
    cat = queries.catalogue()
    first_headline = cat[cat["headline"] & cat["has_data"]]["id"].iloc[0]
    assert state.indicator == first_headline
    assert set(state.geos) == {"EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"}
    assert state.year == max(queries.available_years(first_headline))
    assert state.view == "chart"


def test_explicit_query_is_kept(dsm_env, some_indicator):
    """Given parameters are kept as asked (order of countries too) and extras survive."""
    first_year = queries.available_years(some_indicator)[0]
    state = parse_state({"indicator": some_indicator, "geo": "SE,EE", "year": str(first_year), "view": "table",
                         "sort": "name"}, "/compare")
    assert (state.indicator, state.geos, state.year, state.view) == (some_indicator, ("SE", "EE"), first_year, "table")
    assert state.get("sort") == "name"


@pytest.mark.parametrize("query, words", [
    ({"indicator": "no_such_indicator"}, ["no_such_indicator", "catalogue"]),
    ({"geo": "EE,XX,QQ"}, ["XX", "QQ"]),
    ({"year": "1850"}, ["1850"]),
    ({"year": "twenty"}, ["twenty"]),
    ({"view": "pie"}, ["pie"]),
])
def test_bad_parameter_raises_with_the_bad_value(dsm_env, query, words):
    """Unknown indicator, country, year or view: InvalidState naming what was wrong."""
    with pytest.raises(InvalidState) as err:
        parse_state(query, "/compare")
    for word in words:
        assert word in str(err.value)


def test_indicator_without_data_is_refused(dsm_env):
    """A catalogue entry with no values (live-only) cannot be shown offline, and the message says so."""
    empty = [i for i in queries.indicator_ids(with_data=False) if i not in set(queries.indicator_ids())]
    if not empty:
        pytest.skip("every catalogue indicator has data in this build")
    with pytest.raises(InvalidState, match="no data"):
        parse_state({"indicator": empty[0]}, "/trends")


def test_page_without_indicator_still_refuses_a_wrong_one(dsm_env):
    """The overview needs no indicator, but a wrong one in its URL is not silently ignored."""
    assert parse_state({}, "/", needs_indicator=False, needs_year=False).indicator is None
    with pytest.raises(InvalidState):
        parse_state({"indicator": "bogus"}, "/", needs_indicator=False, needs_year=False)


def test_state_to_query_is_canonical(dsm_env, some_indicator):
    """Parameters in a fixed order, countries comma-joined, chart view left out."""
    state = State(page="/trends", indicator=some_indicator, geos=("EE", "FI"), year=2020, view="chart")
    assert state_to_query(state) == f"?indicator={some_indicator}&geo=EE,FI&year=2020"
    assert href(state.with_(view="table")) == f"/trends?indicator={some_indicator}&geo=EE,FI&year=2020&view=table"
    assert state_to_query(State(page="/")) == ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_round_trip(dsm_env, data):
    """Any valid state written to a query string parses back to the same state."""
    indicator = data.draw(st.sampled_from(queries.indicator_ids()))
    years = queries.available_years(indicator)
    countries = queries.countries()["code"].tolist()
    state = State(
        page=data.draw(st.sampled_from(["/compare", "/trends", "/map"])), indicator=indicator,
        geos=tuple(data.draw(st.lists(st.sampled_from(countries), min_size=1, max_size=6, unique=True))),
        year=data.draw(st.sampled_from(years)), view=data.draw(st.sampled_from(["chart", "table"])),
        extra=tuple(sorted(data.draw(st.dictionaries(st.sampled_from(["sort", "x", "panel"]),
                                                      st.text("abc,-_", min_size=1, max_size=5))).items())),
    )
    assert parse_state(parse_query_string(state_to_query(state)), state.page) == state


def test_controls_unchanged_write_nothing():
    """A page appearing (controls equal to what it was rendered with) never rewrites the URL."""
    keys, values = ["indicator", "geo", "year"], ["a", ["EE", "LV"], 2024]
    rendered = {"indicator": "a", "geo": "EE,LV", "year": "2024"}
    assert components.query_with_controls("", keys, values, rendered) is None


def test_changed_control_is_written_and_others_kept():
    """Only the changed key is written; other URL parameters stay; defaults stay implicit."""
    rendered = {"indicator": "a", "geo": "EE,LV", "year": "2024", "view": "chart"}
    new = components.query_with_controls("?geo=EE,LV&sort=name", ["indicator", "geo", "year", "view"],
                                         ["a", ["EE", "LV"], 2019, "chart"], rendered)
    assert parse_query_string(new) == {"geo": "EE,LV", "sort": "name", "year": "2019"}


def test_changing_indicator_drops_the_year():
    """A year valid for one indicator may not exist for the next: it falls back to the latest."""
    rendered = {"indicator": "a", "year": "2024"}
    new = components.query_with_controls("?indicator=a&year=2024", ["indicator", "year"], ["b", 2024], rendered)
    assert parse_query_string(new) == {"indicator": "b"}


def test_clearing_countries_removes_the_parameter():
    """An empty multi-select removes `geo` (back to the peer group) instead of writing geo=."""
    new = components.query_with_controls("?geo=EE", ["geo"], [[]], {"geo": "EE"})
    assert new == ""


def test_control_values_found_in_a_tree():
    """The rendered control values are read from the component tree (nested, lists joined)."""
    tree = html.Div([html.Div(components.dropdown("geo", [("EE", "Estonia")], ["EE", "FI"], label="c", multi=True)),
                     components.view_toggle("table"), dcc.Input(id="unrelated", value="x")])
    assert components.control_values(tree) == {"geo": "EE,FI", "view": "table"}
