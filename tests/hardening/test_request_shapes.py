"""Request shapes that once answered 500 (issue 11's fuzz), property-based: each is now a plain 4xx.

Unicode digits in a year, deeply nested or oversized callback bodies, unknown callback outputs, wrongly typed
callback values, traversal under /_dash-component-suites/, unknown paths, overlong queries; the embed code's host.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import security
from tests.hardening import callback_payload, leaked_traceback, pages_content_payload
from tests.hardening.test_hostile_input import HYPOTHESIS, app, client, fresh_sql_log  # noqa: F401 (fixtures)

# Characters str.isdigit() accepts that int() refuses (superscripts, circled digits), and ones int() takes but a
# URL year must not (full-width, Arabic-Indic): none is an ASCII year.
NON_ASCII_DIGITS = st.text(alphabet=st.sampled_from("²³¹⁰⁴①⑨２０٣۴१"), min_size=1, max_size=6)
YEAR_ROUTES = ["/export/ranked_bar.csv", "/export/trends.csv", "/export/scorecard.xlsx", "/embed/ranked_bar",
               "/embed/choropleth", "/export/scatter.csv"]


def plain_4xx(response, what: str, statuses=range(400, 500)) -> None:
    """A plain-text 4xx without traceback text."""
    assert response.status_code in statuses, f"{what}: HTTP {response.status_code}: {response.data[:200]!r}"
    assert response.mimetype == "text/plain", f"{what}: answered as {response.mimetype}"
    assert leaked_traceback(response.data) is None, f"{what}: {response.data[:300]!r}"


def test_unicode_digit_years_are_refused_everywhere(client):
    """year=² and friends: exports and embeds answer 400 naming the year; the page callback shows the message."""

    @HYPOTHESIS
    @given(year=NON_ASCII_DIGITS, route=st.sampled_from(YEAR_ROUTES), page=st.sampled_from(["/compare", "/map", "/relationships", "/desi"]))
    def check(year, route, page):
        response = client.get(f"{route}?year={quote(year)}")
        plain_4xx(response, f"{route}?year={year!r}", statuses=(400,))
        assert "year" in response.get_data(as_text=True)
        answer = client.post("/_dash-update-component", data=pages_content_payload(page, f"?year={quote(year)}"),
                             content_type="application/json")
        assert answer.status_code == 200, f"{page}?year={year!r}: HTTP {answer.status_code}"
        assert leaked_traceback(answer.data) is None

    check()


def test_state_refuses_non_ascii_digits():
    """The state parser's own rule (str.isdigit() alone lets '²' through to int())."""
    from dashboard.state import is_year_text

    assert is_year_text("2023") and not is_year_text("²") and not is_year_text("２０２３") and not is_year_text("")


@pytest.mark.parametrize("depth", [security.MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_callback_bodies(client, depth):
    """Nesting beyond the bound is refused before json.loads (which would hit the recursion limit)."""
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        body = (opener * depth + "1" + closer * depth).encode()
        if len(body) > security.MAX_BODY_BYTES:
            body = (opener * depth).encode()[: security.MAX_BODY_BYTES - 1]
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        plain_4xx(response, f"depth {depth}", statuses=(400,))


def test_depth_count_ignores_brackets_inside_strings():
    """A string full of brackets is not nesting; a real nest is counted."""
    assert not security.json_too_deep(json.dumps({"search": "[" * 500}).encode())
    assert security.json_too_deep(b"[" * (security.MAX_JSON_DEPTH + 1))
    assert not security.json_too_deep(b"[" * security.MAX_JSON_DEPTH + b"]" * security.MAX_JSON_DEPTH)


def test_oversized_bodies_are_refused(client):
    """A body over the bound answers 413, whether it is JSON or not."""
    big = json.dumps({"output": "x", "pad": "a" * (security.MAX_BODY_BYTES + 10)}).encode()
    plain_4xx(client.post("/_dash-update-component", data=big, content_type="application/json"), "big body", (413,))


def test_unknown_callback_outputs(client):
    """Any output the app does not declare is a 400 (Dash would raise KeyError: a 500)."""

    @HYPOTHESIS
    @given(output=st.one_of(st.text(max_size=30), st.sampled_from(["nope.children", "..a.b...c.d..", ".", ""])))
    def check(output):
        body = callback_payload(output, {"id": "x", "property": "children"}, [])
        plain_4xx(client.post("/_dash-update-component", data=body, content_type="application/json"), repr(output),
                  statuses=(400,))

    check()


WRONG_TYPES = {
    "pathname": st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.booleans()),
    "n_clicks": st.one_of(st.text(max_size=5), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=2)),
    "value": st.one_of(st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2), st.booleans(),
                       st.lists(st.dictionaries(st.text(max_size=3), st.integers(), max_size=1), min_size=1, max_size=2)),
}


def test_wrongly_typed_callback_values(client):
    """An input whose JSON type its property never takes (a dict for a dropdown value, text for n_clicks) is a 400."""
    deps = client.get("/_dash-dependencies").get_json()
    plain_inputs = {i["property"] for d in deps if d.get("clientside_function") is None for i in d["inputs"]
                    if not i["id"].startswith("{")}
    assert "pathname" in plain_inputs, f"no server callback reads a pathname: {sorted(plain_inputs)}"

    @HYPOTHESIS
    @given(data=st.data(), prop=st.sampled_from(sorted(WRONG_TYPES)))
    def check(data, prop):
        usable = [d for d in deps if d.get("clientside_function") is None
                  and any(i["property"] == prop and not i["id"].startswith("{") for i in d["inputs"])]
        if not usable:
            return
        dep = data.draw(st.sampled_from(usable))
        inputs = [{"id": i["id"], "property": i["property"],
                   "value": data.draw(WRONG_TYPES[prop]) if i["property"] == prop else None} for i in dep["inputs"]]
        body = callback_payload(dep["output"], {"id": "x", "property": "y"}, inputs)
        plain_4xx(client.post("/_dash-update-component", data=body, content_type="application/json"),
                  f"{dep['output']} {prop}", statuses=(400,))

    check()


def test_traversal_under_component_suites(client):
    """Paths that climb out of a component package, or name no package, answer a plain 404."""

    @HYPOTHESIS
    @given(package=st.sampled_from(["dash", "plotly", "..", "nope", "%2e%2e"]),
           tail=st.lists(st.sampled_from(["..", "%2e%2e", "..%2f", "deps", "etc", "passwd", "setup.py", "a.js"]),
                         min_size=1, max_size=5))
    def check(package, tail):
        path = f"/_dash-component-suites/{package}/" + "/".join(tail)
        response = client.get(path)
        assert response.status_code in (404, 400), f"{path}: HTTP {response.status_code}"
        assert leaked_traceback(response.data) is None

    check()


def test_unknown_paths_answer_404_with_the_friendly_page(client):
    """Any path that is not a page answers 404, with the app's index (dash then shows the friendly page)."""
    import dash

    pages = {page["path"] for page in dash.page_registry.values()}

    @HYPOTHESIS
    @given(path=st.text(alphabet=st.characters(categories=["L", "N"], include_characters="-_"), min_size=1, max_size=20))
    def check(path):
        url = "/" + quote(path)
        response = client.get(url)
        if "/" + path in pages:
            assert response.status_code == 200
        else:
            assert response.status_code == 404, f"{url}: HTTP {response.status_code}"
            assert b'id="react-entry-point"' in response.data

    check()
    for path in ("/", "/compare", "/map", "/sources"):
        assert client.get(path).status_code == 200, path
    layout = client.post("/_dash-update-component", data=pages_content_payload("/no-such-page", ""),
                         content_type="application/json")
    assert layout.status_code == 200 and b"There is no page at this address" in layout.data


def test_long_queries_answer_414(client):
    """A query past the bound is a plain 414 on every route (gunicorn's limit is set above it)."""

    @HYPOTHESIS
    @given(route=st.sampled_from(["/", "/compare", "/export/trends.csv", "/embed/trends", "/_dash-layout"]),
           extra=st.integers(min_value=1, max_value=3000))
    def check(route, extra):
        response = client.get(route + "?geo=" + "E" * (security.MAX_URL_CHARS + extra))
        plain_4xx(response, route, statuses=(414,))

    check()
    assert client.get("/compare?geo=" + "E" * 100).status_code == 200


def test_scatter_xlsx_for_every_state(client, valid):
    """/export/scatter.xlsx works for the states a visitor can reach (it raised KeyError 'source_updated' for all)."""
    import io

    import openpyxl

    for indicator in valid["indicator"][:3]:
        for y in valid["indicator"][:3]:
            response = client.get(f"/export/scatter.xlsx?indicator={indicator}&y={y}")
            assert response.status_code in (200, 400), f"{indicator}/{y}: HTTP {response.status_code}"
            if response.status_code == 200:
                about = dict(openpyxl.load_workbook(io.BytesIO(response.data))["About"].iter_rows(values_only=True))
                assert about.get("source dataset"), f"{indicator}/{y}: no source dataset in the About sheet"
            else:
                plain_4xx(response, f"{indicator}/{y}")


@pytest.fixture
def valid(built_db):
    """Indicators with values, from the database itself."""
    import duckdb

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        rows = con.execute("SELECT indicator FROM indicator_values WHERE value IS NOT NULL GROUP BY 1 "
                           "ORDER BY count(*) DESC LIMIT 4").fetchall()
    finally:
        con.close()
    return {"indicator": [r[0] for r in rows]}


def test_embed_links_use_the_public_url_never_host(client, monkeypatch):
    """The embed page's link back, the export's view link and the copy buttons take DSM_PUBLIC_URL; Host is ignored."""
    from dashboard import embed

    monkeypatch.setenv("DSM_PUBLIC_URL", "https://dsm.example.org/")
    page = client.get("/embed/trends", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert 'href="https://dsm.example.org/trends' in page and "evil.example" not in page
    controls = json.dumps(embed.share_controls("trends", "?indicator=x", title="t").to_plotly_json(), default=str)
    assert "https://dsm.example.org/embed/trends?indicator=x" in controls and "evil" not in controls
    monkeypatch.delenv("DSM_PUBLIC_URL")
    page = client.get("/embed/trends", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page and 'href="/trends' in page
    monkeypatch.setenv("DSM_PUBLIC_URL", "javascript:alert(1)")
    with pytest.raises(AssertionError, match="DSM_PUBLIC_URL"):
        security.public_base_url()
