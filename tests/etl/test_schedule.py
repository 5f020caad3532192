"""`dsm schedule` (a real subprocess, offline, seconds apart) and the first-run hint when the live API is unreachable."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from etl.schedule import parse_every
from tests.etl.test_cli import REPO, dsm, recorded  # noqa: F401 (recorded: fixture)


def test_intervals_parse_and_bad_ones_are_refused():
    assert parse_every("12h") == 43200 and parse_every("30m") == 1800 and parse_every("1d") == 86400
    for bad in ("12", "h", "-1h", "0m", "12 hours"):
        with pytest.raises(ValueError, match="give a positive number and a unit"):
            parse_every(bad)


def test_schedule_refreshes_one_run_at_a_time_and_records_each(recorded, tmp_path):
    data_dir = tmp_path / "data"
    done = dsm("schedule", "--every", "1s", "--runs", "2", "--offline", str(recorded), data_dir=data_dir)
    assert done.returncode == 0, done.stderr[-1500:]
    runs = json.loads((data_dir / "refresh_runs.json").read_text())
    assert [r["status"] for r in runs] == ["success", "unchanged"]
    assert runs[0]["finished_at"] <= runs[1]["started_at"], "the second run started before the first ended"
    assert done.stdout.count(" refresh ") == 2


def test_a_second_scheduler_is_refused(recorded, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with open(data_dir / ".schedule.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = dsm("schedule", "--every", "1s", "--runs", "1", "--offline", str(recorded), data_dir=data_dir)
    assert done.returncode == 1 and "another dsm schedule is running" in done.stderr
    assert not (data_dir / "refresh_runs.json").exists()


def test_sigterm_while_waiting_stops_the_scheduler(recorded, tmp_path):
    env = {**os.environ, "DSM_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen([sys.executable, "-m", "etl.cli", "schedule", "--every", "1h", "--offline",
                                str(recorded)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "data" / "dsm.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert json.loads((tmp_path / "data" / "refresh_runs.json").read_text())[-1]["status"] == "success"


def test_unreachable_live_api_gives_a_whole_message_and_the_hint(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DSM_EUROSTAT_URL", f"http://127.0.0.1:{port}")
    done = dsm("refresh", "--only", "tin00074", data_dir=tmp_path / "data", timeout=300)
    assert done.returncode == 1
    assert "connection failed (ConnectionRefusedError: [Errno 111] Connection refused)" in done.stderr
    hint = done.stderr.splitlines()[-1]
    assert hint.startswith("hint: the live Eurostat API at http://127.0.0.1:")
    assert "network" in hint and "DSM_EUROSTAT_URL" in hint and "--offline DIR" in hint
