"""The block-wise NSI evaluation (``NSIOscillation._ratio``) against the reference formula.

The fast path runs the same floating-point operations in the same order as the reference
(``_chi2_along`` on whole arrays), only in reused buffers and in blocks: the numbers must be equal
bit for bit, not merely close.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from zprime_atlas.constants import Y_N_EARTH
from zprime_atlas.constraints import nsi as nsi_module
from zprime_atlas.constraints.nsi import NSIOscillation, model_direction
from zprime_atlas.couplings import Mixing
from zprime_atlas.models import Model, alpha_r, model

NO_MIX = Mixing.parse(0.0)
MASSES = np.array([1e-6, 1e-3, 0.05, 0.2, 3.0, 1e3])


def _batch(seed: int = 0) -> Model:
    """Random anomaly-free-looking charges plus the special cases, as an (N, 1, 1, 1) batch."""
    rng = np.random.default_rng(seed)
    n = 40
    charges = rng.choice([-1.0, 1.0], (4, n)) * 10 ** rng.uniform(-3, 0.5, (4, n))
    charges[:, rng.random(n) < 0.2] = 0.0  # some charges exactly zero
    special = [
        (0.0, 0.0, 1.0, -1.0),  # L_mu - L_tau: no matter charge
        (1.0, -1.0, -1.0, -1.0),  # B - L: no flavour difference
        (0.0, 0.0, 0.0, 0.0),  # nothing at all
        (1.0, -(1 + Y_N_EARTH), 2.0, Y_N_EARTH - 2.0),  # Earth matter charge cancels exactly
        (1.0, 0.0, -3.0, 0.0),  # B - 3 L_mu
        (1.0, -3.0, 0.0, 0.0),  # B - 3 L_e
        (0.0, 1.0, -1.0, 0.0),  # L_e - L_mu
        (-2.0, 1.0, 5.0, 0.0),  # x_e / x_B ~ -2: the Earth charge nearly cancels
    ]
    gens = np.concatenate([charges, np.array(special).T], axis=1)
    return Model.from_generators(*(g[:, None, None, None] for g in gens))


def _couplings(n: int, seed: int = 1) -> np.ndarray:
    """(n, M, 5, 7) couplings 1e-7..1e1 with zeros (no band) and overflowing ones (g^2 = inf)."""
    rng = np.random.default_rng(seed)
    g = 10 ** rng.uniform(-7, 1, (n, len(MASSES), 5, 7))
    g[rng.random(g.shape) < 0.05] = 0.0
    g[rng.random(g.shape) < 0.02] = 1e200
    return g


def _compare(c: NSIOscillation, m: np.ndarray, g: np.ndarray, x: Model) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # g^2 overflowing to inf, in both
        fast = c._ratio(m, g, x, NO_MIX)
        ref = c._ratio_reference(m, g, x, NO_MIX)
    assert fast.shape == ref.shape
    assert fast.dtype == np.float64
    np.testing.assert_array_equal(fast, ref)  # bit for bit (NaN in the same places)
    np.testing.assert_array_equal(fast >= 1.0, ref >= 1.0)
    return fast


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"reference": "sm"}, {"solutions": "LMA"}, {"scale": 0.3}, {"scale": 7.0},
     {"reference": "sm", "solutions": "LMA", "scale": 2.0}],
)  # fmt: skip
def test_fast_ratio_equals_the_reference_bit_for_bit(kwargs) -> None:
    c = NSIOscillation(**kwargs)
    x = _batch()
    r = _compare(c, MASSES[None, :, None, None], _couplings(x.shape[0]), x)
    # the comparison covers both sides of the decision, zero NSI and overflowing couplings
    assert np.any(r >= 1.0)
    assert np.any((r > 0) & (r < 1.0))
    assert np.any(r == 0.0)
    assert np.isinf(r).any()  # g = 1e200: kappa = inf


def test_fast_ratio_at_zero_charge_and_overflow_is_zero_not_nan() -> None:
    c = NSIOscillation()
    x = _batch()
    g = _couplings(x.shape[0])
    r = _compare(c, MASSES[None, :, None, None], g, x)
    assert not np.isnan(r).any()
    for row in (-8, -7, -6):  # L_mu - L_tau, B - L, no charges: no NSI at any coupling
        assert np.all(r[row] == 0.0)


def test_fast_ratio_on_the_engine_chunk_shape_and_in_many_blocks(monkeypatch) -> None:
    # alpha-R models as the engine passes them, (N, 1, 1, 1) with (N, 1, K, G) couplings; blocks of
    # a few rows (one and a half models, a remainder) and blocks smaller than one row
    alpha = np.linspace(-np.pi, np.pi, 12, endpoint=False)[:, None]
    fam = alpha_r(alpha, np.linspace(-3, 3, 7)[None, :])
    gens = {k: np.broadcast_to(fam.charge(f), fam.shape).ravel()[:, None, None, None]
            for k, f in (("B", "u"), ("Le", "e"), ("Lmu", "mu"), ("Ltau", "tau"))}  # fmt: skip
    x = Model.from_generators(3 * gens["B"], gens["Le"], gens["Lmu"], gens["Ltau"])
    rng = np.random.default_rng(3)
    g = 10 ** rng.uniform(-4, -3, (x.shape[0], 1, 16, 1)) * np.geomspace(1, 10, 9)
    g[:, :, :3] = 0.0
    m = np.array([0.2])[None, :, None, None]
    c = NSIOscillation()
    base = c._ratio(m, g, x, NO_MIX)
    for block in (1, 100, 16 * 9 * 3 + 5, 1 << 15):
        monkeypatch.setattr(nsi_module, "_BLOCK", block)
        np.testing.assert_array_equal(c._ratio(m, g, x, NO_MIX), base)
        _compare(c, m, g, x)


def test_fast_ratio_broadcasts_like_the_reference() -> None:
    c = NSIOscillation()
    x = model("B-3Lmu")
    gs = np.geomspace(1e-5, 1e-2, 7)
    cases = [(0.2, 1e-4), (np.array([0.01, 0.2]), 3e-4), (0.1, gs), (np.array([[0.01], [0.2]]), gs),
             (np.ones((0, 3)), 1e-3)]  # fmt: skip
    for m, g in cases:
        _compare(c, np.asarray(m, float), np.asarray(g, float), x)
    assert np.shape(c.ratio(0.2, 1e-3, x)) == ()
    xs = Model.from_generators(
        B=np.array([1.0, 0.0]), Le=np.array([-3.0, 1.0]), Lmu=np.array([0.0, -1.0])
    )
    _compare(c, np.array([[0.01, 0.2, 1.0]]).T, np.array([1e-4, 1e-3]), xs)  # model on the last axis


def test_fast_chi2_along_and_best_fit_equal_the_reference() -> None:
    c = NSIOscillation()
    x = _batch(5)
    d = model_direction(x, c.inputs.y_n_earth)
    kappa = np.concatenate([[0.0, np.inf], np.geomspace(1e-6, 1e8, 60)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fast = c._chi2_along_fast(d, kappa)
        ref = c._chi2_along(d, kappa)
    np.testing.assert_array_equal(fast, ref)
    for a, b in zip(c._best_fit_of(d), c._best_fit_of(d, fast=False), strict=True):
        np.testing.assert_array_equal(a, b)
    k_best, chi_best = c.best_fit(x)
    assert np.all(chi_best <= 0.0)
    assert np.all(k_best >= 0.0)
    # the fast and reference Delta chi^2 closures (delta_chi2, _intervals use the fast one)
    m, g = np.array([0.01, 0.3])[None, :, None, None], np.geomspace(1e-5, 1e-1, 11)
    np.testing.assert_array_equal(c._delta_chi2_of(x)(m, g), c._delta_chi2_of(x, fast=False)(m, g))


def test_solar_lookup_into_equals_the_table_call() -> None:
    solar = NSIOscillation().solar
    rng = np.random.default_rng(11)
    w0 = rng.choice([-1, 1], 5000) * 10 ** rng.uniform(-9, 4, 5000)
    w1 = rng.choice([-1, 1], 5000) * 10 ** rng.uniform(-9, 4, 5000)
    w0[:50], w1[50:100] = 0.0, np.inf  # the grid's centre and beyond its edge
    work = nsi_module._Work(w0.size)
    out = np.empty(w0.size)
    solar._lookup_into(w0.copy(), w1.copy(), out, work)
    np.testing.assert_array_equal(out, solar(w0, w1))


def test_solar_tables_are_shared_by_content_and_bounded(monkeypatch) -> None:
    """A worker process unpickles a new copy of the inputs with every task: equal inputs must share
    one solar table (not build one each, ~25 MB with its range tables), and the identity-keyed
    entries stay bounded (a loky worker once grew until joblib reported a memory leak)."""
    import pickle

    from zprime_atlas.constraints import nsi

    inputs = nsi.load_inputs()
    first = nsi._solar_table(inputs, "both")
    for _ in range(3 * nsi._TABLES_KEPT):
        copy = pickle.loads(pickle.dumps(inputs))
        assert nsi._solar_table(copy, "both") is first
    assert len(nsi._TABLES) <= nsi._TABLES_KEPT
    # other content, another table; and distinct contents stay bounded too
    other = dataclasses.replace(inputs, dm21_ev2=inputs.dm21_ev2 * 1.01)
    assert nsi.SolarChi2.fingerprint(other, "LMA") != nsi.SolarChi2.fingerprint(inputs, "LMA")
    monkeypatch.setattr(nsi, "_CONTENTS_KEPT", 1)  # each new table is tabulated (seconds)
    for k in range(nsi._CONTENTS_KEPT + 2):
        edited = dataclasses.replace(inputs, tan2_theta12=inputs.tan2_theta12 * (1.0 + 1e-3 * (k + 1)))
        nsi._solar_table(edited, "LMA")
    assert len(nsi._TABLES_BY_CONTENT) <= nsi._CONTENTS_KEPT


def test_the_best_fit_does_not_depend_on_the_batch() -> None:
    """The refinement around the grid minimum once clipped with len(kappa), the batch size instead of
    the 402 grid points: a batch of fewer than ~400 models (one model for a limit curve, four per
    survey chunk) got an unrefined, slightly higher best fit than the same model in a large batch."""
    c = NSIOscillation()
    models = alpha_r(np.linspace(-np.pi, np.pi, 30, endpoint=False)[:, None],
                     np.linspace(-3, 3, 15)[None, :]).reshape(450)  # fmt: skip
    from zprime_atlas.constants import FERMIONS

    x = Model({f: np.asarray(models.charge(f))[:, None, None, None] for f in FERMIONS})
    d = model_direction(x)
    full = c._best_fit_of(d)[1]
    for rows in ([72], [3, 4, 5, 6], list(range(0, 450, 3))):
        sub = c._best_fit_of({k: np.broadcast_to(v, (450, 1, 1, 1))[rows] for k, v in d.items()})[1]
        np.testing.assert_array_equal(sub, full[rows])


def test_the_pruned_best_fit_grid_keeps_the_minimum_and_its_neighbours() -> None:
    """The best fit skips the grid columns where chi^2 >= floor + C kappa^2 exceeds chi^2(0)
    (:meth:`NSIOscillation._grid_chi2`): on 450 alpha-R models and the special cases (no flavour
    difference: C = 0, every column kept; no matter charge; nothing at all) the grid minimum, its
    index and the refinement's neighbours are the full grid's, and a large share is skipped."""
    from zprime_atlas.constants import FERMIONS

    c = NSIOscillation()
    family = alpha_r(np.linspace(-np.pi, np.pi, 30, endpoint=False)[:, None],
                     np.linspace(-3, 3, 15)[None, :]).reshape(450)  # fmt: skip
    special = _batch(2)
    charges = {f: np.concatenate([np.asarray(family.charge(f)),
                                  np.asarray(special.charge(f))[:, 0, 0, 0]])
               for f in FERMIONS}  # fmt: skip
    x = Model({f: v[:, None, None, None] for f, v in charges.items()})
    d = model_direction(x, c.inputs.y_n_earth)
    n = next(iter(charges.values())).size
    d = {k: np.broadcast_to(v, (n, 1, 1, 1)).reshape(-1, 1) for k, v in d.items()}
    size = np.maximum.reduce([np.abs(d[f] * d[q]) for f in ("a", "b") for q in ("q0", "qn", "q_earth")])
    size = np.where(size > 0, size, 1.0)
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 1e4, 401)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        full = c._chi2_along_fast(d, grid / size)
        pruned = c._grid_chi2(d, grid, size)
    i = np.argmin(full, axis=1)
    np.testing.assert_array_equal(np.argmin(pruned, axis=1), i)
    j = np.clip(i, 2, grid.size - 2)
    for o in (-1, 0, 1):
        np.testing.assert_array_equal(np.take_along_axis(pruned, (j + o)[:, None], 1),
                                      np.take_along_axis(full, (j + o)[:, None], 1))  # fmt: skip
    kept = np.isfinite(pruned)
    np.testing.assert_array_equal(pruned[kept], full[kept])  # kept columns: the same numbers
    assert np.all(full[~kept] > full[:, :1].repeat(grid.size, 1)[~kept])  # skipped: above chi^2(0)
    assert kept.mean() < 0.7  # the test is not of an empty cut
    assert kept[450:].any(axis=1).all()
    for a, b in zip(c._best_fit_of(d), c._best_fit_of(d, fast=False), strict=True):
        np.testing.assert_array_equal(a, b)
