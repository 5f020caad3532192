"""The render service (dashboard/render.py): bounded slots, 503 + Retry-After when they are taken, cached images
served without a slot, cheap requests never waiting, one browser setting for PNG/SVG and PDF."""
from __future__ import annotations

import os
import threading

import pytest

from dashboard import render
from dashboard.data import connection


def test_slots_bound_concurrent_renders():
    """Two slots: two holders at once, the third waits its time and is refused; a freed slot serves the next."""
    slots = render.RenderSlots(2, wait_s=0.2)
    release = threading.Event()
    entered = threading.Barrier(3)

    def hold():
        with slots.slot():
            entered.wait(5)
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    entered.wait(5)
    assert slots.busy == 2
    with pytest.raises(render.RenderBusy) as refused:
        with slots.slot():
            pass
    assert refused.value.status == 503 and refused.value.retry_after == render.RETRY_AFTER_S and slots.refused == 1
    release.set()
    for thread in holders:
        thread.join(5)
    with slots.slot():
        assert slots.busy == 1
    assert slots.busy == 0


def test_beyond_the_queue_a_caller_is_refused_without_waiting():
    """One slot, a queue of one: the holder renders, one caller waits, the next is refused while that one still waits."""
    slots = render.RenderSlots(1, wait_s=30, queue=1)
    release, holding = threading.Event(), threading.Event()
    waited = []

    def hold():
        with slots.slot():
            holding.set()
            release.wait(30)

    def wait_in_queue():
        with slots.slot():
            waited.append(True)

    holder, waiter = threading.Thread(target=hold), threading.Thread(target=wait_in_queue)
    holder.start()
    holding.wait(5)
    waiter.start()
    for _ in range(500):  # until the waiter has taken its place in the queue
        if slots.waiting == 1:
            break
        threading.Event().wait(0.01)
    assert slots.waiting == 1
    with pytest.raises(render.RenderBusy):
        with slots.slot():
            pass
    assert slots.waiting == 1 and not waited, "refused while the queued caller was still waiting (no wait of its own)"
    release.set()
    holder.join(5), waiter.join(5)
    assert waited == [True] and slots.refused == 1 and slots.busy == 0 and slots.waiting == 0


def test_a_full_pool_refuses_before_the_work_starts():
    """refuse_if_full: nothing to say while a slot or a queue place is free; RenderBusy once both are taken."""
    slots = render.RenderSlots(1, wait_s=5, queue=0)
    slots.refuse_if_full()
    with slots.slot():
        with pytest.raises(render.RenderBusy):
            slots.refuse_if_full()
    slots.refuse_if_full()
    assert slots.refused == 1


def test_one_browser_setting(monkeypatch):
    """$BROWSER_PATH names the browser for images and PDFs alike."""
    monkeypatch.setenv("BROWSER_PATH", "/opt/chrome/chrome")
    assert render.browser_path() == "/opt/chrome/chrome"
    monkeypatch.delenv("BROWSER_PATH")
    assert render.browser_path()  # the system Chromium


@pytest.fixture(scope="module")
def client(dashboard_data_dir):
    """The real app's Flask test client, with one render slot and a short wait."""
    import os

    saved = {k: os.environ.get(k) for k in ("DSM_DATA_DIR",)}
    os.environ["DSM_DATA_DIR"] = str(dashboard_data_dir)
    connection.clear_cache()
    previous_slots = render._slots
    render._slots = render.RenderSlots(1, wait_s=2.0)  # brief charts from an earlier test may still hold it briefly
    from dashboard.app import app

    yield app.server.test_client()
    render._slots = previous_slots
    render.close()
    connection.clear_cache()
    for key, value in saved.items():
        os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def test_busy_renderer_answers_503_and_csv_does_not_wait(client):
    """With the only slot taken, a new PNG is refused with Retry-After, a CSV is answered, and an image drawn
    before is served from the cache without a slot."""
    drawn = client.get("/export/trends.png?size=column")
    assert drawn.status_code == 200 and drawn.data.startswith(b"\x89PNG")
    browsers = render.browser_processes(os.getpid(), render.browser_path())
    assert browsers, "the render's Chromium is a descendant of this process"
    assert all(os.getpriority(os.PRIO_PROCESS, pid) >= render.DEFAULT_NICE for pid in browsers), \
        "the browser and the renderers it started run below the requests' priority"
    assert connection.cache_bytes() >= len(drawn.data)
    with render.slots().slot():
        busy = client.get("/export/trends.png?size=slide43")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == str(render.RETRY_AFTER_S)
        assert busy.mimetype == "text/plain" and b"busy" in busy.data
        assert client.get("/export/trends.csv").status_code == 200  # data downloads take no slot
        again = client.get("/export/trends.png?size=column")
        assert again.status_code == 200 and again.data == drawn.data
    assert client.get("/export/trends.png?size=slide43").status_code == 200


def test_busy_renderer_answers_503_for_a_brief_pdf(client):
    """A PDF brief waits for a slot like an image, then gets 503 + Retry-After."""
    with render.slots().slot():
        answer = client.get("/brief/wp/WP4?format=pdf")
    assert answer.status_code == 503, answer.status_code
    assert answer.headers["Retry-After"] == str(render.RETRY_AFTER_S)


@pytest.mark.parametrize("chart", ["trends", "ranked_bar", "choropleth"])
def test_static_embed_is_an_inline_svg_without_script(client, chart):
    """/embed/<chart>?static=1: the chart as inline SVG with its title, source and a link back; no script; light."""
    import brotli

    answer = client.get(f"/embed/{chart}?static=1")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert "<svg" in page and "<script" not in page.lower()
    assert "Source:" in page, "the source line is drawn into the SVG"
    assert 'href="/' in page and "open the interactive view" in page
    wire = len(brotli.compress(answer.data, quality=5))  # what the served page sends (dashboard/serving.py)
    assert wire <= 300_000, f"{chart}: {wire} bytes compressed"
    if chart != "choropleth":
        assert len(answer.data) <= 300_000, f"{chart}: {len(answer.data)} bytes"
    assert client.get(f"/embed/{chart}?static=yes").status_code == 400


def test_the_one_cache_counts_bytes_and_skips_an_entry_too_large_to_keep(monkeypatch):
    """Entries count at their size (an image its length, a frame its pickled size); one over MAX_ENTRY_BYTES is
    handed out but not kept, so it cannot push everything else out."""
    import pandas as pd

    connection.clear_cache()
    before = connection.cache_bytes()
    image = b"\x89PNG" + b"x" * 50_000
    assert connection.remember(("test-image",), lambda: image, per_database=False) == image
    assert connection.cache_bytes() - before == len(image)
    frame = pd.DataFrame({"value": range(1000)})
    assert connection.size_of(frame) > 8_000
    monkeypatch.setattr(connection, "MAX_ENTRY_BYTES", 10_000)
    calls = []
    huge = connection.remember(("test-huge",), lambda: calls.append(1) or b"y" * 20_000, per_database=False)
    again = connection.remember(("test-huge",), lambda: calls.append(1) or b"y" * 20_000, per_database=False)
    assert huge == again and len(calls) == 2, "an entry over the bound is made again, not kept"
    assert connection.cache_bytes() - before == len(image)
    connection.clear_cache()
