"""The loopback Eurostat itself answers the real paths the way the recordings say (so other tests can trust it)."""
from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET

import requests

from tests.loopback import Fault, start_server

API = "/eurostat/api/dissemination"
PLAIN = {"Accept-Encoding": "identity"}
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
EXTRACTION = "http://estat.ec.europa.eu/disschain/soap/extraction"
SOAP_ASYNC = "http://estat.ec.europa.eu/disschain/soap/asynchronous"
ASYNC = "http://estat.ec.europa.eu/disschain/asynchronous"


def test_sdmx21_json_serves_the_compressed_recording_as_is(eurostat_server, shared_data):
    answer = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/data/isoc_e_dii",
                          params={"compressed": "true", "format": "JSON", "lang": "en"}, timeout=5)
    assert answer.status_code == 200
    assert answer.content == next(shared_data.rglob("isoc_e_dii_all.json.gz")).read_bytes()


def test_unknown_dataset_gets_eurostats_json_error(eurostat_server):
    answer = requests.get(eurostat_server.base_url + API + "/statistics/1.0/data/zz_nothing?format=JSON", timeout=5,
                          headers=PLAIN)
    assert answer.status_code == 404
    (error,) = answer.json()["error"]
    assert error["status"] == 404 and "ZZ_NOTHING" in error["label"]


def test_requests_are_recorded_with_path_and_query(eurostat_server):
    requests.get(eurostat_server.base_url + API + "/sdmx/3.0/data/dataflow/ESTAT/isoc_ci_cm_h/1.0/"
                 "?lang=EN&format=JSON&c[hhtyp]=A2", timeout=5)
    (seen,) = eurostat_server.requests
    assert seen.kind == "sdmx3" and seen.dataset == "isoc_ci_cm_h"
    assert seen.query == {"lang": ["EN"], "format": ["JSON"], "c[hhtyp]": ["A2"]}


def test_faults_apply_in_order_and_only_to_their_dataset(shared_data):
    with start_server(shared_data, faults=[Fault.unavailable(dataset="isoc_e_dii"), Fault.html()]) as server:
        url = server.base_url + API + "/statistics/1.0/data/{}?format=JSON"
        first = requests.get(url.format("isoc_ci_in_h"), timeout=5, headers=PLAIN)
        second = requests.get(url.format("isoc_e_dii"), timeout=5, headers=PLAIN)
        third = requests.get(url.format("isoc_e_dii"), timeout=5, headers=PLAIN)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    assert second.status_code == 503
    assert third.status_code == 200 and json.loads(third.content)["class"] == "dataset"


def test_tsv_is_compressed_on_the_fly(eurostat_server, shared_data):
    answer = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/data/tin00074?format=TSV&compressed=true",
                          timeout=5)
    assert gzip.decompress(answer.content) == next(shared_data.rglob("tin00074.tsv")).read_bytes()


def test_a_client_accepting_gzip_gets_gzip_without_a_content_encoding_header(eurostat_server, shared_data):
    # What the Commission's importer works around by asking for identity.
    answer = requests.get(eurostat_server.base_url + API + "/statistics/1.0/data/isoc_ci_in_h?format=JSON",
                          timeout=5, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in answer.headers
    assert gzip.decompress(answer.content) == next(shared_data.rglob("isoc_ci_in_h.json")).read_bytes()


def test_dataflow_states_update_data_gzipped_when_compressed(eurostat_server):
    eurostat_server.update_dates["tin00074"] = "2031-02-03T11:00:00+0100"
    answer = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/dataflow/ESTAT/tin00074",
                          params={"format": "JSON", "compressed": "true", "lang": "en"}, timeout=5, headers=PLAIN)
    doc = json.loads(gzip.decompress(answer.content))
    assert {"type": "UPDATE_DATA", "date": "2031-02-03T11:00:00+0100"} in doc["extension"]["annotation"]
    missing = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/dataflow/ESTAT/zz_nothing", timeout=5,
                           headers=PLAIN)
    assert missing.status_code == 404


def test_async_answers_use_the_documented_envelopes(eurostat_server):
    eurostat_server.add_fault(Fault.asynchronous(polls=1))
    first = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/data/tin00074?format=TSV", timeout=5,
                         headers=PLAIN)
    root = ET.fromstring(first.content)
    key = root.findtext(f"{{{ENV}}}Body/{{{EXTRACTION}}}syncResponse/queued/id")
    assert root.findtext(f"{{{ENV}}}Body/{{{EXTRACTION}}}syncResponse/queued/status") == "SUBMITTED"
    early = requests.get(eurostat_server.base_url + API + f"/1.0/async/data/{key}", timeout=5, headers=PLAIN)
    assert early.status_code == 400 and b"DATA_NOT_YET_AVAILABLE" in early.content
    status_path = f"{{{ENV}}}Body/{{{SOAP_ASYNC}}}asyncResponse/{{{ASYNC}}}status/{{{ASYNC}}}"
    statuses = []
    for _ in range(2):
        answer = requests.get(eurostat_server.base_url + API + f"/1.0/async/status/{key}", timeout=5, headers=PLAIN)
        status = ET.fromstring(answer.content)
        assert status.findtext(status_path + "key") == key
        statuses.append(status.findtext(status_path + "status"))
    assert statuses == ["PROCESSING", "AVAILABLE"]
    data = requests.get(eurostat_server.base_url + API + f"/1.0/async/data/{key}", timeout=5, headers=PLAIN)
    assert data.content[:2] == b"\x1f\x8b"
    unknown = requests.get(eurostat_server.base_url + API + "/1.0/async/status/nope", timeout=5, headers=PLAIN)
    assert unknown.status_code == 400 and b"UNKNOWN_REQUEST" in unknown.content
