"""Crash safety: a run killed between the Parquet and the database swap is repaired by the next plain refresh
(generation ids), SIGTERM ends a run as 'interrupted', dead runs are found, and their temp files cleaned."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import duckdb

from tests.hardening import REPO
from tests.hardening.test_etl_faults import child_env, data_dir, refresh_command, run_refresh  # noqa: F401 (fixture)

WRAPPER = r'''
import os, signal, sys
point = sys.argv[1]
real_rename = os.rename

def rename(src, dst, *args, **kwargs):
    real_rename(src, dst, *args, **kwargs)
    if point == "after-parquet-swap" and os.path.basename(str(dst)) == "parquet":
        os.kill(os.getpid(), signal.SIGKILL)

os.rename = rename
if point == "sigterm-in-decode":
    import etl.refresh
    real_build = etl.refresh.build_dataset
    def build(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_build(*args, **kwargs)
    etl.refresh.build_dataset = build
from etl.cli import main
sys.exit(main(sys.argv[2:]))
'''


def wrapped(tmp_path, data_dir, point, shared_data) -> subprocess.CompletedProcess:
    """A forced refresh of the small dataset through the wrapper at `point`."""
    script = tmp_path / "crash_wrapper.py"
    script.write_text(WRAPPER)
    return subprocess.run([sys.executable, str(script), point, *refresh_command(shared_data, "--force")[3:]],
                          cwd=REPO, env=child_env(data_dir), capture_output=True, text=True, timeout=300)


def generations(data_dir) -> tuple[str, str]:
    """(generation the Parquet manifest names, run the database says built it)."""
    manifest = json.loads((data_dir / "parquet" / "_manifest.json").read_text())
    con = duckdb.connect(str(data_dir / "dsm.duckdb"), read_only=True)
    try:
        return manifest.get("generation"), con.execute("SELECT run_id FROM build").fetchone()[0]
    finally:
        con.close()


def runs(data_dir) -> list[dict]:
    """The runs log."""
    return json.loads((data_dir / "refresh_runs.json").read_text())


def test_kill_between_parquet_and_database_swap_is_repaired_without_force(data_dir, shared_data, tmp_path):
    first = generations(data_dir)
    assert first[0] == first[1]
    killed = wrapped(tmp_path, data_dir, "after-parquet-swap", shared_data)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-1500:]
    parquet_run, database_run = generations(data_dir)
    assert parquet_run != database_run == first[1], "the kill should leave a newer Parquet set than the database"
    assert runs(data_dir)[-1]["status"] == "running"
    done = run_refresh(data_dir, shared_data)  # no --force: the raw files did not change
    assert done.returncode == 0, done.stderr[-1500:]
    assert "rebuilt;" in done.stdout, done.stdout[-800:]
    repaired = generations(data_dir)
    assert repaired[0] == repaired[1] != database_run
    statuses = [entry["status"] for entry in runs(data_dir)[-2:]]
    assert statuses == ["interrupted", "success"], statuses


def test_sigterm_ends_the_run_as_interrupted_and_changes_nothing(data_dir, shared_data, tmp_path):
    before = (data_dir / "dsm.duckdb").read_bytes()
    done = wrapped(tmp_path, data_dir, "sigterm-in-decode", shared_data)
    assert done.returncode == 143, done.stderr[-1500:]
    assert "interrupted by SIGTERM" in done.stderr
    assert (data_dir / "dsm.duckdb").read_bytes() == before
    last = runs(data_dir)[-1]
    assert last["status"] == "interrupted" and "SIGTERM" in last["message"]


def test_temp_files_of_dead_runs_are_cleaned(data_dir, shared_data):
    leftover = next((data_dir / "raw").iterdir()) / ".tin00074.tsv.dead00.tmp"
    leftover.write_bytes(b"half a download")
    done = run_refresh(data_dir, shared_data)
    assert done.returncode == 0, done.stderr[-1500:]
    assert not leftover.exists()
