"""neff_bbn (cosmology.py) and the stellar-cooling recasts (constraints/stars.py).

Published references used here (abstract level unless stated):
- Planck 2018 (arXiv:1807.06209): N_eff = 2.99 +- 0.17 (68%).
- Escudero 2001.04466: N_eff^SM = 3.045 (with QED corrections, which we omit: ~ +0.01..0.02).
- Escudero et al. 1901.02010: a thermalised 10-20 MeV L_mu-L_tau Z' heats neutrinos and can relax the
  Hubble tension (Delta N_eff of a few tenths there); no explicit mass bound is in the abstract.
- AxionLimits DarkPhoton/RG.txt (commit 7dce98fde55f, same paper 2304.12907): eps < 4.5567e-13 at
  m = 102891.7 eV, used to check the recast of the B-L red-giant curve onto the dark photon.
"""

from __future__ import annotations

import numpy as np
import pytest

import zprime_atlas as za
from zprime_atlas import cosmology
from zprime_atlas.constraints import neff as neff_mod
from zprime_atlas.constraints.neff import NEFF_PLANCK, NeffBBN
from zprime_atlas.constraints.stars import STARS, StellarCooling
from zprime_atlas.models import Model

NEFF = NeffBBN()
STAR_CONSTRAINTS = [StellarCooling(n) for n, _ in STARS]
M_NEFF = np.array([1e-3, 5e-3, 1e-2, 2e-2])
M_STARS = np.array([1e-15, 1e-11, 1e-9, 1e-7, 1e-6, 1e-5, 1e-4])


def test_sm_neff_non_instantaneous() -> None:
    sm = cosmology.neff()
    assert 3.015 < sm < 3.05  # 3.025 measured; 3.045 with QED (2001.04466), not included
    assert abs(neff_mod._table()[0] - sm) < 1e-4  # the shipped table's SM value


def test_instantaneous_decoupling_gives_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cosmology, "_SM_RATE", 0.0)
    assert cosmology.neff() == pytest.approx(3.0, abs=2e-3)


def test_massless_limits_entropy_conservation() -> None:
    # X relativistic at decoupling, no exchange: Kolb-Turner entropy ratios (g_X = 3)
    nu, em = cosmology.neff(np.array([1e-4, 1e-4]), 0.0, np.array(["nu", "em"]))
    assert nu == pytest.approx(3 * (8.25 / 5.25) ** (4 / 3), rel=0.02)
    assert em == pytest.approx(3 * (5.5 / 8.5) ** (4 / 3), rel=0.03)


def test_shipped_table_matches_solver() -> None:
    m = np.array([2e-3, 1.2e-2])
    direct = cosmology.neff(m, np.array([1.0, 10.0]), np.array(["nu", "em"]))
    interp = neff_mod._interp(np.array([True, False]), m, np.log10([1.0, 10.0]))
    assert np.allclose(direct, interp, atol=0.02)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_table_interpolation_equals_the_direct_lookup(monkeypatch, kernels) -> None:
    """_interp gathers the corners by flat index and finds the k cell on the evenly spaced grid:
    the numbers of np.searchsorted and grid[b, i, j], at the nodes, one rounding step either
    side of them, outside the table (clipped) and at NaN, for both baths."""
    if kernels == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)  # numba: the compiled cells and sum
    _, masses, ks, grid = neff_mod._table()
    rng = np.random.default_rng(4)
    y = np.concatenate([ks, np.nextafter(ks, -np.inf), np.nextafter(ks, np.inf),
                        rng.uniform(-7.0, 8.0, 300), [np.nan, np.inf, -np.inf]])  # fmt: skip
    np.testing.assert_array_equal(neff_mod._uniform_searchsorted(ks, y), np.searchsorted(ks, y))
    m = np.concatenate([masses, np.nextafter(masses, 0.0), [1e-6, 1.0],
                        10 ** rng.uniform(-4.5, -1.0, 20)])[:, None]  # fmt: skip
    bath = rng.random((m.size, y.size)) < 0.5
    with np.errstate(invalid="ignore"):
        got = neff_mod._interp(bath, m, y[None, :])
        lm = np.log(masses)
        x = np.clip(np.log(m), lm[0], lm[-1])
        yc = np.clip(y[None, :], ks[0], ks[-1])
        i = np.clip(np.searchsorted(lm, x) - 1, 0, lm.size - 2)
        j = np.clip(np.searchsorted(ks, yc) - 1, 0, ks.size - 2)
        tx = (x - lm[i]) / (lm[i + 1] - lm[i])
        ty = (yc - ks[j]) / (ks[j + 1] - ks[j])
        b = np.where(bath, 0, 1)
        want = (grid[b, i, j] * (1 - tx) * (1 - ty) + grid[b, i + 1, j] * tx * (1 - ty)
                + grid[b, i, j + 1] * (1 - tx) * ty + grid[b, i + 1, j + 1] * tx * ty)  # fmt: skip
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[:, -3]).all()  # NaN k: NaN
    assert np.isfinite(got[:, :-3]).all()


def test_g_star_and_hubble() -> None:
    assert cosmology.g_star(np.array(0.05))[()] == pytest.approx(10.75, rel=1e-3)
    assert pytest.approx(1.2209e19, rel=1e-4) == cosmology.M_PLANCK


def test_no_x_coupling_no_statement_change() -> None:
    nothing = Model({}, name="none")
    r = NEFF.ratio(M_NEFF, 1e-3, nothing)
    r_sm = abs(neff_mod._table()[0] - NEFF_PLANCK) / (1.959963984540054 * 0.17)
    assert np.allclose(r, r_sm)
    assert np.all(r < 1)
    # baryon number only, no mixing: no e or nu coupling below the hadronic thresholds
    assert np.all(np.isinf(NEFF.limit(M_NEFF, za.model("B"))))
    assert np.allclose(NEFF.ratio(M_NEFF, 1e-2, za.model("B")), r_sm)


def test_not_thermalised_is_allowed() -> None:
    lmt = za.model("Lmu-Ltau")
    assert np.all(NEFF.ratio(M_NEFF, 1e-13, lmt) < 1)


def test_intervals_below_the_default_grid_start_where_r_crosses_one() -> None:
    """Below ~1 MeV a B-L X thermalises from g ~ 3e-11 on, under the solver's default grid start
    (1e-10): the interval is [g*, inf) with r(g*) = 1, not [0, inf) (which once painted the light
    B-L figure excluded down to its axis)."""
    m = np.array([1e-4, 5e-4, 7e-4])
    x = za.model("B-L")
    lower, upper = NEFF.excluded_intervals(m, x)[0]
    assert np.all((lower > 1e-11) & (lower < 1e-10))
    assert np.all(np.isinf(upper))
    for mm, lo in zip(m, lower, strict=True):
        assert NEFF.ratio(mm, 0.99 * lo, x) < 1.0 <= NEFF.ratio(mm, 1.01 * lo, x)
    assert np.all(NEFF.ratio(m, 1e-16, x) < 1.0)


@pytest.mark.parametrize("c", [NEFF, *STAR_CONSTRAINTS], ids=lambda c: c.name)
def test_sign_flip_changes_nothing(c) -> None:
    m = M_NEFF if c is NEFF else M_STARS
    for model in (za.model("B-L"), za.model("Le-Lmu")):
        for g in (1e-12, 1e-9, 1e-5):
            a = c.ratio(m, g, model, eps=3e-12)
            b = c.ratio(m, g, -model, eps=-3e-12)
            assert np.allclose(a, b, equal_nan=True)


@pytest.mark.parametrize("c", [NEFF, *STAR_CONSTRAINTS], ids=lambda c: c.name)
def test_charge_scaling(c) -> None:
    m = M_NEFF if c is NEFF else M_STARS
    model = za.model("B-L")
    base = c.limit(m, model, eps_over_g=0.01)
    scaled = c.limit(m, model.scaled(4.0), eps_over_g=0.04)
    finite = np.isfinite(base)
    assert finite.any()
    assert np.allclose(scaled[finite], base[finite] / 4.0, rtol=1e-3)


def test_lmu_ltau_against_1901_02010() -> None:
    lmt = za.model("Lmu-Ltau")
    m = np.array([5e-3, 1.5e-2, 2.0e-2])
    n = neff_mod.neff_of(*(v for v in NEFF._widths(m, 1e-4, lmt, za.couplings.Mixing.parse(0.0))[:2]), m)
    assert n[0] > 3.323  # light thermalised L_mu-L_tau is excluded
    assert 0.05 < n[1] - 3.045 < 0.6
    assert 0.0 < n[2] - 3.045 < 0.6
    lim = NEFF.limit(np.array([3e-3, 2.5e-2]), lmt, eps="loop")
    assert np.isfinite(lim[0])
    assert lim[0] < 1e-8
    assert np.isinf(lim[1])


def test_b_minus_l_thermal_bound_exists() -> None:
    lim = NEFF.limit(np.array([2e-3, 5e-3]), za.model("B-L"))
    assert np.all(np.isfinite(lim))
    assert np.all(lim < 1e-8)


def test_stars_recast_onto_b_minus_l_returns_the_curve() -> None:
    for c in STAR_CONSTRAINTS:
        m, g = __import__("zprime_atlas.constraints.stars", fromlist=["_curve"])._curve(c.name)
        pick = slice(1, None, 7)
        assert np.allclose(c.limit(m[pick], za.model("B-L")), g[pick], rtol=1e-6)


def test_stars_dark_photon_cross_check() -> None:
    rg = StellarCooling("red_giant_2023")
    eps_lim = rg.limit(102891.7e-9, za.model("dark-photon"))  # g_X = eps e for the dark photon
    eps_lim = eps_lim / za.constants.E_CHARGE
    published = 4.5567e-13
    assert 1.0 <= eps_lim / published < 2.5  # conservative, within a factor 2.5
    assert np.isinf(rg.limit(1e-9, za.model("dark-photon")))  # screened below resonance


def test_registered_and_flags() -> None:
    names = za.constraints.names()
    for n in ("neff_bbn", "red_giant_2023", "horizontal_branch_2023", "sun_2023"):
        assert n in names
        assert za.constraints.get(n).info.verified is False
