"""The compiled kernels give the numpy path's numbers bit for bit (issue 18, item 4).

:func:`zprime_atlas._kernels.recast_summary` replaces about twenty array passes of
``_ClosedForms.summary`` for a recast search by one loop with the same IEEE operations. It must
return the same excluded counts, smallest r, masses left and largest r as the numpy reference on
adversarial points: NaN and infinite r1, zero and infinite lifetimes, no band (g = 0), windows
starting at 0 or reaching infinity, and r1 g^2 on both sides of 1 by one rounding step; likewise
:func:`zprime_atlas._kernels.parabola_sides`, ``point_marks`` (undecided points' bookkeeping),
``nsi_coordinates``/``nsi_chi2`` (the NSI chi^2) and ``solar_box_range``. Real scans of every
mixing kind, compact and full, run with and without the kernels in
tests/test_engine_closed_forms.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from zprime_atlas import _kernels, engine
from zprime_atlas.constraints.base import Constraint, LifetimeForm
from zprime_atlas.constraints.recast.darkcast import RecastConstraint
from zprime_atlas.couplings import Mixing
from zprime_atlas.models import Model, model

pytest.importorskip("numba")


class _Crafted(Constraint):
    """A search with r = r1 g^2 E(tau1/g^2; t0, t1) from given numbers (the recasts' G2Form)."""

    name = "crafted"
    title = "crafted"
    mass_range = (1e-3, 10.0)
    verified = True

    def __init__(self, form: LifetimeForm) -> None:
        super().__init__()
        self.form = form

    def _lifetime_form(self, m, model, mix):
        return self.form

    _g2_form = RecastConstraint._g2_form


def _adversarial(rng: np.random.Generator, n: int, n_m: int, n_k: int, n_g: int):
    g = 10.0 ** rng.uniform(-6, -1, (n, n_m, n_k, n_g))
    g.sort(axis=-1)
    g[0, 0] = 0.0  # no band there: the engine evaluates at g = 0
    g2 = g * g
    r1 = 10.0 ** rng.uniform(-2, 12, (n, n_m, n_k, 1))
    # r1 g^2 exactly 1 at a coupling, and one rounding step either side
    r1[1, :, 0, 0] = 1.0 / g2[1, :, 0, 4]
    r1[1, :, 1, 0] = np.nextafter(1.0 / g2[1, :, 1, 4], 0.0)
    r1[1, :, 2, 0] = np.nextafter(1.0 / g2[1, :, 2, 0], np.inf)
    r1[2, :, 0, 0] = np.nan
    r1[2, :, 1, 0] = np.inf
    r1[2, :, 2, 0] = 0.0
    # masses 0-3: lifetimes of every kind (alive points: evaluated at every coupling); masses 4-7:
    # lifetimes so short that every point is prompt (t0 = 0) or dead (t0 > 0)
    tau1 = 10.0 ** rng.uniform(-22, -8, (n, n_m, n_k, 1))
    tau1[:, 4:] = 10.0 ** rng.uniform(-40, -30, tau1[:, 4:].shape)
    tau1[3, :4, 0, 0] = np.inf
    tau1[3, :4, 1, 0] = 0.0
    tau1[3, :4, 2, 0] = np.nan
    t0 = np.zeros((1, n_m, 1, 1))
    t0[0, 1::2] = 10.0 ** rng.uniform(-12, -8, t0[0, 1::2].shape)
    t1 = 10.0 ** rng.uniform(-10, -6, (1, n_m, 1, 1)) + t0
    t1[0, 2] = np.inf
    t1[0, 3] = np.nan
    t1[0, 6] = np.inf
    return g2, r1, tau1, t0, t1


@pytest.mark.parametrize("share", [0.0, 1.0], ids=["by-mass", "by-point"])
@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("lifetime", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_kernel_equals_the_numpy_summary_on_adversarial_points(monkeypatch, compact, lifetime,
                                                                   seed, share) -> None:  # fmt: skip
    """Both ways of finishing the points without closed form: the masses left to the full
    evaluation (share 0) and the points evaluated in the summary (share 1)."""
    monkeypatch.setattr(engine, "_POINTS_SHARE", share)
    rng = np.random.default_rng(seed)
    n, n_m, n_k, n_g = 6, 8, 5, 9
    g2, r1, tau1, t0, t1 = _adversarial(rng, n, n_m, n_k, n_g)
    form = LifetimeForm(r1, tau1 if lifetime else None, t0, t1)
    c = _Crafted(form)
    no_band = np.zeros((n, n_m, n_k), dtype=bool)
    no_band[0, 0] = True
    g = np.sqrt(g2)
    mix = Mixing.parse(None, 0.0, None)
    x = model("B-L")
    m = np.geomspace(0.01, 1.0, n_m)[None, :, None, None]
    compared = []
    for where in (slice(None), slice(2, 6), np.array([0, 3, 5, 7])):
        def sel(a, where=where):
            return a[:, where]

        c.form = LifetimeForm(sel(r1), sel(tau1) if lifetime else None, sel(t0), sel(t1))
        out = {}
        for kernels in ("numba", "numpy"):
            monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
            closed = engine._ClosedForms(g, no_band, mix)
            summary = closed.summary(c, where, sel(m), x, compact)
            out[kernels] = (summary, closed.high, closed.hit)
        (fast, high_fast, hit_fast), (slow, high_slow, hit_slow) = out["numba"], out["numpy"]
        # the couplings marked excluded at the points evaluated one by one
        assert (hit_fast is None) == (hit_slow is None)
        if hit_slow is not None:
            np.testing.assert_array_equal(hit_fast, hit_slow)
        assert (fast is None) == (slow is None)
        if slow is None:
            continue
        compared.append(where)
        for a, b in zip(fast, slow, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(high_fast, high_slow)
    assert len(compared) >= 2  # summaries, not "evaluate everything", were compared


def test_the_adversarial_points_reach_every_branch() -> None:
    """The crafted chunk has prompt, dead, alive and partly excluded points (not a vacuous test)."""
    g2, r1, tau1, t0, t1 = _adversarial(np.random.default_rng(0), 6, 8, 5, 9)
    c = _Crafted(LifetimeForm(r1, tau1, t0, t1))
    lo, hi = g2.min(axis=-1, keepdims=True), g2.max(axis=-1, keepdims=True)
    form = c._g2_form(None, lo, hi, None, Mixing.parse(None, 0.0, None))
    assert np.any(form.prompt)
    assert np.any(form.dead)
    assert np.any(~(form.prompt | form.dead))
    between = form.prompt & (r1 * lo < 1.0) & (r1 * hi >= 1.0)
    assert np.any(between)


def test_small_chunks_and_the_switch_keep_the_numpy_path(monkeypatch) -> None:
    monkeypatch.delenv("ZPRIME_ATLAS_KERNELS", raising=False)
    assert not _kernels.enabled(_kernels.MIN_POINTS - 1)
    assert _kernels.enabled(_kernels.MIN_POINTS)
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", "numpy")
    assert not _kernels.enabled(10**9)
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", "numba")
    assert _kernels.enabled(1)


@pytest.mark.parametrize("kernels", ["numba", "numpy"])
def test_a_point_near_the_compact_margin_is_evaluated(monkeypatch, kernels) -> None:
    """Compact summaries skip points whose bound r1 g2_max e^(-t0/tau) is below 0.999; a point
    with the bound at 1.2 (r = 1.2 (1 - e^-2) ~ 1.04 >= 1 at the largest coupling) is evaluated,
    by the kernel as by the numpy path."""
    from zprime_atlas.constraints.recast.darkcast import lifetime_ratio

    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
    g = np.array([1e-4, 2e-4, 3e-4])[None, None, None, :].repeat(2, axis=2)
    g2_max, g2_min = 9e-8, 1e-8
    t0, t1 = np.zeros((1, 1, 1, 1)), np.full((1, 1, 1, 1), 1e-9)
    r1 = np.array([1.2 / g2_max, 1.2 / g2_max])[None, None, :, None]
    tau1 = np.array([1e-30, 1e-9 * g2_min / 2.0])[None, None, :, None]  # prompt; t1/tau = 2
    form = LifetimeForm(r1, tau1, t0, t1)
    closed = engine._ClosedForms(g, np.zeros((1, 1, 2), dtype=bool), Mixing.parse(None, 0.0, None))
    summary = closed.summary(_Crafted(form), slice(None), np.full((1, 1, 1, 1), 0.1),
                             model("B-L"), True)  # fmt: skip
    assert summary is not None
    count, _, rest = summary
    assert rest.size == 0  # evaluated in the summary, point by point
    r = lifetime_ratio(r1[0, 0, 1], tau1[0, 0, 1], g * g, t0, t1)[0, 0, 1]
    expected = np.count_nonzero(r >= 1.0)
    assert expected == 1
    assert count[0, 0, 1] == expected


@pytest.mark.parametrize("spread", [0.0, 1e-12])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_parabola_kernel_equals_numpy(monkeypatch, seed, spread) -> None:
    """below and above of rate_shift.parabola_sides, compiled and numpy, on points of every kind:
    vertex inside and outside, gamma 0 (no vertex), NaN and infinite terms, u spanning zero."""
    from zprime_atlas.constraints.rate_shift import parabola_sides

    rng = np.random.default_rng(seed)
    shape = (7, 5, 6, 1)
    beta = rng.normal(size=(7, 5, 1, 1)) * 10.0 ** rng.uniform(-3, 3, (7, 5, 1, 1))
    gamma = rng.normal(size=(7, 5, 1, 1)) * 10.0 ** rng.uniform(-3, 3, (7, 5, 1, 1))
    gamma[0, 0] = 0.0
    beta[1, 0] = np.nan
    gamma[1, 1] = np.inf
    a = rng.normal(size=(7, 1, 6, 1))
    a[2, 0, 0] = 0.0
    u_min = 10.0 ** rng.uniform(-4, 0, shape)
    u_max = u_min * 10.0 ** rng.uniform(0, 2, shape)
    u_max[3, 0, 0] = np.inf
    # s(p) = p^2 - p on p in [0.1, 0.9]: -0.09 at both ends, -0.25 at the vertex p = 0.5, below
    # d_lo = -0.2: the vertex alone decides that the point is not below
    beta[4, 0], gamma[4, 0], a[4, 0, 0] = -1.0, 1.0, 1.0
    u_min[4, 0, 0], u_max[4, 0, 0] = 0.1, 0.9
    d_lo, d_hi = -0.2, 0.5
    out = {}
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        out[kernels] = parabola_sides(beta, gamma, a, u_min, u_max, d_lo, d_hi, spread)
    for fast, slow in zip(out["numba"], out["numpy"], strict=True):
        assert fast.shape == slow.shape
        np.testing.assert_array_equal(fast, slow)
    below, above = out["numpy"]
    assert below.any()
    assert above.any()
    assert (~(below | above)).any()
    # the arrays of the CEvNS counts: thresholds per point
    d_lo_a = rng.uniform(-1, 0, shape)
    d_hi_a = rng.uniform(0, 1, shape)
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        out[kernels] = parabola_sides(beta, gamma, 1.0, u_min, u_max, d_lo_a, d_hi_a, spread)
    for fast, slow in zip(out["numba"], out["numpy"], strict=True):
        np.testing.assert_array_equal(fast, slow)


def test_the_point_marks_equal_numpy() -> None:
    """Counts, silence and marks of the undecided points: r exactly 1 and one rounding step
    below, NaN at every coupling, at some, infinite r; points gathered out of order."""
    rng = np.random.default_rng(3)
    n_points, n_g = 40, 9
    r = 10.0 ** rng.uniform(-2, 2, (n_points, n_g))
    r[0] = np.nan  # says nothing
    r[1, :4] = np.nan  # says something at the other couplings
    r[2, 3] = 1.0
    r[3, 3] = np.nextafter(1.0, 0.0)
    r[4, 5] = np.inf
    r[5] = 0.5  # below 1 at every coupling: counted 0, says something
    shape = (5, 4, 3)
    todo = np.sort(rng.choice(np.prod(shape), n_points, replace=False))
    rows = rng.permutation(200)[:n_points]
    count = np.full(shape, 7, dtype=np.uint8)
    low = np.full(shape, 3.0)
    hit = np.zeros(200 * n_g, dtype=bool)
    assert _kernels.point_marks(r, todo, rows, count, low, hit)
    # the numpy steps of engine._ClosedForms.points
    want_count, want_low = np.full(shape, 7, dtype=np.uint8), np.full(shape, 3.0)
    want_count.reshape(-1)[todo] = np.count_nonzero(r >= 1.0, axis=1)
    want_low.reshape(-1)[todo] = np.where(np.all(np.isnan(r), axis=1), np.nan, 0.0)
    want_hit = np.zeros_like(hit)
    row, col = np.nonzero(r >= 1.0)
    want_hit[rows[row] * n_g + col] = True
    np.testing.assert_array_equal(count, want_count)
    np.testing.assert_array_equal(low, want_low)
    np.testing.assert_array_equal(hit, want_hit)
    assert count.reshape(-1)[todo[2]] >= 1
    assert not hit[rows[3] * n_g + 3]
    # nothing excluded: no mark, and the kernel says so
    hit[:] = False
    assert not _kernels.point_marks(np.full((2, n_g), 0.5), todo[:2], rows[:2], count, low, hit)
    assert not hit.any()


def test_the_nsi_kernels_equal_numpy(monkeypatch) -> None:
    """The NSI chi^2 (best-fit scan and Delta chi^2 at couplings), compiled and numpy, on models
    with zero flavour differences or charge sums, at kappa = 0, at couplings so large that kappa
    overflows to infinity and the coordinates leave the table (clipped), and across the table."""
    from zprime_atlas.constraints.nsi import NSIOscillation, model_direction

    # (B, Le, Lmu, Ltau): Lmu-Ltau (no charge of matter), Le-Lmu, B-3Le, B-3Lmu, B-L,
    # Le-Ltau, and mixtures
    generators = np.array([
        (0, 0, 1, -1), (0, 1, -1, 0), (1, -3, 0, 0), (1, 0, -3, 0), (1, -1, -1, -1),
        (0, 1, 0, -1), (1, 0, -1.5, -1.5), (0, 2, -1, -1), (0.3, -0.7, 0.2, 0.2),
    ], dtype=float)  # fmt: skip
    x = Model.from_generators(*generators.T)
    c = NSIOscillation()
    d = model_direction(x, c.inputs.y_n_earth)
    dd = {k: np.broadcast_to(v, (len(generators),))[:, None] for k, v in d.items()}
    g = np.concatenate([[0.0], np.geomspace(1e-12, 1.0, 60), [1e150, 1e200]])[None, :]
    g = np.broadcast_to(g, (len(generators), g.shape[1]))
    m = np.geomspace(1e-6, 10.0, len(generators))[:, None]
    out = {}
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        k_best, chi_best = c._best_fit_of(d)
        with np.errstate(over="ignore", invalid="ignore"):  # kappa = inf at the largest g
            r = c._delta_fast(dd, chi_best[:, None], m, g, clip=True)
        out[kernels] = (k_best, chi_best, r)
    for fast, slow in zip(out["numba"], out["numpy"], strict=True):
        np.testing.assert_array_equal(fast, slow)
    r = out["numpy"][2]
    # Lmu-Ltau has no electron or baryon charge: no matter potential even where kappa is infinite
    # (the exact zeros); elsewhere kappa = inf leaves the table (clipped coordinates) and r = inf
    assert r[0, -1] == 0.0
    assert np.isinf(r[:, -1]).any()
    assert np.isfinite(r[:, 0]).all()
    assert (r[:, 0] >= 0).all()
    assert ((r > 0) & (r < 1)).any()
    assert (r >= 1).any()


def test_the_box_range_kernel_equals_numpy(monkeypatch) -> None:
    """SolarChi2.box_range compiled and in numpy where coordinates are NaN (one of a pair: fmin
    takes the other; both: undecided), infinite, at the table's edges, and boxes of every size
    up to and past the sparse tables' largest."""
    from zprime_atlas import constraints

    solar = constraints.get("nsi_oscillation").solar
    top = float(2 * solar.N_HALF)
    rng = np.random.default_rng(5)
    n = 4000
    u0 = rng.uniform(0, top, n)
    v0 = rng.uniform(0, top, n)
    u1 = np.clip(u0 + rng.uniform(-40, 40, n), 0, top)
    v1 = np.clip(v0 + rng.uniform(-40, 40, n), 0, top)
    u0[:5] = [np.nan, 0.0, top, np.inf, np.nan]
    u1[:5] = [3.0, 0.0, top, 2.0, np.nan]
    v1[5:8] = [np.nan, 0.0, top]
    out = {}
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        out[kernels] = solar.box_range((u0, u1), (v0, v1))
    for fast, slow in zip(out["numba"], out["numpy"], strict=True):
        np.testing.assert_array_equal(fast, slow)
    low = out["numpy"][0]
    assert np.isfinite(low[0])  # NaN with a finite partner: bounded
    assert np.isnan(low[3])
    assert np.isnan(low[4])
    assert np.isfinite(low).mean() > 0.2
    assert np.isnan(low[5:]).mean() > 0.2


def _boundary_couplings(ratio_at, index, n_points: int) -> np.ndarray:
    """Per point: 0 (no band), couplings across 1e-7..10, and, where r crosses 1 between two of
    them, the crossing to the last rounding step (g with r >= 1 on one side of it and < 1 one step
    away) and its neighbours: r exactly at its threshold, the adversarial case of the marks."""
    grid = np.geomspace(1e-7, 10.0, 60)
    with np.errstate(all="ignore"):
        r = ratio_at(index, np.broadcast_to(grid, (n_points, grid.size)))
    side = r >= 1.0
    change = side[:, 1:] != side[:, :-1]
    has = change.any(axis=1)
    first = np.argmax(change, axis=1)
    lo = grid[first].copy()
    hi = grid[first + 1].copy()
    s_lo = side[np.arange(n_points), first]
    # bisect on the floats' bit patterns (ordered like the positive floats): 64 steps to adjacency
    a, b = lo.view(np.int64).copy(), hi.view(np.int64).copy()
    for _ in range(64):
        mid = a + (b - a) // 2
        with np.errstate(all="ignore"):
            s_mid = ratio_at(index, mid.view(np.float64)[:, None])[:, 0] >= 1.0
        go_up = s_mid == s_lo
        a = np.where(go_up, mid, a)
        b = np.where(go_up, b, mid)
    cross = np.where(has, b.view(np.float64), 1e-3)
    below = np.nextafter(cross, 0.0)
    return np.stack([np.zeros(n_points), np.full(n_points, 1e-6), below, cross,
                     np.nextafter(cross, np.inf), np.full(n_points, 3e-2), np.full(n_points, 10.0),
                     np.full(n_points, 1e30)], axis=1)  # fmt: skip


@pytest.mark.parametrize("name", ["ccfr_trident", "charm2_trident", "coherent_csi_2017",
                                  "conusplus_2025", "borexino", "xenonnt_2024_b8", "pandax4t_2024_b8",
                                  "texono_2010_nue"])  # fmt: skip
def test_the_point_ratios_equal_numpy(name) -> None:
    """r inside the kernel (:func:`_kernels.point_ratio_marks`) gives the counts, silence and
    marks of ``ratio_at`` + the numpy steps at couplings one rounding step either side of r = 1,
    at g = 0, at couplings where r overflows, for models whose muon coupling the mixing cancels
    (Lmu-Ltau with eps/g = 1/e), without electron or quark charge, and with mixed charges."""
    from zprime_atlas import constraints
    from zprime_atlas.constants import E_CHARGE
    from zprime_atlas.constraints.base import _at_points  # noqa: F401 (the forms use it)
    from zprime_atlas.models import alpha_r

    c = constraints.get(name)
    alpha = np.linspace(-np.pi, np.pi, 16, endpoint=False)
    big_r = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 3.0])
    x = alpha_r(np.repeat(alpha, big_r.size)[:, None, None, None],
                np.tile(big_r, alpha.size)[:, None, None, None])  # fmt: skip
    lo, hi = c.mass_range
    m = np.geomspace(max(lo, 1e-3) * 1.01, min(hi, 5.0) * 0.99, 3)[None, :, None, None]
    k = np.array([0.0, 0.1, -0.05, 1.0 / E_CHARGE])[None, None, :, None]
    mix = Mixing.parse(0.0, k, None)
    shape = (x.charge("mu").shape[0], m.shape[1], k.shape[2])
    n_points = int(np.prod(shape))
    g2 = np.full((*shape, 1), 1e-12)
    form = c._point_form(m, g2, g2, x, mix)
    assert form is not None
    assert form.compiled is not None
    index = np.unravel_index(np.arange(n_points), shape)
    g = _boundary_couplings(form.ratio_at, index, n_points)
    n_g = g.shape[1]
    rows = np.random.default_rng(5).permutation(n_points)  # rows of g out of order
    g_rows = np.empty_like(g)
    g_rows[rows] = g
    todo = np.arange(n_points)
    with np.errstate(all="ignore"):
        r = form.ratio_at(index, g)
    want_count = np.count_nonzero(r >= 1.0, axis=1).astype(np.uint8).reshape(shape)
    want_low = np.where(np.all(np.isnan(r), axis=1), np.nan, 0.0).reshape(shape)
    want_hit = np.zeros(n_points * n_g, dtype=bool)
    row, col = np.nonzero(r >= 1.0)
    want_hit[rows[row] * n_g + col] = True
    count = np.full(shape, 99, dtype=np.uint8)
    low = np.full(shape, 3.0)
    hit = np.zeros(n_points * n_g, dtype=bool)
    cf = form.compiled
    r_kernel = np.full_like(r, -1.0)
    marked = _kernels.point_ratio_marks(cf.formula, cf.coefficients, cf.constants, shape, todo,
                                        rows, g_rows, count, low, hit, r_kernel)  # fmt: skip
    np.testing.assert_array_equal(r_kernel, r)  # r itself, bit for bit (NaN where NaN)
    assert marked == bool(want_hit.any())
    np.testing.assert_array_equal(count, want_count)
    np.testing.assert_array_equal(low, want_low)
    np.testing.assert_array_equal(hit, want_hit)
    # the couplings straddle r = 1 to the last rounding step at hundreds of points
    straddle = (r[:, 3] >= 1.0) != (r[:, 2] >= 1.0)
    assert straddle.sum() >= 300


def test_the_point_ratios_decline_what_they_cannot_compute() -> None:
    """A complex coefficient (a loop-induced mixing's phase) or a formula with other arguments:
    None, nothing written (the engine then takes ``ratio_at``)."""
    shape = (2, 1, 1)
    count = np.zeros(shape, dtype=np.uint8)
    low = np.zeros(shape)
    hit = np.zeros(2, dtype=bool)
    args = (shape, np.arange(2), np.arange(2), np.ones((2, 1)), count, low, hit)
    assert _kernels.point_ratio_marks("rate_shift", (1.0, 0.0, 1j, 1.0), (0.0, 1.0, 1.0),
                                      *args) is None  # fmt: skip
    assert _kernels.point_ratio_marks("rate_shift", (1.0, 0.0), (0.0, 1.0, 1.0), *args) is None
    assert _kernels.point_ratio_marks("nonsense", (), (), *args) is None
    assert not count.any()
    assert not hit.any()


def test_the_band_kernels_equal_numpy() -> None:
    """The couplings across each band and their squares: bands without a value (NaN), bands of
    zero width, at the edges of float range, two couplings; then g_eval (0 where no band), g^2
    and its range per point, as the engine's numpy steps compute them."""
    from zprime_atlas.result import band_couplings

    rng = np.random.default_rng(8)
    shape = (7, 3, 5)
    lo = 10.0 ** rng.uniform(-8, -1, shape)
    hi = lo * 10.0 ** rng.uniform(0, 2, shape)
    lo[0], hi[0] = np.nan, np.nan  # no band
    hi[1] = lo[1]  # zero width
    lo[2, 0], hi[2, 0] = 1e-300, 1e300
    lo[2, 1], hi[2, 1] = 5e-324, 1.0  # the smallest subnormal
    for n_g in (2, 9):
        want = band_couplings(lo, hi, n_g)
        got = _kernels.band_couplings(lo, hi, n_g)
        np.testing.assert_array_equal(got, want)
        has_g, g2, g2_min, g2_max, no_band = _kernels.band_points(got)  # got becomes g_eval
        np.testing.assert_array_equal(has_g, np.isfinite(want))
        g_eval = np.where(np.isfinite(want), want, 0.0)
        np.testing.assert_array_equal(got, g_eval)
        with np.errstate(over="ignore", under="ignore"):  # 1e300^2 = inf, (5e-324)^2 = 0
            square = g_eval * g_eval
        np.testing.assert_array_equal(g2, square)
        np.testing.assert_array_equal(g2_min, np.min(square, axis=-1, keepdims=True))
        np.testing.assert_array_equal(g2_max, np.max(square, axis=-1, keepdims=True))
        np.testing.assert_array_equal(no_band, ~np.isfinite(want[..., 0]))
        assert no_band[0].all()
        assert not no_band[1:].any()
    # explicit couplings with an infinite one: not finite, evaluated at 0
    g = np.array([[[[1e-3, np.inf, 2e-3]]]])
    has_g, g2, g2_min, g2_max, no_band = _kernels.band_points(g)
    np.testing.assert_array_equal(has_g, [[[[True, False, True]]]])
    np.testing.assert_array_equal(g, [[[[1e-3, 0.0, 2e-3]]]])
    assert g2_min[0, 0, 0, 0] == 0.0
    assert g2_max[0, 0, 0, 0] == 2e-3 * 2e-3
    assert not no_band[0, 0, 0]


def test_the_compact_summary_equals_numpy() -> None:
    """r at every coupling into a compact summary: counts, "says something" per (model, mass)
    and the largest r per coupling as np.fmax, engine._count_and_min and engine._fill give them,
    at r exactly 1 and one rounding step below, NaN at every coupling or some, infinite r, points
    without a band, a broadcast r (zero strides) and masses selected out of order."""
    rng = np.random.default_rng(12)
    n, n_m, n_k, n_g = 6, 5, 4, 9
    index = np.array([3, 0, 2])
    r = 10.0 ** rng.uniform(-2, 2, (n, index.size, n_k, n_g))
    r[0, 0] = np.nan  # says nothing at every mixing of (0, mass 3)
    r[1, 1, :2] = np.nan
    r[1, 1, 2, :5] = np.nan
    r[2, 0, 0, 3] = 1.0
    r[2, 0, 1, 3] = np.nextafter(1.0, 0.0)
    r[3, 2, 0, 0] = np.inf
    no_band = rng.random((n, n_m, n_k)) < 0.2
    no_band[4] = True  # a model without band at every point
    highest0 = np.where(rng.random((n, n_m, n_k, n_g)) < 0.5, -np.inf,
                        10.0 ** rng.uniform(-2, 2, (n, n_m, n_k, n_g)))  # fmt: skip
    for values in (r, np.broadcast_to(r[:, :, :1], r.shape)):
        highest = highest0.copy()
        count = np.full((n, n_m, n_k), 7, dtype=np.uint8)
        says = np.zeros((n, n_m), dtype=bool)
        says[:, 1] = True  # a mass outside the selection keeps its value
        _kernels.compact_summary(values, index, no_band, highest, count, says)
        want_highest = highest0.copy()
        want_highest[:, index] = np.fmax(want_highest[:, index], values)
        want_count = np.full((n, n_m, n_k), 7, dtype=np.uint8)
        want_says = np.zeros((n, n_m), dtype=bool)
        want_says[:, 1] = True
        engine._fill(want_count, want_says, index, no_band, *engine._count_and_min(values))
        np.testing.assert_array_equal(highest, want_highest)
        np.testing.assert_array_equal(count, want_count)
        np.testing.assert_array_equal(says, want_says)
    assert not says[4, index].any()  # no band: silent
    assert count[2, 3, 0] >= 1


def test_the_recast_signal_equals_numpy() -> None:
    """r = ((0 + w P) BR) / den, NaN where the reference has no limit, as
    RecastConstraint._prompt_signal_and_width computes it with numpy: a weight per mass or one
    number, P = -0.0 (0 + -0.0 = +0.0), 0, inf and NaN, BR 0 and NaN, den 0 (x / 0) and inf."""
    rng = np.random.default_rng(31)
    n, n_m, n_k = 6, 5, 7
    p = 10.0 ** rng.uniform(-8, 2, (n, n_m, n_k, 1))
    p[0, 0, :4, 0] = [-0.0, 0.0, np.inf, np.nan]
    br = rng.random((n, n_m, n_k, 1))
    br[1, 0, :2, 0] = [0.0, np.nan]
    den = 10.0 ** rng.uniform(-6, 6, (1, n_m, 1, 1))
    den[0, 1] = 0.0
    den[0, 2] = np.inf
    no_limit = np.zeros((1, n_m, 1, 1), dtype=bool)
    no_limit[0, 3] = True
    for w in (np.asarray(1.0), 10.0 ** rng.uniform(0, 3, (1, n_m, 1, 1))):
        got = _kernels.recast_signal(w, p, br, den, no_limit)
        with np.errstate(divide="ignore", invalid="ignore"):
            want = np.where(no_limit, np.nan, (np.zeros(()) + w * p) * br / den)
        assert got.shape == want.shape
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64))  # bit for bit, signs of 0
    assert np.signbit(want[0, 0, 0, 0]) == np.signbit(got[0, 0, 0, 0])
    assert np.isnan(got[:, 3]).all()


@pytest.mark.parametrize("name", ["e137_2012_dump", "na62_2023_dump_ee", "lhcb_2017_prompt",
                                  "babar_2017_invisible", "nucal_1990_dump"])
def test_the_recast_signal_kernel_gives_the_numpy_signal(monkeypatch, name) -> None:
    """Each recast's signal ratio at g = 1 on a survey-like chunk (models x masses x mixings),
    with the kernel (one channel) and on the numpy path (several channels: the numpy sum either
    way), bit for bit."""
    from zprime_atlas import constraints
    from zprime_atlas.models import enumerate_models

    c = constraints.get(name)
    x = enumerate_models(3)[:5].reshape(5, 1, 1, 1)
    lo, hi = c.mass_range
    m = np.geomspace(lo, hi, 30)[None, :, None, None]
    mix = Mixing("ratio", np.linspace(-0.3, 0.3, 9)[None, None, :, None], None)  # eps / g
    calls = []
    original = _kernels.recast_signal
    monkeypatch.setattr(_kernels, "recast_signal", lambda *a: calls.append(1) or original(*a))
    out = {}
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        ref = c._per_mass(c._reference, m)
        with np.errstate(all="ignore"):
            out[kernels] = c._prompt_signal_and_width(m, 1.0, x, mix, ref)
    for fast, slow in zip(out["numba"], out["numpy"], strict=True):
        np.testing.assert_array_equal(np.asarray(fast).view(np.uint64),
                                      np.asarray(slow).view(np.uint64))  # fmt: skip
    assert np.isfinite(out["numpy"][0]).mean() > 0.3
    assert len(calls) == (len(c._per_mass(c._reference, m)["weights"]) == 1)  # one channel: kernel


def test_the_neff_kernels_give_the_numpy_ratio(monkeypatch) -> None:
    """N_eff's r for widths nu g^2, em g^2 at H: compiled (exchange rate, numpy's log10, the
    table, the finish) and in numpy (NeffBBN._ratio_from), bit for bit, at g^2 = 0 (the rate
    clamped at 1e-300), inf (inf 0 = NaN: the dark branching ratio NaN) and NaN; equal widths
    (the bath a tie), one width 0, a total exactly at H, rates and masses beyond the table, and
    dark branching ratios on both sides of the maximum."""
    from zprime_atlas.constraints.neff import _DARK_BR_MAX, NeffBBN, _ratio_at_squares, _table

    rng = np.random.default_rng(41)
    _, masses, ks, _ = _table()
    n_p, n_g = 400, 9
    m = np.exp(rng.uniform(np.log(masses[0]) - 1, np.log(masses[-1]) + 1, (n_p, 1)))
    h = 10.0 ** rng.uniform(-25, -15, (n_p, 1))
    nu = h * 10.0 ** rng.uniform(-3, 3, (n_p, 1))
    em = h * 10.0 ** rng.uniform(-3, 3, (n_p, 1))
    nu[0], em[0] = em[0], em[0]  # a tie
    em[1] = 0.0
    nu[2] = 0.0
    dark = np.where(rng.random((n_p, 1)) < 0.2, 2 * _DARK_BR_MAX, 0.0)
    dark[3] = _DARK_BR_MAX
    dark[4] = 2 * _DARK_BR_MAX
    g2 = 10.0 ** rng.uniform(-4, 4, (n_p, n_g))
    g2[4, :3] = [0.0, np.inf, np.nan]
    g2[5, 0] = h[5, 0] / (nu[5, 0] + em[5, 0])  # total at H (to rounding)
    g2[6] = 10.0 ** (ks[-1] + 5) * h[6, 0] / np.minimum(nu[6, 0], em[6, 0])  # rate past the table
    calls = []
    original = _kernels.neff_ratio
    monkeypatch.setattr(_kernels, "neff_ratio", lambda *a: calls.append(1) or original(*a))
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", "numba")
    with np.errstate(invalid="ignore"):
        got = _ratio_at_squares(m, h, nu, em, dark, g2)
        want = NeffBBN._ratio_from(m, nu * g2, em * g2, dark + 0.0 * g2, h)
    assert calls  # the compiled path ran
    assert got.shape == want.shape
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
    vetoed = (dark > _DARK_BR_MAX)[:, 0]
    kept = ~vetoed
    vetoed[4] = False  # row 4 has the couplings inf and NaN: below
    assert np.isnan(got[vetoed]).all()  # an invisible branching ratio above the maximum
    assert np.isfinite(got[kept]).all()
    assert np.isnan(got[4, 0])  # g = 0 with that branching ratio: vetoed too
    assert np.isfinite(got[4, 1:3]).all()  # dark + 0 g^2 = NaN at g^2 = inf, NaN: not vetoed


def test_the_allowed_couplings_equal_numpy() -> None:
    """allowed = has_g & ~(fmax(highest, high g^2) >= 1), then the closed forms' marks, as the end
    of engine._evaluate computes it: the largest r exactly 1 and one rounding step below, NaN and
    -inf (no constraint spoke), high r1 NaN, infinite or 0 with g^2 = 0 (inf 0 = NaN) and g^2
    infinite, r1 g^2 one rounding step either side of 1, points without a band, whole points
    blocked and single couplings hit; each of high, blocked and hit also absent."""
    rng = np.random.default_rng(21)
    n, n_m, n_k, n_g = 5, 3, 4, 9
    shape = (n, n_m, n_k, n_g)
    highest = np.where(rng.random(shape) < 0.3, -np.inf, 10.0 ** rng.uniform(-1, 1, shape))
    highest[0, 0, 0, :4] = [1.0, np.nextafter(1.0, 0.0), np.nan, np.inf]
    g2 = 10.0 ** rng.uniform(-8, -4, shape)
    g2[1, 0, 0, :2] = [0.0, np.inf]
    high = 10.0 ** rng.uniform(2, 6, (n, n_m, n_k, 1))
    high[1, 0, 0, 0] = np.inf  # inf 0 = NaN at the first coupling, inf at the second
    high[1, 0, 1, 0] = np.nan
    high[1, 0, 2, 0] = 0.0
    high[2, 1, 0, 0] = 1.0 / g2[2, 1, 0, 3]  # r1 g^2 = 1 (to rounding) at coupling 3
    high[2, 1, 1, 0] = np.nextafter(1.0 / g2[2, 1, 1, 5], 0.0)
    high[2, 1, 2, 0] = np.nextafter(1.0 / g2[2, 1, 2, 5], np.inf)
    has_g = np.ones(shape, dtype=bool)
    has_g[3] = False  # no band
    has_g[4, 0, 0, 2] = False  # an explicit coupling that is not finite
    blocked = rng.random(shape[:3]) < 0.2
    hit = rng.random(np.prod(shape)) < 0.1
    for use_high in (True, False):
        for use_blocked in (True, False):
            for use_hit in (True, False):
                # the closed forms' marks: whole points blocked, single couplings hit
                unmarked = np.ones(shape, dtype=bool)
                if use_blocked:
                    unmarked &= ~blocked[..., None]
                if use_hit:
                    unmarked &= ~hit.reshape(shape)
                rest = (has_g, high if use_high else None, g2, blocked if use_blocked else None,
                        hit if use_hit else None)  # fmt: skip
                h = highest.copy()
                with np.errstate(invalid="ignore", over="ignore"):
                    if use_high:
                        np.fmax(h, high * g2, out=h)
                    want = has_g & ~(h >= 1.0) & unmarked
                    # no constraint evaluated at every coupling: highest is -inf, not passed
                    bare = has_g & ~((high * g2 >= 1.0) if use_high else False) & unmarked
                np.testing.assert_array_equal(_kernels.allowed_couplings(highest, *rest), want)
                np.testing.assert_array_equal(_kernels.allowed_couplings(None, *rest), bare)
                assert not np.array_equal(bare, want)  # highest did exclude couplings
    # the crafted couplings do what they say (with prompt searches, nothing else marked)
    got = _kernels.allowed_couplings(np.full(shape, -np.inf), has_g, high, g2, None, None)
    assert got[1, 0, 0, 0]  # r1 g^2 = inf 0 = NaN: allowed
    assert not got[1, 0, 0, 1]  # inf: excluded
    assert got[1, 0, 1].all()  # r1 NaN: nothing excluded
    assert got[1, 0, 2].all()  # r1 = 0 alike
    assert not got[3].any()  # no band


@pytest.mark.parametrize("name", ["lhcb_2017_displaced", "lhcb_2019_displaced"])
def test_the_rvalue_interpolation_equals_numpy(monkeypatch, name) -> None:
    """An r-value table's interpolation (the LHCb displaced searches) with the compiled eps cell
    and sum, and with numpy: eps at the table's nodes and one rounding step either side, below and
    above the table (clipped), NaN; masses at the nodes, between them and outside (NaN); the mass
    axis broadcast against the eps values as the recasts pass them."""
    from zprime_atlas import constraints

    table = constraints.get(name).data
    rng = np.random.default_rng(21)
    nodes = table.eps[:: max(1, table.eps.size // 40)]
    eps = np.concatenate([nodes, np.nextafter(nodes, 0.0), np.nextafter(nodes, np.inf),
                          10 ** rng.uniform(np.log10(table.eps[0]) - 1, np.log10(table.eps[-1]) + 1,
                                            200), [np.nan, 0.0, np.inf]])  # fmt: skip
    masses = np.concatenate([table.masses[::7], [table.masses[0] * 0.9, table.masses[-1] * 1.1],
                             rng.uniform(table.masses[0], table.masses[-1], 10)])  # fmt: skip
    m = masses[None, :, None, None]
    e = np.broadcast_to(eps[:, None, None, None], (eps.size, masses.size, 1, 1)).copy()
    e = e.reshape(eps.size, masses.size, 1, 1) * np.array([1.0, 1.0])[None, None, None, :]
    out = {}
    for kernels in ("numba", "numpy"):
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        with np.errstate(invalid="ignore"):
            out[kernels] = table.interpolate(m, e)
    np.testing.assert_array_equal(out["numba"], out["numpy"])
    inside = (masses >= table.masses[0]) & (masses <= table.masses[-1])
    assert np.isfinite(out["numba"][:-3][:, inside]).all()
    assert np.isnan(out["numba"][:, ~inside]).all()
    assert np.isnan(out["numba"][-3]).all()  # NaN eps


def test_the_rvalue_bilinear_kernel_on_an_uneven_grid() -> None:
    """The eps cell is guessed from an even spacing and walked to the nodes: on an uneven grid
    the cells, weights and sums are still np.searchsorted's and numpy's."""
    rng = np.random.default_rng(5)
    le = np.sort(rng.uniform(-12.0, -4.0, 50))
    lr = rng.normal(0.0, 2.0, (6, le.size))
    y = np.concatenate([le, np.nextafter(le, -np.inf), np.nextafter(le, np.inf),
                        rng.uniform(-13.0, -3.0, 300), [np.nan]])  # fmt: skip
    y = np.clip(y, le[0], le[-1])
    i = rng.integers(0, 5, y.size)
    u = rng.uniform(0.0, 1.0, y.size)
    got = _kernels.rvalue_bilinear(i, u, y, le, lr, y.shape)
    j = np.clip(np.searchsorted(le, y, side="right") - 1, 0, le.size - 2)
    with np.errstate(invalid="ignore"):
        v = np.clip((y - le[j]) / (le[j + 1] - le[j]), 0.0, 1.0)
    want = ((1 - u) * (1 - v) * lr[i, j] + u * (1 - v) * lr[i + 1, j]
            + (1 - u) * v * lr[i, j + 1] + u * v * lr[i + 1, j + 1])  # fmt: skip
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[-1])
