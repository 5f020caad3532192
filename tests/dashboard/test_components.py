"""Page components as plain functions: the table view's notation."""
from __future__ import annotations

import pandas as pd

from dashboard.components import data_table


def cells(table) -> list[list[str]]:
    """Body cell texts of an html.Table."""
    return [[td.children for td in tr.children] for tr in table.children[1].children]


def test_table_view_writes_no_flag_as_a_dash_and_a_missing_value_as_a_colon():
    frame = pd.DataFrame({"geo": ["EE", "LV", "LT"], "value": [81.5, float("nan"), 70.0], "flags": [None, "b", ""]})
    assert cells(data_table(frame)) == [["EE", "81.50", "—"], ["LV", ":", "b"], ["LT", "70.00", "—"]]
