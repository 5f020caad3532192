"""Publishing: observations to Parquet (zstd), and a self-contained DuckDB file built from etl/sql/*.sql.

The database holds its own copy of the observations (table `observations_t`, read by the `observations`
view), so a database file never depends on, or disagrees with, whatever Parquet set sits next to it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl import codelists
from etl.catalogue import Catalogue
from etl.model import OBSERVATION_SCHEMA

SQL_DIR = Path(__file__).resolve().parent / "sql"
PARQUET_COMPRESSION = "zstd"

LABEL_SCHEMA = pa.schema([("dimension", pa.string()), ("code", pa.string()), ("label", pa.string()),
                          ("priority", pa.int8())])
PROVENANCE_SCHEMA = pa.schema([
    ("dataset", pa.string()), ("file", pa.string()), ("url", pa.string()), ("sha256", pa.string()),
    ("bytes", pa.int64()), ("source_updated", pa.string()), ("retrieved_at", pa.string()),
    ("rows", pa.int64()), ("format", pa.string()),
])
RUNS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("started_at", pa.string()), ("finished_at", pa.string()), ("status", pa.string()),
    ("message", pa.string()), ("datasets_loaded", pa.list_(pa.string())), ("datasets_missing", pa.list_(pa.string())),
    ("datasets_failed", pa.list_(pa.string())),
])
VALUES_SCHEMA = pa.schema([("dataset", pa.string()), ("indicator", pa.string()), ("geo", pa.string()),
                           ("period", pa.string()), ("value", pa.float64()), ("flags", pa.string())])
REVISIONS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("dataset", pa.string()), ("indicator", pa.string()), ("geo", pa.string()),
    ("period", pa.string()), ("change", pa.string()), ("old_value", pa.float64()), ("old_flags", pa.string()),
    ("new_value", pa.float64()), ("new_flags", pa.string()),
])
GEO_SCHEMA = pa.schema([("code", pa.string()), ("name", pa.string()), ("is_aggregate", pa.bool_()),
                        ("iso3", pa.string())])
GROUPS_SCHEMA = pa.schema([("group_id", pa.string()), ("geo", pa.string()), ("position", pa.int32())])


def sql_files() -> list[Path]:
    """The DDL files, in the name order they run in."""
    files = sorted(SQL_DIR.glob("*.sql"))
    assert files, f"no SQL files in {SQL_DIR}"
    return files


def write_parquet(table: pa.Table, path: Path) -> None:
    """One dataset's observations as a zstd Parquet file (the caller stages and swaps it)."""
    assert table.schema.equals(OBSERVATION_SCHEMA), f"{path.name}: table is not in OBSERVATION_SCHEMA"
    pq.write_table(table, path, compression=PARQUET_COMPRESSION)


def codelist_labels() -> list[tuple[str, str, str]]:
    """(dimension, code, label) from the shipped code lists."""
    rows = []
    for dimension in codelists.available_dimensions():
        rows += [(dimension, code, label) for code, label in codelists.codelist(dimension).items()]
    return rows


def geo_rows() -> pa.Table:
    """The geo table from etl.codelists.geo_table()."""
    frame = codelists.geo_table().reindex(columns=GEO_SCHEMA.names)
    return pa.Table.from_pandas(frame, schema=GEO_SCHEMA, preserve_index=False)


def label_table(file_labels: Iterable[tuple[str, str, str]]) -> pa.Table:
    """Labels from the files (priority 0) and from the code lists (priority 1)."""
    rows = [(d, c, l, 0) for d, c, l in file_labels] + [(d, c, l, 1) for d, c, l in codelist_labels()]
    columns = list(zip(*rows)) if rows else [[], [], [], []]
    return pa.table([pa.array(col, type=f.type) for col, f in zip(columns, LABEL_SCHEMA)], schema=LABEL_SCHEMA)


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """A list of dicts as an Arrow table of a fixed schema (missing keys are NULL)."""
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def catalogue_table(catalogue: Catalogue) -> pa.Table:
    """The catalogue rows as an Arrow table."""
    return pa.Table.from_pandas(pd.DataFrame(catalogue.rows()), preserve_index=False)


def parquet_parameter(parquet_files: list[Path], scratch: Path) -> list[str]:
    """The files bound to $files; an empty build reads one empty Parquet file so the schema still holds."""
    if parquet_files:
        return [str(p) for p in parquet_files]
    empty = scratch / "empty.parquet"
    pq.write_table(OBSERVATION_SCHEMA.empty_table(), empty)
    return [str(empty)]


def previous_tables(previous: Path | None) -> tuple[pa.Table, pa.Table, bool]:
    """(indicator values, revisions, whether there is anything to compare with) of the database being replaced."""
    if previous is None or not Path(previous).exists():
        return VALUES_SCHEMA.empty_table(), REVISIONS_SCHEMA.empty_table(), False
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS prev (READ_ONLY)", [str(previous)]).fetchall()
        values = con.sql(f"SELECT {', '.join(VALUES_SCHEMA.names)} FROM prev.indicator_values").to_arrow_table()
        has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'prev' "
                          "AND table_name = 'revisions'").fetchall()[0][0]
        revisions = (con.sql(f"SELECT {', '.join(REVISIONS_SCHEMA.names)} FROM prev.revisions").to_arrow_table()
                     if has else REVISIONS_SCHEMA.empty_table())
    finally:
        con.close()
    return values.cast(VALUES_SCHEMA), revisions.cast(REVISIONS_SCHEMA), True


def build_database(db_path: Path, parquet_files: list[Path], catalogue: Catalogue,
                   file_labels: Iterable[tuple[str, str, str]], provenance: list[dict], runs: list[dict],
                   previous: Path | None = None, run_id: str = "") -> None:
    """Create a fresh DuckDB file at db_path (which must not exist) holding every contract object.

    previous: the database this one replaces; its revisions are carried over and what changed is added for run_id.
    """
    db_path = Path(db_path)
    assert not db_path.exists(), f"{db_path} already exists; a database is only ever built fresh"
    staged = {
        "staged_catalogue": catalogue_table(catalogue),
        "staged_labels": label_table(file_labels),
        "staged_geo": geo_rows(),
        "staged_country_groups": rows_table(catalogue.groups.rows(), GROUPS_SCHEMA),
        "staged_provenance": rows_table(provenance, PROVENANCE_SCHEMA),
        "staged_refresh_runs": rows_table(runs, RUNS_SCHEMA),
    }
    staged["previous_values"], staged["previous_revisions"], compared = previous_tables(previous)
    con = duckdb.connect(str(db_path))
    try:
        with tempfile.TemporaryDirectory(dir=db_path.parent) as scratch:
            files = parquet_parameter(list(parquet_files), Path(scratch))
            for name, relation in staged.items():
                con.register(name, relation)
            for path in sql_files():
                run_sql_file(con, path, {"files": files, "run_id": run_id, "compared": compared})
        for name in staged:
            con.unregister(name)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    fsync_file(db_path)


def run_sql_file(con: duckdb.DuckDBPyConnection, path: Path, parameters: dict) -> None:
    """Run one DDL file, binding only the parameters it names."""
    sql = path.read_text("utf-8")
    used = {name: value for name, value in parameters.items() if f"${name}" in sql}
    try:
        con.execute(sql, used) if used else con.execute(sql)
    except duckdb.Error as err:
        raise RuntimeError(f"{path.name}: {err}") from err


def fsync_file(path: Path) -> None:
    """Make a finished file durable before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
