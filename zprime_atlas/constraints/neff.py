r"""N_eff from the CMB (Planck 2018 + BAO): a thermalised light X heats neutrinos or photons.

Computed for any model (docs/physics/neff_bbn.md):

1. Widths from :func:`zprime_atlas.decays.widths` at (m_X, g_X, eps): Gamma_nu = ``nu_nu``,
   Gamma_em = e_e + mu_mu + tau_tau + hadrons (total minus ``invisible``).
2. Thermalisation: X reaches equilibrium when Gamma_total >= H(T = m_X) (decays and inverse decays
   only; H of :func:`zprime_atlas.cosmology.hubble_at`, 1.66 sqrt(g*) T^2 / M_Pl with g* of photons,
   e+-, three neutrinos and X at T = m_X). Below that the point is *not thermalised*: N_eff is the SM
   value and r < 1 (freeze-in production, which 2308.07955 finds to constrain B-L much more weakly
   coupled X, is not modelled: this constraint is conservative there).
3. A thermalised X sits in the bath with the larger partial width and exchanges energy with the
   other bath at k = Gamma_other / H(m_X); N_eff(m_X, bath, k) is interpolated (bilinear in ln m_X and
   log10 k, k clipped to [1e-4, 1e5]) from ``data/cosmology/neff_table.csv``, which
   :mod:`zprime_atlas.cosmology` computes (Escudero's method, arXiv:1812.05605 / 2001.04466).
4. Planck 2018 (arXiv:1807.06209, abstract): N_eff = 2.99 +- 0.17 (68% CL, TT,TE,EE+lowE+lensing+BAO).
   Two-sided 95% CL Gaussian interval 2.99 +- 1.96 * 0.17 = [2.657, 3.323] (the paper's body quotes
   +0.34 -0.33 at 95%); r = |N_eff - 2.99| / (1.96 * 0.17), so both an excess (X heating neutrinos)
   and a deficit (X heating photons after neutrino decoupling) are excluded.

NaN (no statement) outside 0.1-30 MeV and where X decays to a declared dark sector with a branching
ratio above 1% (dark radiation is not modelled).
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from .. import _kernels
from .._csv import package_table
from ..cosmology import hubble_at
from ..couplings import Mixing
from ..decays import total_from_widths, widths
from ..models import Model
from .base import Constraint, ConstraintInfo, Intervals, PointForm, _at_points
from .solve import intervals_by_scan

__all__ = ["NEFF_PLANCK", "NEFF_PLANCK_SIGMA", "NeffBBN", "neff_of"]

#: Planck 2018 + BAO, arXiv:1807.06209 abstract: N_eff = 2.99 +- 0.17 (68% CL).
NEFF_PLANCK: float = 2.99
NEFF_PLANCK_SIGMA: float = 0.17
_CL = 0.95
_Z95 = 1.959963984540054  # two-sided 95% Gaussian quantile
_HALF_WIDTH = _Z95 * NEFF_PLANCK_SIGMA
_LOG10_K_RANGE = (-4.0, 5.0)
_DARK_BR_MAX = 0.01
_MASS_RANGE = (1e-4, 3e-2)


@functools.cache
def _table() -> tuple[float, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(N_eff^SM, masses, log10 k grid, N_eff[bath, mass, k]) from the shipped table."""
    data = package_table("cosmology", "neff_table.csv", header="bath,m_GeV,log10_k,neff")
    masses = np.unique(data[:, 1])
    ks = np.unique(data[:, 2])
    grid = np.full((2, masses.size, ks.size), np.nan)
    ib = data[:, 0].astype(int)
    im = np.searchsorted(masses, data[:, 1])
    ik = np.searchsorted(ks, data[:, 2])
    grid[ib, im, ik] = data[:, 3]
    if np.any(np.isnan(grid)):
        raise ValueError("neff_table.csv: the (bath, mass, k) grid is incomplete")
    text = (resources.files("zprime_atlas") / "data" / "cosmology" / "neff_table.csv").read_text()
    sm = float(text.split("N_eff^SM (no X, same code) = ")[1].split()[0])
    return sm, masses, ks, grid


def _interp(bath_nu: NDArray, m: NDArray, log10_k: NDArray) -> NDArray[np.float64]:
    """N_eff from the table, bilinear in (ln m, log10 k), both clipped to the table.

    The corners are gathered by flat index (four ``take`` instead of three-index look-ups) and the
    k cell found on the table's evenly spaced k grid (:func:`_uniform_searchsorted`): the values of
    ``np.searchsorted`` and of ``grid[b, i, j]``, so the same numbers, several times faster."""
    _, masses, ks, grid = _table()
    lm = np.log(masses)
    x = np.clip(np.log(m), lm[0], lm[-1])
    y = np.clip(log10_k, ks[0], ks[-1])
    size = np.broadcast_shapes(np.shape(bath_nu), np.shape(x), np.shape(y))
    if _kernels.enabled(math.prod(size)):  # the cells, weights and sum in one compiled pass
        found = _kernels.neff_interp(bath_nu, x, y, lm, ks, grid)
        if found is not None:
            return found
    i = np.clip(np.searchsorted(lm, x) - 1, 0, lm.size - 2)
    steps = _k_steps()
    uniform = bool(np.all(np.abs(steps - steps[0]) <= 1e-9 * abs(steps[0])))
    cell = _uniform_searchsorted(ks, y) if uniform else np.searchsorted(ks, y)
    j = np.clip(cell - 1, 0, ks.size - 2)
    tx = (x - lm[i]) / (lm[i + 1] - lm[i])
    ty = (y - ks[j]) / steps[j]
    n_m, n_k = grid.shape[1], grid.shape[2]
    flat = grid.reshape(-1)
    k = (np.where(bath_nu, 0, 1) * n_m + i) * n_k + j
    g00, g10, g01, g11 = (flat.take(k + o) for o in (0, n_k, 1, n_k + 1))
    return (
        g00 * (1 - tx) * (1 - ty)
        + g10 * tx * (1 - ty)
        + g01 * (1 - tx) * ty
        + g11 * tx * ty
    )


@functools.cache
def _k_steps() -> NDArray[np.float64]:
    """ks[j + 1] - ks[j] of the table's k grid (what _interp divides by)."""
    ks = _table()[2]
    return ks[1:] - ks[:-1]


def _uniform_searchsorted(grid: NDArray, y: NDArray) -> NDArray[np.intp]:
    """``np.searchsorted(grid, y)`` (side "left": the first index with grid >= y; NaN after the
    end) for an evenly spaced ``grid`` (to 1e-9 of a step: the guess is then off by at most one):
    the index from (y - grid[0]) / step, then corrected by one where rounding put it across a
    node (two comparisons with the nodes themselves)."""
    n = grid.size
    step = (grid[-1] - grid[0]) / (n - 1)
    with np.errstate(invalid="ignore"):
        guess = np.floor((y - grid[0]) / step) + 1.0
        guess = np.where(np.isnan(guess), float(n), np.clip(guess, 0.0, float(n)))
    idx = guess.astype(np.intp)
    idx = idx + ((idx < n) & (grid[np.minimum(idx, n - 1)] < y))
    idx = idx - ((idx > 0) & (grid[np.maximum(idx - 1, 0)] >= y))
    return idx


def neff_of(gamma_nu: NDArray, gamma_em: NDArray, m: NDArray, h_m: NDArray | None = None
            ) -> NDArray[np.float64]:  # fmt: skip
    """N_eff for partial widths [GeV] to neutrinos and to the electron-photon bath at mass m [GeV]
    (``h_m``: H at T = m_X if already known, e.g. computed once per mass)."""
    sm = _table()[0]
    if h_m is None:
        h_m = hubble_at(m, m)
    total = gamma_nu + gamma_em
    in_nu = gamma_nu >= gamma_em
    other = np.where(in_nu, gamma_em, gamma_nu)
    with np.errstate(divide="ignore"):
        log10_k = np.log10(np.maximum(other / h_m, 1e-300))
    n = _interp(in_nu, m, log10_k)
    return np.where(total >= h_m, n, sm)


def _ratio_at_squares(m: NDArray, h_m: NDArray, nu: NDArray, em: NDArray, dark: NDArray,
                      g2: NDArray) -> NDArray[np.float64]:
    """``NeffBBN._ratio_from(m, nu g2, em g2, dark + 0 g2, h_m)``: r for partial widths at g = 1
    (``nu``, ``em``; GeV), the invisible branching ratio ``dark`` and the squared couplings ``g2``,
    at H(T = m) = ``h_m``. With the compiled kernels the same numbers in three passes around
    numpy's log10 (:func:`zprime_atlas._kernels.neff_exchange`, :func:`_interp`, ``neff_ratio``)
    instead of about twenty array operations."""
    size = math.prod(np.broadcast_shapes(*(np.shape(v) for v in (m, h_m, nu, em, dark, g2))))
    if _kernels.enabled(size):
        first = _kernels.neff_exchange(nu, em, h_m, g2)
        if first is not None:
            rate, in_nu = first
            with np.errstate(divide="ignore"):
                np.log10(rate, out=rate)
            n = _interp(in_nu, m, rate)  # the table (compiled too)
            r = _kernels.neff_ratio(n, nu, em, h_m, g2, dark,
                                    (_table()[0], NEFF_PLANCK, _HALF_WIDTH, _DARK_BR_MAX))  # fmt: skip
            if r is not None:
                return r
    return NeffBBN._ratio_from(m, nu * g2, em * g2, dark + 0.0 * g2, h_m)


#: Couplings scanned for the excluded intervals: 10 per decade from 1e-20 to 1e3.
_G_GRID = np.geomspace(1e-20, 1e3, 231)


class NeffBBN(Constraint):
    """N_eff (Planck 2018 + BAO, 95% CL two-sided) with a thermalised X; module docstring."""

    def __init__(self) -> None:
        self.info = ConstraintInfo(
            name="neff_bbn",
            title="N_eff (Planck 2018 + BAO): thermalised X heating neutrinos or photons",
            citation=("1807.06209", "1812.05605", "2001.04466"),
            mass_range=_MASS_RANGE,
            cl=_CL,
            notes=(
                "N_eff = 2.99 +- 0.17 (68%, Planck 2018 abstract); two-sided 95% CL Gaussian "
                "interval [2.657, 3.323]. X thermalised when Gamma_total >= H(T = m_X) (decays and "
                "inverse decays only; otherwise 'not thermalised', r < 1; freeze-in not modelled). "
                "T_gamma, T_nu evolved through neutrino decoupling (Escudero's method, MB collision "
                "terms, one T_nu, no QED corrections: N_eff^SM = 3.025 vs 3.045 of 2001.04466); X in "
                "the bath of its larger partial width, energy exchange with the other by decays. "
                "Not verified: approximate thermodynamics (docs/physics/neff_bbn.md)."
            ),
            verified=False,
        )

    @staticmethod
    def _widths(
        m: NDArray[np.float64], g: NDArray[np.float64] | float, model: Model, mix: Mixing
    ) -> tuple[NDArray, NDArray, NDArray]:
        w = widths(model, m, g, eps=mix)  # type: ignore[arg-type]
        total = total_from_widths(w)
        return w["nu_nu"], total - w["invisible"], w["dark"] / np.where(total > 0, total, 1.0)

    @staticmethod
    def _ratio_from(
        m: NDArray, g_nu: NDArray, g_em: NDArray, br_dark: NDArray, h_m: NDArray | None = None,
    ) -> NDArray[np.float64]:
        n = neff_of(g_nu, g_em, m, h_m)
        r = np.abs(n - NEFF_PLANCK) / _HALF_WIDTH
        return np.where(br_dark > _DARK_BR_MAX, np.nan, r)

    def _ratio(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        if mix.proportional:
            g_nu, g_em, br_dark = self._widths(m, 1.0, model, mix)
            g2 = np.asarray(g) ** 2
            return self._ratio_from(m, g_nu * g2, g_em * g2, br_dark + 0.0 * g2)
        g_nu, g_em, br_dark = self._widths(m, g, model, mix)
        m_b = np.broadcast_to(m, np.broadcast_shapes(m.shape, np.shape(g_nu)))
        return self._ratio_from(m_b, g_nu, g_em, br_dark)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """eps proportional to g: the partial widths scale as g^2, and N_eff does not change with g
        where X is not thermalised at the largest coupling (N_eff^SM) or is thermalised at the
        smallest one with its bath decided and the exchange rate beyond the table's k range
        (clipped: the same table value). There r is one number for every coupling, computed at the
        smallest; each condition holds with a margin of 1e-9 (rounding is ~1e-16). r at the other
        points is :meth:`_ratio`'s arithmetic on the gathered widths, bit for bit."""
        own = type(self)._ratio is NeffBBN._ratio and type(self)._ratio_from is NeffBBN._ratio_from
        if not own or not mix.proportional:
            return None
        g_nu, g_em, br_dark = self._widths(m, 1.0, model, mix)
        shape = np.shape(g2_max)
        g_nu, g_em, br_dark = (np.broadcast_to(v, shape) for v in (g_nu, g_em, br_dark))
        ks = _table()[2]
        h_m = hubble_at(m, m)
        total1 = g_nu + g_em
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            cold = total1 * g2_max * (1.0 + 1e-9) < h_m
            other1 = np.minimum(g_nu, g_em)
            bath_clear = np.abs(g_nu - g_em) > 1e-9 * total1
            k_top = other1 * g2_min / h_m >= 10.0 ** ks[-1] * (1.0 + 1e-9)
            k_bottom = other1 * g2_max / h_m <= 10.0 ** ks[0] * (1.0 - 1e-9)
            hot = (total1 * g2_min * (1.0 - 1e-9) >= h_m) & bath_clear & (k_top | k_bottom)
            r0 = _ratio_at_squares(m, h_m, g_nu, g_em, br_dark, g2_min)
        constant = (cold | hot) & np.isfinite(r0)
        below, above = constant & (r0 < 1.0), constant & (r0 >= 1.0)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            # H per mass as _ratio computes it (on the mass array itself: its thermodynamic
            # quadrature is not bit for bit the same on an array of another shape), then gathered
            m_i, h_i, nu_i, em_i, dark_i = (_at_points(v, shape, index)
                                            for v in (m, h_m, g_nu, g_em, br_dark))  # fmt: skip
            return _ratio_at_squares(m_i, h_i, nu_i, em_i, dark_i, g**2)

        return PointForm(below, above, ratio_at)

    def _intervals(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> Intervals:
        shape = np.broadcast_shapes(m.shape, model.shape, mix.shape)
        m_b = np.broadcast_to(m, shape)
        if mix.proportional:
            g_nu, g_em, br_dark = (np.broadcast_to(v, shape) for v in self._widths(m_b, 1.0, model, mix))

            def ratio_of_g(gv: NDArray) -> NDArray:
                return self._ratio_from(m_b, g_nu * gv * gv, g_em * gv * gv, br_dark)

        else:

            def ratio_of_g(gv: NDArray) -> NDArray:
                return np.broadcast_to(self._ratio(m_b, gv, model, mix), shape)

        # Thermalisation (Gamma >= H at T = m_X) sets in at g ~ sqrt(m_X / M_Pl) ~ 1e-12 for
        # m_X = 0.1 MeV: the grid must reach far below the default 1e-10, or an interval that
        # starts below the grid would be reported as starting at g = 0.
        return intervals_by_scan(ratio_of_g, shape, g_grid=_G_GRID, max_intervals=2)


def __dir__() -> list[str]:
    return list(__all__)
