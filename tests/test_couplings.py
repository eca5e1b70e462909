"""Tests of zprime_atlas.couplings: the vacuum-polarisation loop function, loop-induced kinetic
mixing (PHYSICS.md section 9) and the effective couplings g_f = g_X x_f + eps e Q_f.

Reference numbers are computed here by direct numerical integration (scipy.integrate.quad) or taken
from PHYSICS.md section 9 ([D] values eps/g = 0.01443 at q^2 = 0 and 0.01494 at q^2 = (0.1 GeV)^2,
g_e = -0.00437 g).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from zprime_atlas.couplings import (
    Mixing,
    effective_couplings,
    kinetic_mixing,
    loop_function,
    loop_mixing_over_g,
    loop_sum,
)
from zprime_atlas.models import Model, model

# Independent inputs (not read from zprime_atlas.constants): CODATA 2022 alpha, PDG lepton masses.
ALPHA = 1 / 137.035999177
E = math.sqrt(4 * math.pi * ALPHA)
M_MU = 0.1056583755
M_TAU = 1.77693
Q = {
    "u": 2 / 3, "c": 2 / 3, "t": 2 / 3, "d": -1 / 3, "s": -1 / 3, "b": -1 / 3,
    "e": -1.0, "mu": -1.0, "tau": -1.0, "nu_e": 0.0, "nu_mu": 0.0, "nu_tau": 0.0,
}  # fmt: skip
NEUTRINOS = ("nu_e", "nu_mu", "nu_tau")


# --- loop function ---------------------------------------------------------------------------


def _w(x):
    return x * (1.0 - x)


def _g_numeric(z):
    """G(z) = int_0^1 x(1-x) ln(1 - z x(1-x) - i0) dx by mpmath quadrature (real and imaginary).

    The real part integrates x(1-x) ln|1 - z x(1-x)|, split at the zeros of the argument (z > 4);
    the imaginary part is -pi times the integral of x(1-x) over the region where the argument < 0.
    """
    with mp.workdps(30):
        zz = mp.mpf(z)
        pts = [0, mp.mpf(1) / 2, 1]
        im = mp.mpf(0)
        if zz > 4:
            beta = mp.sqrt(1 - 4 / zz)
            lo, hi = (1 - beta) / 2, (1 + beta) / 2
            pts = [0, lo, hi, 1]
            im = -mp.pi * mp.quad(lambda x: x * (1 - x), [lo, hi])
        # 1 - z x(1-x) = 1 - z/4 + z (x - 1/2)^2, written so that no cancellation occurs at z = 4.
        re = mp.quad(
            lambda x: x * (1 - x) * mp.log(abs(1 - zz / 4 + zz * (x - mp.mpf(1) / 2) ** 2)), pts
        )
        return complex(float(re), float(im))


@pytest.mark.parametrize(
    "z",
    [
        -1e4, -50.0, -3.0, -0.5, -0.09, -0.02,  # spacelike
        0.011, 0.02, 0.09, 0.5, 1.0, 2.0, 3.5, 3.99, 3.9999,  # below threshold
        4.0, 4.0001, 4.01, 5.0, 10.0, 100.0, 1e4,  # at and above threshold
    ],
)  # fmt: skip
def test_loop_function_against_quadrature(z):
    g = complex(loop_function(z))
    ref = _g_numeric(z)
    assert g.real == pytest.approx(ref.real, rel=1e-9, abs=1e-12)
    assert g.imag == pytest.approx(ref.imag, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("z", [-9.99e-3, -1e-5, -1e-9, 1e-12, 1e-7, 3e-4, 9.99e-3])
def test_loop_function_series_branch(z):
    # |z| < 0.01: the Taylor branch. The quadrature uses log1p, accurate for tiny z.
    g = complex(loop_function(z))
    ref = _g_numeric(z)
    assert g.imag == 0.0
    assert g.real == pytest.approx(ref.real, rel=1e-10)
    # Leading term: G ~ -z int x^2(1-x)^2 dx = -z/30.
    assert g.real == pytest.approx(-z / 30, rel=abs(z))


def test_loop_function_continuous_across_branches():
    for z0 in (-0.01, 0.01):
        below = complex(loop_function(z0 * (1 - 1e-9)))
        above = complex(loop_function(z0 * (1 + 1e-9)))
        assert above.real == pytest.approx(below.real, rel=1e-7)
    # Across threshold: real part continuous (with a sqrt(z - 4) cusp from below), imaginary part
    # switching on like -(pi/8) sqrt(z - 4).
    d = 1e-12
    lo, hi = complex(loop_function(4 - d)), complex(loop_function(4 + d))
    assert hi.real == pytest.approx(-4 / 9, abs=1e-9)
    assert lo.real == pytest.approx(-4 / 9, abs=2 * math.sqrt(d))
    assert lo.imag == 0.0
    assert hi.imag == pytest.approx(-math.pi / 8 * math.sqrt(d), rel=1e-3)


def test_loop_function_exact_values():
    # G(0) = 0; G(4) = 2 int x(1-x) ln|1-2x| dx = -4/9 (substitute t = 1 - 2x).
    assert complex(loop_function(0.0)) == 0j
    assert complex(loop_function(4.0)) == pytest.approx(-4 / 9, abs=1e-14)
    t_integral = quad(lambda t: (1 - t * t) / 4 * math.log(t), 0.0, 1.0)[0]
    assert 2 * t_integral == pytest.approx(-4 / 9, abs=1e-12)
    # Im G = -pi int_{(1-beta)/2}^{(1+beta)/2} x(1-x) dx = -(pi/12) beta (3 - beta^2)
    #      = -(pi/6) beta (1 + 2/z) above threshold (spin-1/2 pair production).
    for z in (5.0, 20.0, 1e3):
        beta = math.sqrt(1 - 4 / z)
        assert complex(loop_function(z)).imag == pytest.approx(
            -math.pi / 12 * beta * (3 - beta**2), rel=1e-12
        )
    # z -> -inf: G ~ (1/6) ln|z| - 5/18 (x(1-x) ln(-z x(1-x)) integrated).
    z = -1e8
    assert complex(loop_function(z)).real == pytest.approx(math.log(-z) / 6 - 5 / 18, abs=1e-6)


def test_loop_function_array_and_no_warnings():
    z = np.array([[-10.0, 0.0, 1e-4], [3.0, 4.0, 40.0]])
    g = loop_function(z)
    assert g.shape == (2, 3)
    assert g.dtype == np.complex128
    for idx in np.ndindex(z.shape):
        assert complex(g[idx]) == pytest.approx(_g_numeric(float(z[idx])), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-200.0, 4.0, allow_nan=False, allow_subnormal=False))
def test_loop_function_real_below_threshold(z):
    g = complex(loop_function(z))
    assert g.imag == 0.0
    # Sign: for z < 4 the log has the sign of -z, so G has the sign of -z (or vanishes).
    assert g.real * z <= 0.0


# --- loop-induced kinetic mixing ----------------------------------------------------------------


def _lmu_ltau_eps_over_g(q2):
    """(e / 2 pi^2) int x(1-x) ln[(m_tau^2 - x(1-x) q2) / (m_mu^2 - x(1-x) q2)], q2 < 4 m_mu^2."""
    val = quad(
        lambda x: _w(x) * math.log((M_TAU**2 - _w(x) * q2) / (M_MU**2 - _w(x) * q2)),
        0.0,
        1.0,
        epsabs=1e-14,
        epsrel=1e-12,
    )[0]
    return E / (2 * math.pi**2) * val


def test_lmu_ltau_loop_at_zero_momentum():
    r = complex(loop_mixing_over_g(model("Lmu-Ltau"), q2=0.0))
    assert r.imag == 0.0
    closed = E / (6 * math.pi**2) * math.log(M_TAU / M_MU)
    assert r.real == pytest.approx(closed, rel=3e-5)  # PDG m_tau +- 0.09 MeV
    assert r.real == pytest.approx(1 / 69.3, rel=1e-3)  # "g/70" (PHYSICS.md section 9)
    assert r.real == pytest.approx(0.01443, abs=5e-6)


def test_lmu_ltau_loop_at_100_mev():
    q2 = 0.1**2
    r = complex(loop_mixing_over_g(model("Lmu-Ltau"), q2=q2))
    assert r.imag == 0.0
    assert r.real == pytest.approx(0.01494, abs=5e-6)  # PHYSICS.md section 9 [D]
    assert r.real == pytest.approx(_lmu_ltau_eps_over_g(q2), rel=3e-5)


@pytest.mark.parametrize("q2", [-1.0, -1e-3, -2 * 0.000511 * 1e-3, 1e-4, 0.04])
def test_lmu_ltau_loop_against_quadrature(q2):
    r = complex(loop_mixing_over_g(model("Lmu-Ltau"), q2=q2))
    assert r.real == pytest.approx(_lmu_ltau_eps_over_g(q2), rel=3e-5)
    assert r.imag == 0.0


def test_lmu_ltau_loop_above_muon_threshold():
    # Above 2 m_mu (below 2 m_tau) only the muon loop has Im G = -(pi/6) beta (1 + 2 m^2/q^2);
    # eps/g = -(e/2pi^2) Q_mu x_mu (-G_mu) + ... = -(e/2pi^2) G_mu + ..., with Q_mu x_mu = -1, so
    # Im eps/g = +(e/2pi^2) (pi/6) beta (1 + 2 m^2/q^2).
    m_x = 0.5
    beta = math.sqrt(1 - 4 * M_MU**2 / m_x**2)
    r = complex(loop_mixing_over_g(model("Lmu-Ltau"), q2=m_x**2))
    expected = E / (2 * math.pi**2) * math.pi / 6 * beta * (1 + 2 * M_MU**2 / m_x**2)
    assert r.imag == pytest.approx(expected, rel=1e-6)


def test_lmu_ltau_electron_and_quark_couplings_from_loop():
    g = effective_couplings(model("Lmu-Ltau"), g_X=1.0, eps="loop")
    assert complex(g["e"]).real == pytest.approx(-0.00437, abs=5e-6)  # PHYSICS.md section 9
    assert complex(g["e"]).real == pytest.approx(
        -E * E / (12 * math.pi**2) * math.log(M_TAU**2 / M_MU**2), rel=3e-5
    )
    # proton = 2u + d: +0.00437 g; neutron = u + 2d: 0 (Darkcast).
    p = 2 * complex(g["u"]) + complex(g["d"])
    n = complex(g["u"]) + 2 * complex(g["d"])
    assert p.real == pytest.approx(0.00437, abs=5e-6)
    assert n == pytest.approx(0.0, abs=1e-15)
    assert complex(g["mu"]).real == pytest.approx(1.0 - 0.00437, abs=5e-6)
    assert complex(g["nu_mu"]) == 1.0
    assert complex(g["nu_e"]) == 0.0


@pytest.mark.parametrize("name", ["Lmu-Ltau", "Le-Lmu", "Le-Ltau"])
def test_loop_scale_free_for_b_zero(name):
    m = model(name)
    assert float(loop_sum(m)) == 0.0
    q2 = np.array([-0.3, 0.0, 1e-3, 0.25, 10.0])
    ref = loop_mixing_over_g(m, q2)
    for mu0 in (1e-3, 1.0, 91.0, 1e4):
        np.testing.assert_allclose(
            loop_mixing_over_g(m, q2, loop_scale=mu0), ref, rtol=1e-12, atol=1e-15
        )


def test_le_lmu_loop_closed_form():
    # Same structure as L_mu - L_tau with (m_e, m_mu): eps/g = (e/6pi^2) ln(m_mu/m_e) at q^2 = 0,
    # with the sign fixed by the lighter lepton (e, charge +1) dominating: positive.
    r = complex(loop_mixing_over_g(model("Le-Lmu"), 0.0))
    assert r.real == pytest.approx(E / (6 * math.pi**2) * math.log(M_MU / 0.00051099895069), rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    Le=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
    Lmu=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
    q2=st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False),
    mu0=st.floats(1e-3, 1e3, allow_subnormal=False),
)
def test_loop_scale_free_random_b_zero_models(Le, Lmu, q2, mu0):
    m = Model.from_generators(B=0, Le=Le, Lmu=Lmu, Ltau=-Le - Lmu)
    a = complex(loop_mixing_over_g(m, q2))
    b = complex(loop_mixing_over_g(m, q2, loop_scale=mu0))
    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["B-L", "B-3Lmu", "B-3Le", "B", "dark-photon"])
def test_loop_without_scale_raises_for_b_nonzero(name):
    m = model(name)
    with pytest.raises(ValueError, match="loop_scale") as info:
        loop_mixing_over_g(m, 0.0)
    assert m.name in str(info.value)
    with pytest.raises(ValueError, match="loop_scale"):
        effective_couplings(m, g_X=1e-3, eps="loop")
    with pytest.raises(ValueError, match="loop_scale"):
        kinetic_mixing(m, g_X=1e-3, eps="loop", q2=0.01)


def test_loop_scale_error_names_bad_batch_member():
    batch = Model.from_generators(B=[0, 1], Le=[0, 0], Lmu=[1, -3], Ltau=[-1, 0])
    with pytest.raises(ValueError, match=r"B-3Lmu.*loop_scale"):
        loop_mixing_over_g(batch, 0.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_loop_scale(bad):
    with pytest.raises(ValueError, match="loop_scale"):
        loop_mixing_over_g(model("B-L"), 0.0, loop_scale=bad)


def _loop_sum_by_hand(B, Le, Lmu, Ltau):
    # sum_f N_c Q_f x_f: quarks 3 * (3 * 2/3 + 3 * (-1/3)) * B/3 = B; leptons -(Le + Lmu + Ltau).
    return 3 * (3 * (2 / 3) + 3 * (-1 / 3)) * B / 3 - (Le + Lmu + Ltau)


@settings(max_examples=40, deadline=None)
@given(
    B=st.floats(0.1, 5, allow_subnormal=False).flatmap(lambda b: st.sampled_from([b, -b])),
    Le=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
    Lmu=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
    q2=st.floats(-5.0, 5.0, allow_nan=False, allow_subnormal=False),
    mu1=st.floats(0.01, 10.0, allow_subnormal=False),
    factor=st.floats(1.5, 1e3, allow_subnormal=False),
)
def test_loop_scale_dependence_for_b_nonzero(B, Le, Lmu, q2, mu1, factor):
    Ltau = -3 * B - Le - Lmu  # anomaly free
    m = Model.from_generators(B, Le, Lmu, Ltau)
    s = _loop_sum_by_hand(B, Le, Lmu, Ltau)
    assert s == pytest.approx(4 * B, rel=1e-9)
    assert float(loop_sum(m)) == pytest.approx(4 * B, rel=1e-9)
    mu2 = mu1 * factor
    e1 = complex(loop_mixing_over_g(m, q2, loop_scale=mu1))
    e2 = complex(loop_mixing_over_g(m, q2, loop_scale=mu2))
    # eps contains -(e g / 2 pi^2) sum N_c Q x * (1/6) ln mu0^2, so
    # d eps / d ln mu0^2 = -(e g / 12 pi^2) * 4B, exactly linear in ln mu0^2.
    slope = (e2 - e1) / (math.log(mu2**2) - math.log(mu1**2))
    assert slope.real == pytest.approx(-E / (12 * math.pi**2) * 4 * B, rel=1e-7)
    assert slope.imag == pytest.approx(0.0, abs=1e-12)


def test_loop_vanishes_at_its_scale_for_heavy_fermions_only():
    # eps(mu_0) = 0 with the mu_0^2 inside the log means: for a model whose only charged fermion is
    # the muon, eps(q^2 = 0) vanishes when mu_0 = m_mu.
    m = Model({"mu": 1.0, "nu_mu": 1.0})
    assert complex(loop_mixing_over_g(m, 0.0, loop_scale=M_MU)) == pytest.approx(0, abs=1e-8)
    # and at mu_0 = 1 GeV it equals -(e/2pi^2) * Q_mu * ln(1/m_mu^2)/6 = (e/12pi^2) ln(1/m_mu^2).
    val = complex(loop_mixing_over_g(m, 0.0, loop_scale=1.0)).real
    assert val == pytest.approx(E / (12 * math.pi**2) * math.log(1 / M_MU**2), rel=1e-6)


def test_loop_broadcasts_batch_with_q2():
    batch = Model.from_generators(Le=[1.0, 0.0], Lmu=[-1.0, 1.0], Ltau=[0.0, -1.0])
    q2 = np.array([0.0, 0.01, 0.04])
    r = loop_mixing_over_g(batch.reshape(2, 1), q2[None, :])
    assert r.shape == (2, 3)
    assert complex(r[1, 1]).real == pytest.approx(_lmu_ltau_eps_over_g(0.01), rel=3e-5)


# --- effective couplings -------------------------------------------------------------------------


def _charges(m):
    return {f: float(v) for f, v in m.charges.items()}


@settings(max_examples=60, deadline=None)
@given(
    B=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Le=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Lmu=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Ltau=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    g=st.floats(-1, 1, allow_nan=False, allow_subnormal=False),
    eps=st.floats(-1e-2, 1e-2, allow_nan=False, allow_subnormal=False),
)
def test_effective_couplings_formula(B, Le, Lmu, Ltau, g, eps):
    m = Model.from_generators(B, Le, Lmu, Ltau)
    out = effective_couplings(m, g_X=g, eps=eps)
    x = _charges(m)
    assert set(out) == set(Q)
    for f, q in Q.items():
        expected = g * x[f] + (0.0 if f in NEUTRINOS else eps * E * q)
        assert float(out[f]) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # eps_over_g = eps/g gives the same couplings as eps.
    if abs(g) > 1e-6:
        ratio = effective_couplings(m, g_X=g, eps_over_g=eps / g)
        for f in Q:
            assert float(ratio[f]) == pytest.approx(float(out[f]), rel=1e-9, abs=1e-15)


def test_neutrinos_get_no_kinetic_mixing():
    out = effective_couplings(Model({}), g_X=0.0, eps=1e-3)
    for nu in NEUTRINOS:
        assert float(out[nu]) == 0.0
    assert float(out["e"]) == pytest.approx(-1e-3 * E, rel=1e-9)
    assert float(out["u"]) == pytest.approx(2 / 3 * 1e-3 * E, rel=1e-9)
    assert float(out["b"]) == pytest.approx(-1 / 3 * 1e-3 * E, rel=1e-9)


def test_default_is_no_mixing():
    out = effective_couplings(model("B-L"), g_X=0.2)
    assert float(out["e"]) == pytest.approx(-0.2)
    assert float(out["u"]) == pytest.approx(0.2 / 3)
    assert float(out["nu_tau"]) == pytest.approx(-0.2)


@settings(max_examples=40, deadline=None)
@given(
    eps=st.floats(-0.1, 0.1, allow_nan=False, allow_subnormal=False),
    other_g=st.floats(-1, 1, allow_nan=False, allow_subnormal=False),
)
def test_dark_photon_two_spellings_agree(eps, other_g):
    # model('dark-photon') with g_X = eps e and no mixing == no X charges, any g_X, mixing eps.
    a = effective_couplings(model("dark-photon"), g_X=eps * E)
    b = effective_couplings(Model({}), g_X=other_g, eps=eps)
    c = effective_couplings(Model({}), g_X=0.0, eps=eps)
    for f in Q:
        assert float(a[f]) == pytest.approx(float(b[f]), rel=1e-9, abs=1e-18)
        assert float(a[f]) == pytest.approx(float(c[f]), rel=1e-9, abs=1e-18)
        assert float(a[f]) == pytest.approx(eps * E * Q[f], rel=1e-9, abs=1e-18)


@settings(max_examples=60, deadline=None)
@given(
    B=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Le=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Lmu=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    Ltau=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    g=st.floats(-1, 1, allow_nan=False, allow_subnormal=False),
    eps=st.floats(-1e-2, 1e-2, allow_nan=False, allow_subnormal=False),
    q2=st.floats(-1, 10, allow_nan=False, allow_subnormal=False),
)
def test_sign_flip_of_charges_and_eps_flips_couplings(B, Le, Lmu, Ltau, g, eps, q2):
    m = Model.from_generators(B, Le, Lmu, Ltau)
    plus = effective_couplings(m, g_X=g, eps=eps)
    minus = effective_couplings(-m, g_X=g, eps=-eps)
    ratio_plus = effective_couplings(m, g_X=g, eps_over_g=eps)
    ratio_minus = effective_couplings(-m, g_X=g, eps_over_g=-eps)
    # X -> -X is equivalent to g_X -> -g_X, eps -> -eps with the charges kept.
    gflip = effective_couplings(m, g_X=-g, eps=-eps)
    for f in Q:
        assert float(minus[f]) == pytest.approx(-float(plus[f]), abs=1e-15)
        assert float(ratio_minus[f]) == pytest.approx(-float(ratio_plus[f]), abs=1e-15)
        assert float(gflip[f]) == pytest.approx(-float(plus[f]), abs=1e-15)
    # The loop mixing is linear in the charges, so it flips with them (B = 0 to stay scale free).
    m0 = Model.from_generators(0.0, Le, Lmu, -Le - Lmu)
    lp = effective_couplings(m0, g_X=g, eps="loop", q2=q2)
    lm = effective_couplings(-m0, g_X=g, eps="loop", q2=q2)
    for f in Q:
        assert complex(lm[f]) == pytest.approx(-complex(lp[f]), abs=1e-14)


def test_loop_couplings_complex_above_threshold():
    out = effective_couplings(model("Lmu-Ltau"), g_X=1e-3, eps="loop", q2=0.5**2)
    assert np.iscomplexobj(out["e"])
    assert complex(out["e"]).imag != 0.0
    assert complex(out["nu_mu"]) == 1e-3
    eps = complex(kinetic_mixing(model("Lmu-Ltau"), g_X=1e-3, eps="loop", q2=0.5**2))
    assert complex(out["e"]) == pytest.approx(-E * eps, rel=1e-9)


def test_loop_with_scale_for_b_l_is_finite_and_linear_in_g():
    m = model("B-L")
    a = kinetic_mixing(m, g_X=1e-4, eps="loop", loop_scale=1.0)
    b = kinetic_mixing(m, g_X=2e-4, eps="loop", loop_scale=1.0)
    assert np.isfinite(complex(a))
    assert complex(b) == pytest.approx(2 * complex(a), rel=1e-12)


def test_effective_couplings_broadcast():
    batch = model("Lmu-Ltau").scaled(np.array([1.0, 2.0, 3.0]))
    out = effective_couplings(batch, g_X=np.array([0.1, 0.2, 0.3]), eps=np.array([0.0, 1e-3, 0.0]))
    np.testing.assert_allclose(out["mu"], [0.1, 0.4 - 1e-3 * E, 0.9])
    np.testing.assert_allclose(out["nu_tau"], [-0.1, -0.4, -0.9])
    grid = effective_couplings(
        model("B-L"), g_X=np.array([1e-3, 1e-2])[:, None], eps=np.array([0.0, 1e-4, 1e-3])[None, :]
    )
    assert np.shape(grid["e"]) == (2, 3)
    assert float(grid["e"][1, 2]) == pytest.approx(-1e-2 - 1e-3 * E)


# --- input errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("eps", "ratio"), [(1e-3, 0.1), ("loop", 0.1), (np.array([1e-3]), 0.2)])
def test_eps_and_eps_over_g_together_raise(eps, ratio):
    with pytest.raises(ValueError, match="not both"):
        effective_couplings(model("B-L"), g_X=1e-3, eps=eps, eps_over_g=ratio)
    with pytest.raises(ValueError, match="not both"):
        Mixing.parse(eps, ratio)


def test_zero_eps_with_ratio_is_the_ratio():
    # eps=0 (the default value of a caller's keyword) next to eps_over_g is accepted as the ratio.
    a = effective_couplings(model("B-L"), g_X=1e-3, eps=0, eps_over_g=0.1)
    b = effective_couplings(model("B-L"), g_X=1e-3, eps_over_g=0.1)
    assert float(a["e"]) == float(b["e"]) == pytest.approx(-1e-3 - 1e-4 * E)


@pytest.mark.parametrize("bad", ["foo", "", "loops"])
def test_bad_eps_string(bad):
    with pytest.raises(ValueError, match="eps must be a number, an array or 'loop'"):
        effective_couplings(model("Lmu-Ltau"), g_X=1e-3, eps=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, [1e-3, math.nan], [[1e-3], [-math.inf]]])
def test_nonfinite_eps_raises(bad):
    with pytest.raises(ValueError, match="eps"):
        effective_couplings(model("Lmu-Ltau"), g_X=1e-3, eps=bad)
    with pytest.raises(ValueError, match="eps_over_g"):
        effective_couplings(model("Lmu-Ltau"), g_X=1e-3, eps_over_g=bad)


@pytest.mark.parametrize("bad", [math.nan, "big", [0.1, math.inf]])
def test_bad_g_x_raises(bad):
    with pytest.raises(ValueError, match="g_X"):
        effective_couplings(model("Lmu-Ltau"), g_X=bad)


def test_eps_over_g_string_raises():
    with pytest.raises(ValueError, match="eps_over_g"):
        effective_couplings(model("Lmu-Ltau"), g_X=1e-3, eps_over_g="loop")


def test_mixing_descriptions():
    assert Mixing.parse("LOOP").kind == "loop"
    assert Mixing.parse(" loop ", loop_scale=2.0).describe() == "loop, mu_0 = 2 GeV"
    assert Mixing.parse().kind == "fixed"
    assert Mixing.parse(1e-3).proportional is False
    assert Mixing.parse(eps_over_g=0.1).proportional is True
    with pytest.raises(ValueError, match="not proportional"):
        Mixing.parse(1e-3).over_g(model("B-L"))
