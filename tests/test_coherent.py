"""COHERENT CsI 2017 (CEvNS): flux, form factor, SM rate, chi^2, X limits vs independent numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import minimize
from scipy.special import spherical_jn

from zprime_atlas.constants import G_FERMI, HBARC_GEV_FM, M_MU, M_PI_CHARGED, SIN2_THETA_W_LOW
from zprime_atlas.constraints.coherent import (
    CS133,
    I127,
    PROMPT_ENERGY,
    CoherentCsI2017,
    helm_form_factor,
    michel_spectrum,
    recoil_factor,
)
from zprime_atlas.models import Model, model

DATA = Path(__file__).resolve().parents[1] / "zprime_atlas" / "data" / "coherent"


@pytest.fixture(scope="module")
def csi() -> CoherentCsI2017:
    return CoherentCsI2017()


# -- flux -----------------------------------------------------------------------------------------


def test_prompt_line_energy() -> None:
    # pi+ -> mu+ nu_mu at rest: E = (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV
    e_pi = PROMPT_ENERGY
    assert e_pi == pytest.approx(0.02979, abs=1e-5)
    assert e_pi == pytest.approx((139.57039**2 - 105.6583755**2) / (2 * 139.57039) * 1e-3, rel=1e-6)
    assert M_PI_CHARGED > M_MU


@pytest.mark.parametrize(("flavour", "mean_over_mmu"), [("nu_e", 0.3), ("nubar_mu", 0.35)])
def test_michel_spectra_normalised_with_known_means(flavour: str, mean_over_mmu: float) -> None:
    # Means from the moments: nu_e 192 int x^3 (1/2 - x) = 192 (1/128 - 1/160) = 0.3 (i.e. 0.6 m_mu/2);
    # nubar_mu 64 int x^3 (3/4 - x) = 64 (3/256 - 1/160) = 0.35 (0.7 m_mu/2), x from 0 to 1/2.
    end = M_MU / 2
    norm = quad(lambda e: michel_spectrum(flavour, e), 0, end, epsabs=0, epsrel=1e-12)[0]
    mean = quad(lambda e: e * michel_spectrum(flavour, e), 0, end, epsabs=0, epsrel=1e-12)[0]
    assert norm == pytest.approx(1.0, rel=1e-10)
    assert mean / M_MU == pytest.approx(mean_over_mmu, rel=1e-10)
    assert michel_spectrum(flavour, end * 1.01) == 0.0


@pytest.mark.parametrize("flavour", ["nu_e", "nubar_mu"])
@pytest.mark.parametrize("t_kev", [0.5, 5.0, 15.0, 30.0, 44.0])
def test_recoil_factor_closed_form_matches_quadrature(flavour: str, t_kev: float) -> None:
    m_nuc, t = CS133.mass, t_kev * 1e-6
    e_min = math.sqrt(m_nuc * t / 2)
    ref = quad(
        lambda e: michel_spectrum(flavour, e) * (1 - m_nuc * t / (2 * e * e)),
        e_min,
        M_MU / 2,
        epsabs=0,
        epsrel=1e-11,
    )[0]
    assert recoil_factor(flavour, m_nuc, t) == pytest.approx(ref, rel=1e-9, abs=1e-13)


def test_recoil_factor_limits() -> None:
    assert recoil_factor("nu_e", CS133.mass, 0.0) == pytest.approx(1.0)
    t_end = 2 * (M_MU / 2) ** 2 / CS133.mass  # endpoint of the delayed spectra: 45 keV on Cs
    assert recoil_factor("nubar_mu", CS133.mass, 1.001 * t_end) == 0.0
    t_prompt = 2 * PROMPT_ENERGY**2 / I127.mass
    assert recoil_factor("nu_mu_prompt", I127.mass, [0.5 * t_prompt, t_prompt, 2 * t_prompt]) == (
        pytest.approx([0.5, 0.0, 0.0], abs=1e-12)
    )


# -- form factor ----------------------------------------------------------------------------------


def test_helm_form_factor_normalised_and_decreasing() -> None:
    assert helm_form_factor(0.0, 133) == pytest.approx(1.0, abs=1e-12)
    assert helm_form_factor(1e-9, 133) == pytest.approx(1.0, abs=1e-12)
    q_max = math.sqrt(2 * CS133.mass * 50 / 1.17 * 1e-6)  # largest q counted: 103 MeV
    q = np.linspace(0, q_max, 400)
    for a in (127, 133):
        f = helm_form_factor(q, a)
        assert np.all(np.diff(f) < 0)
        assert 0.2 < f[-1] < 0.45  # F(103 MeV) ~ 0.3 for Cs: a large suppression at the top


@pytest.mark.parametrize("q_gev", [0.02, 0.05, 0.1])
def test_helm_form_factor_against_sphere_transform(q_gev: float) -> None:
    # Independent: Fourier transform of a uniform sphere of radius R1 (numerically), times the
    # Gaussian smearing exp(-q^2 s^2/2); and the closed form with scipy's spherical Bessel j1.
    s, a_skin = 0.9, 0.52
    c = 1.23 * 133 ** (1 / 3) - 0.60
    r1 = math.sqrt(c * c + 7 * math.pi**2 * a_skin**2 / 3 - 5 * s * s)
    q = q_gev / HBARC_GEV_FM
    sphere = 3 / r1**3 * quad(lambda r: r * r * math.sin(q * r) / (q * r), 0, r1, epsrel=1e-12)[0]
    ref = sphere * math.exp(-0.5 * q * q * s * s)
    assert helm_form_factor(q_gev, 133) == pytest.approx(ref, rel=1e-9)
    bessel = 3 * spherical_jn(1, q * r1) / (q * r1) * math.exp(-0.5 * q * q * s * s)
    assert helm_form_factor(q_gev, 133) == pytest.approx(bessel, rel=1e-9)


# -- SM prediction --------------------------------------------------------------------------------


def test_sm_prediction_within_published_uncertainty(csi: CoherentCsI2017) -> None:
    # Akimov et al. 1708.01294: SM expectation 173 +- 48 events (our own calculation: 187.7).
    assert abs(csi.sm_counts - 173.0) < 48.0
    parts = csi.flavour_counts()
    assert sum(parts.values()) == pytest.approx(csi.sm_counts, rel=1e-12)
    # The delayed flux dominates; the prompt line (29.8 MeV) gives the softest recoils.
    assert parts["nu_mu_prompt"] < parts["nu_e"] < parts["nubar_mu"]


@pytest.mark.slow  # a double integral by brute force (about 3 s)
def test_sm_prediction_by_independent_brute_force(csi: CoherentCsI2017) -> None:
    # Same inputs, different method: double integral on plain grids (trapezoid in E and T),
    # efficiency straight from the CSV, Helm with scipy's j1, targets from the molar mass of CsI.
    eff = np.loadtxt(DATA / "COHERENT_CsI_2017_efficiency.csv", delimiter=",", skiprows=5)
    n_pairs = 14.6e3 / (132.905452 + 126.904473) * 6.02214076e23
    fluence = 0.08 * 1.76e23 / (4 * math.pi * 1930.0**2)  # per cm^2
    hbarc_cm = 1.973269804e-14  # GeV cm
    e = np.linspace(1e-5, M_MU / 2, 6001)
    x = e / M_MU
    delayed = (192 * x**2 * (0.5 - x) + 64 * x**2 * (0.75 - x)) / M_MU
    t_kev = np.linspace(4.49406 / 1.17, 50 / 1.17, 6001)
    t = t_kev * 1e-6
    total = 0.0
    for z, n, mass in ((55, 78, CS133.mass), (53, 74, I127.mass)):
        qw = n - (1 - 4 * SIN2_THETA_W_LOW) * z
        kin = np.clip(1 - mass * t[:, None] / (2 * e[None, :] ** 2), 0, None)
        spec = np.trapezoid(kin * delayed[None, :], e, axis=1)
        spec += np.clip(1 - mass * t / (2 * PROMPT_ENERGY**2), 0, None)
        a = z + n
        cc = 1.23 * a ** (1 / 3) - 0.60
        r1 = math.sqrt(cc * cc + 7 * math.pi**2 * 0.52**2 / 3 - 5 * 0.81)
        qr = np.sqrt(2 * mass * t) / HBARC_GEV_FM * r1
        ff = (
            3
            * spherical_jn(1, qr)
            / qr
            * np.exp(-0.5 * (np.sqrt(2 * mass * t) / HBARC_GEV_FM * 0.9) ** 2)
        )
        rate = G_FERMI**2 * mass / (4 * math.pi) * qw**2 * hbarc_cm**2 * ff**2 * spec
        rate *= np.interp(1.17 * t_kev, eff[:, 0], eff[:, 1])
        total += n_pairs * fluence * np.trapezoid(rate, t)
    assert csi.sm_counts == pytest.approx(total, rel=2e-3)


def test_sm_spectrum_matches_published_histogram(csi: CoherentCsI2017) -> None:
    # The SM histogram of 1708.01294 Fig. 3 (digitised): bins 6-30 PE hold 90% of the events.
    pred = csi.predicted_spectrum(1.0, 0.0, model("B-L"))
    assert pred.shape == (25,)
    assert pred.sum() == pytest.approx(csi.sm_counts, rel=1e-10)
    published = csi.spectrum_table[:, 4]
    sel = slice(3, 15)  # 6-30 PE
    assert pred[sel].sum() == pytest.approx(published[sel].sum(), rel=0.08)
    np.testing.assert_allclose(pred[sel], published[sel], rtol=0.12)


# -- statistics -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n_pred", [0.0, 80.0, 136.0, 173.0, 250.0, 600.0])
def test_chi2_closed_form_is_the_profiled_minimum(csi: CoherentCsI2017, n_pred: float) -> None:
    st_ = csi.statistics

    def full(p: np.ndarray) -> float:
        a, b = p
        resid = st_.n_meas - n_pred * (1 + a) - st_.b_on * (1 + b)
        return resid**2 / (142 + 2 * 405 + 6) + (a / 0.28) ** 2 + (b / 0.25) ** 2

    best = minimize(full, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    assert float(st_.chi2(n_pred)) == pytest.approx(best.fun, rel=1e-6, abs=1e-9)


def test_count_window_and_sm_not_excluded(csi: CoherentCsI2017) -> None:
    n_lo, n_hi = csi.count_window
    crit = 2.705543454095404  # chi2.ppf(0.90, 1)
    assert csi.dchi2_crit == pytest.approx(crit)
    for n in (n_lo, n_hi):
        assert float(csi.statistics.chi2(n)) == pytest.approx(csi.chi2_sm + crit, rel=1e-10)
    assert n_lo < 136 < csi.sm_counts < n_hi
    assert csi.ratio(0.01, 0.0, model("B-L")) == 0.0
    # The SM stays allowed at any CL, and r grows with CL-independent chi^2.
    assert CoherentCsI2017(cl=0.99).ratio(0.01, 0.0, model("B-L")) == 0.0
    with pytest.raises(ValueError, match="confidence level"):
        CoherentCsI2017(cl=0.9999)


# -- which X change the rate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "eps"), [("Lmu-Ltau", 0.0), ("B", 0.0), ("dark-photon", 0.0), ("B", 1e-3)]
)
def test_no_quark_or_no_neutrino_coupling_changes_nothing(
    csi: CoherentCsI2017, name: str, eps: float
) -> None:
    masses = np.geomspace(1e-3, 5.0, 7)
    g = np.array([1e-5, 1e-3, 1e-1])[:, None]
    assert np.all(csi.rate_ratio(masses, g, model(name), eps=eps) == 1.0)
    assert np.all(csi.ratio(masses, g, model(name), eps=eps) == 0.0)
    assert np.all(np.isinf(csi.limit(masses, model(name))))


def test_b_minus_l_interferes_constructively(csi: CoherentCsI2017) -> None:
    # B-L: g_nu = -g, g_p = g_n = g -> Q_eff = Q_W + (sqrt2/G_F) g^2 A/(2MT + m^2) > Q_W.
    ratio = csi.rate_ratio(0.01, np.array([1e-5, 3e-5, 1e-4]), model("B-L"))
    assert np.all(np.diff(ratio) > 0)
    assert ratio[0] > 1.0
    lim = csi.excluded_intervals([0.01, 0.1, 1.0], model("B-L"))
    assert np.all(np.isinf(lim[0][1]))  # one interval [g, inf) ...
    assert np.all(np.isinf(lim[1][0]))  # ... and no second one


def test_contact_limit_rate_against_formula(csi: CoherentCsI2017) -> None:
    # m_X >> sqrt(2MT) ~ 0.1 GeV: Q_eff = Q_W + sqrt2 g^2 A/(G_F m^2) for B-L (every flavour alike),
    # so N/N_SM lies between the two nuclei's (1 + delta_n)^2.
    m, g = 5.0, 4e-3
    bounds = []
    for nuc in (CS133, I127):
        qw = nuc.N - (1 - 4 * SIN2_THETA_W_LOW) * nuc.Z
        bounds.append((1 + math.sqrt(2) * g * g * nuc.A / (G_FERMI * m * m * qw)) ** 2)
    ratio = float(csi.rate_ratio(m, g, model("B-L")))
    assert min(bounds) * (1 - 1e-3) < ratio < max(bounds)
    assert ratio > 1.2  # a visible effect at this coupling


def test_heavy_mass_limit_scales_with_mass(csi: CoherentCsI2017) -> None:
    for name in ("B-L", "B-3Lmu"):
        lim = csi.limit([2.0, 10.0], model(name))
        assert lim[1] / lim[0] == pytest.approx(5.0, rel=2e-3)


def test_light_mass_limit_flattens(csi: CoherentCsI2017) -> None:
    # Propagator 1/(2MT + m^2) with 2MT >= 9e-4 GeV^2 (T >= 3.8 keV): flat for m << 30 MeV.
    lim = csi.limit([1e-5, 1e-3, 1e-2, 1e-1], model("B-L"))
    assert lim[1] / lim[0] == pytest.approx(1.0, abs=2e-3)
    assert 1.0 < lim[2] / lim[1] < 1.1
    assert lim[3] / lim[2] > 1.5


def test_order_of_magnitude_limits(csi: CoherentCsI2017) -> None:
    # Light B-L: g ~ 6e-5; heavy: m/g ~ 0.9 TeV. B-3Lmu stronger (x_nu_mu = -3 on 2/3 of the flux).
    bl = csi.limit([1e-3, 1.0], model("B-L"))
    b3 = csi.limit([1e-3, 1.0], model("B-3Lmu"))
    assert 3e-5 < bl[0] < 1.2e-4
    assert 5e-4 < bl[1] < 2e-3
    assert np.all(b3 < bl)


def test_universal_coupling_against_bradkav(csi: CoherentCsI2017) -> None:
    # bradkav/CEvNS results/COHERENT_Zprime.txt (same chi^2, their own rate calculation): for
    # g_nu g_q = gsq on every flavour and quark, Delta chi^2 = 2.71 (destructive side) at
    # gsq = 1.50e-9 for m -> 0 and 5.15e-5 at m = 10 GeV. Ours is the same statistic at chi^2 = 2.71.
    universal = Model({"u": 1, "d": 1, "nu_e": 1, "nu_mu": 1})
    for m, ref in ((1e-6, 1.50e-9), (10.0, 5.15e-5)):
        gsq = np.geomspace(0.5 * ref, 2 * ref, 2001)
        chi2 = csi.statistics.chi2(csi.predicted_counts(m, np.sqrt(gsq), universal))
        i_min = int(np.argmin(chi2))
        crossing = gsq[i_min + int(np.argmax(chi2[i_min:] > 2.71))]
        assert crossing == pytest.approx(ref, rel=0.25)


# -- interference, intervals and consistency ------------------------------------------------------


def test_destructive_island_edges(csi: CoherentCsI2017) -> None:
    universal = Model({"u": 1, "d": 1, "nu_e": 1, "nu_mu": 1})
    masses = np.array([1e-3, 0.05, 1.0])
    (lo1, hi1), (lo2, hi2) = csi.excluded_intervals(masses, universal)
    assert np.all(lo1 < hi1)
    assert np.all(hi1 < lo2)
    assert np.all(np.isinf(hi2))
    for edge in (lo1, hi1, lo2):
        np.testing.assert_allclose(csi.ratio(masses, edge, universal), 1.0, rtol=1e-7)
    mid = np.sqrt(hi1 * lo2)  # between the island and the upper region: allowed
    assert np.all(csi.ratio(masses, mid, universal) < 1.0)
    assert np.all(csi.ratio(masses, np.sqrt(lo1 * hi1), universal) > 1.0)
    np.testing.assert_array_equal(csi.limit(masses, universal), lo1)


@pytest.mark.parametrize(
    ("name", "eps"), [("B-L", None), ("B-3Lmu", None), ("B-3Le", None), ("Lmu-Ltau", "loop")]
)
def test_limit_is_where_ratio_reaches_one(csi: CoherentCsI2017, name: str, eps: str | None) -> None:
    m = np.geomspace(1e-4, 8.0, 15)
    x = model(name)
    lim = csi.limit(m, x, eps=eps)
    r_eps = 0.0 if eps is None else eps
    np.testing.assert_allclose(csi.ratio(m, lim, x, eps=r_eps), 1.0, rtol=1e-8)
    assert np.all(csi.ratio(m, 0.99 * lim, x, eps=r_eps) < 1)
    assert np.all(csi.ratio(m, 1.01 * lim, x, eps=r_eps) > 1)
    assert np.all(csi.ratio(m, np.geomspace(1e-3, 0.98, 9)[:, None] * lim, x, eps=r_eps) < 1)


def test_fixed_eps_scan_agrees_with_closed_form(csi: CoherentCsI2017) -> None:
    masses = np.array([1e-3, 0.03, 0.3])
    for name in ("B-L", "Le-Lmu"):
        closed = csi.limit(masses, model(name), eps_over_g=0.0)
        scanned = csi.limit(masses, model(name), eps=0.0)
        np.testing.assert_allclose(scanned, closed, rtol=1e-8)


def test_loop_mixing(csi: CoherentCsI2017) -> None:
    # L_mu-L_tau reaches the nucleus only through eps(0) = g/69.3 (g_p = 0.00437 g): destructive for
    # nu_mu, so a limit exists, of order 1e-2 - 1e-3.
    lim = csi.limit([0.01, 0.1, 0.4], model("Lmu-Ltau"), eps="loop")
    assert np.all(np.isfinite(lim))
    assert np.all((lim > 1e-3) & (lim < 5e-2))
    assert np.all(np.diff(lim) > 0)
    assert csi.rate_ratio(0.01, 1e-3, model("Lmu-Ltau"), eps="loop") < 1.0
    with pytest.raises(ValueError, match="loop_scale"):
        csi.limit(0.01, model("B-L"), eps="loop")
    assert np.isfinite(csi.limit(0.01, model("B-L"), eps="loop", loop_scale=1.0))


def test_kinetic_mixing_alone_needs_a_neutrino_coupling(csi: CoherentCsI2017) -> None:
    # Fixed eps with a model whose neutrinos carry charge: eps e adds to g_p.
    base = csi.rate_ratio(0.01, 2e-5, model("Le-Lmu"), eps=0.0)
    assert base == 1.0
    with_eps = csi.rate_ratio(0.01, 2e-5, model("Le-Lmu"), eps=[-1e-3, 1e-3])
    assert with_eps[0] != with_eps[1]  # the sign of eps relative to g matters (nu_e vs nu_mu)


def test_out_of_range_and_shapes(csi: CoherentCsI2017) -> None:
    assert np.isnan(csi.ratio(20.0, 1e-3, model("B-L")))
    assert np.isnan(csi.limit(20.0, model("B-L")))
    batch = Model.from_generators(
        B=np.array([1.0, 1.0, 0.0])[:, None], Lmu=np.array([-1.0, -3.0, 1.0])[:, None]
    )
    masses = np.array([1e-3, 1e-2, 0.1, 1.0])
    lim = csi.limit(masses, batch)
    assert lim.shape == (3, 4)
    for i in range(3):
        single = Model.from_generators(B=[1.0, 1.0, 0.0][i], Lmu=[-1.0, -3.0, 1.0][i])
        np.testing.assert_allclose(lim[i], csi.limit(masses, single), rtol=1e-12)
    assert csi.ratio(masses, np.array([1e-5, 1e-4])[:, None, None], batch).shape == (2, 3, 4)


# -- symmetries -----------------------------------------------------------------------------------

charges = st.floats(-3, 3, allow_nan=False, allow_subnormal=False).map(lambda v: round(v, 2))


@settings(max_examples=25, deadline=None)
@given(
    B=charges,
    Le=charges,
    Lmu=charges,
    eps=st.floats(-1e-3, 1e-3, allow_subnormal=False).map(lambda v: round(v, 8)),
    g=st.floats(1e-6, 1e-3, allow_subnormal=False),
    m=st.floats(1e-4, 3.0, allow_subnormal=False),
)
def test_sign_flip_of_all_charges_and_eps(
    csi: CoherentCsI2017, B: float, Le: float, Lmu: float, eps: float, g: float, m: float
) -> None:
    mod = Model.from_generators(B=B, Le=Le, Lmu=Lmu, Ltau=-3 * B - Le - Lmu)
    r = csi.ratio(m, g, mod, eps=eps)
    r_flip = csi.ratio(m, g, -mod, eps=-eps)
    assert r_flip == pytest.approx(r, rel=1e-12, abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(
    B=charges,
    Le=charges,
    Lmu=charges,
    xi=st.floats(-0.5, 0.5, allow_subnormal=False).map(lambda v: round(v, 4)),
    k=st.floats(0.1, 10.0, allow_subnormal=False),
    m=st.floats(1e-4, 3.0, allow_subnormal=False),
)
def test_scaling_charges_scales_limits(
    csi: CoherentCsI2017, B: float, Le: float, Lmu: float, xi: float, k: float, m: float
) -> None:
    mod = Model.from_generators(B=B, Le=Le, Lmu=Lmu, Ltau=-3 * B - Le - Lmu)
    # Same physics: charges x k, g / k, eps fixed -> eps/g x k.
    ref = csi.excluded_intervals(m, mod, eps_over_g=xi)
    scaled = csi.excluded_intervals(m, mod.scaled(k), eps_over_g=k * xi)
    for (lo, hi), (lo_k, hi_k) in zip(ref, scaled, strict=True):
        np.testing.assert_allclose(lo_k * k, lo, rtol=1e-9)
        np.testing.assert_allclose(hi_k * k, hi, rtol=1e-9)


def test_scaling_with_fixed_eps(csi: CoherentCsI2017) -> None:
    mod, k = model("B-L"), 3.0
    masses = np.array([1e-3, 0.1])
    ref = csi.limit(masses, mod, eps=2e-5)
    np.testing.assert_allclose(csi.limit(masses, mod.scaled(k), eps=2e-5) * k, ref, rtol=1e-8)
