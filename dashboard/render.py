"""The one render service: PNG/SVG of figures (kaleido) and PDF of HTML documents (Playwright), both driving the
system Chromium named by one setting, $BROWSER_PATH (else /usr/bin/chromium, else chromium on PATH; never a download).

Bounded cost: every render holds one of $DSM_RENDER_SLOTS slots (default 2 per worker process); at most
$DSM_RENDER_QUEUE more requests (default 1) wait for one, up to $DSM_RENDER_WAIT_S seconds (default 2); the rest get
RenderBusy at once, answered 503 with Retry-After. So renders and their waiters hold at most slots + queue of a
worker's threads (3 of the Procfile's 4): cheap requests (pages, CSV) always find a thread. The browser runs at
$DSM_RENDER_NICE (default 10) so that, on a busy machine, the CPU goes to the cheap requests first. Finished images
are kept by the callers in the dashboard's one cache (dashboard.data.connection), keyed on the database version.
"""
from __future__ import annotations

import asyncio
import atexit
import os
import queue
import shutil
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Iterator

import plotly.graph_objects as go

from dashboard.i18n import _, ngettext

BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"]
IMAGE_FORMATS = ("png", "svg")
DEFAULT_SLOTS = 2
DEFAULT_QUEUE = 1
DEFAULT_WAIT_S = 2.0
DEFAULT_NICE = 10
RETRY_AFTER_S = 5
RENDER_TIMEOUT_S = 60.0


class RenderError(RuntimeError):
    """A render that cannot be made now; `status` is the HTTP status, `retry_after` seconds when worth retrying."""

    status = 503
    retry_after: int | None = None


class RenderUnavailable(RenderError):
    """No Chromium to render with."""


class RenderBusy(RenderError):
    """Every render slot of this worker stayed taken for the whole wait."""

    retry_after = RETRY_AFTER_S


def browser_path() -> str:
    """The Chromium every render drives: $BROWSER_PATH, else /usr/bin/chromium or the first on PATH."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RenderUnavailable(_("Rendering needs Chromium (apt-get install chromium, or set BROWSER_PATH)."))


# --- the bounded pool ----------------------------------------------------------------------------------------------

class RenderSlots:
    """At most `size` renders at once and `queue` callers waiting (each up to `wait_s`); others get RenderBusy."""

    def __init__(self, size: int, wait_s: float, queue: int = DEFAULT_QUEUE):
        assert size >= 1, f"render slots must be at least 1, got {size}"
        assert queue >= 0, f"the render queue must be at least 0, got {queue}"
        self.size, self.wait_s, self.queue = size, wait_s, queue
        self._semaphore = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.busy = 0  # renders running now
        self.waiting = 0  # callers waiting for a slot now
        self.refused = 0  # requests sent away with RenderBusy since start

    def _refuse(self) -> RenderBusy:
        """Count a refusal and say why (the caller raises it)."""
        with self._lock:
            self.refused += 1
        return RenderBusy(ngettext("The server is busy drawing other images; try again in {n} second.",
                                   "The server is busy drawing other images; try again in {n} seconds.", RETRY_AFTER_S))

    def refuse_if_full(self) -> None:
        """RenderBusy now when every slot and the queue are taken (before a caller builds what it would render)."""
        with self._lock:
            full = self.busy >= self.size and self.waiting >= self.queue
        if full:
            raise self._refuse()

    def _acquire(self) -> bool:
        """A free slot at once, else a place in the queue and a slot within wait_s; False when neither."""
        if self._semaphore.acquire(blocking=False):
            return True
        with self._lock:
            if self.waiting >= self.queue:
                return False
            self.waiting += 1
        try:
            return self._semaphore.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self.waiting -= 1

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the body of the with-block."""
        if not self._acquire():
            raise self._refuse()
        with self._lock:
            self.busy += 1
        try:
            yield
        finally:
            with self._lock:
                self.busy -= 1
            self._semaphore.release()


_slots: RenderSlots | None = None
_slots_lock = threading.Lock()


def slots() -> RenderSlots:
    """This process's render slots, sized from $DSM_RENDER_SLOTS / $DSM_RENDER_WAIT_S on first use."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = RenderSlots(int(os.environ.get("DSM_RENDER_SLOTS", DEFAULT_SLOTS)),
                                 float(os.environ.get("DSM_RENDER_WAIT_S", DEFAULT_WAIT_S)),
                                 int(os.environ.get("DSM_RENDER_QUEUE", DEFAULT_QUEUE)))
        return _slots


# --- PNG/SVG through kaleido ---------------------------------------------------------------------------------------

class ImageRenderer:
    """One kaleido browser shared by every thread; renders are submitted to its own event loop, so callers may race."""

    def __init__(self, timeout: float = RENDER_TIMEOUT_S):
        self._timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def _start(self) -> None:
        """Start the event-loop thread and open the browser (a few seconds, once per process)."""
        import kaleido  # imported here: the dashboard starts without paying for it

        path = browser_path()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kaleido-renderer", daemon=True)
        thread.start()

        async def open_browser():
            # mathjax=False: the default would fetch MathJax from a CDN; plotly.js comes from the installed plotly.
            k = kaleido.Kaleido(path=path, n=slots().size, timeout=self._timeout, mathjax=False)
            await k.open()
            return k

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(self._timeout)
        except Exception:
            loop.call_soon_threadsafe(loop.stop)
            raise
        self._loop, self._thread = loop, thread
        lower_priority(browser_processes(os.getpid(), path), int(os.environ.get("DSM_RENDER_NICE", DEFAULT_NICE)))

    def render(self, fig: go.Figure, fmt: str, width: int, height: int, *, topojson: str | None = None) -> bytes:
        """PNG or SVG bytes of a figure at exactly width x height pixels (topojson: folder URL for maps)."""
        assert fmt in IMAGE_FORMATS, f"cannot render {fmt!r}; only {IMAGE_FORMATS}"
        with self._lock:
            if self._kaleido is None:
                self._start()
            kaleido_browser, loop = self._kaleido, self._loop
        opts = {"format": fmt, "width": width, "height": height, "scale": 1}
        future = asyncio.run_coroutine_threadsafe(kaleido_browser.calc_fig(fig, opts=opts, topojson=topojson), loop)
        try:
            return future.result(self._timeout + 5)
        except Exception:
            self.close()  # a crashed or hung browser is replaced on the next render
            raise

    def close(self) -> None:
        """Close the browser and stop the loop thread (a later render starts a fresh one)."""
        with self._lock:
            kaleido_browser, loop, thread = self._kaleido, self._loop, self._thread
            self._kaleido = self._loop = self._thread = None
        if kaleido_browser is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(kaleido_browser.close(), loop).result(15)
        except Exception:  # noqa: BLE001 - closing a broken browser must not hide the original error
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def browser_processes(parent: int, path: str) -> list[int]:
    """The pids of the browser processes this process started (descendants running `path`), from /proc."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                commands[int(entry.name)] = handle.read().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], list(children.get(parent, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        if os.path.basename(commands.get(pid, "")) == os.path.basename(path) or commands.get(pid, "").startswith(path):
            found.append(pid)
    return sorted(found)


def lower_priority(pids: list[int], niceness: int) -> None:
    """Run these processes (and what they start later) at `niceness` (0 leaves them as they are)."""
    for pid in pids if niceness else []:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, max(os.getpriority(os.PRIO_PROCESS, pid), niceness))
        except OSError:  # the process ended meanwhile, or the system refuses: rendering goes on at its priority
            pass


_renderer: ImageRenderer | None = None
_renderer_pid: int | None = None
_renderer_lock = threading.Lock()


def renderer() -> ImageRenderer:
    """The process-wide image renderer (one Chromium per process, started on first use)."""
    global _renderer, _renderer_pid
    with _renderer_lock:
        if _renderer is None or _renderer_pid != os.getpid():
            # a forked worker (gunicorn --preload) inherits no running loop thread: start its own browser
            _renderer, _renderer_pid = ImageRenderer(), os.getpid()
            atexit.register(_renderer.close)
        return _renderer


def image(fig: go.Figure, fmt: str, width: int, height: int, *, topojson: str | None = None) -> bytes:
    """PNG/SVG bytes of a figure, drawn in one of the render slots."""
    with slots().slot():
        return renderer().render(fig, fmt, width, height, topojson=topojson)


# --- PDF through Playwright ----------------------------------------------------------------------------------------

class PdfPrinter:
    """One headless Chromium (driven by Playwright) in its own thread; any request thread may queue a document.

    Playwright's sync objects belong to the thread that made them, so one worker thread owns the browser;
    keeping it open saves Chromium's start-up on every download.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def print_pdf(self, document: str) -> bytes:
        """PDF bytes of an HTML document (A4 from its @page rule)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="pdf-printer", daemon=True)
                self._thread.start()
        done: Future = Future()
        self._jobs.put((document, done))
        return done.result(RENDER_TIMEOUT_S)

    def _work(self) -> None:
        """The worker: start Playwright, then print queued documents until told to stop."""
        from playwright.sync_api import sync_playwright  # imported here: only the PDF worker needs it

        with sync_playwright() as playwright:
            browser = None
            while (job := self._jobs.get()) is not None:
                document, done = job
                try:
                    if browser is None or not browser.is_connected():
                        browser = playwright.chromium.launch(executable_path=browser_path(), args=BROWSER_ARGS)
                    done.set_result(self._print(browser, document))
                except Exception as exc:  # reported to the request that asked; the next job relaunches
                    done.set_exception(exc)
                    browser = None
            if browser is not None:
                browser.close()

    @staticmethod
    def _print(browser, document: str) -> bytes:
        """Lay out one document in a fresh page and print it."""
        page = browser.new_page()
        try:
            page.set_content(document, wait_until="load")
            return page.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            page.close()

    def close(self) -> None:
        """Stop the worker and its browser."""
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(15)


_printer = PdfPrinter()
atexit.register(_printer.close)


def pdf(document: str) -> bytes:
    """PDF bytes of an HTML document, printed in one of the render slots."""
    with slots().slot():
        result = _printer.print_pdf(document)
    assert result.startswith(b"%PDF"), "Chromium returned something that is not a PDF"
    return result


def close() -> None:
    """Close both browsers of this process (tests; a later render starts them again)."""
    if _renderer is not None:
        _renderer.close()
    _printer.close()
