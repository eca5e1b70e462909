"""Nuclear structure shared by the coherent-scattering calculations (CEvNS, neutrino tridents)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constants import HBARC_GEV_FM

__all__ = ["helm_form_factor"]


def helm_form_factor(q: ArrayLike, A: float) -> NDArray[np.float64]:
    """Helm form factor F(q) (not squared) for mass number A; q in GeV. F(0) = 1.

    F = 3 j_1(x)/x exp(-q^2 s^2/2), x = q R_1, s = 0.9 fm, a = 0.52 fm,
    c = 1.23 A^(1/3) - 0.60 fm, R_1 = sqrt(c^2 + 7 pi^2 a^2/3 - 5 s^2) (Lewin & Smith, Astropart.
    Phys. 6 (1996) 87; the parameters as coded in bradkav/CEvNS). A series is used for x < 1e-3.
    See docs/physics/nuclear.md.
    """
    s, a = 0.9, 0.52
    c = 1.23 * A ** (1.0 / 3.0) - 0.60
    r1 = math.sqrt(c * c + 7.0 * math.pi**2 * a * a / 3.0 - 5.0 * s * s)
    q_fm = np.asarray(q, dtype=np.float64) / HBARC_GEV_FM
    x = q_fm * r1
    small = np.abs(x) < 1e-3
    xs = np.where(small, 1.0, x)
    sphere = np.where(small, 1.0 - x * x / 10.0, 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3)
    return sphere * np.exp(-0.5 * (q_fm * s) ** 2)


def __dir__() -> list[str]:
    return list(__all__)
