"""The dashboard's fast paths give the same answers as the slow ones: BSR averages of every indicator in one grouped
pass against a per-year recomputation read straight from the DuckDB file, and the background warm-up."""
from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pytest

from dashboard import components
from dashboard.data import connection, queries
from dashboard.meta import BSR_AVERAGE

PEERS = ["EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO"]


def annual_peer_values(db_path) -> dict[tuple[str, int], list[tuple[str, float, str | None]]]:
    """(indicator, year) -> [(geo, value, flags)] of the peers, the latest period of each year, read by plain SQL."""
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT indicator, geo, period, year, value, flags FROM indicator_values "
                       "WHERE geo = ANY(?) ORDER BY period", [PEERS]).fetchall()
    con.close()
    latest: dict[tuple[str, str, int], tuple] = {}
    for indicator, geo, _period, year, value, flags in rows:  # ordered by period: the last one of a year wins
        latest[(indicator, geo, int(year))] = (value, flags)
    grouped: dict[tuple[str, int], list] = {}
    for (indicator, geo, year), (value, flags) in latest.items():
        if value is not None and not np.isnan(value):
            grouped.setdefault((indicator, year), []).append((geo, float(value), flags))
    return grouped


def test_every_bsr_average_equals_a_per_year_recomputation(dsm_env):
    """For every indicator and year: the mean of the reporting peers, the union of their flag letters, who is
    missing, and no average when fewer than 6 of the 9 report (no population in the test database)."""
    expected = {key: members for key, members in annual_peer_values(dsm_env / "dsm.duckdb").items()
                if len(members) >= 6}
    table = queries.all_bsr_averages()
    assert set(zip(table["indicator"], table["year"])) == set(expected)
    assert len(expected) > 50, "the test database should give many averages to compare"
    for row in table.itertuples():
        members = expected[(row.indicator, row.year)]
        assert row.value == pytest.approx(np.mean([v for _, v, _ in members]), rel=1e-12), row
        letters = "".join(sorted(set("".join(f for _, _, f in members if f))))
        assert row.flags == (letters or None), row
        assert row.n_countries == len(members) and row.n_peers == 9
        assert row.missing == ",".join(p for p in PEERS if p not in {g for g, _, _ in members})
        assert row.method == f"average of countries (unweighted), {len(members)} of 9 reporting" and not row.weighted


def test_bsr_average_of_one_indicator_is_its_slice(dsm_env):
    """bsr_average(id) is the BSR_AVG-labelled slice of the all-indicator table; an unknown id gives no rows."""
    table = queries.all_bsr_averages()
    some = table["indicator"].iloc[0]
    one = queries.bsr_average(some)
    assert list(one.columns) == ["geo", *queries.AVERAGE_COLUMNS] and set(one["geo"]) == {BSR_AVERAGE}
    assert one["year"].tolist() == table.loc[table["indicator"] == some, "year"].tolist()
    assert queries.bsr_average("no_such_indicator").empty


def test_weighted_only_where_every_reporting_peer_has_a_population(tmp_path, monkeypatch):
    """Population for all peers in 2020 weights that year; 2019 lacks one peer's population (NULL) so is unweighted."""
    from tests.dashboard.conftest import build_standin, with_population

    people = {geo: (i + 2) * 1_000_000.0 for i, geo in enumerate(PEERS)}
    counts = {(geo, 2020): count for geo, count in people.items()}
    counts |= {(geo, 2019): None if geo == "LV" else count for geo, count in people.items()}
    data_dir = with_population(build_standin(tmp_path / "weighted"), counts)
    monkeypatch.setenv("DSM_DATA_DIR", str(data_dir))
    connection.clear_cache()
    try:
        members = annual_peer_values(data_dir / "dsm.duckdb")
        for year in (2019, 2020):
            reporting = members[("synthetic_access", year)]
            avg = queries.bsr_average("synthetic_access").set_index("year")
            if year == 2020:
                expected = sum(v * people[g] for g, v, _ in reporting) / sum(people[g] for g, _, _ in reporting)
                assert avg.at[year, "method"].startswith("population-weighted average")
            else:
                lv_reports = any(g == "LV" for g, _, _ in reporting)
                expected = (np.mean([v for _, v, _ in reporting]) if lv_reports
                            else sum(v * people[g] for g, v, _ in reporting) / sum(people[g] for g, _, _ in reporting))
                assert avg.at[year, "method"].startswith("average of countries (unweighted)" if lv_reports
                                                         else "population-weighted")
            assert avg.at[year, "value"] == pytest.approx(expected, rel=1e-12), year
    finally:
        connection.clear_cache()


def test_warm_up_fills_the_shared_aggregates_once_per_database_version(dashboard_data_dir, tmp_path, monkeypatch):
    """A fresh database version is warmed once, in a background thread, with the same results as computing them."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(dashboard_data_dir / "dsm.duckdb", copy / "dsm.duckdb")  # a new file: a version not yet warmed
    monkeypatch.setenv("DSM_DATA_DIR", str(copy))
    connection.clear_cache()
    try:
        thread = components.warm_in_background()
        assert thread is not None, "a new database version starts a warm-up"
        assert components.warm_in_background() is None, "only one warm-up per version"
        thread.join(timeout=120)
        assert not thread.is_alive()
        version = connection.database_version()
        warmed = {(key[0], key[1]) for key in list(connection._cache) if key[-1] == version}
        assert ("dashboard.data.queries", "all_bsr_averages") in warmed
        assert ("dashboard.data.profile", "all_profiles") in warmed
        from dashboard.data import profile

        assert queries.all_bsr_averages().equals(queries.all_bsr_averages.uncached())
        assert profile.all_profiles().equals(profile.all_profiles.uncached())
    finally:
        connection.clear_cache()


def test_no_warm_up_without_a_database(tmp_path, monkeypatch):
    """No database file: nothing to warm, and no error (the page itself says no data is loaded)."""
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path / "empty"))
    assert components.warm_in_background() is None
