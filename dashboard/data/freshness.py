"""What the last refresh changed and how fresh each dataset is: the `revisions` table and the runs log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pandas as pd

from dashboard import i18n
from dashboard.data.connection import cached, query
from dashboard.i18n import _, ngettext
from etl import config
from etl.refresh import read_runs

CHANGE_COLUMNS = ["dataset", "indicator", "geo", "period", "change", "old_value", "old_flags", "new_value", "new_flags"]
CHECKED = ("success", "unchanged", "partial", "failed")  # runs that looked at the source (not running/interrupted)


@cached
def last_changes() -> pd.DataFrame:
    """Cells the refresh that built the database added, removed or revised (empty for a first build)."""
    try:
        return query(f"SELECT {', '.join('r.' + c for c in CHANGE_COLUMNS)} FROM revisions AS r "
                     "JOIN build AS b USING (run_id) ORDER BY r.dataset, r.indicator, r.geo, r.period")
    except duckdb.Error:  # a database built before the revision report
        return pd.DataFrame(columns=CHANGE_COLUMNS)


def change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and indicator: cells added, removed and revised."""
    counts = pd.crosstab([changes["dataset"], changes["indicator"]], changes["change"]) if len(changes) else None
    counts = (counts if counts is not None else pd.DataFrame()).reindex(columns=["added", "removed", "revised"],
                                                                        fill_value=0)
    return counts.reset_index() if len(counts) else pd.DataFrame(columns=["dataset", "indicator", "added", "removed",
                                                                          "revised"])


def freshness(datasets: list[str], now: datetime | None = None) -> pd.DataFrame:
    """Per dataset: last checked, last successful refresh, and a warning when older than DSM_STALE_DAYS or failed."""
    runs = [run for run in read_runs(config.data_dir()) if run.get("status") in CHECKED]
    now = now or datetime.now(timezone.utc)
    limit = timedelta(days=config.stale_after_days())
    rows = []
    for dataset in datasets:
        checked = runs[-1] if runs else None
        good = [run for run in runs if run["status"] in ("success", "unchanged", "partial")
                and dataset not in (run.get("datasets_failed") or [])]
        last_good = good[-1]["finished_at"] if good else None
        failure = None
        if checked and checked["status"] == "failed":
            failure = checked.get("message")
        elif checked and dataset in (checked.get("datasets_failed") or []):
            failure = (checked.get("failures") or {}).get(dataset) or checked.get("message")
        stale = last_good is None or now - datetime.fromisoformat(last_good) > limit
        warning = None
        if failure or (stale and last_good):
            since = i18n.format_date(str(last_good)[:10]) if last_good else _("never")
            warning = (_("not refreshed since {date}: {failure}", date=since, failure=failure) if failure else
                       ngettext("not refreshed since {date} (older than {n} day)",
                                "not refreshed since {date} (older than {n} days)", limit.days, date=since))
        rows.append({"dataset": dataset, "last_checked": str(checked["finished_at"])[:16] if checked else None,
                     "last_refreshed": str(last_good)[:16] if last_good else None, "warning": warning})
    return pd.DataFrame(rows, columns=["dataset", "last_checked", "last_refreshed", "warning"])


def source_note(dataset: str | None) -> str:
    """What a chart's source line adds: when the source was last checked, and a warning when it is stale."""
    if not dataset or "," in dataset:
        return ""
    row = freshness([dataset]).iloc[0]
    note = "; " + _("checked {date}", date=i18n.format_date(row["last_checked"][:10])) if row["last_checked"] else ""
    return note + (f" — {row['warning']}" if row["warning"] else "")
