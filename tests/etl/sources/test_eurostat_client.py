"""The live client against a loopback Eurostat: success, retries, Retry-After, timeouts, bad bodies, async, errors."""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from etl.sources import eurostat, rawstore
from etl.sources.eurostat import (
    AsyncExtractionError, EurostatClient, EurostatError, EurostatHTTPError, RejectedBody,
)
from tests.loopback import Fault

BASE = "https://ec.europa.eu"
IN_H_FILTERS = {"unit": ["PC_HH"], "hhtyp": ["TOTAL"]}


def recorded(shared_data, name: str) -> bytes:
    """A recorded file's bytes, read independently of the server."""
    return next(shared_data.rglob(name)).read_bytes()


def snapshot(folder) -> dict:
    """Every file under a folder with its bytes, to prove nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.exists() else {}


# ---------------------------------------------------------------- URL builders (the documented Eurostat forms)

def test_statistics_url_repeats_parameters_for_several_codes():
    url = eurostat.statistics_url(BASE, "isoc_ci_in_h", {"unit": ["PC_HH"], "hhtyp": ["TOTAL", "A1"]})
    assert url == (BASE + "/eurostat/api/dissemination/statistics/1.0/data/isoc_ci_in_h"
                   "?lang=EN&format=JSON&unit=PC_HH&hhtyp=TOTAL&hhtyp=A1")


def test_sdmx21_tsv_url_and_key_filter():
    assert eurostat.sdmx21_url(BASE, "isoc_e_dii") == (
        BASE + "/eurostat/api/dissemination/sdmx/2.1/data/isoc_e_dii?format=TSV&compressed=true")
    assert eurostat.sdmx21_url(BASE, "isoc_ci_in_h", key="A.PC_HH.TOTAL.EE+LV") == (
        BASE + "/eurostat/api/dissemination/sdmx/2.1/data/isoc_ci_in_h/A.PC_HH.TOTAL.EE+LV?format=TSV&compressed=true")


def test_sdmx30_url_matches_the_recorded_call():
    # The README records this exact request for isoc_e_dii.json.
    url = eurostat.sdmx30_url(BASE, "isoc_e_dii", {"unit": ["PC_ENT"], "indic_is": ["E_DI4_VHI", "E_DI4_HI"],
                                                   "size_emp": ["GE10"]})
    assert url == (BASE + "/eurostat/api/dissemination/sdmx/3.0/data/dataflow/ESTAT/isoc_e_dii/1.0/"
                   "?lang=EN&format=JSON&c[unit]=PC_ENT&c[indic_is]=E_DI4_VHI,E_DI4_HI&c[size_emp]=GE10")


def test_bad_codes_and_formats_are_refused_before_any_request(client, eurostat_server):
    with pytest.raises(ValueError):
        eurostat.statistics_url(BASE, "isoc/../x")
    with pytest.raises(ValueError, match="live_format"):
        client.fetch_dataset("isoc_ci_in_h", "xml")
    assert eurostat_server.requests == []


# ---------------------------------------------------------------- success

def test_jsonstat_success_stores_the_body_with_provenance(client, eurostat_server, shared_data, raw_dir):
    stored = client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)

    expected = recorded(shared_data, "isoc_ci_in_h.json")
    assert stored.path == raw_dir / "isoc_ci_in_h" / "isoc_ci_in_h.json"
    assert stored.path.read_bytes() == expected
    body, meta = rawstore.read_raw(stored.path)
    assert meta["sha256"] == hashlib.sha256(expected).hexdigest()
    assert meta["http_status"] == 200 and meta["format"] == "jsonstat"
    assert meta["source_updated"] == json.loads(expected)["updated"]
    assert meta["url"].startswith(eurostat_server.base_url + "/eurostat/api/dissemination/statistics/1.0/data/")

    (seen,) = eurostat_server.requests
    assert seen.kind == "statistics" and seen.dataset == "isoc_ci_in_h"
    assert parse_qsl(seen.raw_query) == [("lang", "EN"), ("format", "JSON"), ("unit", "PC_HH"), ("hhtyp", "TOTAL")]


def test_tsv_success_is_stored_gzip_compressed_as_served(client, eurostat_server, shared_data, raw_dir):
    stored = client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)
    assert stored.path.name == "isoc_ci_in_h.tsv.gz"
    assert stored.path.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(stored.path.read_bytes()) == recorded(shared_data, "isoc_ci_in_h.tsv")
    (seen,) = eurostat_server.requests
    assert seen.path == "/eurostat/api/dissemination/sdmx/2.1/data/isoc_ci_in_h"
    assert seen.query == {"format": ["TSV"], "compressed": ["true"]}


def test_sdmx3_partial_answers_follow_the_requested_codes(client, shared_data, raw_dir):
    first = client.fetch_body("isoc_ci_cm_h", "jsonstat-sdmx3", {"hhtyp": ["A1", "A1_DCH"]})[0]
    second = client.fetch_body("isoc_ci_cm_h", "jsonstat-sdmx3", {"hhtyp": ["A2"]})[0]
    assert first.body == recorded(shared_data, "isoc_ci_cm_h_a1.json")
    assert second.body == recorded(shared_data, "isoc_ci_cm_h_a2.json")


def test_default_base_url_comes_from_the_environment(eurostat_server, raw_dir, monkeypatch, shared_data):
    monkeypatch.setenv("DSM_EUROSTAT_URL", eurostat_server.base_url + "/")
    assert EurostatClient().base_url == eurostat_server.base_url
    stored = eurostat.fetch_dataset("isoc_e_dii", "jsonstat", raw_dir=raw_dir)
    assert stored.path.read_bytes() == recorded(shared_data, "isoc_e_dii.json")


# ---------------------------------------------------------------- retries

def test_503_then_success_is_retried_with_backoff(client, eurostat_server, sleeps, raw_dir):
    eurostat_server.add_fault(Fault.unavailable(times=2))
    stored = client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert stored.path.exists()
    assert len(eurostat_server.requests_of("statistics")) == 3
    assert sleeps.calls == [0, 1.0]  # urllib3's backoff: at once, then 0.5 x 2


def test_persistent_503_gives_up_after_max_retries(client, eurostat_server, sleeps, raw_dir):
    eurostat_server.add_fault(Fault.unavailable(times=10))
    with pytest.raises(EurostatHTTPError, match=r"isoc_ci_in_h.*4 attempts.*HTTP 503") as err:
        client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert err.value.status == 503
    assert len(eurostat_server.requests) == 4
    assert not raw_dir.exists()


def test_429_retry_after_seconds_is_honoured(client, eurostat_server, sleeps, raw_dir):
    eurostat_server.add_fault(Fault.rate_limited("7"))
    client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert sleeps.calls == [7.0]
    assert len(eurostat_server.requests) == 2


def test_429_retry_after_http_date_is_honoured(client, eurostat_server, sleeps, raw_dir):
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    eurostat_server.add_fault(Fault.rate_limited(format_datetime(when, usegmt=True)))
    client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    (waited,) = sleeps.calls
    assert 20 <= waited <= 31


def test_timeouts_are_retried_then_fail_with_a_clear_message(eurostat_server, sleeps, raw_dir):
    quick = EurostatClient(base_url=eurostat_server.base_url, timeout=(2, 0.3), max_retries=2, sleep=sleeps)
    eurostat_server.add_fault(Fault.slow(1.5, times=3))
    with pytest.raises(EurostatHTTPError) as err:
        quick.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    message = str(err.value)
    assert "isoc_ci_in_h" in message and "3 attempts" in message and "timed out" in message
    assert eurostat_server.base_url in message
    assert len(eurostat_server.requests) == 3
    assert sleeps.calls == [0, 1.0]
    assert not raw_dir.exists()


def test_a_timeout_then_a_prompt_answer_succeeds(eurostat_server, sleeps, raw_dir, shared_data):
    quick = EurostatClient(base_url=eurostat_server.base_url, timeout=(2, 0.3), max_retries=2, sleep=sleeps)
    eurostat_server.add_fault(Fault.slow(1.5, times=1))
    stored = quick.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert stored.path.read_bytes() == recorded(shared_data, "isoc_ci_in_h.json")


# ---------------------------------------------------------------- bodies that must not be accepted

@pytest.fixture
def previous(client, raw_dir):
    """A good earlier download of isoc_ci_in_h (JSON-stat) already in the raw store."""
    stored = client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    return stored, snapshot(raw_dir)


def test_declared_length_longer_than_the_body_is_rejected_and_nothing_changes(client, eurostat_server, raw_dir,
                                                                              previous):
    eurostat_server.add_fault(Fault.declared_too_long(times=10))
    with pytest.raises(EurostatError, match="truncated body") as err:
        client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert "isoc_ci_in_h" in str(err.value)
    assert snapshot(raw_dir) == previous[1]


@pytest.mark.parametrize("live_format", ["jsonstat", "tsv"])
def test_body_cut_in_half_with_matching_length_is_rejected_by_decoding(client, eurostat_server, raw_dir, previous,
                                                                        live_format):
    eurostat_server.add_fault(Fault.cut_in_half())
    with pytest.raises(RejectedBody, match="isoc_ci_in_h.*(rejected by the|cut short)") as err:
        client.fetch_dataset("isoc_ci_in_h", live_format, IN_H_FILTERS if live_format == "jsonstat" else None,
                             raw_dir=raw_dir)
    assert err.value.url.startswith(eurostat_server.base_url)
    assert snapshot(raw_dir) == previous[1]


def test_html_page_with_200_is_rejected(client, eurostat_server, raw_dir, previous):
    eurostat_server.add_fault(Fault.html())
    with pytest.raises(RejectedBody, match=r"isoc_ci_in_h: HTTP 200 but the body is an HTML page"):
        client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert len(eurostat_server.requests) == 2  # the earlier good one and the HTML one; no retry
    assert snapshot(raw_dir) == previous[1]


def test_unknown_dataset_fails_at_once_with_eurostats_message(client, eurostat_server, sleeps, raw_dir):
    with pytest.raises(EurostatHTTPError) as err:
        client.fetch_dataset("nope_xx", "jsonstat", raw_dir=raw_dir)
    message = str(err.value)
    assert err.value.status == 404 and err.value.dataset == "nope_xx"
    assert "ERR_NOT_FOUND_4: NOPE_XX is not available for dissemination." in message
    assert "/statistics/1.0/data/nope_xx" in message
    assert len(eurostat_server.requests) == 1 and sleeps.calls == []
    assert not raw_dir.exists()


# ---------------------------------------------------------------- asynchronous extractions

def test_async_flow_submitted_processing_available_then_data(client, eurostat_server, sleeps, raw_dir, shared_data):
    eurostat_server.add_fault(Fault.asynchronous(polls=2))
    stored = client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)

    kinds = [r.kind for r in eurostat_server.requests]
    assert kinds == ["sdmx21", "async-status", "async-status", "async-status", "async-data"]
    key = eurostat_server.requests[-1].path.rsplit("/", 1)[1]
    assert all(r.path.endswith("/" + key) for r in eurostat_server.requests[1:])
    assert gzip.decompress(stored.path.read_bytes()) == recorded(shared_data, "isoc_ci_in_h.tsv")
    assert stored.meta["async_key"] == key
    assert stored.meta["url"].endswith("/sdmx/2.1/data/isoc_ci_in_h?format=TSV&compressed=true")
    assert stored.meta["async_data_url"].endswith("/1.0/async/data/" + key)
    assert sleeps.calls == [1.5, 1.5, 1.5]  # the polling interval, once per status poll


def test_async_extraction_that_expires_is_a_clear_error(client, eurostat_server, raw_dir):
    eurostat_server.add_fault(Fault.asynchronous(polls=1, final_status="EXPIRED"))
    with pytest.raises(AsyncExtractionError, match="isoc_ci_in_h.*ended with status EXPIRED"):
        client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)
    assert not raw_dir.exists()


def test_async_extraction_that_never_finishes_stops_after_the_polling_budget(client, eurostat_server, raw_dir):
    eurostat_server.add_fault(Fault.asynchronous(polls=1000))
    with pytest.raises(AsyncExtractionError, match="not AVAILABLE after 5 polls"):
        client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)
    assert len(eurostat_server.requests_of("async-status")) == 5
    assert eurostat_server.requests_of("async-data") == []


def test_async_extraction_available_on_the_last_allowed_poll_is_fetched(client, eurostat_server, raw_dir):
    eurostat_server.add_fault(Fault.asynchronous(polls=4))  # 4 x PROCESSING, AVAILABLE at poll 5 of 5
    stored = client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)
    assert stored.meta["async_key"]
    assert len(eurostat_server.requests_of("async-status")) == 5


def test_a_transient_503_while_polling_is_retried(client, eurostat_server, raw_dir):
    eurostat_server.add_fault(Fault.asynchronous(polls=1), Fault.unavailable(on="async-status"))
    stored = client.fetch_dataset("isoc_ci_in_h", "tsv", raw_dir=raw_dir)
    assert stored.meta["async_key"]
    assert [r.kind for r in eurostat_server.requests] == [
        "sdmx21", "async-status", "async-status", "async-status", "async-data"]


def test_statistics_api_asynchronous_warning_is_retried_until_the_data_comes(client, eurostat_server, sleeps,
                                                                             raw_dir, shared_data):
    eurostat_server.add_fault(Fault.statistics_async(times=2))
    stored = client.fetch_dataset("isoc_ci_in_h", "jsonstat", IN_H_FILTERS, raw_dir=raw_dir)
    assert stored.path.read_bytes() == recorded(shared_data, "isoc_ci_in_h.json")
    assert len(eurostat_server.requests) == 3
    assert sleeps.calls == [1.5, 1.5]
