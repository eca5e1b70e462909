"""Every excluded interval, against a brute-force scan of r (issue 14, item 4).

The closed forms (COHERENT, Borexino, tridents) and the refined scan of
:func:`~zprime_atlas.constraints.solve.intervals_by_scan` must find every sign change of r - 1:
the union of the returned intervals is compared with r >= 1 on 20000 log-spaced couplings per
point, for eps = 0 (fixed), eps proportional to g_X and fixed non-zero eps, in models and masses
with re-allowed windows and excluded islands.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from zprime_atlas.constraints.borexino import Borexino
from zprime_atlas.constraints.coherent import CoherentCsI2017
from zprime_atlas.constraints.solve import (
    intervals_by_scan,
    polynomial_exclusion_intervals,
    polynomial_roots,
)
from zprime_atlas.constraints.trident import CCFRTrident, CHARM2Trident
from zprime_atlas.models import Model, model

G_FINE = np.geomspace(1e-10, 1e3, 20000)  # 6.5e-4 decades per step
#: A B+L-like model: destructive interference with the SM weak charge in CEvNS.
B_PLUS_L = Model({"u": 1 / 3, "d": 1 / 3, "nu_e": 1, "nu_mu": 1, "nu_tau": 1, "e": 1, "mu": 1, "tau": 1})
UNIVERSAL = Model({"u": 1, "d": 1, "nu_e": 1, "nu_mu": 1})
MIXINGS = [{"eps": 0.0}, {"eps": 1e-4}, {"eps": -3e-3}, {"eps": 3e-3}, {"eps_over_g": -0.5}]
MODELS = {"B+L": B_PLUS_L, "B-L": model("B-L"), "universal": UNIVERSAL, "Lmu-Ltau": model("Lmu-Ltau")}


@pytest.fixture(scope="module")
def constraints() -> dict:
    return {
        "coherent": CoherentCsI2017(),
        "borexino": Borexino(),
        "ccfr": CCFRTrident(),
        "charm2": CHARM2Trident(),
    }


def _mismatch(c, m: np.ndarray, mod: Model, kw: dict) -> tuple[int, int]:
    """(grid points where the intervals disagree with r >= 1 away from an edge, sign changes seen)."""
    intervals = c.excluded_intervals(m, mod, **kw)
    excluded = c.ratio(m[:, None], G_FINE[None, :], mod, **kw) >= 1.0
    inside = np.zeros_like(excluded)
    edges = []
    for lo, hi in intervals:
        inside |= (lo[:, None] <= G_FINE) & (hi[:, None] >= G_FINE)
        edges += [lo, hi]
    e = np.stack(edges, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.any(np.abs(np.log(G_FINE[None, :, None] / e[:, None, :])) < 2e-3, axis=2)
    changes = int(np.sum(np.diff(excluded.astype(int), axis=1) != 0))
    return int(np.sum((excluded != inside) & ~near)), changes


@pytest.mark.parametrize("kw", MIXINGS, ids=lambda kw: f"{next(iter(kw))}={next(iter(kw.values()))}")
@pytest.mark.parametrize("name", ["coherent", "borexino", "ccfr", "charm2"])
def test_intervals_match_a_brute_force_scan(constraints: dict, name: str, kw: dict) -> None:
    c = constraints[name]
    m = np.geomspace(1e-3, 10.0, 7) if name in ("coherent", "borexino") else np.geomspace(1e-2, 100, 7)
    seen = 0
    for mod in MODELS.values():
        bad, changes = _mismatch(c, m, mod, kw)
        assert bad == 0
        seen += changes
    assert seen > 0


def test_coherent_eps_zero_keeps_the_destructive_window(constraints: dict) -> None:
    # The case of issue 14: eps = 0 (fixed) went through the coarse scan and lost the narrow
    # re-allowed window at 36 of 60 masses; it must agree with eps_over_g = 0 (closed form in g^2).
    c = constraints["coherent"]
    m = np.geomspace(1e-3, 10.0, 60)
    fixed = c.excluded_intervals(m, B_PLUS_L, eps=0.0)
    ratio = c.excluded_intervals(m, B_PLUS_L, eps_over_g=0.0)
    for (lo_f, hi_f), (lo_r, hi_r) in zip(fixed, ratio, strict=False):
        np.testing.assert_allclose(lo_f, lo_r, rtol=1e-9)
        np.testing.assert_allclose(hi_f, hi_r, rtol=1e-9)
    assert np.all(np.isfinite(fixed[0][1]))  # a window at every mass
    i = int(np.argmin(np.abs(m - 7.5)))
    assert fixed[0][1][i] < fixed[1][0][i]
    assert c.ratio(m[i], math.sqrt(fixed[0][1][i] * fixed[1][0][i]), B_PLUS_L, eps=0.0) < 1.0


def test_coherent_fixed_eps_can_need_four_intervals(constraints: dict) -> None:
    # B-L with eps = -3e-3 at 1 MeV: N crosses both thresholds on each branch (seven sign changes).
    c = constraints["coherent"]
    intervals = c.excluded_intervals(np.array([1e-3, 1.0]), model("B-L"), eps=-3e-3)
    assert len(intervals) == 4
    assert np.isfinite(intervals[3][0][0])
    assert np.isinf(intervals[3][0][1])  # the heavy point needs fewer: padded


def test_refined_scan_finds_sub_cell_windows() -> None:
    # A re-allowed window and an excluded island each ~0.01 decades wide (2% in g), far narrower
    # than one cell of the default grid (0.1 decades), off the grid points, at two points at once;
    # the smooth background puts one extremum of r in the two cells around each.
    centre = np.array([-4.03, -2.47])

    def ratio(g: np.ndarray) -> np.ndarray:
        x = np.log10(g)
        dip = (1.2 + 0.1 * (x - centre) ** 2) * (1.0 - 0.5 * np.exp(-(((x - centre) / 0.005) ** 2)))
        bump = 0.9 - 0.1 * (x - centre - 3.0) ** 2 + 0.5 * np.exp(-(((x - centre - 3.0) / 0.005) ** 2))
        return np.where(x < centre + 1.5, dip, bump)

    coarse = intervals_by_scan(ratio, (2,), max_intervals=3, refine=False)
    refined = intervals_by_scan(ratio, (2,), max_intervals=3)
    assert np.all(np.isinf(coarse[1][0]))  # the plain grid sees one interval only
    (lo1, hi1), (lo2, hi2), (lo3, hi3) = refined
    np.testing.assert_array_equal(lo1, 0.0)
    assert np.all(hi1 < 10.0**centre)
    assert np.all(lo2 > 10.0**centre)
    np.testing.assert_allclose(hi2, 10.0 ** (centre + 1.5), rtol=1e-9)
    assert np.all((lo3 < 10.0 ** (centre + 3)) & (10.0 ** (centre + 3) < hi3))
    for edge in (hi1, lo2, lo3, hi3):
        np.testing.assert_allclose(ratio(edge), 1.0, rtol=1e-9)


def test_polynomial_roots_over_many_decades() -> None:
    # (x - 1e-6)(x - 3)(x + 2)(x - 5e4) and a quadratic (degree drops) in one batch.
    quartic = np.polynomial.polynomial.polyfromroots([1e-6, 3.0, -2.0, 5e4])
    quadratic = np.array([2.0, -3.0, 1.0, 0.0, 0.0])  # (x - 1)(x - 2)
    roots = polynomial_roots(np.stack([quartic, quadratic], axis=1))
    np.testing.assert_allclose(np.sort(roots[0]), [-2.0, 1e-6, 3.0, 5e4], rtol=1e-10)
    np.testing.assert_allclose(np.sort(roots[1][np.isfinite(roots[1])]), [1.0, 2.0], rtol=1e-12)


def test_polynomial_intervals_match_quartic_scan() -> None:
    rng = np.random.default_rng(7)
    coeffs = rng.normal(size=(4, 200))
    pairs = polynomial_exclusion_intervals(list(coeffs), -0.3, 0.5, 4)
    grid = np.geomspace(1e-3, 1e3, 20001)
    s = sum(coeffs[k][:, None] * grid ** (k + 1) for k in range(4))
    excluded = (s >= 0.5) | (s <= -0.3)
    inside = np.zeros_like(excluded)
    for lo, hi in pairs:
        inside |= (grid >= lo[:, None]) & (grid <= hi[:, None])
    edges = np.stack([v for pair in pairs for v in pair], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.any(np.abs(np.log(grid[None, :, None] / edges[:, None, :])) < 1e-3, axis=2)
    assert not np.any((excluded != inside) & ~near)
