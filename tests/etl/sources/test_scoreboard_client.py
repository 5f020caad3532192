"""The Digital Scoreboard live client against the loopback answering the API's documented paths and bodies."""
from __future__ import annotations

import csv
import io
import json

import pytest

from etl.sources import scoreboard
from etl.sources.eurostat import EurostatHTTPError, EurostatUnavailable
from etl.sources.scoreboard import ScoreboardClient
from tests.loopback import Fault

BASE = "https://digital-decade-desi.digital-strategy.ec.europa.eu"
CSV_HEADER = "period,country,indicator,breakdown,unit,value,flags,reference_period,remarks"


@pytest.fixture
def sb_client(eurostat_server, sleeps) -> ScoreboardClient:
    """The scoreboard client pointed at the loopback."""
    return ScoreboardClient(base_url=eurostat_server.base_url, timeout=(2, 5), max_retries=2, sleep=sleeps)


def export_facts(shared_data) -> list[dict]:
    """The recorded export's facts, read independently of the server."""
    return [r["fields"] for r in json.loads(next(shared_data.rglob("digital_decade_2026_facts.json")).read_bytes())]


def test_urls_are_the_documented_ones():
    assert scoreboard.chart_group_url(BASE, "dd-trajectories") == BASE + "/api/v1/chart-groups/dd-trajectories/facts/"
    assert scoreboard.facts_url(BASE, indicator="desi_dsk_bab", country="EE") == (
        BASE + "/api/v1/facts/?indicator=desi_dsk_bab&country=EE")
    assert scoreboard.indicators_url(BASE, "desi") == BASE + "/api/v1/indicators/?chart_group=desi&format=csv"
    with pytest.raises(ValueError):
        scoreboard.chart_group_url(BASE, "../x")
    with pytest.raises(ValueError):
        scoreboard.facts_url(BASE, value="1")


def test_default_base_url_is_configurable(monkeypatch):
    assert ScoreboardClient().base_url == BASE
    monkeypatch.setenv("DSM_SCOREBOARD_URL", "http://127.0.0.1:9/")
    assert ScoreboardClient().base_url == "http://127.0.0.1:9"


def test_loopback_answers_the_chart_group_csv_as_documented(eurostat_server, sb_client, shared_data):
    answer = sb_client.get(scoreboard.chart_group_url(eurostat_server.base_url, "desi"), "digital_decade")
    text = answer.body.decode()
    assert text.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(export_facts(shared_data))


def test_indicator_codes_of_a_group(sb_client, shared_data):
    codes = sb_client.indicator_codes("desi")
    assert codes == sorted({f["indicator"][0] for f in export_facts(shared_data)})


def test_unknown_group_is_a_clear_4xx(sb_client, sleeps):
    with pytest.raises(EurostatHTTPError, match="HTTP 404"):
        sb_client.fetch_group("no-such-group")
    assert sleeps.calls == []


def test_a_scoreboard_outage_is_retried_then_unavailable(eurostat_server, sb_client, tmp_path):
    eurostat_server.add_fault(Fault.unavailable(times=10, dataset="digital_decade"))
    with pytest.raises(EurostatUnavailable, match="unavailable: gave up after 3 attempts: HTTP 503"):
        sb_client.fetch_group("desi", raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_chart_group_facts_are_decoded_by_the_fact_reader_and_stored(sb_client, shared_data, tmp_path):
    stored, definitions = sb_client.fetch_dataset(raw_dir=tmp_path / "raw")
    assert stored.path.name == "digital_decade_desi.csv" and stored.meta["chart_group"] == "desi"
    values = [f["value"] for f in export_facts(shared_data) if f["value"] is not None]
    assert len(stored.decoded.observations) == len(values)
    assert definitions.path.name == "digital_decade_indicators_desi.csv" and len(definitions.decoded.observations) == 0
    labelled = {code for dimension, code, _label in definitions.decoded.labels if dimension == "scoreboard_indicator"}
    assert labelled == {f["indicator"][0] for f in export_facts(shared_data)}


def test_facts_query_answers_a_json_list(sb_client, shared_data):
    decoded = sb_client.facts(indicator="desi_dsk_bab", country="EU")
    expected = [f for f in export_facts(shared_data) if f["indicator"] == ["desi_dsk_bab"] and f["country"] == ["EU"]
                and f["value"] is not None]
    assert len(decoded.observations) == len(expected) > 0
