r"""Neutrino trident production nu_mu N -> nu_mu mu+ mu- N against CCFR and CHARM-II.

An X of couplings g_nu = g_X x_numu (no kinetic-mixing term) and g_mu = g_X x_mu - eps e is exchanged
between the neutrino and the muon line; it carries a spacelike Q^2 = -(k_nu - k_nu')^2 >= 0 and
shifts the vector coefficient inside the matrix element (:mod:`.matrix_element`):

    C_V(Q^2) = g_V + P / (m_X^2 + Q^2),        P = g_nu g_mu / (sqrt2 G_F)  [GeV^2].

The V-A interference vanishes, so with the tabulated Q^2 distributions W_V, W_A (:mod:`.tables`)

    R = sigma/sigma_SM = 1 + a_1(m) P + a_2(m) P^2,   a_1 = 2 g_V J_1/S,  a_2 = J_2/S,
    S = g_V^2 I_V + g_A^2 I_A,   I_G = sum W_G,   J_n(m) = sum W_V(Q^2) / (m^2 + Q^2)^n.

Statistics: chi^2 = (R - R_meas)^2 / sigma^2 and r = chi^2 / Delta chi^2_crit (95% CL, one
parameter, two-sided: excluded outside R_meas +- 1.96 sigma). With eps proportional to g_X,
P = kappa g^2, with a fixed eps P = A g^2 + B g; either way the excluded couplings follow in
closed form (:func:`~zprime_atlas.constraints.solve.quadratic_exclusion_intervals`). eps = "loop"
is evaluated at q^2 = -Q_X^2(m_X), Q_X^2 = exp<ln Q^2> under the interference weight
W_V/(m^2 + Q^2). Derivation, data, approximations and checks: docs/physics/trident.md.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._validate import as_coupling, as_mass
from ...constants import E_CHARGE, G_FERMI
from ...couplings import Mixing
from ...models import Model
from ..base import CompiledRatio, Constraint, ConstraintInfo, PointForm, _at_points
from ..rate_shift import parabola_sides
from ..solve import delta_chi2_critical, quadratic_exclusion_intervals, trim_intervals
from .experiments import CCFR, CHARM2, TridentExperiment
from .matrix_element import sm_couplings
from .tables import load_table

__all__ = ["CCFRTrident", "CHARM2Trident", "TridentConstraint"]

_CL = 0.95
#: Delta chi^2 at 95% CL for one parameter, two-sided: 3.841 (= 1.96^2).
_DCHI2_CRIT = delta_chi2_critical(_CL)
_MASS_RANGE = (1e-4, 100.0)


@functools.lru_cache(maxsize=64)
def _moments(name: str, masses: tuple[float, ...]) -> tuple[NDArray, NDArray, NDArray]:
    """(a_1, a_2, Q_X^2) per mass [GeV^-2, GeV^-4, GeV^2] for the unique masses given."""
    q2, w_v, w_a = load_table(name)
    gv, ga = sm_couplings()
    s_sm = gv * gv * w_v.sum() + ga * ga * w_a.sum()
    m2 = np.asarray(masses)[:, None] ** 2
    prop = 1.0 / (m2 + q2)
    j1 = np.sum(w_v * prop, axis=1)
    j2 = np.sum(w_v * prop**2, axis=1)
    q2_x = np.exp(np.sum(w_v * prop * np.log(q2), axis=1) / j1)
    return 2.0 * gv * j1 / s_sm, j2 / s_sm, q2_x


def _sigma_ratio_of(a1: NDArray, a2: NDArray, g: NDArray, x_nu: NDArray, x_mu: NDArray,
                    e_eps: NDArray) -> NDArray[np.float64]:  # fmt: skip
    """R = 1 + a_1 P + a_2 P^2, P = g_nu g_mu / (sqrt2 G_F), g_nu = g x_numu, g_mu = g x_mu - e eps."""
    g_nu = np.asarray(g) * x_nu
    g_mu = np.asarray(g) * x_mu - e_eps
    p = g_nu * g_mu / (math.sqrt(2.0) * G_FERMI)
    return np.asarray(1.0 + a1 * p + a2 * p * p, dtype=np.float64)


class TridentConstraint(Constraint):
    """sigma/sigma_SM of nu_mu trident production against one measurement (module docstring)."""

    def __init__(self, experiment: TridentExperiment) -> None:
        self.experiment = experiment
        ex = experiment
        self.r_low = ex.measured - math.sqrt(_DCHI2_CRIT) * ex.error
        self.r_high = ex.measured + math.sqrt(_DCHI2_CRIT) * ex.error
        _, w_v, w_a = load_table(ex.name)
        self.axial_over_vector = float(w_a.sum() / w_v.sum())
        self.info = ConstraintInfo(
            name=ex.name,
            title=ex.title,
            citation=("1406.2332",),
            mass_range=_MASS_RANGE,
            cl=_CL,
            journal=ex.journal,
            notes=(
                f"R = sigma/sigma_SM = {ex.measured} +- {ex.error} ({ex.experiment}, as quoted in "
                "1406.2332 and flavio; journal table not read); two-sided Gaussian test, "
                f"excluded outside [{self.r_low:.3f}, {self.r_high:.3f}] (Delta chi^2 = 3.841). "
                "Coherent trident in the equivalent-photon approximation with the exact tree-level "
                "nu gamma -> nu mu mu matrix element and the X propagator 1/(m_X^2 + Q^2) inside it "
                f"(precomputed Q^2 tables); {ex.target_note}; {ex.beam_note}. Massive muons make "
                f"I_A/I_V = {self.axial_over_vector:.3f}, so the heavy-X limit differs slightly from "
                "the massless contact formula. No diffractive (nucleon) contribution. "
                "eps='loop' taken at q^2 = -Q_X^2(m_X)."
            ),
            verified=False,
            extra={"method": "equivalent-photon approximation, 1406.2332"},
        )

    # -- physics ------------------------------------------------------------------------------

    def _mass_moments(self, m: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        uniq, inverse = np.unique(m, return_inverse=True)
        a1, a2, q2x = _moments(self.experiment.name, tuple(float(v) for v in uniq))
        shape = m.shape
        return a1[inverse].reshape(shape), a2[inverse].reshape(shape), q2x[inverse].reshape(shape)

    def _sigma_ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        a1, a2, q2x = self._mass_moments(m)
        e_eps = E_CHARGE * np.real(np.asarray(mix.eps(model, g, -q2x)))
        return _sigma_ratio_of(a1, a2, g, model.charge("nu_mu"), model.charge("mu"), e_eps)

    def sigma_ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """R = sigma/sigma_SM = 1 + a_1(m) P + a_2(m) P^2, P = g_nu g_mu/(sqrt2 G_F); broadcasts.

        g_nu = g_X x_numu, g_mu = g_X x_mu - e eps (eps = "loop" at q^2 = -Q_X^2(m_X)). Defined for
        every mass (NaN is applied by :meth:`ratio` outside the stated range).
        """
        mix = Mixing.parse(eps, eps_over_g, loop_scale)
        return self._sigma_ratio(as_mass(m_X), as_coupling(g_X), model, mix)

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = (R - R_meas)^2 / (Delta chi^2_crit sigma^2): >= 1 excluded (95% CL, two-sided)."""
        return self._r_of(self._sigma_ratio(m, g, model, mix))

    def _r_of(self, big_r: NDArray) -> NDArray[np.float64]:
        """r = (R - R_meas)^2 / (Delta chi^2_crit sigma^2)."""
        ex = self.experiment
        return np.asarray((big_r - ex.measured) ** 2 / (ex.error**2 * _DCHI2_CRIT), dtype=np.float64)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """eps proportional to g: P = A g^2 with A = x_numu (x_mu - e Re(eps/g)) / (sqrt2 G_F), so
        R - 1 = a_1 P + a_2 P^2 is a parabola in P and its range over a point's couplings is exact
        (:func:`~zprime_atlas.constraints.rate_shift.parabola_sides`): r < 1 at every coupling where
        R stays inside (R_low, R_high), r >= 1 where it stays outside. r at the other points is
        :meth:`_ratio`'s arithmetic on the gathered inputs, bit for bit."""
        if type(self)._ratio is not TridentConstraint._ratio or not mix.proportional:
            return None
        a1, a2, q2x = self._mass_moments(m)
        rho = np.asarray(mix.over_g(model, -q2x))
        x_nu, x_mu = model.charge("nu_mu"), model.charge("mu")
        norm = math.sqrt(2.0) * G_FERMI
        with np.errstate(over="ignore", invalid="ignore"):
            p_a = x_nu * (x_mu - E_CHARGE * np.real(rho)) / norm
            # g x_mu - e eps cancels where mixing cancels the muon coupling: its rounding (a few
            # ulps of the terms) is allowed for, generously
            spread = 1e-12 * np.abs(x_nu) * (np.abs(x_mu) + np.abs(E_CHARGE * rho)) / norm
        below, above = parabola_sides(a1, a2, p_a, g2_min, g2_max, self.r_low - 1.0,
                                      self.r_high - 1.0, spread)  # fmt: skip
        shape = np.shape(g2_max)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            a1_i, a2_i, rho_i, nu_i, mu_i = (_at_points(v, shape, index)
                                             for v in (a1, a2, rho, x_nu, x_mu))  # fmt: skip
            with np.errstate(over="ignore", invalid="ignore"):
                e_eps = E_CHARGE * np.real(np.asarray(g * rho_i))  # what mix.eps(...) gives
                return self._r_of(_sigma_ratio_of(a1_i, a2_i, g, nu_i, mu_i, e_eps))

        ex = self.experiment
        compiled = CompiledRatio("trident", (a1, a2, rho, x_nu, x_mu),
                                 (E_CHARGE, norm, ex.measured, ex.error**2 * _DCHI2_CRIT))
        return PointForm(below, above, ratio_at, compiled)

    # -- limits -------------------------------------------------------------------------------

    def _intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """All excluded g_X intervals, lowest first; (inf, inf) pads unused slots.

        R - 1 = a_1 P + a_2 P^2 is a quadratic in P = g_nu g_mu / (sqrt2 G_F) = A g^2 + B g:
        eps proportional to g_X (``eps_over_g``, ``"loop"``) gives A = x_numu (x_mu - e eps/g_X),
        B = 0; a fixed eps gives A = x_numu x_mu, B = -x_numu e eps (both over sqrt2 G_F). Excluded
        where R >= R_high or R <= R_low, in closed form
        (:func:`~zprime_atlas.constraints.solve.quadratic_exclusion_intervals`). Two slots for eps
        proportional to g_X (R is a quadratic in g^2: at most one window), at least three for a
        fixed eps, and a fourth where some point needs it (P = A g^2 + B g runs out to its extremum
        and back, so R can cross both thresholds twice on each branch when x_numu x_mu < 0).
        """
        a1, a2, q2x = self._mass_moments(m)
        x_nu, x_mu = model.charge("nu_mu"), model.charge("mu")
        norm = math.sqrt(2) * G_FERMI
        if mix.proportional:
            rho = np.real(np.asarray(mix.over_g(model, -q2x)))
            p_a, p_b, slots = x_nu * (x_mu - E_CHARGE * rho) / norm, np.zeros(()), 2
        else:
            p_a, p_b, slots = x_nu * x_mu / norm, -x_nu * E_CHARGE * mix.fixed_eps() / norm, 3
        intervals = quadratic_exclusion_intervals(
            a1, a2, p_a, p_b, self.r_low - 1.0, self.r_high - 1.0, 4
        )
        return trim_intervals(intervals, slots)


class CCFRTrident(TridentConstraint):
    """``ccfr_trident``: CCFR, R = 0.82 +- 0.28 (iron, <E_nu> ~ 160 GeV)."""

    def __init__(self) -> None:
        super().__init__(CCFR)


class CHARM2Trident(TridentConstraint):
    """``charm2_trident``: CHARM-II, R = 1.58 +- 0.57 (glass, <E_nu> ~ 24 GeV)."""

    def __init__(self) -> None:
        super().__init__(CHARM2)


def __dir__() -> list[str]:
    return list(__all__)
