"""The client against the loopback answering as Eurostat documents: async envelopes, 413s, compression, maintenance,
bounded downloads, update dates."""
from __future__ import annotations

import gzip
import time

import pytest

from etl.sources.eurostat import (
    AsyncExtractionError, DeadlinePassed, EurostatClient, EurostatHTTPError, EurostatUnavailable, RejectedBody,
)
from tests.loopback import Fault

CM_H_A2 = {"hhtyp": ["A2"]}
MIB = 1 << 20


def recorded(shared_data, name: str) -> bytes:
    """A recorded file's bytes, read independently of the server."""
    return next(shared_data.rglob(name)).read_bytes()


def test_sdmx3_async_answer_is_followed_to_the_gzipped_data(client, eurostat_server, sleeps, shared_data):
    eurostat_server.add_fault(Fault.asynchronous(polls=1))
    fetched, decoded = client.fetch_body("isoc_ci_cm_h", "jsonstat-sdmx3", CM_H_A2)
    assert [r.kind for r in eurostat_server.requests] == ["sdmx3", "async-status", "async-status", "async-data"]
    assert fetched.body == recorded(shared_data, "isoc_ci_cm_h_a2.json")
    assert fetched.stored[:2] == b"\x1f\x8b"  # stored as served
    assert decoded.dataset == "isoc_ci_cm_h" and len(decoded.observations) > 0


def test_async_data_served_as_a_zip_is_opened(client, eurostat_server, shared_data, raw_dir):
    eurostat_server.add_fault(Fault.asynchronous(polls=0, zipped=True))
    stored = client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert stored.path.name == "tin00074.tsv"
    assert stored.path.read_bytes() == recorded(shared_data, "tin00074.tsv")


def test_an_extraction_the_service_forgot_is_unknown_request(eurostat_server, raw_dir):
    forget = lambda seconds: eurostat_server.jobs.clear()  # noqa: E731 - the server loses the job while we wait
    client = EurostatClient(base_url=eurostat_server.base_url, sleep=forget, async_poll_interval=1)
    eurostat_server.add_fault(Fault.asynchronous(polls=2))
    with pytest.raises(AsyncExtractionError, match="HTTP 400: UNKNOWN_REQUEST"):
        client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert not raw_dir.exists()


def test_statistics_413_asynchronous_response_asks_the_same_url_again(client, eurostat_server, shared_data):
    eurostat_server.add_fault(Fault.statistics_async(times=2))
    fetched, _ = client.fetch_body("isoc_ci_in_h", "jsonstat", {"unit": ["PC_HH"], "hhtyp": ["TOTAL"]})
    assert fetched.body == recorded(shared_data, "isoc_ci_in_h.json")
    assert len({r.raw_query for r in eurostat_server.requests}) == 1 and len(eurostat_server.requests) == 3


@pytest.mark.parametrize("live_format", ["jsonstat", "tsv"])
def test_extraction_too_big_is_final(client, eurostat_server, sleeps, raw_dir, live_format):
    eurostat_server.add_fault(Fault.too_big())
    with pytest.raises(EurostatHTTPError, match="HTTP 413: EXTRACTION_TOO_BIG: The requested extraction is too big"):
        client.fetch_dataset("isoc_ci_in_h", live_format, raw_dir=raw_dir)
    assert len(eurostat_server.requests) == 1 and sleeps.calls == []


def test_gzip_without_content_encoding_is_read_before_any_check(eurostat_server, sleeps, shared_data):
    # A client that accepts gzip gets every answer gzip'd without a header; the 413 and the 404 must still read.
    client = EurostatClient(base_url=eurostat_server.base_url, sleep=sleeps, async_poll_interval=1)
    client.session.headers["Accept-Encoding"] = "gzip, deflate"
    eurostat_server.add_fault(Fault.statistics_async())
    fetched, _ = client.fetch_body("isoc_ci_in_h", "jsonstat", {"unit": ["PC_HH"]})
    assert fetched.body == recorded(shared_data, "isoc_ci_in_h.json") and sleeps.calls == [1]
    with pytest.raises(EurostatHTTPError, match="ERR_NOT_FOUND_4: NOPE_XX is not available"):
        client.fetch_body("nope_xx", "jsonstat")


def test_the_client_asks_for_identity(client):
    assert client.session.headers["Accept-Encoding"] == "identity"


def test_maintenance_redirect_is_retried_then_the_data_comes(client, eurostat_server, sleeps, shared_data):
    eurostat_server.add_fault(Fault.maintenance(times=2))
    fetched, _ = client.fetch_body("tin00074", "tsv")
    assert gzip.decompress(fetched.stored) == recorded(shared_data, "tin00074.tsv")
    assert len(eurostat_server.requests) == 3 and sleeps.calls == [0, 1.0]


def test_a_long_maintenance_says_eurostat_is_unavailable(client, eurostat_server, raw_dir):
    eurostat_server.add_fault(Fault.maintenance(times=10))
    with pytest.raises(EurostatUnavailable, match="Eurostat is unavailable: gave up after 4 attempts: "
                                                  "redirected to https://sorry.ec.europa.eu/"):
        client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert not raw_dir.exists()


@pytest.mark.parametrize("encoding", ["content", "gzip"])
def test_a_gzip_bomb_is_refused_while_inflating(eurostat_server, raw_dir, encoding):
    client = EurostatClient(base_url=eurostat_server.base_url, max_bytes=MIB, sleep=lambda s: None)
    eurostat_server.add_fault(Fault.bomb(inflated=16 * MIB, encoding=encoding))
    with pytest.raises(RejectedBody, match="inflates to more than 1,048,576 bytes"):
        client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert not raw_dir.exists()


def test_a_body_larger_than_the_limit_is_refused_while_streaming(eurostat_server, raw_dir):
    client = EurostatClient(base_url=eurostat_server.base_url, max_bytes=1000, sleep=lambda s: None)
    with pytest.raises(RejectedBody, match="body larger than 1,000 bytes"):
        client.fetch_dataset("isoc_ci_in_h", "jsonstat", raw_dir=raw_dir)
    assert not raw_dir.exists()


def test_a_dripping_server_is_cut_off_at_the_deadline(eurostat_server, raw_dir):
    client = EurostatClient(base_url=eurostat_server.base_url, deadline=1.0, sleep=lambda s: None)
    eurostat_server.add_fault(Fault.drip(seconds=0.2))
    start = time.monotonic()
    with pytest.raises(DeadlinePassed, match="not complete within the 1 s deadline"):
        client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert time.monotonic() - start < 2.0
    assert not raw_dir.exists()


def test_the_deadline_covers_retries(eurostat_server, raw_dir):
    client = EurostatClient(base_url=eurostat_server.base_url, timeout=(2, 0.4), max_retries=20, backoff=0.05,
                            deadline=1.5)
    eurostat_server.add_fault(Fault.slow(1.0, times=50))
    start = time.monotonic()
    with pytest.raises(DeadlinePassed, match="deadline of a download"):
        client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir)
    assert time.monotonic() - start < 3.0
    assert len(eurostat_server.requests) < 10


def test_update_date_comes_from_the_dataflow_annotation(client, eurostat_server):
    eurostat_server.update_dates["tin00074"] = "2031-02-03T11:00:00+0100"
    assert client.update_date("tin00074") == "2031-02-03T11:00:00+0100"
    (seen,) = eurostat_server.requests
    assert seen.path == "/eurostat/api/dissemination/sdmx/2.1/dataflow/ESTAT/tin00074"
    assert client.update_date("zz_nothing") is None  # 404: no date, the download reports the error


def test_tsv_carries_the_dataflow_date(client, eurostat_server, raw_dir):
    stored = client.fetch_dataset("tin00074", "tsv", raw_dir=raw_dir, update_data="2031-02-03T11:00:00+0100")
    assert stored.meta["source_updated"] == "2031-02-03T11:00:00+0100"
    assert stored.decoded.source_updated == "2031-02-03T11:00:00+0100"
