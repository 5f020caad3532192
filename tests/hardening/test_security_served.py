"""What the served app promises about security: headers on every kind of response, a read-only database, no debug.

Pages, assets, callbacks, exports and embeds are fetched over loopback HTTP from the real app; the Procfile's own
command is started under gunicorn once.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.hardening import REPO, leaked_traceback, pages_content_payload, request, serving

SECRET = "hardening-secret-detail-7f3a"  # appears only in a forced exception: it must never reach a client


@pytest.fixture(scope="module")
def port(built_data_dir):
    """The real app on loopback, reading the session's offline build."""
    with serving(built_data_dir) as number:
        yield number


def csp(headers: dict) -> dict[str, list[str]]:
    """Content-Security-Policy -> {directive: sources}."""
    value = headers.get("Content-Security-Policy")
    assert value, f"no Content-Security-Policy header in {sorted(headers)}"
    return {part.split()[0]: part.split()[1:] for part in value.split(";") if part.split()}


def asset_paths(port: int) -> list[str]:
    """A stylesheet from /assets and the first Dash component bundle the index page links."""
    _, _, body = request(port, "GET", "/")
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', body.decode())
    assert scripts, "the index page links no Dash component bundle"
    return ["/assets/style.css", scripts[0]]


def indicator_with_data(db: Path) -> str:
    """A headline indicator with values, read directly from the database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT indicator FROM indicator_values WHERE value IS NOT NULL "
                           "ORDER BY indicator LIMIT 1").fetchone()[0]
    finally:
        con.close()


def responses(port: int, db: Path) -> dict[str, tuple[int, dict, bytes]]:
    """One response of every kind: page, 404 page, assets, callback, export, export error."""
    ind = indicator_with_data(db)
    got = {
        "page": request(port, "GET", f"/trends?indicator={ind}"),
        "unknown page": request(port, "GET", "/no/such/page"),
        "callback": request(port, "POST", "/_dash-update-component", pages_content_payload("/trends", f"?indicator={ind}"),
                            {"Content-Type": "application/json"}),
        "dash layout": request(port, "GET", "/_dash-layout"),
        "export csv": request(port, "GET", f"/export/trends.csv?indicator={ind}"),
        "export error": request(port, "GET", "/export/no_such_chart.csv"),
    }
    for path in asset_paths(port):
        got[f"asset {path}"] = request(port, "GET", path)
    return got


def test_headers_on_every_kind_of_response(port, built_db):
    """CSP with frame-ancestors 'none', nosniff and a referrer policy on pages, assets, callbacks and exports."""
    for kind, (status, headers, _) in responses(port, built_db).items():
        assert status < 500, f"{kind}: HTTP {status}"
        policy = csp(headers)
        assert policy.get("frame-ancestors") == ["'none'"], f"{kind}: frame-ancestors {policy.get('frame-ancestors')}"
        assert "'unsafe-eval'" not in policy.get("script-src", []), f"{kind}: script-src allows eval"
        assert "'unsafe-inline'" not in policy.get("script-src", []), f"{kind}: script-src allows inline scripts"
        assert headers.get("X-Content-Type-Options") == "nosniff", f"{kind}: no nosniff"
        assert headers.get("Referrer-Policy"), f"{kind}: no Referrer-Policy"


def test_only_embeds_may_be_framed(port, built_db):
    """/embed/* (pages, their assets, their errors) allow framing; the same chart's export does not."""
    ind = indicator_with_data(built_db)
    for path in (f"/embed/trends?indicator={ind}", "/embed/_assets/embed.js", "/embed/no_such_chart"):
        status, headers, _ = request(port, "GET", path)
        assert status < 500, f"{path}: HTTP {status}"
        assert csp(headers)["frame-ancestors"] == ["*"], f"{path}: {csp(headers)['frame-ancestors']}"
        assert headers.get("X-Content-Type-Options") == "nosniff"
    _, headers, _ = request(port, "GET", f"/export/trends.csv?indicator={ind}")
    assert csp(headers)["frame-ancestors"] == ["'none'"]


def test_database_connection_refuses_writes(built_data_dir, monkeypatch):
    """A write through the dashboard's own connection fails with a duckdb error and changes nothing."""
    from dashboard.data import connection

    monkeypatch.setenv("DSM_DATA_DIR", str(built_data_dir))
    db = built_data_dir / "dsm.duckdb"
    before = os.stat(db)
    con, _ = connection.connection()
    catalogue_rows = con.execute("SELECT count(*) FROM catalogue").fetchone()[0]
    assert catalogue_rows > 0
    for statement in ("CREATE TABLE hacked (a INTEGER)", "DELETE FROM catalogue", "DROP TABLE catalogue",
                      "INSERT INTO geo (code, name) VALUES ('XX', 'Nowhere')", "UPDATE catalogue SET title = 'x'",
                      "CREATE VIEW hacked_view AS SELECT 1"):
        with pytest.raises(duckdb.Error, match="(?i)read.only"):
            con.execute(statement)
    independent = duckdb.connect(str(db), read_only=True)
    try:
        assert independent.execute("SELECT count(*) FROM catalogue").fetchone()[0] == catalogue_rows
        assert independent.execute("SELECT count(*) FROM information_schema.tables "
                                   "WHERE table_name LIKE 'hacked%'").fetchone()[0] == 0
    finally:
        independent.close()
    after = os.stat(db)
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size), "the database file changed"


def test_no_debug_mode():
    """Flask debug off, Dash dev tools (error UI, hot reload, dev bundles) off, and the index page says so too."""
    from dashboard.app import app

    assert app.server.debug is False
    assert not app.server.config.get("DEBUG")
    assert not app.server.config.get("PROPAGATE_EXCEPTIONS"), "exceptions would reach the WSGI server"
    assert not app.server.testing
    for tool in ("ui", "hot_reload", "serve_dev_bundles", "props_check"):
        assert not app._dev_tools[tool], f"dash dev tool {tool} is on"
    client = app.server.test_client()
    body = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', body, re.S).group(1))
    assert config.get("ui") is False and config.get("props_check") is False
    assert "hot_reload" not in config


def test_forced_exception_in_a_route_is_a_plain_500(port, built_db, monkeypatch):
    """An unexpected exception inside the export route answers a bare 500: no traceback, no exception text."""
    from dashboard import export

    def explode(*_args, **_kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(export, "resolve_view", explode)
    # xlsx: CSV answers are cached per state, so a CSV asked for earlier would not reach resolve_view
    status, headers, body = request(port, "GET", f"/export/trends.xlsx?indicator={indicator_with_data(built_db)}")
    assert status == 500
    assert leaked_traceback(body) is None, body[:500]
    assert SECRET.encode() not in body
    assert headers.get("X-Content-Type-Options") == "nosniff" and csp(headers)["frame-ancestors"] == ["'none'"]


def test_forced_exception_in_a_callback_is_a_plain_500(port, monkeypatch):
    """A page layout that raises inside the _pages_content callback answers a bare 500 as well."""
    import dash

    def explode(**_query):
        raise RuntimeError(SECRET)

    entry = next(page for page in dash.page_registry.values() if page["path"] == "/trends")
    monkeypatch.setitem(entry, "layout", explode)
    status, _, body = request(port, "POST", "/_dash-update-component", pages_content_payload("/trends", ""),
                              {"Content-Type": "application/json"})
    assert status == 500
    assert leaked_traceback(body) is None, body[:500]
    assert SECRET.encode() not in body


def procfile_command() -> list[str]:
    """The web process command of the Procfile, split like a shell would."""
    lines = [line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:")]
    assert len(lines) == 1, f"Procfile needs exactly one web: line, has {lines}"
    return shlex.split(lines[0][len("web:"):])


def test_procfile_serves_with_gunicorn_without_debug():
    """The Procfile runs gunicorn on dashboard.app:server with no reload/debug option."""
    command = procfile_command()
    assert command[0] == "gunicorn" and "dashboard.app:server" in command
    text = " ".join(command).lower()
    for forbidden in ("--reload", "debug", "--spew", "--check-config"):
        assert forbidden not in text, f"Procfile has {forbidden!r}: {text}"


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_procfile_command_serves_the_app_safely(built_data_dir, tmp_path):
    """The Procfile's own command (bound to loopback) answers pages with the headers and hostile input without a traceback."""
    number = free_port()
    command = [arg.replace("0.0.0.0", "127.0.0.1").replace("${PORT:-8050}", str(number)) for arg in procfile_command()]
    command[0] = str(Path(sys.executable).with_name("gunicorn"))
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DSM_DATA_DIR": str(built_data_dir), "PORT": str(number), "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        status = wait_for(number, process, log)
        assert status == 200
        status, headers, _ = request(number, "GET", "/compare")
        assert status == 200 and csp(headers)["frame-ancestors"] == ["'none'"]
        for method, path, body in (("POST", "/_dash-update-component", b"{not json"),
                                   ("POST", "/_dash-update-component", b'{"output": "nope.children"}'),
                                   ("GET", "/export/trends.csv?indicator=%27%20OR%201%3D1%20--", None)):
            status, _, answer = request(number, method, path, body, {"Content-Type": "application/json"})
            assert 400 <= status < 600, f"{path} {body!r}: HTTP {status}"
            assert leaked_traceback(answer) is None, f"{path} {body!r}: {answer[:300]!r}"
    finally:
        process.terminate()
        process.wait(30)


def wait_for(number: int, process: subprocess.Popen, log: Path) -> int:
    """Poll gunicorn until it answers /_dash-layout (or fail with its log)."""
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            return request(number, "GET", "/_dash-layout")[0]
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer: {log.read_text()[-2000:]}")
