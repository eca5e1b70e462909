"""Optional compiled kernels of the scan engine (numba; ``pip install "zprime-atlas[numba]"``).

Kernels, each a loop over the (model, mass, mixing) points of a chunk where the numpy
reference makes several passes over them:

- :func:`recast_summary`, the closed-form summary of a recast search with eps proportional to g
  (:meth:`zprime_atlas.engine._ClosedForms.summary`);
- :func:`parabola_sides`, where a rate shift beta p + gamma p^2 stays inside or outside its
  allowed band for every coupling of a point (``rate_shift.parabola_sides``: rate shifts, CEvNS
  counts, tridents);
- :func:`point_marks`, the bookkeeping of the points a point form left undecided
  (:meth:`zprime_atlas.engine._ClosedForms.points`): their excluded counts, whether r says
  something, and the marks of the excluded couplings, from r at their couplings in one pass;
- :func:`recast_signal`, a recast's signal ratio at g = 1 for one production channel
  (``RecastConstraint._prompt_signal_and_width``);
- :func:`neff_exchange`, :func:`neff_interp` and :func:`neff_ratio`, N_eff's r around numpy's
  log10 (``NeffBBN._ratio_from``);
- :func:`lifetime_marks`, r and its bookkeeping at the points a recast's closed form leaves
  undecided, around numpy's exp and expm1 (``engine._ClosedForms._at_points``);
- :func:`allowed_couplings`, the allowed couplings of a chunk from the largest r of every
  constraint and the closed forms' marks (the end of ``engine._evaluate``);
- :func:`nsi_coordinates` and :func:`nsi_chi2`, the NSI chi^2 along a model's direction
  (``NSIOscillation._chi2_block``: the solar table's bilinear interpolation and the atmospheric
  terms) around numpy's arcsinh, for the best-fit scan and the undecided points, and
  :func:`solar_box_range`, the table's bounds over the box of cells a point's path can cross
  (``SolarChi2.box_range``).

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

__all__ = ["POINT_FORMULAS", "allowed_couplings", "band_couplings", "band_points", "compact_summary",
           "enabled", "lifetime_marks", "neff_exchange", "neff_interp", "neff_ratio", "nsi_chi2",
           "nsi_coordinates", "parabola_sides", "point_marks", "point_ratio_marks", "recast_signal",
           "recast_summary", "rvalue_bilinear", "solar_box_range"]

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


def _loop_views(arrays: tuple[NDArray, ...], shape: tuple[int, ...] | None = None
                ) -> tuple[tuple[int, ...], tuple[int, ...], list[NDArray]] | None:  # fmt: skip
    """(their broadcast shape, the loops' four axes, the arrays broadcast and viewed with them):
    the broadcast shape (or ``shape``) without its axes of length 1, padded with 1 in front to the
    four axes of the elementwise loops (None for more than four). The innermost loop then runs
    over the last long axis instead of a trailing axis of length 1 (the coupling axis of
    per-point arrays), 1.2-1.6x faster on the engine's (models, masses, mixings, 1) arrays. The
    elements and their values are the same; each is computed on its own, so the order of the
    loops changes nothing."""
    if shape is None:
        shape = np.broadcast_shapes(*(v.shape for v in arrays))
    kept = tuple(n for n in shape if n != 1)
    if len(kept) > 4:
        return None
    shape4 = (1,) * (4 - len(kept)) + kept
    return shape, shape4, [np.broadcast_to(v, shape).reshape(shape4) for v in arrays]


@cache
def _compiled() -> Any:
    """The compiled kernels (summary, parabola sides, point marks, NSI coordinates, chi^2 and box
    range), or None without numba."""
    try:
        import numba
    except ImportError:
        return None
    loops = (_recast_summary_loop, _parabola_sides_loop, _point_marks_loop, _nsi_coordinates_loop,
             _nsi_chi2_loop, _solar_box_range_loop, _point_ratio_marks_loop, _band_exponents_loop,
             _band_points_loop, _compact_summary_loop, _rvalue_bilinear_loop, _neff_interp_loop,
             _allowed_couplings_loop, _recast_signal_loop, _neff_exchange_loop,
             _neff_ratio_loop, _lifetime_exponents_loop, _lifetime_marks_loop)
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
    in one pass, for arrays (float64) broadcasting to at most four axes longer than 1; None for
    more."""
    arrays = (beta, gamma, a, u_min, u_max, d_lo, d_hi, a_spread)
    loop = _loop_views(arrays)
    if loop is None:
        return None
    shape, shape4, views = loop
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



def point_marks(r: NDArray, todo: NDArray[np.intp], rows: NDArray[np.intp], count: NDArray[np.uint8],
                low: NDArray, hit: NDArray[np.bool_]) -> bool:
    """From r (P, G) at the couplings of the undecided points: ``count.flat[todo[p]]`` = how many
    r[p] >= 1 (NaN is not), ``low.flat[todo[p]]`` = NaN where every r[p] is NaN (r says nothing)
    else 0, and ``hit[rows[p] G + q] = True`` where r[p, q] >= 1, as
    :meth:`engine._ClosedForms.points` computes them with numpy; ``count``, ``low`` contiguous.
    Whether any coupling was marked."""
    flat_count, flat_low = count.reshape(-1), low.reshape(-1)
    assert np.shares_memory(flat_count, count)
    assert np.shares_memory(flat_low, low)
    return bool(_compiled()[2](r, todo, rows, flat_count, flat_low, hit))


def _point_marks_loop(r: NDArray, todo: NDArray[np.intp], rows: NDArray[np.intp],
                      count: NDArray[np.uint8], low: NDArray, hit: NDArray[np.bool_]) -> bool:
    """Comparisons only: r >= 1 and r != r, point by point."""
    n_p, n_g = r.shape
    any_hit = False
    for p in range(n_p):
        c = 0
        silent = True
        base = rows[p] * n_g
        for q in range(n_g):
            v = r[p, q]
            if v >= 1.0:
                c += 1
                hit[base + q] = True
            if v == v:
                silent = False
        count[todo[p]] = c
        low[todo[p]] = math.nan if silent else 0.0
        if c:
            any_hit = True
    return any_hit


def nsi_coordinates(kappa: NDArray, a_eff: NDArray, q0: NDArray, qn: NDArray, w_scale: float,
                    w0: NDArray, w1: NDArray) -> None:
    """``w0 = kappa a_eff q0 / w_scale``, ``w1 = kappa a_eff qn / w_scale`` (kappa (R, C), the
    factors per row (R,)), the steps of ``NSIOscillation._chi2_block`` before the arcsinh: a product
    with a zero factor is 0 even where kappa is infinite."""
    _compiled()[3](kappa, a_eff, q0, qn, w_scale, w0, w1)


def _nsi_coordinates_loop(kappa: NDArray, a_eff: NDArray, q0: NDArray, qn: NDArray,
                          w_scale: float, w0: NDArray, w1: NDArray) -> None:
    """Products and a division; ``0.0`` for a zero factor is numpy's exact zero (its sign, where
    numpy keeps -0.0 instead, is lost once the coordinate is offset by S_MAX)."""
    n_r, n_c = kappa.shape
    for i in range(n_r):
        fa, f0, f1 = a_eff[i], q0[i], qn[i]
        for j in range(n_c):
            t = kappa[i, j] * fa
            if fa == 0.0:
                t = 0.0
            x = t * f0
            if f0 == 0.0:
                x = 0.0
            y = t * f1
            if f1 == 0.0:
                y = 0.0
            w0[i, j] = x / w_scale
            w1[i, j] = y / w_scale


def nsi_chi2(s0: NDArray, s1: NDArray, kappa: NDArray, corners: NDArray, ln10: float,
             s_max: float, step: float, top: float, row_length: float, diff: NDArray,
             q_earth: NDArray, edge: NDArray, crit: NDArray, out: NDArray) -> None:
    """chi^2 of ``NSIOscillation._chi2_block`` from ``s0 = arcsinh(w0)``, ``s1 = arcsinh(w1)``
    (:func:`nsi_coordinates`, then numpy's arcsinh): the solar table's bilinear interpolation
    (``SolarChi2._lookup_into``; ``corners`` from ``SolarChi2._corners``, ``top = 2 N_HALF``,
    ``row_length`` the table's row length) plus crit_n (kappa diff_n q_earth / edge_n)^2 per
    atmospheric bound n (``diff``, ``edge`` (n, R), ``q_earth`` (R,), ``crit`` (n,))."""
    _compiled()[4](s0, s1, kappa, corners, ln10, s_max, step, top, row_length, diff, q_earth,
                   edge, crit, out)  # fmt: skip


def _nsi_chi2_loop(s0: NDArray, s1: NDArray, kappa: NDArray, corners: NDArray, ln10: float,
                   s_max: float, step: float, top: float, row_length: float, diff: NDArray,
                   q_earth: NDArray, edge: NDArray, crit: NDArray, out: NDArray) -> None:
    """The numpy steps point by point, a row at a time in three loops the compiler vectorises
    (cell and weights; interpolation; atmospheric terms): 3.7 instead of 16.6 ns per point as
    one loop. np.clip keeps NaN (a NaN fails both comparisons here); a NaN cell index goes to
    row 0, as ``take(mode="clip")`` does with numpy's cast of NaN, and gives NaN through the
    weights either way. The cell index is clipped as a float (an exact integer) before the cast."""
    n_r, n_c = s0.shape
    n_atm = crit.shape[0]
    last = float(corners.shape[0] - 1)
    fu_row = np.empty(n_c)
    fv_row = np.empty(n_c)
    k_row = np.empty(n_c, dtype=np.intp)
    for i in range(n_r):
        for j in range(n_c):
            u = ((s0[i, j] / ln10) + s_max) / step
            u = 0.0 if u < 0.0 else (top if u > top else u)
            fi = np.floor(u)
            fi = top - 1.0 if fi > top - 1.0 else fi
            fu_row[j] = u - fi
            v = ((s1[i, j] / ln10) + s_max) / step
            v = 0.0 if v < 0.0 else (top if v > top else v)
            fj = np.floor(v)
            fj = top - 1.0 if fj > top - 1.0 else fj
            fv_row[j] = v - fj
            kf = fi * row_length + fj
            kf = 0.0 if kf != kf else kf
            kf = 0.0 if kf < 0.0 else (last if kf > last else kf)
            k_row[j] = int(kf)
        for j in range(n_c):
            k = k_row[j]
            fu = fu_row[j]
            fv = fv_row[j]
            a = 1.0 - fu
            b = 1.0 - fv
            o = (a * b) * corners[k, 0]
            o = o + (fu * b) * corners[k, 1]
            o = o + (a * fv) * corners[k, 2]
            o = o + (fu * fv) * corners[k, 3]
            out[i, j] = o
        qe = q_earth[i]
        for n in range(n_atm):
            fd = diff[n, i]
            ed = edge[n, i]
            cr = crit[n]
            for j in range(n_c):
                val = kappa[i, j] * fd
                if fd == 0.0:
                    val = 0.0
                val = val * qe
                if qe == 0.0:
                    val = 0.0
                val = val / ed
                out[i, j] = out[i, j] + cr * (val * val)


def solar_box_range(u0: NDArray, u1: NDArray, v0: NDArray, v1: NDArray, lo_table: NDArray,
                    hi_table: NDArray, top: int, levels: int
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """(min, max) of ``SolarChi2.box_range`` (see there) in one pass: the box of cells between
    the coordinates (u0, u1) x (v0, v1), bounded by four look-ups in the sparse tables
    ``lo_table``, ``hi_table`` (levels, levels, n0, n1) of ``SolarChi2._range_tables``."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (u0, u1, v0, v1)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    low = np.empty(flat[0].size)
    high = np.empty(flat[0].size)
    _compiled()[5](*flat, np.ascontiguousarray(lo_table).reshape(-1),
                   np.ascontiguousarray(hi_table).reshape(-1), lo_table.shape[2],
                   lo_table.shape[3], top, levels, low, high)  # fmt: skip
    return low.reshape(shape), high.reshape(shape)


def _solar_box_range_loop(u0: NDArray, u1: NDArray, v0: NDArray, v1: NDArray, lo_f: NDArray,
                          hi_f: NDArray, n0: int, n1: int, top: int, levels: int, low: NDArray,
                          high: NDArray) -> None:  # fmt: skip
    """Comparisons, floors and integer steps point by point; floor(log2(h)) of the box's side
    h (an integer 1 to 2^(levels - 1)) counted by doubling. np.minimum keeps NaN (a NaN table
    entry, never expected, propagates as there)."""
    largest = 1 << (levels - 1)
    for p in range(u0.size):
        a0, a1, b0, b1 = u0[p], u1[p], v0[p], v1[p]
        # np.fmin / np.fmax: the other one where one is NaN
        u_lo = a1 if a0 != a0 else (a0 if a1 != a1 or a0 <= a1 else a1)
        u_hi = a1 if a0 != a0 else (a0 if a1 != a1 or a0 >= a1 else a1)
        v_lo = b1 if b0 != b0 else (b0 if b1 != b1 or b0 <= b1 else b1)
        v_hi = b1 if b0 != b0 else (b0 if b1 != b1 or b0 >= b1 else b1)
        if not (math.isfinite(u_lo) and math.isfinite(u_hi) and math.isfinite(v_lo)
                and math.isfinite(v_hi)):  # fmt: skip
            low[p] = math.nan
            high[p] = math.nan
            continue
        r0 = min(max(math.floor(u_lo) - 1, 0), top)
        r1 = min(max(math.floor(u_hi) + 2, 0), top)
        c0 = min(max(math.floor(v_lo) - 1, 0), top)
        c1 = min(max(math.floor(v_hi) + 2, 0), top)
        h = r1 - r0 + 1
        w = c1 - c0 + 1
        if h > largest or w > largest:
            low[p] = math.nan
            high[p] = math.nan
            continue
        a = 0
        while (2 << a) <= h:
            a += 1
        b = 0
        while (2 << b) <= w:
            b += 1
        base = (a * levels + b) * n0
        rb = max(r1 - (1 << a) + 1, r0)
        cb = max(c1 - (1 << b) + 1, c0)
        lo_v = math.inf
        hi_v = -math.inf
        for corner in (base + r0) * n1 + c0, (base + r0) * n1 + cb, (base + rb) * n1 + c0, \
                (base + rb) * n1 + cb:  # fmt: skip
            # np.minimum(lo_v, x) and np.maximum(hi_v, y) as numpy's loops write them: one
            # select each (a branch per corner made the loop twice as slow)
            x = lo_f[corner]
            lo_v = lo_v if lo_v < x or lo_v != lo_v else x
            y = hi_f[corner]
            hi_v = hi_v if hi_v > y or hi_v != hi_v else y
        low[p] = lo_v
        high[p] = hi_v


#: The formulas of :func:`point_ratio_marks`: name -> (its number, coefficients, constants). Each
#: is the numpy arithmetic of a point form's ``ratio_at``, step by step (u = g^2 where written):
#:
#: - ``trident`` (a1, a2, rho, x_nu, x_mu; e, norm, R_meas, den), ``TridentConstraint``:
#:   g_mu = g x_mu - e (g rho), p = (g x_nu) g_mu / norm, R = (1 + a1 p) + (a2 p) p,
#:   r = (R - R_meas)^2 / den;
#: - ``rate_shift`` (a, b, beta, gamma; two_base, sigma2, crit), ``QuadraticRateShift``:
#:   p = (a g) g + b g, d = beta p + (gamma p) p, r = max(d (d + two_base) / sigma2, 0) / crit;
#: - ``cevns_single_bin`` (s1, s2; n_sm, data, var0, sigma_alpha, var_b, chi2_sm, crit),
#:   ``CEvNSSingleBin`` with ``SingleBinStatistics``: n = n_sm + u (s1 + u s2), d = data - n,
#:   chi2 = d d / ((var0 + (sigma_alpha n)^2) + var_b), r = max(chi2 - chi2_sm, 0) / crit;
#: - ``sin2_shift`` (beta, a, b; two_base, sigma2, crit, floor), ``Texono2010NuE``:
#:   d = beta ((a g) g + b g), r = max(d (d + two_base) / sigma2, 0) / crit where d >= floor,
#:   NaN below;
#: - ``two_piece_shift`` (a, b, beta, gamma; R_meas, sigma_up, sigma_down, chi2_sm, crit),
#:   ``SolarB8CEvNS``: the shift d of ``rate_shift``, e = (1 + d) - R_meas,
#:   chi2 = (e / sigma)^2 with sigma_up where e > 0 else sigma_down,
#:   r = max(chi2 - chi2_sm, 0) / crit.
POINT_FORMULAS: dict[str, tuple[int, int, int]] = {
    "trident": (0, 5, 4),
    "rate_shift": (1, 4, 3),
    "cevns_single_bin": (2, 2, 7),
    "sin2_shift": (3, 3, 4),
    "two_piece_shift": (4, 4, 5),
}

_MAX_COEFFICIENTS = 5


def point_ratio_marks(formula: str, coefficients: tuple[Any, ...], constants: tuple[float, ...],
                      shape: tuple[int, int, int], todo: NDArray[np.intp], rows: NDArray[np.intp],
                      g: NDArray, count: NDArray[np.uint8], low: NDArray, hit: NDArray[np.bool_],
                      r_out: NDArray | None = None) -> bool | None:  # fmt: skip
    """:func:`point_marks` of r = ``formula`` (:data:`POINT_FORMULAS`) at every coupling of the
    undecided points, without r stored: the point ``todo[p]`` (flat index into the point grid
    ``shape`` = (N, M, K)) has its couplings in row ``rows[p]`` of ``g`` (rows x G) and its
    coefficients (broadcasting to ``shape`` + (1,)) there. Whether any coupling was marked; None
    (nothing done) where a coefficient is not real or the formula's arguments do not match.
    ``r_out`` (P x G, optional): r itself is stored there too (what the tests compare with
    ``ratio_at`` bit for bit)."""
    known = POINT_FORMULAS.get(formula)
    if known is None or len(coefficients) != known[1] or len(constants) != known[2]:
        return None
    views = []
    for value in coefficients:
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiu":  # complex (e.g. a loop-induced mixing's phase): numpy
            return None
        arr = arr.astype(np.float64, copy=False)
        views.append(np.broadcast_to(arr, (*shape, 1))[..., 0])
    while len(views) < _MAX_COEFFICIENTS:
        views.append(views[0])
    flat_count, flat_low = count.reshape(-1), low.reshape(-1)
    assert np.shares_memory(flat_count, count)
    assert np.shares_memory(flat_low, low)
    k = np.zeros(8)
    k[: len(constants)] = constants
    if r_out is None:
        r_out = np.empty((0, 0))
    return bool(_compiled()[6](known[0], *views, k, todo, rows, np.ascontiguousarray(g),
                               flat_count, flat_low, hit, r_out))  # fmt: skip


def _point_ratio_marks_loop(kind: int, c0: NDArray, c1: NDArray, c2: NDArray, c3: NDArray,
                            c4: NDArray, k: NDArray, todo: NDArray[np.intp],
                            rows: NDArray[np.intp], g: NDArray, count: NDArray[np.uint8],
                            low: NDArray, hit: NDArray[np.bool_], r_out: NDArray
                            ) -> bool:  # fmt: skip
    """The formulas of :data:`POINT_FORMULAS` in numpy's order of operations (x^2 is x x, as
    np.square; np.maximum(x, 0) keeps NaN), then the comparisons of :func:`_point_marks_loop`."""
    n_m, n_k = c0.shape[1], c0.shape[2]
    n_g = g.shape[1]
    store = r_out.shape[0] > 0
    any_hit = False
    for p in range(todo.size):
        t = todo[p]
        i = t // (n_m * n_k)
        j = (t // n_k) % n_m
        m = t % n_k
        a0, a1, a2, a3, a4 = c0[i, j, m], c1[i, j, m], c2[i, j, m], c3[i, j, m], c4[i, j, m]
        row = rows[p]
        base = row * n_g
        c = 0
        silent = True
        for q in range(n_g):
            x = g[row, q]
            if kind == 0:  # trident
                g_mu = x * a4 - k[0] * (x * a2)
                pp = ((x * a3) * g_mu) / k[1]
                big_r = (1.0 + a0 * pp) + (a1 * pp) * pp
                d = big_r - k[2]
                r = (d * d) / k[3]
            elif kind == 1:  # rate_shift
                pp = (a0 * x) * x + a1 * x
                d = a2 * pp + (a3 * pp) * pp
                v = (d * (d + k[0])) / k[1]
                v = v if v >= 0.0 or v != v else 0.0
                r = v / k[2]
            elif kind == 2:  # cevns_single_bin
                u = x * x
                n = k[0] + u * (a0 + u * a1)
                d = k[1] - n
                s = k[3] * n
                chi2 = (d * d) / ((k[2] + s * s) + k[4])
                v = chi2 - k[5]
                v = v if v >= 0.0 or v != v else 0.0
                r = v / k[6]
            elif kind == 3:  # sin2_shift
                d = a0 * ((a1 * x) * x + a2 * x)
                v = (d * (d + k[0])) / k[1]
                v = v if v >= 0.0 or v != v else 0.0
                r = v / k[2] if d >= k[3] else math.nan
            else:  # two_piece_shift
                pp = (a0 * x) * x + a1 * x
                d = a2 * pp + (a3 * pp) * pp
                e = (1.0 + d) - k[0]
                z = e / (k[1] if e > 0.0 else k[2])
                v = z * z - k[3]
                v = v if v >= 0.0 or v != v else 0.0
                r = v / k[4]
            if store:
                r_out[p, q] = r
            if r >= 1.0:
                c += 1
                hit[base + q] = True
            if r == r:
                silent = False
        count[t] = c
        low[t] = math.nan if silent else 0.0
        if c:
            any_hit = True
    return any_hit


def band_couplings(g_low: NDArray, g_high: NDArray, n_g: int) -> NDArray[np.float64]:
    """:func:`zprime_atlas.result.band_couplings` (n_g >= 2): exp(ln g_low (1 - t_j) + ln g_high
    t_j) with t = linspace(0, 1, n_g), the exponent formed in one compiled pass (no temporaries
    of the coupling axis's size) and numpy's exp applied in place: the same numbers."""
    t = np.linspace(0.0, 1.0, n_g)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_low = np.ascontiguousarray(np.log(g_low), dtype=np.float64)
        log_high = np.ascontiguousarray(np.log(g_high), dtype=np.float64)
    out = np.empty((*log_low.shape, n_g))
    _compiled()[7](log_low.reshape(-1), log_high.reshape(-1), t, 1.0 - t, out.reshape(-1, n_g))
    with np.errstate(invalid="ignore", over="ignore"):
        np.exp(out, out=out)
    return out


def _band_exponents_loop(log_low: NDArray, log_high: NDArray, t: NDArray, one_minus_t: NDArray,
                         out: NDArray) -> None:  # fmt: skip
    """ln g_low (1 - t_j) + ln g_high t_j, the products and the sum in numpy's order."""
    n_g = t.size
    for p in range(log_low.size):
        a = log_low[p]
        b = log_high[p]
        for j in range(n_g):
            out[p, j] = a * one_minus_t[j] + b * t[j]


def band_points(g: NDArray) -> tuple[NDArray[np.bool_], NDArray, NDArray, NDArray, NDArray]:
    """From the couplings ``g`` (N, M, K, G; contiguous), in one pass: (has_g = isfinite(g),
    g2 = g_eval^2, g2_min and g2_max over the coupling axis (N, M, K, 1), no_band =
    ~has_g[..., 0]), where g_eval = g at finite couplings and 0 elsewhere replaces ``g`` in place:
    the engine's numpy steps (np.where, the product, running np.minimum / np.maximum)."""
    n_g = g.shape[-1]
    flat = g.reshape(-1, n_g)
    assert np.shares_memory(flat, g)
    has_g = np.empty(g.shape, dtype=np.bool_)
    g2 = np.empty(g.shape)
    g2_min = np.empty((*g.shape[:-1], 1))
    g2_max = np.empty((*g.shape[:-1], 1))
    no_band = np.empty(g.shape[:-1], dtype=np.bool_)
    _compiled()[8](flat, has_g.reshape(-1, n_g), g2.reshape(-1, n_g), g2_min.reshape(-1),
                   g2_max.reshape(-1), no_band.reshape(-1))  # fmt: skip
    return has_g, g2, g2_min, g2_max, no_band


def _band_points_loop(g: NDArray, has_g: NDArray[np.bool_], g2: NDArray, g2_min: NDArray,
                      g2_max: NDArray, no_band: NDArray[np.bool_]) -> None:  # fmt: skip
    """Comparisons and one product per coupling; the squares are >= +0 and never NaN, so the
    running minimum and maximum need no NaN rule."""
    n_p, n_g = g.shape
    for p in range(n_p):
        lo = math.inf
        hi = -math.inf
        for j in range(n_g):
            x = g[p, j]
            finite = math.isfinite(x)
            has_g[p, j] = finite
            if not finite:
                x = 0.0
                g[p, j] = 0.0
            s = x * x
            g2[p, j] = s
            if j == 0 or s < lo:
                lo = s
            if j == 0 or s > hi:
                hi = s
        g2_min[p] = lo
        g2_max[p] = hi
        no_band[p] = not has_g[p, 0]


def compact_summary(r: NDArray, mass_index: NDArray[np.intp], no_band: NDArray[np.bool_],
                    highest: NDArray, count: NDArray[np.uint8], says: NDArray[np.bool_]
                    ) -> None:  # fmt: skip
    """One constraint's r at every coupling (N, Ms, K, G; any strides) at the chunk's masses
    ``mass_index`` into a compact summary, in one pass over r: the largest r per coupling
    (``highest`` (N, M, K, G), np.fmax), the excluded counts (``count`` (N, M, K): how many
    r >= 1; 0 where no band) and whether r says something at some mixing of a (model, mass)
    (``says`` (N, M): some r not NaN at a point with a band), as ``engine._evaluate`` computes them
    with np.fmax, ``_count_and_min`` and ``_fill``. (The smallest r itself is not kept: a compact
    summary needs only whether it is NaN.)"""
    _compiled()[9](r, mass_index, no_band, highest, count, says)


def _compact_summary_loop(r: NDArray, mass_index: NDArray[np.intp], no_band: NDArray[np.bool_],
                          highest: NDArray, count: NDArray[np.uint8], says: NDArray[np.bool_]
                          ) -> None:  # fmt: skip
    """Comparisons only. np.fmax(h, v) is h where v is NaN, v where h is NaN, else the larger (at
    equal values either: the largest r is only compared with 1)."""
    n, ms, n_k, n_g = r.shape
    for i in range(n):
        for j in range(ms):
            jm = mass_index[j]
            acc = False
            for k in range(n_k):
                c = 0
                any_value = False
                for q in range(n_g):
                    v = r[i, j, k, q]
                    if v >= 1.0:
                        c += 1
                    if v == v:
                        any_value = True
                        h = highest[i, jm, k, q]
                        if h != h or v > h:
                            highest[i, jm, k, q] = v
                if no_band[i, jm, k]:
                    count[i, jm, k] = 0
                else:
                    count[i, jm, k] = c
                    if any_value:
                        acc = True
            says[i, jm] = acc


def rvalue_bilinear(i: NDArray[np.intp], u: NDArray, y: NDArray, log_eps: NDArray,
                    log_r: NDArray, shape: tuple[int, ...]) -> NDArray[np.float64] | None:
    """The bilinear interpolation of ``RValueTable.interpolate`` in log r: the mass cell ``i`` and
    weight ``u`` (broadcasting to ``shape``, e.g. one per mass), the eps coordinate ``y`` = log
    eps (clipped to the table), its cell found by binary search (np.searchsorted, side "right")
    in ``log_eps``; ``log_r`` (masses, eps values) the table's log r. None for more than four
    axes longer than 1 (the numpy path then)."""
    loop = _loop_views(tuple(np.asarray(v) for v in (i, u, y)), tuple(shape))
    if loop is None:
        return None
    _, shape4, views = loop
    out = np.empty(shape4)
    _compiled()[10](views[0].astype(np.intp, copy=False), views[1], views[2],
                    np.ascontiguousarray(log_eps), np.ascontiguousarray(log_r), out)  # fmt: skip
    return out.reshape(shape)


def _rvalue_bilinear_loop(i: NDArray[np.intp], u: NDArray, y: NDArray, log_eps: NDArray,
                          log_r: NDArray, out: NDArray) -> None:  # fmt: skip
    """Per element: j = (the first index with log_eps > y) - 1 clipped to [0, n - 2] (NaN after
    every value, as np.searchsorted orders it; found from a guess on an even spacing, corrected
    node by node, so exact on any increasing grid), v = clip((y - le[j]) / (le[j+1] - le[j]), 0, 1)
    (NaN kept), and the four corners' weighted sum in numpy's order."""
    n0, n1, n2, n3 = out.shape
    n = log_eps.size
    first = log_eps[0]
    step = (log_eps[n - 1] - first) / (n - 1)
    if not step > 0.0:
        step = 1.0
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                for d in range(n3):
                    yy = y[a, b, c, d]
                    if yy != yy:
                        j = n - 1
                    else:
                        # the last index with log_eps[index] <= yy (-1: none): a guess from an
                        # even spacing, then walked to the nodes themselves (exact for any grid)
                        t = (yy - first) / step
                        t = -1.0 if t < -1.0 else (n - 1.0 if t > n - 1.0 else t)
                        j = int(t)
                        while j + 1 < n and log_eps[j + 1] <= yy:
                            j += 1
                        while j >= 0 and log_eps[j] > yy:
                            j -= 1
                    j = 0 if j < 0 else (n - 2 if j > n - 2 else j)
                    w = (yy - log_eps[j]) / (log_eps[j + 1] - log_eps[j])
                    w = 0.0 if w < 0.0 else (1.0 if w > 1.0 else w)
                    ii = i[a, b, c, d]
                    uu = u[a, b, c, d]
                    one_u = 1.0 - uu
                    one_w = 1.0 - w
                    val = (one_u * one_w) * log_r[ii, j] + (uu * one_w) * log_r[ii + 1, j]
                    val = val + (one_u * w) * log_r[ii, j + 1]
                    out[a, b, c, d] = val + (uu * w) * log_r[ii + 1, j + 1]


def neff_interp(bath_nu: NDArray[np.bool_], x: NDArray, y: NDArray, log_masses: NDArray,
                ks: NDArray, grid: NDArray) -> NDArray[np.float64] | None:
    """``neff._interp`` after its logarithms: x = ln m and y = log10 k, both clipped to the table,
    the cells as np.searchsorted (side "left") finds them, the weights and the four corners'
    weighted sum in numpy's order; ``grid`` (bath, mass, k). None for more than four axes longer
    than 1."""
    arrays = (np.asarray(bath_nu), np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    loop = _loop_views(arrays)
    if loop is None:
        return None
    shape, shape4, views = loop
    out = np.empty(shape4)
    _compiled()[11](*views, np.ascontiguousarray(log_masses), np.ascontiguousarray(ks),
                    np.ascontiguousarray(grid, dtype=np.float64), out)  # fmt: skip
    return out.reshape(shape)


def _neff_interp_loop(bath_nu: NDArray[np.bool_], x: NDArray, y: NDArray, lm: NDArray,
                      ks: NDArray, grid: NDArray, out: NDArray) -> None:  # fmt: skip
    """Per element: i = (the first index with lm >= x) - 1 clipped to [0, n - 2] (NaN after every
    value), found by walking from an even-spacing guess (exact on any increasing grid); j alike
    in ks; then the numpy steps of ``neff._interp``."""
    n0, n1, n2, n3 = out.shape
    for a in range(n0):
        for b in range(n1):
            for c in range(n2):
                for d in range(n3):
                    xx = x[a, b, c, d]
                    yy = y[a, b, c, d]
                    i = 0
                    j = 0
                    for axis in range(2):  # the mass cell i, then the k cell j
                        nodes = lm if axis == 0 else ks
                        value = xx if axis == 0 else yy
                        n = nodes.size
                        # the last index with nodes[index] < value (-1: none; NaN: the last)
                        if value != value:
                            cell = n - 1
                        else:
                            step = (nodes[n - 1] - nodes[0]) / (n - 1)
                            t = (value - nodes[0]) / step if step > 0.0 else 0.0
                            t = -1.0 if t < -1.0 else (n - 1.0 if t > n - 1.0 else t)
                            cell = int(t)
                            while cell + 1 < n and nodes[cell + 1] < value:
                                cell += 1
                            while cell >= 0 and nodes[cell] >= value:
                                cell -= 1
                        cell = 0 if cell < 0 else (n - 2 if cell > n - 2 else cell)
                        if axis == 0:
                            i = cell
                        else:
                            j = cell
                    tx = (xx - lm[i]) / (lm[i + 1] - lm[i])
                    ty = (yy - ks[j]) / (ks[j + 1] - ks[j])
                    bath = 0 if bath_nu[a, b, c, d] else 1
                    one_x = 1 - tx
                    one_y = 1 - ty
                    val = grid[bath, i, j] * one_x * one_y + grid[bath, i + 1, j] * tx * one_y
                    val = val + grid[bath, i, j + 1] * one_x * ty
                    out[a, b, c, d] = val + grid[bath, i + 1, j + 1] * tx * ty


def allowed_couplings(highest: NDArray | None, has_g: NDArray[np.bool_], high: NDArray | None,
                      g2: NDArray | None, blocked: NDArray[np.bool_] | None,
                      hit: NDArray[np.bool_] | None) -> NDArray[np.bool_]:  # fmt: skip
    """The allowed couplings of a chunk (N, M, K, G; ``highest`` and ``has_g`` contiguous) in one
    pass, as the end of ``engine._evaluate`` computes them with numpy (``highest`` None: no
    constraint was evaluated at every coupling, -inf everywhere):

        allowed = has_g & ~(fmax(highest, high g2) >= 1) & ~blocked[..., None] & ~hit

    ``high`` (N, M, K, 1): the largest r1 of the prompt searches (None: none; ``g2`` = g^2, read
    only with ``high``), ``blocked``
    (N, M, K): r >= 1 at every coupling, ``hit`` (N M K G, flat): r >= 1 at that coupling (each
    None where no constraint marked one). fmax(h, v) >= 1 is (h >= 1) or (v >= 1), NaN comparing
    false: the same booleans with the same product high g2."""
    n_g = has_g.shape[-1]
    n_p = has_g.size // n_g if n_g else 0
    none = np.zeros(0, dtype=np.bool_)
    allowed = np.empty(has_g.shape, dtype=np.bool_)
    empty = np.zeros((0, n_g))
    _compiled()[12](
        empty if highest is None else highest.reshape(n_p, n_g), has_g.reshape(n_p, n_g),
        np.zeros(0) if high is None else np.ascontiguousarray(high).reshape(-1),
        empty if high is None or g2 is None else g2.reshape(n_p, n_g),
        none if blocked is None else np.ascontiguousarray(blocked).reshape(-1),
        none if hit is None else hit.reshape(-1), allowed.reshape(n_p, n_g),
    )  # fmt: skip
    return allowed


def _allowed_couplings_loop(highest: NDArray, has_g: NDArray[np.bool_], high: NDArray,
                            g2: NDArray, blocked: NDArray[np.bool_], hit: NDArray[np.bool_],
                            allowed: NDArray[np.bool_]) -> None:  # fmt: skip
    """One product per coupling where prompt searches exist (``high`` not empty), comparisons
    otherwise; an empty ``highest``, ``blocked`` or ``hit`` marks nothing. The booleans are
    combined with &, not short-circuit ``and``: no branch per coupling, 2.4x faster than with."""
    n_p, n_g = has_g.shape
    use_highest = highest.size > 0
    use_high = high.size > 0
    use_blocked = blocked.size > 0
    use_hit = hit.size > 0
    for p in range(n_p):
        h1 = high[p] if use_high else 0.0
        stop = use_blocked and blocked[p]
        for j in range(n_g):
            ok = has_g[p, j]
            if use_highest:
                ok = ok & (not highest[p, j] >= 1.0)
            if use_high:
                ok = ok & (not h1 * g2[p, j] >= 1.0)
            if use_hit:
                ok = ok & (not hit[p * n_g + j])
            allowed[p, j] = ok & (not stop)


def recast_signal(weight: NDArray, production: NDArray, branching: NDArray, den: NDArray,
                  no_limit: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """r = ((0 + w P) BR) / den, NaN where ``no_limit``: a recast's signal ratio without its
    lifetime factor for one production channel (``RecastConstraint._prompt_signal_and_width``:
    the sum from 0, the product, the division and np.where in numpy's order), in one pass over
    the broadcast shape; None for more than four axes longer than 1."""
    arrays = (np.asarray(weight, dtype=np.float64), np.asarray(production, dtype=np.float64),
              np.asarray(branching, dtype=np.float64), np.asarray(den, dtype=np.float64),
              np.asarray(no_limit, dtype=np.bool_))  # fmt: skip
    loop = _loop_views(arrays)
    if loop is None:
        return None
    shape, shape4, views = loop
    out = np.empty(shape4)
    _compiled()[13](*views, out)
    return out.reshape(shape)


def _recast_signal_loop(w: NDArray, p: NDArray, br: NDArray, den: NDArray,
                        no_limit: NDArray[np.bool_], out: NDArray) -> None:  # fmt: skip
    """A product, a sum, a product and a division per element (0 + x: -0.0 becomes +0.0 as in
    numpy's sum from np.zeros)."""
    n0, n1, n2, n3 = out.shape
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                for i3 in range(n3):
                    if no_limit[i0, i1, i2, i3]:
                        out[i0, i1, i2, i3] = math.nan
                    else:
                        prod = 0.0 + w[i0, i1, i2, i3] * p[i0, i1, i2, i3]
                        out[i0, i1, i2, i3] = (prod * br[i0, i1, i2, i3]) / den[i0, i1, i2, i3]


def neff_exchange(nu: NDArray, em: NDArray, h: NDArray, g2: NDArray
                  ) -> tuple[NDArray[np.float64], NDArray[np.bool_]] | None:  # fmt: skip
    """The first steps of ``neff.neff_of`` for widths nu g^2 (to neutrinos) and em g^2 (to the
    electron-photon bath) at H = ``h``, in one pass: (max(other / h, 1e-300), in_nu) with in_nu =
    (nu g2 >= em g2) and other the smaller partial width of the two, as numpy computes them
    (np.maximum keeps NaN); the log10 is numpy's, after. None for more than four axes longer
    than 1."""
    arrays = tuple(np.asarray(v, dtype=np.float64) for v in (nu, em, h, g2))
    loop = _loop_views(arrays)
    if loop is None:
        return None
    shape, shape4, views = loop
    rate = np.empty(shape4)
    in_nu = np.empty(shape4, dtype=np.bool_)
    _compiled()[14](*views, rate, in_nu)
    return rate.reshape(shape), in_nu.reshape(shape)


def _neff_exchange_loop(nu: NDArray, em: NDArray, h: NDArray, g2: NDArray, rate: NDArray,
                        in_nu: NDArray[np.bool_]) -> None:  # fmt: skip
    """Two products, a comparison, a division and numpy's maximum per element."""
    n0, n1, n2, n3 = rate.shape
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                for i3 in range(n3):
                    u = g2[i0, i1, i2, i3]
                    g_nu = nu[i0, i1, i2, i3] * u
                    g_em = em[i0, i1, i2, i3] * u
                    bath = g_nu >= g_em
                    q = (g_em if bath else g_nu) / h[i0, i1, i2, i3]
                    rate[i0, i1, i2, i3] = q if q >= 1e-300 or q != q else 1e-300
                    in_nu[i0, i1, i2, i3] = bath


def neff_ratio(n: NDArray, nu: NDArray, em: NDArray, h: NDArray, g2: NDArray, dark: NDArray,
               constants: tuple[float, float, float, float]) -> NDArray[np.float64] | None:
    """The last steps of ``NeffBBN._ratio_from`` after the table's N_eff ``n``, in one pass:
    N_eff = n where nu g2 + em g2 >= h (thermalised) else N_eff^SM, r = |N_eff - N_eff^Planck| /
    half-width, NaN where dark + 0 g2 (the invisible branching ratio) exceeds its maximum;
    ``constants`` = (N_eff^SM, N_eff^Planck, half-width, the maximum), numpy's order. None for more
    than four axes longer than 1."""
    arrays = tuple(np.asarray(v, dtype=np.float64) for v in (n, nu, em, h, g2, dark))
    loop = _loop_views(arrays)
    if loop is None:
        return None
    shape, shape4, views = loop
    out = np.empty(shape4)
    _compiled()[15](*views, *(float(c) for c in constants), out)
    return out.reshape(shape)


def _neff_ratio_loop(n: NDArray, nu: NDArray, em: NDArray, h: NDArray, g2: NDArray,
                     dark: NDArray, sm: float, planck: float, half: float, dark_max: float,
                     out: NDArray) -> None:  # fmt: skip
    """Products, a sum, comparisons, an absolute value and a division per element."""
    n0, n1, n2, n3 = out.shape
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                for i3 in range(n3):
                    u = g2[i0, i1, i2, i3]
                    total = nu[i0, i1, i2, i3] * u + em[i0, i1, i2, i3] * u
                    value = n[i0, i1, i2, i3] if total >= h[i0, i1, i2, i3] else sm
                    r = abs(value - planck) / half
                    br = dark[i0, i1, i2, i3] + 0.0 * u
                    out[i0, i1, i2, i3] = math.nan if br > dark_max else r


def lifetime_marks(r1: NDArray, tau1: NDArray, g2: NDArray, t0: NDArray, t1: NDArray,
                   todo: NDArray[np.intp], rows: NDArray[np.intp], count: NDArray[np.uint8],
                   low: NDArray, hit: NDArray[np.bool_], compact: bool) -> bool:  # fmt: skip
    """r = (r1 g^2) E(tau1 / g^2; t0, t1) at the couplings ``g2`` (P x G) of P gathered points
    (``r1``, ``tau1``, ``t0``, ``t1``: P values each) and their bookkeeping, as
    ``engine._ClosedForms._at_points`` computes it with ``darkcast.lifetime_ratio``,
    ``engine._count_and_min`` and the marks: ``count.flat[todo[p]]`` = how many r >= 1,
    ``low.flat[todo[p]]`` = the smallest r (NaN ignored; ``compact``: NaN where every r is NaN,
    else 0) and ``hit[rows[p] G + q]`` where r >= 1. The exponents of E = exp(-t0 / tau)
    (-expm1(-(t1 - t0) / tau)) are formed in one pass, numpy's exp and expm1 applied in place,
    and r and the bookkeeping made in a second pass. Whether any coupling was marked."""
    n_p, n_g = g2.shape
    flat = [np.ascontiguousarray(np.asarray(v, dtype=np.float64).reshape(-1))
            for v in (r1, tau1, t0, t1)]  # fmt: skip
    g2 = np.ascontiguousarray(g2, dtype=np.float64)
    at_t0 = np.empty((n_p, n_g))
    at_span = np.empty((n_p, n_g))
    _compiled()[16](flat[1], g2, flat[2], flat[3], at_t0, at_span)
    np.exp(at_t0, out=at_t0)
    np.expm1(at_span, out=at_span)
    flat_count, flat_low = count.reshape(-1), low.reshape(-1)
    assert np.shares_memory(flat_count, count)
    assert np.shares_memory(flat_low, low)
    return bool(_compiled()[17](flat[0], g2, at_t0, at_span, todo, rows, flat_count, flat_low,
                                hit, compact))  # fmt: skip


def _lifetime_exponents_loop(tau1: NDArray, g2: NDArray, t0: NDArray, t1: NDArray,
                             at_t0: NDArray, at_span: NDArray) -> None:  # fmt: skip
    """The arguments of ``darkcast.acceptance(tau1 / g2, t0, t1)``'s exp and expm1: with
    tau = tau1 / g^2, inv = 1 / tau where tau is finite else 0 and span = t1 - t0 (inf where t1
    is), -t0 inv and -(span inv where inv > 0 else 0), numpy's steps."""
    n_p, n_g = g2.shape
    for p in range(n_p):
        a = tau1[p]
        minus_t0 = -t0[p]
        b = t1[p]
        span = math.inf if math.isinf(b) else b - t0[p]
        for q in range(n_g):
            tau = a / g2[p, q]
            inv = 1.0 / tau if math.isfinite(tau) else 0.0
            at_t0[p, q] = minus_t0 * inv
            at_span[p, q] = -(span * inv if inv > 0.0 else 0.0)


def _lifetime_marks_loop(r1: NDArray, g2: NDArray, e_t0: NDArray, e_span: NDArray,
                         todo: NDArray[np.intp], rows: NDArray[np.intp], count: NDArray[np.uint8],
                         low: NDArray, hit: NDArray[np.bool_], compact: bool) -> bool:  # fmt: skip
    """r = (r1 g^2) (exp(-t0 inv) (-expm1(...))) per coupling, then the comparisons of
    ``engine._count_and_min`` (np.fmin: the other where one is NaN) and the marks."""
    n_p, n_g = g2.shape
    any_hit = False
    for p in range(n_p):
        x = r1[p]
        base = rows[p] * n_g
        c = 0
        smallest = math.nan
        for q in range(n_g):
            r = (x * g2[p, q]) * (e_t0[p, q] * -e_span[p, q])
            if r >= 1.0:
                c += 1
                hit[base + q] = True
            # np.fmin(smallest, r): r where smallest is NaN, smallest where r is
            if q == 0 or smallest != smallest or not (smallest <= r or r != r):
                smallest = r
        t = todo[p]
        count[t] = c
        if compact:
            low[t] = math.nan if smallest != smallest else 0.0
        else:
            low[t] = smallest
        if c:
            any_hit = True
    return any_hit
