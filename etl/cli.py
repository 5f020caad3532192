"""The `dsm` command: refresh the data, show its status, serve the dashboard."""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from etl import config
from etl.catalogue import load_catalogue
from etl.refresh import Interrupted, LiveSource, RefreshError, refresh
from etl.schedule import parse_every, run_schedule

BAR_WIDTH = 24


class ProgressBar:
    """A plain text progress bar on stderr, one line per dataset (no extra dependency)."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream

    def __call__(self, dataset: str, stage: str, done: int, total: int) -> None:
        """Draw the bar for one progress event; a finished dataset ends its line."""
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        final = stage in {"built", "unchanged", "missing", "failed"} or (stage == "database" and done == total)
        end = "\n" if final else ""
        self.stream.write(f"\r[{bar}] {done:>2}/{total:<2} {dataset:<18} {stage:<10}{end}")
        self.stream.flush()


def format_table(headers: list[str], rows: list[list]) -> str:
    """A plain fixed-width text table."""
    cells = [[("" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(value.ljust(w) for value, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def print_report(report, out: TextIO) -> None:
    """The summary table of a refresh, then what is missing and why."""
    rows = [[code, result.status, result.rows, len(result.indicator_rows), ", ".join(result.files)]
            for code, result in sorted(report.datasets.items())]
    out.write(format_table(["dataset", "status", "rows", "indicators", "files"], rows) + "\n")
    for code, reason in sorted(report.missing_datasets.items()):
        out.write(f"missing dataset {code}: {reason}\n")
    for indicator, reason in sorted(report.missing_indicators.items()):
        out.write(f"no rows for indicator {indicator}: {reason}\n")
    for code, reason in sorted(report.failed.items()):
        out.write(f"failed dataset {code} (previous version kept): {reason}\n")
    for skipped in report.skipped_files:
        out.write(f"skipped file {skipped}\n")
    if report.database_rebuilt:
        out.write(changes_summary(report.changes, report.compared) + "\n")
    state = "rebuilt" if report.database_rebuilt else "unchanged (nothing new to build)"
    out.write(f"database {report.database}: {state}; {report.total_rows} observations\n")


def changes_summary(changes: list[tuple[str, str, str, int]], compared: bool = True) -> str:
    """The short revision summary printed after a refresh: totals, then one line per dataset and indicator."""
    if not compared:
        return "what changed: first build, nothing to compare with"
    totals = {kind: sum(n for _, _, change, n in changes if change == kind) for kind in ("added", "removed", "revised")}
    lines = [f"what changed against the replaced database: {totals['added']} cells added, "
             f"{totals['removed']} removed, {totals['revised']} revised"]
    per = {}
    for dataset, indicator, change, cells in changes:
        per.setdefault((dataset, indicator), []).append(f"{cells} {change}")
    lines += [f"  {dataset} {indicator}: {', '.join(parts)}" for (dataset, indicator), parts in sorted(per.items())]
    if changes:
        lines.append("  (details: dsm changes)")
    return "\n".join(lines)


def first_run_hint() -> str:
    """What to try when the live API cannot be used."""
    return (f"hint: the live Eurostat API at {config.eurostat_base_url()} could not be used. Check the network "
            "(and any proxy), or set DSM_EUROSTAT_URL to a reachable mirror, or refresh from a folder of recorded "
            "responses: dsm refresh --offline DIR (bash scripts/run.sh --offline DIR).")


def command_schedule(args: argparse.Namespace) -> int:
    """dsm schedule: refresh now and then every --every, one run at a time, until stopped (SIGTERM ends it cleanly)."""
    try:
        seconds = parse_every(args.every)
    except ValueError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    return run_schedule(seconds, refresh_options(args), runs=args.runs)


def refresh_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of etl.refresh.refresh from the shared refresh options."""
    return {"offline": args.offline, "only": args.only, "force": args.force, "keep_going": args.keep_going,
            "accept_loss": args.accept_loss}


def command_refresh(args: argparse.Namespace) -> int:
    """dsm refresh."""
    try:
        report = refresh(progress=ProgressBar(), **refresh_options(args))
    except RefreshError as err:
        sys.stderr.write(f"\nerror: {err}\n")
        if not (args.offline or config.offline_dir()) and "fetch failed" in str(err):
            sys.stderr.write(first_run_hint() + "\n")
        return 1
    except Interrupted as err:
        sys.stderr.write(f"\n{err}; nothing published, the run is recorded as interrupted\n")
        return 128 + signal.SIGTERM
    print_report(report, sys.stdout)
    return 3 if report.failed else 0


def published_database(path: Path):
    """A read-only connection to the published database; None, after saying so on stderr, when there is none."""
    if not path.exists():
        sys.stderr.write(f"error: no database at {path}; run `dsm refresh` first\n")
        return None
    return duckdb.connect(str(path), read_only=True)


def command_status(args: argparse.Namespace) -> int:
    """dsm status: one row per dataset of the published database."""
    path = config.database_path()
    con = published_database(path)
    if con is None:
        return 1
    try:
        rows = con.execute(
            "SELECT dataset, rows, countries, first_year || '-' || last_year, flagged, missing_values, "
            "indicators, source_updated, strftime(retrieved_at, '%Y-%m-%d %H:%M:%S') FROM dataset_status"
        ).fetchall()
        last = con.execute("SELECT run_id, status, finished_at FROM refresh_runs ORDER BY started_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    headers = ["dataset", "rows", "countries", "years", "flagged", "missing", "indicators",
               "source updated", "retrieved (UTC)"]
    sys.stdout.write(format_table(headers, [list(row) for row in rows]) + "\n")
    if last:
        sys.stdout.write(f"database {path} built by run {last[0]} ({last[1]}, {last[2]})\n")
    return 0


def command_changes(args: argparse.Namespace) -> int:
    """dsm changes: the cells a refresh added, removed or revised (default: the run that built the database)."""
    path = config.database_path()
    con = published_database(path)
    if con is None:
        return 1
    try:
        run_id = args.run or con.execute("SELECT run_id FROM build").fetchone()[0]
        known = con.execute("SELECT count(*) FROM refresh_runs WHERE run_id = ?", [run_id]).fetchone()[0]
        if not known:
            sys.stderr.write(f"error: no refresh run {run_id!r} in {path} (see `dsm status`)\n")
            return 2
        frame = con.execute(
            "SELECT dataset, indicator, geo, period, change, old_value, old_flags, new_value, new_flags "
            "FROM revisions WHERE run_id = ? AND (? IS NULL OR dataset = ?) ORDER BY ALL",
            [run_id, args.dataset, args.dataset]).df()
    finally:
        con.close()
    if args.csv:
        frame.insert(0, "run_id", run_id)
        frame.to_csv(sys.stdout, index=False)
        return 0
    counts = frame["change"].value_counts()
    sys.stdout.write(f"run {run_id}" + (f", dataset {args.dataset}" if args.dataset else "") + ": "
                     f"{counts.get('added', 0)} cells added, {counts.get('removed', 0)} removed, "
                     f"{counts.get('revised', 0)} revised\n")
    if len(frame):
        shown = [[*row[:5], value_text(row[5], row[6]), value_text(row[7], row[8])]
                 for row in frame.itertuples(index=False)]
        sys.stdout.write(format_table(["dataset", "indicator", "geo", "period", "change", "old", "new"], shown) + "\n")
    return 0


def value_text(value, flags) -> str:
    """A value with its flags as published; ':' when there is none."""
    shown = ":" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"
    return shown + (f" {flags}" if isinstance(flags, str) and flags else "")


def serve_command(args: argparse.Namespace) -> list[str]:
    """The gunicorn command line `dsm serve` runs: the Procfile's server and settings (dashboard/gunicorn_conf.py)."""
    command = [sys.executable, "-m", "gunicorn", "dashboard.app:server", "--config", "python:dashboard.gunicorn_conf",
               "--bind", f"{args.host}:{args.port}"]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    return command


def command_serve(args: argparse.Namespace) -> int:
    """dsm serve: the dashboard under gunicorn, as the Procfile serves it (never Flask's development server)."""
    if not config.database_path().exists():
        sys.stderr.write(f"error: no database at {config.database_path()}; run `dsm refresh` first\n")
        return 1
    command = serve_command(args)
    os.execv(command[0], command)  # gunicorn takes over this process (signals reach it directly)
    return 0  # not reached


def command_requests(args: argparse.Namespace) -> int:
    """dsm requests: per catalogue dataset, the URLs a live refresh sends (or why no live service serves it)."""
    catalogue = load_catalogue()
    source = LiveSource(catalogue, config.raw_dir())
    for dataset in catalogue.datasets:
        urls = source.planned(dataset)
        print(f"{dataset}:" + ("".join(f"\n  GET {url}" for url in urls) if urls else f" {source.available(dataset)}"))
    return 0


def add_refresh_options(command: argparse.ArgumentParser) -> None:
    """The options refresh and schedule share."""
    command.add_argument("--offline", type=Path, metavar="DIR",
                         help="refresh from a folder of recorded responses instead of the live Eurostat API")
    command.add_argument("--only", nargs="+", metavar="DATASET", help="refresh only these datasets")
    command.add_argument("--force", action="store_true", help="rebuild even when the raw files are unchanged")
    command.add_argument("--keep-going", action="store_true",
                         help="publish every dataset that passed; keep the previous version of those that failed")
    command.add_argument("--accept-loss", action="extend", nargs="+", default=[], metavar="DATASET",
                         help="let these datasets lose indicators or more than DSM_MAX_LOSS (5%%) of their cells")


def parser() -> argparse.ArgumentParser:
    """The argument parser with its commands."""
    root = argparse.ArgumentParser(prog="dsm", description="Baltic DSM Dashboard: ETL and dashboard.")
    commands = root.add_subparsers(dest="command", required=True)
    refresh_ = commands.add_parser("refresh", help="fetch, decode and publish the catalogue's datasets")
    add_refresh_options(refresh_)
    refresh_.set_defaults(handler=command_refresh)
    schedule = commands.add_parser("schedule", help="refresh every --every (e.g. 12h), never overlapping itself")
    schedule.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 12h, 30m, 1d")
    schedule.add_argument("--runs", type=int, default=None, help=argparse.SUPPRESS)  # tests: stop after N runs
    add_refresh_options(schedule)
    schedule.set_defaults(handler=command_schedule)
    status = commands.add_parser("status", help="rows, countries, years and freshness per dataset")
    status.set_defaults(handler=command_status)
    changes = commands.add_parser("changes", help="cells added, removed and revised by a refresh")
    changes.add_argument("--run", metavar="ID", help="the refresh run (default: the one that built the database)")
    changes.add_argument("--dataset", metavar="D", help="only this dataset")
    changes.add_argument("--csv", action="store_true", help="write CSV to stdout")
    changes.set_defaults(handler=command_changes)
    requests_ = commands.add_parser("requests", help="the URLs a live refresh asks for each catalogue dataset")
    requests_.set_defaults(handler=command_requests)
    serve = commands.add_parser("serve", help="run the dashboard")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=int, help="gunicorn worker processes (default $DSM_WORKERS or 2)")
    serve.add_argument("--threads", type=int, help="threads per worker (default $DSM_THREADS or 4)")
    serve.set_defaults(handler=command_serve)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `dsm` console script."""
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
