"""Neutrino trident (CCFR, CHARM-II): matrix element, tables, ratio, limits vs independent numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas import gm2
from zprime_atlas.constants import ALPHA_EM, E_CHARGE, G_FERMI, HIGGS_VEV, M_MU, SIN2_THETA_W_LOW
from zprime_atlas.constraints import solve as base
from zprime_atlas.constraints import trident
from zprime_atlas.constraints.trident import matrix_element
from zprime_atlas.models import Model, model

CCFR = trident.CCFRTrident()
CHARM2 = trident.CHARM2Trident()
LMU_LTAU = model("Lmu-Ltau")


# --- independent matrix element: traces in the chiral representation --------------------------

_PAULI = [
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
]
_I2, _Z2 = np.eye(2, dtype=complex), np.zeros((2, 2), dtype=complex)
# Weyl (chiral) representation: a different basis from the module's Dirac one; traces agree.
_G = [np.block([[_Z2, _I2], [_I2, _Z2]])] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _PAULI]
_G5 = 1j * _G[0] @ _G[1] @ _G[2] @ _G[3]
_ETA = np.diag([1.0, -1.0, -1.0, -1.0])


def _sl(p: np.ndarray) -> np.ndarray:
    return _G[0] * p[0] - _G[1] * p[1] - _G[2] * p[2] - _G[3] * p[3]


def _trace_sum(k1, k2, q, pm, pp, m, axial):
    """sum over spins and photon polarizations (-g_mu nu) of |A|^2, by completeness and traces."""
    one = np.eye(4)
    pl = (one - _G5) / 2
    gam = [g @ _G5 for g in _G] if axial else _G
    da, db = -2 * (pm @ _ETA @ q), -2 * (q @ _ETA @ pp)
    sa, sb = (_sl(pm - q) + m * one) / da, (_sl(q - pp) + m * one) / db
    neu = np.array(
        [[np.trace(_sl(k2) @ _G[a] @ pl @ _sl(k1) @ _G[b] @ pl) for b in range(4)] for a in range(4)]
    )
    neu_low = _ETA @ neu @ _ETA
    total = 0.0
    for mu in range(4):
        o = [_G[mu] @ sa @ gam[a] + gam[a] @ sb @ _G[mu] for a in range(4)]
        ob = [gam[b] @ sa @ _G[mu] + _G[mu] @ sb @ gam[b] for b in range(4)]
        lep = np.array(
            [
                [np.trace((_sl(pm) + m * one) @ o[a] @ (_sl(pp) - m * one) @ ob[b]) for b in range(4)]
                for a in range(4)
            ]
        )
        total += -_ETA[mu, mu] * np.sum(neu_low * lep)
    return total.real


def test_amplitudes_match_independent_traces() -> None:
    # Helicity amplitudes (Dirac representation, two transverse polarizations) against traces
    # (chiral representation, -g_mu nu polarization sum): equal only if the amplitude is gauge
    # invariant and the spinors, propagators and neutrino current are right.
    rng = np.random.default_rng(7)
    n, s = 4, 6.0
    q2 = rng.uniform(0.01, 2.0, n)
    m2 = rng.uniform(4 * M_MU**2, s - q2)
    moms = matrix_element._kinematics(s, q2, m2, rng.uniform(-1, 1, n), rng.uniform(0, 6, n), M_MU)
    k1, k2, q, pm, pp = moms
    assert np.allclose(k1 + q, k2 + pm + pp, atol=1e-12)
    assert np.allclose(-np.einsum("na,ab,nb->n", k1 - k2, _ETA, k1 - k2), q2)
    vv, aa, va = matrix_element._amplitudes_squared(*moms, M_MU)
    for i in range(n):
        args = (k1[i], k2[i], q[i], pm[i], pp[i], M_MU)
        assert vv[i] == pytest.approx(_trace_sum(*args, axial=False), rel=1e-10)
        assert aa[i] == pytest.approx(_trace_sum(*args, axial=True), rel=1e-10)
    assert np.any(np.abs(va) > 1e-3 * vv)  # the V-A interference is not zero point by point ...


def test_interference_vanishes_and_axial_equals_vector_for_light_leptons() -> None:
    # ... but is odd under mu+ <-> mu- and integrates to zero; for m -> 0 chirality makes V = A.
    d = trident.nu_gamma_dsigma_dq2(20.0, [0.05, 1.0])
    assert np.all(np.abs(d[2]) < 1e-9 * d[0])
    light = trident.nu_gamma_dsigma_dq2(20.0, [0.05, 1.0], m=1e-4)
    assert light[1] == pytest.approx(light[0], rel=2e-3)
    assert d[1][0] > 1.01 * d[0][0]  # massive muons: the axial part is larger


def test_leading_log_matches_equivalent_muon_approximation() -> None:
    # sigma_V -> alpha G_F^2 s / (9 pi^2) [ln(s/m^2) + c]: the coefficient 1/9 follows from
    # (alpha/2pi) ln(s/m^2) int dx (x^2 + (1-x)^2) x * (2/3) G_F^2 s/pi (nu mu elastic, mu+ and mu-).
    def k_of(s: float) -> float:
        x, w = np.polynomial.legendre.leggauss(24)
        lo, hi = math.log(1e-9), math.log(s - 4 * M_MU**2)
        ln_q2 = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        d = trident.nu_gamma_dsigma_dq2(s, np.exp(ln_q2), n_mass=(6, 14), n_y=20, n_phi=6)
        sigma_v = np.sum(0.5 * (hi - lo) * w * np.exp(ln_q2) * d[0])
        return sigma_v / (ALPHA_EM * G_FERMI**2 * s / math.pi**2)

    slope = (k_of(1e5) - k_of(1e4)) / math.log(10.0)
    assert slope == pytest.approx(1 / 9, rel=3e-3)


def test_helm_form_factor_and_flux() -> None:
    assert trident.helm_form_factor(0.0, 56) == pytest.approx(1.0)
    # first zero of 3 j1(x)/x at x = 4.4934 with R = sqrt(c^2 + 7/3 pi^2 a^2 - 5 s^2) (Lewin-Smith)
    c = 1.23 * 56 ** (1 / 3) - 0.60
    r_fm = math.sqrt(c * c + 7 / 3 * math.pi**2 * 0.52**2 - 5 * 0.81)
    q0 = 4.4934 / r_fm * 0.1973269804
    assert abs(trident.helm_form_factor(q0, 56)) < 1e-4
    # far below the nuclear scale the flux is (Z^2 alpha/pi)[ln(1/(q_min^2 R_eff^2)) - 1 + const]:
    # its slope in ln(1/q_min^2) is Z^2 alpha/pi
    fl = trident.photon_flux(np.array([1e-6, 1e-5]), 100.0, [(26, 56.0, 1.0)])
    assert (fl[0] - fl[1]) / math.log(100.0) == pytest.approx(26**2 * ALPHA_EM / math.pi, rel=1e-3)


# --- the constraint ------------------------------------------------------------------------------


def test_names_and_metadata() -> None:
    assert CCFR.name == "ccfr_trident"
    assert CHARM2.name == "charm2_trident"
    assert CCFR.cl == 0.95
    assert CCFR.mass_range == (1e-4, 100.0)
    assert "1406.2332" in CCFR.citation
    assert CCFR.r_high == pytest.approx(0.82 + 1.959964 * 0.28, rel=1e-6)
    assert CHARM2.r_low == pytest.approx(1.58 - 1.959964 * 0.57, rel=1e-6)
    gv, ga = trident.sm_couplings()
    assert (gv, ga) == pytest.approx((0.5 + 2 * SIN2_THETA_W_LOW, 0.5))


@pytest.mark.parametrize("c", [CCFR, CHARM2])
def test_sm_limit(c: trident.TridentConstraint) -> None:
    ex = c.experiment
    r_sm = (1 - ex.measured) ** 2 / (ex.error**2 * 3.841459)
    for m in (1e-3, 0.3, 20.0):
        assert c.sigma_ratio(m, 1e-9, LMU_LTAU) == pytest.approx(1.0, abs=1e-9)
        assert c.ratio(m, 0.0, LMU_LTAU) == pytest.approx(r_sm, rel=1e-6)
        assert c.ratio(m, 1e-8, LMU_LTAU, eps=1e-3) == pytest.approx(r_sm, rel=1e-4)


def _contact_ratio(lam: float, axial_over_vector: float = 1.0) -> float:
    """PHYSICS 2.3 (massless muons: axial_over_vector = 1); Lambda = m_X/g' in GeV."""
    a = 1 + 4 * SIN2_THETA_W_LOW
    return ((a + 2 * HIGGS_VEV**2 / lam**2) ** 2 + axial_over_vector) / (a**2 + axial_over_vector)


def test_heavy_limit_reproduces_contact_formula() -> None:
    # Heavy X: R(Lambda) with Lambda = m/g. Same formula once the axial weight of massive muons is
    # kept; the massless formula of PHYSICS 2.3 within a few percent of R - 1.
    rho = CCFR.axial_over_vector
    assert 1.0 < rho < 1.2
    for lam in (300.0, 550.0, 1000.0):
        # sigma_ratio is defined beyond the stated range; at 10 TeV Q^2/m^2 corrections are < 1e-7
        far = CCFR.sigma_ratio(1e4, 1e4 / lam, LMU_LTAU)
        assert far == pytest.approx(_contact_ratio(lam, rho), rel=1e-6)
        got = CCFR.sigma_ratio(100.0, 100.0 / lam, LMU_LTAU)  # <Q^2>/m^2 ~ 1e-4 at 100 GeV
        assert got == pytest.approx(_contact_ratio(lam, rho), rel=1e-3)
        assert got - 1 == pytest.approx(_contact_ratio(lam) - 1, rel=0.05)
    # Lambda bound: PHYSICS 2.3 gives 543 GeV (massless muons), 1406.2332 ~550 GeV
    m = np.array([10.0, 30.0, 100.0])
    lam_bound = m / CCFR.limit(m, LMU_LTAU)
    assert lam_bound[-1] == pytest.approx(537.4, abs=1.0)
    assert np.all((lam_bound > 520) & (lam_bound < 550))
    # the massless-formula bound, solved independently: R = 0.82 + 1.96 * 0.28
    target = 0.82 + 1.959964 * 0.28
    lam = 543.0
    for _ in range(50):  # fixed point of R(Lambda) = target
        a = 1 + 4 * SIN2_THETA_W_LOW
        lam = math.sqrt(2 * HIGGS_VEV**2 / (math.sqrt(target * (a * a + 1) - 1) - a))
    assert lam == pytest.approx(542.8, abs=0.5)
    assert lam_bound[-1] == pytest.approx(lam, rel=0.02)


def test_constructive_interference_for_lmu_ltau() -> None:
    m = np.geomspace(1e-3, 50, 9)
    assert np.all(CCFR.sigma_ratio(m, 1e-3, LMU_LTAU) > 1.0)
    assert np.all(CHARM2.sigma_ratio(m, 1e-3, LMU_LTAU) > 1.0)
    # g_mu flips sign only through kinetic mixing: eps/g > x_mu / e = 3.3
    # first order in P: R = 1 + a_1 P < 1 (at larger g the P^2 term wins and R rises again)
    assert np.all(CCFR.sigma_ratio(m, 1e-5, LMU_LTAU, eps_over_g=10.0) < 1.0)


@pytest.mark.parametrize(("c", "masses"), [(CCFR, [20.0, 100.0]), (CHARM2, [5.0, 50.0])])
def test_destructive_window_and_non_monotonic_r(
    c: trident.TridentConstraint, masses: list[float]
) -> None:
    # The window needs R_min = 1 - a_1^2/(4 a_2) below R_meas - 1.96 sigma: heavy X only (the
    # contact limit has R_min = g_A^2 I_A/S ~ 0.22 when C_V = 0; a light X cannot cancel C_V at all Q^2).
    m, rho = np.array(masses), 10.0  # g_mu = g (1 - 10 e) < 0
    (lo1, hi1), (lo2, hi2) = c.excluded_intervals(m, LMU_LTAU, eps_over_g=rho)
    assert np.all(lo1 < hi1)
    assert np.all(hi1 < lo2)
    assert np.all(np.isinf(hi2))
    assert np.array_equal(c.limit(m, LMU_LTAU, eps_over_g=rho), lo1)
    for g, excluded in (
        (0.5 * lo1, False),
        (np.sqrt(lo1 * hi1), True),
        (np.sqrt(hi1 * lo2), False),
        (2.0 * lo2, True),
    ):
        r = c.ratio(m, g, LMU_LTAU, eps_over_g=rho)
        assert np.all((r >= 1) == excluded)
    r_window = c.sigma_ratio(m, np.sqrt(lo1 * hi1), LMU_LTAU, eps_over_g=rho)
    assert np.all(r_window < c.r_low)
    # a light X has no window: one interval, the second slot empty
    (lo_l, hi_l), (lo_e, hi_e) = c.excluded_intervals(0.1, LMU_LTAU, eps_over_g=rho)
    assert np.isinf(hi_l)
    assert np.isinf(lo_e)
    assert np.isinf(hi_e)
    assert (
        c.ratio(0.1, 0.99 * lo_l, LMU_LTAU, eps_over_g=rho)
        < 1
        <= c.ratio(0.1, 1.01 * lo_l, LMU_LTAU, eps_over_g=rho)
    )
    # closed form = the generic scan of base.intervals_by_scan
    shape = m.shape
    scanned = base.intervals_by_scan(
        lambda g: c.ratio(m, g, LMU_LTAU, eps_over_g=rho), shape, max_intervals=2
    )
    for (a, b), (x, y) in zip(scanned, [(lo1, hi1), (lo2, hi2)], strict=True):
        assert np.allclose(a, x, rtol=1e-6)
        assert np.allclose(b, y, rtol=1e-6)


def test_fixed_eps_scan_finds_window() -> None:
    # fixed eps: g_mu = g - e eps changes sign at g = e eps; R dips below 1 on the way
    m, eps = 5.0, 0.2
    intervals = CCFR.excluded_intervals(m, LMU_LTAU, eps=eps)
    assert len(intervals) == 3
    (lo1, hi1), (lo2, hi2), (lo3, hi3) = intervals
    # P = g_nu g_mu runs down to its minimum at g = e eps/2 and back up through zero at g = e eps,
    # so the dip R < R_low is crossed twice: two islands below the onset [lo3, inf). (The 10-per-
    # decade scan used before lost the second, 9% wide, island; the closed form keeps it.)
    assert float(lo1) < float(hi1) < float(lo2) < float(hi2) < float(lo3)
    assert np.isinf(hi3)
    assert float(hi2) < E_CHARGE * eps  # both windows lie where g_mu < 0
    assert CCFR.sigma_ratio(m, math.sqrt(lo2 * hi2), LMU_LTAU, eps=eps) < CCFR.r_low
    assert CCFR.sigma_ratio(m, math.sqrt(lo1 * hi1), LMU_LTAU, eps=eps) < CCFR.r_low
    assert CCFR.limit(m, LMU_LTAU, eps=eps) == pytest.approx(float(lo1))
    # small eps: the ordinary bound, slightly moved
    assert CCFR.limit(m, LMU_LTAU, eps=1e-6) == pytest.approx(CCFR.limit(m, LMU_LTAU), rel=1e-3)


def test_unconstrained_models() -> None:
    m = np.array([0.01, 1.0])
    assert np.all(np.isinf(CCFR.limit(m, model("Le-Ltau"))))
    assert np.all(np.isinf(CCFR.limit(m, model("Le-Ltau"), eps=1e-3)))  # neutrinos get no eps
    assert np.all(np.isinf(CCFR.limit(m, model("dark-photon"))))
    assert np.all(CCFR.ratio(m, 0.1, model("Le-Ltau")) < 1)
    # out of range: NaN
    assert np.isnan(CCFR.limit(1e-5, LMU_LTAU))
    assert np.isnan(CCFR.ratio(200.0, 1e-3, LMU_LTAU))


def test_light_x_plateau_and_gm2_crossing() -> None:
    # 1406.2332: the CCFR bound on L_mu-L_tau flattens at g' ~ 1e-3 for light Z' and disfavours the
    # (g-2) explanation above ~400 MeV (abstract); above a few GeV it joins the contact line.
    m = np.array([1e-3, 1e-2, 0.1, 0.4, 1.0, 10.0])
    lim = CCFR.limit(m, LMU_LTAU)
    assert 5e-4 < lim[0] < 2e-3
    assert lim[1] / lim[0] < 1.2
    assert np.all(np.diff(lim) > 0)
    contact = m / (m[-1] / lim[-1])
    assert lim[-1] == pytest.approx(contact[-1])
    assert lim[-2] > 1.3 * contact[-2]
    assert lim[2] > 5 * contact[2]  # the contact formula overestimates the light-X effect
    grid = np.geomspace(0.1, 1.0, 200)
    g_low, _ = gm2.band(LMU_LTAU, grid)
    crossing = grid[np.argmax(CCFR.limit(grid, LMU_LTAU) < g_low)]
    assert 0.3 < crossing < 0.5


def test_loop_mixing_barely_moves_lmu_ltau() -> None:
    m = np.array([0.01, 0.3, 3.0])
    base_lim = CCFR.limit(m, LMU_LTAU)
    loop = CCFR.limit(m, LMU_LTAU, eps="loop")
    # eps/g ~ +0.0144..0.02: g_mu = g (1 - e eps/g) drops by < 1%, so the bound rises by < 0.5%
    assert np.all(loop > base_lim)
    assert np.all(loop < 1.006 * base_lim)
    with pytest.raises(ValueError, match="loop_scale"):
        CCFR.limit(m, model("B-L"), eps="loop")


@settings(max_examples=25, deadline=None)
@given(
    lmu=st.floats(-3, 3, allow_subnormal=False).filter(lambda x: abs(x) > 0.1),
    ltau=st.floats(-3, 3, allow_subnormal=False),
    eps_over_g=st.floats(-5, 5, allow_subnormal=False),
    k=st.floats(0.2, 5.0, allow_subnormal=False),
    log_m=st.floats(-3.5, 1.9, allow_subnormal=False),
)
def test_sign_flip_and_scaling(
    lmu: float, ltau: float, eps_over_g: float, k: float, log_m: float
) -> None:
    mdl = Model.from_generators(Lmu=lmu, Ltau=ltau)
    m = 10.0**log_m
    g = 2e-3
    r = CCFR.ratio(m, g, mdl, eps=eps_over_g * g)
    assert CCFR.ratio(m, g, -mdl, eps=-eps_over_g * g) == pytest.approx(r, rel=1e-10)
    assert CCFR.ratio(m, g / k, mdl.scaled(k), eps=eps_over_g * g) == pytest.approx(r, rel=1e-9)
    lim = CCFR.limit(m, mdl, eps_over_g=eps_over_g)
    assert CCFR.limit(m, -mdl, eps_over_g=-eps_over_g) == pytest.approx(lim, rel=1e-10)
    assert CCFR.limit(m, mdl.scaled(k), eps_over_g=k * eps_over_g) == pytest.approx(lim / k, rel=1e-9)


def test_vectorized_batches_equal_single_calls() -> None:
    lmu = np.array([1.0, 2.0, -1.0, 0.5])[:, None]
    batch = Model.from_generators(Lmu=lmu, Ltau=-lmu, Le=np.array([0.0, 1.0, 0.0, -2.0])[:, None])
    masses = np.array([1e-3, 0.05, 0.4, 7.0, 60.0])
    eps_over_g = np.array([0.0, 0.5, -4.0, 8.0])[:, None]
    for c in (CCFR, CHARM2):
        r = c.ratio(masses, 3e-3, batch, eps_over_g=eps_over_g)
        lim = c.limit(masses, batch, eps_over_g=eps_over_g)
        fixed = c.limit(masses[:2], batch, eps=1e-4)
        assert r.shape == lim.shape == (4, 5)
        assert fixed.shape == (4, 2)
        for i in range(4):
            one = batch[i, 0]
            eg = float(eps_over_g[i, 0])
            for j, m in enumerate(masses):
                assert r[i, j] == pytest.approx(float(c.ratio(m, 3e-3, one, eps_over_g=eg)), rel=1e-12)
                assert lim[i, j] == pytest.approx(float(c.limit(m, one, eps_over_g=eg)), rel=1e-12)
            for j, m in enumerate(masses[:2]):
                assert fixed[i, j] == pytest.approx(float(c.limit(m, one, eps=1e-4)), rel=1e-9)
