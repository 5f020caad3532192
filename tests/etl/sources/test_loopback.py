"""The loopback Eurostat itself answers the real paths the way the recordings say (so other tests can trust it)."""
from __future__ import annotations

import gzip
import json

import requests

from tests.loopback import Fault, start_server

API = "/eurostat/api/dissemination"


def test_sdmx21_json_serves_the_compressed_recording_as_is(eurostat_server, shared_data):
    answer = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/data/isoc_e_dii",
                          params={"compressed": "true", "format": "JSON", "lang": "en"}, timeout=5)
    assert answer.status_code == 200
    assert answer.content == next(shared_data.rglob("isoc_e_dii_all.json.gz")).read_bytes()


def test_unknown_dataset_gets_eurostats_json_error(eurostat_server):
    answer = requests.get(eurostat_server.base_url + API + "/statistics/1.0/data/zz_nothing?format=JSON", timeout=5)
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
        first = requests.get(url.format("isoc_ci_in_h"), timeout=5)
        second = requests.get(url.format("isoc_e_dii"), timeout=5)
        third = requests.get(url.format("isoc_e_dii"), timeout=5)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    assert second.status_code == 503
    assert third.status_code == 200 and json.loads(third.content)["class"] == "dataset"


def test_tsv_is_compressed_on_the_fly(eurostat_server, shared_data):
    answer = requests.get(eurostat_server.base_url + API + "/sdmx/2.1/data/tin00074?format=TSV&compressed=true",
                          timeout=5)
    assert gzip.decompress(answer.content) == next(shared_data.rglob("tin00074.tsv")).read_bytes()
