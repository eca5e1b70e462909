"""Solar nu_e survival with matter effects and diagonal NSI: limits, a 3x3 check, the solar model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zprime_atlas.solar import (
    potential_cc,
    production_points,
    standard_solar_model,
    survival_probability,
)

TH12, TH13, TH23, DM21, DM31 = 0.59, 0.149, 0.83, 7.58e-5, 2.47e-3


def _three_flavour(E: float, ne: float, d_e: float, d_tau: float) -> float:
    """Adiabatic P_ee from the full 3x3 Hamiltonian (independent of the two-flavour reduction)."""
    c12, s12 = math.cos(TH12), math.sin(TH12)
    c13, s13 = math.cos(TH13), math.sin(TH13)
    c23, s23 = math.cos(TH23), math.sin(TH23)
    r23 = np.array([[1, 0, 0], [0, c23, s23], [0, -s23, c23]])
    u13 = np.array([[c13, 0, s13], [0, 1, 0], [-s13, 0, c13]])
    r12 = np.array([[c12, s12, 0], [-s12, c12, 0], [0, 0, 1]])
    u = r23 @ u13 @ r12
    v = float(potential_cc(ne))
    h = u @ np.diag([0, DM21, DM31]) @ u.T * 1e-18 / (2 * E) + v * np.diag([1 + d_e, 0, d_tau])
    _, vec = np.linalg.eigh(h)  # eigenvalues ascending: matter state i -> mass state i adiabatically
    return float(np.sum(vec[0, :] ** 2 * u[0, :] ** 2))


@pytest.mark.parametrize("E", [3e-4, 1e-3, 8e-3, 1.5e-2])
@pytest.mark.parametrize(("d_e", "d_tau"), [(0, 0), (0.3, 0), (-0.3, 0), (0, 0.5), (0.5, 1), (-1.5, 0)])
def test_two_flavour_reduction_matches_three_flavour(E, d_e, d_tau) -> None:
    p = survival_probability(E, 100.0, TH12, TH13, TH23, DM21, d_e, d_tau, DM31)
    assert float(p) == pytest.approx(_three_flavour(E, 100.0, d_e, d_tau), abs=3e-3)


def test_standard_lma_limits() -> None:
    # No NSI: vacuum averaging at low energy, the adiabatic high-density limit at high energy.
    s2 = math.sin(2 * TH12) ** 2
    c13, s13 = math.cos(TH13), math.sin(TH13)
    low = survival_probability(1e-7, 100.0, TH12, TH13, TH23, DM21, dm31_ev2=DM31)
    assert float(low) == pytest.approx(c13**4 * (1 - 0.5 * s2) + s13**4, rel=1e-4)
    # High energy (k << V): nu_e is born as nu_2, P_ee -> sin^2 theta12 (theta13 = 0 here: with
    # theta13 the 1-3 resonance takes over above ~0.2 GeV in the solar core).
    high = survival_probability(0.1, 100.0, TH12, 0.0, TH23, DM21, dm31_ev2=DM31)
    assert float(high) == pytest.approx(math.sin(TH12) ** 2, rel=5e-3)


def test_nsi_equal_to_minus_the_cc_potential_gives_vacuum_oscillations() -> None:
    # D_e = -1 cancels the SM potential in the ee entry: P_ee is the vacuum average at any energy.
    s2 = math.sin(2 * TH12) ** 2
    for E in (1e-3, 1e-2):
        p = survival_probability(E, 100.0, TH12, 0.0, TH23, DM21, d_e=-1.0, dm31_ev2=DM31)
        assert float(p) == pytest.approx(1 - 0.5 * s2, rel=1e-12)


def test_solar_model_table() -> None:
    ssm = standard_solar_model()
    assert ssm.r[0] < 0.001
    assert ssm.r[-1] < 0.5
    assert np.all(np.diff(ssm.r) > 0)
    assert 90 < ssm.ne_na[0] < 115  # n_e at the centre ~ 10^2 N_A cm^-3
    assert 0.4 < ssm.y_n[0] < 0.55  # helium-rich core
    for flux in ("pp", "pep", "be7", "b8"):
        assert ssm.production[flux].sum() == pytest.approx(1.0)
    mean_r = {f: float(np.sum(ssm.r * ssm.production[f])) for f in ("pp", "b8")}
    assert 0.04 < mean_r["b8"] < 0.06 < 0.1 < mean_r["pp"] < 0.13


def test_production_points_average_like_the_full_table() -> None:
    ssm = standard_solar_model()
    for flux, E in (("be7", 0.862e-3), ("b8", 1e-2)):
        full = np.sum(ssm.production[flux] * survival_probability(E, ssm.ne_na, TH12, TH13, TH23, DM21))
        ne, _ = production_points(flux, 8)
        fast = np.mean(survival_probability(E, ne, TH12, TH13, TH23, DM21))
        assert fast == pytest.approx(full, abs=1e-3)
    with pytest.raises(ValueError, match="unknown solar flux 'cno'"):
        production_points("cno")
