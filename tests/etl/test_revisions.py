"""The revision report: a value altered in a copy of a recorded file is listed by the refresh and `dsm changes`."""
from __future__ import annotations

import csv
import io
import json

from etl.refresh import refresh
from tests.etl.test_checks import alter, recorded_copy  # noqa: F401 (recorded_copy: fixture)
from tests.etl.test_cli import dsm
from tests.etl.test_live_refresh import rows


def set_value(geo: str, year: str, value: float):
    """A change for alter(): one JSON-stat cell of the copied isoc_ci_in_h.json set to value."""
    def change(doc):
        geos, times = doc["dimension"]["geo"]["category"]["index"], doc["dimension"]["time"]["category"]["index"]
        doc["value"][str(geos[geo] * len(times) + times[year])] = value
    return change


def test_one_altered_value_is_the_one_revision(recorded_copy):
    folder, data_dir = recorded_copy
    old = rows(data_dir, "SELECT value FROM indicator_values WHERE geo = 'EE' AND period = '2023'")[0][0]
    alter(folder, set_value("EE", "2023", 95.5))
    report = refresh(offline=folder, data_dir=data_dir)
    assert report.changes == [("isoc_ci_in_h", "households_internet_access", "revised", 1)]
    assert rows(data_dir, "SELECT run_id, geo, period, change, old_value, new_value FROM revisions") == \
        [(report.run_id, "EE", "2023", "revised", old, 95.5)]


def test_first_build_lists_nothing_and_history_is_kept(recorded_copy):
    folder, data_dir = recorded_copy
    assert rows(data_dir, "SELECT count(*) FROM revisions")[0][0] == 0
    alter(folder, set_value("EE", "2023", 95.5))
    first = refresh(offline=folder, data_dir=data_dir)
    alter(folder, set_value("LV", "2023", 12.5))
    second = refresh(offline=folder, data_dir=data_dir)
    # Two runs can start in the same second, so run ids are compared as a mapping, not in their text order.
    assert dict(rows(data_dir, "SELECT run_id, geo FROM revisions")) == {first.run_id: "EE", second.run_id: "LV"}
    assert rows(data_dir, "SELECT count(*) FROM revisions")[0][0] == 2


def test_removed_and_added_cells_are_listed(recorded_copy):
    folder, data_dir = recorded_copy

    def move(doc):
        key = next(k for k, v in doc["value"].items() if v is not None)
        empty = next(i for i in range(len(doc["value"]) * 2) if str(i) not in doc["value"])
        doc["value"][str(empty)] = 1.0  # a cell that had no value now has one
        doc["value"].pop(key)
        doc.get("status", {}).pop(key, None)
    alter(folder, move)
    report = refresh(offline=folder, data_dir=data_dir)
    assert sorted(change for _, _, change, _ in report.changes) == ["added", "removed"]


def test_dsm_refresh_prints_the_summary_and_dsm_changes_lists_the_cell(recorded_copy):
    folder, data_dir = recorded_copy
    alter(folder, set_value("EE", "2023", 95.5))
    done = dsm("refresh", "--offline", str(folder), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "what changed against the replaced database: 0 cells added, 0 removed, 1 revised" in done.stdout
    assert "isoc_ci_in_h households_internet_access: 1 revised" in done.stdout
    listed = dsm("changes", "--dataset", "isoc_ci_in_h", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    assert ": 0 cells added, 0 removed, 1 revised" in listed.stdout
    line = next(line for line in listed.stdout.splitlines() if line.startswith("isoc_ci_in_h"))
    assert line.split()[2:] == ["EE", "2023", "revised", "93.22", "95.5"]
    table = list(csv.DictReader(io.StringIO(dsm("changes", "--csv", data_dir=data_dir).stdout)))
    assert [(r["geo"], r["period"], float(r["new_value"])) for r in table] == [("EE", "2023", 95.5)]
    unknown = dsm("changes", "--run", "nope", data_dir=data_dir)
    assert unknown.returncode == 2 and "no refresh run 'nope'" in unknown.stderr
    assert json.loads((data_dir / "refresh_runs.json").read_text())[-1]["status"] == "success"
