"""Bodies are decoded before they are accepted: synthetic answers served by the loopback from a tiny folder."""
from __future__ import annotations

import json

import pytest

from etl.sources.eurostat import EurostatClient, EurostatHTTPError, EurostatUnavailable, RejectedBody
from tests.loopback import Fault, start_server


def synthetic_jsonstat(status: dict | None = None, size_of_geo: int = 2) -> dict:
    """A clearly synthetic JSON-stat 2.0 dataset: 1 freq x 1 unit x geo x 2 years."""
    return {
        "version": "2.0", "class": "dataset", "label": "Synthetic test dataset", "source": "TEST",
        "updated": "2030-01-02T03:04:05Z",
        "id": ["freq", "unit", "geo", "time"], "size": [1, 1, size_of_geo, 2],
        "dimension": {
            "freq": {"label": "Time frequency", "category": {"index": {"A": 0}, "label": {"A": "Annual"}}},
            "unit": {"label": "Unit", "category": {"index": {"PC_HH": 0}, "label": {"PC_HH": "Percentage"}}},
            "geo": {"label": "Geo", "category": {"index": {"EE": 0, "LV": 1}, "label": {"EE": "Estonia", "LV": "Latvia"}}},
            "time": {"label": "Time", "category": {"index": {"2022": 0, "2023": 1}, "label": {"2022": "2022", "2023": "2023"}}},
        },
        "value": {"0": 91.5, "1": 92.25, "3": 88.0},
        "status": status if status is not None else {"1": "p"},
    }


@pytest.fixture
def synthetic_server(tmp_path):
    """A loopback Eurostat serving a folder of synthetic answers."""
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "test_good.json").write_text(json.dumps(synthetic_jsonstat()))
    (folder / "test_badflag.json").write_text(json.dumps(synthetic_jsonstat(status={"1": "q"})))
    (folder / "test_badsize.json").write_text(json.dumps(synthetic_jsonstat(size_of_geo=3)))
    (folder / "test_error200.json").write_text(json.dumps(
        {"error": [{"status": 400, "id": 140, "label": "INVALID_QUERY: synthetic error served with 200"}]}))
    server = start_server(folder)
    yield server
    server.close()


@pytest.fixture
def synthetic_client(synthetic_server):
    """A client for the synthetic server that never really sleeps."""
    return EurostatClient(base_url=synthetic_server.base_url, timeout=(2, 5), max_retries=2, sleep=lambda s: None)


def test_a_good_synthetic_body_is_accepted_with_its_updated_stamp(synthetic_client, tmp_path):
    stored = synthetic_client.fetch_dataset("test_good", "jsonstat", raw_dir=tmp_path / "raw")
    assert json.loads(stored.path.read_bytes())["value"] == {"0": 91.5, "1": 92.25, "3": 88.0}
    assert stored.meta["source_updated"].startswith("2030-01-02")


def test_error_document_served_with_200_is_rejected(synthetic_client, tmp_path):
    with pytest.raises(RejectedBody, match="INVALID_QUERY: synthetic error served with 200"):
        synthetic_client.fetch_dataset("test_error200", "jsonstat", raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("dataset, why", [("test_badflag", "flag"), ("test_badsize", "")])
def test_the_real_decoder_judges_bodies_before_they_are_stored(synthetic_client, tmp_path, dataset, why):
    pytest.importorskip("etl.formats.jsonstat", reason="the JSON-stat decoder is not written yet")
    with pytest.raises(RejectedBody, match=f"{dataset}.*rejected by the jsonstat decoder.*{why}"):
        synthetic_client.fetch_dataset(dataset, "jsonstat", raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_retry_after_longer_than_the_client_waits_fails_at_once(synthetic_server, tmp_path):
    waits = []
    patient = EurostatClient(base_url=synthetic_server.base_url, max_retries=3, sleep=waits.append,
                             max_retry_after=60)
    synthetic_server.add_fault(Fault.rate_limited("3600"))
    with pytest.raises(EurostatHTTPError, match="retry after 3600 s") as err:
        patient.fetch_dataset("test_good", "jsonstat", raw_dir=tmp_path / "raw")
    assert not isinstance(err.value, EurostatUnavailable)
    assert waits == [] and len(synthetic_server.requests) == 1


def test_giving_up_after_retries_is_distinguishable_from_a_refusal(synthetic_client, synthetic_server, tmp_path):
    synthetic_server.add_fault(Fault.unavailable(times=5, status=502))
    with pytest.raises(EurostatUnavailable, match="Eurostat is unavailable: gave up after 3 attempts: HTTP 502"):
        synthetic_client.fetch_dataset("test_good", "jsonstat", raw_dir=tmp_path / "raw")
