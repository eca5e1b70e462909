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
Delta chi^2_crit; the shift is linear in p, and the excluded couplings follow in closed form
(:func:`~zprime_atlas.constraints.solve.quadratic_exclusion_intervals` with no p^2 term). Below 32
MeV the constraint says nothing (NaN).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_coupling, as_mass
from ..constants import E_CHARGE, G_FERMI, SIN2_THETA_W_LOW
from ..couplings import Mixing
from ..models import Model
from .base import Constraint, ConstraintInfo
from .solve import delta_chi2_critical, quadratic_exclusion_intervals

__all__ = ["E_NU_MAX_REACTOR", "M_CONTACT_MIN_NUE", "TEXONO_SIN2", "Texono2010NuE"]

_SQRT2_GF: float = math.sqrt(2.0) * G_FERMI

#: TEXONO 2010, arXiv:0911.1597 abstract [verified]: "a weak mixing angle measurement of
#: sin^2 theta_W = 0.251 +- 0.031 (stat) +- 0.024 (sys)"; probed at "Q^2 ~ 3 x 10^-6 GeV^2".
TEXONO_SIN2: dict[str, float] = {"value": 0.251, "stat": 0.031, "syst": 0.024, "q2": 3e-6}

#: Reactor antineutrino energies are below 10 MeV (CONUS, arXiv:2011.00210 abstract) [verified].
E_NU_MAX_REACTOR: float = 10e-3

#: Lightest mass at which the contact form holds to 1%: 2 m_e E_max <= 0.01 m^2 (31.97 MeV, rounded up).
M_CONTACT_MIN_NUE: float = 0.032


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
        #: Excluded when the shift Delta s2 = delta/2 is >= d_hi or <= d_lo.
        self.d_hi = diff + half
        self.d_lo = diff - half
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
                f"{self.d_lo:.4f}. No statement below {M_CONTACT_MIN_NUE:g} GeV (needs the reactor "
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
        x_e = model.charge("e")
        if mix.proportional:
            over_g = np.real(np.asarray(mix.over_g(model, self.q2_ref)))
            return x_e - E_CHARGE * over_g, np.zeros(())
        return x_e, -E_CHARGE * mix.fixed_eps()

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
        return np.asarray(self._beta(m, model) * (a * g * g + b * g), dtype=np.float64)

    def delta_chi2(self, shift: ArrayLike) -> NDArray[np.float64]:
        """[(s2_SM + shift - s2_m)^2 - (s2_SM - s2_m)^2] / sigma^2, clipped at 0."""
        d = np.asarray(shift, dtype=np.float64)
        base = self.s2_sm - self.s2_meas
        return np.maximum(d * (d + 2.0 * base) / self.sigma**2, 0.0)

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = Delta chi^2 / Delta chi^2_crit."""
        with np.errstate(over="ignore", invalid="ignore"):
            shift = self._shift(m, g, model, mix)
        return self.delta_chi2(shift) / self.dchi2_crit

    def _intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Up to four (lower, upper) pairs of excluded g_X > 0, in closed form."""
        a, b = self._p_coefficients(model, mix)
        beta = self._beta(m, model)
        return quadratic_exclusion_intervals(beta, np.zeros(()), a, b, self.d_lo, self.d_hi, 4)


def __dir__() -> list[str]:
    return list(__all__)
