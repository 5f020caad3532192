"""The live path end to end: EurostatClient over real HTTP to the loopback Eurostat, with injected faults."""
from __future__ import annotations

import hashlib

import duckdb
import pytest

from etl.refresh import RefreshError, read_runs, refresh
from etl.sources.eurostat import EurostatClient
from tests.loopback import Fault, start_server

LIVE = ["isoc_ci_ifp_iu", "isoc_ci_in_h", "tin00074"]


@pytest.fixture
def server(shared_data, monkeypatch):
    """A loopback Eurostat serving the recordings; DSM_EUROSTAT_URL points the live client at it."""
    loopback = start_server(shared_data)
    monkeypatch.setenv("DSM_EUROSTAT_URL", loopback.base_url)
    yield loopback
    loopback.close()


def fast_client() -> EurostatClient:
    """The real client (base URL from DSM_EUROSTAT_URL) with short timeouts and no real waiting between retries."""
    return EurostatClient(timeout=(2, 1), max_retries=2, backoff=0.01, sleep=lambda seconds: None)


def snapshot(data_dir):
    """sha256 of the database and every Parquet file."""
    files = [data_dir / "dsm.duckdb", *sorted((data_dir / "parquet").iterdir())]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def rows(data_dir, sql, params=None):
    """Rows of a read-only query on the published database."""
    con = duckdb.connect(str(data_dir / "dsm.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def live_build(server, tmp_path):
    """A first successful live refresh of three datasets; returns (data_dir, report)."""
    data_dir = tmp_path / "data"
    report = refresh(only=LIVE, data_dir=data_dir, client=fast_client())
    return data_dir, report


def test_live_refresh_builds_from_http(live_build, server):
    data_dir, report = live_build
    assert report.rebuilt == LIVE
    assert report.source.startswith("live Eurostat API http://127.0.0.1:")
    assert {r.dataset for r in server.requests_of()} >= set(LIVE)
    urls = dict(rows(data_dir, "SELECT dataset, url FROM provenance"))
    assert all(urls[d].startswith(server.base_url) for d in LIVE), urls
    assert "/statistics/1.0/data/isoc_ci_in_h?" in urls["isoc_ci_in_h"] and "hhtyp=TOTAL" in urls["isoc_ci_in_h"]
    assert "/sdmx/2.1/data/tin00074" in urls["tin00074"]
    counts = dict(rows(data_dir, "SELECT indicator, count(*) FROM indicator_values GROUP BY 1"))
    assert counts["households_internet_access"] > 800 and counts["ict_sector_value_added"] > 300
    # the DESI export is not served by any Eurostat API: named, not silently empty
    assert "desi" not in report.missing_datasets  # not asked for with --only


def test_desi_is_reported_as_not_live(server, tmp_path):
    report = refresh(only=["desi", "tin00074"], data_dir=tmp_path / "data", client=fast_client())
    assert report.rebuilt == ["tin00074"]
    assert "not served by the live Eurostat API" in report.missing_datasets["desi"]
    assert "desi_overall" in report.missing_indicators


def test_503_then_success_refreshes(live_build, server):
    data_dir, _ = live_build
    server.add_fault(Fault.unavailable(times=1, dataset="isoc_ci_ifp_iu"))
    report = refresh(only=LIVE, data_dir=data_dir, client=fast_client(), force=True)
    assert report.rebuilt == LIVE
    statuses = [r.dataset for r in server.requests_of(dataset="isoc_ci_ifp_iu")]
    assert len(statuses) >= 3, "the first build, the 503 and its retry"


FAILURES = {  # fault, and what the error must say
    "truncated body": (lambda: Fault.cut_in_half(times=10, dataset="isoc_ci_ifp_iu"), "body rejected by the jsonstat decoder"),
    "timeout": (lambda: Fault.slow(seconds=1.6, times=10, dataset="isoc_ci_ifp_iu"), "timed out"),
    "HTML page with 200": (lambda: Fault.html(times=10, dataset="isoc_ci_ifp_iu"), "HTML page, not data"),
    "persistent 503": (lambda: Fault.unavailable(times=10, dataset="isoc_ci_ifp_iu"), "HTTP 503"),
}


@pytest.mark.parametrize("fault,reason", list(FAILURES.values()), ids=list(FAILURES))
def test_failed_fetch_fails_the_run_and_keeps_the_previous_database(live_build, server, fault, reason):
    data_dir, report = live_build
    before = snapshot(data_dir)
    server.add_fault(fault())
    with pytest.raises(RefreshError) as caught:
        refresh(only=LIVE, data_dir=data_dir, client=fast_client(), force=True)
    assert caught.value.dataset == "isoc_ci_ifp_iu"
    assert "isoc_ci_ifp_iu" in str(caught.value) and reason in str(caught.value)
    assert snapshot(data_dir) == before
    assert rows(data_dir, "SELECT count(*) FROM observations")[0][0] == report.total_rows
    assert rows(data_dir, "SELECT count(*) FROM indicator_values WHERE indicator = 'internet_use'")[0][0] > 0
    assert read_runs(data_dir)[-1]["status"] == "failed"


def test_the_requests_dsm_lists_are_the_ones_a_refresh_sends(live_build, server, tmp_path, capsys):
    from etl.catalogue import load_catalogue
    from etl.cli import main
    from etl.refresh import LiveSource
    source = LiveSource(load_catalogue(), tmp_path / "raw", fast_client())
    for dataset in LIVE:
        sent = [server.base_url + r.path + ("?" + r.raw_query if r.raw_query else "")
                for r in server.requests_of(dataset=dataset)]
        assert sent == source.planned(dataset), dataset
    assert main(["requests"]) == 0
    listed = capsys.readouterr().out
    assert "\ndesi: not served by the live Eurostat API" in listed
    assert f"  GET {server.base_url}/eurostat/api/dissemination/sdmx/2.1/dataflow/ESTAT/tin00074?" in listed
    assert "  GET https://digital-decade-desi.digital-strategy.ec.europa.eu/api/v1/chart-groups/desi/facts/\n" in listed
