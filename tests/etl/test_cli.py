"""The `dsm` command, run as a real subprocess (`python -m etl.cli`)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FILES = ["isoc_ci_in_h.json", "tin00074.tsv"]


def dsm(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m etl.cli <args>` with its own data dir."""
    env = {**os.environ, "DSM_DATA_DIR": str(data_dir)}
    env.pop("DSM_OFFLINE_DIR", None)
    return subprocess.run([sys.executable, "-m", "etl.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def recorded(shared_data, tmp_path) -> Path:
    """A small recorded folder."""
    folder = tmp_path / "recorded"
    folder.mkdir()
    for name in FILES:
        shutil.copy(next(shared_data.rglob(name)), folder / name)
    return folder


def test_refresh_prints_progress_and_summary_then_status(recorded, tmp_path):
    data_dir = tmp_path / "data"
    done = dsm("refresh", "--offline", str(recorded), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "[" in done.stderr and "isoc_ci_in_h" in done.stderr and "built" in done.stderr  # progress bar
    assert "isoc_ci_in_h" in done.stdout and "tin00074" in done.stdout
    assert "missing dataset isoc_e_dii: not in the recorded source" in done.stdout
    assert "no rows for indicator enterprises_ai: live-only: not in the recorded source" in done.stdout
    status = dsm("status", data_dir=data_dir)
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line.split() for line in status.stdout.splitlines() if line.strip()}
    assert lines["tin00074"][2] == "34", "tin00074 has 34 geos"   # countries column
    assert lines["tin00074"][3] == "2009-2020"
    assert "isoc_ci_in_h" in lines


def test_second_refresh_says_unchanged_and_force_rebuilds(recorded, tmp_path):
    data_dir = tmp_path / "data"
    assert dsm("refresh", "--offline", str(recorded), data_dir=data_dir).returncode == 0
    again = dsm("refresh", "--offline", str(recorded), data_dir=data_dir)
    assert again.returncode == 0 and "unchanged (nothing new to build)" in again.stdout
    forced = dsm("refresh", "--offline", str(recorded), "--force", "--only", "tin00074", data_dir=data_dir)
    assert forced.returncode == 0 and ": rebuilt;" in forced.stdout


def test_bad_file_exits_non_zero_naming_dataset_and_file(recorded, tmp_path):
    (recorded / "tin00074.tsv").write_text("freq,nace_r2,geo\\TIME_PERIOD\t2019 \t2020 \nA,ICT,EE\t4.8 \n", "utf-8")
    done = dsm("refresh", "--offline", str(recorded), data_dir=tmp_path / "data")
    assert done.returncode != 0
    assert "dataset tin00074" in done.stderr and "file tin00074.tsv" in done.stderr
    assert not (tmp_path / "data" / "dsm.duckdb").exists()


def test_status_without_database_fails_clearly(tmp_path):
    done = dsm("status", data_dir=tmp_path / "nothing")
    assert done.returncode == 1 and "run `dsm refresh` first" in done.stderr


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_http(recorded, tmp_path):
    """dsm serve runs gunicorn (the Procfile's server), with the workers and threads asked for."""
    data_dir = tmp_path / "data"
    assert dsm("refresh", "--offline", str(recorded), data_dir=data_dir).returncode == 0
    port = free_port()
    env = {**os.environ, "DSM_DATA_DIR": str(data_dir)}
    server = subprocess.Popen([sys.executable, "-m", "etl.cli", "serve", "--port", str(port), "--workers", "1",
                               "--threads", "2"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        for _ in range(300):  # the dashboard imports take a few seconds on a loaded machine
            if server.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    body = answer.read().decode("utf-8", "replace")
                    server_header = answer.headers.get("Server", "")
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, f"dsm serve did not answer: {server.stdout.read() if server.poll() is not None else ''}"
        assert "<html" in body.lower()
        assert "gunicorn" in server_header.lower(), f"served by {server_header!r}, not gunicorn"
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 1, f"--workers 1 started {len(workers)} worker processes"
    finally:
        server.terminate()
        server.wait(timeout=10)
