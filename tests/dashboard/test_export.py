"""Exports over real HTTP on loopback: every download's rows against DuckDB read directly, images, bad requests."""
from __future__ import annotations

import contextlib
import csv
import io
import re
import struct
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zlib

import duckdb
import numpy as np
import pytest

from etl.model import FLAG_MEANINGS
from tests.hardening import serving

EU27 = "EU27_2020"


# --- a real server on loopback ------------------------------------------------------------------------------------

@contextlib.contextmanager
def serve_app(data_dir):
    """The dashboard's own Flask server on 127.0.0.1:<free port>, reading `data_dir`; yields its base URL."""
    with serving(data_dir) as port:
        yield f"http://127.0.0.1:{port}"


def fetch(url: str) -> tuple[int, dict, bytes]:
    """GET over HTTP: (status, headers, body), also for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def base_url(dashboard_data_dir):
    """Base URL of the dashboard served over loopback for this module."""
    with serve_app(dashboard_data_dir) as url:
        yield url


@pytest.fixture(scope="module", autouse=True)
def close_renderer():
    """Close the shared Chromium image renderer after the module (it is started on first image)."""
    yield
    from dashboard import render

    render.close()


# --- the independent reading: DuckDB queried directly -------------------------------------------------------------

@pytest.fixture(scope="module")
def db(dashboard_data_dir):
    """A read-only connection of the test's own to the database the server reads."""
    con = duckdb.connect(str(dashboard_data_dir / "dsm.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def peers(db) -> list[str]:
    """The BSR peer group as the geo table marks it."""
    return [r[0] for r in db.execute("SELECT code FROM geo WHERE is_bsr ORDER BY code").fetchall()]


@pytest.fixture(scope="module")
def flagged_indicator(db, peers) -> str:
    """The indicator with the most flagged values among the peers (so the flag columns are really exercised)."""
    row = db.execute(
        "SELECT indicator FROM indicator_values WHERE flags IS NOT NULL AND geo = ANY(?) AND indicator IS NOT NULL "
        "GROUP BY indicator ORDER BY count(*) DESC, indicator LIMIT 1", [peers]).fetchone()
    assert row, "the test database has no flagged values among the peers"
    return row[0]


def db_rows(db, indicator: str, geos: list[str], year: int | None = None) -> dict:
    """(geo, year) -> row dict from indicator_values: the latest period of each year, as the database holds it."""
    sql = ("SELECT geo, year, period, value, flags, unit, dataset, source_updated, "
           "strftime(retrieved_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS retrieved_at "
           "FROM indicator_values WHERE indicator = ? AND geo = ANY(?)")
    params: list = [indicator, geos]
    if year is not None:
        sql += " AND year = ?"
        params.append(year)
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        key = (row["geo"], int(row["year"]))
        if key not in rows or row["period"] > rows[key]["period"]:
            rows[key] = row
    return rows


def bsr_means(db, indicator: str, peers: list[str]) -> dict[int, float]:
    """Year -> plain mean of the peers' values, for years where at least 2/3 of the peers report."""
    result = db.execute(
        "SELECT year, avg(value), count(*) FROM (SELECT geo, year, arg_max(value, period) AS value "
        "FROM indicator_values WHERE indicator = ? AND geo = ANY(?) GROUP BY geo, year) WHERE value IS NOT NULL "
        "GROUP BY year", [indicator, peers]).fetchall()
    return {int(y): float(v) for y, v, n in result if n >= 2 / 3 * len(peers)}


def parse_csv(body: bytes) -> list[dict]:
    """The CSV download read with the csv module (not pandas)."""
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def as_number(text: str) -> float | None:
    """CSV cell -> float, '' -> None (missing must stay missing)."""
    return None if text == "" else float(text)


def expected_meaning(flags: str | None) -> str:
    """Each letter explained, in order, from etl.model.FLAG_MEANINGS."""
    return "; ".join(f"{letter}: {FLAG_MEANINGS[letter]}" for letter in (flags or ""))


def check_rows_match_db(rows: list[dict], expected: dict, indicator: str) -> None:
    """Every non-computed download row is the database's row (value, flags, meaning, unit, provenance), and back."""
    stored = [r for r in rows if r["geo"] != "BSR_AVG"]
    keys = [(r["geo"], int(r["year"])) for r in stored]
    assert len(keys) == len(set(keys)), "a geo/year appears twice in the download"
    assert set(keys) == set(expected), (f"rows differ from the database: extra {sorted(set(keys) - set(expected))[:5]}, "
                                        f"missing {sorted(set(expected) - set(keys))[:5]}")
    for row in stored:
        want = expected[(row["geo"], int(row["year"]))]
        assert row["indicator"] == indicator
        got_value = as_number(row["value"])
        if want["value"] is None:
            assert got_value is None, f"{row['geo']} {row['year']}: missing value exported as {row['value']!r}"
        else:
            assert got_value == pytest.approx(float(want["value"]), abs=1e-9), f"{row['geo']} {row['year']}"
        assert (row["flags"] or None) == want["flags"], f"{row['geo']} {row['year']} flags"
        assert row["flag_meaning"] == expected_meaning(want["flags"])
        assert row["period"] == want["period"]
        assert row["unit"] == want["unit"]
        assert row["dataset"] == want["dataset"]
        assert row["source_updated"] == (want["source_updated"] or "")
        assert row["retrieved_at"] == want["retrieved_at"]


# --- data downloads ---------------------------------------------------------------------------------------------

def test_trends_csv_rows_are_the_database_rows(base_url, db, peers, flagged_indicator):
    """Trends for two peers: every stored value, flag and provenance as in DuckDB; BSR average = mean of peers."""
    geos = peers[:2]
    status, headers, body = fetch(f"{base_url}/export/trends.csv?indicator={flagged_indicator}&geo={','.join(geos)}")
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("text/csv")
    rows = parse_csv(body)
    check_rows_match_db(rows, db_rows(db, flagged_indicator, geos + [EU27]), flagged_indicator)
    average = {int(r["year"]): float(r["value"]) for r in rows if r["geo"] == "BSR_AVG"}
    population = db.execute("SELECT count(*) FROM catalogue WHERE id = 'population'").fetchone()[0]
    if not population:  # the plain mean is only the rule when no population series exists
        assert average == pytest.approx(bsr_means(db, flagged_indicator, peers))
    for row in rows:
        if row["geo"] == "BSR_AVG":
            assert row["dataset"] and row["retrieved_at"], "a computed row still names its source dataset"


def test_compare_csv_keeps_flag_only_and_missing_cells(base_url, db, peers, flagged_indicator):
    """Ranked comparison for one year: EU members + peers + EU27 exactly as stored, missing values empty, not 0."""
    year = db.execute("SELECT max(year) FROM indicator_values WHERE indicator = ? AND flags IS NOT NULL AND geo = ANY(?)",
                      [flagged_indicator, peers]).fetchone()[0]
    status, _, body = fetch(f"{base_url}/export/ranked_bar.csv?indicator={flagged_indicator}&year={year}")
    assert status == 200, body[:300]
    shown = [r[0] for r in db.execute(
        "SELECT code FROM geo WHERE (is_eu27 AND NOT is_aggregate) OR is_bsr OR code = ?", [EU27]).fetchall()]
    expected = db_rows(db, flagged_indicator, shown, year)
    rows = parse_csv(body)
    check_rows_match_db(rows, expected, flagged_indicator)
    flagged = [r for r in rows if r["flags"]]
    assert flagged, "the chosen year has flagged values, so the download must show some"


def test_flag_only_cell_is_exported_without_a_value(base_url, db):
    """A cell published with a flag but no value (e.g. 'c' confidential) comes out with an empty value."""
    row = db.execute("SELECT indicator, geo, year FROM indicator_values WHERE value IS NULL AND flags IS NOT NULL "
                     "AND indicator IS NOT NULL AND geo IN (SELECT code FROM geo WHERE is_eu27 AND NOT is_aggregate) "
                     "ORDER BY indicator, geo, year LIMIT 1").fetchone()
    if row is None:
        pytest.skip("the test database has no flag-only cell of an EU member")
    indicator, geo, year = row
    has_values = db.execute("SELECT count(*) FROM indicator_values WHERE indicator = ? AND year = ? AND value IS NOT NULL",
                            [indicator, year]).fetchone()[0]
    if not has_values:
        pytest.skip("that year has no values at all, so no view shows it")
    status, _, body = fetch(f"{base_url}/export/ranked_bar.csv?indicator={indicator}&year={year}")
    assert status == 200, body[:300]
    exported = [r for r in parse_csv(body) if r["geo"] == geo]
    assert len(exported) == 1
    assert exported[0]["value"] == ""
    flags = db.execute("SELECT flags FROM indicator_values WHERE indicator = ? AND geo = ? AND year = ?",
                       [indicator, geo, year]).fetchone()[0]
    assert exported[0]["flags"] == flags and exported[0]["flag_meaning"] == expected_meaning(flags)


def test_xlsx_holds_the_same_rows_and_explains_flags(base_url, db, peers, flagged_indicator):
    """The workbook's Data sheet equals the database rows; its About sheet names the sources and every flag shown."""
    from openpyxl import load_workbook

    geos = peers[:3]
    status, headers, body = fetch(f"{base_url}/export/trends.xlsx?indicator={flagged_indicator}&geo={','.join(geos)}")
    assert status == 200, body[:300]
    assert "spreadsheetml" in headers["Content-Type"]
    book = load_workbook(io.BytesIO(body), read_only=True)
    assert book.sheetnames == ["Data", "About"]
    sheet = list(book["Data"].iter_rows(values_only=True))
    header, data = sheet[0], sheet[1:]
    rows = [{h: ("" if v is None else (v if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v)))
             for h, v in zip(header, values)} for values in data]
    check_rows_match_db(rows, db_rows(db, flagged_indicator, geos + [EU27]), flagged_indicator)
    about = dict((k, v) for k, v in list(book["About"].iter_rows(values_only=True))[1:])
    letters = sorted({letter for r in rows for letter in r["flags"]})
    assert letters, "the chosen indicator has flags among the peers"
    for letter in letters:
        assert about[f"flag {letter}"] == FLAG_MEANINGS[letter]
    dataset = db.execute("SELECT any_value(dataset) FROM indicator_values WHERE indicator = ?", [flagged_indicator]).fetchone()[0]
    assert any(str(v).startswith(dataset) for k, v in about.items() if k == "source dataset" or k.startswith("source"))
    assert about["view"].endswith(f"indicator={flagged_indicator}&geo={','.join(geos)}") or flagged_indicator in about["view"]


# --- images ------------------------------------------------------------------------------------------------------

def png_size(body: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert body[12:16] == b"IHDR"
    return struct.unpack(">II", body[16:24])


def png_pixels(body: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG to an (h, w, channels) array (all five scanline filters)."""
    pos, chunks = 8, []
    width, height, depth, colour_type, interlace = 0, 0, 0, 0, 0
    while pos < len(body):
        length, kind = struct.unpack(">I4s", body[pos:pos + 8])
        data = body[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            chunks.append(data)
        pos += 12 + length
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
    bpp = 4 if colour_type == 6 else 3
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(height, width * bpp + 1)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    previous = np.zeros(width * bpp, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:
            row = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:
            row = (line + previous) % 256
        else:
            row = np.zeros_like(line)
            for x in range(len(line)):
                left = row[x - bpp] if x >= bpp else 0
                up = previous[x]
                if kind == 3:
                    row[x] = (line[x] + (left + up) // 2) % 256
                else:
                    upper_left = previous[x - bpp] if x >= bpp else 0
                    p = left + up - upper_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                    row[x] = (line[x] + pred) % 256
        out[y] = row
        previous = row.astype(np.int32)
    return out.reshape(height, width, bpp)


@pytest.mark.parametrize("size, expected", [("slide169", (1920, 1080)), ("slide43", (1600, 1200)), ("column", (800, 500))])
def test_png_has_the_requested_pixel_size(base_url, flagged_indicator, size, expected):
    """Each named size gives exactly its pixel size (read from the PNG header)."""
    status, headers, body = fetch(f"{base_url}/export/trends.png?indicator={flagged_indicator}&size={size}&theme=presentation")
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "image/png"
    assert png_size(body) == expected


def test_png_is_a_drawn_chart_not_a_blank_canvas(base_url, flagged_indicator):
    """The column-size PNG has many distinct colours (lines, text, anti-aliasing), not a blank page."""
    status, _, body = fetch(f"{base_url}/export/trends.png?indicator={flagged_indicator}&size=column")
    assert status == 200, body[:300]
    pixels = png_pixels(body)
    assert pixels.shape[:2] == (500, 800)
    colours = np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)
    assert len(colours) > 50, f"only {len(colours)} distinct colours: the image looks blank"
    dark = (pixels[..., :3].max(axis=2) < 100).mean()
    assert 0.001 < dark < 0.5, f"{dark:.4f} of pixels are dark: no text/lines, or a dark blank"


def svg_text(body: bytes) -> str:
    """All text drawn in an SVG, joined by spaces (read with ElementTree)."""
    root = ET.fromstring(body)
    return " ".join(" ".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))


def test_svg_carries_title_source_and_flag_legend(base_url, db, flagged_indicator):
    """The SVG text holds the indicator's catalogue title, the source dataset code and the flag legend."""
    status, headers, body = fetch(f"{base_url}/export/trends.svg?indicator={flagged_indicator}&size=slide169")
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("image/svg+xml")
    text = re.sub(r"\s+", " ", svg_text(body))
    title, dataset = db.execute("SELECT c.title, any_value(v.dataset) FROM catalogue c JOIN indicator_values v "
                                "ON v.indicator = c.id WHERE c.id = ? GROUP BY c.title", [flagged_indicator]).fetchone()
    assert title in text
    assert "Source:" in text and dataset in text
    assert "Flags:" in text
    assert 'width="1920"' in body[:2000].decode("utf-8", "replace")


def test_map_png_renders_offline_from_local_topojson(base_url, flagged_indicator):
    """The map image draws countries (many colours) with the app's own topojson, at the requested size."""
    status, _, body = fetch(f"{base_url}/export/choropleth.png?indicator={flagged_indicator}&size=column")
    assert status == 200, body[:300]
    pixels = png_pixels(body)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)) > 50


# --- offline HTML ------------------------------------------------------------------------------------------------

def test_html_inlines_plotly_and_map_topojson(base_url, flagged_indicator):
    """The standalone HTML references no script or data URL: plotly.js and the topojson are inside the file."""
    status, headers, body = fetch(f"{base_url}/export/choropleth.html?indicator={flagged_indicator}")
    assert status == 200, body[:300]
    page = body.decode("utf-8")
    assert headers["Content-Type"].startswith("text/html")
    assert not re.search(r"<script[^>]+src=", page), "a <script src> would need the network"
    assert "window.PlotlyGeoAssets" in page and '"world_50m"' in page
    assert len(page) > 3_000_000, "plotly.js (several MB) must be inlined"


# --- bad requests ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, status, words", [
    ("/export/no_such_chart.csv", 404, "Unknown chart"),
    ("/export/trends.pdf", 404, "Unknown format"),
    ("/export/trends", 404, "format"),
    ("/export/trends.png?size=poster", 400, "Unknown size"),
    ("/export/trends.png?theme=neon", 400, "Unknown theme"),
    ("/export/trends.csv?indicator=no_such_indicator", 400, "Unknown indicator"),
    ("/export/trends.csv?geo=XX,YY", 400, "Unknown country"),
    ("/export/ranked_bar.csv?year=1066", 400, "1066"),
    ("/export/ranked_bar.csv?year=abc", 400, "not a year"),
    ("/export/trends.csv?view=pie", 400, "view"),
    ("/embed/no_such_chart", 404, "Unknown chart"),
    ("/embed/trends?geo=XX", 400, "Unknown country"),
])
def test_bad_requests_get_a_plain_4xx_message(base_url, path, status, words):
    """Unknown chart, format, size, theme or state: a 4xx with a short plain-text message, no traceback."""
    got, headers, body = fetch(base_url + path)
    text = body.decode("utf-8")
    assert got == status, text
    assert headers["Content-Type"].startswith("text/plain")
    assert words in text
    assert "Traceback" not in text and "<html" not in text.lower()
    assert len(text) < 600


def test_flag_explanations_cover_combinations_letter_by_letter():
    """'bu' is explained as b then u; no flag gives an empty explanation; an unknown letter is refused."""
    from dashboard.export import explain_flags

    assert explain_flags("bu") == f"b: {FLAG_MEANINGS['b']}; u: {FLAG_MEANINGS['u']}"
    assert explain_flags(None) == "" and explain_flags(float("nan")) == ""
    with pytest.raises(AssertionError, match="FLAG_MEANINGS"):
        explain_flags("b?")


def test_renderer_serves_concurrent_threads_each_its_own_image():
    """Eight threads render at once through the one shared browser; each gets back exactly the image it asked for."""
    import plotly.graph_objects as go

    from dashboard import render

    jobs = [(f"Synthetic chart {i}", (320 + 16 * i, 200 + 8 * i)) for i in range(8)]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def draw(i: int, title: str, size: tuple[int, int]) -> None:
        fig = go.Figure(go.Bar(x=["a", "b", "c"], y=[i + 1, 2, 3]), layout={"title": {"text": title}})
        try:
            results[i] = render.renderer().render(fig, "svg" if i % 2 else "png", *size)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=draw, args=(i, title, size)) for i, (title, size) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for i, (title, size) in enumerate(jobs):
        if i % 2:
            assert title in svg_text(results[i]) and f'width="{size[0]}"' in results[i][:500].decode()
        else:
            assert png_size(results[i]) == size


def test_every_registered_chart_has_an_embed_and_downloads_with_provenance(base_url):
    """Each chart of the registry, in its default state: the embed page answers, and its CSV has one row per row
    of the chart's data with a dataset and a retrieval time on every row."""
    from dashboard import registry
    from dashboard.export import chart_state

    charts = registry.charts()
    assert {"trends", "ranked_bar", "choropleth", "scorecard"} <= set(charts)
    for name, chart in charts.items():
        status, headers, body = fetch(f"{base_url}/embed/{name}")
        assert status == 200, (name, body[:300])
        assert b'id="dsm-embed-figure"' in body
        status, _, body = fetch(f"{base_url}/export/{name}.csv")
        assert status == 200, (name, body[:300])
        rows = parse_csv(body)
        assert len(rows) == len(chart.data(chart_state(chart, {}))[0]), name
        assert all(r["dataset"] and r["retrieved_at"] for r in rows), f"{name}: a row without provenance"


def test_scatter_csv_gives_each_axis_its_database_value_flags_and_source(base_url, db):
    """A two-indicator chart: x and y of every row are the stored values of the named indicators, flags explained."""
    status, _, body = fetch(f"{base_url}/export/scatter.csv")
    assert status == 200, body[:300]
    rows = parse_csv(body)
    assert rows
    for row in rows:
        for axis in ("x", "y"):
            stored = db.execute(
                "SELECT value, flags, dataset, unit FROM indicator_values WHERE indicator = ? AND geo = ? AND period = ?",
                [row[f"{axis}_indicator"], row["geo"], row[f"{axis}_period"]]).fetchone()
            assert stored is not None, (axis, row["geo"])
            assert as_number(row[axis]) == pytest.approx(stored[0]), (axis, row["geo"])
            assert (row[f"{axis}_flags"] or None) == stored[1]
            assert row[f"{axis}_flag_meaning"] == expected_meaning(stored[1])
            assert row[f"{axis}_dataset"] == stored[2] and row[f"{axis}_unit"] == stored[3]
