"""Hostile input, property-based: every page's URL parameters, every callback's inputs, every export/embed route.

Whatever arrives (SQL injection, 10,000 geo codes, unicode, blanks, repeated keys, wrong types), the answer is the
page, a friendly message or a plain 4xx: never a 500, never a traceback. Every SQL text the dashboard sends to
DuckDB is recorded (the data module's connection is wrapped) and must never contain a hostile string: only bound
parameters carry user input.
"""
from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import duckdb
import plotly.utils
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import security
from tests.hardening import leaked_traceback, pages_content_payload

SQL_INJECTIONS = [
    "' OR 1=1 --",
    "EE'); DROP TABLE catalogue; --",
    "internet_use' UNION SELECT * FROM provenance --",
    '" OR ""="',
    "1; DELETE FROM geo",
    "2023 OR 1=1",
    "EE,LV'); DROP TABLE geo; --",
]
ODD_TEXT = ["", " ", "%", "%00", "\x00", "\u202e\u0644\u0627", "Ωmega 🚀", "<script>alert(1)</script>", "../../etc/passwd",
            "NaN", "-1", "99999999999999999999", "1e309", "２０２３", "EE,,,LV", ",", "None", "null", "[]", "{}", "\\"]
HUGE_GEO = ",".join(["EE", "LV", "XX", "ZZZ"] * 2500)  # 10,000 codes
PAGES = ["/", "/compare", "/trends", "/map", "/relationships", "/country", "/desi", "/findings", "/sources", "/404"]
PAGE_KEYS = ["indicator", "geo", "year", "view", "y", "measure", "theme", "wp", "compare", "size"]
EXPORT_FORMATS = ["csv", "xlsx", "html", "pdf", "", "csv.exe", "CSV"]  # png/svg need Chromium: see tests/dashboard
HYPOTHESIS = settings(max_examples=50, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                             HealthCheck.data_too_large])


# ---------------------------------------------------------------- fixtures

class RecordingConnection:
    """A DuckDB connection that notes every SQL text before running it (bound parameters are not SQL text)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, log: list[str]):
        self._con, self._log = con, log

    def execute(self, sql, parameters=None):
        """Record, then run."""
        self._log.append(str(sql))
        return self._con.execute(sql) if parameters is None else self._con.execute(sql, parameters)

    def sql(self, sql, *args, **kwargs):
        """Record, then run (relational API)."""
        self._log.append(str(sql))
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.fixture(scope="module")
def app(built_data_dir):
    """The Dash app reading the session's offline build, with every SQL text the data module runs recorded."""
    import os

    from dashboard.data import connection

    previous = os.environ.get("DSM_DATA_DIR")
    os.environ["DSM_DATA_DIR"] = str(built_data_dir)
    original_open = connection._open
    log: list[str] = []  # list.append is atomic: server threads may add to it concurrently

    def recording_open(path):
        return RecordingConnection(original_open(path), log)

    connection._open = recording_open
    connection._local.held = None
    connection.clear_cache()
    from dashboard.app import app as dash_app

    dash_app.sql_log = log
    yield dash_app
    connection._open = original_open
    connection._local.held = None
    connection.clear_cache()
    if previous is None:
        os.environ.pop("DSM_DATA_DIR", None)
    else:
        os.environ["DSM_DATA_DIR"] = previous


@pytest.fixture(scope="module")
def client(app):
    """Flask test client of the real app's server."""
    return app.server.test_client()


@pytest.fixture(scope="module")
def valid(built_db):
    """Real values, read directly from the database, so that hostile input is mixed with input that gets further."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        indicators = [r[0] for r in con.execute("SELECT DISTINCT indicator FROM indicator_values WHERE value IS NOT NULL "
                                                "ORDER BY 1 LIMIT 6").fetchall()]
        years = [str(r[0]) for r in con.execute("SELECT DISTINCT year FROM indicator_values WHERE year IS NOT NULL "
                                                "ORDER BY 1 DESC LIMIT 4").fetchall()]
        themes = [r[0] for r in con.execute("SELECT DISTINCT theme FROM catalogue ORDER BY 1 LIMIT 3").fetchall()]
    finally:
        con.close()
    return {"indicator": indicators, "y": indicators, "geo": ["EE", "EE,LV,LT", "EU27_2020", "NO,SE,DK"],
            "year": years, "view": ["chart", "table"], "theme": themes, "wp": ["WP2", "WP4"],
            "measure": ["desi_2_hc"], "compare": ["all"], "size": ["slide169"]}


@pytest.fixture(autouse=True)
def fresh_sql_log(app):
    """Each test starts with an empty SQL log and checks it at the end."""
    app.sql_log.clear()
    yield
    assert_only_bound_parameters(app.sql_log)


def assert_only_bound_parameters(log: list[str]) -> None:
    """No SQL text the dashboard ran contains a hostile string (they may only travel as bound parameters)."""
    for sql in log:
        for hostile in SQL_INJECTIONS + ["alert(1)", "etc/passwd", HUGE_GEO[:40]]:
            assert hostile not in sql, f"hostile input {hostile!r} inside SQL text: {sql[:300]}"


# ---------------------------------------------------------------- strategies

def hostile_values(valid: dict, key: str) -> st.SearchStrategy[str]:
    """Values for one URL key: valid ones, injections, odd text, 10,000 codes, random unicode."""
    return st.one_of(
        st.sampled_from(valid.get(key) or ["x"]),
        st.sampled_from(SQL_INJECTIONS),
        st.sampled_from(ODD_TEXT),
        st.just(HUGE_GEO),
        st.text(max_size=20),
    )


def queries(valid: dict) -> st.SearchStrategy[dict]:
    """A URL query: known keys (and odd ones) with one value each, or a list for a repeated key."""
    key = st.one_of(st.sampled_from(PAGE_KEYS), st.sampled_from(["", "x", "__class__", "indicator[]", "GEO"]),
                    st.text(max_size=8))
    value = st.one_of(*(hostile_values(valid, k) for k in ("indicator", "geo", "year", "view", "theme", "wp")))
    return st.dictionaries(key, st.one_of(value, st.lists(value, min_size=2, max_size=3)), max_size=5)


def search_of(query: dict) -> str:
    """The query string a browser would send for a query dict (lists become repeated keys)."""
    pairs = [(k, item) for k, v in query.items() for item in (v if isinstance(v, list) else [v])]
    return "?" + urlencode(pairs) if pairs else ""


def serialised(component) -> str:
    """A layout as the JSON Dash sends (fails if it cannot be serialised)."""
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def assert_clean(status: int, body: bytes | str, what: str, *, strict: bool = True) -> None:
    """Not a server error, and no traceback in the body."""
    assert status < 500, f"{what}: HTTP {status}: {body[:300]!r}"
    leaked = leaked_traceback(body, strict=strict)
    assert leaked is None, f"{what}: {leaked!r} in the answer: {body[:500]!r}"


def page_module(app, path: str):
    """The page module registered at a path (its layout takes the URL query as keyword arguments)."""
    import dash

    return next(page for page in dash.page_registry.values() if page["path"] == path)


# ---------------------------------------------------------------- pages

@pytest.mark.parametrize("path", PAGES)
def test_layout_called_directly_never_raises(app, valid, path):
    """layout(**query) of each page returns a page or a friendly message for any query."""
    layout = page_module(app, path)["layout"]

    @settings(HYPOTHESIS, max_examples=30)  # ten pages: 300 layouts in all
    @given(query=queries(valid))
    def check(query):
        text = serialised(layout(**query))
        assert leaked_traceback(text) is None, f"{path} {query!r}: traceback text in the layout"
        for hostile in SQL_INJECTIONS:
            # the page may quote the bad value back in a friendly message, but only escaped by Dash (JSON text)
            assert f"<script>{hostile}" not in text

    check()


def test_pages_through_the_flask_server(app, client, valid):
    """GET of every page, and the callback that renders it (POST _pages_content), for any query: never a 500."""

    @HYPOTHESIS
    @given(path=st.sampled_from(PAGES + ["/%27%20OR%201=1", "/compare/../../etc", "/" + "a" * 3000]),
           query=queries(valid))
    def check(path, query):
        search = search_of(query)
        response = client.get(path + search)
        assert_clean(response.status_code, response.data, f"GET {path}{search[:200]}")
        response = client.post("/_dash-update-component", data=pages_content_payload(path, search),
                               content_type="application/json")
        assert_clean(response.status_code, response.data, f"_pages_content {path}{search[:200]}")
        assert response.status_code in (200, 204), f"{path}{search[:200]}: HTTP {response.status_code}"

    check()


def test_huge_and_repeated_parameters(app, client, valid):
    """10,000 geo codes (unknown and known), repeated keys and empty values answer with the page or a message."""
    ind = valid["indicator"][0]
    cases = [f"/trends?indicator={ind}&geo={HUGE_GEO}", f"/compare?geo={','.join(['EE'] * 10000)}",
             f"/trends?indicator={ind}&indicator={ind}&geo=EE&geo=LV", "/map?indicator=&year=&geo=&view=",
             "/country?geo=EE&geo=LV", f"/relationships?indicator={ind}&y={ind}&y=" + quote(SQL_INJECTIONS[1])]
    for url in cases:
        path, _, query = url.partition("?")
        response = client.post("/_dash-update-component", data=pages_content_payload(path, "?" + query),
                               content_type="application/json")
        assert_clean(response.status_code, response.data, url[:200])
        assert response.status_code == 200


# ---------------------------------------------------------------- callbacks

def control_ids(keys):
    """Ids of URL-bound controls."""
    return [{"type": "url-control", "key": key} for key in keys]


def test_url_sync_callback_as_a_function(app, valid):
    """sync_url with hostile control values, URL and view-state: a query string or no_update, never an exception."""
    from dash import no_update

    from dashboard import components

    value = st.one_of(hostile_values(valid, "geo"), st.none(), st.integers(), st.lists(hostile_values(valid, "geo"), max_size=3))

    @HYPOTHESIS
    @given(keys=st.lists(st.sampled_from(PAGE_KEYS), min_size=1, max_size=4, unique=True), data=st.data(),
           search=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(SQL_INJECTIONS)),
           rendered=st.dictionaries(st.sampled_from(PAGE_KEYS), st.text(max_size=10), max_size=3))
    def check(keys, data, search, rendered):
        values = data.draw(st.lists(value, min_size=len(keys), max_size=len(keys)))
        out = components.sync_url(values, control_ids(keys), search, {"controls": rendered})
        assert out is no_update or (isinstance(out, str) and (out == "" or out.startswith("?")))

    check()


def test_side_panel_callback_as_a_function(app, valid):
    """fill_side_panel with hostile indicators and countries in the view-state gives a panel."""
    from dashboard import side_panel

    text = st.one_of(hostile_values(valid, "indicator"), st.none())

    @HYPOTHESIS
    @given(indicator=text, indicators=st.lists(text, max_size=3), geos=st.lists(hostile_values(valid, "geo"), max_size=4),
           empty=st.booleans())
    def check(indicator, indicators, geos, empty):
        state = None if empty else {"indicator": indicator, "indicators": indicators, "geos": geos}
        assert leaked_traceback(serialised(side_panel.fill_side_panel(state))) is None

    check()


def test_page_callbacks_as_functions(app, valid):
    """The overview's cell click and the relationships y picker with hostile input: a URL or no_update."""
    from dash import no_update

    from dashboard.pages import overview, relationships

    @HYPOTHESIS
    @given(ind=hostile_values(valid, "indicator"), geo=hostile_values(valid, "geo"),
           search=st.one_of(st.none(), st.text(max_size=30), st.sampled_from(SQL_INJECTIONS)),
           geos=st.lists(hostile_values(valid, "geo"), max_size=3))
    def check(ind, geo, search, geos):
        href = overview.open_cell({"points": [{"customdata": [ind, geo, "", search]}]})
        assert href is None or (href.startswith("/") and not href.startswith("//"))
        out = relationships.set_y(ind, search)
        assert out is no_update or out.startswith("?")

    check()


CALLBACK_BODIES = {
    "export-slot": lambda path, search: ("export-slot.children", {"id": "export-slot", "property": "children"},
                                         [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": search}]),
    "side-panel": lambda path, search: ("side-panel.children", {"id": "side-panel", "property": "children"},
                                        [{"id": "view-state", "property": "data",
                                          "value": {"page": path, "indicator": search, "geos": [search, "EE"]}}]),
}


def test_callbacks_through_dash_update_component(app, client, valid):
    """export-slot and side-panel callbacks POSTed as the browser does, with hostile URLs and view-states."""
    from tests.hardening import callback_payload

    @HYPOTHESIS
    @given(name=st.sampled_from(sorted(CALLBACK_BODIES)), path=st.sampled_from(PAGES + ["", "//", "/embed/x"]),
           query=queries(valid))
    def check(name, path, query):
        output, outputs, inputs = CALLBACK_BODIES[name](path, search_of(query))
        body = callback_payload(output, outputs, inputs)
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert_clean(response.status_code, response.data, f"{name} {path}{search_of(query)[:200]}")
        # a body over the bound is refused before parsing (dashboard/security.py), everything else is answered
        too_big = len(body) > security.MAX_BODY_BYTES
        assert response.status_code == 413 if too_big else response.status_code in (200, 204)

    check()


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
              st.sampled_from(SQL_INJECTIONS + ODD_TEXT)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


def outputs_of(output: str):
    """The "outputs" member of a request body for a callback's output string (one output, or several)."""
    if output.startswith(".."):
        return [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in output[2:-2].split("...")]
    return dict(zip(("id", "property"), output.rsplit(".", 1)))


def server_callbacks(client) -> list[dict]:
    """Every server-side callback the app declares whose ids are plain strings (pattern ids: see sync_url tests)."""
    deps = client.get("/_dash-dependencies").get_json()
    plain = [d for d in deps if d.get("clientside_function") is None
             and not any(i["id"].startswith("{") for i in d["inputs"] + d["state"])]
    assert len(plain) >= 5, f"expected the page, export-slot, side-panel, click and y callbacks; got {len(plain)}"
    return plain


def test_every_callback_with_values_of_any_type(app, client):
    """Each server callback POSTed with arbitrary JSON in every input and state: a 2xx or a plain 4xx."""
    from tests.hardening import callback_payload

    callbacks = server_callbacks(client)

    @HYPOTHESIS
    @given(data=st.data(), which=st.integers(min_value=0, max_value=len(callbacks) - 1))
    def check(data, which):
        dep = callbacks[which]
        inputs = [{"id": i["id"], "property": i["property"], "value": data.draw(JSON_VALUES)} for i in dep["inputs"]]
        state = [{"id": i["id"], "property": i["property"], "value": data.draw(JSON_VALUES)} for i in dep["state"]]
        body = callback_payload(dep["output"], outputs_of(dep["output"]), inputs, state or None)
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert_clean(response.status_code, response.data, f"{dep['output']} {body[:300]!r}")
        if response.status_code >= 400:
            assert response.mimetype == "text/plain", f"{dep['output']}: error answered as {response.mimetype}"

    check()


def test_url_sync_with_values_of_any_type(app, client):
    """The pattern-matching URL-sync callback POSTed with arbitrary control values, URL and view-state."""
    from tests.hardening import callback_payload

    deps = client.get("/_dash-dependencies").get_json()
    output = next(d["output"] for d in deps if d["output"].startswith("_pages_location.search@")
                  and any("url-control" in i["id"] for i in d["inputs"]))

    @HYPOTHESIS
    @given(keys=st.lists(st.sampled_from(PAGE_KEYS), min_size=1, max_size=3, unique=True), data=st.data())
    def check(keys, data):
        ident = [{"key": k, "type": "url-control"} for k in keys]
        inputs = [[{"id": i, "property": "value", "value": data.draw(JSON_VALUES)} for i in ident]]
        state = [[{"id": i, "property": "id", "value": i} for i in ident],
                 {"id": "_pages_location", "property": "search", "value": data.draw(JSON_VALUES)},
                 {"id": "view-state", "property": "data", "value": data.draw(JSON_VALUES)}]
        body = callback_payload(output, outputs_of(output), inputs, state)
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert_clean(response.status_code, response.data, f"sync_url {body[:300]!r}")

    check()


def test_malformed_callback_requests(app, client):
    """Broken /_dash-update-component bodies are refused without a traceback."""
    bodies = [b"", b"{not json", b"[]", b'{"output": "no-such.children"}', b'{"output": 1, "inputs": "x"}',
              json.dumps({"output": "side-panel.children", "outputs": {"id": "side-panel", "property": "children"},
                          "inputs": []}).encode()]
    for body in bodies:
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert leaked_traceback(response.data) is None, f"{body!r}: {response.data[:300]!r}"


# ---------------------------------------------------------------- export and embed routes

def test_export_and_embed_routes(app, client, valid):
    """/export/<chart>.<fmt> (csv, xlsx, html) and /embed/<chart> with hostile names and states: data or a plain 4xx."""
    from dashboard import registry

    charts = sorted(registry.charts())

    @HYPOTHESIS
    @given(chart=st.one_of(st.sampled_from(charts), st.sampled_from(SQL_INJECTIONS + ODD_TEXT[:8]), st.text(max_size=12)),
           fmt=st.sampled_from(EXPORT_FORMATS), query=queries(valid), embed=st.booleans())
    def check(chart, fmt, query, embed):
        name = quote(chart, safe="")
        url = (f"/embed/{name}" if embed else f"/export/{name}.{fmt}") + search_of(query)
        response = client.get(url)
        inlines_plotly = response.status_code == 200 and not embed and fmt == "html"
        assert_clean(response.status_code, response.data, url[:200], strict=not inlines_plotly)
        if response.status_code >= 400:
            assert response.mimetype == "text/plain", f"{url[:200]}: error answered as {response.mimetype}"

    check()


def test_database_untouched(app, built_db):
    """After all of the above the database still holds every catalogue row and geo row (read independently)."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM catalogue").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM geo WHERE code = 'EE'").fetchone()[0] == 1
    finally:
        con.close()


def test_sql_log_catches_an_inlined_value(app):
    """The recorder works: a query that inlines a hostile string is caught by the same check."""
    from dashboard.data import connection

    connection.query("SELECT ? AS bound", [SQL_INJECTIONS[0]])
    assert_only_bound_parameters(app.sql_log)  # bound: fine
    connection.query(f"SELECT '{SQL_INJECTIONS[4]}' AS inlined")
    with pytest.raises(AssertionError, match="inside SQL text"):
        assert_only_bound_parameters(app.sql_log)
    app.sql_log.clear()
