"""Fixtures for the source tests: the shared recordings, a loopback Eurostat, a client that records its sleeps."""
from __future__ import annotations

from pathlib import Path

import pytest

from etl.sources.eurostat import EurostatClient
from tests.loopback import start_server

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The recorded Eurostat/DESI files (read only, never copied into the repository)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"recorded data folder {SHARED_DATA} is not present")
    return SHARED_DATA.resolve()


@pytest.fixture
def eurostat_server(shared_data):
    """A loopback Eurostat answering the real request paths with the recordings; faults scripted per test."""
    server = start_server(shared_data)
    yield server
    server.close()


class SleepRecorder:
    """A stand-in for time.sleep that remembers what it was asked to wait, without waiting."""

    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    """The waits a client asked for."""
    return SleepRecorder()


@pytest.fixture
def client(eurostat_server, sleeps) -> EurostatClient:
    """A client pointed at the loopback server, fast async polling, sleeps recorded instead of slept."""
    return EurostatClient(base_url=eurostat_server.base_url, timeout=(2, 5), max_retries=3, backoff=0.5,
                          sleep=sleeps, async_poll_interval=1.5, async_max_polls=5)


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    """An empty raw store."""
    return tmp_path / "raw"
