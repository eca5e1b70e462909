"""Gauss-Legendre quadrature: the one rule every integral of the package uses.

An n-point rule integrates polynomials of degree 2n - 1 exactly. On an interval [a, b] the nodes
are x_i = (b + a)/2 + (b - a)/2 t_i and the weights w_i = (b - a)/2 v_i, with (t_i, v_i) the
Legendre nodes and weights on [-1, 1] (numpy.polynomial.legendre.leggauss). See
docs/physics/numerics.md.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["gauss_legendre", "gauss_legendre_panels"]


@cache
def _legendre(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t, v = np.polynomial.legendre.leggauss(n)
    t.flags.writeable = False  # shared between callers through the cache
    v.flags.writeable = False
    return t, v


def gauss_legendre(
    n: int, a: ArrayLike = -1.0, b: ArrayLike = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights of the n-point rule on [a, b]; a and b may be arrays (nodes on a last axis).

    With scalar a, b the result has shape (n,); with arrays, a.shape + (n,).
    """
    t, v = _legendre(n)
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_arr.ndim == 0 and b_arr.ndim == 0:
        a_f, b_f = float(a_arr), float(b_arr)
        return 0.5 * (b_f - a_f) * t + 0.5 * (b_f + a_f), 0.5 * (b_f - a_f) * v
    half = 0.5 * (b_arr - a_arr)[..., None]
    return (0.5 * (b_arr + a_arr))[..., None] + half * t, half * v


def gauss_legendre_panels(
    breaks: NDArray[np.float64], order: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Composite rule: ``order`` nodes in each panel between sorted break points (flattened)."""
    t, v = _legendre(order)
    lo, hi = breaks[:-1, None], breaks[1:, None]
    half = 0.5 * (hi - lo)
    return (lo + half * (t + 1.0)).ravel(), (half * v).ravel()
