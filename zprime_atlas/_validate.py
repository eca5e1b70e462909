"""Input checks shared by the public functions: one clear sentence naming the bad value."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["as_coupling", "as_mass"]


def _as_float_array(value: ArrayLike, what: str) -> NDArray[np.float64]:
    if isinstance(value, str):
        raise ValueError(f"{what} must be a number or an array of numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number or an array of numbers, got {value!r}") from None
    return arr


def _first_bad(arr: NDArray[np.float64], bad: NDArray[np.bool_]) -> float:
    return float(arr.reshape(-1)[int(np.argmax(bad.reshape(-1)))])


#: Masses outside [MASS_MIN, MASS_MAX] GeV are refused: powers of such masses (m^4, 1/m^4) leave
#: double precision, and a NaN or infinity deep inside a constraint must never read as "no limit".
MASS_MIN, MASS_MAX = 1e-30, 1e30


def as_mass(m_X: ArrayLike, what: str = "mass m_X") -> NDArray[np.float64]:
    """Masses in GeV as a float array; refuses NaN, infinities, zero and negative values, and
    masses outside [:data:`MASS_MIN`, :data:`MASS_MAX`]."""
    arr = _as_float_array(m_X, what)
    if arr.size == 0:
        raise ValueError(f"{what} is empty")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        raise ValueError(f"{what} must be positive and finite (GeV), got {_first_bad(arr, bad)!r}")
    bad = (arr < MASS_MIN) | (arr > MASS_MAX)
    if np.any(bad):
        raise ValueError(f"{what} {_first_bad(arr, bad)!r} GeV is outside {MASS_MIN:g} - "
                         f"{MASS_MAX:g} GeV (its powers would overflow)")  # fmt: skip
    return arr


def as_coupling(g: ArrayLike, what: str = "coupling g_X") -> NDArray[np.float64]:
    """A real coupling (any sign) as a float array; refuses NaN and infinities."""
    arr = _as_float_array(g, what)
    # Fast path for large arrays: one reduction; NaN or inf anywhere makes the sum non-finite (a sum
    # that overflows from finite values falls through to the exact check).
    if arr.size < 64 or not np.isfinite(np.add.reduce(arr, axis=None)):
        bad = ~np.isfinite(arr)
        if np.any(bad):
            raise ValueError(f"{what} must be finite, got {_first_bad(arr, bad)!r}")
    return arr
