"""The fast path of ``coherent_lar_2020`` against the reference path it replaced (issue 14/18).

``CEvNSBinned._ratio`` (templates per mass, :meth:`PoissonProfile.chi2_certified`) against
``_ratio_reference`` (quartic coefficients, :meth:`PoissonProfile.chi2`) on random models, masses,
mixings and couplings, in the engine's broadcast layout, at points straddling r = 1 and across the
re-allowed windows of destructive interference. Tolerance: |delta r| <= 1e-6 wherever the reference
has converged (r up to ~20); beyond, where a prediction of > 1e9 events is switched off by the
signal nuisance (kappa ~ 1e-10) and the reference loses digits, 1e-7 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

import zprime_atlas as za
from zprime_atlas.constants import E_CHARGE
from zprime_atlas.constraints.coherent_binned import CoherentLAr2020
from zprime_atlas.couplings import Mixing
from zprime_atlas.models import Model, alpha_r, enumerate_models

B_PLUS_L = Model({"u": 1 / 3, "d": 1 / 3, "nu_e": 1, "nu_mu": 1, "nu_tau": 1, "e": 1, "mu": 1, "tau": 1})


@pytest.fixture(scope="module")
def lar() -> CoherentLAr2020:
    return CoherentLAr2020()


def _compare(fast: np.ndarray, ref: np.ndarray) -> None:
    assert fast.shape == ref.shape
    saturated = ref > 20.0
    np.testing.assert_allclose(fast[~saturated], ref[~saturated], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fast[saturated], ref[saturated], rtol=1e-7)
    flip = (fast >= 1.0) != (ref >= 1.0)
    assert np.all(np.abs(ref[flip] - 1.0) <= 1e-6)


def _both(lar: CoherentLAr2020, m, g, model, **kw) -> tuple[np.ndarray, np.ndarray]:
    mix = Mixing.parse(kw.get("eps", 0.0 if "eps_over_g" not in kw else None), kw.get("eps_over_g"))
    mm, gg = np.asarray(m, dtype=float), np.asarray(g, dtype=float)
    return lar._ratio(mm, gg, model, mix), lar._ratio_reference(mm, gg, model, mix)


def test_certified_profile_against_the_reference_profile(lar: CoherentLAr2020) -> None:
    st = lar.statistics
    rng = np.random.default_rng(7)
    # SM shape scaled, and bin-by-bin distortions of it (both signs of a shape change)
    k = np.concatenate([np.geomspace(1e-3, 30.0, 40), [0.0]])
    shapes = lar.sm_bins * np.exp(rng.normal(0.0, 0.7, (40, lar.sm_bins.size)))
    signals = np.concatenate([k[:, None] * lar.sm_bins, shapes * rng.uniform(0.1, 5.0, (40, 1))])
    fast = st.chi2_certified(signals, lar.theta_sm)
    np.testing.assert_allclose(fast, st.chi2(signals), rtol=0, atol=3e-7)
    # the start changes the number of steps, not the answer
    np.testing.assert_allclose(st.chi2_certified(signals), fast, rtol=0, atol=5e-7)
    # the certified value is never above the reference beyond its bound (any theta bounds from above)
    assert np.all(fast <= st.chi2(signals) + 2.3e-7)


def test_random_models_masses_mixings_and_couplings(lar: CoherentLAr2020) -> None:
    rng = np.random.default_rng(2024)
    fields = ("u", "d", "nu_e", "nu_mu", "nu_tau", "e", "mu")
    for _ in range(12):
        charges = rng.integers(-3, 4, len(fields))
        model = Model({f: float(x) for f, x in zip(fields, charges, strict=True)})
        m = np.geomspace(1e-4, 10.0, 7)[:, None]
        lim = lar.limit(m[:, 0], B_PLUS_L)[:, None]
        g = lim * np.geomspace(0.05, 30.0, 25)[None, :]  # decades around the limit
        for kw in ({"eps": 0.0}, {"eps": 3e-5}, {"eps": -2e-4}, {"eps_over_g": 0.3}):
            fast, ref = _both(lar, m, g, model, **kw)
            _compare(fast, ref)


def test_engine_layout_with_batches_of_models(lar: CoherentLAr2020) -> None:
    # the grid engine's shapes: charges (N,1,1,1), m (1,M,1,1), mixing (N,1,K,1), g (N,M,K,G)
    fam = enumerate_models(10)
    fields = ("u", "d", "s", "c", "b", "t", "nu_e", "nu_mu", "nu_tau", "e", "mu", "tau")
    models = Model({f: np.asarray(fam.charge(f))[::37][:, None, None, None] for f in fields})
    n = np.asarray(models.charge("u")).shape[0]
    m = np.array([3e-3, 0.05, 0.7])[None, :, None, None]
    xi = np.array([-3.0, 0.0, 0.5, 10.0])[None, None, :, None]
    eps_over_g = (np.asarray(models.charge("e")) - xi) / E_CHARGE
    g = np.geomspace(1e-5, 3e-3, 6)[None, None, None, :] * np.ones((n, 3, 4, 6))
    fast, ref = _both(lar, m, g, models, eps_over_g=eps_over_g)
    assert fast.shape == (n, 3, 4, 6)
    _compare(fast, ref)
    # the alpha-R family (continuous charges)
    fam = alpha_r(np.linspace(-np.pi, np.pi, 5, endpoint=False)[:, None], np.linspace(-3, 3, 4)[None, :])
    fast, ref = _both(lar, np.array([0.2]), np.geomspace(1e-5, 1e-2, 8)[:, None, None], fam, eps=1e-4)
    _compare(fast, ref)


def test_points_straddling_r_equal_one(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-3, 10.0, 9)
    for model, kw in ((za.model("B-L"), {"eps": 0.0}), (B_PLUS_L, {"eps": 0.0}),
                      (B_PLUS_L, {"eps_over_g": 0.0}), (B_PLUS_L, {"eps": 1e-4})):  # fmt: skip
        edges = [e for lo, hi in lar.excluded_intervals(m, model, **kw) for e in (lo, hi)]
        for e in edges:
            ok = np.isfinite(e) & (e > 0)
            if not np.any(ok):
                continue
            f = 1.0 + np.array([-1e-3, -1e-5, 0.0, 1e-5, 1e-3])
            g = e[ok][:, None] * f[None, :]
            fast, ref = _both(lar, m[ok][:, None], g, model, **kw)
            _compare(fast, ref)
            assert np.all(np.abs(ref[:, 2] - 1.0) < 1e-4)  # the edges are where r = 1


def test_inside_the_destructive_windows(lar: CoherentLAr2020) -> None:
    # heavy masses: destructive interference re-allows a window between two excluded intervals
    m = np.geomspace(1.0, 10.0, 4)
    (_, hi0), (lo1, _) = lar.excluded_intervals(m, B_PLUS_L, eps=0.0)[:2]
    t = np.linspace(0.0, 1.0, 41)[None, :]
    g = np.exp(np.log(hi0)[:, None] * (1 - t) + np.log(lo1)[:, None] * t)
    fast, ref = _both(lar, m[:, None], g, B_PLUS_L, eps=0.0)
    _compare(fast, ref)
    assert np.all(fast[:, 1:-1] < 1.0)


def test_sm_and_tiny_couplings_are_zero(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-4, 10.0, 5)
    for g in (0.0, 1e-12):
        fast, ref = _both(lar, m, g, za.model("B-L"))
        np.testing.assert_array_equal(fast, 0.0)
        np.testing.assert_array_equal(ref, 0.0)
