r"""Reactor antineutrino-electron scattering (TEXONO 2010) with an X, in the contact regime.

Constraint ``texono_2010_nue``: TEXONO CsI(Tl) at the Kuo-Sheng reactor, arXiv:0911.1597, Phys. Rev.
D 81 (2010) 072001. Units: GeV. Physics, inputs and approximations: docs/physics/nue_scattering.md.

TEXONO quotes its nubar_e e cross section as a weak mixing angle, sin^2 theta_W = 0.251 +- 0.031
(stat) +- 0.024 (syst) (abstract): a fit of the SM formula with s_W^2 the only free parameter. In the
SM, nu_e and nubar_e scatter on electrons with g_L = 1/2 + s_W^2 and g_R = s_W^2 (charged current
included). An X exchange adds (as in :mod:`~zprime_atlas.constraints.borexino`)

    g_V -> g_V + delta(T),   delta(T) = g_nu_e g_e / (sqrt2 G_F (2 m_e T + m_X^2)),

i.e. g_L and g_R each shift by delta/2 -- exactly what s_W^2 -> s_W^2 + delta/2 does. Reactor
antineutrinos have E < 10 MeV (CONUS abstract, arXiv:2011.00210), so every recoil has
q^2 = 2 m_e T < 2 m_e E_max = (3.2 MeV)^2; for m_X >= 32 MeV the propagator is 1/m_X^2 to 1% and
delta is the same for every event. The X is then indistinguishable from a shifted weak mixing
angle, whatever the reactor spectrum, the recoil window and the efficiency:

    s2_fit = s2_SM + delta/2,   delta = x_nue p / (sqrt2 G_F m_X^2),   p = g_X g_e = a g_X^2 + b g_X,

with g_e = g_X x_e - eps e (a = x_e - e eps/g_X, b = 0 for eps proportional to g_X; a = x_e,
b = -e eps for a fixed eps). chi^2 = ((s2_fit - s2_meas)/sigma)^2, r = max(chi^2 - chi^2_SM, 0) /
Delta chi^2_crit. Below 32 MeV the constraint says nothing (NaN).

**The other branch.** The measured quantity is a rate, a parabola in s_W^2: in units of the
recoil-averaged couplings, rate(s) = s^2 + A (1/2 + s)^2 - C s (1/2 + s), A = <(1 - T/E)^2>,
C = <m_e T/E^2>, with its minimum at s_v = (C/2 - A) / (2 (1 + A - C)). A shift beyond the vertex
brings the rate back up, to an SM-like rate again at the mirror point (a re-allowed window of
destructive interference). Without the spectrum and the recoil window A and C are unknown, but
0 <= A <= 1 and C <= m_e/T_min (E >= T) bound the vertex: s_v <= C_max / (4 (1 - C_max)). With
recoils T >= T_MIN = 2 MeV (the abstract's Q^2 ~ 3e-6 GeV^2 is T = Q^2/(2 m_e) = 2.9 MeV; 2 MeV is
the stated assumption), s_v <= 0.086: every shift above S_FLOOR = s_v,max - s2_SM = -0.153 is on the
monotonic branch, where the s_W^2 test is the rate test. Below S_FLOOR the constraint says nothing
(r = NaN), so no interference window can be lost: excluded where delta/2 >= d_hi or
S_FLOOR <= delta/2 <= d_lo, in closed form (the roots of the three thresholds cut g_X > 0 into cells,
:mod:`~zprime_atlas.constraints.solve`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_coupling, as_mass
from ..constants import G_FERMI, M_E, SIN2_THETA_W_LOW
from ..couplings import Mixing
from ..models import Model
from .base import CompiledRatio, Constraint, ConstraintInfo, PointForm, _at_points
from .rate_shift import electron_p_coefficients
from .solve import _intervals_from_roots, delta_chi2_critical, quadratic_roots

__all__ = ["E_NU_MAX_REACTOR", "M_CONTACT_MIN_NUE", "TEXONO_SIN2", "T_MIN", "Texono2010NuE"]

_SQRT2_GF: float = math.sqrt(2.0) * G_FERMI

#: TEXONO 2010, arXiv:0911.1597 abstract [verified]: "a weak mixing angle measurement of
#: sin^2 theta_W = 0.251 +- 0.031 (stat) +- 0.024 (sys)"; probed at "Q^2 ~ 3 x 10^-6 GeV^2".
TEXONO_SIN2: dict[str, float] = {"value": 0.251, "stat": 0.031, "syst": 0.024, "q2": 3e-6}

#: Reactor antineutrino energies are below 10 MeV (CONUS, arXiv:2011.00210 abstract) [verified].
E_NU_MAX_REACTOR: float = 10e-3

#: Assumed lowest recoil energy of TEXONO's events [GeV] (the abstract gives Q^2 ~ 3e-6 GeV^2,
#: i.e. T ~ 2.9 MeV); it bounds the vertex of the rate parabola (module docstring).
T_MIN: float = 2e-3

#: Lightest mass at which the contact form holds to 1%: 2 m_e E_max <= 0.01 m^2 (31.97 MeV, rounded up).
M_CONTACT_MIN_NUE: float = 0.032


def _sin2_shift_of(beta: NDArray, a: NDArray, b: NDArray, g: NDArray) -> NDArray[np.float64]:
    """Delta s2 = beta p with p = a g^2 + b g (arrays broadcast): :meth:`Texono2010NuE._shift` on
    its coefficients, also at the gathered points of its point form."""
    return np.asarray(beta * (a * g * g + b * g), dtype=np.float64)


class Texono2010NuE(Constraint):
    """``texono_2010_nue``: TEXONO nubar_e e weak mixing angle vs the X shift (module docstring).

    ``cl``: confidence level of the one-parameter Delta chi^2 test (default 0.90).
    """

    def __init__(self, cl: float = 0.90) -> None:
        if not 0.0 < cl < 1.0:
            raise ValueError(f"confidence level must lie in (0, 1), got {cl!r}")
        self.dchi2_crit = delta_chi2_critical(cl)
        self.s2_meas = TEXONO_SIN2["value"]
        self.sigma = math.hypot(TEXONO_SIN2["stat"], TEXONO_SIN2["syst"])
        self.s2_sm = SIN2_THETA_W_LOW
        self.q2_ref = -TEXONO_SIN2["q2"]
        diff = self.s2_meas - self.s2_sm
        half = math.sqrt(self.dchi2_crit * self.sigma**2 + diff * diff)
        #: Excluded when the shift Delta s2 = delta/2 is >= d_hi or in [s_floor, d_lo].
        self.d_hi = diff + half
        self.d_lo = diff - half
        c_max = M_E / T_MIN
        #: Largest possible vertex of the rate parabola minus s2_SM: no statement below it.
        self.s_floor = c_max / (4.0 * (1.0 - c_max)) - self.s2_sm
        if not self.s_floor < self.d_lo:
            raise ValueError("the monotonic branch does not reach the lower threshold")
        self.info = ConstraintInfo(
            name="texono_2010_nue",
            title="TEXONO 2010: reactor nubar_e e scattering (sin^2 theta_W, contact regime)",
            citation=("0911.1597", "2011.00210"),
            mass_range=(M_CONTACT_MIN_NUE, 10.0),
            cl=float(cl),
            notes=(
                f"nubar_e e scattering at the Kuo-Sheng reactor. For m_X >= {M_CONTACT_MIN_NUE:g} GeV "
                "(E_nu < 10 MeV: q^2 <= 2 m_e E_max <= 0.01 m_X^2) the X shifts g_L and g_R by "
                "delta/2 = x_nue g_X g_e/(2 sqrt2 G_F m_X^2) for every event, which is s_W^2 -> s_W^2 "
                f"+ delta/2: compared with the measured {self.s2_meas} +- {self.sigma:.4f} (stat and "
                f"syst in quadrature) around s_W^2(0) = {self.s2_sm}; Delta chi^2 clipped at 0, crit "
                f"{self.dchi2_crit:.3f}: excluded when delta/2 >= {self.d_hi:.4f} or <= "
                f"{self.d_lo:.4f} (and >= {self.s_floor:.3f}: below it the rate parabola may "
                "have turned, r = NaN; assumes recoils T >= 2 MeV). "
                f"No statement below {M_CONTACT_MIN_NUE:g} GeV (needs the reactor "
                "spectrum and the recoil window, not read here). eps='loop' at q^2 = -3e-6 GeV^2. "
                "Not verified: TEXONO's tree-level s_W^2 is compared with the MS-bar s_W^2(0) "
                "(radiative corrections of a few 1e-3 in s_W^2, well inside the error). "
                "docs/physics/nue_scattering.md"
            ),
            verified=False,
            journal="Phys. Rev. D 81 (2010) 072001",
            extra={"experiment": "TEXONO"},
            kind="neutrino",
            experiment="TEXONO",
            year=2010,
        )

    # -- physics --------------------------------------------------------------------------------

    def _p_coefficients(self, model: Model, mix: Mixing) -> tuple[NDArray, NDArray]:
        """p = a g^2 + b g with p = g_X g_e, g_e = g_X x_e - eps e."""
        return electron_p_coefficients(model, mix, self.q2_ref)

    def _beta(self, m: NDArray, model: Model) -> NDArray:
        """Delta s2 = beta p: beta = x_nue / (2 sqrt2 G_F m^2)."""
        return np.asarray(model.charge("nu_e") / (2.0 * _SQRT2_GF * m * m))

    def sin2_shift(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """The s_W^2 shift delta/2 the X mimics in the contact regime; all arguments broadcast."""
        mix = Mixing.parse(eps, eps_over_g, loop_scale)
        return self._shift(as_mass(m_X), as_coupling(g_X), model, mix)

    def _shift(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        a, b = self._p_coefficients(model, mix)
        return _sin2_shift_of(self._beta(m, model), a, b, g)

    def delta_chi2(self, shift: ArrayLike) -> NDArray[np.float64]:
        """[(s2_SM + shift - s2_m)^2 - (s2_SM - s2_m)^2] / sigma^2, clipped at 0."""
        d = np.asarray(shift, dtype=np.float64)
        base = self.s2_sm - self.s2_meas
        return np.maximum(d * (d + 2.0 * base) / self.sigma**2, 0.0)

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = Delta chi^2 / Delta chi^2_crit; NaN where the shift is below the branch floor."""
        with np.errstate(over="ignore", invalid="ignore"):
            shift = self._shift(m, g, model, mix)
        return self._ratio_of_shift(shift)

    def _ratio_of_shift(self, shift: NDArray) -> NDArray[np.float64]:
        """r = Delta chi^2(shift) / Delta chi^2_crit; NaN below the branch floor s_floor."""
        r = self.delta_chi2(shift) / self.dchi2_crit
        return np.where(shift >= self.s_floor, r, np.nan)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """eps proportional to g: the shift S = beta a g^2 is linear in g^2, so its range over a
        point's couplings is spanned by the two ends. r < 1 at every coupling where the range lies
        inside (d_lo, d_hi) (then also above s_floor < d_lo: r is finite); r >= 1 at every
        coupling where it lies at or above d_hi, or inside [s_floor, d_lo]; each with a margin of
        1e-9 of |S| + (d_hi - s_floor), far above rounding (~1e-16 of it). r at the other points is
        :meth:`_ratio`'s arithmetic on the gathered coefficients, bit for bit."""
        own = all(getattr(type(self), k) is getattr(Texono2010NuE, k)
                  for k in ("_ratio", "_shift", "_p_coefficients", "_beta", "delta_chi2"))  # fmt: skip
        if not own or not mix.proportional:
            return None
        a, b = self._p_coefficients(model, mix)
        beta = self._beta(m, model)
        with np.errstate(over="ignore", invalid="ignore"):
            slope = beta * a
            s_lo, s_hi = slope * g2_min, slope * g2_max
            s_min, s_max = np.minimum(s_lo, s_hi), np.maximum(s_lo, s_hi)
            margin = 1e-9 * (np.maximum(np.abs(s_lo), np.abs(s_hi)) + (self.d_hi - self.s_floor))
            finite = np.isfinite(s_min) & np.isfinite(s_max)
            below = finite & (s_min - margin > self.d_lo) & (s_max + margin < self.d_hi)
            window = (s_max + margin <= self.d_lo) & (s_min - margin >= self.s_floor)
            above = finite & ((s_min - margin >= self.d_hi) | window)
        shape = np.shape(g2_max)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            a_i, beta_i = (_at_points(v, shape, index) for v in (a, beta))
            with np.errstate(over="ignore", invalid="ignore"):
                shift = _sin2_shift_of(beta_i, a_i, b, g)
            return self._ratio_of_shift(shift)

        compiled = CompiledRatio("sin2_shift", (beta, a, b),
                                 (2.0 * (self.s2_sm - self.s2_meas), self.sigma**2, self.dchi2_crit,
                                  self.s_floor))  # fmt: skip
        return PointForm(below, above, ratio_at, compiled)

    def _intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Up to four (lower, upper) pairs of excluded g_X > 0, in closed form.

        S(g) = beta (a g^2 + b g); the g-roots of S = d_hi, d_lo and s_floor cut g > 0 into cells
        in each of which S keeps its side of all three thresholds; a cell is excluded where S >= d_hi
        or s_floor <= S <= d_lo (below s_floor it is treated as allowed: no statement).
        """
        a, b = self._p_coefficients(model, mix)
        beta = self._beta(m, model)
        shape = np.broadcast_shapes(np.shape(a), np.shape(b), np.shape(beta))
        a, b, beta = (np.broadcast_to(np.asarray(z, dtype=np.float64), shape) for z in (a, b, beta))
        roots = []
        for d in (self.d_hi, self.d_lo, self.s_floor):
            with np.errstate(divide="ignore", invalid="ignore"):
                r1, r2 = quadratic_roots(beta * a, beta * b, np.full(shape, -d))
            roots += [r1, r2]
        cand = np.stack(roots, axis=-1)
        floor = self.s_floor

        def s_of(g: NDArray) -> NDArray:
            s = beta[..., None] * (a[..., None] * g * g + b[..., None] * g)
            return np.where(s >= floor, s, 0.0)  # below the floor: no statement, never excluded

        return _intervals_from_roots(
            cand, s_of, np.full(shape, self.d_lo), np.full(shape, self.d_hi), 4
        )


def __dir__() -> list[str]:
    return list(__all__)
