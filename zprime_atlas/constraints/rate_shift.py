"""Rates that a Z' shifts by a quadratic in p = a g_X^2 + b g_X (shared by the counting constraints).

For a neutrino-scattering count with interference between the SM and X exchange, the fractional rate
shift at fixed mass is

    R - 1 = beta(m_X) p + gamma(m_X) p^2,   p = a g_X^2 + b g_X,

where p is the product of the X couplings to the neutrino and to the target (a: the part that grows
with g_X^2, i.e. eps proportional to g_X; b: a fixed kinetic mixing times g_X), beta the interference
and gamma the pure-X kernel of the experiment (docs/physics/borexino.md, solar_cevns.md,
reactor_cevns.md). Each constraint supplies ``_p_coefficients`` and ``_beta_gamma``; this mixin forms
the shift once, for all of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..couplings import Mixing
from ..models import Model

__all__ = ["QuadraticRateShift"]


class QuadraticRateShift:
    """Mixin: ``_shift`` = beta p + gamma p^2 from the constraint's two coefficient hooks."""

    def _p_coefficients(self, model: Model, mix: Mixing) -> tuple[NDArray, NDArray]:
        """(a, b) of p = a g^2 + b g for these charges and this mixing."""
        raise NotImplementedError

    def _beta_gamma(self, m: NDArray, model: Model) -> tuple[NDArray, NDArray]:
        """(beta, gamma) of the rate shift at masses ``m`` [GeV]."""
        raise NotImplementedError

    def _shift(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """R - 1 = beta p + gamma p^2 (formed without R, so tiny shifts keep their digits)."""
        a, b = self._p_coefficients(model, mix)
        p = a * g * g + b * g
        beta, gamma = self._beta_gamma(m, model)
        return np.asarray(beta * p + gamma * p * p, dtype=np.float64)


def __dir__() -> list[str]:
    return list(__all__)
