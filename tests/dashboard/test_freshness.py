"""'What changed in the last refresh' and staleness: the Data & sources page and the chart source note, called as
plain functions on a data dir whose last refresh revised one recorded value (altered in a copy)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from etl.refresh import refresh
from tests.etl.test_checks import alter, edit_json, recorded_copy  # noqa: F401 (recorded_copy: fixture)
from tests.etl.test_revisions import set_value


@pytest.fixture
def revised(recorded_copy, monkeypatch):
    """A data dir whose last refresh revised EE 2023 to 95.5; DSM_DATA_DIR points at it."""
    from dashboard.data import connection
    folder, data_dir = recorded_copy
    alter(folder, set_value("EE", "2023", 95.5))
    refresh(offline=folder, data_dir=data_dir)
    monkeypatch.setenv("DSM_DATA_DIR", str(data_dir))
    connection.clear_cache()
    yield data_dir
    connection.clear_cache()


def test_last_changes_and_counts(revised):
    from dashboard.data import freshness
    changes = freshness.last_changes()
    assert changes[["geo", "period", "change", "new_value"]].values.tolist() == [["EE", "2023", "revised", 95.5]]
    counts = freshness.change_counts(changes)
    assert counts.to_dict("records") == [{"dataset": "isoc_ci_in_h", "indicator": "households_internet_access",
                                          "added": 0, "removed": 0, "revised": 1}]


def test_sources_page_section_and_csv_download(revised):
    from dashboard.app import app  # noqa: F401 (registers the pages)
    from dashboard.pages import sources
    summary = sources.changes_summary()
    assert "added 0, removed 0, revised 1" in summary.children[0].children
    sent = sources.download_changes(1)
    assert sent["filename"] == "baltic-dsm-changes.csv"
    lines = sent["content"].splitlines()
    assert lines[0].startswith("dataset,indicator,geo,period,change,old_value") and ",EE,2023,revised," in lines[1]


def rewrite_runs(data_dir, change) -> None:
    """Edit the runs log in place (as if the runs had happened at other times or failed)."""
    edit_json(data_dir / "refresh_runs.json", change)


def test_a_dataset_refreshed_long_ago_is_flagged_on_its_chart_source_line(revised):
    from dashboard.data import connection, freshness
    old = (datetime.now(timezone.utc) - timedelta(days=20)).replace(microsecond=0).isoformat()
    rewrite_runs(revised, lambda runs: [run.update(finished_at=old) for run in runs])
    connection.clear_cache()
    note = freshness.source_note("isoc_ci_in_h")
    assert note == f"; checked {old[:10]} — not refreshed since {old[:10]} (older than 14 days)"
    assert freshness.freshness(["isoc_ci_in_h"], now=datetime.fromisoformat(old))["warning"].tolist() == [None]


def test_a_dataset_whose_last_refresh_failed_says_why(revised):
    from dashboard.data import freshness
    from etl.refresh import read_runs
    good = read_runs(revised)[-1]["finished_at"]
    rewrite_runs(revised, lambda runs: runs.append({**runs[-1], "status": "partial", "datasets_failed": ["isoc_ci_in_h"],
                                                   "failures": {"isoc_ci_in_h": "HTTP 503"}}))
    assert freshness.source_note("isoc_ci_in_h").endswith(f"— not refreshed since {good[:10]}: HTTP 503")


def test_the_source_note_speaks_the_language(revised):
    """The chart source note in German: the dates in the locale's style, the stale warning with its plural."""
    from babel.dates import format_date

    from dashboard import i18n
    from dashboard.data import connection, freshness

    old = (datetime.now(timezone.utc) - timedelta(days=20)).replace(microsecond=0)
    rewrite_runs(revised, lambda runs: [run.update(finished_at=old.isoformat()) for run in runs])
    connection.clear_cache()
    with i18n.use("de"):
        note = freshness.source_note("isoc_ci_in_h")
    day = format_date(old.date(), format="medium", locale="de")
    assert note == f"; geprüft am {day} — seit {day} nicht aktualisiert (älter als 14 Tage)"
