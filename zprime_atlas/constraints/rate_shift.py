"""Counting constraints whose rate a Z' shifts by a quadratic in p = a g_X^2 + b g_X.

For a neutrino-scattering count with interference between the SM and X exchange, the fractional rate
shift at fixed mass is

    R - 1 = beta(m_X) p + gamma(m_X) p^2,   p = a g_X^2 + b g_X,

where p is the product of the X couplings to the neutrino and to the target (a: the part that grows
with g_X^2, i.e. eps proportional to g_X; b: a fixed kinetic mixing times g_X), beta the interference
and gamma the pure-X kernel of the experiment (docs/physics/borexino.md, solar_cevns.md,
reactor_cevns.md). The measured ratio R_m enters a Delta chi^2 = chi^2(R) - chi^2(1) clipped at 0,
which crosses its critical value at two shifts d_lo < 0 < d_hi; the excluded couplings are then the
roots of a quartic in g_X, in closed form (:func:`~.solve.quadratic_exclusion_intervals`), so no
interference window is lost.

:class:`QuadraticRateShift` holds all of this once. A constraint supplies ``_p_coefficients``,
``_beta_gamma`` and its measurement: a symmetric Gaussian in R through :meth:`set_gaussian_rate`
(which also sets d_lo and d_hi), or its own ``delta_chi2`` with d_lo and d_hi.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _kernels
from .._validate import as_coupling, as_mass
from ..constants import E_CHARGE
from ..couplings import Mixing
from ..models import Model
from .base import CompiledRatio, PointForm, _at_points
from .solve import Intervals, quadratic_exclusion_intervals

__all__ = ["QuadraticRateShift", "electron_p_coefficients", "parabola_sides"]


def parabola_sides(beta: ArrayLike, gamma: ArrayLike, a: ArrayLike, u_min: ArrayLike,
                   u_max: ArrayLike, d_lo: float, d_hi: float, a_spread: ArrayLike = 0.0
                   ) -> tuple[NDArray, NDArray]:  # fmt: skip
    """Where s(p) = beta p + gamma p^2 with p = a u stays inside (d_lo, d_hi) for every u in
    [u_min, u_max] (``below``), and where it stays outside, beyond one threshold (``above``).

    ``a_spread`` >= 0 widens p to [a u - a_spread u, a u + a_spread u]: the rounding of an
    evaluation that forms p from cancelling terms (e.g. g x_mu - e eps for a muon coupling that
    kinetic mixing cancels), which the coefficient a does not see. The range of s over the p
    interval is exact: its ends and the vertex p = -beta/(2 gamma) if that lies inside. Each side
    holds with a margin of 1e-9 of the terms' size |beta| P + |gamma| P^2 (+ d_hi - d_lo), far
    above the rounding (~1e-16 of it) of any evaluation of s; NaN or overflow gives neither. Used
    by the grid engine to skip couplings whose verdict is known.
    """
    beta, gamma, a, lo, hi, spread = (np.asarray(v, dtype=np.float64)
                                      for v in (beta, gamma, a, u_min, u_max, a_spread))  # fmt: skip
    shape = np.broadcast_shapes(beta.shape, gamma.shape, a.shape, lo.shape, hi.shape)
    if _kernels.enabled(math.prod(shape)):  # the same in one compiled pass (zprime_atlas._kernels)
        sides = _kernels.parabola_sides(beta, gamma, a, lo, hi, np.asarray(d_lo, dtype=np.float64),
                                        np.asarray(d_hi, dtype=np.float64), spread)  # fmt: skip
        if sides is not None:
            return sides
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p_lo, p_hi = a * lo, a * hi
        p0, p1 = np.minimum(p_lo, p_hi), np.maximum(p_lo, p_hi)
        if spread.ndim or spread != 0.0:
            widen = spread * hi
            p0, p1 = p0 - widen, p1 + widen
        # s at the ends as p (beta + gamma p): within ~1e-16 of the terms, like any evaluation
        s_min = p0 * (beta + gamma * p0)
        s_max = p1 * (beta + gamma * p1)
        s_min, s_max = np.minimum(s_min, s_max), np.maximum(s_min, s_max)
        vertex = -beta / (2.0 * gamma)  # (models, masses): no mixing axis
        inside = (vertex > p0) & (vertex < p1)
        if inside.any():
            at_vertex = np.broadcast_to(-0.25 * beta * beta / gamma, s_min.shape)
            np.minimum(s_min, at_vertex, out=s_min, where=inside)
            np.maximum(s_max, at_vertex, out=s_max, where=inside)
        big_p = np.maximum(np.abs(p0), np.abs(p1))
        margin = big_p * (np.abs(beta) + np.abs(gamma) * big_p)
        margin += d_hi - d_lo
        margin *= 1e-9
        low_side, high_side = s_min - margin, s_max + margin
        # NaN or overflow anywhere makes this non-finite: neither side holds
        finite = np.isfinite(high_side - low_side)
        below = (low_side > d_lo) & (high_side < d_hi)
        above = finite & ((low_side >= d_hi) | (high_side <= d_lo))
    return below, above


def electron_p_coefficients(model: Model, mix: Mixing, q2_ref: float) -> tuple[NDArray, NDArray]:
    """(a, b) of p = a g^2 + b g = g_X g_e with g_e = g_X x_e - eps e (nu-e scattering), kinetic
    mixing at q^2 = ``q2_ref`` [GeV^2] when it is proportional to g_X (loop-induced or eps/g)."""
    x_e = model.charge("e")
    if mix.proportional:
        over_g = np.real(np.asarray(mix.over_g(model, q2_ref)))
        return x_e - E_CHARGE * over_g, np.zeros(())
    return x_e, -E_CHARGE * mix.fixed_eps()


def _shift_of(a: ArrayLike, b: ArrayLike, beta: ArrayLike, gamma: ArrayLike, g: ArrayLike
              ) -> NDArray[np.float64]:  # fmt: skip
    """R - 1 = beta p + gamma p^2 with p = a g^2 + b g (arrays broadcast)."""
    a, b, beta, gamma, g = (np.asarray(v) for v in (a, b, beta, gamma, g))
    p = a * g * g + b * g
    return np.asarray(beta * p + gamma * p * p, dtype=np.float64)


class QuadraticRateShift:
    """Mixin for a Constraint: rate shift, Delta chi^2, r and closed-form intervals (see module)."""

    dchi2_crit: float
    r_meas: float
    sigma_r: float
    #: Excluded when R - 1 >= d_hi or R - 1 <= d_lo.
    d_lo: float
    d_hi: float

    def _p_coefficients(self, model: Model, mix: Mixing) -> tuple[NDArray, NDArray]:
        """(a, b) of p = a g^2 + b g for these charges and this mixing."""
        raise NotImplementedError

    def _beta_gamma(self, m: NDArray, model: Model) -> tuple[NDArray, NDArray]:
        """(beta, gamma) of the rate shift at masses ``m`` [GeV]."""
        raise NotImplementedError

    def set_gaussian_rate(self, r_meas: float, sigma_r: float) -> None:
        """A measured ratio R_m +- sigma (Gaussian): Delta chi^2 = [(R - R_m)^2 - (1 - R_m)^2] / sigma^2
        reaches ``dchi2_crit`` at R - 1 = R_m - 1 -+ sqrt(crit sigma^2 + (1 - R_m)^2)."""
        self.r_meas, self.sigma_r = r_meas, sigma_r
        half = math.sqrt(self.dchi2_crit * sigma_r**2 + (1.0 - r_meas) ** 2)
        self.d_hi = r_meas + half - 1.0
        self.d_lo = r_meas - half - 1.0

    def _shift(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """R - 1 = beta p + gamma p^2 (formed without R, so tiny shifts keep their digits)."""
        a, b = self._p_coefficients(model, mix)
        beta, gamma = self._beta_gamma(m, model)
        return _shift_of(a, b, beta, gamma, g)

    def rate_shift(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """R - 1 = beta p + gamma p^2 (m_X [GeV]); all arguments broadcast."""
        mix = Mixing.parse(eps, eps_over_g, loop_scale)
        return self._shift(as_mass(m_X), as_coupling(g_X), model, mix)

    def rate_ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """R = N(SM + X) / N(SM) of the experiment's count (m_X [GeV]); all arguments broadcast."""
        return 1.0 + self.rate_shift(m_X, g_X, model, eps, eps_over_g, loop_scale)

    def delta_chi2(self, shift: ArrayLike) -> NDArray[np.float64]:
        """Delta chi^2 = [(R - R_m)^2 - (1 - R_m)^2] / sigma^2 clipped at 0, for shift = R - 1."""
        d = np.asarray(shift, dtype=np.float64)
        return np.maximum(d * (d + 2.0 * (1.0 - self.r_meas)) / self.sigma_r**2, 0.0)

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = Delta chi^2 / Delta chi^2_crit."""
        with np.errstate(over="ignore", invalid="ignore"):
            shift = self._shift(m, g, model, mix)
        return self.delta_chi2(shift) / self.dchi2_crit

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """eps proportional to g: p = a g^2 and R - 1 = beta p + gamma p^2 is a parabola in p, so
        its range over a point's couplings is exact (the ends and the vertex). Delta chi^2 crosses
        its critical value only at d_lo < 0 < d_hi: r < 1 at every coupling where the range lies
        inside (d_lo, d_hi), r >= 1 at every coupling where it lies beyond one of them, each with
        a margin of 1e-9 of the terms' size (rounding is ~1e-16 of it). r at the other points is
        :meth:`_ratio`'s arithmetic on the gathered coefficients, bit for bit."""
        own = type(self)._ratio is QuadraticRateShift._ratio and \
            type(self)._shift is QuadraticRateShift._shift  # fmt: skip
        if not own or not mix.proportional or not (self.d_lo < 0.0 < self.d_hi):
            return None
        a, b = self._p_coefficients(model, mix)
        beta, gamma = self._beta_gamma(m, model)
        shape = np.shape(g2_max)
        below, above = parabola_sides(beta, gamma, a, g2_min, g2_max, self.d_lo, self.d_hi)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            a_i, beta_i, gamma_i = (_at_points(v, shape, index) for v in (a, beta, gamma))
            with np.errstate(over="ignore", invalid="ignore"):
                shift = _shift_of(a_i, b, beta_i, gamma_i, g)
            return self.delta_chi2(shift) / self.dchi2_crit

        return PointForm(below, above, ratio_at, self._compiled_ratio(a, b, beta, gamma))

    def _compiled_ratio(self, a: ArrayLike, b: ArrayLike, beta: ArrayLike, gamma: ArrayLike
                        ) -> CompiledRatio | None:  # fmt: skip
        """r = delta_chi2(beta p + gamma p^2) / crit with p = a g^2 + b g as a formula of the
        compiled kernel: ``rate_shift`` for this class's Gaussian :meth:`delta_chi2`; None for a
        subclass with its own (which may name its formula here instead)."""
        if type(self).delta_chi2 is not QuadraticRateShift.delta_chi2:
            return None
        return CompiledRatio("rate_shift", (a, b, beta, gamma),
                             (2.0 * (1.0 - self.r_meas), self.sigma_r**2, self.dchi2_crit))

    def _intervals(self, m: NDArray, model: Model, mix: Mixing) -> Intervals:
        """Four (lower, upper) pairs of excluded g_X > 0 in closed form (destructive windows kept)."""
        a, b = self._p_coefficients(model, mix)
        beta, gamma = self._beta_gamma(m, model)
        return quadratic_exclusion_intervals(beta, gamma, a, b, self.d_lo, self.d_hi, 4)


def __dir__() -> list[str]:
    return list(__all__)
