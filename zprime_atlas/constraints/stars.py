r"""Stellar cooling (red giants, horizontal branch, the Sun): published B-L curves recast to any model.

Data: the U(1)_{B-L} limits of arXiv:2304.12907 (2023) as tabulated in cajohare/AxionLimits
(``data/stars/*_2023.csv``, provenance in each header; ``data/stars/generate.py`` regenerates them
and checks the source hashes). Scaling to a general model (docs/physics/stars.md):

In a plasma X mixes with the photon through the electrons (the photon self-energy is dominated by
them). For m_X well below the plasma frequency the component of X's couplings aligned with the
electric charge is screened; what is left is, per species f,

    g_f^perp = g_f + g_e Q_f      (electron: 0; proton: g_p + g_e; neutron: g_n),

independent of eps (kinetic mixing is exactly the aligned part). The dark photon has g^perp = 0 (its
emission is suppressed there, arXiv:2304.12907 abstract: "this suppression is absent if the couplings
are not in alignment with those of the photon"). Above the plasma frequency the vacuum couplings act.
The recast, with m_res the mass where the published curve has its minimum (the resonance):

- m < m_res: emission from the nuclei of the core through their unscreened charge
  q_i = Z_i g_p^perp + N_i g_n^perp, rate ∝ sum_i n_i q_i^2 (He-4 for red giants and horizontal
  branch; H and He-4 in the Sun with n_H/n_He = 2/Y_n - 2 from the solar-centre Y_n of
  data/solar/solar_model.csv). For B-L only the neutrons count (g_p^perp = 0).
- m >= m_res: electron-dominated emission, rate ∝ g_e^2 (B-L: |g_e| = g_B-L).

r = rate(model) / rate(B-L at the published g_lim) in each regime, so the limit on g_X is
g_lim / sqrt(S) with S the rate ratio per unit coupling squared. Couplings at q^2 = 0 (eps="loop").
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

from .._csv import package_table
from ..constants import E_CHARGE
from ..couplings import Mixing
from ..models import Model
from .base import Constraint, ConstraintInfo

__all__ = ["STARS", "StellarCooling"]

_PAPER = "2304.12907"


@functools.cache
def _curve(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    data = package_table("stars", f"{name}.csv", header="m_GeV,g_BL")
    m, g = data[:, 0], data[:, 1]
    if np.any(np.diff(m) < 0) or np.any(g <= 0):
        raise ValueError(f"stars/{name}.csv: masses must not decrease and limits must be positive")
    return m, g


@functools.cache
def _solar_h_over_he() -> float:
    """n_H / n_He at the solar centre from Y_n = n_n/n_e = 2 n_He / (n_H + 2 n_He) (H + He only)."""
    y_n = float(package_table("solar", "solar_model.csv")[0, 2])
    return 2.0 / y_n - 2.0


#: (name, title, composition key) of the shipped curves.
STARS: tuple[tuple[str, str], ...] = (
    ("red_giant_2023", "red giants"),
    ("horizontal_branch_2023", "horizontal-branch stars"),
    ("sun_2023", "the Sun"),
)


class StellarCooling(Constraint):
    """One stellar-cooling curve of arXiv:2304.12907, recast from B-L to any model (module docstring)."""

    def __init__(self, name: str) -> None:
        titles = dict(STARS)
        if name not in titles:
            raise ValueError(f"unknown stellar curve {name!r}; known: {', '.join(titles)}")
        self._name = name
        m, g = _curve(name)
        self.m_res = float(m[int(np.argmin(g))])
        self.info = ConstraintInfo(
            name=name,
            title=f"stellar cooling of {titles[name]} (B-L curve of 2304.12907, recast)",
            citation=(_PAPER,),
            mass_range=(float(m[0]), float(m[-1])),
            cl=0.95,
            notes=(
                "Published B-L limit (cajohare/AxionLimits, native resolution) recast: below the "
                f"curve's minimum (m_res = {self.m_res * 1e9:.3g} eV) through the unscreened "
                "nuclear charge Z (g_p + g_e) + N g_n (kinetic mixing screened), above it through "
                "g_e (electron-dominated emission). Energy-loss bound: the paper's CL and figure "
                "were not read (0.95 is nominal); not verified. docs/physics/stars.md"
            ),
            verified=False,
        )

    # -- couplings per unit g_X and the eps part (g_f = a_f g + b_f) --------------------------

    @staticmethod
    def _nucleon_charges(model: Model) -> tuple[NDArray, NDArray, NDArray]:
        x_e = model.charge("e")
        x_p = 2.0 * model.charge("u") + model.charge("d")
        x_n = model.charge("u") + 2.0 * model.charge("d")
        return x_e, x_p, x_n

    def _nuclear_norm(self, x_e: NDArray, x_p: NDArray, x_n: NDArray) -> NDArray:
        """sqrt(sum_i n_i q_i^2) per unit g_X (unscreened charges), normalised per He nucleus."""
        q_he = 2.0 * (x_p + x_e) + 2.0 * x_n
        if self._name == "sun_2023":
            q_h = x_p + x_e
            return np.sqrt(_solar_h_over_he() * q_h**2 + q_he**2)
        return np.abs(q_he)

    def _low_scale(self, model: Model) -> NDArray:
        """S_low^(1/2): the unscreened emission amplitude of the model relative to B-L (per g_X)."""
        ref = self._nuclear_norm(np.array(-1.0), np.array(1.0), np.array(1.0))
        return self._nuclear_norm(*self._nucleon_charges(model)) / ref

    def _g_lim(self, m: NDArray) -> NDArray:
        mm, gg = _curve(self._name)
        return np.exp(np.interp(np.log(m), np.log(mm), np.log(gg)))

    def _ratio(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        g_lim = self._g_lim(m)
        low = (self._low_scale(model) * g / g_lim) ** 2
        eps = np.real(np.asarray(mix.eps(model, g, 0.0)))
        g_e = g * model.charge("e") - E_CHARGE * eps
        high = (g_e / g_lim) ** 2
        return np.asarray(np.where(m < self.m_res, low, high), dtype=np.float64)

    def _limit(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> NDArray[np.float64]:
        g_lim = self._g_lim(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = self._low_scale(model)
            low = np.where(s > 0, g_lim / s, math.inf)
            x_e = model.charge("e")
            if mix.proportional:
                xi = np.abs(x_e - E_CHARGE * np.real(mix.over_g(model, 0.0)))
                high = np.where(xi > 0, g_lim / xi, math.inf)
            else:
                e_eps = E_CHARGE * mix.fixed_eps()
                g_hi = (g_lim + np.sign(x_e) * e_eps) / np.abs(x_e)
                high = np.where(x_e != 0, g_hi, math.inf)
                high = np.where(np.abs(e_eps) >= g_lim, 0.0, high)
        return np.asarray(np.where(m < self.m_res, low, high), dtype=np.float64)


def __dir__() -> list[str]:
    return list(__all__)
