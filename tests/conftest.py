"""Session fixtures shared by every test: the recorded data and one offline build of it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# DSM_TEST_SHARED_DATA points the tests at another copy of the recordings (e.g. a trimmed one, to debug).
SHARED_DATA = Path(os.environ.get("DSM_TEST_SHARED_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The recorded Eurostat/DESI files, read in place (never copied into the repository)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"recorded data folder {SHARED_DATA} is not present")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def built_refresh(shared_data, tmp_path_factory):
    """The RefreshReport of one offline refresh of all recorded data into a fresh data dir (once per session)."""
    from etl.refresh import refresh
    return refresh(offline=shared_data, data_dir=tmp_path_factory.mktemp("dsm-data"))


@pytest.fixture(scope="session")
def built_data_dir(built_refresh) -> Path:
    """A data dir (raw/, parquet/, dsm.duckdb) built from the recorded data; set DSM_DATA_DIR to it via monkeypatch."""
    return built_refresh.data_dir


@pytest.fixture(scope="session")
def built_db(built_data_dir) -> Path:
    """The DuckDB file of the session build; open it read-only."""
    return built_data_dir / "dsm.duckdb"
