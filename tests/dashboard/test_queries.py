"""The dashboard's data access against a real DuckDB file: values and flags as published, missing stays missing,
BSR average recomputed independently, bound parameters, read-only, and a swapped file is picked up."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard.data import connection, queries

PEERS = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def read_tsv_cells(path: Path, keep: dict[str, str]) -> pd.DataFrame:
    """Independent reading of a Eurostat bulk TSV: (geo, year, value, flags) of the series matching `keep`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    dims = header[0].split("\\")[0].split(",")
    years = [int(h.strip()) for h in header[1:]]
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        key = dict(zip(dims, cells[0].split(",")))
        if any(key.get(k) != v for k, v in keep.items()):
            continue
        for year, cell in zip(years, cells[1:]):
            text, _, flags = cell.strip().partition(" ")
            value = None if text == ":" else float(text)
            if value is None and not flags.strip():
                continue
            rows.append({"geo": key["geo"], "year": year, "value": value, "flags": flags.strip() or None})
    return pd.DataFrame(rows)


@pytest.fixture
def reference(dsm_env, is_standin):
    """(indicator, independent reading of its cells) — the synthetic source, or the recorded TSV for real builds."""
    if is_standin:
        from tests.dashboard.conftest import standin_geo, standin_values

        values = standin_values(standin_geo())
        ind = "synthetic_access"
        return ind, values[values["indicator"] == ind][["geo", "year", "value", "flags"]].reset_index(drop=True)
    tsv = read_tsv_cells(SHARED / "eurostat" / "tsv" / "isoc_ci_in_h.tsv", {"unit": "PC_HH", "hhtyp": "TOTAL"})
    # the JSON-stat answer of the same dataset revises three 2024 cells and may win; compare the years both agree on
    return "households_internet_access", tsv[tsv["year"] <= 2023].reset_index(drop=True)


def test_series_equals_independent_reading(reference):
    """Values and flags of the BSR countries and EU27 are exactly what the source publishes."""
    ind, expected = reference
    geos = PEERS + ["EU27_2020"]
    got = queries.series(ind, geos)
    assert set(got["geo"]) <= set(geos) and set(got["indicator"]) == {ind}
    merged = expected[expected["geo"].isin(geos)].merge(got, on=["geo", "year"], how="left",
                                                        suffixes=("_src", "_db"))
    assert len(merged) > 50, "the comparison must cover a real share of the series"
    assert merged["period"].notna().all(), f"cells missing from the database: {merged[merged['period'].isna()].head()}"
    both = merged["value_src"].notna()
    np.testing.assert_allclose(merged.loc[both, "value_db"], merged.loc[both, "value_src"], rtol=0, atol=1e-9)
    assert merged.loc[~both, "value_db"].isna().all(), "a ':' cell must stay missing, never 0"
    assert (merged["flags_src"].fillna("") == merged["flags_db"].fillna("")).all()


def test_flags_kept_exactly(reference):
    """Every flag string of the source comes back unchanged (multi-letter ones like 'bu' too)."""
    ind, expected = reference
    flagged = expected[expected["flags"].notna() & expected["geo"].isin(queries.countries()["code"])]
    assert not flagged.empty
    got = queries.indicator_frame(ind).merge(flagged, on=["geo", "year"], suffixes=("_db", "_src"))
    assert len(got) == len(flagged)
    assert (got["flags_db"] == got["flags_src"]).all()


def test_missing_is_missing(reference):
    """A year the source has no value for is absent or NaN; it is never a zero."""
    ind, expected = reference
    frame = queries.indicator_frame(ind)
    present = set(zip(expected.loc[expected["value"].notna(), "geo"], expected.loc[expected["value"].notna(), "year"]))
    absent = frame[[(g, y) not in present for g, y in zip(frame["geo"], frame["year"])]]
    absent = absent[absent["year"] <= expected["year"].max()]
    assert (absent["value"].isna() | absent["flags"].notna()).all()
    assert not (frame["value"] == 0).any() or (expected["value"] == 0).any()


def test_values_for_year_one_row_per_geo(reference):
    """values_for_year gives each geo once, the same value series() gives for that year."""
    ind, _ = reference
    year = queries.latest_year(ind)
    one_year = queries.values_for_year(ind, year)
    assert one_year["geo"].is_unique and (one_year["year"] == year).all()
    ee = queries.series(ind, ["EE"])
    assert one_year.set_index("geo").loc["EE", "value"] == ee[ee["year"] == year]["value"].iloc[-1]


def test_available_and_latest_year(reference):
    """Years with at least one value, ascending; latest is the last; a value-less indicator has none."""
    ind, expected = reference
    years = queries.available_years(ind)
    assert years == sorted(years) and queries.latest_year(ind) == years[-1]
    assert set(expected.loc[expected["value"].notna(), "year"]) <= set(years)
    assert queries.available_years("no_such_indicator") == [] and queries.latest_year("no_such_indicator") is None


def test_bsr_average_recomputed(reference):
    """The BSR average equals a plain mean of the peers' values per year, and says how it was computed."""
    ind, _ = reference
    avg = queries.bsr_average(ind).set_index("year")
    values = queries.series(ind, PEERS).dropna(subset=["value"])
    per_year = values.groupby("year")["value"].agg(["mean", "count"])
    enough = per_year[per_year["count"] >= 6]
    assert set(avg.index) == set(enough.index), "years with at least 6 of 9 reporting, no others"
    np.testing.assert_allclose(avg.loc[enough.index, "value"], enough["mean"], rtol=1e-12)
    assert (avg.loc[enough.index, "n_countries"].to_numpy() == enough["count"].to_numpy()).all()
    # no population series offline: the method must say unweighted, with the count
    assert all(m.startswith("average of countries (unweighted), ") for m in avg["method"])
    assert not avg["weighted"].any() and "average of countries (unweighted)" in queries.average_method(ind)


def test_bsr_average_flags_carry_member_flags(reference):
    """A year in which a member's value is flagged gives the average that flag's letters."""
    ind, _ = reference
    values = queries.series(ind, PEERS)
    avg = queries.bsr_average(ind).set_index("year")
    for year, group in values.dropna(subset=["value"]).groupby("year"):
        if year in avg.index:
            letters = set("".join(group["flags"].dropna()))
            assert set(avg.loc[year, "flags"] or "") == letters


def test_peer_group_and_countries(dsm_env):
    """The peer group comes from the database's country_groups in the catalogue's order; EU27 is an aggregate."""
    assert queries.peer_group() == PEERS
    assert queries.group("bsr") == PEERS and queries.group("reference") == ["EU27_2020"]
    assert sorted(queries.group("eu27")) == sorted(queries.countries().query("is_eu27")["code"])
    with pytest.raises(queries.UnknownGroup):
        queries.group("no_such_group")
    geo = queries.countries().set_index("code")
    assert bool(geo.loc["EU27_2020", "is_aggregate"]) and not bool(geo.loc["EE", "is_aggregate"])
    assert queries.geo_names()["BSR_AVG"] == "BSR average"


def test_flags_legend_is_model_meanings(dsm_env):
    """The legend lists etl.model.FLAG_MEANINGS, nothing typed in again."""
    from etl.model import FLAG_MEANINGS

    legend = queries.flags_legend()
    assert dict(zip(legend["flag"], legend["meaning"])) == FLAG_MEANINGS


def test_provenance_and_source_info(reference):
    """Provenance rows belong to the dataset asked for; the source line data names the dataset."""
    ind, _ = reference
    info = queries.source_info(ind)
    dataset = queries.indicator(ind)["dataset"]
    assert info["dataset"] == dataset
    prov = queries.provenance(dataset)
    assert not prov.empty and set(prov["dataset"]) == {dataset}
    assert queries.provenance("x' OR '1'='1").empty


def test_parameters_are_bound_not_pasted(dsm_env):
    """Quotes in arguments are data, not SQL."""
    assert queries.series("a'; DROP TABLE catalogue; --", ["EE' OR '1'='1"]).empty
    assert not queries.catalogue().empty


def test_unknown_indicator(dsm_env):
    """indicator() raises UnknownIndicator (a KeyError) for an id not in the catalogue."""
    with pytest.raises(queries.UnknownIndicator):
        queries.indicator("nope")
    with pytest.raises(queries.UnknownIndicator):
        queries.indicator_meta("nope")


def test_indicator_meta_is_the_catalogue_row(dsm_env):
    """indicator_meta() carries each catalogue row's facts as stored: no target is no target, undirected stays so."""
    cat = queries.catalogue()
    for row in cat.to_dict("records"):
        meta = queries.indicator_meta(row["id"])
        assert (meta.id, meta.title, meta.unit) == (row["id"], row["title"], row["unit"])
        assert meta.higher_is_better is bool(row["higher_is_better"])
        assert meta.target_2030 == (None if pd.isna(row["target_2030"]) else row["target_2030"])
        assert meta.target_label == (row["target_label"] if isinstance(row["target_label"], str) else None)
        assert meta.directed is (row.get("directed") is not False)


def test_connection_is_read_only(dsm_env):
    """The dashboard cannot change the database."""
    with pytest.raises(duckdb.Error):
        connection.query("CREATE TABLE x AS SELECT 1")


def test_cached_results_are_copies(reference):
    """Changing a returned frame does not change what the next caller gets."""
    ind, _ = reference
    first = queries.series(ind, ["EE"])
    first["value"] = -1.0
    assert (queries.series(ind, ["EE"])["value"] != -1.0).any()


def _tiny_db(path: Path, label: str) -> None:
    """A one-table DuckDB file whose content tells which one it is."""
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect(str(tmp))
    con.execute("CREATE TABLE catalogue AS SELECT ? AS id", [label])
    con.close()
    os.replace(tmp, path)


def test_swapped_file_is_picked_up(tmp_path, monkeypatch):
    """After the ETL os.replace()s the file, the next query reads the new one (no stale cache, no restart)."""
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path))
    connection.clear_cache()
    db = tmp_path / "dsm.duckdb"
    _tiny_db(db, "old")
    read = connection.cached(lambda: connection.query("SELECT id FROM catalogue")["id"].tolist())
    assert read() == ["old"]
    _tiny_db(db, "new")
    assert read() == ["new"]
    assert connection.query("SELECT id FROM catalogue")["id"].tolist() == ["new"]


def test_missing_database_is_a_clear_error(tmp_path, monkeypatch):
    """No database yet: DatabaseMissing naming the file, not a DuckDB error deep down."""
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(connection.DatabaseMissing, match="dsm.duckdb"):
        connection.query("SELECT 1")


def test_bsr_average_population_weighted_when_population_exists(tmp_path, monkeypatch):
    """With a population series in the database the average is weighted by it, and the method says so."""
    from tests.dashboard.conftest import build_standin, with_population

    weights = {geo: (i + 1) * 1_000_000 for i, geo in enumerate(PEERS)}
    data_dir = with_population(build_standin(tmp_path / "weighted"),
                               {(geo, 2020): float(people) for geo, people in weights.items()}, "population_total")
    monkeypatch.setenv("DSM_DATA_DIR", str(data_dir))
    connection.clear_cache()
    values = queries.values_for_year("synthetic_access", 2020).set_index("geo")["value"]
    reporting = [g for g in PEERS if pd.notna(values.get(g))]
    expected = np.average([values[g] for g in reporting], weights=[weights[g] for g in reporting])
    avg = queries.bsr_average("synthetic_access").set_index("year")
    assert avg.loc[2020, "value"] == pytest.approx(expected, rel=1e-12)
    assert avg.loc[2020, "method"] == "population-weighted average (weights: Population), 9 of 9 reporting" or \
        avg.loc[2020, "method"].startswith("population-weighted average (weights: Population), ")
    assert avg.loc[2020, "weighted"] and avg.loc[2023, "weighted"], "2020's population weighs up to three years on"
    assert not avg.loc[2019, "weighted"], "no population for 2019 or before: unweighted"
    assert avg.loc[2019, "method"].startswith("average of countries (unweighted)"), "and said so"
    assert not queries.bsr_average("synthetic_skills")["weighted"].any(), "no population field: unweighted"
    connection.clear_cache()
