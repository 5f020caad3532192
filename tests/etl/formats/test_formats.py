"""The helpers every decoder shares (etl/formats/__init__.py)."""
import numpy as np
import pandas as pd

from etl.formats import coded_column


def test_coded_text_sorts_compares_and_lists_as_the_str_column():
    """coded_column keeps each distinct string once; sorting, comparing and listing give what the str column gives."""
    categories = ["LV", "EE", "EU27_2020", "DE"]
    codes = np.array([0, 1, 0, 3, 2, 1], dtype=np.int32)
    coded = pd.Series(coded_column(codes, categories))
    text = pd.Series([categories[c] for c in codes], dtype="str")
    assert coded.tolist() == text.tolist()
    assert coded.sort_values(kind="stable").tolist() == text.sort_values(kind="stable").tolist()
    assert (coded == "EE").tolist() == (text == "EE").tolist()
    assert list(coded.cat.categories) == sorted(categories)
