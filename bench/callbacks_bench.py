"""Time every server callback of the dashboard over realistic inputs, and the server's cold start.

Usage:
    .venv/bin/python bench/callbacks_bench.py [--rounds 3] [--cold-runs 5] [--data-dir DIR] [--quick]

The database is DSM_DATA_DIR (or --data-dir) when it already holds dsm.duckdb; otherwise one is built from the
recorded files in ../shared/data by the real ETL (offline refresh) into a temporary folder.

Every callback runs through Dash's real request path (Flask test client, POST /_dash-update-component, JSON in and
out): the page router for every page over every headline indicator, several country sets and several years, then
the callbacks a rendered page triggers (side panel, export slot, URL sync of a changed control, the relationships
y axis, the scorecard click, the sources download). Round 1 starts with empty query caches ("cold"); later rounds
repeat the same inputs on a warm process. Cold start: median of several fresh interpreters each running
`import dashboard.app` and a first request of `/` through the Flask test client.

Targets: callback median < 30 ms, p95 < 100 ms; cold start < 3 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / ".." / "shared" / "data"
COUNTRY_SETS = ["", "EE,LV,LT", "EE,FI,SE,DK,NO", "PL,DE,EE"]  # "" = the default BSR peer group
TARGET_MEDIAN_MS, TARGET_P95_MS, TARGET_COLD_S = 30.0, 100.0, 3.0
UPDATE_URL = "/_dash-update-component"


# ---------------------------------------------------------------- data

def ensure_data_dir(asked: str | None) -> Path:
    """A data dir holding dsm.duckdb: the one given (argument or DSM_DATA_DIR), else a fresh offline build."""
    given = asked or os.environ.get("DSM_DATA_DIR")
    if given and (Path(given) / "dsm.duckdb").exists():
        return Path(given).resolve()
    from etl.refresh import refresh

    target = Path(given) if given else Path(tempfile.mkdtemp(prefix="dsm-bench-"))
    print(f"building the database from {SHARED_DATA.resolve()} into {target} ...", flush=True)
    started = time.perf_counter()
    report = refresh(offline=SHARED_DATA.resolve(), data_dir=target)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return Path(report.data_dir)


# ---------------------------------------------------------------- realistic inputs

def _search(**params) -> str:
    """'?a=1&b=2' from non-empty parameters."""
    kept = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return "?" + urlencode(kept, safe=",") if kept else ""


def _years(indicator_id: str) -> list[int]:
    """The latest year with data and one three years earlier when it exists."""
    from dashboard.data import queries

    years = queries.available_years(indicator_id)
    picked = [years[-1]] if years else []
    earlier = [y for y in years if y <= years[-1] - 3] if years else []
    return picked + earlier[-1:]


def page_inputs(quick: bool) -> list[tuple[str, str]]:
    """(path, search) pairs for every registered page: headline indicators x country sets x years."""
    import dash

    from dashboard.data import profile, queries

    headline = queries.headline_indicators()
    countries = COUNTRY_SETS[:2] if quick else COUNTRY_SETS
    headline = headline[:3] if quick else headline
    per_page = {
        "/": [_search(geo=g) for g in countries],
        "/compare": [_search(indicator=i, year=y, geo=g) for i in headline for y in _years(i) for g in countries[:2]],
        "/trends": [_search(indicator=i, geo=g) for i in headline for g in countries],
        "/map": [_search(indicator=i, year=y) for i in headline for y in _years(i)],
        "/relationships": _relationship_inputs(headline),
        "/country": [_search(geo=g) for g in ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO", "NL"]
                     if g in set(profile.profile_countries())],
        "/desi": [_search(edition=y, geo=g, measure=m) for y in profile.desi_editions()[-2:] for g in countries
                  for m in ("", "desi_2_hc")],
        "/findings": [_search(geo=g) for g in ["", "EE", "LV"]] + [_search(wp=w) for w in ("WP2", "WP3", "WP4")],
        "/sources": [_search(theme=t) for t in ["", "connectivity", "e_commerce"]],
    }
    registered = [p["path"] for p in dash.page_registry.values() if not p["module"].endswith("not_found_404")]
    inputs = []
    for path in registered:
        searches = per_page.get(path, [""])
        inputs += [(path, s) for s in searches]
    missing = sorted(set(registered) - set(per_page))
    if missing:
        print(f"note: no realistic inputs written for {missing}; timed with their default view", flush=True)
    return inputs


def _relationship_inputs(headline: list[str]) -> list[str]:
    """Consecutive pairs of headline indicators at the latest year they share and one earlier."""
    from dashboard.data import profile

    out = []
    for x, y in zip(headline, headline[1:] + headline[:1]):
        years = profile.pair_years(x, y)
        for year in (years[-1:] + [v for v in years if v <= years[-1] - 3][-1:]) if years else []:
            out.append(_search(indicator=x, y=y, year=year))
    return out


# ---------------------------------------------------------------- callbacks through Dash's request path

class Client:
    """POSTs callback requests to the app's Flask test client and records the time of each."""

    def __init__(self, app):
        self.app = app
        self.client = app.server.test_client()
        self.client.get("/")  # the first request registers the pages router
        self.deps = self.client.get("/_dash-dependencies").get_json()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)  # CPU time of this process: what load cannot inflate

    def dependency(self, output_prefix: str, first_input: str | None = None) -> dict | None:
        """The server-side callback whose output starts with a prefix (and whose first input is the one given)."""
        for dep in self.deps:
            if dep.get("clientside_function"):
                continue
            inputs = [f"{i['id']}.{i['property']}" for i in dep["inputs"]]
            if dep["output"].startswith(output_prefix) and (first_input is None or inputs[:1] == [first_input]):
                return dep
        return None

    def call(self, name: str, dep: dict, inputs: list, state: list, changed: list[str]) -> dict:
        """One callback request; the elapsed time is recorded under `name`; the JSON answer is returned."""
        payload = {"output": dep["output"], "outputs": _outputs_of(dep["output"]), "inputs": inputs,
                   "state": state, "changedPropIds": changed}
        body = json.dumps(payload)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = self.client.post(UPDATE_URL, data=body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu[name].append((time.process_time() - started_cpu) * 1000)
        assert response.status_code in (200, 204), f"{name}: HTTP {response.status_code}: {response.data[:300]!r}"
        self.times[name].append(elapsed)
        return response.get_json(silent=True) or {}


def _outputs_of(output: str):
    """The 'outputs' field Dash expects for an output string ('a.b', or '..a.b...c.d..' for several)."""
    def one(text: str) -> dict:
        text = text.split("@")[0]
        component, prop = text.rsplit(".", 1)
        return {"id": json.loads(component) if component.startswith("{") else component, "property": prop}

    if output.startswith(".."):
        return [one(part) for part in output.strip(".").split("...")]
    return one(output)


def run_page(client: Client, path: str, search: str) -> None:
    """Render one URL through the router, then every callback the rendered page triggers."""
    router = client.dependency(".._pages_content.children")
    location = [{"id": "_pages_location", "property": "pathname", "value": path},
                {"id": "_pages_location", "property": "search", "value": search}]
    answer = client.call(f"page {path}", router, location, [], ["_pages_location.pathname"])
    layout = answer.get("response", {}).get("_pages_content", {}).get("children")
    view_state = _find_store(layout)
    export = client.dependency("export-slot.children")
    if export:
        client.call("export slot", export, location, [], ["_pages_location.pathname"])
    panel = client.dependency("side-panel.children")
    if panel and view_state is not None:
        client.call("side panel", panel, [{"id": "view-state", "property": "data", "value": view_state}], [],
                    ["view-state.data"])
    _sync_changed_control(client, layout, search, view_state)
    _page_specific(client, path, search, layout, view_state)


def _walk(node):
    """Every component dict in a serialised layout."""
    if isinstance(node, dict):
        if "props" in node:
            yield node
            yield from _walk(node["props"].get("children"))
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child)


def _find_store(layout) -> dict | None:
    """The view-state Store's data in a serialised page layout."""
    for node in _walk(layout):
        if node["props"].get("id") == "view-state":
            return node["props"].get("data")
    return None


def _url_controls(layout) -> list[dict]:
    """The URL-bound controls (id, value, options) of a serialised page layout."""
    return [n["props"] for n in _walk(layout)
            if isinstance(n["props"].get("id"), dict) and n["props"]["id"].get("type") == "url-control"]


def _sync_changed_control(client: Client, layout, search: str, view_state) -> None:
    """The URL-sync callback after the user picks another option in the page's first dropdown with options."""
    sync = client.dependency("_pages_location.search", '{"key":["ALL"],"type":"url-control"}.value')
    controls = _url_controls(layout)
    if not sync or not controls:
        return
    values = [c.get("value") for c in controls]
    for i, control in enumerate(controls):
        options = [o.get("value") if isinstance(o, dict) else o for o in control.get("options") or []]
        others = [o for o in options if o != control.get("value") and not isinstance(control.get("value"), list)]
        if others:
            values[i] = others[0]
            break
    inputs = [[{"id": c["id"], "property": "value", "value": v} for c, v in zip(controls, values)]]
    state = [[{"id": c["id"], "property": "id", "value": c["id"]} for c in controls],
             {"id": "_pages_location", "property": "search", "value": search},
             {"id": "view-state", "property": "data", "value": view_state}]
    changed = [json.dumps(controls[0]["id"], separators=(",", ":"), sort_keys=True) + ".value"]
    client.call("url sync", sync, inputs, state, changed)


def _page_specific(client: Client, path: str, search: str, layout, view_state) -> None:
    """Callbacks that only some pages trigger: relationships y axis, scorecard click, sources download."""
    if path == "/relationships":
        set_y = client.dependency("_pages_location.search", "relationships-y.value")
        y_control = next((n["props"] for n in _walk(layout) if n["props"].get("id") == "relationships-y"), None)
        if set_y and y_control:
            options = [o["value"] for o in y_control["options"] if o["value"] != y_control.get("value")]
            client.call("relationships y", set_y, [{"id": "relationships-y", "property": "value", "value": options[0]}],
                        [{"id": "_pages_location", "property": "search", "value": search}], ["relationships-y.value"])
    if path == "/" and view_state is not None:
        click = client.dependency("_pages_location.href", "scorecard-graph.clickData")
        if click:
            from dashboard.data import queries

            for indicator_id in queries.headline_indicators()[:3]:
                data = {"points": [{"customdata": [indicator_id, "EE"]}]}
                client.call("scorecard click", click, [{"id": "scorecard-graph", "property": "clickData", "value": data}],
                            [{"id": "view-state", "property": "data", "value": view_state}],
                            ["scorecard-graph.clickData"])
    if path == "/sources" and not search:
        download = client.dependency("download-all.data")
        if download:
            client.call("sources download", download,
                        [{"id": "download-all-button", "property": "n_clicks", "value": 1}], [],
                        ["download-all-button.n_clicks"])


# ---------------------------------------------------------------- cold start

COLD_START_CODE = """
import json, time
t0 = time.perf_counter()
import dashboard.app as app_module
t1 = time.perf_counter()
response = app_module.server.test_client().get("/")
t2 = time.perf_counter()
assert response.status_code == 200, response.status_code
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1}))
"""


def cold_start(data_dir: Path, runs: int) -> list[dict]:
    """Several fresh interpreters: import the app, serve `/` once; times in seconds (wall includes interpreter start)."""
    results = []
    env = {**os.environ, "DSM_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD_START_CODE], cwd=REPO, env=env, capture_output=True,
                             text=True, check=True)
        wall = time.perf_counter() - started
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        results.append({**measured, "wall_s": wall})
    return results


# ---------------------------------------------------------------- report

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report(cold_times: dict[str, list[float]], warm_times: dict[str, list[float]], warm_cpu: dict[str, list[float]],
           starts: list[dict]) -> bool:
    """Print median/p95 per callback (cold first round, warm later rounds) and the cold start; True when on target."""
    ok = True
    print(f"\n{'callback':<22}{'calls':>6}{'cold med':>9}{'cold p95':>9}{'warm med':>9}{'warm p95':>9}"
          f"{'cpu med':>9}{'cpu p95':>9}  target")
    for name in sorted(set(cold_times) | set(warm_times)):
        cold, warm, cpu = cold_times.get(name, []), warm_times.get(name, []), warm_cpu.get(name, [])
        measured = warm or cold
        on_target = statistics.median(measured) < TARGET_MEDIAN_MS and percentile(measured, 95) < TARGET_P95_MS
        ok &= on_target
        cells = [f"{statistics.median(v):9.1f}{percentile(v, 95):9.1f}" if v else f"{'-':>9}{'-':>9}"
                 for v in (cold, warm, cpu)]
        print(f"{name:<22}{len(cold) + len(warm):>6}{''.join(cells)}  {'ok' if on_target else 'MISSED'}")
    print("(ms, wall clock; cold = first round on empty query caches, warm = later rounds, cpu = this process's CPU "
          f"time in the warm rounds, which other load on the machine does not inflate; target on warm wall clock: "
          f"median < {TARGET_MEDIAN_MS:.0f}, p95 < {TARGET_P95_MS:.0f}; load average now "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")
    if starts:
        total = [s["import_s"] + s["first_request_s"] for s in starts]
        med = statistics.median(total)
        print(f"\ncold start over {len(starts)} runs: import + first request of / = median {med:.2f} s "
              f"(import {statistics.median([s['import_s'] for s in starts]):.2f} s, first request "
              f"{statistics.median([s['first_request_s'] for s in starts]) * 1000:.0f} ms; with interpreter start "
              f"{statistics.median([s['wall_s'] for s in starts]):.2f} s)  {'ok' if med < TARGET_COLD_S else 'MISSED'}"
              f" (target < {TARGET_COLD_S:.0f} s)")
        ok &= med < TARGET_COLD_S
    return ok


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the database, time every callback over every input, time the cold start, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over all inputs (the first one is cold)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters for the cold start")
    parser.add_argument("--data-dir", help="reuse this data dir (default: DSM_DATA_DIR, else build one)")
    parser.add_argument("--quick", action="store_true", help="fewer indicators and country sets (smoke run)")
    args = parser.parse_args(argv)
    data_dir = ensure_data_dir(args.data_dir)
    os.environ["DSM_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(REPO))
    from dashboard.app import app
    from dashboard.data import connection

    connection.clear_cache()
    client = Client(app)
    inputs = page_inputs(args.quick)
    connection.clear_cache()  # choosing the inputs ran queries; the first round starts cold
    print(f"data dir {data_dir}; {len(inputs)} page URLs x {args.rounds} rounds", flush=True)
    rounds = []
    for number in range(args.rounds):
        client.times, client.cpu = defaultdict(list), defaultdict(list)
        started = time.perf_counter()
        for path, search in inputs:
            run_page(client, path, search)
        rounds.append((client.times, client.cpu))
        print(f"  round {number + 1}: {time.perf_counter() - started:.1f} s", flush=True)
    warm: dict[str, list[float]] = defaultdict(list)
    warm_cpu: dict[str, list[float]] = defaultdict(list)
    for later, later_cpu in rounds[1:]:
        for name, values in later.items():
            warm[name] += values
            warm_cpu[name] += later_cpu[name]
    starts = cold_start(data_dir, args.cold_runs) if args.cold_runs else []
    return 0 if report(rounds[0][0], warm, warm_cpu, starts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
