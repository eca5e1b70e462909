"""Tests of the shared numerical helpers: solvers, Gauss-Legendre rules, the CSV reader."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas._csv import numeric_table, rows_with_lines
from zprime_atlas._quadrature import gauss_legendre, gauss_legendre_panels
from zprime_atlas.constraints.solve import (
    delta_chi2_critical,
    intervals_by_scan,
    quadratic_exclusion_intervals,
    quadratic_roots,
)


def test_critical_values() -> None:
    assert delta_chi2_critical(0.90) == pytest.approx(2.7055, abs=1e-4)
    assert delta_chi2_critical(0.95) == pytest.approx(1.959964**2, rel=1e-6)
    assert delta_chi2_critical(0.95, one_sided=True) == pytest.approx(delta_chi2_critical(0.90))
    with pytest.raises(ValueError, match="confidence level"):
        delta_chi2_critical(1.5)


def test_quadratic_roots_are_stable_and_handle_the_linear_case() -> None:
    r1, r2 = quadratic_roots(1.0, -1e8, 1.0)  # roots 1e8 and 1e-8: no cancellation
    assert sorted([float(r1), float(r2)]) == pytest.approx([1e-8, 1e8], rel=1e-12)
    r1, r2 = quadratic_roots(0.0, 2.0, -4.0)
    assert float(r1) == 2.0
    assert math.isnan(float(r2))
    r1, r2 = quadratic_roots(1.0, 0.0, 1.0)
    assert math.isnan(float(r1))
    assert math.isnan(float(r2))


@settings(max_examples=60, deadline=None)
@given(
    beta=st.floats(-3, 3),
    gamma=st.floats(0.01, 3),
    a=st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3),
    b=st.floats(-1, 1),
)
def test_quadratic_exclusion_matches_a_scan(beta: float, gamma: float, a: float, b: float) -> None:
    d_lo, d_hi = -0.3, 0.5
    grid = np.geomspace(1e-3, 1e3, 2001)
    pairs = quadratic_exclusion_intervals(beta, gamma, a, b, d_lo, d_hi, 4)
    p = a * grid**2 + b * grid
    s = beta * p + gamma * p * p
    excluded = (s >= d_hi) | (s <= d_lo)
    inside = np.zeros(grid.shape, dtype=bool)
    for lo, hi in pairs:
        inside |= (grid >= float(lo)) & (grid <= float(hi))
    # Agreement away from the edges (a grid point within 1e-6 of an edge may go either way).
    edges = np.array([float(v) for pair in pairs for v in pair if np.isfinite(v)])
    near = np.any(np.abs(grid[:, None] / edges[None, :] - 1) < 1e-6, axis=1) if edges.size else False
    assert np.array_equal(excluded | near, inside | near)


def test_quadratic_exclusion_agrees_with_the_generic_scan() -> None:
    beta, gamma, a = np.array([-2.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, 1.0])

    def ratio_of_g(g: np.ndarray) -> np.ndarray:
        s = beta * (a * g * g) + gamma * (a * g * g) ** 2
        return np.maximum(s / 0.5, s / -0.3)

    closed = quadratic_exclusion_intervals(beta, gamma, a, 0.0, -0.3, 0.5, 2)
    scanned = intervals_by_scan(ratio_of_g, (2,), np.geomspace(1e-3, 1e3, 1201), max_intervals=2)
    for (lo_c, hi_c), (lo_s, hi_s) in zip(closed, scanned, strict=True):
        np.testing.assert_allclose(lo_c, lo_s, rtol=1e-9)
        np.testing.assert_allclose(hi_c, hi_s, rtol=1e-9)


def test_gauss_legendre_rules() -> None:
    x, w = gauss_legendre(5, 0.0, 2.0)
    assert float(np.sum(w * x**9)) == pytest.approx(2.0**10 / 10, rel=1e-13)
    xa, wa = gauss_legendre(4, np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    assert xa.shape == (2, 4)
    np.testing.assert_allclose(np.sum(wa * xa**2, axis=-1), [1 / 3, 26 / 3], rtol=1e-13)
    xp, wp = gauss_legendre_panels(np.array([0.0, 1.0, 4.0]), 3)
    assert xp.shape == (6,)
    assert float(np.sum(wp * xp**5)) == pytest.approx(4.0**6 / 6, rel=1e-12)


def test_commented_csv_reader() -> None:
    text = "# provenance\n\n  # indented comment\nm_GeV, R\n0.1, 0\n# between\n0.2,1.5\n"
    rows = rows_with_lines(text)
    assert rows == [(4, ["m_GeV", "R"]), (5, ["0.1", "0"]), (7, ["0.2", "1.5"])]
    np.testing.assert_array_equal(numeric_table(text, "t", "m_GeV,R"), [[0.1, 0.0], [0.2, 1.5]])
    with pytest.raises(ValueError, match="expected the header row 'x,y'"):
        numeric_table(text, "t", "x,y")
    with pytest.raises(ValueError, match="line 2: expected 2 columns"):
        numeric_table("a,b\n1\n", "t")
    with pytest.raises(ValueError, match="line 2: a field is not a number"):
        numeric_table("a,b\n1,x\n", "t")
