"""(g-2): the one-loop vector contribution, data sets and the g_X band, against independent numbers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from zprime_atlas import gm2
from zprime_atlas.constants import ALPHA_EM, E_CHARGE, M_E, M_MU
from zprime_atlas.models import Model, model


def _quad_integral(r: float) -> float:
    """F(r) by adaptive quadrature, with break points at the integrand's features."""
    if r > 1:  # the integrand turns over at z ~ 1/r: integrate piecewise on a log ladder
        edges = [0.0, *[min(10.0**k / r, 1.0) for k in range(0, 12) if 10.0**k / r < 1.0], 1.0]
    else:  # the feature sits at 1 - z ~ sqrt(r)
        edges = [0.0, 1.0 - min(math.sqrt(r), 0.5), 1.0]
    return sum(
        quad(
            lambda z: z * (1 - z) ** 2 / ((1 - z) ** 2 + r * z),
            a,
            b,
            epsabs=0.0,
            epsrel=1e-12,
            limit=200,
        )[0]
        for a, b in itertools.pairwise(edges)
    )


@pytest.mark.parametrize("r", [1e-8, 1e-4, 0.1, 1.0, 3.9, 4.0, 4.1, 7.9, 8.1, 50.0, 1e3, 1e6, 1e9])
def test_loop_integral_matches_quadrature(r: float) -> None:
    assert gm2.loop_integral(r) == pytest.approx(_quad_integral(r), rel=1e-9)


def test_light_limit_g2_over_8pi2() -> None:
    # m_X << m_mu: Delta a -> g^2 / (8 pi^2); PHYSICS 1.1 quotes the ratio 0.972 at 1 MeV,
    # 0.783 at 10 MeV.
    g = 1e-3
    ref = g**2 / (8 * math.pi**2)
    assert gm2.delta_a("mu", 1e-7, g) == pytest.approx(ref, rel=1e-4)
    assert gm2.delta_a("mu", 1e-3, g) / ref == pytest.approx(0.972, abs=1e-3)
    assert gm2.delta_a("mu", 1e-2, g) / ref == pytest.approx(0.783, abs=1e-3)


def test_heavy_limit_g2_m2_over_12pi2_m2() -> None:
    # m_X >> m_mu: Delta a -> g^2 m_mu^2 / (12 pi^2 m_X^2); ratios 0.912 at 1 GeV, 0.998 at 10 GeV.
    g = 1e-2
    for m_x, ratio in ((1.0, 0.912), (10.0, 0.998)):
        ref = g**2 * M_MU**2 / (12 * math.pi**2 * m_x**2)
        assert gm2.delta_a("mu", m_x, g) / ref == pytest.approx(ratio, abs=1e-3)
    ref = g**2 * M_MU**2 / (12 * math.pi**2 * 1e4)
    assert gm2.delta_a("mu", 100.0, g) == pytest.approx(ref, rel=1e-4)


def test_anchor_coupling_for_251e11() -> None:
    # PHYSICS 1.1 [D]: Delta a_mu = 251e-11 at m_X -> 0 needs g_mu = 4.45e-4.
    g = math.sqrt(251e-11 * 8 * math.pi**2)
    assert g == pytest.approx(4.45e-4, rel=2e-3)
    assert gm2.delta_a("mu", 1e-8, g) == pytest.approx(251e-11, rel=1e-5)


def test_dark_photon_alpha_over_2pi() -> None:
    # Dark photon (g_X = 0, eps): Delta a = eps^2 alpha / (2 pi) at small mass.
    eps = 1e-3
    a = gm2.contribution(Model({}), 1e-9, g_X=0.0, eps=eps, lepton="e")
    assert a == pytest.approx(eps**2 * ALPHA_EM / (2 * math.pi), rel=1e-6)
    # Both spellings of the dark photon agree (DESIGN section 3).
    for m_x in (1e-3, 0.05, 2.0):
        a1 = gm2.contribution(Model({}), m_x, g_X=0.0, eps=eps, lepton="mu")
        a2 = gm2.contribution(model("dark-photon"), m_x, g_X=eps * E_CHARGE, lepton="mu")
        assert a1 == pytest.approx(a2, rel=1e-12)


def test_delta_a_positive_and_vectorized() -> None:
    m = np.geomspace(1e-4, 100, 50)
    g = np.array([1e-4, 1e-3])[:, None]
    a = gm2.delta_a("mu", m, g)
    assert a.shape == (2, 50)
    assert np.all(a > 0)
    assert np.allclose(a[1] / a[0], 100.0)
    assert np.all(np.diff(a[0]) < 0)  # heavier X, smaller effect


@settings(max_examples=40, deadline=None)
@given(
    B=st.floats(-3, 3, allow_subnormal=False),
    Le=st.floats(-3, 3, allow_subnormal=False),
    Lmu=st.floats(-3, 3, allow_subnormal=False),
    Ltau=st.floats(-3, 3, allow_subnormal=False),
    eps=st.floats(-1e-2, 1e-2, allow_subnormal=False),
    m=st.floats(1e-4, 20.0, allow_subnormal=False),
    k=st.floats(0.1, 10.0, allow_subnormal=False),
)
def test_symmetries_of_delta_a(B, Le, Lmu, Ltau, eps, m, k) -> None:
    x = Model.from_generators(B, Le, Lmu, Ltau)
    g = 1e-3
    a = gm2.contribution(x, m, g, eps=eps)
    # Flipping the sign of every charge and eps changes nothing.
    assert gm2.contribution(-x, m, g, eps=-eps) == pytest.approx(a, rel=1e-12, abs=1e-30)
    # Scaling charges and eps by k scales Delta a by k^2.
    assert gm2.contribution(x.scaled(k), m, g, eps=k * eps) == pytest.approx(
        k**2 * a, rel=1e-10, abs=1e-30
    )


def test_electron_loop_uses_electron_mass() -> None:
    g = 1e-4
    assert gm2.delta_a("e", 1e-9, g) == pytest.approx(g**2 / (8 * math.pi**2), rel=1e-6)
    m_x = 1.0
    ref = g**2 * M_E**2 / (12 * math.pi**2 * m_x**2)
    assert gm2.delta_a("e", m_x, g) == pytest.approx(ref, rel=1e-4)


def test_datasets_values_and_kinds() -> None:
    assert gm2.DATASETS["2021"].delta == pytest.approx(251e-11)
    assert gm2.DATASETS["2021"].sigma == pytest.approx(59e-11)
    assert gm2.DATASETS["2023"].delta == pytest.approx(249e-11)
    assert gm2.DATASETS["2023"].sigma == pytest.approx(48e-11)
    assert gm2.DATASETS["2025"].kind == "upper_limit"
    # PHYSICS 1.2: 38 + 1.64 x 63 ~ 141e-11 (95% one-sided).
    assert gm2.DATASETS["2025"].upper_limit == pytest.approx(141e-11, rel=0.01)
    # Electron: Delta a_e(Rb) - Delta a_e(Cs) = (alpha_Rb - alpha_Cs)/(2 pi)-ish, as in PHYSICS 1.3.
    cs, rb = gm2.ELECTRON_DATASETS["cs"], gm2.ELECTRON_DATASETS["rb"]
    alpha_cs, alpha_rb = 1 / 137.035999046, 1 / 137.035999206
    assert rb.delta - cs.delta == pytest.approx((alpha_cs - alpha_rb) / (2 * math.pi), rel=0.01)
    with pytest.raises(ValueError, match="unknown g-2 data set '1999'"):
        gm2.dataset("1999")


def test_band_lmu_ltau_closed_form() -> None:
    m = np.array([1e-3, 0.01, 0.2, 1.0])
    lo, hi = gm2.band(model("Lmu-Ltau"), m)
    f = np.array([gm2.delta_a("mu", mm, 1.0) for mm in m])  # Delta a per g^2
    d = gm2.DATASETS["2021"]
    assert np.allclose(lo, np.sqrt((d.delta - 2 * d.sigma) / f), rtol=1e-12)
    assert np.allclose(hi, np.sqrt((d.delta + 2 * d.sigma) / f), rtol=1e-12)
    # Round trip: the edges reproduce the edges of Delta a.
    assert np.allclose(gm2.delta_a("mu", m, hi), d.delta + 2 * d.sigma, rtol=1e-10)


def test_band_nsigma_and_dataset() -> None:
    lo1, hi1 = gm2.band(model("Lmu-Ltau"), 0.1, nsigma=1)
    lo2, hi2 = gm2.band(model("Lmu-Ltau"), 0.1, nsigma=2)
    assert lo2 < lo1
    assert lo1 < hi1
    assert hi1 < hi2
    lo3, hi3 = gm2.band(model("Lmu-Ltau"), 0.1, dataset="2023")
    # 2023 is narrower with nearly the same centre
    assert lo3 > lo2
    assert hi3 < hi2


def test_band_upper_limit_dataset() -> None:
    lo, hi = gm2.band(model("Lmu-Ltau"), np.array([0.01, 0.1]), dataset="2025")
    assert np.all(np.isnan(lo))
    assert np.allclose(gm2.delta_a("mu", [0.01, 0.1], hi), gm2.DATASETS["2025"].upper_limit)


def test_band_nan_without_muon_coupling() -> None:
    lo, hi = gm2.band(model("Le-Ltau"), np.array([0.01, 0.1]))
    assert np.all(np.isnan(lo))
    assert np.all(np.isnan(hi))


def test_band_scales_with_charge() -> None:
    # Scaling all charges by k scales the band in g_X by 1/k.
    lo, hi = gm2.band(model("B-3Lmu"), 0.05)
    lo3, hi3 = gm2.band(model("B-3Lmu").scaled(3.0), 0.05)
    assert lo3 == pytest.approx(lo / 3)
    assert hi3 == pytest.approx(hi / 3)


def test_band_with_mixing() -> None:
    m = 0.05
    x = model("Lmu-Ltau")
    # eps_over_g: g_mu = g (1 - e r).
    r = 0.1
    lo, _ = gm2.band(x, m, eps_over_g=r)
    lo0, hi0 = gm2.band(x, m)
    assert lo == pytest.approx(lo0 / (1 - E_CHARGE * r))
    # Loop mixing at q^2 = 0: eps/g = 1/69.3, a 0.44% shift of g_mu (PHYSICS 1.1 and 9).
    lo_loop, _ = gm2.band(x, m, eps="loop")
    assert lo_loop / lo0 == pytest.approx(1 / (1 - E_CHARGE * 0.014433), rel=1e-4)
    # Fixed eps: g x_mu - e eps = |g_mu| on the X-dominated branch.
    eps = 1e-4
    lo_f, hi_f = gm2.band(x, m, eps=eps)
    assert lo_f == pytest.approx(lo0 + E_CHARGE * eps)
    assert hi_f == pytest.approx(hi0 + E_CHARGE * eps)


def test_band_broadcasts_model_batch_and_masses() -> None:
    batch = Model.from_generators(B=0.0, Lmu=np.array([[1.0], [2.0], [-1.0]]), Ltau=0.0)
    m = np.geomspace(1e-3, 1, 5)
    lo, _ = gm2.band(batch, m)
    assert lo.shape == (3, 5)
    assert np.allclose(lo[1], lo[0] / 2)
    assert np.allclose(lo[2], lo[0])


@pytest.mark.parametrize("bad", [-1.0, 0.0, math.nan, math.inf])
def test_band_rejects_bad_masses(bad: float) -> None:
    with pytest.raises(ValueError, match="mass m_X must be positive and finite"):
        gm2.band(model("Lmu-Ltau"), [0.1, bad])


def test_bad_lepton_and_nsigma() -> None:
    with pytest.raises(ValueError, match="unknown lepton 'q'"):
        gm2.delta_a("q", 0.1, 1e-3)
    with pytest.raises(ValueError, match="nsigma must be positive"):
        gm2.band(model("Lmu-Ltau"), 0.1, nsigma=-1)
    with pytest.raises(ValueError, match="needs a muon data set"):
        gm2.band(model("Lmu-Ltau"), 0.1, dataset="cs")
