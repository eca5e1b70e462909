"""Borexino 7Be nu-e constraint: cross sections, flavours, kernels and limits vs independent numbers."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from zprime_atlas import gm2
from zprime_atlas.constants import E_CHARGE, G_FERMI, M_E, SIN2_THETA_W_LOW
from zprime_atlas.constraints.borexino import (
    BE7_LINES,
    FLAVOURS,
    Borexino,
    OscillationParameters,
    flavour_fractions,
    sm_rate_cpd,
    survival_probability,
    t_max,
    total_cross_section,
)
from zprime_atlas.constraints.solve import intervals_by_scan
from zprime_atlas.couplings import loop_mixing_over_g
from zprime_atlas.models import Model, model

E_BE7 = BE7_LINES[0][0]
GEV2_TO_CM2 = 0.3893793721e-27  # (hbar c)^2 in GeV^2 cm^2 (PDG constants table)

BX = Borexino()
BX_LZ = Borexino("LZ")


def _textbook_dsigma(T, E, flavour):
    """dsigma/dT from g_V, g_A (PDG neutrino cross-section review form), written independently."""
    s2 = SIN2_THETA_W_LOW
    g_v, g_a = (0.5 + 2 * s2, 0.5) if flavour == "nu_e" else (-0.5 + 2 * s2, -0.5)
    pref = G_FERMI**2 * M_E / (2 * mpmath.pi)
    return pref * (
        (g_v + g_a) ** 2 + (g_v - g_a) ** 2 * (1 - T / E) ** 2 - (g_v**2 - g_a**2) * M_E * T / E**2
    )


# --- SM pieces --------------------------------------------------------------------------------


def test_kinematic_edge() -> None:
    # T_max = 2E^2/(m_e + 2E): the Compton-like edge of the 862 keV line sits at 0.665 MeV.
    assert float(t_max(E_BE7)) == pytest.approx(0.665e-3, abs=1e-6)
    assert float(t_max(0.862e-3)) == pytest.approx(0.665e-3, abs=1e-6)
    assert float(t_max(BE7_LINES[1][0])) == pytest.approx(0.231e-3, abs=1e-6)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_total_cross_section_matches_quadrature(flavour: str) -> None:
    mpmath.mp.dps = 30
    top = 2 * E_BE7**2 / (M_E + 2 * E_BE7)
    ref = mpmath.quad(lambda t: _textbook_dsigma(t, E_BE7, flavour), [0, top])
    assert total_cross_section(E_BE7, flavour) == pytest.approx(float(ref), rel=1e-12)
    window = mpmath.quad(lambda t: _textbook_dsigma(t, E_BE7, flavour), [0.19e-3, top])
    assert total_cross_section(E_BE7, flavour, t_lo=0.19e-3) == pytest.approx(float(window), rel=1e-12)


def test_cross_section_size_and_flavour_ratio() -> None:
    sig_e = total_cross_section(E_BE7, "nu_e") * GEV2_TO_CM2
    sig_mu = total_cross_section(E_BE7, "nu_mu") * GEV2_TO_CM2
    # Tree level: ~6e-45 cm^2 for nu_e at 862 keV; nu_mu/nu_e ~ 0.2 (textbook 7Be value).
    assert 5.5e-45 < sig_e < 6.5e-45
    assert 0.19 < sig_mu / sig_e < 0.23


def test_sm_rate_reproduces_ssm_prediction() -> None:
    # SSM HZ: flux 4.93e9 cm^-2 s^-1 -> 47.9 cpd/100 t (both [M] in PHYSICS 3.3); we are tree level
    # (radiative corrections ~ -2%), so agreement at the 4% level is what to expect.
    assert sm_rate_cpd(4.93e9) == pytest.approx(47.9, rel=0.04)
    assert sm_rate_cpd(4.50e9) == pytest.approx(43.7, rel=0.04)


def test_survival_probability() -> None:
    osc = OscillationParameters()
    p_ee = survival_probability(E_BE7)
    # Borexino Phase-I: P_ee(862 keV) = 0.51 +- 0.07 (arXiv:1104.1816); LMA ~0.53 (PHYSICS 3.2).
    assert abs(p_ee - 0.51) < 0.07
    assert p_ee == pytest.approx(0.53, abs=0.01)
    # Vacuum limit: c13^4 (1 - sin^2(2 th12)/2) + s13^4.
    vac = OscillationParameters(electron_density_na=1e-9)
    s12, s13 = osc.sin2_12, osc.sin2_13
    ref = (1 - s13) ** 2 * (1 - 2 * s12 * (1 - s12)) + s13**2
    assert survival_probability(E_BE7, vac) == pytest.approx(ref, rel=1e-9)
    # Matter lowers P_ee, more so at higher energy.
    assert survival_probability(BE7_LINES[1][0]) > p_ee
    assert p_ee < ref
    # Fractions are probabilities; mu-tau symmetric point theta23 = 45 deg, delta = 90 deg.
    f = flavour_fractions(E_BE7)
    assert f.sum() == pytest.approx(1.0, abs=1e-12)
    sym = flavour_fractions(E_BE7, OscillationParameters(sin2_23=0.5, delta_cp_deg=90.0))
    assert sym[1] == pytest.approx(sym[2], rel=1e-12)


# --- X kernels ----------------------------------------------------------------------------------


def _direct_shift(bx: Borexino, m: float, x: tuple[float, float, float], p: float) -> float:
    """R - 1 from scipy quad of the full shifted cross section, line by line and flavour by flavour."""
    tot = sm = 0.0
    for (e_nu, w), f in zip(BE7_LINES, bx.fractions, strict=True):
        lo, hi = bx.window[0], float(t_max(e_nu))
        for a, flavour in enumerate(FLAVOURS):
            g_l = (0.5 if flavour == "nu_e" else -0.5) + SIN2_THETA_W_LOW
            g_r = SIN2_THETA_W_LOW

            def ds(t, xa, g_l=g_l, g_r=g_r, e_nu=e_nu):
                d = xa * p / (math.sqrt(2) * G_FERMI * (2 * M_E * t + m * m))
                gl, gr = g_l + d / 2, g_r + d / 2
                return gl**2 + gr**2 * (1 - t / e_nu) ** 2 - gl * gr * M_E * t / e_nu**2

            tot += w * f[a] * quad(ds, lo, hi, args=(x[a],), epsrel=1e-12, epsabs=0)[0]
            sm += w * f[a] * quad(ds, lo, hi, args=(0.0,), epsrel=1e-12, epsabs=0)[0]
    return tot / sm - 1.0


@pytest.mark.parametrize("m_x", [1e-5, 1e-3, 3e-2, 5.0])
def test_rate_shift_matches_direct_integration(m_x: float) -> None:
    x = (0.7, -1.3, 0.4)
    mod = Model({"nu_e": x[0], "nu_mu": x[1], "nu_tau": x[2], "e": 1.0})
    g = 2e-6 if m_x < 1e-3 else 0.1 * m_x
    assert BX.rate_shift(m_x, g, mod) == pytest.approx(_direct_shift(BX, m_x, x, g * g), rel=1e-9)


def test_full_recoil_range_light_mediator() -> None:
    # Window from T = 0: the 1/T^2 pure-X term is integrable only thanks to m_X; the log variable
    # handles it. Check against quadrature with a break point at the propagator scale.
    bx = Borexino(window=(0.0, None))
    m, g = 1e-5, 1e-7
    mod = model("B-L")
    tot = sm = 0.0
    for (e_nu, w), f in zip(BE7_LINES, bx.fractions, strict=True):
        top = float(t_max(e_nu))
        for a, flavour in enumerate(FLAVOURS):
            g_l = (0.5 if flavour == "nu_e" else -0.5) + SIN2_THETA_W_LOW

            def ds(t, on, g_l=g_l, e_nu=e_nu):
                d = on * g * g / (math.sqrt(2) * G_FERMI * (2 * M_E * t + m * m))
                gl, gr = g_l + d / 2, SIN2_THETA_W_LOW + d / 2
                return gl**2 + gr**2 * (1 - t / e_nu) ** 2 - gl * gr * M_E * t / e_nu**2

            pts = [m * m / (2 * M_E) * k for k in (1, 10, 100, 1000)]
            tot += w * f[a] * quad(ds, 0, top, args=(1.0,), points=pts, epsrel=1e-11, limit=200)[0]
            sm += w * f[a] * quad(ds, 0, top, args=(0.0,), epsrel=1e-12)[0]
    assert bx.rate_shift(m, g, mod) == pytest.approx(tot / sm - 1, rel=1e-8)


# --- SM limit and vanishing cases ------------------------------------------------------------------


def test_sm_limit() -> None:
    m = np.geomspace(1e-5, 10, 9)
    for name, kw in (("B-L", {}), ("Lmu-Ltau", {"eps": "loop"}), ("Le-Lmu", {"eps": "loop"})):
        assert np.all(BX.ratio(m, 0.0, model(name), **kw) == 0.0)
        assert np.all(BX.rate_ratio(m, 0.0, model(name), **kw) == 1.0)
        # r -> 0 as g -> 0: R - 1 is O(g^2) (p = g g_e with g_e proportional to g).
        small = BX.rate_shift(m, 1e-12, model(name), **kw)
        smaller = BX.rate_shift(m, 1e-13, model(name), **kw)
        np.testing.assert_allclose(smaller / small, 1e-2, rtol=1e-6)
        assert np.all(BX.ratio(m, 1e-12, model(name), **kw) < 1e-6)


def test_no_electron_coupling_no_effect() -> None:
    m = np.geomspace(1e-5, 10, 7)
    nu_only = Model({"nu_mu": 1.0, "nu_tau": -1.0, "mu": 1.0, "tau": -1.0})  # x_e = 0
    assert np.all(BX.rate_shift(m, 0.3, nu_only) == 0.0)
    assert np.all(np.isinf(BX.limit(m, nu_only)))
    # ... but kinetic mixing switches it on.
    assert np.all(BX.rate_shift(m, 0.3, nu_only, eps=1e-4) != 0.0)
    # No neutrino charge (dark photon): Borexino says nothing at leading order.
    assert np.all(np.isinf(BX.limit(m, model("dark-photon"))))


def test_interference_sign_follows_neutrino_charge() -> None:
    m = np.array([1e-3, 1e-2, 0.1])
    g = 3e-7 * m / 0.1  # far below the limit: the linear term dominates (quadratic ~1e-6 of it)
    constructive = model("B-L")  # x_e = x_nu = -1: g_nu g_e > 0
    destructive = Model({"e": 1.0, "nu_e": -1.0, "nu_mu": -1.0, "nu_tau": -1.0})
    assert np.all(BX.rate_shift(m, g, constructive) > 0)
    assert np.all(BX.rate_shift(m, g, destructive) < 0)
    # Linear terms are exact mirrors.
    np.testing.assert_allclose(
        BX.rate_shift(m, g, destructive), -BX.rate_shift(m, g, constructive), rtol=1e-4
    )
    # The destructive dip gives an excluded island below the allowed gap.
    (lo1, hi1), (lo2, hi2), *_ = BX.excluded_intervals(m, destructive)
    assert np.all(lo1 < hi1)
    assert np.all(hi1 < lo2)
    assert np.all(np.isinf(hi2))
    gap = np.sqrt(hi1 * lo2)
    assert np.all(BX.ratio(m, gap, destructive) < 1)
    assert np.all(BX.rate_ratio(m, gap, destructive) > 0.9)  # the rate swings back through R ~ 1


def test_lmu_ltau_flavours_interfere_with_opposite_signs() -> None:
    m, eps = 0.02, 1e-4
    only_mu = Model({"nu_mu": 1.0})
    only_tau = Model({"nu_tau": -1.0})
    both = model("Lmu-Ltau")
    tiny = 1e-9
    lin_mu = BX.rate_shift(m, tiny, only_mu, eps=eps)
    lin_tau = BX.rate_shift(m, tiny, only_tau, eps=eps)
    assert lin_mu * lin_tau < 0
    # Incoherent flavours: contributions add exactly, at any coupling.
    for g in (tiny, 1e-4, 1e-2):
        total = BX.rate_shift(m, g, both, eps=eps)
        parts = BX.rate_shift(m, g, only_mu, eps=eps) + BX.rate_shift(m, g, only_tau, eps=eps)
        assert total == pytest.approx(parts, rel=1e-12)
    # With f_mu = f_tau (theta23 = 45 deg, delta = 90 deg) the interference cancels exactly.
    sym = Borexino(oscillation=OscillationParameters(sin2_23=0.5, delta_cp_deg=90.0))
    beta, gamma = sym._beta_gamma(m, both)
    assert abs(beta) < 1e-12 * abs(sym._beta_gamma(m, only_mu)[0])
    assert gamma > 0


def test_loop_mixing_q2_dependence_is_negligible() -> None:
    q2 = -2 * M_E * np.linspace(BX.window[0], float(t_max(E_BE7)), 20)
    lmt = loop_mixing_over_g(model("Lmu-Ltau"), q2).real
    ref = loop_mixing_over_g(model("Lmu-Ltau"), BX.q2_ref).real
    assert np.max(np.abs(lmt / ref - 1)) < 1e-5
    assert float(ref) == pytest.approx(1 / 69.3, rel=1e-3)  # PHYSICS 9
    # Electron loops: eps varies by a few percent, g_e = x_e - e eps/g by < 2e-4.
    for name in ("Le-Lmu", "Le-Ltau"):
        mod = model(name)
        g_e = 1.0 - E_CHARGE * loop_mixing_over_g(mod, q2).real
        g_e_ref = 1.0 - E_CHARGE * loop_mixing_over_g(mod, BX.q2_ref).real
        assert np.max(np.abs(g_e / g_e_ref - 1)) < 2e-4


# --- mass dependence ----------------------------------------------------------------------------


def test_heavy_mass_contact_scaling() -> None:
    m = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
    for name, kw in (("B-L", {}), ("Lmu-Ltau", {"eps": "loop"})):
        lim = BX.limit(m, model(name), **kw)
        # corrections are O(2 m_e T / m^2) = 7e-5 at 100 MeV
        np.testing.assert_allclose(lim / m, lim[-1] / m[-1], rtol=1e-4)
        np.testing.assert_allclose(lim[1:] / m[1:], lim[-1] / m[-1], rtol=1e-5)
    # Only g/m_X matters in the contact limit.
    assert BX.ratio(1.0, 1e-3, model("B-L")) == pytest.approx(
        BX.ratio(4.0, 4e-3, model("B-L")), rel=1e-6
    )


def test_light_mass_saturates() -> None:
    # m_X^2 << 2 m_e T_lo = (0.44 MeV)^2: the propagator no longer depends on m_X.
    lim = BX.limit(np.array([1e-5, 2e-5]), model("B-L"))
    assert lim[1] == pytest.approx(lim[0], rel=2e-2)


def test_contact_limit_against_closed_form() -> None:
    """Heavy X: g_V shifts by the constant delta = g^2/(sqrt2 G_F m^2) (B-L: g_nu g_e = g^2)."""
    r_m = 48.3 / 47.9
    sig = r_m * math.hypot(math.hypot(1.1, 0.7) / 48.3, 2.8 / 47.9)
    r_hi = r_m + math.sqrt(2.705543 * sig**2 + (1 - r_m) ** 2)

    def rate(delta: float) -> float:
        total = 0.0
        for (e_nu, w), f in zip(BE7_LINES, BX.fractions, strict=True):
            lo, hi = 0.19e-3, 2 * e_nu**2 / (M_E + 2 * e_nu)
            for a, flavour in enumerate(FLAVOURS):
                gl = (0.5 if flavour == "nu_e" else -0.5) + SIN2_THETA_W_LOW + delta / 2
                gr = SIN2_THETA_W_LOW + delta / 2
                val = (
                    gl**2 * (hi - lo)
                    + gr**2 * e_nu / 3 * ((1 - lo / e_nu) ** 3 - (1 - hi / e_nu) ** 3)
                    - gl * gr * M_E * (hi**2 - lo**2) / (2 * e_nu**2)
                )
                total += w * f[a] * val
        return total

    lo_d, hi_d = 0.0, 1.0  # bisection for R(delta) = r_hi
    for _ in range(100):
        mid = 0.5 * (lo_d + hi_d)
        lo_d, hi_d = (mid, hi_d) if rate(mid) / rate(0.0) < r_hi else (lo_d, mid)
    m = 10.0
    g_ref = math.sqrt(lo_d * math.sqrt(2) * G_FERMI) * m
    assert float(BX.limit(m, model("B-L"))) == pytest.approx(g_ref, rel=1e-6)


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("B-L", {}),
        ("Lmu-Ltau", {"eps": "loop"}),
        ("Lmu-Ltau", {"eps": 3e-6}),
        ("Le-Lmu", {"eps_over_g": 0.3}),
    ],
)
def test_closed_form_limits_match_scan(name: str, kw: dict) -> None:
    m = np.geomspace(1e-5, 10, 8)
    mod = model(name)
    eps = kw.get("eps", 0.0)
    eog = kw.get("eps_over_g")
    grid = np.geomspace(1e-10, 1e3, 521)
    scan = intervals_by_scan(lambda g: BX.ratio(m, g, mod, eps=eps, eps_over_g=eog), m.shape, grid)
    mine = BX.excluded_intervals(m, mod, **kw)
    np.testing.assert_allclose(mine[0][0], scan[0][0], rtol=1e-9)
    np.testing.assert_allclose(mine[0][1], scan[0][1], rtol=1e-9)
    r_at = BX.ratio(m, mine[0][0], mod, eps=eps, eps_over_g=eog)
    np.testing.assert_allclose(r_at, 1.0, rtol=1e-8)


def test_destructive_islands_match_scan() -> None:
    m = np.geomspace(1e-4, 1.0, 5)
    mod = Model({"e": 1.0, "nu_e": -1.0, "nu_mu": -1.0, "nu_tau": -1.0})
    grid = np.geomspace(1e-8, 1.0, 1401)  # 200 per decade resolves the allowed gap
    for bx in (BX, BX_LZ):
        scan = intervals_by_scan(lambda g, bx=bx: bx.ratio(m, g, mod), m.shape, grid, max_intervals=2)
        mine = bx.excluded_intervals(m, mod)
        for j in range(2):
            for k in range(2):
                np.testing.assert_allclose(mine[j][k], scan[j][k], rtol=1e-9)


def test_fixed_eps_limit_with_mixing_alone_excluding() -> None:
    # L_mu-L_tau with a fixed eps: g_e = -e eps; p = -g e eps is linear in g.
    m, eps = 0.01, 1e-3
    lim = float(BX.limit(m, model("Lmu-Ltau"), eps=eps))
    assert BX.ratio(m, lim, model("Lmu-Ltau"), eps=eps) == pytest.approx(1.0, rel=1e-8)
    assert BX.ratio(m, 0.99 * lim, model("Lmu-Ltau"), eps=eps) < 1.0
    # eps_over_g and eps together is an error.
    with pytest.raises(ValueError, match="not both"):
        BX.limit(m, model("Lmu-Ltau"), eps=eps, eps_over_g=0.1)


def test_out_of_range_and_names() -> None:
    assert BX.name == "borexino"
    assert BX_LZ.name == "borexino_lz"
    assert BX.cl == pytest.approx(0.90)
    assert np.isnan(BX.limit(20.0, model("B-L")))
    assert np.isnan(BX.ratio(20.0, 1e-3, model("B-L")))
    with pytest.raises(ValueError, match="solar model"):
        Borexino("XZ")
    with pytest.raises(ValueError, match="loop_scale"):
        BX.limit(0.01, model("B-L"), eps="loop")
    # LZ normalisation (R_meas = 1.105) favours a higher rate: weaker limit for constructive X.
    assert BX_LZ.limit(0.01, model("B-L")) > BX.limit(0.01, model("B-L"))
    assert BX.sigma_r / BX.r_meas == pytest.approx(0.064, abs=1e-3)  # PHYSICS 3.4: ~6.4% (HZ)
    assert BX_LZ.sigma_r / BX_LZ.r_meas == pytest.approx(0.063, abs=1e-3)


def test_lmu_ltau_excludes_part_of_g2_band_below_20_mev() -> None:
    # Amaral et al. 2006.11225 (abstract): Borexino excludes part of the (g-2)_mu explanation for
    # m_Z' < 2e-2 GeV. The 2021 band (2 sigma) against this limit (HZ, 90% CL, loop eps):
    mod = model("Lmu-Ltau")
    m = np.array([5e-3, 1e-2, 5e-2, 0.2])
    _, upper = gm2.band(mod, m, eps="loop", dataset="2021")
    lim = BX.limit(m, mod, eps="loop")
    assert np.all(lim[:2] < upper[:2])
    assert np.all(lim[2:] > upper[2:])


def test_bl_order_of_magnitude() -> None:
    # B-L: contact regime g/m_X ~ 1.4e-3 / GeV; saturates near 1e-6 below ~0.5 MeV (1803.05466
    # Fig. 13 shows the Borexino B-L curve at this level [M]; digits are not checked here).
    lim = BX.limit(np.array([1e-3, 1e-2, 1e-1]), model("B-L"))
    assert 1e-6 < lim[0] < 5e-6
    assert 1e-5 < lim[1] < 3e-5
    assert 1e-4 < lim[2] < 3e-4


# --- symmetries ---------------------------------------------------------------------------------

_charge = st.integers(-4, 4).map(float)


@settings(max_examples=25, deadline=None)
@given(
    le=_charge,
    lmu=_charge,
    ltau=_charge,
    eps=st.floats(-1e-3, 1e-3, allow_subnormal=False),
    log_m=st.floats(-5, 1, allow_subnormal=False),
)
def test_sign_flip_changes_nothing(le: float, lmu: float, ltau: float, eps: float, log_m: float) -> None:
    m, g = 10.0**log_m, 10.0 ** (log_m + 0.5) * 1e-2
    mod = Model.from_generators(Le=le, Lmu=lmu, Ltau=ltau)
    flip = Model.from_generators(Le=-le, Lmu=-lmu, Ltau=-ltau)
    assert BX.ratio(m, g, flip, eps=-eps) == pytest.approx(BX.ratio(m, g, mod, eps=eps), rel=1e-12)
    np.testing.assert_allclose(BX.limit(m, flip, eps=-eps), BX.limit(m, mod, eps=eps), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    le=_charge,
    lmu=_charge,
    k=st.floats(0.1, 10.0, allow_subnormal=False),
    log_m=st.floats(-5, 1, allow_subnormal=False),
    eps=st.floats(-1e-4, 1e-4, allow_subnormal=False),
)
def test_charge_scaling(le: float, lmu: float, k: float, log_m: float, eps: float) -> None:
    m = 10.0**log_m
    mod = Model.from_generators(Le=le, Lmu=lmu, Ltau=-le - lmu)  # sum of L's = 0: loop eps is finite
    big = mod.scaled(k)
    # A fixed eps stays fixed: with g -> g/k the couplings g x_f and eps e Q_f are unchanged.
    for kw in ({}, {"eps": "loop"}, {"eps": eps}):
        lim = BX.limit(m, mod, **kw)
        lim_big = BX.limit(m, big, **kw)
        if np.isinf(lim):
            assert np.isinf(lim_big)
        else:
            assert float(lim_big) == pytest.approx(float(lim) / k, rel=1e-9)


# --- speed --------------------------------------------------------------------------------------


def test_speed_thousand_models_two_hundred_masses() -> None:
    rng = np.random.default_rng(1)
    batch = Model.from_generators(
        B=rng.integers(-3, 4, 1000), Le=rng.integers(-3, 4, 1000), Lmu=rng.integers(-3, 4, 1000)
    )
    m = np.geomspace(1e-5, 10, 200)[:, None]
    bx = Borexino()
    start = time.perf_counter()
    lim = bx.limit(m, batch)
    r = bx.ratio(m, 1e-4, batch)
    elapsed = time.perf_counter() - start
    assert lim.shape == (200, 1000)
    assert r.shape == (200, 1000)
    assert elapsed < 2.0
