"""Embeds in real Chromium: an /embed/ chart loads inside an iframe of ANOTHER origin and fills it; other pages refuse
to be framed; the share controls copy a working link and embed code; no page trips the Content-Security-Policy."""
from __future__ import annotations

import http.server
import threading
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import wait_for_chart

pytestmark = pytest.mark.browser

CSP_LISTENER = ("document.addEventListener('securitypolicyviolation', e => "
                "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


class HostPages:
    """A second web server on another loopback port (another origin) serving pages the test writes."""

    def __init__(self):
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                body = pages.get(self.path.split("?")[0])
                if self.path == "/favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def host(self, path: str, html: str) -> str:
        """Serve `html` at `path` on this origin; returns its URL."""
        self.pages[path] = html
        return self.url + path

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def host_site():
    """The other origin that embeds the dashboard."""
    site = HostPages()
    yield site
    site.close()




@pytest.fixture(scope="module")
def shared_context(browser):
    """One browser context for this module, so plotly.js (4.8 MB) is parsed from the HTTP cache after the first page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(CSP_LISTENER)  # every page of this module reports CSP violations as console errors
    yield context
    context.close()


@pytest.fixture
def page(shared_context):
    """A fresh tab in the shared context; `page.console_errors` collects console errors and page errors."""
    tab = shared_context.new_page()
    tab.set_default_timeout(20_000)
    tab.console_errors = []
    tab.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.console_errors.append(f"page error: {exc}"))
    yield tab
    tab.close()


def frame_of(page, fragment: str):
    """The page's frame whose URL contains `fragment` (or that failed to load it)."""
    for frame in page.frames:
        if fragment in frame.url:
            return frame
    return None


def read_clipboard(page, ready, attempts: int = 100) -> str:
    """The clipboard text once `ready(text)` holds (the copy runs after a clientside callback)."""
    text = ""
    for _ in range(attempts):
        text = page.evaluate("navigator.clipboard.readText()")
        if ready(text):
            return text
        page.wait_for_timeout(100)
    return text


def iframe_page(src: str, width: int, height: int) -> str:
    """A host page with one iframe; data-loaded is set when the iframe's load event fires (also for refusals)."""
    return (f'<!doctype html><html><body style="margin:0"><h1>Host site</h1>'
            f'<iframe id="embed" src="{src}" width="{width}" height="{height}" style="border:0" '
            f'onload="document.body.dataset.loaded = \'yes\'"></iframe></body></html>')


def test_embed_loads_in_an_iframe_of_another_origin_and_fills_it(page, app_url, host_site, indicator):
    """The embed renders inside a foreign origin's iframe, sized to the iframe, and follows it when resized."""
    indicator_id, title = indicator
    src = f"{app_url}/embed/trends?indicator={indicator_id}"
    url = host_site.host("/embeds-trends.html", iframe_page(src, 640, 420))
    assert urlparse(url).port != urlparse(app_url).port, "the host page must come from another origin"
    page.goto(url)
    page.wait_for_function("document.body.dataset.loaded === 'yes'")
    frame = frame_of(page, "/embed/trends")
    assert frame is not None and frame.url.startswith(app_url)
    traces = wait_for_chart(frame)
    assert traces > 0
    size = frame.evaluate("() => { const r = document.querySelector('.js-plotly-plot .main-svg').getBoundingClientRect();"
                          " return [r.width, r.height]; }")
    assert size[0] == pytest.approx(640, abs=2)
    assert 420 * 0.75 <= size[1] <= 420, f"the chart should fill the frame height less the link line: {size}"
    assert title in frame.locator(".gtitle").text_content()
    assert any("Source:" in t for t in frame.locator(".annotation-text").all_text_contents())
    back = frame.locator(".dsm-embed-footer a")
    # relative without DSM_PUBLIC_URL (never from Host): it resolves against the embed page's own origin
    assert back.evaluate("a => a.href").startswith(f"{app_url}/trends?indicator={indicator_id}")
    assert back.get_attribute("target") == "_blank"
    page.evaluate("() => { const f = document.getElementById('embed'); f.width = 900; f.height = 300; }")
    frame.wait_for_function("() => Math.abs(document.querySelector('.js-plotly-plot .main-svg')"
                            ".getBoundingClientRect().width - 900) < 3")
    assert not page.console_errors


def test_non_embed_page_is_refused_in_a_frame(page, app_url, host_site, indicator):
    """The full dashboard page in a foreign iframe does not load (X-Frame-Options/frame-ancestors), next to an
    embed in the same host page that does (so the refusal is the app's, not the test's)."""
    indicator_id, _ = indicator
    html = (f'<!doctype html><html><body><iframe id="page" src="{app_url}/trends?indicator={indicator_id}" '
            f'width="800" height="500" onload="document.body.dataset.page = \'yes\'"></iframe>'
            f'<iframe id="embed" src="{app_url}/embed/trends?indicator={indicator_id}" width="800" height="500" '
            f'onload="document.body.dataset.embed = \'yes\'"></iframe></body></html>')
    page.goto(host_site.host("/framing.html", html))
    page.wait_for_function("document.body.dataset.page === 'yes' && document.body.dataset.embed === 'yes'")
    wait_for_chart(frame_of(page, "/embed/trends"))
    refused = [f for f in page.frames if f is not page.main_frame and "/embed/" not in f.url]
    assert len(refused) == 1
    frame = refused[0]
    assert not frame.url.startswith(app_url + "/trends") or frame.evaluate("() => document.body === null "
                                                                            "|| document.body.innerHTML === ''")
    assert frame.query_selector("#react-entry-point") is None
    assert frame.query_selector(".js-plotly-plot") is None


def test_share_controls_copy_a_link_and_embed_code_that_work(page, app_url, host_site, indicator):
    """On the trends page, 'copy embed code' puts an absolute <iframe> on the clipboard; pasted into a foreign
    page it shows the same chart; the copied link reopens the same view."""
    indicator_id, title = indicator
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.goto(f"{app_url}/trends?indicator={indicator_id}")
    wait_for_chart(page)
    controls = page.locator(".share-controls")
    controls.wait_for()
    controls.locator(".copy-embed").click()
    code = read_clipboard(page, lambda text: text.startswith("<iframe"))
    assert f'src="{app_url}/embed/trends?indicator={indicator_id}' in code
    assert 'title="' in code
    page.goto(host_site.host("/pasted.html", f"<!doctype html><html><body>{code}</body></html>"))
    frame = None
    page.wait_for_function("() => document.querySelector('iframe') !== null")
    for _ in range(100):
        frame = frame_of(page, "/embed/trends")
        if frame is not None:
            break
        page.wait_for_timeout(100)
    assert frame is not None
    wait_for_chart(frame)
    assert title in frame.locator(".gtitle").text_content()
    page.goto(f"{app_url}/trends?indicator={indicator_id}")
    wait_for_chart(page)
    page.locator(".chart-card .copy-link").first.click()
    copied = read_clipboard(page, lambda text: text.startswith("http"))
    # the link names the whole view state canonically (page defaults written out), so it reproduces the view
    assert copied.split("?")[0] == page.url.split("?")[0] and f"indicator={indicator_id}" in copied
    link = page.locator(".share-controls")
    downloads = {a.get_attribute("href") for a in link.locator("a.export-link").all()}
    for fmt in ("png", "svg", "csv", "xlsx", "html"):
        assert any(h.startswith(f"/export/trends.{fmt}?indicator={indicator_id}") for h in downloads), (fmt, downloads)
    assert not [e for e in page.console_errors if "CSP" in e], page.console_errors


@pytest.mark.parametrize("path", ["/", "/compare", "/map", "/embed/choropleth"])
def test_pages_run_under_the_content_security_policy(page, app_url, indicator, path):
    """Dash pages and embeds draw their charts with no CSP violation (no inline/eval script blocked); /trends and
    /embed/trends are checked by the tests above."""
    indicator_id, _ = indicator
    page.goto(f"{app_url}{path}?indicator={indicator_id}" if path != "/" else app_url + "/")
    assert wait_for_chart(page) > 0
    page.wait_for_timeout(300)  # late violations (e.g. topojson fetch) would be reported by now
    violations = [e for e in page.console_errors if "CSP" in e or "Content Security Policy" in e]
    assert not violations, violations
