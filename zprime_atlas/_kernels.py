"""Optional compiled kernels of the scan engine (numba; ``pip install "zprime-atlas[numba]"``).

Two kernels, each a loop over the (model, mass, mixing) points of a chunk where the numpy
reference makes about twenty passes over them:

- :func:`recast_summary`, the closed-form summary of a recast search with eps proportional to g
  (:meth:`zprime_atlas.engine._ClosedForms.summary`);
- :func:`parabola_sides`, where a rate shift beta p + gamma p^2 stays inside or outside its
  allowed band for every coupling of a point (``rate_shift.parabola_sides``: rate shifts, CEvNS
  counts, tridents).

Each makes the same IEEE operations in the same order as its reference (no fast-math, no
transcendental function whose result is kept), so every number it returns is the numpy path's
bit for bit (tests/test_kernels.py runs both on adversarial points, test_engine_closed_forms.py
on scans). The
numpy path stays the reference and runs wherever numba is not installed, or with
``ZPRIME_ATLAS_KERNELS=numpy``.

numba is imported only when a scan first asks for a kernel (never by ``import zprime_atlas``);
the compiled code is cached on disk, so a later process loads it in well under a second.
"""

from __future__ import annotations

import math
import os
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["enabled", "parabola_sides", "recast_summary"]

#: Kernels pay for numba's import and cache load (~0.3-0.5 s once per process) only on chunks at
#: least this large (model-mass-mixing points); smaller scans stay on the numpy path.
MIN_POINTS = 20_000


def enabled(n_points: int) -> bool:
    """Whether a chunk of ``n_points`` (model, mass, mixing) points uses the compiled kernels:
    numba installed, the chunk large enough, and ``ZPRIME_ATLAS_KERNELS`` not set to ``numpy``
    (set to ``numba``: at any size, as the tests use it)."""
    choice = os.environ.get("ZPRIME_ATLAS_KERNELS", "").strip().lower()
    if choice == "numpy" or (choice != "numba" and n_points < MIN_POINTS):
        return False
    return _compiled() is not None


@cache
def _compiled() -> Any:
    """The compiled kernels (summary, parabola sides), or None without numba."""
    try:
        import numba
    except ImportError:
        return None
    loops = (_recast_summary_loop, _parabola_sides_loop)
    try:
        jit = numba.njit(cache=True, nogil=True, error_model="numpy")
        return tuple(jit(f) for f in loops)
    except RuntimeError:  # no writable cache location: compile in each process instead
        jit = numba.njit(cache=False, nogil=True, error_model="numpy")
        return tuple(jit(f) for f in loops)


def recast_summary(
    r1: NDArray, tau1: NDArray | None, t0: NDArray, t1: NDArray, mass_index: NDArray[np.intp],
    g2: NDArray, g2_min: NDArray, g2_max: NDArray, no_band: NDArray[np.bool_], high: NDArray,
    compact: bool, underflow: float, saturated: float,
) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.bool_]]:
    """(excluded count, smallest r, the points without a closed form) of a recast with
    r = r1 g^2 E(tau1/g^2; t0, t1) at the chunk masses ``mass_index``, as
    :meth:`engine._ClosedForms.summary` computes them; raises ``high`` (the largest r1 of the
    prompt searches per point) in place.

    ``r1`` and ``tau1`` (lifetime in s at g = 1; None: no lifetime cut) per point of the
    selection (N, Ms, K); ``t0``, ``t1`` (s) per selected mass; ``g2`` (N, M, K, G), ``g2_min``,
    ``g2_max``, ``no_band`` and ``high`` (N, M, K) on the chunk's whole mass axis; ``underflow``
    and ``saturated`` the exponent thresholds of the recasts (``darkcast._EXP_UNDERFLOW``,
    ``darkcast._EXP_SATURATED``)."""
    kernel = _compiled()[0]
    n, ms, k = r1.shape
    count = np.zeros((n, ms, k), dtype=np.uint8)
    low = np.empty((n, ms, k), dtype=np.float64)
    alive = np.zeros((n, ms, k), dtype=np.bool_)
    lifetime = tau1 is not None
    kernel(r1, r1 if tau1 is None else tau1, t0, t1, mass_index, g2, g2_min, g2_max, no_band,
           high, lifetime, compact, underflow, saturated, count, low, alive)  # fmt: skip
    return count, low, alive


def _recast_summary_loop(
    r1: NDArray, tau1: NDArray, t0: NDArray, t1: NDArray, mass_index: NDArray[np.intp],
    g2: NDArray, g2_min: NDArray, g2_max: NDArray, no_band: NDArray[np.bool_], high: NDArray,
    lifetime: bool, compact: bool, underflow: float, saturated: float, count: NDArray[np.uint8],
    low: NDArray, alive: NDArray[np.bool_],
) -> None:
    """One pass over the points; the arithmetic of ``_slowest_decay``, ``RecastConstraint._g2_form``
    and ``_ClosedForms.summary`` point by point (see there for why each step is exact)."""
    n, ms, k_all = count.shape
    n_g = g2.shape[3]
    for j in range(ms):
        jm = mass_index[j]
        a0 = t0[j]
        a1 = t1[j]
        span = math.inf if math.isinf(a1) else a1 - a0
        for i in range(n):
            for k in range(k_all):
                r = r1[i, j, k]
                lo = g2_min[i, jm, k]
                hi = g2_max[i, jm, k]
                nb = no_band[i, jm, k]
                if lifetime:
                    tau = tau1[i, j, k]
                    tau_max = tau / lo
                    inv_min = 1.0 / tau_max if math.isfinite(tau_max) else 0.0
                    dead = (a0 * inv_min > underflow) and not math.isnan(a1)
                    prompt = (a0 == 0.0) and (span * inv_min >= saturated) \
                        and (tau / hi > 0.0)  # fmt: skip
                else:
                    inv_min = 0.0
                    dead = False
                    prompt = True
                decided = prompt or dead or nb
                if compact and lifetime and not decided:
                    # r <= r1 g2_max exp(-t0 inv_min) at every coupling: below 0.999, r < 1 there
                    # (the exponential only decides this margin, never a kept number)
                    bound = r * hi * math.exp(-a0 * inv_min)
                    if math.isfinite(bound) and bound < 0.999 and r >= 0.0:
                        decided = True
                if not decided:
                    alive[i, j, k] = True
                if prompt:
                    at_lo = r * lo
                    at_hi = r * hi
                    # np.fmin(at_lo, at_hi): NaN only where both are
                    low[i, j, k] = at_hi if math.isnan(at_lo) else (
                        at_lo if math.isnan(at_hi) or at_lo <= at_hi else at_hi)
                    if at_lo >= 1.0:
                        count[i, j, k] = n_g
                    elif at_hi >= 1.0:
                        c = 0
                        for q in range(n_g):
                            if r * g2[i, jm, k, q] >= 1.0:
                                c += 1
                        count[i, j, k] = c
                    h = high[i, jm, k]
                    if not math.isnan(r) and (math.isnan(h) or r > h):  # np.fmax(h, r)
                        high[i, jm, k] = r
                else:
                    low[i, j, k] = (r * lo) * 0.0


def parabola_sides(
    beta: NDArray, gamma: NDArray, a: NDArray, u_min: NDArray, u_max: NDArray, d_lo: NDArray,
    d_hi: NDArray, a_spread: NDArray,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """(below, above) of :func:`zprime_atlas.constraints.rate_shift.parabola_sides` (see there)
    in one pass, for arrays (float64) broadcasting to at most four axes; None for more."""
    arrays = (beta, gamma, a, u_min, u_max, d_lo, d_hi, a_spread)
    shape = np.broadcast_shapes(*(v.shape for v in arrays))
    if len(shape) > 4:
        return None
    shape4 = (1,) * (4 - len(shape)) + shape
    views = [np.broadcast_to(v, shape4) for v in arrays]
    widen = bool(a_spread.ndim or a_spread != 0.0)
    below = np.empty(shape4, dtype=np.bool_)
    above = np.empty(shape4, dtype=np.bool_)
    _compiled()[1](*views, widen, below, above)
    return below.reshape(shape), above.reshape(shape)


def _parabola_sides_loop(
    beta: NDArray, gamma: NDArray, a: NDArray, u_min: NDArray, u_max: NDArray, d_lo: NDArray,
    d_hi: NDArray, a_spread: NDArray, widen: bool, below: NDArray[np.bool_],
    above: NDArray[np.bool_],
) -> None:
    """The arithmetic of ``rate_shift.parabola_sides`` point by point. np.minimum(x, y) is written
    ``x if x <= y or x != x else y`` (NaN if either is NaN), np.maximum alike."""
    n0, n1, n2, n3 = below.shape
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                for i3 in range(n3):
                    b = beta[i0, i1, i2, i3]
                    c = gamma[i0, i1, i2, i3]
                    x = a[i0, i1, i2, i3]
                    hi = u_max[i0, i1, i2, i3]
                    p_lo = x * u_min[i0, i1, i2, i3]
                    p_hi = x * hi
                    p0 = p_lo if p_lo <= p_hi or p_lo != p_lo else p_hi
                    p1 = p_lo if p_lo >= p_hi or p_lo != p_lo else p_hi
                    if widen:
                        w = a_spread[i0, i1, i2, i3] * hi
                        p0 = p0 - w
                        p1 = p1 + w
                    s0 = p0 * (b + c * p0)
                    s1 = p1 * (b + c * p1)
                    s_min = s0 if s0 <= s1 or s0 != s0 else s1
                    s_max = s0 if s0 >= s1 or s0 != s0 else s1
                    vertex = -b / (2.0 * c)
                    if vertex > p0 and vertex < p1:
                        at_vertex = -0.25 * b * b / c
                        if not (s_min <= at_vertex or s_min != s_min):
                            s_min = at_vertex
                        if not (s_max >= at_vertex or s_max != s_max):
                            s_max = at_vertex
                    q0, q1 = abs(p0), abs(p1)
                    big_p = q0 if q0 >= q1 or q0 != q0 else q1
                    lo_d = d_lo[i0, i1, i2, i3]
                    hi_d = d_hi[i0, i1, i2, i3]
                    margin = big_p * (abs(b) + abs(c) * big_p)
                    margin = margin + (hi_d - lo_d)
                    margin = margin * 1e-9
                    low_side = s_min - margin
                    high_side = s_max + margin
                    below[i0, i1, i2, i3] = (low_side > lo_d) and (high_side < hi_d)
                    above[i0, i1, i2, i3] = math.isfinite(high_side - low_side) and (
                        (low_side >= hi_d) or (high_side <= lo_d))

