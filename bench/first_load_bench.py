"""First-load bench: what a visitor's browser fetches before the first chart of each chart page is drawn.

    .venv/bin/python bench/first_load_bench.py [--runs 3] [--pages /,/compare,...]

The real app under gunicorn (2 workers, as the Procfile) on loopback; headless Chromium (/usr/bin/chromium) with
Chromium's own network emulation (CDP Network.emulateNetworkConditions: 9 Mbit/s down, 1.5 Mbit/s up, 40 ms
latency). For each chart page, `--runs` cold visits (a fresh browser context: empty cache) and, in the same context,
a repeat visit. Measured from navigation start to the first chart drawn (a plotly SVG with its traces): time, and
bytes over the wire (CDP encodedDataLength of every response). Peer in the same process: the same cold visit with
compression refused (Accept-Encoding: identity). Also the embed of one chart and its script-free static SVG.

Printed: median time (s) and bytes (kB) per page, cold / repeat / uncompressed peer, and the ratio to the peer.
Targets: cold first chart <= 2.5 s and <= 1.5 MB on every chart page; static embed <= 300 kB, no script.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import load_bench  # bench/load_bench.py: data dir, gunicorn start, waiting (run from the repository root)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
NETWORK = {"offline": False, "latency": 40, "downloadThroughput": 9_000_000 / 8, "uploadThroughput": 1_500_000 / 8}
CHART_PAGES = ["/", "/compare", "/trends", "/map", "/relationships", "/country", "/desi"]
TARGET_S, TARGET_BYTES, TARGET_STATIC_BYTES = 2.5, 1_500_000, 300_000
DRAWN = ("() => { const g = document.querySelector('.js-plotly-plot');"
         " return !!(g && g.data && g.data.length && g.querySelector('.main-svg')); }")
SCORECARD_TABLE = "() => !!document.querySelector('.data-table')"  # phones show the scorecard as its table


def visit(context, url: str, ready: str = DRAWN) -> tuple[float, int]:
    """(seconds, bytes over the wire) from navigation start until `ready` holds, with the network emulated."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    wire = {"bytes": 0}
    cdp.on("Network.loadingFinished", lambda event: wire.__setitem__("bytes", wire["bytes"] + event["encodedDataLength"]))
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(ready, timeout=120_000, polling=20)
    elapsed = time.perf_counter() - started
    page.wait_for_timeout(50)  # the last loadingFinished events of what was needed
    page.close()
    return elapsed, wire["bytes"]


def measure(browser, base: str, path: str, runs: int) -> dict[str, tuple[float, float]]:
    """Median (s, bytes) of cold, repeat and uncompressed-peer visits of one page."""
    cold, repeat, peer = [], [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        cold.append(visit(context, base + path))
        repeat.append(visit(context, base + path))
        context.close()
        context = browser.new_context(viewport={"width": 1440, "height": 900},
                                      extra_http_headers={"Accept-Encoding": "identity"})
        peer.append(visit(context, base + path))
        context.close()
    median = lambda rows: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))  # noqa: E731
    return {"cold": median(cold), "repeat": median(repeat), "peer": median(peer)}


def static_embed(base: str, chart: str) -> tuple[int, int, bool]:
    """(status, bytes, has a script) of /embed/<chart>?static=1."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/embed/{chart}?static=1", timeout=120) as answer:
        body = answer.read()
        return answer.status, len(body), b"<script" in body.lower()


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold visits per page (median)")
    parser.add_argument("--pages", default=",".join(CHART_PAGES), help="comma-separated chart pages")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    data = load_bench.data_dir()
    port = load_bench.free_port()
    log = Path(tempfile.mkdtemp(prefix="dsm-first-load-")) / "gunicorn.log"
    server = load_bench.start_gunicorn(data, port, 4, log)
    base = f"http://127.0.0.1:{port}"
    rows, misses = [], []
    try:
        load_bench.wait_until_serving(port, server, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            warm = browser.new_context()
            for path in args.pages.split(","):  # fill the server's caches: the bench measures the wire, not the ETL
                visit(warm, base + path)
            warm.close()
            for path in args.pages.split(","):
                result = measure(browser, base, path, args.runs)
                (cs, cb), (rs, rb), (ps, pb) = result["cold"], result["repeat"], result["peer"]
                rows.append([path, f"{cs:.2f}", f"{cb / 1000:.0f}", f"{rs:.2f}", f"{rb / 1000:.0f}",
                             f"{ps:.2f}", f"{pb / 1000:.0f}", f"{cb / pb:.2f}"])
                if cs > TARGET_S or cb > TARGET_BYTES:
                    misses.append(f"{path}: cold {cs:.2f} s, {cb / 1e6:.2f} MB")
            context = browser.new_context()
            es = visit(context, base + "/embed/trends")
            context.close()
            browser.close()
        status, static_bytes, has_script = static_embed(base, "trends")
    finally:
        server.terminate()
        server.wait(30)
    header = ["page", "cold s", "cold kB", "repeat s", "repeat kB", "identity s", "identity kB", "bytes ratio"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths)))
    colds = [float(r[1]) for r in rows]
    print(f"\ncold first chart: median {statistics.median(colds):.2f} s, worst {max(colds):.2f} s "
          f"(target <= {TARGET_S} s); worst bytes {max(float(r[2]) for r in rows):.0f} kB (target <= {TARGET_BYTES / 1000:.0f} kB)")
    print(f"embed /embed/trends cold: {es[0]:.2f} s, {es[1] / 1000:.0f} kB; "
          f"static SVG embed: HTTP {status}, {static_bytes / 1000:.0f} kB, script: {has_script} "
          f"(target <= {TARGET_STATIC_BYTES / 1000:.0f} kB, no script)")
    print("targets met" if not misses else "targets missed: " + "; ".join(misses))
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
