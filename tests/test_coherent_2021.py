"""COHERENT binned likelihoods (issue 14): ``coherent_lar_2020`` from the CENNS-10 Analysis-A release.

Checks: the shipped tables against their provenance (and against the release itself when a copy
of the source repository is at hand), the SM prediction against the release's prediction (128 +- 17
events) in total, energy and time, the Newton profile against a numerical minimisation, the fit of
a free CEvNS normalisation against the release's best fit (159 +- 43), the heavy-mediator limit
against the one that best fit implies, symmetries, the SM and decoupled models, and the interval
solver against a brute-force scan (re-allowed windows of destructive interference kept).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar

import zprime_atlas as za
from zprime_atlas import catalogue, constraints
from zprime_atlas.constraints.coherent_binned import (
    AR40,
    CoherentLAr2020,
    PoissonProfile,
    arrival_time_cdf,
)
from zprime_atlas.models import Model

DATA = Path(__file__).resolve().parents[1] / "zprime_atlas" / "data" / "coherent"
MIRROR = Path("/work/.mirror/philippeller+Newtrinos.jl/repo")
#: destructive interference with the SM weak charge (as in tests/test_interval_solver.py)
B_PLUS_L = Model({"u": 1 / 3, "d": 1 / 3, "nu_e": 1, "nu_mu": 1, "nu_tau": 1, "e": 1, "mu": 1, "tau": 1})


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coherent_generate", DATA / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lar() -> CoherentLAr2020:
    return CoherentLAr2020()


# -- inputs ---------------------------------------------------------------------------------------


def test_tables_carry_their_provenance() -> None:
    generate = _generator()
    for name in (
        "COHERENT_LAr_2020_bins.csv",
        "COHERENT_LAr_2020_efficiency.csv",
        "COHERENT_LAr_2020_parameters.toml",
    ):
        text = (DATA / name).read_text()
        for needle in (generate.COMMIT, generate.REPO, "2003.10630"):
            assert needle in text
        for sha in generate.SHA256.values():
            assert sha in text


@pytest.mark.skipif(not MIRROR.exists(), reason="no copy of philippeller/Newtrinos.jl here")
def test_generator_reproduces_the_shipped_tables(tmp_path: Path) -> None:
    script = DATA / "generate.py"
    subprocess.run(
        [sys.executable, str(script), "--git-dir", str(MIRROR), "-o", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for out in tmp_path.iterdir():
        assert out.read_bytes() == (DATA / out.name).read_bytes(), out.name


def test_parameters_are_the_release_values(lar: CoherentLAr2020) -> None:
    p = tomllib.loads((DATA / "COHERENT_LAr_2020_parameters.toml").read_text())
    assert p["pot_e22"]["value"] == 13.8
    assert p["distance_m"]["value"] == 27.5
    assert p["fiducial_mass_kg"]["value"] == 24.4
    assert p["nu_per_flavour_per_pot"]["value"] == 0.09
    assert (p["quenching"]["a"], p["quenching"]["b"]) == (0.246, 0.00078)
    assert (p["cevns_prediction"]["value"], p["cevns_prediction"]["uncertainty"]) == (128.0, 17.0)
    # the efficiency table's keVnr column is the release's quenching curve applied to keVee
    eff = lar.efficiency_table
    kevee = (p["quenching"]["a"] + p["quenching"]["b"] * eff[:, 1]) * eff[:, 1]
    np.testing.assert_allclose(kevee, eff[:, 0], rtol=2e-3)
    # bins: the release's PDFs at their prediction normalisations
    b = lar.bins_table
    assert b.shape == (960, 8)
    np.testing.assert_allclose(b[:, 4:].sum(axis=0), [128.0, 497.0, 33.0, 3152.0], rtol=1e-4)
    assert b[:, 3].sum() == 3752


# -- SM prediction ----------------------------------------------------------------------------------


def test_sm_count_against_the_published_prediction(lar: CoherentLAr2020) -> None:
    # This module's own prediction (flux, cross section, quenching, resolution, efficiency of the
    # release) against the collaboration's 128 +- 17 (cevnsPredictionNormalization): within 5%.
    n, sigma = CoherentLAr2020.PUBLISHED_SM
    assert abs(lar.absolute_sm_counts / n - 1.0) < 0.05
    assert abs(lar.absolute_sm_counts - n) < 0.5 * sigma
    # the fit uses the release's PDF, so its SM total is exactly the release's
    assert lar.sm_bins.sum() == pytest.approx(128.0, rel=1e-6)


def test_sm_time_and_energy_shapes_against_the_release_pdf(lar: CoherentLAr2020) -> None:
    cube = lar.bins_table[:, 4].reshape(12, 8, 10)
    mine = lar.absolute_sm_et * (128.0 / lar.absolute_sm_counts)
    # arrival times from the release's proton-pulse parameters and the PDG pi/mu lifetimes
    np.testing.assert_allclose(mine.sum(axis=0), cube.sum(axis=(0, 1)), rtol=0.11)
    np.testing.assert_allclose(mine.sum(axis=0)[1:], cube.sum(axis=(0, 1))[1:], rtol=0.02)
    # energy: quenching, resolution and acceptance of the release, bins with > 2 events
    rel = cube.sum(axis=(1, 2))
    big = rel > 2.0
    np.testing.assert_allclose(mine.sum(axis=1)[big], rel[big], rtol=0.10)


def test_arrival_times_are_normalised_distributions() -> None:
    t = np.linspace(-5.0, 60.0, 20001)
    for comp in ("nu_mu_prompt", "nu_e", "nubar_mu"):
        cdf = arrival_time_cdf(comp, t, 0.44, 0.15)
        assert cdf[0] == pytest.approx(0.0, abs=1e-12)
        assert cdf[-1] == pytest.approx(1.0, abs=1e-9)
        assert np.all(np.diff(cdf) >= -1e-12)
    # mean arrival: pulse mean + tau_pi (prompt), + tau_mu (delayed)
    pdf = np.diff(arrival_time_cdf("nu_e", t, 0.44, 0.15))
    mean = np.sum(0.5 * (t[1:] + t[:-1]) * pdf)
    assert mean == pytest.approx(0.44 + 0.026033 + 2.19698, rel=1e-3)


# -- statistics -------------------------------------------------------------------------------------


def test_newton_profile_against_numerical_minimisation(lar: CoherentLAr2020) -> None:
    st = lar.statistics
    sig = np.concatenate([[st.sigma_signal], st.sigma_backgrounds])

    def brute(s: np.ndarray) -> float:
        n = st.observed

        def f(th: np.ndarray) -> float:
            mu = (1 + th[0]) * s + (1 + th[1:]) @ st.backgrounds
            if np.any(mu <= 0):
                return 1e30
            nlog = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / mu), 0.0)
            return float(2 * np.sum(mu - n + nlog) + np.sum((th / sig) ** 2))

        opts = {"xatol": 1e-10, "fatol": 1e-10, "maxiter": 40000, "maxfev": 80000}
        return float(minimize(f, np.zeros(4), method="Nelder-Mead", options=opts).fun)

    for k in (0.0, 0.4, 1.0, 2.5, 20.0):
        assert st.chi2(k * lar.sm_bins) == pytest.approx(brute(k * lar.sm_bins), abs=1e-4)
    # vectorised: one call for many signals equals the calls one by one
    ks = np.array([0.0, 0.4, 1.0, 2.5])
    np.testing.assert_allclose(
        st.chi2(ks[:, None] * lar.sm_bins), [st.chi2(k * lar.sm_bins) for k in ks], rtol=1e-12
    )


def test_profile_of_a_toy_is_exact() -> None:
    # one bin, one background with a tiny uncertainty: chi^2 -> Poisson deviance of s + b
    st = PoissonProfile(np.array([10.0]), np.array([[4.0]]), 1e-6, np.array([1e-6]))
    s = np.array([[3.0], [6.0], [9.0]])
    mu = s[:, 0] + 4.0
    np.testing.assert_allclose(st.chi2(s), 2 * (mu - 10 + 10 * np.log(10 / mu)), rtol=1e-8)


def test_free_normalisation_fit_against_the_release_best_fit(lar: CoherentLAr2020) -> None:
    # The release's 3D fit: 159 +- 43 CEvNS events. Ours (no shape systematics): the best
    # normalisation within 10% and the 1-sigma half-width within 20%.
    st = lar.statistics

    def f(k: float) -> float:
        return float(st.chi2(k * lar.sm_bins))

    best = minimize_scalar(f, bounds=(0.2, 3.0), method="bounded")
    lo = brentq(lambda k: f(k) - best.fun - 1.0, 0.2, best.x)
    hi = brentq(lambda k: f(k) - best.fun - 1.0, best.x, 3.0)
    n_fit, sigma_fit = CoherentLAr2020.PUBLISHED_BESTFIT
    assert 128.0 * best.x == pytest.approx(n_fit, rel=0.10)
    assert 128.0 * (hi - lo) / 2.0 == pytest.approx(sigma_fit, rel=0.20)
    # the SM is allowed at 90% CL, zero CEvNS is excluded
    assert f(1.0) - best.fun < lar.dchi2_crit
    assert f(0.0) - f(1.0) > 9.0


def test_heavy_mediator_limit_against_the_published_fit(lar: CoherentLAr2020) -> None:
    # Z' validation against the collaboration's own number: for m_X >> q every bin scales by
    # (1 - A/(Q_W m^2))^2 = k. A Gaussian measurement 159 +- 43 (release best fit) against the
    # prediction 128 k gives, relative to k = 1, k_90 from ((128k - 159)^2 - 31^2)/43^2 = 2.706;
    # B-L (constructive) then has g_90 = sqrt((sqrt(k_90) - 1) Q_W m^2 / |A(g = 1)|). The binned
    # likelihood must agree within 10% in g.
    m = 10.0
    k90 = brentq(lambda k: ((128 * k - 159) ** 2 - 31**2) / 43**2 - 2.706, 1.0, 5.0)
    amp = abs(float(lar.amplitudes(za.model("B-L"), 1.0)[0][0]))
    g90 = math.sqrt((math.sqrt(k90) - 1.0) * AR40.weak_charge * m * m / amp)
    assert float(lar.limit(m, za.model("B-L"))) == pytest.approx(g90, rel=0.10)


# -- the constraint ---------------------------------------------------------------------------------


def test_registered_as_a_neutrino_constraint() -> None:
    assert "coherent_lar_2020" in constraints.names()
    assert "coherent_csi_2017" in constraints.names()
    row = catalogue.describe(constraints.get("coherent_lar_2020"))
    assert (row.experiment, row.kind, row.year) == ("COHERENT", "neutrino", "2020")
    c = constraints.get("coherent_lar_2020")
    assert c.info.verified
    assert c.cl == 0.90
    assert "128" in c.notes


def test_sm_is_never_excluded(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-4, 10.0, 9)
    for mod in (za.model("B-L"), B_PLUS_L):
        r = lar.ratio(m, 0.0, mod)
        np.testing.assert_array_equal(r, 0.0)
        assert np.all(lar.ratio(m, 1e-9, mod) < 1e-6)


def test_model_without_quark_or_neutrino_coupling_is_untouched(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-3, 10.0, 5)
    g = np.geomspace(1e-6, 10.0, 7)[:, None]
    no_quarks = za.model("Lmu-Ltau")  # eps = 0: no coupling to the nucleus
    no_neutrinos = Model({"u": 1 / 3, "d": 1 / 3, "s": 1 / 3, "c": 1 / 3, "b": 1 / 3})
    for mod in (no_quarks, no_neutrinos):
        np.testing.assert_array_equal(lar.ratio(m, g, mod, eps=0.0), 0.0)
        assert np.all(np.isinf(lar.limit(m, mod, eps=0.0)))


def test_flipping_every_charge_and_eps_changes_nothing(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-3, 10.0, 6)
    g = np.geomspace(1e-6, 1e-1, 5)[:, None]
    for mod in (za.model("B-L"), B_PLUS_L):
        flipped = Model({f: -x for f, x in mod.charges.items()})
        for eps in (0.0, 1e-4, -3e-3):
            np.testing.assert_allclose(
                lar.ratio(m, g, mod, eps=eps), lar.ratio(m, g, flipped, eps=-eps), rtol=1e-10
            )
        np.testing.assert_allclose(
            lar.limit(m, mod, eps_over_g=0.1), lar.limit(m, flipped, eps_over_g=-0.1), rtol=1e-6
        )


def test_scaling_the_charges_scales_the_limits(lar: CoherentLAr2020) -> None:
    m = np.geomspace(1e-3, 10.0, 4)
    for mod in (za.model("B-L"), B_PLUS_L):
        scaled = Model({f: 3.0 * x for f, x in mod.charges.items()})
        for kw in ({"eps": 0.0}, {"eps_over_g": 0.0}):
            for (lo1, hi1), (lo3, hi3) in zip(
                lar.excluded_intervals(m, mod, **kw),
                lar.excluded_intervals(m, scaled, **kw),
                strict=False,
            ):
                np.testing.assert_allclose(lo3, lo1 / 3.0, rtol=1e-6)
                np.testing.assert_allclose(hi3, hi1 / 3.0, rtol=1e-6)


def test_intervals_against_a_brute_force_scan_keep_the_windows(lar: CoherentLAr2020) -> None:
    # eps = 0 (fixed), eps proportional to g_X and a fixed eps, destructive (B+L-like) and
    # constructive (B-L): every excluded interval against r >= 1 on a fine log scan.
    g_fine = np.geomspace(1e-6, 1.0, 3000)  # 2e-3 decades per step
    m = np.geomspace(1e-3, 10.0, 5)
    cases = [(B_PLUS_L, {"eps": 0.0}), (B_PLUS_L, {"eps_over_g": 0.0}), (B_PLUS_L, {"eps": 1e-4}),
             (za.model("B-L"), {"eps": 0.0})]
    for mod, kw in cases:
        intervals = lar.excluded_intervals(m, mod, **kw)
        excluded = lar.ratio(m[:, None], g_fine[None, :], mod, **kw) >= 1.0
        inside = np.zeros_like(excluded)
        edges = []
        for lo, hi in intervals:
            inside |= (lo[:, None] <= g_fine) & (hi[:, None] >= g_fine)
            edges += [lo, hi]
        e = np.stack(edges, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            near = np.any(np.abs(np.log(g_fine[None, :, None] / e[:, None, :])) < 5e-3, axis=2)
        assert int(np.sum((excluded != inside) & ~near)) == 0, (mod, kw)
    # Destructive interference re-allows a window above ~0.3 GeV (below, the propagator bends the
    # recoil spectrum so much that no coupling restores the SM shape: one interval).
    window = lar.excluded_intervals(m, B_PLUS_L, eps=0.0)
    heavy = m >= 1.0
    assert np.all(np.isfinite(window[0][1][heavy]))
    assert np.all(window[0][1][heavy] < window[1][0][heavy])
    mid = np.sqrt(window[0][1][heavy] * window[1][0][heavy])
    assert np.all(lar.ratio(m[heavy], mid, B_PLUS_L, eps=0.0) < 1.0)
    # eps = 0 fixed and eps/g = 0 are the same physics
    ratio = lar.excluded_intervals(m, B_PLUS_L, eps_over_g=0.0)
    for (lo_f, hi_f), (lo_r, hi_r) in zip(window, ratio, strict=False):
        np.testing.assert_allclose(lo_f, lo_r, rtol=1e-6)
        np.testing.assert_allclose(hi_f, hi_r, rtol=1e-6)


def test_outside_the_mass_range_says_nothing(lar: CoherentLAr2020) -> None:
    assert np.isnan(lar.limit(20.0, za.model("B-L")))
    assert np.isnan(lar.ratio(20.0, 1e-3, za.model("B-L")))


def test_sha256_helper_matches_hashlib() -> None:
    generate = _generator()
    assert generate.sha256(b"abc") == hashlib.sha256(b"abc").hexdigest()
