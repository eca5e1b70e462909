r"""Numerical solvers shared by the constraints: one copy of each (docs/physics/numerics.md).

- :func:`delta_chi2_critical`: the Delta chi^2 threshold of a one-parameter test at a CL.
- :func:`bisect_log`: vectorized bisection in log space.
- :func:`intervals_by_scan`: excluded intervals {g: r(g) >= 1} of any ratio function, found on a
  log grid of g_X and refined by bisection (interference, fixed eps).
- :func:`quadratic_roots`: the real roots of a x^2 + b x + c, stable for every sign.
- :func:`quadratic_exclusion_intervals`: the closed-form excluded intervals of an observable
  that is a quadratic in p = a g^2 + b g (Borexino, COHERENT, neutrino tridents):

      S(p) = beta p + gamma p^2,   excluded where S >= d_hi or S <= d_lo.

  Every threshold gives at most two roots in p, each root at most two in g > 0; between the sorted
  roots S keeps its side of the thresholds, so one evaluation per cell decides it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import chdtri

__all__ = [
    "G_SCAN_GRID",
    "bisect_log",
    "delta_chi2_critical",
    "intervals_by_scan",
    "quadratic_exclusion_intervals",
    "quadratic_roots",
]

#: Default g_X grid for limits that need a scan (interference, fixed eps): 10 points per decade.
G_SCAN_GRID: NDArray[np.float64] = np.geomspace(1e-10, 1e3, 131)

Intervals = list[tuple[NDArray[np.float64], NDArray[np.float64]]]


def delta_chi2_critical(cl: float, one_sided: bool = False) -> float:
    """Delta chi^2 that one parameter must reach to be excluded at confidence level ``cl``.

    Two-sided: the chi^2_1 quantile, chi2.ppf(cl, 1) (2.706 at 90%, 3.841 at 95%). One-sided (a
    physical boundary, the q-tilde construction): chi2.ppf(2 cl - 1, 1) (2.706 at 95%).
    """
    if not 0.0 < cl < 1.0:
        raise ValueError(f"confidence level must lie in (0, 1), got {cl!r}")
    # chdtri(k, q) is the chi^2_k quantile at upper-tail probability q (scipy.special: no
    # scipy.stats import, which alone costs 0.6 s at start-up)
    return float(chdtri(1, 1.0 - (2.0 * cl - 1.0 if one_sided else cl)))


def bisect_log(
    f: Callable[[NDArray], NDArray], lo: ArrayLike, hi: ArrayLike, iterations: int = 60
) -> NDArray[np.float64]:
    """Vectorized bisection in log space: where f(lo) < 0 <= f(hi), the crossing (elementwise)."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(iterations):
        mid = np.sqrt(lo * hi)
        up = f(mid) >= 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return np.sqrt(lo * hi)


def intervals_by_scan(
    ratio_of_g: Callable[[NDArray], NDArray],
    shape: tuple[int, ...],
    g_grid: NDArray[np.float64] = G_SCAN_GRID,
    max_intervals: int = 2,
) -> Intervals:
    """Excluded intervals {g: r(g) >= 1}, found on a log grid of g and refined by bisection.

    ``ratio_of_g(g)`` takes an array g of shape ``shape`` (one coupling per point) and returns r of
    that shape (NaN where nothing is said). Returns ``max_intervals`` pairs (lower, upper) of arrays:
    lower = 0 if the smallest grid coupling is already excluded, upper = inf if the largest is;
    (inf, inf) where there is no such interval; NaN where r is NaN on the whole grid. The loop runs
    over the grid (131 points), never over the points of ``shape``.
    """
    n = len(g_grid)
    values = np.stack([np.broadcast_to(ratio_of_g(np.full(shape, gv)), shape) for gv in g_grid])
    undefined = np.all(np.isnan(values), axis=0)
    excluded = np.nan_to_num(values, nan=0.0) >= 1.0
    prev = np.concatenate([np.zeros((1, *shape), dtype=bool), excluded[:-1]])
    starts = excluded & ~prev
    label = np.cumsum(starts, axis=0)  # interval number (1, 2, ...) at and after each start

    def r_minus_one(g: NDArray) -> NDArray:
        return np.broadcast_to(ratio_of_g(g), shape) - 1.0

    out = []
    for j in range(1, max_intervals + 1):
        in_j = excluded & (label == j)
        has = np.any(in_j, axis=0)
        first = np.where(has, np.argmax(in_j, axis=0), 0)
        last = np.where(has, n - 1 - np.argmax(in_j[::-1], axis=0), 0)
        g_lo_cell = g_grid[np.maximum(first - 1, 0)]
        g_hi_cell = g_grid[first]
        lower = bisect_log(r_minus_one, g_lo_cell, g_hi_cell)
        lower = np.where(first == 0, 0.0, lower)
        up_lo = g_grid[last]
        up_hi = g_grid[np.minimum(last + 1, n - 1)]
        upper = bisect_log(lambda g: -r_minus_one(g), up_lo, up_hi)
        upper = np.where(last == n - 1, math.inf, upper)
        lower = np.where(has, lower, math.inf)
        upper = np.where(has, upper, math.inf)
        out.append((np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)))
    return out


def quadratic_roots(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> tuple[NDArray, NDArray]:
    """Real roots of a x^2 + b x + c = 0 (NaN where none), stable for any signs; a = 0 handled.

    q = -(b + sign(b) sqrt(b^2 - 4ac))/2, roots q/a and c/q (no cancellation between b and the
    square root).
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(z, dtype=np.float64) for z in (a, b, c)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = b * b - 4.0 * a * c
        sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
        q = -0.5 * (b + np.where(b >= 0, 1.0, -1.0) * sq)
        r1 = np.where(q != 0, q / a, np.nan)
        r2 = np.where(q != 0, c / q, np.nan)
        linear = np.where(b != 0, -c / b, np.nan)
    r1 = np.where(a == 0, linear, r1)
    r2 = np.where(a == 0, np.nan, r2)
    return r1, r2


def quadratic_exclusion_intervals(
    beta: ArrayLike,
    gamma: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    d_lo: float | ArrayLike,
    d_hi: float | ArrayLike,
    n_intervals: int,
) -> Intervals:
    """Excluded g > 0 of S = beta p + gamma p^2 >= d_hi or <= d_lo, with p = a g^2 + b g.

    All coefficients broadcast (d_lo < 0 < d_hi: the point p = 0, no new physics, is allowed).
    Returns ``n_intervals`` (lower, upper) pairs in increasing g; (inf, inf) pads missing intervals,
    upper = inf for an interval that never closes. Closed form: the g-roots of the p-roots of both
    thresholds cut (0, inf) into cells, each tested once at an interior point.
    """
    shape = np.broadcast_shapes(*(np.shape(z) for z in (beta, gamma, a, b, d_lo, d_hi)))
    beta, gamma, a, b, d_lo, d_hi = (
        np.broadcast_to(np.asarray(z, dtype=np.float64), shape) for z in (beta, gamma, a, b, d_lo, d_hi)
    )
    # p thresholds: gamma p^2 + beta p - D = 0 for D = d_hi and D = d_lo.
    p_roots = [*quadratic_roots(gamma, beta, -d_hi), *quadratic_roots(gamma, beta, -d_lo)]
    # g > 0 with a g^2 + b g = p_t, for each threshold.
    g_roots = []
    for p_t in p_roots:
        r1, r2 = quadratic_roots(a, b, -p_t)
        g_roots += [r1, r2]
    cand = np.stack(g_roots, axis=-1)
    cand = np.where(np.isfinite(cand) & (cand > 0), cand, np.inf)
    cand.sort(axis=-1)
    lo_edges = np.concatenate([np.zeros((*shape, 1)), cand], axis=-1)
    hi_edges = np.concatenate([cand, np.full((*shape, 1), np.inf)], axis=-1)
    mid = np.where(
        np.isfinite(hi_edges),
        0.5 * (lo_edges + hi_edges),
        np.where(np.isfinite(lo_edges), 2.0 * lo_edges + 1.0, np.inf),
    )
    with np.errstate(invalid="ignore", over="ignore"):
        p_mid = a[..., None] * mid * mid + b[..., None] * mid
        s_mid = beta[..., None] * p_mid + gamma[..., None] * p_mid * p_mid
    excluded = (
        (hi_edges > lo_edges)
        & np.isfinite(mid)
        & ((s_mid >= d_hi[..., None]) | (s_mid <= d_lo[..., None]))
    )
    n_cells = excluded.shape[-1]
    prev = np.concatenate([np.zeros((*shape, 1), dtype=bool), excluded[..., :-1]], axis=-1)
    label = np.cumsum(excluded & ~prev, axis=-1)
    out = []
    for j in range(1, n_intervals + 1):
        in_j = excluded & (label == j)
        has = np.any(in_j, axis=-1)
        first = np.argmax(in_j, axis=-1)
        last = n_cells - 1 - np.argmax(in_j[..., ::-1], axis=-1)
        lower = np.take_along_axis(lo_edges, first[..., None], axis=-1)[..., 0]
        upper = np.take_along_axis(hi_edges, last[..., None], axis=-1)[..., 0]
        out.append((np.where(has, lower, math.inf), np.where(has, upper, math.inf)))
    return out


def __dir__() -> list[str]:
    return list(__all__)
