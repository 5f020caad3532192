"""The pooled position arrays of the TSV decoder against plain NumPy, across block boundaries."""
from __future__ import annotations

import numpy as np
import pytest

from etl.formats import tsv


@pytest.mark.parametrize("size", [0, 1, tsv.SCAN_BLOCK - 1, tsv.SCAN_BLOCK, tsv.SCAN_BLOCK + 1, 3 * tsv.SCAN_BLOCK + 7])
@pytest.mark.parametrize("density", [0.0, 0.1, 1.0])
def test_pooled_flatnonzero_matches_numpy(size, density):
    rng = np.random.default_rng(size + int(density * 10))
    mask = rng.random(size) < density
    found = tsv.pooled_flatnonzero(mask, 17)
    assert found.dtype == np.int64
    np.testing.assert_array_equal(found, np.flatnonzero(mask) + 17)


def test_pooled_arrays_are_writable_and_independent():
    first, second = tsv.pooled_empty(1000, np.int64), tsv.pooled_empty(1000, np.int64)
    first[:] = 1
    second[:] = 2
    assert first.flags.writeable and (first == 1).all() and (second == 2).all()
    assert len(tsv.pooled_empty(0, bool)) == 0
