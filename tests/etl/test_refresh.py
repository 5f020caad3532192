"""The offline refresh: a real DuckDB file from the recorded data, incremental runs, and failure safety."""
from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from etl.catalogue import load_catalogue
from etl.refresh import RefreshError, RefreshLocked, read_runs, refresh
from etl.sources.recorded import RecordedSource

SUBSET = ["isoc_ci_in_h.json", "isoc_ci_ifp_iu.json", "isoc_ci_cm_h_a1.json", "isoc_ci_cm_h_a2.json", "tin00074.tsv"]
SUBSET_DATASETS = ["isoc_ci_cm_h", "isoc_ci_ifp_iu", "isoc_ci_in_h", "tin00074"]


def query(db: Path, sql: str, params=None):
    """Rows of one read-only query."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- the full build of the recorded data

@pytest.fixture(scope="module")
def decoded_rows(shared_data) -> dict[str, int]:
    """Rows per recorded file, decoded here directly with the format modules (not through refresh)."""
    source = RecordedSource(shared_data, set(load_catalogue().datasets))
    counts = {}
    for dataset in source.datasets():
        for path in source.files_for(dataset):
            module = importlib.import_module(f"etl.formats.{source.format_of(path)}")
            counts[path.name] = len(module.decode(path.read_bytes(), path.name, dataset=dataset).observations)
    return counts


def test_observations_hold_every_decoded_row(built_db, decoded_rows):
    per_file = dict(query(built_db, "SELECT source_file, count(*) FROM observations GROUP BY 1"))
    # a file of definitions only (the scoreboard's scoreboard_indicators.json) decodes to labels and no rows
    assert per_file == {name: rows for name, rows in decoded_rows.items() if rows}
    assert {name for name, rows in decoded_rows.items() if not rows} <= {"scoreboard_indicators.json"}
    assert query(built_db, "SELECT count(*) FROM observations")[0][0] == sum(decoded_rows.values())


def read_tsv_cells(path: Path) -> dict[tuple, tuple]:
    """An independent reading of a Eurostat TSV: (series codes..., period) -> (value text, flags text)."""
    lines = path.read_text("utf-8").rstrip("\n").split("\n")
    header = lines[0].split("\t")
    periods = [p.strip() for p in header[1:]]
    cells = {}
    for line in lines[1:]:
        parts = line.split("\t")
        series = tuple(parts[0].split(","))
        for period, cell in zip(periods, parts[1:]):
            value, _, flags = cell.strip().partition(" ")
            cells[series + (period,)] = (value, flags.strip())
    return cells


def test_tsv_cells_flags_and_missing_survive_exactly(built_db, shared_data):
    cells = read_tsv_cells(shared_data / "eurostat" / "tsv" / "isoc_ci_in_h.tsv")
    rows = query(built_db, "SELECT unit, dims['hhtyp'], geo, period, value, flags FROM observations "
                           "WHERE source_file = 'isoc_ci_in_h.tsv'")
    published = {(unit, hhtyp, geo, period): (value, flags) for unit, hhtyp, geo, period, value, flags in rows}
    # header is freq,unit,hhtyp,geo: drop freq from the file's series key
    expected = {key[1:]: cell for key, cell in cells.items() if not (cell[0] == ":" and not cell[1])}
    assert published.keys() == expected.keys(), "a bare ':' is no row; every other cell is one row"
    for key, (value_text, flags_text) in expected.items():
        value, flags = published[key]
        assert flags == (flags_text or None), key
        if value_text == ":":
            assert value is None, f"{key}: ':' must stay missing, got {value}"
        else:
            assert value == pytest.approx(float(value_text)), key
    assert any(f == "bu" for _, f in expected.values()), "the file has combined flags; the test must see them"


def test_no_missing_value_became_zero(built_db):
    zero_from_missing = query(built_db, "SELECT count(*) FROM observations WHERE value = 0 AND flags LIKE '%c%'")
    assert zero_from_missing[0][0] == 0
    assert query(built_db, "SELECT count(*) FROM observations WHERE value IS NULL AND flags IS NULL")[0][0] == 0


def test_every_recorded_indicator_has_values(built_db):
    catalogue = load_catalogue()
    have = dict(query(built_db, "SELECT indicator, count(*) FROM indicator_values WHERE value IS NOT NULL GROUP BY 1"))
    empty = [item.id for item in catalogue.indicators if not item.live_only and not have.get(item.id)]
    assert empty == []
    assert not [item.id for item in catalogue.indicators if item.live_only and have.get(item.id)], \
        "a live-only indicator found data in the recorded folder: it should not be live_only"


def test_missing_live_only_indicators_are_named(built_refresh):
    live_only = {item.id for item in load_catalogue().indicators if item.live_only}
    assert set(built_refresh.missing_indicators) == live_only
    for reason in built_refresh.missing_indicators.values():
        assert "not in the recorded source" in reason


def test_one_row_per_indicator_geo_period(built_db):
    assert query(built_db, "SELECT indicator, geo, period FROM indicator_values GROUP BY ALL HAVING count(*) > 1") == []


def test_newer_json_wins_over_the_older_tsv(built_db):
    # The README: isoc_ci_in_h.json matches the TSV except three 2024 revisions; the JSON is newer.
    differing = query(built_db, """
        SELECT j.geo, j.period, j.value FROM observations j JOIN observations t
          ON j.geo = t.geo AND j.period = t.period AND j.dims['hhtyp'] = t.dims['hhtyp'] AND j.unit = t.unit
        WHERE j.source_file = 'isoc_ci_in_h.json' AND t.source_file = 'isoc_ci_in_h.tsv'
          AND j.value IS DISTINCT FROM t.value""")
    assert 1 <= len(differing) <= 5
    for geo, period, value in differing:
        picked = query(built_db, "SELECT value, source_file FROM indicator_values WHERE indicator = "
                                 "'households_internet_access' AND geo = ? AND period = ?", [geo, period])
        assert picked == [(value, "isoc_ci_in_h.json")]


@pytest.mark.parametrize("geo,published", [("DK", 69.1), ("FI", 72.3), ("SE", 69.7)])
def test_desi_composite_matches_the_published_desi_2020(built_db, geo, published):
    # DESI 2020 report, overall scores (Commission, June 2020)
    value = query(built_db, "SELECT value FROM indicator_values WHERE indicator = 'desi_overall' AND geo = ? "
                            "AND period = '2020'", [geo])[0][0]
    assert value == pytest.approx(published, abs=0.06)


def test_database_is_self_contained(built_data_dir, tmp_path):
    moved = tmp_path / "alone.duckdb"
    shutil.copy2(built_data_dir / "dsm.duckdb", moved)  # no parquet/ next to it
    assert query(moved, "SELECT count(*) FROM indicator_values")[0][0] > 0


# ---------------------------------------------------------------- a small subset, built per test

@pytest.fixture
def subset(shared_data, tmp_path) -> Path:
    """A recorded folder holding only a few small files (copied at test time into tmp)."""
    folder = tmp_path / "recorded"
    folder.mkdir()
    for name in SUBSET:
        found = next(shared_data.rglob(name))
        shutil.copy(found, folder / name)
    return folder


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data dir."""
    return tmp_path / "data"


def snapshot(data_dir: Path) -> dict[str, tuple]:
    """sha256 and mtime of the database and every Parquet file."""
    files = [data_dir / "dsm.duckdb", *sorted((data_dir / "parquet").iterdir())]
    return {f.name: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns) for f in files}


def test_subset_builds_what_it_holds_and_names_the_rest(subset, data_dir):
    report = refresh(offline=subset, data_dir=data_dir)
    assert report.rebuilt == SUBSET_DATASETS
    catalogue = load_catalogue()
    assert set(report.missing_datasets) == set(catalogue.datasets) - set(SUBSET_DATASETS)
    assert "not in the recorded source" in report.missing_datasets["isoc_e_dii"]
    assert "live-only" in report.missing_indicators["enterprises_cloud"]
    assert "isoc_sk_dskl_i21 not in the recorded source" in report.missing_indicators["basic_digital_skills"]
    db = data_dir / "dsm.duckdb"
    assert [r[0] for r in query(db, "SELECT DISTINCT dataset FROM observations ORDER BY 1")] == SUBSET_DATASETS
    assert {r[0] for r in query(db, "SELECT DISTINCT indicator FROM indicator_values")} == {
        "households_internet_access", "internet_use", "households_computer_single_adult",
        "households_computer_two_adults", "ict_sector_value_added"}
    last = read_runs(data_dir)[-1]
    assert last["status"] == "success" and "isoc_e_dii" in last["datasets_missing"]


def test_second_run_rebuilds_nothing_and_force_rebuilds_all(subset, data_dir):
    refresh(offline=subset, data_dir=data_dir)
    before = snapshot(data_dir)
    again = refresh(offline=subset, data_dir=data_dir)
    assert again.rebuilt == [] and again.unchanged == SUBSET_DATASETS and not again.database_rebuilt
    assert snapshot(data_dir) == before
    assert read_runs(data_dir)[-1]["status"] == "unchanged"
    forced = refresh(offline=subset, data_dir=data_dir, force=True)
    assert forced.rebuilt == SUBSET_DATASETS and forced.database_rebuilt
    assert snapshot(data_dir)["dsm.duckdb"] != before["dsm.duckdb"]


def test_a_changed_dataset_alone_is_rebuilt(subset, data_dir, shared_data):
    refresh(offline=subset, data_dir=data_dir)
    shutil.copy(shared_data / "eurostat" / "tsv" / "tin00085.tsv", subset / "tin00085.tsv")
    tin = subset / "tin00074.tsv"
    tin.write_bytes(tin.read_bytes().replace(b"\t4.98 ", b"\t4.987 ", 1))  # one value revised
    report = refresh(offline=subset, data_dir=data_dir)
    assert report.rebuilt == ["tin00074", "tin00085"]
    assert report.unchanged == ["isoc_ci_cm_h", "isoc_ci_ifp_iu", "isoc_ci_in_h"]
    assert query(data_dir / "dsm.duckdb", "SELECT count(*) FROM observations WHERE value = 4.987 AND dataset = 'tin00074'")[0][0] == 1


def assert_previous_intact(data_dir: Path, before: dict, rows_before: int) -> None:
    """The published files are byte-for-byte and mtime the same, and the database still answers."""
    assert snapshot(data_dir) == before
    assert query(data_dir / "dsm.duckdb", "SELECT count(*) FROM observations")[0][0] == rows_before
    assert query(data_dir / "dsm.duckdb", "SELECT count(*) FROM indicator_values")[0][0] > 0
    assert not list(data_dir.glob(".staging-*")) and not list(data_dir.glob(".parquet-old-*"))


def test_corrupt_file_fails_naming_it_and_changes_nothing(subset, data_dir):
    good = refresh(offline=subset, data_dir=data_dir)
    before = snapshot(data_dir)
    body = (subset / "isoc_ci_ifp_iu.json").read_bytes()
    (subset / "isoc_ci_ifp_iu.json").write_bytes(body[: len(body) // 2])  # truncated JSON
    with pytest.raises(RefreshError) as caught:
        refresh(offline=subset, data_dir=data_dir)
    assert caught.value.dataset == "isoc_ci_ifp_iu" and caught.value.file == "isoc_ci_ifp_iu.json"
    assert "isoc_ci_ifp_iu.json" in str(caught.value)
    assert_previous_intact(data_dir, before, good.total_rows)
    last = read_runs(data_dir)[-1]
    assert last["status"] == "failed" and "isoc_ci_ifp_iu.json" in last["message"]


def test_failure_during_the_database_swap_keeps_the_old_database(subset, data_dir, monkeypatch):
    good = refresh(offline=subset, data_dir=data_dir)
    before = snapshot(data_dir)
    real_replace = os.replace

    def failing_replace(src, dst, *args, **kwargs):
        if Path(dst).name == "dsm.duckdb":
            raise OSError(28, "No space left on device (injected)")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(RefreshError, match="No space left on device"):
        refresh(offline=subset, data_dir=data_dir, force=True)
    monkeypatch.undo()
    assert_previous_intact(data_dir, before, good.total_rows)
    assert not list(data_dir.glob(".dsm.duckdb.*"))


def test_interrupt_leaves_everything_as_it_was(subset, data_dir):
    good = refresh(offline=subset, data_dir=data_dir)
    before = snapshot(data_dir)

    def interrupt(dataset, stage, done, total):
        if stage == "decode" and dataset == "tin00074":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refresh(offline=subset, data_dir=data_dir, force=True, progress=interrupt)
    assert_previous_intact(data_dir, before, good.total_rows)
    assert read_runs(data_dir)[-1]["status"] == "interrupted"


def test_a_second_refresh_waits_for_none(subset, data_dir):
    data_dir.mkdir()
    with open(data_dir / ".refresh.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RefreshLocked, match="another refresh is running"):
            refresh(offline=subset, data_dir=data_dir)
    assert not (data_dir / "dsm.duckdb").exists()


def test_unknown_dataset_in_only_is_refused(subset, data_dir):
    with pytest.raises(RefreshError, match="not in the catalogue: isoc_nope"):
        refresh(offline=subset, data_dir=data_dir, only=["isoc_nope"])


def test_only_refreshes_the_named_dataset_and_keeps_the_rest(subset, data_dir):
    refresh(offline=subset, data_dir=data_dir)
    report = refresh(offline=subset, data_dir=data_dir, only=["tin00074"], force=True)
    assert report.rebuilt == ["tin00074"]
    datasets = [r[0] for r in query(data_dir / "dsm.duckdb", "SELECT DISTINCT dataset FROM observations ORDER BY 1")]
    assert datasets == SUBSET_DATASETS
    manifest = json.loads((data_dir / "parquet" / "_manifest.json").read_text())
    assert sorted(manifest["datasets"]) == SUBSET_DATASETS


def test_a_crash_between_the_parquet_renames_is_undone_by_the_next_run(subset, data_dir):
    good = refresh(offline=subset, data_dir=data_dir)
    before = snapshot(data_dir)
    # as if the process died after moving parquet/ aside and before moving the staged set in
    os.rename(data_dir / "parquet", data_dir / ".parquet-old-20250101T000000Z-dead00")
    (data_dir / ".staging-20250101T000000Z-dead00" / "parquet").mkdir(parents=True)
    again = refresh(offline=subset, data_dir=data_dir)
    assert again.rebuilt == [] and not again.database_rebuilt
    assert_previous_intact(data_dir, before, good.total_rows)
