"""Publishing: the database contract, built from tiny synthetic Parquet files into a real DuckDB file."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.catalogue import load_catalogue
from etl.model import OBSERVATION_COLUMNS, OBSERVATION_SCHEMA
from etl.publish import SQL_DIR, build_database, sql_files, write_parquet

JAN = datetime(2025, 1, 1, tzinfo=timezone.utc)
FEB = datetime(2025, 2, 1, tzinfo=timezone.utc)


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Synthetic observations (clearly made up: geo XX/YY, values 1-9)."""
    defaults = {"dataset": "isoc_ci_in_h", "indicator": "households_internet_access", "unit": "PC_HH",
                "dims": [("hhtyp", "TOTAL")], "flags": None, "source_updated": None, "retrieved_at": JAN}
    full = [{**defaults, **row, "year": int(row["period"][:4])} for row in rows]
    return pa.Table.from_pylist(full, schema=OBSERVATION_SCHEMA)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A database built from three synthetic Parquet files, covering overlaps, flags, aggregates and scale."""
    folder = tmp_path_factory.mktemp("publish")
    in_h = rows_to_table([
        # the same cell in two files: the later source_updated wins, whatever the value
        {"geo": "XX", "period": "2020", "value": 1.0, "source_updated": "2024-01-01T00:00:00+0100", "source_file": "old.tsv"},
        {"geo": "XX", "period": "2020", "value": 2.0, "flags": "b", "source_updated": "2025-01-01T00:00:00+0100",
         "source_file": "new.json"},
        # no source_updated anywhere: the later retrieved_at wins
        {"geo": "YY", "period": "2020", "value": 3.0, "retrieved_at": JAN, "source_file": "a.tsv"},
        {"geo": "YY", "period": "2020", "value": 4.0, "retrieved_at": FEB, "source_file": "b.tsv"},
        # confidential: no value, flag kept
        {"geo": "XX", "period": "2021", "value": None, "flags": "c", "source_file": "new.json"},
        {"geo": "XX", "period": "2019", "value": 5.0, "flags": "bu", "source_file": "new.json"},
        # a row no indicator claims
        {"geo": "XX", "period": "2020", "value": 9.0, "indicator": None, "dims": [("hhtyp", "A1")], "source_file": "new.json"},
    ])
    desi_rows = [{"geo": "XX", "period": "2020", "value": float(i), "dataset": "desi", "indicator": "desi_overall",
                  "unit": "egov_score", "dims": [("indicator", "desi"), ("breakdown", f"desi_{i}")],
                  "flags": "e" if i == 2 else None, "source_file": "desi.csv"} for i in range(1, 6)]
    # YY 2020 lacks one of the five parts: no composite may be formed
    desi_rows += [{**row, "geo": "YY"} for row in desi_rows[:4]]
    desi_rows.append({"geo": "XX", "period": "2020", "value": 0.25, "dataset": "desi", "indicator": "desi_vhcn_coverage",
                      "unit": "pc_hh", "dims": [("indicator", "desi_1b2_vhcnc"), ("breakdown", "hh_total")],
                      "source_file": "desi.csv"})
    files = []
    for name, table in (("isoc_ci_in_h", in_h), ("desi", rows_to_table(desi_rows))):
        path = folder / f"{name}.parquet"
        write_parquet(table, path)
        files.append(path)
    db_path = folder / "test.duckdb"
    provenance = [{"dataset": "desi", "file": "desi.csv", "url": "file:///desi.csv", "sha256": "0" * 64,
                   "bytes": 10, "source_updated": None, "retrieved_at": "2025-01-01T00:00:00+00:00", "rows": 10,
                   "format": "desi_csv"}]
    runs = [{"run_id": "r1", "started_at": "2025-01-01T00:00:00+00:00", "finished_at": "2025-01-01T00:00:01+00:00",
             "status": "success", "message": "ok", "datasets_loaded": ["desi"], "datasets_missing": ["tin00074"]}]
    build_database(db_path, files, load_catalogue(), [("geo", "XX", "Examplestan")], provenance, runs)
    con = duckdb.connect(str(db_path), read_only=True)
    yield con
    con.close()


def value_of(con, indicator, geo, period):
    """(value, flags, source_file) of one indicator_values cell, or None."""
    return con.execute("SELECT value, flags, source_file FROM indicator_values WHERE indicator = ? AND geo = ? AND period = ?",
                       [indicator, geo, period]).fetchone()


def test_every_contract_object_exists(database):
    names = dict(database.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    for view in ("observations", "indicator_values", "latest_values"):
        assert names.get(view) == "VIEW", view
    for table in ("catalogue", "labels", "country_groups", "geo", "provenance", "refresh_runs"):
        assert names.get(table) == "BASE TABLE", table


def test_observations_keep_schema_rows_and_map_dims(database):
    columns = [row[0] for row in database.execute("DESCRIBE observations").fetchall()]
    assert columns == OBSERVATION_COLUMNS
    dims_type = database.execute("SELECT typeof(dims) FROM observations LIMIT 1").fetchone()[0]
    assert dims_type == "MAP(VARCHAR, VARCHAR)"
    assert database.execute("SELECT count(*) FROM observations").fetchone()[0] == 7 + 10
    assert database.execute("SELECT dims['hhtyp'] FROM observations WHERE value = 9").fetchone()[0] == "A1"


def test_latest_source_update_wins(database):
    assert value_of(database, "households_internet_access", "XX", "2020") == (2.0, "b", "new.json")


def test_latest_retrieval_wins_without_source_update(database):
    assert value_of(database, "households_internet_access", "YY", "2020") == (4.0, None, "b.tsv")


def test_one_row_per_indicator_geo_period(database):
    dupes = database.execute("SELECT indicator, geo, period FROM indicator_values GROUP BY ALL HAVING count(*) > 1").fetchall()
    assert dupes == []


def test_missing_stays_missing_with_its_flag(database):
    assert value_of(database, "households_internet_access", "XX", "2021") == (None, "c", "new.json")
    assert value_of(database, "households_internet_access", "XX", "2019") == (5.0, "bu", "new.json")


def test_sum_aggregate_needs_every_part(database):
    value, flags, source = value_of(database, "desi_overall", "XX", "2020")
    assert value == pytest.approx(1 + 2 + 3 + 4 + 5)
    assert flags == "e" and source == "desi.csv"
    assert value_of(database, "desi_overall", "YY", "2020") is None


def test_scale_turns_desi_shares_into_percent(database):
    assert value_of(database, "desi_vhcn_coverage", "XX", "2020")[0] == pytest.approx(25.0)


def test_latest_values_take_the_last_year_with_a_value(database):
    row = database.execute("SELECT period, value FROM latest_values WHERE indicator = 'households_internet_access' "
                           "AND geo = 'XX'").fetchone()
    assert row == ("2020", 2.0)  # 2021 is confidential (no value), so 2020 is the latest value


def test_catalogue_labels_geo_provenance_runs(database):
    assert database.execute("SELECT count(*) FROM catalogue").fetchone()[0] == len(load_catalogue().indicators)
    selection = database.execute("SELECT selection FROM catalogue WHERE id = 'internet_use'").fetchone()[0]
    assert '"indic_is": "I_IU3"' in selection
    # a file's own label wins over the code lists; a geo the code list lacks still gets a geo row
    assert database.execute("SELECT label FROM labels WHERE dimension = 'geo' AND code = 'XX'").fetchone()[0] == "Examplestan"
    assert database.execute("SELECT name FROM geo WHERE code = 'XX'").fetchone()[0] == "Examplestan"
    assert database.execute("SELECT name, is_eu27, is_bsr FROM geo WHERE code = 'EE'").fetchone() == ("Estonia", True, True)
    assert database.execute("SELECT rows, format FROM provenance").fetchall() == [(10, "desi_csv")]
    assert database.execute("SELECT status, datasets_missing FROM refresh_runs").fetchall() == [("success", ["tin00074"])]


def test_country_groups_are_the_catalogue_groups_and_set_the_geo_flags(database):
    groups = load_catalogue().groups
    stored = database.execute("SELECT group_id, geo, position FROM country_groups ORDER BY group_id, position").fetchall()
    expected = [(row["group_id"], row["geo"], row["position"]) for row in groups.rows()]
    assert stored == sorted(expected, key=lambda row: (row[0], row[2]))
    listed = database.execute("SELECT code, is_eu27, is_bsr FROM geo WHERE is_aggregate IS NOT NULL").fetchall()
    assert sorted(code for code, eu27, _ in listed if eu27) == sorted(groups.eu27)
    assert sorted(code for code, _, bsr in listed if bsr) == sorted(groups.bsr)
    assert all(isinstance(eu27, bool) and isinstance(bsr, bool) for _, eu27, bsr in listed)
    # a geo only the files name (XX) has no code list row, so its flags stay unknown (NULL), never false
    assert database.execute("SELECT is_eu27, is_bsr FROM geo WHERE code = 'XX'").fetchone() == (None, None)


def test_sql_files_hold_one_object_each_and_run_in_name_order():
    files = sql_files()
    assert [f.name for f in files] == sorted(f.name for f in files)
    for path in files:
        creates = re.findall(r"^\s*CREATE\s+(?:TABLE|VIEW)\s+(\w+)", path.read_text("utf-8"), re.M | re.I)
        assert len(creates) == 1, f"{path.name} creates {creates}"


def test_refuses_to_overwrite_an_existing_file(tmp_path):
    existing = tmp_path / "db.duckdb"
    existing.write_bytes(b"keep me")
    with pytest.raises(AssertionError, match="already exists"):
        build_database(existing, [], load_catalogue(), [], [], [])
    assert existing.read_bytes() == b"keep me"


def test_an_empty_build_still_has_every_object(tmp_path):
    path = tmp_path / "empty.duckdb"
    build_database(path, [], load_catalogue(), [], [], [])
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM indicator_values").fetchone()[0] == 0
    con.close()


def test_parquet_is_zstd(tmp_path):
    path = tmp_path / "x.parquet"
    write_parquet(rows_to_table([{"geo": "XX", "period": "2020", "value": 1.0, "source_file": "f"}]), path)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_annual_values_keep_the_latest_period_of_each_year_flags_and_missing_included():
    """The one annual pick: a sub-annual series gives its last period of each year; a flag-only cell is a row with
    a NULL value, not 0 and not skipped in favour of an earlier quarter."""
    con = duckdb.connect()
    con.execute("CREATE TABLE indicator_values (indicator VARCHAR, geo VARCHAR, period VARCHAR, year SMALLINT, "
                "value DOUBLE, flags VARCHAR)")
    con.executemany("INSERT INTO indicator_values VALUES ('synthetic', ?, ?, ?, ?, ?)", [
        ("EE", "2021-Q1", 2021, 1.0, None), ("EE", "2021-Q4", 2021, 4.0, "p"), ("EE", "2021-Q2", 2021, 2.0, None),
        ("EE", "2022-Q1", 2022, 5.0, None), ("EE", "2022-Q2", 2022, None, "c"),
        ("LV", "2021", 2021, 7.0, "e")])
    con.execute((SQL_DIR / "088_annual_values.sql").read_text(encoding="utf-8"))
    got = con.execute("SELECT geo, year, period, value, flags FROM annual_values ORDER BY ALL").fetchall()
    assert got == [("EE", 2021, "2021-Q4", 4.0, "p"), ("EE", 2022, "2022-Q2", None, "c"), ("LV", 2021, "2021", 7.0, "e")]
