"""The engine's per-(model, mass, mix) summaries: the same numbers as plain numpy reductions."""

from __future__ import annotations

import numpy as np
import pytest

from zprime_atlas import engine
from zprime_atlas.engine import _count_and_min
from zprime_atlas.models import alpha_r


@pytest.mark.parametrize("n_g", [1, 2, 9, 20])
def test_count_and_min_equal_numpy_reductions(n_g: int) -> None:
    rng = np.random.default_rng(n_g)
    r = 10 ** rng.uniform(-3, 3, (5, 4, 3, n_g))
    r[rng.random(r.shape) < 0.3] = np.nan  # no statement
    r[rng.random(r.shape) < 0.05] = np.inf
    r[0, 0, 0] = np.nan  # a point where the constraint says nothing for any coupling
    excluded = r >= 1.0
    count, low = _count_and_min(r)
    np.testing.assert_array_equal(count, np.count_nonzero(excluded, axis=-1).astype(np.uint8))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(low, np.fmin.reduce(r, axis=-1))
    assert np.isnan(low[0, 0, 0])
    assert count.dtype == np.uint8


def test_summary_store_is_the_reduction_of_the_ratio_store() -> None:
    # Masses outside some constraints' ranges (1 MeV: most searches say nothing there) and inside.
    fam = alpha_r(np.linspace(-1.5, 1.5, 5)[:, None], np.linspace(-2.0, 2.0, 4)[None, :])
    xi = np.array([-0.3, 0.0, 0.2])
    kw = {"xi": xi, "n_g": 7, "progress": False}
    ratio = engine.scan(fam, [0.001, 0.05, 0.3], store="ratio", **kw)
    summary = engine.scan(fam, [0.001, 0.05, 0.3], store="summary", **kw)
    np.testing.assert_array_equal(summary.allowed, ratio.allowed)
    no_band = ~np.isfinite(ratio.g_low) & ~np.isfinite(ratio.g_high)
    for name in ratio.constraint_names:
        r = ratio.ratio(name).astype(np.float64)
        count = np.count_nonzero(r >= 1.0, axis=-1)
        np.testing.assert_array_equal(summary.excluded_count(name), np.where(no_band, 0, count))
        with np.errstate(invalid="ignore"):
            low = np.fmin.reduce(ratio.ratio(name), axis=-1)
        np.testing.assert_array_equal(summary.results[name]["min_ratio"], low)
