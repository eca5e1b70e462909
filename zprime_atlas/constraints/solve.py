r"""Numerical solvers shared by the constraints: one copy of each (docs/physics/numerics.md).

- :func:`delta_chi2_critical`: the Delta chi^2 threshold of a one-parameter test at a CL.
- :func:`bisect_log`: vectorized bisection in log space.
- :func:`golden_minimize_log`: vectorized golden-section search in log space.
- :func:`intervals_by_scan`: excluded intervals {g: r(g) >= 1} of any ratio function: a log grid of
  g_X, golden-section refinement of every grid extremum of r that could hide a crossing, then
  bisection of every sign change of r - 1 (fixed eps where no closed form exists).
- :func:`quadratic_roots`: the real roots of a x^2 + b x + c, stable for every sign.
- :func:`quadratic_exclusion_intervals`: the closed-form excluded intervals of an observable
  that is a quadratic in p = a g^2 + b g (Borexino, COHERENT, neutrino tridents):

      S(p) = beta p + gamma p^2,   excluded where S >= d_hi or S <= d_lo.

  Every threshold gives at most two roots in p, each root at most two in g > 0; between the sorted
  roots S keeps its side of the thresholds, so one evaluation per cell decides it.
- :func:`polynomial_exclusion_intervals`: the same for any polynomial S(g) = sum_k c_k g^k (roots
  from companion-matrix eigenvalues, :func:`polynomial_roots`; COHERENT with a fixed eps).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "G_SCAN_GRID",
    "bisect_log",
    "delta_chi2_critical",
    "golden_minimize_log",
    "intervals_by_scan",
    "polynomial_exclusion_intervals",
    "polynomial_roots",
    "quadratic_exclusion_intervals",
    "quadratic_roots",
    "trim_intervals",
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
    from scipy.special import chdtri  # on first use: import zprime_atlas stays light

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


def golden_minimize_log(
    f: Callable[[NDArray], NDArray], lo: ArrayLike, hi: ArrayLike, iterations: int = 40
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorized golden-section search in log g: (g_min, f(g_min)) of f on [lo, hi] (elementwise).

    Exact for a function that is unimodal on the bracket; 40 steps shrink the bracket by 0.618^40 =
    4e-9 of its log-width. One evaluation of f per step (on arrays of the shape of lo, hi).
    """
    a, b = np.log(np.asarray(lo, dtype=float)), np.log(np.asarray(hi, dtype=float))
    inv_phi = (math.sqrt(5.0) - 1.0) / 2.0
    c = b - inv_phi * (b - a)
    d = a + inv_phi * (b - a)
    fc, fd = np.asarray(f(np.exp(c)), dtype=float), np.asarray(f(np.exp(d)), dtype=float)
    for _ in range(iterations):
        left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        x_new = np.where(left, b - inv_phi * (b - a), a + inv_phi * (b - a))
        f_new = np.asarray(f(np.exp(x_new)), dtype=float)
        c, d, fc, fd = (
            np.where(left, x_new, d),
            np.where(left, c, x_new),
            np.where(left, f_new, fd),
            np.where(left, fc, f_new),
        )
    best = fc < fd
    return np.exp(np.where(best, c, d)), np.where(best, fc, fd)


def intervals_by_scan(
    ratio_of_g: Callable[[NDArray], NDArray],
    shape: tuple[int, ...],
    g_grid: NDArray[np.float64] = G_SCAN_GRID,
    max_intervals: int = 2,
    refine: bool = True,
    max_extrema: int = 12,
) -> Intervals:
    """Excluded intervals {g: r(g) >= 1} of any ratio function: log-grid scan, extremum refinement
    and bisection of every sign change of r - 1 (docs/physics/numerics.md).

    ``ratio_of_g(g)`` takes an array g of shape ``shape`` (one coupling per point) and returns r of
    that shape (NaN where nothing is said, treated as allowed). Returns ``max_intervals`` pairs
    (lower, upper) of arrays: lower = 0 if the smallest grid coupling is already excluded, upper =
    inf if the largest is; (inf, inf) where there is no such interval; NaN where r is NaN on the
    whole grid.

    With ``refine`` (default), every discrete local minimum of r on the grid that is still excluded
    and every discrete local maximum that is still allowed is refined by golden-section search on
    its two neighbouring cells; the refined extremum joins the samples, so a re-allowed window or an
    excluded island narrower than a grid cell is found whenever it holds a single extremum of r
    within two cells. Up to ``max_extrema`` such extrema per point. The loops run over the grid, the
    extrema and the bisection steps, never over the points of ``shape``.
    """
    n = len(g_grid)
    values = np.stack([np.broadcast_to(ratio_of_g(np.full(shape, gv)), shape) for gv in g_grid])
    undefined = np.all(np.isnan(values), axis=0)
    v = np.nan_to_num(values, nan=0.0)
    g_samples = np.broadcast_to(g_grid.reshape((n,) + (1,) * len(shape)), values.shape)

    def r_of(g: NDArray) -> NDArray:
        return np.nan_to_num(np.broadcast_to(ratio_of_g(g), shape), nan=0.0)

    if refine and n >= 3:
        mid, left, right = v[1:-1], v[:-2], v[2:]
        is_min = (mid <= left) & (mid <= right) & ((mid < left) | (mid < right)) & (mid >= 1.0)
        is_max = (mid >= left) & (mid >= right) & ((mid > left) | (mid > right)) & (mid < 1.0)
        cand = is_min | is_max
        count = cand.sum(axis=0)
        n_ext = int(min(count.max(initial=0), max_extrema))
        extra_g, extra_v = [], []
        rank = np.cumsum(cand, axis=0)  # 1-based rank of each candidate along the grid
        for k in range(1, n_ext + 1):
            at_k = cand & (rank == k)
            has = np.any(at_k, axis=0)
            i = np.argmax(at_k, axis=0) + 1  # grid index of the k-th candidate
            sign = np.where(np.take_along_axis(is_min, (i - 1)[None], axis=0)[0], 1.0, -1.0)
            lo = np.where(has, g_grid[i - 1], g_grid[0])
            hi = np.where(has, g_grid[np.minimum(i + 1, n - 1)], g_grid[1])

            def signed(g: NDArray, s: NDArray = sign) -> NDArray:
                return s * r_of(g)

            g_star, _ = golden_minimize_log(signed, lo, hi)
            extra_g.append(np.where(has, g_star, g_grid[0]))
            extra_v.append(np.where(has, r_of(g_star), v[0]))
        if n_ext:
            g_all = np.concatenate([g_samples, np.stack(extra_g)])
            v_all = np.concatenate([v, np.stack(extra_v)])
            order = np.argsort(g_all, axis=0, kind="stable")
            g_samples = np.take_along_axis(g_all, order, axis=0)
            v = np.take_along_axis(v_all, order, axis=0)
    n_s = v.shape[0]
    excluded = v >= 1.0
    prev = np.concatenate([np.zeros((1, *shape), dtype=bool), excluded[:-1]])
    starts = excluded & ~prev
    label = np.cumsum(starts, axis=0)  # interval number (1, 2, ...) at and after each start

    def r_minus_one(g: NDArray) -> NDArray:
        return r_of(g) - 1.0

    def sample(idx: NDArray) -> NDArray:
        return np.take_along_axis(g_samples, idx[None], axis=0)[0]

    out = []
    for j in range(1, max_intervals + 1):
        in_j = excluded & (label == j)
        has = np.any(in_j, axis=0)
        first = np.where(has, np.argmax(in_j, axis=0), 0)
        last = np.where(has, n_s - 1 - np.argmax(in_j[::-1], axis=0), 0)
        lower = bisect_log(r_minus_one, sample(np.maximum(first - 1, 0)), sample(first))
        lower = np.where(first == 0, 0.0, lower)
        upper = bisect_log(
            lambda g: -r_minus_one(g), sample(last), sample(np.minimum(last + 1, n_s - 1))
        )
        upper = np.where(last == n_s - 1, math.inf, upper)
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

    def s_of(g: NDArray) -> NDArray:
        p = a[..., None] * g * g + b[..., None] * g
        return beta[..., None] * p + gamma[..., None] * p * p

    return _intervals_from_roots(cand, s_of, d_lo, d_hi, n_intervals)


def _intervals_from_roots(
    cand: NDArray, s_of: Callable[[NDArray], NDArray], d_lo: NDArray, d_hi: NDArray, n_intervals: int
) -> Intervals:
    """Merge the cells cut by candidate roots ``cand`` (last axis) into excluded intervals.

    ``s_of(g)`` evaluates S at couplings of shape (*shape, n_cells); a cell is excluded where S at
    its interior point is >= d_hi or <= d_lo. Non-finite or non-positive candidates are ignored.
    """
    shape = cand.shape[:-1]
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
        s_mid = s_of(np.where(np.isfinite(mid), mid, 1.0))
    d_lo = np.broadcast_to(d_lo, shape)
    d_hi = np.broadcast_to(d_hi, shape)
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


def polynomial_roots(coeffs: ArrayLike, newton_steps: int = 4) -> NDArray[np.float64]:
    """Real roots of sum_k c_k x^k (k = 0..K, ``coeffs`` on the first axis), NaN-padded: (*shape, K).

    Vectorized over the trailing axes: the points are grouped by their degree (the highest non-zero
    c_k), x is rescaled by the Fujiwara bound s = max_k |c_k/c_top|^(1/(top-k)) so that every root
    is O(1), the eigenvalues of the balanced companion matrices (numpy/LAPACK geev) give all roots
    at once, and those with |Im| <= 1e-7 |Re| (and double roots split by rounding, so harmless where
    the caller tests cells) are polished by Newton steps on the unscaled polynomial.
    """
    c = np.asarray(coeffs, dtype=np.float64)
    deg_max = c.shape[0] - 1
    shape = c.shape[1:]
    flat = c.reshape(deg_max + 1, -1)
    out = np.full((flat.shape[1], deg_max), np.nan)
    nonzero = flat != 0
    top = np.where(nonzero.any(axis=0), deg_max - np.argmax(nonzero[::-1], axis=0), 0)
    for d in range(1, deg_max + 1):
        sel = np.nonzero(top == d)[0]
        if sel.size == 0:
            continue
        cc = flat[: d + 1, sel]  # c_0..c_d, c_d != 0
        k = np.arange(d)[:, None]
        with np.errstate(divide="ignore", over="ignore"):
            bound = np.abs(cc[:d] / cc[d]) ** (1.0 / (d - k))
        s = np.max(np.where(np.isfinite(bound), bound, 0.0), axis=0)
        s = np.where(s > 0, s, 1.0)
        e = cc[:d] * s ** np.arange(d)[:, None] / (cc[d] * s**d)  # monic in y = x / s
        comp = np.zeros((sel.size, d, d))
        comp[:, 0, :] = -e[::-1].T  # first row: -e_{d-1}, ..., -e_0
        if d > 1:
            idx = np.arange(d - 1)
            comp[:, idx + 1, idx] = 1.0
        y = np.linalg.eigvals(comp)
        real = np.abs(y.imag) <= 1e-7 * np.abs(y.real)
        x = np.where(real, y.real, np.nan) * s[:, None]
        for _ in range(newton_steps):
            f = np.zeros_like(x)
            fp = np.zeros_like(x)
            for j in range(d, -1, -1):
                fp = fp * x + f
                f = f * x + cc[j][:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(fp != 0, f / fp, 0.0)
            ok = np.abs(step) <= 0.1 * np.abs(x)
            x = np.where(ok, x - step, x)
        out[sel, :d] = x
    return out.reshape((*shape, deg_max))


def polynomial_exclusion_intervals(
    coeffs: list[ArrayLike],
    d_lo: float | ArrayLike,
    d_hi: float | ArrayLike,
    n_intervals: int,
) -> Intervals:
    """Excluded g > 0 of S(g) = sum_{k=1}^K c_k g^k >= d_hi or <= d_lo (``coeffs`` = [c_1..c_K]).

    The closed form for an observable that is a polynomial in g without the nested structure of
    :func:`quadratic_exclusion_intervals` (COHERENT with a fixed eps: two nuclei whose dark-photon
    and U(1)_X amplitudes differ in ratio). All real roots of S - d_hi and S - d_lo
    (:func:`polynomial_roots`) cut (0, inf) into cells tested once each, as in the quadratic case.
    d_lo < 0 < d_hi (S(0) = 0 is allowed).
    """
    shape = np.broadcast_shapes(*(np.shape(z) for z in (*coeffs, d_lo, d_hi)))
    cs = [np.broadcast_to(np.asarray(z, dtype=np.float64), shape) for z in coeffs]
    lo = np.broadcast_to(np.asarray(d_lo, dtype=np.float64), shape)
    hi = np.broadcast_to(np.asarray(d_hi, dtype=np.float64), shape)
    roots = [polynomial_roots(np.stack([-d, *cs])) for d in (hi, lo)]
    cand = np.concatenate(roots, axis=-1)
    stacked = np.stack(cs, axis=-1)[..., None, :]  # (*shape, 1, K)

    def s_of(g: NDArray) -> NDArray:
        total = np.zeros(g.shape)
        for j in range(stacked.shape[-1] - 1, -1, -1):
            total = (total + stacked[..., j]) * g
        return total

    return _intervals_from_roots(cand, s_of, lo, hi, n_intervals)


def trim_intervals(intervals: Intervals, minimum: int) -> Intervals:
    """Drop trailing slots that hold no interval anywhere ((inf, inf) or NaN), keeping ``minimum``."""
    out = list(intervals)
    while len(out) > minimum and not np.any(np.isfinite(out[-1][0])):
        out.pop()
    return out


def __dir__() -> list[str]:
    return list(__all__)
