"""Electron g-2: a vector X adds Delta a_e > 0; the measured Delta a_e depends on which alpha is used.

Data (:data:`zprime_atlas.gm2.ELECTRON_DATASETS`): the 2023 a_e with alpha from Cs recoil
(``gm2_electron_cs``, a negative Delta a_e: a positive X contribution worsens the tension) or from
Rb recoil (``gm2_electron_rb``). The two alpha determinations disagree by more than 5 sigma, so
both are offered and neither is on by default in the survey.

Test statistic (one-sided, physical boundary a_X >= 0; the q-tilde construction of LHC limits):
chi^2(a) = (a - Delta)^2 / sigma^2 and a_hat = max(Delta, 0). For a >= a_hat,
Delta chi^2 = [(a - Delta)^2 - (a_hat - Delta)^2] / sigma^2, else 0; r = Delta chi^2 / Delta chi^2_crit
with the one-sided 95% CL threshold. The largest allowed contribution is
a_crit = Delta + sqrt(Delta chi^2_crit sigma^2 + min(Delta, 0)^2) (:attr:`ElectronGM2.a_crit`), and
|g_e| < sqrt(4 pi^2 a_crit / F(m_X^2/m_e^2)). See docs/physics/electron_gm2.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..constants import E_CHARGE, M_E
from ..couplings import Mixing
from ..gm2 import ELECTRON_DATASETS, GM2Dataset, contribution, loop_integral
from ..models import Model
from .base import Constraint, ConstraintInfo
from .solve import delta_chi2_critical

__all__ = ["ElectronGM2"]

_CL = 0.95
_DCHI2_CRIT = delta_chi2_critical(_CL, one_sided=True)


class ElectronGM2(Constraint):
    """(g-2)_e bound for one choice of alpha (``"cs"`` or ``"rb"``)."""

    def __init__(self, alpha_source: str) -> None:
        key = alpha_source.lower()
        if key not in ELECTRON_DATASETS:
            raise ValueError(f"unknown alpha source {alpha_source!r}; use 'cs' or 'rb'")
        self.data: GM2Dataset = ELECTRON_DATASETS[key]
        atom = {"cs": "Cs", "rb": "Rb"}[key]
        self.info = ConstraintInfo(
            name=f"gm2_electron_{key}",
            title=f"electron g-2, alpha from {atom} recoil",
            citation=self.data.references,
            mass_range=(0.0, math.inf),
            cl=_CL,
            notes=(
                f"Delta a_e = {self.data.delta * 1e14:+.0f}({self.data.sigma * 1e14:.0f})e-14: "
                f"{self.data.status}. One-sided test with the physical boundary a_X >= 0, "
                f"Delta chi^2_crit = {_DCHI2_CRIT:.3f}. One-loop vector contribution; eps='loop' "
                "taken at q^2 = 0."
            ),
            verified=True,
        )

    @property
    def a_crit(self) -> float:
        """Largest allowed X contribution to a_e at the stated CL."""
        d, s = self.data.delta, self.data.sigma
        return d + math.sqrt(_DCHI2_CRIT * s * s + min(d, 0.0) ** 2)

    def _ratio(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        """r = Delta chi^2 / Delta chi^2_crit of the X contribution to a_e (module docstring)."""
        if mix.proportional:  # Delta a ∝ g_X^2: evaluate at g_X = 1 without the coupling axis
            a = contribution(model, m, 1.0, eps=mix, lepton="e") * g * g
        else:
            a = contribution(model, m, g, eps=mix, lepton="e")
        d, s = self.data.delta, self.data.sigma
        a_hat = max(d, 0.0)
        dchi2 = np.where(a >= a_hat, ((a - d) ** 2 - (a_hat - d) ** 2) / (s * s), 0.0)
        return dchi2 / _DCHI2_CRIT

    def _limit(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> NDArray[np.float64]:
        """Smallest excluded g_X > 0, in closed form from |g_e| < sqrt(4 pi^2 a_crit / F)."""
        g_e_max = np.sqrt(4.0 * math.pi**2 * self.a_crit / loop_integral((m / M_E) ** 2))
        x_e = model.charge("e")
        with np.errstate(divide="ignore", invalid="ignore"):
            if mix.proportional:
                xi = np.abs(x_e - E_CHARGE * np.real(mix.over_g(model, 0.0)))
                out = np.where(xi > 0, g_e_max / xi, math.inf)
            else:
                e_eps = E_CHARGE * mix.fixed_eps()
                excluded_at_zero = np.abs(e_eps) >= g_e_max
                g = (g_e_max + np.sign(x_e) * e_eps) / np.abs(x_e)
                out = np.where(x_e != 0, g, math.inf)
                out = np.where(excluded_at_zero, 0.0, out)
        return np.asarray(out, dtype=np.float64)


def __dir__() -> list[str]:
    return list(__all__)
