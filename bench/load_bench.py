"""Load bench: the real app under gunicorn on loopback, 1 / 5 / 20 concurrent clients replaying real page visits.

    .venv/bin/python bench/load_bench.py [--visits 12] [--think 0.5] [--levels 1,5,20] [--threads 4]

A data dir is taken from DSM_DATA_DIR when it holds dsm.duckdb, else built once from ../shared/data by the
offline refresh into a temp folder. gunicorn serves `dashboard.app:server` with 2 workers, as the Procfile does.

One *visit* is what a browser sends when it opens a page (recorded once from Chromium, payloads rebuilt here):
  GET <page>?<state>                             (page)
  POST /_dash-update-component  _pages_content   (callback: the page's layout with its figure)
  POST /_dash-update-component  export-slot      (callback: share/export links of the page's chart)
  POST /_dash-update-component  side-panel       (callback: findings and insights, from the page's view-state)
  POST /_dash-update-component  sync_url         (callback: the URL-sync check every page fires once; 204)
and every third visit also downloads its chart as CSV (export). Each request is validated before the run (200,
a figure in chart pages' layouts, no friendly-error); during the run any other status or a broken connection is an
error. Each client is a thread with its own keep-alive connection; between visits it waits `--think` seconds
(a person reading the page); `--think 0` gives the saturation figures.

Printed: p50/p95/p99 latency (ms), throughput and errors per level, split page / callback / export, plus the peak
RSS (MB) of each gunicorn worker (/proc/<pid>/status VmRSS) sampled during the level.
Targets: 0 errors at 20 clients, callback p95 < 250 ms at 20 clients, RSS < 250 MB per worker.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / ".." / "shared" / "data"
WORKERS = 2
START_TIMEOUT_S = 90
TARGET_CALLBACK_P95_MS = 250.0
TARGET_RSS_MB = 250.0
PAGES_CONTENT = ".._pages_content.children..._pages_store.data.."
CHART_PAGES = {"/", "/compare", "/trends", "/map", "/relationships", "/country", "/desi"}


@dataclass(frozen=True)
class Request:
    """One HTTP request of a visit and the statuses that count as success."""

    kind: str           # page | callback | export
    name: str           # finer label for the breakdown (e.g. callback:_pages_content)
    method: str
    path: str
    body: bytes | None = None
    ok_status: tuple[int, ...] = (200,)


@dataclass
class Sample:
    """What one request took."""

    kind: str
    name: str
    ms: float
    error: str | None = None


@dataclass
class LevelResult:
    """Everything measured at one concurrency level."""

    clients: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    rss_mb: dict[int, dict[str, float]] = field(default_factory=dict)  # peak per worker: VmRSS, RssAnon, Pss


# ---------------------------------------------------------------- data and server

def data_dir() -> Path:
    """DSM_DATA_DIR when it already holds a database, else a fresh offline build of the recorded data."""
    given = os.environ.get("DSM_DATA_DIR")
    if given and (Path(given) / "dsm.duckdb").exists():
        return Path(given).resolve()
    from etl.refresh import refresh

    target = Path(tempfile.mkdtemp(prefix="dsm-bench-")) / "data"
    print(f"building a data dir from {SHARED_DATA.resolve()} into {target} ...", flush=True)
    refresh(offline=SHARED_DATA.resolve(), data_dir=target)
    return target


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(data: Path, port: int, threads: int, log: Path) -> subprocess.Popen:
    """gunicorn dashboard.app:server, 2 workers, as the Procfile serves it (no debug, no reload)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, "DSM_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
    command = [str(gunicorn), "dashboard.app:server", "--workers", str(WORKERS), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_until_serving(port: int, process: subprocess.Popen, log: Path) -> None:
    """Poll until both workers have imported the app (or fail with the server's log)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            status, _ = send(connect(port), Request("page", "probe", "GET", "/_dash-layout"))
            if status == 200 and len(worker_pids(process.pid)) == WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@contextmanager
def served(data: Path, threads: int) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn serving `data` on a free loopback port, both workers up; yields (port, master process), then stops it."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="dsm-bench-log-")) / "gunicorn.log"
    process = start_gunicorn(data, port, threads, log)
    try:
        wait_until_serving(port, process, log)
        yield port, process
    finally:
        process.terminate()
        process.wait(30)


def worker_pids(master: int) -> list[int]:
    """The gunicorn worker processes: children of the master, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # field 4, after the parenthesised command name
        if parent == master:
            children.append(int(entry.name))
    return sorted(children)


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (VmRSS from /proc/<pid>/status)."""
    return memory_mb(pid)["VmRSS"]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and its private part RssAnon (MB) from /proc/<pid>/status, and PSS from smaps_rollup.

    VmRSS counts every page of the shared libraries (duckdb, pyarrow, numpy) in each worker; RssAnon is what the
    worker alone holds, PSS its fair share of everything.
    """
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name = line.split(":", 1)[0]
        if name in ("VmRSS", "RssAnon", "RssFile"):
            found[name] = int(line.split()[1]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            found["Pss"] = int(line.split()[1]) / 1024
    assert "VmRSS" in found, f"no VmRSS line in /proc/{pid}/status"
    return found


# ---------------------------------------------------------------- HTTP

def connect(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection to the server (one per simulated client)."""
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def send(conn: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    """Send one request on a connection and read the whole answer."""
    headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(request.method, request.path, body=request.body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def callback_body(output: str, outputs, inputs: list[dict], state: list | None = None, changed: list | None = None) -> bytes:
    """A /_dash-update-component body in the shape dash-renderer 4 sends (recorded from Chromium)."""
    body = {"output": output, "outputs": outputs, "inputs": inputs,
            "changedPropIds": changed or [], "parsedChangedPropsIds": changed or []}
    if state is not None:
        body["state"] = state
    return json.dumps(body).encode()


def location_inputs(pathname: str, search: str) -> list[dict]:
    """The two _pages_location inputs of the page callbacks."""
    return [{"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search}]


# ---------------------------------------------------------------- the visits

def realistic_states(data: Path) -> list[str]:
    """Page URLs with the query states people use, picked from the database (read directly, read-only)."""
    import duckdb

    con = duckdb.connect(str(data / "dsm.duckdb"), read_only=True)
    try:
        headline = [row[0] for row in con.execute(
            "SELECT c.id FROM catalogue c WHERE c.headline AND EXISTS "
            "(SELECT 1 FROM indicator_values v WHERE v.indicator = c.id AND v.value IS NOT NULL) ORDER BY c.id").fetchall()]
        years = {ind: con.execute("SELECT max(year) FROM indicator_values WHERE indicator = ? AND value IS NOT NULL",
                                  [ind]).fetchone()[0] for ind in headline}
    finally:
        con.close()
    assert len(headline) >= 3, f"the bench needs at least 3 headline indicators with data, found {headline}"
    first, second, third = headline[:3]
    return [
        "/", "/?geo=EE,LV,LT,FI,SE",
        f"/compare?indicator={first}", f"/compare?indicator={second}&year={years[second]}",
        f"/compare?indicator={third}&view=table",
        f"/trends?indicator={first}", f"/trends?indicator={second}&geo=EE,LV,LT,EU27_2020",
        f"/map?indicator={first}", f"/map?indicator={third}&year={years[third]}",
        f"/relationships?indicator={first}",
        "/country?geo=EE", "/country?geo=PL",
        "/desi",
        "/findings?wp=WP4", "/sources",
    ]


def prepare_visit(port: int, url: str) -> list[Request]:
    """The requests a browser sends to open `url`, each sent once here and checked (a bad one stops the bench)."""
    parts = urlsplit(url)
    pathname, search = parts.path or "/", f"?{parts.query}" if parts.query else ""
    conn = connect(port)
    page = Request("page", "page:GET", "GET", url)
    content = Request("callback", "callback:_pages_content", "POST", "/_dash-update-component", callback_body(
        PAGES_CONTENT, [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        location_inputs(pathname, search), changed=["_pages_location.pathname", "_pages_location.search"]))
    slot = Request("callback", "callback:export-slot", "POST", "/_dash-update-component", callback_body(
        "export-slot.children", {"id": "export-slot", "property": "children"}, location_inputs(pathname, search)))
    checked(conn, page, b"DashRenderer")
    has_figure = pathname in CHART_PAGES and "view=table" not in search
    layout = checked(conn, content, b'"figure"' if has_figure else b"_pages_content")
    assert b"friendly-error" not in layout, f"{url}: the page answers with a friendly error; fix the bench state"
    checked(conn, slot, b"export-slot")
    visit = [page, content, slot]
    view_state = find_store(json.loads(layout), "view-state")
    if view_state is not None:
        panel = Request("callback", "callback:side-panel", "POST", "/_dash-update-component", callback_body(
            "side-panel.children", {"id": "side-panel", "property": "children"},
            [{"id": "view-state", "property": "data", "value": view_state}]))
        checked(conn, panel, b"side-panel")
        visit += [panel, sync_request(view_state, search)]
        checked(conn, visit[-1], b"")
    chart = chart_of(pathname)
    if chart:
        visit.append(Request("export", "export:csv", "GET", f"/export/{chart}.csv{search}"))
        checked(conn, visit[-1], b"indicator")
    conn.close()
    return visit


def sync_request(view_state: dict, search: str) -> Request:
    """The URL-sync callback a page fires once when its controls appear (answers 204: nothing to change)."""
    controls = view_state.get("controls", {})
    keys = list(controls)
    ident = lambda key: {"key": key, "type": "url-control"}  # noqa: E731
    inputs = [[{"id": ident(k), "property": "value", "value": controls[k]} for k in keys]]
    state = [[{"id": ident(k), "property": "id", "value": ident(k)} for k in keys],
             {"id": "_pages_location", "property": "search", "value": search},
             {"id": "view-state", "property": "data", "value": view_state}]
    changed = [json.dumps(ident(k), separators=(",", ":"), sort_keys=True) + ".value" for k in keys]
    return Request("callback", "callback:sync_url", "POST", "/_dash-update-component", callback_body(
        SYNC_OUTPUT, {"id": "_pages_location", "property": SYNC_OUTPUT.split(".", 1)[1]}, inputs, state, changed),
        ok_status=(200, 204))


SYNC_OUTPUT = ""  # filled from /_dash-dependencies (the hashed allow_duplicate output id)


def find_store(node, store_id: str):
    """The data of the dcc.Store with this id inside a callback answer (None when the page has none)."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == store_id and node.get("type") == "Store":
            return props.get("data")
        for value in node.values():
            found = find_store(value, store_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = find_store(value, store_id)
            if found is not None:
                return found
    return None


def chart_of(pathname: str) -> str | None:
    """The registered chart behind a page's main figure, for its CSV download."""
    charts = {"/": "scorecard", "/compare": "ranked_bar", "/trends": "trends", "/map": "choropleth",
              "/relationships": "scatter"}
    return charts.get(pathname)


def checked(conn: http.client.HTTPConnection, request: Request, must_contain: bytes) -> bytes:
    """Send a request once and insist on a valid answer."""
    status, body = send(conn, request)
    assert status in request.ok_status, f"{request.name} {request.path}: HTTP {status}: {body[:300]!r}"
    assert must_contain in body, f"{request.name} {request.path}: answer lacks {must_contain!r}: {body[:300]!r}"
    return body


def load_sync_output(port: int) -> str:
    """The hashed output id of the URL-sync callback, as the app's /_dash-dependencies lists it."""
    _, body = send(connect(port), Request("page", "deps", "GET", "/_dash-dependencies"))
    for dep in json.loads(body):
        if dep["output"].startswith("_pages_location.search@") and any(
                "url-control" in i["id"] for i in dep["inputs"]):
            return dep["output"]
    raise AssertionError("the app has no URL-sync callback (_pages_location.search@... from url-control values)")


# ---------------------------------------------------------------- running a level

def client(port: int, visits: list[list[Request]], count: int, think: float, seed: int, out: list[Sample]) -> None:
    """One simulated person: `count` visits in a seeded random order, one keep-alive connection."""
    rng = random.Random(seed)
    conn = connect(port)
    for number in range(count):
        visit = visits[rng.randrange(len(visits))]
        for request in visit:
            if request.kind == "export" and number % 3:
                continue  # a CSV download on every third visit
            start = time.perf_counter()
            error = None
            try:
                status, _ = send(conn, request)
                if status not in request.ok_status:
                    error = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"{exc.__class__.__name__}: {exc}"
                conn.close()
                conn = connect(port)
            out.append(Sample(request.kind, request.name, (time.perf_counter() - start) * 1000, error))
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    conn.close()


def run_level(port: int, master: int, visits: list[list[Request]], clients: int, count: int, think: float) -> LevelResult:
    """Run `clients` simulated people at once and sample worker memory meanwhile."""
    samples: list[Sample] = []
    peaks: dict[int, dict[str, float]] = {}
    done = threading.Event()

    def sample_memory() -> None:
        while not done.is_set():
            for pid in worker_pids(master):
                try:
                    now = memory_mb(pid)
                except OSError:
                    continue
                held = peaks.setdefault(pid, {})
                for name, mb in now.items():
                    held[name] = max(held.get(name, 0.0), mb)
            done.wait(0.2)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(port, visits, count, think, 1000 * clients + i, samples))
               for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return LevelResult(clients, seconds, samples, peaks)


# ---------------------------------------------------------------- report

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation (statistics.quantiles, inclusive)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summarise(result: LevelResult, key: str) -> list[list[str]]:
    """Rows of the table for one level: one per kind (or per name), then all."""
    groups: dict[str, list[Sample]] = {}
    for sample in result.samples:
        groups.setdefault(getattr(sample, key), []).append(sample)
    rows = []
    for label, items in sorted(groups.items()):
        times = [s.ms for s in items if s.error is None]
        errors = sum(s.error is not None for s in items)
        p = [f"{percentile(times, q):7.1f}" if times else "     -" for q in (50, 95, 99)]
        rows.append([str(result.clients), label, str(len(items)), str(errors), *p,
                     f"{len(items) / result.seconds:6.1f}"])
    return rows


def print_table(rows: list[list[str]]) -> None:
    """A fixed-width table on stdout."""
    headers = ["clients", "requests", "n", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def verdict(results: list[LevelResult]) -> list[str]:
    """The targets, each met or missed, at the highest level run."""
    top = max(results, key=lambda r: r.clients)
    callbacks = [s.ms for s in top.samples if s.kind == "callback" and s.error is None]
    errors = sum(s.error is not None for s in top.samples)
    p95 = percentile(callbacks, 95) if callbacks else float("nan")
    peak = max(m["VmRSS"] for r in results for m in r.rss_mb.values())
    private = max(m.get("RssAnon", float("nan")) for r in results for m in r.rss_mb.values())
    pss = max(m.get("Pss", float("nan")) for r in results for m in r.rss_mb.values())
    return [
        f"errors at {top.clients} clients: {errors} (target 0) -> {'MET' if errors == 0 else 'MISSED'}",
        f"callback p95 at {top.clients} clients: {p95:.1f} ms (target < {TARGET_CALLBACK_P95_MS:.0f}) -> "
        f"{'MET' if p95 < TARGET_CALLBACK_P95_MS else 'MISSED'}",
        f"peak RSS (VmRSS) per worker: {peak:.1f} MB (target < {TARGET_RSS_MB:.0f}) -> "
        f"{'MET' if peak < TARGET_RSS_MB else 'MISSED'}",
        f"  of which private (RssAnon) at most {private:.1f} MB, PSS at most {pss:.1f} MB; the rest is shared "
        "library pages counted in every worker",
    ]


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the data, serve it, replay visits at each level, print the figures."""
    global SYNC_OUTPUT
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--levels", default="1,5,20", help="comma-separated numbers of concurrent clients")
    args.add_argument("--visits", type=int, default=12, help="page visits per client per level")
    args.add_argument("--think", type=float, default=0.5, help="mean seconds a client waits between visits")
    args.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    opts = args.parse_args(argv)
    data = data_dir()
    with served(data, opts.threads) as (port, process):
        SYNC_OUTPUT = load_sync_output(port)
        states = realistic_states(data)
        visits = [prepare_visit(port, url) for url in states]  # also warms each worker's caches once
        for _ in range(WORKERS):
            for visit in visits:  # the other worker warms too (connections land on either)
                prepare_visit(port, visit[0].path)
        print(f"data {data}; gunicorn {WORKERS} workers x {opts.threads} threads on 127.0.0.1:{port}; "
              f"{len(states)} page states, {sum(len(v) for v in visits)} distinct requests; "
              f"{opts.visits} visits per client, think time ~{opts.think} s; CPUs: {os.cpu_count()}")
        results = []
        for clients in [int(level) for level in opts.levels.split(",")]:
            result = run_level(port, process.pid, visits, clients, opts.visits, opts.think)
            results.append(result)
            print(f"\n== {clients} concurrent clients: {len(result.samples)} requests in {result.seconds:.1f} s "
                  f"({len(result.samples) / result.seconds:.1f} req/s)")
            print_table(summarise(result, "kind"))
            print_table(summarise(result, "name"))
            print("peak memory per worker (MB): " + "; ".join(
                f"pid {pid}: " + ", ".join(f"{name} {mb:.1f}" for name, mb in sorted(m.items()))
                for pid, m in sorted(result.rss_mb.items())))
            errors = sorted({s.error for s in result.samples if s.error})
            if errors:
                print("errors: " + "; ".join(errors[:5]))
        print("\n" + "\n".join(verdict(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
