"""The refresh pipeline: fetch (live) or copy (recorded folder) -> decode -> assign indicators -> Parquet + DuckDB.

Layout of the data dir (config.data_dir()):
    raw/<dataset>/<file> (+ .meta.json)   raw cache, written by the sources
    parquet/<dataset>.parquet              tidy observations of the last successful refresh
    parquet/_manifest.json                 what each Parquet file was built from (digests, provenance, labels)
    dsm.duckdb                             self-contained database (its own copy of the observations)
    refresh_runs.json                      every run, failed and no-change ones included; the database's
                                           refresh_runs table is a copy taken when that database was built
                                           (a run that publishes nothing must not touch the database)
    .refresh.lock                          held (flock) while a refresh runs

Safety: the new Parquet set is staged in .staging-<run>/parquet and the database is built in a temp file;
then parquet/ is swapped by two renames and the database by os.replace. Any failure before or during the
swap leaves the previous parquet/ and dsm.duckdb exactly as they were.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa

from etl import checks, config
from etl.catalogue import Catalogue, assign_indicators, load_catalogue
from etl.formats import jsonstat, registry
from etl.formats.scoreboard import LIVE_FORMAT
from etl.model import DecodeError, finalize
from etl.publish import build_database, write_parquet
from etl.sources import rawstore, scoreboard
from etl.sources.eurostat import DATAFLOW_QUERY, EurostatClient, dataflow_url, request_url, same_instant
from etl.sources.recorded import RecordedSource
from etl.sources.scoreboard import ScoreboardClient

MANIFEST = "_manifest.json"
RUNS_LOG = "refresh_runs.json"
LOCK_FILE = ".refresh.lock"
DATABASE_NAME = "dsm.duckdb"
# Bump when the way rows are built changes, so that unchanged raw files are still rebuilt once.
PIPELINE_VERSION = "1"
Progress = Callable[[str, str, int, int], None]  # (dataset, stage, done, total)


class RefreshError(RuntimeError):
    """A refresh that failed; names the dataset, the file and the reason. Nothing published was changed."""

    def __init__(self, reason: str, dataset: str | None = None, file: str | None = None):
        self.dataset, self.file, self.reason = dataset, file, reason
        place = ", ".join(part for part in (f"dataset {dataset}" if dataset else "",
                                            f"file {file}" if file else "") if part)
        super().__init__(f"refresh failed: {place}: {reason}" if place else f"refresh failed: {reason}")


class RefreshLocked(RefreshError):
    """Another refresh holds the lock on this data dir."""


class Interrupted(BaseException):
    """The refresh was told to stop (SIGTERM); like KeyboardInterrupt it is no failure of the data."""


@dataclass
class DatasetResult:
    """What happened to one dataset in a run."""

    dataset: str
    status: str                     # "built" | "unchanged" | "kept" (not in this run, previous data kept)
    files: list[str] = field(default_factory=list)
    rows: int = 0
    indicator_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class RefreshReport:
    """The outcome of a successful refresh."""

    run_id: str
    source: str
    data_dir: Path
    database: Path
    started_at: str
    finished_at: str = ""
    datasets: dict[str, DatasetResult] = field(default_factory=dict)
    missing_datasets: dict[str, str] = field(default_factory=dict)     # dataset -> why it is not in the source
    missing_indicators: dict[str, str] = field(default_factory=dict)   # indicator id -> why it has no rows
    failed: dict[str, str] = field(default_factory=dict)               # dataset -> why (--keep-going kept it)
    skipped_files: list[str] = field(default_factory=list)
    database_rebuilt: bool = False
    changes: list[tuple[str, str, str, int]] = field(default_factory=list)  # (dataset, indicator, change, cells)
    compared: bool = False          # a previous database was there to compare with

    @property
    def rebuilt(self) -> list[str]:
        """Datasets decoded and written in this run."""
        return sorted(code for code, result in self.datasets.items() if result.status == "built")

    @property
    def unchanged(self) -> list[str]:
        """Datasets whose raw files matched the last successful build, so nothing was redone."""
        return sorted(code for code, result in self.datasets.items() if result.status == "unchanged")

    @property
    def total_rows(self) -> int:
        """Observations in the published set."""
        return sum(result.rows for result in self.datasets.values())


# ---------------------------------------------------------------- small helpers

def utc_now() -> str:
    """Now, ISO 8601 UTC to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def new_run_id() -> str:
    """A sortable, unique run id."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def write_json_atomic(path: Path, document) -> None:
    """Write JSON atomically (rawstore.atomic_write), readable by every reader of the data dir."""
    data = json.dumps(document, indent=1, sort_keys=True, default=str).encode("utf-8")
    rawstore.atomic_write(path, data, mode=0o644)


def read_json(path: Path, default):
    """A JSON file, or default when it does not exist."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return default


@contextmanager
def refresh_lock(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive flock on the data dir's lock file (released by the OS even if we crash)."""
    handle = open(data_dir / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise RefreshLocked(f"another refresh is running on {data_dir} (lock {LOCK_FILE})") from err
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def recover_interrupted_swap(data_dir: Path) -> None:
    """If a crash happened between the two parquet renames, put the previous set back; remove dead runs' temp files."""
    parquet = data_dir / "parquet"
    leftovers = sorted(data_dir.glob(".parquet-old-*"))
    if not parquet.exists() and leftovers:
        os.rename(leftovers[-1], parquet)
    for folder in [*data_dir.glob(".parquet-old-*"), *data_dir.glob(".staging-*")]:
        shutil.rmtree(folder, ignore_errors=True)
    for tmp_db in data_dir.glob(f".{DATABASE_NAME}.*.tmp*"):
        tmp_db.unlink(missing_ok=True)
    for tmp_raw in (data_dir / "raw").glob("*/.*.tmp"):  # rawstore's temp files of a download that died
        tmp_raw.unlink(missing_ok=True)


def mark_dead_runs(data_dir: Path, run_id: str) -> None:
    """Runs still 'running' in the log died without finishing (we hold the lock): record them as interrupted."""
    runs = read_json(data_dir / RUNS_LOG, [])
    dead = [entry for entry in runs if entry.get("status") == "running"]
    for entry in dead:
        entry.update(status="interrupted", finished_at=None,
                     message=f"interrupted: the process ended before finishing (found by run {run_id})")
    if dead:
        write_json_atomic(data_dir / RUNS_LOG, runs)


def generation(data_dir: Path, manifest: dict) -> tuple[str | None, str | None]:
    """(run id the published Parquet manifest names, run id the database says built it); equal when in step."""
    built = None
    if (data_dir / DATABASE_NAME).exists():
        try:
            con = duckdb.connect(str(data_dir / DATABASE_NAME), read_only=True)
            try:
                built = con.execute("SELECT run_id FROM build").fetchone()[0]
            finally:
                con.close()
        except duckdb.Error:
            built = None  # a database older than the build table
    return manifest.get("generation"), built


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs (main thread only), SIGTERM raises Interrupted, so the run ends cleanly and is recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Interrupted("interrupted by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def decoder_digest() -> str:
    """Hash of the code that turns raw bytes into rows, so a decoder change rebuilds unchanged files."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    for path in sorted([root / "model.py", root / "refresh.py", *(root / "formats").glob("*.py"),
                        *(root / "codelists").glob("*.csv")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def dataset_digest(raw_files: list[rawstore.RawFile], catalogue: Catalogue, dataset: str, code_digest: str) -> str:
    """What a dataset's Parquet depends on: its raw files' sha256, its indicators and the decoding code."""
    parts = {
        "raw": sorted((f.path.name, f.meta["sha256"], f.meta.get("update_data") or "") for f in raw_files),
        "indicators": [row for row in catalogue.rows() if row["dataset"] == dataset],
        "code": code_digest,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- sources

class LiveSource:
    """The live services (the default): Eurostat's APIs, and the Digital Scoreboard API for its datasets."""

    def __init__(self, catalogue: Catalogue, raw_dir: Path, client=None, scoreboard_client=None):
        self.catalogue, self.raw_dir = catalogue, raw_dir
        self.client = client or EurostatClient()
        # the scoreboard's client shares the Eurostat client's limits (timeouts, retries, size bounds)
        self.scoreboard = scoreboard_client or ScoreboardClient(
            timeout=self.client.timeout, max_retries=self.client.max_retries, backoff=self.client.backoff,
            sleep=self.client.sleep)
        self.name = f"live Eurostat API {self.client.base_url}"
        self.update_dates: dict[str, str | None] = {}  # dataset -> UPDATE_DATA asked this run

    def from_scoreboard(self, dataset: str) -> bool:
        """True for a dataset the Digital Scoreboard API serves (catalogue live_format 'scoreboard')."""
        return self.catalogue.datasets[dataset].live_format == LIVE_FORMAT

    def available(self, dataset: str) -> str | None:
        """None when the dataset can be fetched, else why not."""
        if self.catalogue.datasets[dataset].live_format is None:
            return "not served by the live Eurostat API (recorded source only)"
        return None

    def planned(self, dataset: str) -> list[str]:
        """The URLs a refresh asks for the dataset, in order (`dsm requests`): the update-date question, then the
        data (an asynchronous answer adds its status and data polls); none for a dataset no live service serves."""
        entry = self.catalogue.datasets[dataset]
        if self.available(dataset):
            return []
        if self.from_scoreboard(dataset):
            return [url for group in entry.live_filters["chart_group"]
                    for url in (scoreboard.chart_group_url(self.scoreboard.base_url, group),
                                scoreboard.indicators_url(self.scoreboard.base_url, group))]
        return [dataflow_url(self.client.base_url, dataset) + DATAFLOW_QUERY,
                request_url(self.client.base_url, dataset, entry.live_format, entry.live_filters or None)]

    def current(self, dataset: str) -> list[rawstore.RawFile] | None:
        """The cached raw file when the service's update date has not moved since it was fetched, else None.

        The scoreboard states no update date per chart group: its bodies are always fetched (and compared by
        digest, so an unchanged answer rebuilds nothing)."""
        if self.from_scoreboard(dataset):
            return None
        entry = self.catalogue.datasets[dataset]
        self.update_dates[dataset] = self.client.update_date(dataset)
        cached = rawstore.list_raw(dataset, self.raw_dir)
        url = request_url(self.client.base_url, dataset, entry.live_format, entry.live_filters or None)
        if len(cached) == 1 and cached[0].meta.get("url") == url and \
                same_instant(cached[0].meta.get("update_data"), self.update_dates[dataset]):
            return cached
        return None

    def fetch(self, dataset: str) -> list[rawstore.RawFile]:
        """Download one dataset into the raw store."""
        entry = self.catalogue.datasets[dataset]
        if self.from_scoreboard(dataset):
            return self.scoreboard.fetch_dataset(entry.live_filters["chart_group"], raw_dir=self.raw_dir)
        return [self.client.fetch_dataset(dataset, entry.live_format, entry.live_filters or None, raw_dir=self.raw_dir,
                                          update_data=self.update_dates.get(dataset))]

    def skipped(self) -> list[str]:
        """Nothing is skipped by the live source."""
        return []


class OfflineSource:
    """A folder of recorded responses (etl/sources/recorded.py)."""

    def __init__(self, folder: Path, catalogue: Catalogue, raw_dir: Path):
        self.recorded = RecordedSource(folder, set(catalogue.datasets))
        self.raw_dir = raw_dir
        self.name = f"recorded folder {self.recorded.folder}"

    def available(self, dataset: str) -> str | None:
        """None when the folder holds the dataset, else why not."""
        return None if dataset in self.recorded.datasets() else f"not in the recorded source {self.recorded.folder}"

    def current(self, dataset: str) -> None:
        """A recorded folder states no update dates: its files are always copied (and compared by digest)."""
        return None

    def fetch(self, dataset: str) -> list[rawstore.RawFile]:
        """Copy the dataset's recorded files into the raw store."""
        return self.recorded.fetch_dataset(dataset, raw_dir=self.raw_dir)

    def skipped(self) -> list[str]:
        """Files in the folder that are not used, each with the reason."""
        return [f"{path.name}: {reason}" for path, reason in self.recorded.skipped()] + \
               [f"{path.name}: matches no catalogue dataset" for path in self.recorded.unknown()]


# ---------------------------------------------------------------- decoding

def decoder_name(raw: rawstore.RawFile) -> str:
    """The registered format of a raw file: its recorded format, else its extension's."""
    return raw.format or registry.for_file_name(raw.path.name).name


def decode_file(raw: rawstore.RawFile, dataset: str):
    """Read a raw file (checksum verified) and decode it; returns (Decoded, meta)."""
    if raw.decoded is not None:  # a live body, decoded once by the client when it was accepted
        decoded, meta = raw.decoded, raw.meta
    else:
        body, meta = rawstore.read_raw(raw.path)
        decoded = registry.decode(decoder_name(raw), body, raw.path.name, dataset=dataset)
    if decoded.dataset != dataset:
        raise DecodeError(raw.path.name, "dataset", f"file holds dataset {decoded.dataset!r}, expected {dataset!r}")
    decoded.source_updated = decoded.source_updated or meta.get("source_updated")
    return decoded, meta


def check_parts(decoded_files: list[tuple[str, object]], dataset: str) -> None:
    """Partial JSON-stat answers of one dataset (disjoint series) must merge cleanly (jsonstat.merge_parts).

    Rows stay per file (each keeps its source_file); the merge is the consistency check that the halves
    really are parts of one dataset. Overlapping JSON-stat files are versions, resolved by indicator_values.
    """
    if len(decoded_files) < 2:
        return
    keys = [set(zip(d.observations["geo"], d.observations["period"], d.observations["unit"].astype(str),
                    d.observations["dims"].map(lambda m: tuple(sorted((m or {}).items())))))
            for _, d in decoded_files]
    disjoint = all(not (keys[i] & keys[j]) for i in range(len(keys)) for j in range(i + 1, len(keys)))
    if disjoint:
        merged = jsonstat.merge_parts([d for _, d in decoded_files])
        total = sum(len(d.observations) for _, d in decoded_files)
        assert len(merged.observations) == total, \
            f"{dataset}: merging {[n for n, _ in decoded_files]} gave {len(merged.observations)} rows, parts hold {total}"


def build_dataset(dataset: str, raw_files: list[rawstore.RawFile], catalogue: Catalogue, learnt: dict | None = None):
    """Decode every raw file of a dataset into one checked observation table with indicator ids; plus labels,
    provenance and its shape (learnt: the shape of the last good load, see etl.checks)."""
    tables, labels, provenance, jsonstat_parts = [], [], [], []
    for raw in raw_files:
        try:
            decoded, meta = decode_file(raw, dataset)
            retrieved = pd.Timestamp(meta.get("retrieved_at") or utc_now())
            retrieved = retrieved.tz_localize("UTC") if retrieved.tzinfo is None else retrieved.tz_convert("UTC")
            table = finalize(decoded, retrieved_at=retrieved, source_file=raw.path.name)
        except Exception as err:  # whatever a decoder raises, the run fails naming this dataset and file
            raise RefreshError(describe(err), dataset, raw.path.name) from err
        tables.append(table)
        labels += [tuple(map(str, label)) for label in decoded.labels]
        provenance.append({
            "dataset": dataset, "file": raw.path.name, "url": meta.get("url"), "sha256": meta["sha256"],
            "bytes": meta.get("bytes"), "source_updated": decoded.source_updated,
            "retrieved_at": meta.get("retrieved_at"), "rows": table.num_rows, "format": decoder_name(raw),
        })
        if decoder_name(raw) == "jsonstat":
            jsonstat_parts.append((raw.path.name, decoded))
    try:
        check_parts(jsonstat_parts, dataset)
    except (DecodeError, AssertionError, ValueError) as err:
        raise RefreshError(describe(err), dataset, ", ".join(n for n, _ in jsonstat_parts)) from err
    combined = assign_indicators(pa.concat_tables(tables), catalogue, dataset)
    found = checks.shape(combined)
    try:
        checks.check_shape(dataset, found, learnt, catalogue)
        checks.check_one_value_per_cell(dataset, combined, catalogue)
        checks.check_unit_ranges(dataset, combined)
    except checks.CheckFailed as err:
        raise RefreshError(err.reason, dataset, err.file) from err
    return combined, labels, provenance, checks.learnt_shape(found)


def describe(err: BaseException) -> str:
    """The reason an error gives, without repeating the file name a DecodeError already carries."""
    if isinstance(err, DecodeError):
        return f"{err.where}: {err.reason}"
    return str(err) or err.__class__.__name__


def indicator_counts(table: pa.Table) -> dict[str, int]:
    """Rows per indicator id in an observation table."""
    counts = table.column("indicator").value_counts().to_pylist()
    return {item["values"]: item["counts"] for item in counts if item["values"] is not None}


# ---------------------------------------------------------------- the run

@dataclass
class Plan:
    """Everything a run decided before publishing."""

    staging: Path
    manifest: dict
    report: RefreshReport


def refresh(offline: Path | None = None, only: list[str] | None = None, force: bool = False,
            progress: Progress | None = None, *, data_dir: Path | None = None, client=None,
            keep_going: bool = False, accept_loss: list[str] | tuple[str, ...] = ()) -> RefreshReport:
    """Refresh the data dir from the live API (default) or a recorded folder; all-or-nothing publish.

    data_dir defaults to config.data_dir(); client (an EurostatClient) lets callers tune timeouts/retries.
    keep_going publishes the datasets that passed and keeps the previous version of those that failed;
    accept_loss names datasets allowed to lose cells or indicators against the published data.
    """
    data_dir = Path(data_dir) if data_dir else config.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    offline = Path(offline) if offline else config.offline_dir()
    started = utc_now()
    run_id = new_run_id()
    report = None
    try:
        with sigterm_interrupts(), refresh_lock(data_dir):
            recover_interrupted_swap(data_dir)
            mark_dead_runs(data_dir, run_id)
            record_run(data_dir, run_id, started, "running", f"running (pid {os.getpid()})", [], [])
            report = run(data_dir, run_id, started, offline, only, force, progress or (lambda *a: None), client,
                         keep_going, tuple(accept_loss))
    except RefreshLocked:
        raise
    except BaseException as err:
        message = str(err) if isinstance(err, RefreshError) else f"{err.__class__.__name__}: {err}"
        stopped = isinstance(err, (KeyboardInterrupt, SystemExit, Interrupted))
        record_run(data_dir, run_id, started, "interrupted" if stopped else "failed", message, [], [])
        if isinstance(err, Exception) and not isinstance(err, RefreshError):
            raise RefreshError(message) from err
        raise
    return report


def run(data_dir: Path, run_id: str, started: str, offline: Path | None, only: list[str] | None,
        force: bool, progress: Progress, client=None, keep_going: bool = False,
        accept_loss: tuple[str, ...] = ()) -> RefreshReport:
    """One locked refresh run."""
    catalogue = load_catalogue()
    if offline:
        source = OfflineSource(offline, catalogue, data_dir / "raw")
    else:
        source = LiveSource(catalogue, data_dir / "raw", client)
    report = RefreshReport(run_id, source.name, data_dir, data_dir / DATABASE_NAME, started,
                           skipped_files=source.skipped())
    unknown = sorted((set(only or []) | set(accept_loss)) - set(catalogue.datasets))
    if unknown:
        raise RefreshError(f"not in the catalogue: {', '.join(unknown)}")
    previous = read_json(data_dir / "parquet" / MANIFEST, {"datasets": {}})
    staging = data_dir / f".staging-{run_id}"
    (staging / "parquet").mkdir(parents=True)
    try:
        manifest = stage_datasets(catalogue, source, previous, staging / "parquet", report,
                                  only, force, progress, keep_going, accept_loss)
        report.missing_indicators = missing_indicators(catalogue, manifest, report, offline is not None)
        finished = utc_now()
        report.finished_at = finished
        # In step: a crash between the Parquet and the database swap leaves a newer Parquet set than the
        # database; the generation ids then differ and the database is rebuilt from the Parquet.
        in_step = generation(data_dir, previous)
        database_current = ((data_dir / DATABASE_NAME).exists() and (data_dir / "parquet" / MANIFEST).exists()
                            and in_step[0] == in_step[1])
        if not report.rebuilt and not report.failed and database_current and set(manifest["datasets"]) == set(previous["datasets"]):
            record_run(data_dir, run_id, started, "unchanged", summary(report), [], sorted(report.missing_datasets))
            return report
        publish(data_dir, staging, catalogue, manifest, report, progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def stage_datasets(catalogue: Catalogue, source, previous: dict, staging_parquet: Path, report: RefreshReport,
                   only: list[str] | None, force: bool, progress: Progress, keep_going: bool = False,
                   accept_loss: tuple[str, ...] = ()) -> dict:
    """Decode what changed into the staging folder; link what did not. Returns the new manifest.

    A dataset that fails stops the run, unless keep_going: then its previous version is kept and the
    failure recorded in report.failed.
    """
    code_digest = decoder_digest()
    manifest = {"datasets": {}, "built_by": PIPELINE_VERSION}
    wanted = [code for code in catalogue.datasets if not only or code in only]
    for number, dataset in enumerate(wanted, start=1):
        reason = source.available(dataset)
        if reason:
            report.missing_datasets[dataset] = reason
            keep_previous(dataset, previous, staging_parquet, manifest, report)
            progress(dataset, "missing", number, len(wanted))
            continue
        try:
            stage = stage_dataset(dataset, number, len(wanted), catalogue, source, previous, staging_parquet,
                                  manifest, report, force, progress, code_digest, dataset in accept_loss)
        except RefreshError as err:
            if not keep_going:
                raise
            report.failed[dataset] = str(err)
            keep_previous(dataset, previous, staging_parquet, manifest, report)
            if dataset in report.datasets:
                report.datasets[dataset].status = "failed, kept"
            stage = "failed"
        progress(dataset, stage, number, len(wanted))
    for dataset in previous["datasets"]:
        if dataset not in manifest["datasets"] and dataset in catalogue.datasets and dataset not in wanted:
            keep_previous(dataset, previous, staging_parquet, manifest, report)
    return manifest


def stage_dataset(dataset: str, number: int, total: int, catalogue: Catalogue, source, previous: dict,
                  staging_parquet: Path, manifest: dict, report: RefreshReport, force: bool, progress: Progress,
                  code_digest: str, accept_loss: bool) -> str:
    """Fetch, decode, check and stage one dataset; returns its final stage ("built" or "unchanged")."""
    progress(dataset, "fetch", number, total)
    try:  # a live source asks the update date first and downloads only when it moved (or with --force)
        cached = source.current(dataset)
        raw_files = (None if force else cached) or source.fetch(dataset)
    except Exception as err:
        raise RefreshError(f"fetch failed: {err}", dataset, getattr(err, "url", None)) from err
    digest = dataset_digest(raw_files, catalogue, dataset, code_digest)
    before = previous["datasets"].get(dataset)
    if not force and before and before["digest"] == digest and keep_previous(dataset, previous, staging_parquet, manifest, report):
        report.datasets[dataset].status = "unchanged"
        return "unchanged"
    progress(dataset, "decode", number, total)
    table, labels, provenance, found = build_dataset(dataset, raw_files, catalogue, (before or {}).get("dimensions"))
    counts = indicator_counts(table)
    lost = checks.loss(before, table.num_rows, counts, config.max_loss_share())
    if lost and not accept_loss:
        raise RefreshError(f"loss guard: against the published data this refresh would lose {'; '.join(lost)} "
                           f"(say --accept-loss {dataset} if that is right)", dataset)
    write_parquet(table, staging_parquet / f"{dataset}.parquet")
    manifest["datasets"][dataset] = {
        "digest": digest, "rows": table.num_rows, "files": [f.path.name for f in raw_files],
        "indicator_rows": counts, "labels": sorted(set(labels)), "provenance": provenance, "dimensions": found,
    }
    report.datasets[dataset] = DatasetResult(dataset, "built", [f.path.name for f in raw_files], table.num_rows, counts)
    return "built"


def keep_previous(dataset: str, previous: dict, staging_parquet: Path, manifest: dict, report: RefreshReport) -> bool:
    """Carry a dataset's previous Parquet file into the new set (hard link, so bytes and mtime stay)."""
    entry = previous["datasets"].get(dataset)
    current = staging_parquet.parent.parent / "parquet" / f"{dataset}.parquet"
    if not entry or not current.exists():
        return False
    target = staging_parquet / current.name
    try:
        os.link(current, target)
    except OSError:
        shutil.copy2(current, target)
    manifest["datasets"][dataset] = entry
    report.datasets[dataset] = DatasetResult(dataset, "kept", entry["files"], entry["rows"], entry["indicator_rows"])
    return True


def missing_indicators(catalogue: Catalogue, manifest: dict, report: RefreshReport, offline: bool) -> dict[str, str]:
    """Every indicator without rows, each with the reason (never silently empty)."""
    missing = {}
    for item in catalogue.indicators:
        entry = manifest["datasets"].get(item.dataset)
        if entry and entry["indicator_rows"].get(item.id, 0) > 0:
            continue
        if offline and item.live_only:
            missing[item.id] = f"live-only: not in the recorded source (dataset {item.dataset})"
        elif item.dataset in report.missing_datasets:
            missing[item.id] = f"dataset {item.dataset} {report.missing_datasets[item.dataset]}"
        elif entry is None:
            missing[item.id] = f"dataset {item.dataset} not refreshed yet"
        else:
            missing[item.id] = f"selection {item.selection} matched no rows in {', '.join(entry['files'])}"
    return missing


def publish(data_dir: Path, staging: Path, catalogue: Catalogue, manifest: dict, report: RefreshReport,
            progress: Progress) -> None:
    """Build the database from the staged set, then swap the Parquet folder and the database in."""
    progress("database", "database", 0, 1)
    staged_parquet = staging / "parquet"
    manifest["generation"] = report.run_id  # the build table of the database says the same
    write_json_atomic(staged_parquet / MANIFEST, manifest)
    entries = manifest["datasets"]
    files = [staged_parquet / f"{code}.parquet" for code in sorted(entries)]
    labels = [tuple(label) for entry in entries.values() for label in entry["labels"]]
    provenance = [row for entry in entries.values() for row in entry["provenance"]]
    runs = [entry for entry in read_json(data_dir / RUNS_LOG, []) if entry.get("run_id") != report.run_id]
    runs += [run_record(report.run_id, report.started_at,
                                                            "partial" if report.failed else "success",
                                                            summary(report), sorted(entries),
                                                            sorted(report.missing_datasets), report.failed)]
    fd, tmp_name = tempfile.mkstemp(prefix=f".{DATABASE_NAME}.", suffix=".tmp", dir=data_dir)
    os.close(fd)
    tmp_db = Path(tmp_name)
    tmp_db.unlink()  # DuckDB creates the file itself; the unique name is what we wanted
    try:
        build_database(tmp_db, files, catalogue, labels, provenance, runs, data_dir / DATABASE_NAME, report.run_id)
        report.changes = change_counts(tmp_db, report.run_id)
        report.compared = (data_dir / DATABASE_NAME).exists()
        swap_in(data_dir, staged_parquet, tmp_db, report.run_id)
    finally:
        tmp_db.unlink(missing_ok=True)
        Path(str(tmp_db) + ".wal").unlink(missing_ok=True)
    report.database_rebuilt = True
    write_json_atomic(data_dir / RUNS_LOG, runs)
    progress("database", "database", 1, 1)


def change_counts(database: Path, run_id: str) -> list[tuple[str, str, str, int]]:
    """(dataset, indicator, change, cells) of one run's revisions in a database."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute("SELECT dataset, indicator, change, count(*) FROM revisions WHERE run_id = ? "
                           "GROUP BY ALL ORDER BY ALL", [run_id]).fetchall()
    finally:
        con.close()


def swap_in(data_dir: Path, staged_parquet: Path, tmp_db: Path, run_id: str) -> None:
    """Rename the staged Parquet folder into place, then os.replace the database; undo the first if the second fails."""
    parquet = data_dir / "parquet"
    old = data_dir / f".parquet-old-{run_id}"
    had_previous = parquet.exists()
    if had_previous:
        os.rename(parquet, old)
    os.rename(staged_parquet, parquet)
    try:
        os.replace(tmp_db, data_dir / DATABASE_NAME)
    except BaseException:
        os.rename(parquet, staged_parquet)
        if had_previous:
            os.rename(old, parquet)
        raise
    rawstore.fsync_dir(data_dir)
    if had_previous:
        shutil.rmtree(old, ignore_errors=True)


def run_record(run_id: str, started: str, status: str, message: str, loaded: list[str], missing: list[str],
               failed: dict[str, str] | None = None) -> dict:
    """One entry of refresh_runs (failed: dataset -> reason, for datasets --keep-going kept at their previous version)."""
    return {"run_id": run_id, "started_at": started, "finished_at": utc_now(), "status": status,
            "message": message, "datasets_loaded": loaded, "datasets_missing": missing,
            "datasets_failed": sorted(failed or {}), "failures": dict(failed or {})}


def record_run(data_dir: Path, run_id: str, started: str, status: str, message: str,
               loaded: list[str], missing: list[str], failed: dict[str, str] | None = None) -> None:
    """Record a run in refresh_runs.json, replacing its 'running' entry (the database is not touched by a run that
    did not publish)."""
    try:
        runs = [entry for entry in read_json(data_dir / RUNS_LOG, []) if entry.get("run_id") != run_id]
        runs.append(run_record(run_id, started, status, message, loaded, missing, failed))
        write_json_atomic(data_dir / RUNS_LOG, runs)
    except (OSError, ValueError):
        pass  # recording must never hide the original failure


def summary(report: RefreshReport) -> str:
    """One line for the runs log."""
    return (f"{len(report.rebuilt)} rebuilt, {len(report.unchanged)} unchanged, "
            f"{len(report.missing_datasets)} datasets and {len(report.missing_indicators)} indicators missing; "
            + "".join(f"{code} failed, previous version kept: {reason}; " for code, reason in sorted(report.failed.items()))
            + 
            f"source: {report.source}")


def read_runs(data_dir: Path | None = None) -> list[dict]:
    """Every recorded refresh run, oldest first."""
    return read_json(Path(data_dir or config.data_dir()) / RUNS_LOG, [])


def wall_time(function: Callable, *args, **kwargs) -> float:
    """Seconds one call takes (for bench/)."""
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start
