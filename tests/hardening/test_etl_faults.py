"""Refreshes that die or fail half-way never cost the dashboard its database, and the next refresh recovers.

The refresh runs as a real subprocess (`python -m etl.cli refresh --offline ../shared/data --force`) on a copy of
the session's data dir. It is SIGKILLed after seeded random delays, and deterministically at the swap through a
small wrapper script that kills itself right before or after the renames (an os.rename/os.replace hook in the
child only). After each kill the dashboard's own data module must answer a query exactly as before, and the next
refresh must succeed (stale lock file, staging folder and temp database handled). Corrupt raw files, disk-full
and read-only folders end in a clear message and an untouched database.
"""
from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hardening import REPO

SMALL_DATASET = "tin00074"  # one small TSV: the killed runs decode it and rebuild the whole database
KILL_DELAYS_SEED = 20261127
# Runs in the child: kill the refresh at a chosen point of the swap, or make a write fail with ENOSPC.
WRAPPER = r'''
import errno, os, signal, sys
point = sys.argv[1]
real_rename, real_replace = os.rename, os.replace

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def rename(src, dst, *args, **kwargs):
    real_rename(src, dst, *args, **kwargs)
    if point == "between-parquet-renames" and os.path.basename(str(dst)).startswith(".parquet-old-"):
        die()

def replace(src, dst, *args, **kwargs):
    is_db = os.path.basename(str(dst)) == "dsm.duckdb"
    if is_db and point == "before-db-replace":
        die()
    real_replace(src, dst, *args, **kwargs)
    if is_db and point == "after-db-replace":
        die()

os.rename, os.replace = rename, replace
if point == "enospc-parquet":
    import etl.refresh
    def full_disk(table, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    etl.refresh.write_parquet = full_disk
if point == "enospc-database":
    import etl.publish
    real_run = etl.publish.run_sql_file
    def full_disk_sql(con, path, parameters):
        if "observations" in path.name:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_run(con, path, parameters)
    etl.publish.run_sql_file = full_disk_sql
from etl.cli import main
sys.exit(main(sys.argv[2:]))
'''


# ---------------------------------------------------------------- helpers

@pytest.fixture
def data_dir(built_data_dir, tmp_path) -> Path:
    """A private copy of the session's built data dir (raw/, parquet/, dsm.duckdb, runs log)."""
    target = tmp_path / "data"
    shutil.copytree(built_data_dir, target, ignore=shutil.ignore_patterns(".staging-*", ".parquet-old-*"))
    return target


def refresh_command(shared_data: Path, *extra: str) -> list[str]:
    """`python -m etl.cli refresh --offline <recordings> ...` for one small dataset."""
    return [sys.executable, "-m", "etl.cli", "refresh", "--offline", str(shared_data), "--only", SMALL_DATASET, *extra]


def child_env(data_dir: Path) -> dict:
    """The environment of a refresh child: the copied data dir, the repository importable."""
    return {**os.environ, "DSM_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}


def run_refresh(data_dir: Path, shared_data: Path, *extra: str) -> subprocess.CompletedProcess:
    """One refresh run to completion."""
    return subprocess.run(refresh_command(shared_data, *extra), cwd=REPO, env=child_env(data_dir),
                          capture_output=True, text=True, timeout=300)


def run_wrapped(tmp_path: Path, data_dir: Path, point: str, args: list[str]) -> subprocess.CompletedProcess:
    """The CLI run through the fault-injecting wrapper at `point`."""
    script = tmp_path / "fault_wrapper.py"
    script.write_text(WRAPPER)
    return subprocess.run([sys.executable, str(script), point, *args], cwd=REPO, env=child_env(data_dir),
                          capture_output=True, text=True, timeout=300)


def dashboard_answer(data_dir: Path, monkeypatch) -> list[tuple]:
    """What the dashboard's own data module answers about the small dataset and the whole database."""
    from dashboard.data import connection

    monkeypatch.setenv("DSM_DATA_DIR", str(data_dir))
    connection.clear_cache()
    rows = connection.query(
        "SELECT v.indicator, v.geo, v.period, v.value, v.flags, v.source_file FROM indicator_values v "
        "JOIN catalogue c ON c.id = v.indicator WHERE c.dataset = ? ORDER BY ALL", [SMALL_DATASET])
    totals = connection.query("SELECT count(*) AS n, count(value) AS valued, round(sum(value), 3) AS total, "
                              "count(flags) AS flagged FROM observations")
    connection.clear_cache()
    answer = [tuple(row) for row in rows.astype(object).where(rows.notna(), None).itertuples(index=False)]
    assert answer, f"no rows of {SMALL_DATASET} in the database: the test would prove nothing"
    return answer + [tuple(totals.iloc[0])]


def sha256(path: Path) -> str:
    """Checksum of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parquet_state(data_dir: Path) -> dict[str, str]:
    """Checksum of every published Parquet file (and the manifest)."""
    return {p.name: sha256(p) for p in sorted((data_dir / "parquet").iterdir())}


def leftovers(data_dir: Path) -> list[str]:
    """Staging folders, old parquet sets and temp databases a crash may leave."""
    return sorted(p.name for pattern in (".staging-*", ".parquet-old-*", ".dsm.duckdb.*")
                  for p in data_dir.glob(pattern))


def assert_next_refresh_succeeds(data_dir: Path, shared_data: Path, monkeypatch, expected: list[tuple]) -> None:
    """A forced refresh after the crash exits 0, cleans what the crash left, and publishes the same answer."""
    done = run_refresh(data_dir, shared_data, "--force")
    assert done.returncode == 0, f"refresh after a crash failed:\n{done.stderr[-2000:]}"
    assert "rebuilt" in done.stdout, done.stdout[-1000:]
    assert leftovers(data_dir) == [], f"the refresh left {leftovers(data_dir)}"
    assert dashboard_answer(data_dir, monkeypatch) == expected


# ---------------------------------------------------------------- kills

def test_random_kills_keep_the_database(data_dir, shared_data, monkeypatch):
    """SIGKILL at seeded random moments of a forced refresh: the dashboard answers as before, every time."""
    before = dashboard_answer(data_dir, monkeypatch)
    delays = sorted(random.Random(KILL_DELAYS_SEED).uniform(0.3, 4.0) for _ in range(3))
    killed = 0
    for delay in delays:
        process = subprocess.Popen(refresh_command(shared_data, "--force"), cwd=REPO, env=child_env(data_dir),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait(60)
        assert (data_dir / "dsm.duckdb").exists(), f"no database after a kill at {delay:.2f} s"
        assert dashboard_answer(data_dir, monkeypatch) == before, f"different answer after a kill at {delay:.2f} s"
    assert killed, f"every run finished before its kill ({delays}); the delays are too long for this machine"
    assert_next_refresh_succeeds(data_dir, shared_data, monkeypatch, before)


@pytest.mark.parametrize("point", ["between-parquet-renames", "before-db-replace", "after-db-replace"])
def test_kill_during_the_swap(point, data_dir, shared_data, tmp_path, monkeypatch):
    """A kill between the Parquet renames or around the database os.replace: old or new database, never none."""
    before = dashboard_answer(data_dir, monkeypatch)
    old_db = sha256(data_dir / "dsm.duckdb")
    (data_dir / ".refresh.lock").unlink(missing_ok=True)  # so the one found afterwards is the killed run's
    result = run_wrapped(tmp_path, data_dir, point, refresh_command(shared_data, "--force")[3:])
    assert result.returncode == -signal.SIGKILL, f"the wrapper did not reach {point}: {result.stderr[-1500:]}"
    if point == "after-db-replace":
        assert sha256(data_dir / "dsm.duckdb") != old_db, "the kill came after the swap: a new file is expected"
    else:
        assert sha256(data_dir / "dsm.duckdb") == old_db, "the previous database file was changed"
    assert dashboard_answer(data_dir, monkeypatch) == before
    assert (data_dir / ".refresh.lock").exists(), "the killed run should have left its (stale) lock file"
    assert_next_refresh_succeeds(data_dir, shared_data, monkeypatch, before)


# ---------------------------------------------------------------- corrupt cache

def test_corrupt_raw_file_is_detected_and_recopied(data_dir, shared_data, monkeypatch):
    """Flipped bytes in raw/<dataset>/<file> fail the sha256 check (named clearly); a refresh re-copies the file."""
    from etl.catalogue import load_catalogue
    from etl.refresh import RefreshError, build_dataset, refresh
    from etl.sources import rawstore

    before = dashboard_answer(data_dir, monkeypatch)
    raw_files = rawstore.list_raw(SMALL_DATASET, raw_dir=data_dir / "raw")
    assert raw_files, f"no raw file of {SMALL_DATASET} in the copied data dir"
    target = raw_files[0].path
    body = bytearray(target.read_bytes())
    for offset in (len(body) // 3, len(body) // 2):
        body[offset] ^= 0xFF
    target.write_bytes(bytes(body))
    with pytest.raises(rawstore.ChecksumError, match=f"{target.name}.*corrupted"):
        rawstore.read_raw(target)
    with pytest.raises(RefreshError) as failure:
        build_dataset(SMALL_DATASET, raw_files, load_catalogue())
    assert failure.value.file == target.name and "sha256" in failure.value.reason

    report = refresh(offline=shared_data, only=[SMALL_DATASET], data_dir=data_dir)
    assert SMALL_DATASET in report.datasets
    original = next(p for p in shared_data.rglob(target.name))
    assert target.read_bytes() == original.read_bytes(), "the corrupted raw file was not re-copied"
    rawstore.read_raw(target)  # checksum matches again
    assert dashboard_answer(data_dir, monkeypatch) == before


# ---------------------------------------------------------------- disk full, read-only

@pytest.mark.parametrize("point", ["enospc-parquet", "enospc-database"])
def test_disk_full_gives_a_clear_message_and_an_intact_database(point, data_dir, shared_data, tmp_path, monkeypatch):
    """ENOSPC while writing Parquet or building the database: exit 1, a one-line reason, nothing published changed."""
    before = dashboard_answer(data_dir, monkeypatch)
    old_db, old_parquet = sha256(data_dir / "dsm.duckdb"), parquet_state(data_dir)
    result = run_wrapped(tmp_path, data_dir, point, refresh_command(shared_data, "--force")[3:])
    assert result.returncode == 1, f"exit {result.returncode}: {result.stderr[-1500:]}"
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error: refresh failed") and "No space left on device" in message, message
    assert "Traceback" not in result.stderr
    if point == "enospc-parquet":
        assert SMALL_DATASET in message, f"the message does not name the dataset: {message}"
    assert sha256(data_dir / "dsm.duckdb") == old_db
    assert parquet_state(data_dir) == old_parquet
    assert leftovers(data_dir) == [], f"the failed run left {leftovers(data_dir)}"
    assert dashboard_answer(data_dir, monkeypatch) == before


def test_disk_full_in_process(data_dir, shared_data, monkeypatch):
    """The same through refresh() itself: RefreshError naming the reason, runs log records the failure."""
    from etl import refresh as refresh_module

    before = dashboard_answer(data_dir, monkeypatch)
    old_db = sha256(data_dir / "dsm.duckdb")

    def full_disk(table, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(refresh_module, "write_parquet", full_disk)
    with pytest.raises(refresh_module.RefreshError, match="No space left on device"):
        refresh_module.refresh(offline=shared_data, only=[SMALL_DATASET], force=True, data_dir=data_dir)
    assert sha256(data_dir / "dsm.duckdb") == old_db
    assert refresh_module.read_runs(data_dir)[-1]["status"] == "failed"
    assert dashboard_answer(data_dir, monkeypatch) == before


def test_read_only_parquet_folder(data_dir, shared_data, monkeypatch):
    """A parquet folder the refresh may not change: a clear error, the previous database kept."""
    from etl.refresh import RefreshError, refresh

    before = dashboard_answer(data_dir, monkeypatch)
    old_db = sha256(data_dir / "dsm.duckdb")
    modes = {path: path.stat().st_mode for path in (data_dir, data_dir / "parquet")}
    for path in modes:
        path.chmod(0o555)
    try:
        if os.access(data_dir, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes here")
        with pytest.raises(RefreshError, match="(?i)permission denied"):
            refresh(offline=shared_data, only=[SMALL_DATASET], force=True, data_dir=data_dir)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert sha256(data_dir / "dsm.duckdb") == old_db
    assert dashboard_answer(data_dir, monkeypatch) == before
