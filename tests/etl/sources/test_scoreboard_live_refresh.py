"""`dsm refresh` of the Digital Decade dataset from the live Digital Scoreboard API (the loopback answering its documented
paths: chart-groups/{group}/facts/ as CSV, indicators/?chart_group=&format=csv with the serializer's fields)."""
from __future__ import annotations

import json

import pytest

from etl.refresh import RefreshError, refresh
from tests.etl.test_live_refresh import fast_client, rows  # the scoreboard client takes the Eurostat client's limits
from tests.loopback import Fault, start_server


@pytest.fixture
def server(shared_data, monkeypatch):
    """One loopback for both services; DSM_EUROSTAT_URL and DSM_SCOREBOARD_URL point the live clients at it."""
    loopback = start_server(shared_data)
    monkeypatch.setenv("DSM_EUROSTAT_URL", loopback.base_url)
    monkeypatch.setenv("DSM_SCOREBOARD_URL", loopback.base_url)
    yield loopback
    loopback.close()


def recorded(shared_data, name):
    """A recorded scoreboard file's records' fields, read here with json."""
    return [r["fields"] for r in json.loads(next(shared_data.rglob(name)).read_bytes())]


@pytest.fixture
def live_dd(server, tmp_path):
    """A live refresh of the Digital Decade dataset alone."""
    data_dir = tmp_path / "data"
    return data_dir, refresh(only=["digital_decade"], data_dir=data_dir, client=fast_client())


def test_the_refresh_asks_the_documented_paths_of_each_chart_group(live_dd, server):
    _, report = live_dd
    assert report.rebuilt == ["digital_decade"]
    paths = sorted(r.path + ("?" + r.raw_query if r.raw_query else "") for r in server.requests_of() if "/api/v1/" in r.path)
    assert paths == sorted([
        "/api/v1/chart-groups/desi/facts/", "/api/v1/chart-groups/dd-trajectories/facts/",
        "/api/v1/indicators/?chart_group=desi&format=csv", "/api/v1/indicators/?chart_group=dd-trajectories&format=csv"])


def test_every_live_fact_equals_the_recorded_one(live_dd, shared_data):
    data_dir, _ = live_dd
    facts = recorded(shared_data, "digital_decade_2026_facts.json") + recorded(shared_data, "digital_decade_trajectories.json")
    got = rows(data_dir, """SELECT geo, period, unit, dims['indicator'], dims['breakdown'], value, flags
                            FROM observations WHERE dataset = 'digital_decade'""")
    assert len(got) == len(facts)
    found = {(g, p, u, i, b): (v, f) for g, p, u, i, b, v, f in got}
    for fact in facts:
        geo = "EU27_2020" if fact["country"][0] == "EU" else fact["country"][0]
        key = (geo, fact.get("reference_period") or fact["period"][0], fact["unit"][0], fact["indicator"][0],
               fact["breakdown"][0])
        assert found[key] == (fact["value"], fact["flags"] or None), key


def test_definitions_arrive_from_the_indicator_list(live_dd, shared_data):
    data_dir, _ = live_dd
    definitions = {r["code"]: r["definition"].strip() for r in recorded(shared_data, "scoreboard_indicators.json")
                   if (r.get("definition") or "").strip()}
    got = dict(rows(data_dir, "SELECT code, label FROM labels WHERE dimension = 'scoreboard_definition'"))
    assert got["desi_dps_biz"] == definitions["desi_dps_biz"]
    used = {code for (code,) in rows(data_dir, "SELECT DISTINCT dims['indicator'] FROM observations "
                                               "WHERE dataset = 'digital_decade'")}
    assert {code for code in used if code in definitions} <= set(got)
    urls = dict(rows(data_dir, "SELECT file, url FROM provenance WHERE dataset = 'digital_decade'"))
    assert any(u.endswith("/api/v1/chart-groups/desi/facts/") for u in urls.values()), urls


def test_an_html_answer_from_the_scoreboard_publishes_nothing(live_dd, server):
    data_dir, _ = live_dd
    before = (data_dir / "dsm.duckdb").read_bytes()
    server.add_fault(Fault.html(times=5))
    with pytest.raises(RefreshError, match="digital_decade"):
        refresh(only=["digital_decade"], data_dir=data_dir, client=fast_client(), force=True)
    assert (data_dir / "dsm.duckdb").read_bytes() == before
