"""Checks before publishing, against the loopback Eurostat and altered copies of recorded files: refused bodies
change nothing (the numbers before and after are equal)."""
from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from etl import checks
from etl.refresh import RefreshError, read_runs, refresh
from tests.etl.test_live_refresh import LIVE, fast_client, rows, server, snapshot  # noqa: F401 (server: fixture)
from tests.loopback import Fault

VALUES = "SELECT indicator, geo, period, value, flags FROM indicator_values ORDER BY ALL"


@pytest.fixture
def live_dir(server, tmp_path):
    """A data dir after one good live refresh of three datasets, and the numbers it publishes."""
    data_dir = tmp_path / "data"
    refresh(only=LIVE, data_dir=data_dir, client=fast_client())
    return data_dir


def refused(data_dir, **kw) -> RefreshError:
    """The error of a refresh that must fail, after checking it changed nothing published."""
    before, numbers = snapshot(data_dir), rows(data_dir, VALUES)
    with pytest.raises(RefreshError) as caught:
        refresh(data_dir=data_dir, client=fast_client(), force=True, **kw)
    assert snapshot(data_dir) == before
    assert rows(data_dir, VALUES) == numbers
    assert read_runs(data_dir)[-1]["status"] == "failed"
    return caught.value


def test_extra_dimension_of_two_categories_is_refused_naming_it(live_dir, server):
    server.add_fault(Fault.extra_dimension("extra", times=5, dataset="isoc_ci_in_h"))
    err = refused(live_dir, only=LIVE)
    assert err.dataset == "isoc_ci_in_h"
    assert "unexpected dimension extra with 2 categories (A, B)" in str(err)


def test_extra_dimension_on_a_first_load_is_refused_as_two_values_per_cell(server, tmp_path):
    server.add_fault(Fault.extra_dimension("extra", times=5, dataset="isoc_ci_in_h"))
    with pytest.raises(RefreshError) as caught:
        refresh(only=["isoc_ci_in_h"], data_dir=tmp_path / "data", client=fast_client())
    message = str(caught.value)
    assert "indicator households_internet_access has 2 values for" in message
    assert "extra=A" in message and "extra=B" in message
    assert not (tmp_path / "data" / "dsm.duckdb").exists()


def test_missing_unit_dimension_is_refused(live_dir, server):
    server.add_fault(Fault.drop_dimension("unit", times=5, dataset="isoc_ci_in_h"))
    err = refused(live_dir, only=LIVE)
    assert err.dataset == "isoc_ci_in_h" and "expected dimension unit is missing" in str(err)


def test_keep_going_publishes_the_rest_and_keeps_the_failed_dataset(live_dir, server):
    kept = rows(live_dir, "SELECT geo, period, value, flags FROM indicator_values WHERE indicator = 'internet_use' ORDER BY ALL")
    server.add_fault(Fault.unavailable(times=10, dataset="isoc_ci_ifp_iu"))
    report = refresh(only=LIVE, data_dir=live_dir, client=fast_client(), force=True, keep_going=True)
    assert set(report.failed) == {"isoc_ci_ifp_iu"} and "HTTP 503" in report.failed["isoc_ci_ifp_iu"]
    assert report.rebuilt == ["isoc_ci_in_h", "tin00074"]
    assert rows(live_dir, "SELECT geo, period, value, flags FROM indicator_values WHERE indicator = 'internet_use' ORDER BY ALL") == kept
    last = read_runs(live_dir)[-1]
    assert last["status"] == "partial" and last["datasets_failed"] == ["isoc_ci_ifp_iu"]
    assert rows(live_dir, "SELECT status, datasets_failed FROM refresh_runs WHERE run_id = ?", [report.run_id]) == \
        [("partial", ["isoc_ci_ifp_iu"])]


# ---------------------------------------------------------------- altered copies of a recorded file

@pytest.fixture
def recorded_copy(shared_data, tmp_path):
    """A folder holding a copy of the recorded isoc_ci_in_h.json, and a data dir built from it."""
    folder = tmp_path / "recorded"
    folder.mkdir()
    shutil.copy(shared_data / "eurostat" / "jsonstat" / "isoc_ci_in_h.json", folder)
    data_dir = tmp_path / "data"
    refresh(offline=folder, data_dir=data_dir)
    return folder, data_dir


def edit_json(path, change) -> None:
    """Rewrite a JSON file through change(doc), which edits the document in place."""
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def alter(folder, change) -> None:
    """Rewrite the copied JSON-stat body through change(doc)."""
    edit_json(folder / "isoc_ci_in_h.json", change)


def test_share_above_100_is_refused_naming_the_cell(recorded_copy):
    folder, data_dir = recorded_copy
    alter(folder, lambda doc: doc["value"].update({next(iter(doc["value"])): 109.9}))
    err = refused(data_dir, offline=folder)
    assert "unit range: 1 values of unit PC_HH outside [0.0, 100.0]" in str(err) and "= 109.9" in str(err)


def test_loss_of_more_than_5_percent_is_refused_unless_accepted(recorded_copy):
    folder, data_dir = recorded_copy
    before = rows(data_dir, "SELECT count(*) FROM observations")[0][0]

    def drop_tenth(doc):
        for key in list(doc["value"])[::10]:
            doc["value"].pop(key)
            doc.get("status", {}).pop(key, None)
    alter(folder, drop_tenth)
    err = refused(data_dir, offline=folder)
    assert "loss guard" in str(err) and f"of {before} cells" in str(err) and "--accept-loss isoc_ci_in_h" in str(err)
    refresh(offline=folder, data_dir=data_dir, accept_loss=["isoc_ci_in_h"])
    assert rows(data_dir, "SELECT count(*) FROM observations")[0][0] < before * 0.95


def test_unit_ranges_live_in_one_table():
    assert checks.unit_range("PC_IND") == (0.0, 100.0) and checks.unit_range("THS_PER") == (0.0, None)
    assert checks.unit_range("EUR") is None


def test_negative_count_is_refused():
    table = pa.table({"unit": ["THS_PER", "THS_PER"], "value": [3.0, -1.0], "geo": ["EE", "LV"],
                      "period": ["2020", "2020"], "dims": pa.array([[], []], pa.map_(pa.string(), pa.string())),
                      "flags": [None, None], "source_file": ["f.tsv", "f.tsv"]})
    with pytest.raises(checks.CheckFailed, match=r"1 values of unit THS_PER outside \[0.0, inf\]: LV 2020"):
        checks.check_unit_ranges("x", table)
