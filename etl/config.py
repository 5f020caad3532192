"""Where things live and which service to talk to; read from the environment at call time."""
from __future__ import annotations

import os
from pathlib import Path

EUROSTAT_BASE_URL = "https://ec.europa.eu"  # the live service is the default
SCOREBOARD_BASE_URL = "https://digital-decade-desi.digital-strategy.ec.europa.eu"


def data_dir() -> Path:
    """The data folder (raw/, parquet/, dsm.duckdb); DSM_DATA_DIR overrides ./data."""
    return Path(os.environ.get("DSM_DATA_DIR", Path.cwd() / "data")).resolve()


def database_path() -> Path:
    """The DuckDB file the dashboard reads."""
    return data_dir() / "dsm.duckdb"


def raw_dir() -> Path:
    """Raw downloads, one folder per dataset."""
    return data_dir() / "raw"


def parquet_dir() -> Path:
    """Tidy observations, one Parquet file per dataset."""
    return data_dir() / "parquet"


def eurostat_base_url() -> str:
    """Base URL of the Eurostat dissemination API; DSM_EUROSTAT_URL points it at a mirror or a loopback server."""
    return os.environ.get("DSM_EUROSTAT_URL", EUROSTAT_BASE_URL).rstrip("/")


def offline_dir() -> Path | None:
    """A folder of recorded responses to refresh from instead of the live service (DSM_OFFLINE_DIR)."""
    value = os.environ.get("DSM_OFFLINE_DIR")
    return Path(value).resolve() if value else None


def download_max_bytes() -> int:
    """Largest body a live download may be, inflated (DSM_DOWNLOAD_MAX_BYTES, default 512 MiB)."""
    return int(os.environ.get("DSM_DOWNLOAD_MAX_BYTES", 512 * 1024 * 1024))


def download_deadline() -> float:
    """Seconds one live download may take, its retries included (DSM_DOWNLOAD_DEADLINE, default 120)."""
    return float(os.environ.get("DSM_DOWNLOAD_DEADLINE", 120))


def max_loss_share() -> float:
    """Share of a dataset's published cells a refresh may drop without --accept-loss (DSM_MAX_LOSS, default 0.05)."""
    return float(os.environ.get("DSM_MAX_LOSS", "0.05"))


def stale_after_days() -> float:
    """Age of the last successful refresh after which a dataset is flagged stale (DSM_STALE_DAYS, default 14)."""
    return float(os.environ.get("DSM_STALE_DAYS", "14"))


def scoreboard_base_url() -> str:
    """Base URL of the Digital Scoreboard API; DSM_SCOREBOARD_URL points it at a mirror or a loopback server."""
    return os.environ.get("DSM_SCOREBOARD_URL", SCOREBOARD_BASE_URL).rstrip("/")
