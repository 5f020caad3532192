"""End-to-end fixtures, shared by every tests/e2e module: the real app under gunicorn on a loopback port, and
headless Chromium (/usr/bin/chromium) pages that record console errors and can be cut off from the network.

    def test_something(app_url, page):
        page.goto(app_url + "/compare")
        wait_for_chart(page)
        assert not page.console_errors
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SERVER_START_TIMEOUT_S = 60  # gunicorn imports dash, pandas, duckdb and plotly once per worker
PAGE_TIMEOUT_MS = 20_000


def _free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_data_dir(request, tmp_path_factory) -> Path:
    """The ETL's real build of ../shared/data (tests/conftest.py built_data_dir), else the dashboard's stand-in."""
    from tests.dashboard.conftest import _real_data_dir

    real = _real_data_dir(request)
    if real is not None and (real / "dsm.duckdb").exists():
        return real
    from tests.dashboard.conftest import build_standin

    return build_standin(tmp_path_factory.mktemp("e2e_standin"))


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll the server until it answers (or its process dies); fail with its log."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/_dash-layout", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def app_url(e2e_data_dir, tmp_path_factory) -> str:
    """Base URL of the real app served by gunicorn (as the Procfile does) against the test data dir."""
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DSM_DATA_DIR": str(e2e_data_dir), "PYTHONPATH": str(REPO)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(gunicorn), "dashboard.app:server", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", "4", "--timeout", "120", "--log-level", "warning"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (the system's /usr/bin/chromium; never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@contextmanager
def browser_page(browser, width: int = 1400, height: int = 1000, **options) -> Iterator:
    """A page in a fresh browser context of that viewport (closed afterwards); `page.console_errors` collects
    console errors and uncaught page errors. `options` go to new_context (bypass_csp=True where axe is injected)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    try:
        tab = context.new_page()
        tab.set_default_timeout(PAGE_TIMEOUT_MS)
        tab.console_errors = []
        tab.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda exc: tab.console_errors.append(f"page error: {exc}"))
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (see browser_page)."""
    with browser_page(browser) as tab:
        yield tab


def block_internet(page) -> list[str]:
    """Abort every request that does not go to loopback; returns the list of blocked URLs (filled as they happen)."""
    blocked: list[str] = []

    def handle(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return blocked


def wait_for_chart(page, selector: str = ".js-plotly-plot") -> int:
    """Wait until a plotly chart with at least one trace is drawn; returns its number of traces."""
    page.wait_for_selector(selector)
    page.wait_for_function(
        "sel => { const g = document.querySelector(sel); return g && g.data && g.data.length > 0 && g._fullLayout; }",
        arg=selector,
    )
    return page.evaluate("sel => document.querySelector(sel).data.length", selector)


def wait_for_url(page, predicate_js: str) -> str:
    """Wait until window.location satisfies a JS predicate over `loc` (e.g. "loc.search.includes('year=2020')")."""
    page.wait_for_function(f"() => {{ const loc = window.location; return {predicate_js}; }}")
    return page.url


def choose_option(page, key: str, label_text: str) -> None:
    """Pick an option in the URL-bound dropdown `key` (dash 4 dropdown) by its visible label."""
    page.click(f".control-{key} button.dash-dropdown")
    search = page.locator(".dash-dropdown-search")
    if search.count():  # searchable dropdowns: narrow the list first (long lists render only the options in view)
        search.first.fill(label_text)
    option = page.locator(".dash-dropdown-options .dash-dropdown-option", has_text=label_text).first
    option.click()
    page.keyboard.press("Escape")


@pytest.fixture(scope="module")
def indicator(e2e_data_dir) -> tuple[str, str]:
    """The indicator with the most BSR values and its catalogue title, read from the database directly."""
    con = duckdb.connect(str(e2e_data_dir / "dsm.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT indicator FROM indicator_values v JOIN geo g ON g.code = v.geo WHERE g.is_bsr "
                          "AND v.value IS NOT NULL AND indicator IS NOT NULL GROUP BY indicator "
                          "ORDER BY count(*) DESC, indicator LIMIT 1").fetchone()
        title = con.execute("SELECT title FROM catalogue WHERE id = ?", [row[0]]).fetchone()[0]
    finally:
        con.close()
    return row[0], title
