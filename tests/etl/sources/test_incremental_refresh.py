"""The live refresh asks the dataflow's UPDATE_DATA first and downloads only datasets whose date moved."""
from __future__ import annotations

import duckdb
import pytest

from etl.refresh import refresh
from etl.sources.eurostat import EurostatClient

LIVE = ["isoc_ci_in_h", "tin00074"]


@pytest.fixture
def client(eurostat_server) -> EurostatClient:
    """The real client against the loopback, no real waiting."""
    return EurostatClient(base_url=eurostat_server.base_url, timeout=(2, 5), max_retries=1, sleep=lambda s: None)


def data_requests(server, dataset: str) -> int:
    """Data downloads (not dataflow questions) the server saw for a dataset."""
    return len([r for r in server.requests_of(dataset=dataset) if r.kind in {"statistics", "sdmx3", "sdmx21"}])


def source_dates(data_dir) -> dict:
    """source_updated per dataset as published."""
    con = duckdb.connect(str(data_dir / "dsm.duckdb"), read_only=True)
    try:
        return dict(con.execute("SELECT dataset, source_updated FROM provenance").fetchall())
    finally:
        con.close()


def test_a_dataset_whose_update_date_did_not_move_is_not_downloaded(eurostat_server, client, tmp_path):
    data_dir = tmp_path / "data"
    eurostat_server.update_dates.update(tin00074="2030-01-01T11:00:00+0100", isoc_ci_in_h="2030-01-01T11:00:00+0100")
    first = refresh(only=LIVE, data_dir=data_dir, client=client)
    assert first.rebuilt == LIVE
    assert [data_requests(eurostat_server, d) for d in LIVE] == [1, 1]
    dates = source_dates(data_dir)
    assert str(dates["tin00074"]).startswith("2030-01-01")  # the TSV carries the dataflow's date to the charts

    eurostat_server.update_dates["tin00074"] = "2030-02-01T11:00:00+0100"
    second = refresh(only=LIVE, data_dir=data_dir, client=client)
    assert [data_requests(eurostat_server, d) for d in LIVE] == [1, 2], "only tin00074's date moved"
    assert second.unchanged == ["isoc_ci_in_h"] and second.rebuilt == ["tin00074"]
    assert str(source_dates(data_dir)["tin00074"]).startswith("2030-02-01")
    assert len(eurostat_server.requests_of("dataflow")) == 4


def test_force_downloads_every_dataset(eurostat_server, client, tmp_path):
    data_dir = tmp_path / "data"
    refresh(only=LIVE, data_dir=data_dir, client=client)
    refresh(only=LIVE, data_dir=data_dir, client=client, force=True)
    assert [data_requests(eurostat_server, d) for d in LIVE] == [2, 2]
