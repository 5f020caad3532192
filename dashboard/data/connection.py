"""Read-only DuckDB access for the dashboard: one connection per thread, reopened when the file is swapped, and the
dashboard's one cache of results per database version."""
from __future__ import annotations

import functools
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any, Callable, NamedTuple

import duckdb
import pandas as pd
from cachetools import LRUCache

from dashboard import i18n
from etl import config
from etl.refresh import RUNS_LOG

# The one cache (query results, chart frames, built pages, briefs, insights, the findings files, exported images),
# least recently used dropped first. Bound: CACHE_BYTES, each entry counted at its pickled size (`size_of`), which
# tracks what it holds: after every page is visited once, 269 entries take 7.6 MB (the largest the whole values
# table, 1.9 MB, and the all-data zip, 1.3 MB); a slide-size PNG is 100-300 kB. An entry over MAX_ENTRY_BYTES is
# handed out but not kept, so one huge result cannot empty the cache.
CACHE_BYTES = 96 * 1024 * 1024
MAX_ENTRY_BYTES = CACHE_BYTES // 8
DUCKDB_MEMORY_LIMIT = "64MB"  # per connection; the largest read (the all-observations zip) fits with room to spare
_local = threading.local()


def size_of(value: Any) -> int:
    """What an entry counts against CACHE_BYTES: bytes and text their length, anything else its pickled size."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    try:
        return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return sys.getsizeof(value)


class _Entry(NamedTuple):
    """A cached value and its size, measured once when it is stored."""

    value: Any
    size: int


_cache: LRUCache = LRUCache(maxsize=CACHE_BYTES, getsizeof=lambda entry: entry.size)
_cache_lock = threading.Lock()


class DatabaseMissing(RuntimeError):
    """The DuckDB file is not there (no refresh has run yet)."""


def database_version(path: Path | None = None) -> tuple:
    """Identity of the database file now: (path, inode, mtime_ns, size); changes when the ETL swaps it."""
    path = path or config.database_path()
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise DatabaseMissing(f"{path}: no database yet; run `dsm refresh` first") from exc
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def runs_version() -> int | None:
    """mtime of the refresh runs log (a run that publishes nothing still records that it checked)."""
    try:
        return os.stat(config.data_dir() / RUNS_LOG).st_mtime_ns
    except FileNotFoundError:
        return None


def _open(path: str) -> duckdb.DuckDBPyConnection:
    """Open the file read-only through ATTACH, so a swapped file is really reopened.

    duckdb.connect(path) reuses a cached instance of an already-open path, which would keep serving
    the old (replaced) file; attaching into a private in-memory instance does not.
    """
    con = duckdb.connect(":memory:")
    # Every web thread holds one of these: one DuckDB thread and a small buffer pool each keep a worker's memory
    # down (~15 MB less per connection); the dashboard's queries are small and mostly answered from the cache.
    con.execute("SET threads = 1")
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute("ATTACH ? AS dsm (READ_ONLY)", [path])
    con.execute("USE dsm")
    return con


def connection() -> tuple[duckdb.DuckDBPyConnection, tuple]:
    """This thread's connection to the current database file, and the file version it reads."""
    version = database_version()
    held = getattr(_local, "held", None)
    if held is None or held[1] != version:
        if held is not None:
            held[0].close()
        _local.held = (_open(version[0]), version)
    return _local.held


def query(sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run one SELECT with bound parameters and return a DataFrame."""
    con, _ = connection()
    return con.execute(sql, list(params)).df()


def clear_cache() -> None:
    """Forget every cached result (tests; the version key makes this unnecessary in production)."""
    with _cache_lock:
        _cache.clear()


def remember(key: tuple, make: Callable[[], Any], *, per_database: bool = True) -> Any:
    """The value kept under `key` (and the runs log's and the database's versions, unless per_database=False),
    made by `make()` when missing; an exception from `make` keeps nothing. Mutable results are handed out as copies."""
    full_key = (*key, runs_version(), database_version()) if per_database else key  # ends with the database version
    with _cache_lock:
        entry = _cache.get(full_key)
    if entry is None:
        value = make()
        entry = _Entry(value, size_of(value))
        if entry.size <= MAX_ENTRY_BYTES:
            with _cache_lock:
                _cache[full_key] = entry
    return _copy(entry.value)


def cache_bytes() -> int:
    """Bytes the cache holds now, as `size_of` counts them (at most CACHE_BYTES)."""
    with _cache_lock:
        return int(_cache.currsize)


def cached(fn: Callable) -> Callable:
    """Cache a query function's result by (function, args, database version, language); DataFrames come back as
    copies. The language is in the key because names, titles and labels come back translated."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        """The cached call (see `cached`)."""
        key = (fn.__module__, fn.__qualname__, _freeze(args), _freeze(kwargs), i18n.current())  # names come translated
        return remember(key, lambda: fn(*args, **kwargs))

    wrapper.uncached = fn
    return wrapper


def _freeze(value: Any) -> Any:
    """A hashable stand-in for call arguments (lists become tuples, dicts sorted tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_freeze(v) for v in value]
        return tuple(sorted(items)) if isinstance(value, (set, frozenset)) else tuple(items)
    return value


def _copy(value: Any) -> Any:
    """Hand out copies of mutable results so a caller cannot change the cache."""
    if isinstance(value, pd.DataFrame):
        return value.copy()
    if isinstance(value, (list, dict)):
        return type(value)(value)
    if isinstance(value, tuple) and any(isinstance(v, pd.DataFrame) for v in value):
        return tuple(_copy(v) for v in value)  # a chart's (frame, metadata)
    return value
