"""Serving bench: cheap requests beside image renders, and worker memory after a fuzz, on the real app under gunicorn.

    .venv/bin/python bench/serving_bench.py [--pngs 20] [--fuzz 10000] [--threads 4]

Same server as bench/load_bench.py (gunicorn `dashboard.app:server`, 2 workers, as the Procfile). Three phases:
1. CSV alone: CSV exports of distinct states (each built, none served from the cache), 2 clients; p50/p95.
2. CSV during renders: --pngs slide-size PNG exports of distinct states sent at once (each needs a render; the
   render slots, DSM_RENDER_SLOTS per worker, bound them: the rest wait DSM_RENDER_WAIT_S and get 503 +
   Retry-After) while 2 clients keep asking CSVs of distinct states; CSV p50/p95 against phase 1, PNG outcomes.
3. Fuzz: --fuzz requests from 8 clients, shapes drawn at random (pages, exports, embeds, briefs, callbacks; odd and
   hostile parameters: unknown keys, Unicode digits, SQL text, long values, wrong types, nested JSON), image formats
   left out (phase 2 measures renders). Printed: statuses, any 5xx, and each worker's memory before and after.
Targets (issue 11): cheap requests never wait behind renders (CSV p95 during renders within 2x of alone, stated
here as the ratio); no 5xx but 503 from a busy render; worker memory bounded by the caches' sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import load_bench  # noqa: E402  (the server, connections and memory readings of the load bench)
from load_bench import Request, connect, memory_mb, send, worker_pids  # noqa: E402

COUNTRIES = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO", "EU27_2020", "FR", "ES"]
HOSTILE = ["²", "２０２３", "' OR 1=1 --", "1; DROP TABLE observations", "x" * 3000, "../../etc/passwd", "%00",
           "null", "[]", "{}", "-1", "99999", "1e9", "EE,,LV", "ee", "😀", "<script>alert(1)</script>"]
FUZZ_CHUNK = 2000  # memory is read after each chunk: growth that flattens is a bound, growth that does not a leak
PARAMS = ["indicator", "year", "geo", "view", "lang", "edition", "measure", "y", "theme", "wp", "size", "w_desi_1_conn",
          "static", "format", "unknown"]


def indicators_and_years(data: Path) -> list[tuple[str, int]]:
    """(indicator, year) pairs with values, from the database (read-only)."""
    import duckdb

    con = duckdb.connect(str(data / "dsm.duckdb"), read_only=True)
    try:
        return con.execute("""SELECT DISTINCT v.indicator, v.year FROM indicator_values v JOIN catalogue c
                              ON c.id = v.indicator WHERE v.value IS NOT NULL AND v.year >= 2015
                              ORDER BY 1, 2""").fetchall()
    finally:
        con.close()


def timed(conn, request: Request) -> tuple[int, float, dict]:
    """Status, milliseconds and headers of one request on a connection."""
    headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    conn.request(request.method, request.path, body=request.body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, (time.perf_counter() - start) * 1000, dict(response.getheaders())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of a list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def csv_clients(port: int, paths: list[str], clients: int, stop: threading.Event | None) -> list[float]:
    """Milliseconds of CSV requests by `clients` threads over `paths` (all of them, or until `stop` is set)."""
    out: list[float] = []
    lock = threading.Lock()
    queue = list(paths)

    def work():
        conn = connect(port)
        while True:
            with lock:
                if not queue or (stop is not None and stop.is_set()):
                    return
                path = queue.pop()
            status, ms, _ = timed(conn, Request("export", "csv", "GET", path))
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
            with lock:
                out.append(ms)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def png_burst(port: int, paths: list[str]) -> list[tuple[int, float, str | None]]:
    """All PNG requests at once, one connection each: (status, ms, Retry-After)."""
    out = [None] * len(paths)

    def work(i, path):
        status, ms, headers = timed(connect(port), Request("export", "png", "GET", path))
        out[i] = (status, ms, headers.get("Retry-After"))

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def fuzz_request(rng: random.Random, charts: list[str], pairs: list[tuple[str, int]]) -> Request:
    """One request of a random shape, sane or hostile."""
    indicator, year = rng.choice(pairs)

    def value(key):
        if rng.random() < 0.35:
            return rng.choice(HOSTILE)
        return {"indicator": indicator, "year": str(year), "geo": ",".join(rng.sample(COUNTRIES, rng.randint(1, 4))),
                "view": rng.choice(["chart", "table"]), "lang": rng.choice(["en", "pl", "et", "xx", "de-AT"])}.get(
            key, str(rng.randint(0, 120)))

    query = "&".join(f"{quote(k)}={quote(value(k))}" for k in rng.sample(PARAMS, rng.randint(0, 5)))
    shape = rng.random()
    if shape < 0.3:
        path = rng.choice(["/", "/compare", "/trends", "/map", "/relationships", "/country", "/desi", "/findings",
                           "/sources", "/digital-decade", "/nope", "/compare/", "/%2e%2e/etc"])
    elif shape < 0.55:
        path = f"/export/{rng.choice(charts + ['nope'])}.{rng.choice(['csv', 'xlsx', 'html', 'exe'])}"
    elif shape < 0.7:
        path = f"/embed/{rng.choice(charts + ['nope'])}"
    elif shape < 0.8:
        path = rng.choice([f"/brief/country/{rng.choice(COUNTRIES + ['XX', 'ee'])}", f"/brief/wp/{rng.choice(['WP2', 'WP3', 'WP4', 'WP9'])}"])
    else:
        body = rng.choice([
            {"output": "side-panel.children", "outputs": {"id": "side-panel", "property": "children"},
             "inputs": [{"id": "view-state", "property": "data", "value": {"page": "/compare", "year": value("year")}}]},
            {"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": []},
            {"output": rng.choice(HOSTILE), "inputs": rng.choice(HOSTILE)},
            [1, [2, [3, [4]]]],
        ])
        return Request("callback", "fuzz", "POST", "/_dash-update-component", json.dumps(body).encode(),
                       ok_status=tuple(range(200, 500)))
    return Request("fuzz", "fuzz", "GET", path + ("?" + query if query else ""), ok_status=tuple(range(200, 500)))


def fuzz(port: int, count: int, charts: list[str], pairs, clients: int = 8, seed: int = 11) -> dict:
    """Send `count` fuzzed requests from `clients` threads; statuses counted, 5xx kept with their paths."""
    statuses: dict[int, int] = {}
    fives: list[str] = []
    lock = threading.Lock()
    per_client = count // clients

    def work(n):
        rng = random.Random(seed + n)
        conn = connect(port)
        for _ in range(per_client):
            request = fuzz_request(rng, charts, pairs)
            try:
                status, _ms, _h = timed(conn, request)
            except OSError:
                conn = connect(port)
                status = -1
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 500 or status < 0:
                    fives.append(f"{status} {request.method} {request.path[:120]}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"statuses": dict(sorted(statuses.items())), "5xx": fives}


def memory(master: int) -> str:
    """VmRSS / Pss of each worker, MB."""
    return "; ".join(f"pid {pid}: VmRSS {m['VmRSS']:.0f}, Pss {m['Pss']:.0f}"
                     for pid in worker_pids(master) for m in [memory_mb(pid)])


def main(argv: list[str] | None = None) -> int:
    """Serve, run the three phases, print the figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--pngs", type=int, default=20)
    args.add_argument("--fuzz", type=int, default=10_000)
    args.add_argument("--threads", type=int, default=4)
    opts = args.parse_args(argv)
    data = load_bench.data_dir()
    pairs = indicators_and_years(data)
    with load_bench.served(data, opts.threads) as (port, process):
        for path in ("/compare", "/export/ranked_bar.csv"):  # imports and first queries, both workers
            for _ in range(4):
                send(connect(port), Request("page", "warm", "GET", path))
        rng = random.Random(5)
        rng.shuffle(pairs)
        csv_paths = [f"/export/ranked_bar.csv?indicator={i}&year={y}" for i, y in pairs]
        alone_paths, during_paths = csv_paths[:60], csv_paths[60:]
        png_paths = [f"/export/trends.png?indicator={i}&geo={','.join(rng.sample(COUNTRIES, 3))}&size=slide169"
                     for i, _y in pairs[:opts.pngs]]
        print(f"data {data}; gunicorn {load_bench.WORKERS} workers x {opts.threads} threads; CPUs 2; "
              f"memory at start: {memory(process.pid)}")

        alone = csv_clients(port, alone_paths, 2, None)
        print(f"\n1. CSV alone: {len(alone)} requests, p50 {statistics.median(alone):.0f} ms, "
              f"p95 {percentile(alone, 95):.0f} ms")

        stop = threading.Event()
        during: list[float] = []
        runner = threading.Thread(target=lambda: during.extend(csv_clients(port, during_paths, 2, stop)))
        runner.start()
        started = time.perf_counter()
        outcomes = png_burst(port, png_paths)
        burst_s = time.perf_counter() - started
        stop.set()
        runner.join()
        ok = [ms for status, ms, _ in outcomes if status == 200]
        busy = [(ms, after) for status, ms, after in outcomes if status == 503]
        other = [status for status, _, _ in outcomes if status not in (200, 503)]
        print(f"2. {len(outcomes)} PNG exports at once ({burst_s:.1f} s): {len(ok)} rendered (median "
              f"{statistics.median(ok) if ok else float('nan'):.0f} ms), {len(busy)} answered 503 "
              f"(Retry-After {sorted({a for _, a in busy})}, median {statistics.median([m for m, _ in busy]) if busy else float('nan'):.0f} ms)"
              + (f", other statuses {other}" if other else ""))
        print(f"   CSV meanwhile: {len(during)} requests, p50 {statistics.median(during):.0f} ms, "
              f"p95 {percentile(during, 95):.0f} ms = {percentile(during, 95) / percentile(alone, 95):.2f}x the p95 alone")
        print(f"   memory after the renders: {memory(process.pid)}")

        os.environ.setdefault("DSM_DATA_DIR", str(data))
        import dashboard.app  # noqa: F401  (registers the pages: the chart names the fuzz uses)
        from dashboard import registry
        charts = sorted(registry.charts())
        started = time.perf_counter()
        statuses: dict[int, int] = {}
        fives: list[str] = []
        print(f"\n3. fuzz of {opts.fuzz} requests, worker memory every {FUZZ_CHUNK}:")
        for chunk, done in enumerate(range(0, opts.fuzz, FUZZ_CHUNK)):
            found = fuzz(port, min(FUZZ_CHUNK, opts.fuzz - done), charts, pairs, seed=11 + 100 * chunk)
            for status, count in found["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
            fives += found["5xx"]
            print(f"   after {done + sum(found['statuses'].values())}: {memory(process.pid)}")
        print(f"   {sum(statuses.values())} requests in {time.perf_counter() - started:.0f} s; statuses "
              f"{dict(sorted(statuses.items()))}")
        print("   5xx: " + ("none" if not fives else f"{len(fives)}, e.g. " + "; ".join(fives[:5])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
