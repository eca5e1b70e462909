"""The engine's fast paths give the reference arithmetic's numbers bit for bit (issue 18, item 6).

Each fast path is compared with the straightforward formula it replaces, on inputs that exercise
every branch (all points dead, all alive, mixed; NaN, infinite and zero values).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from zprime_atlas import _memory, catalogue, constraints, engine
from zprime_atlas.constants import E_CHARGE
from zprime_atlas.constraints.recast.darkcast import (
    _EXP_UNDERFLOW,
    _min_over,
    _times_acceptance,
    acceptance,
)
from zprime_atlas.models import alpha_r, model


def _reference(r, tau1, g2, t0, t1):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return r * acceptance(tau1 / g2, t0, t1)


def _same(a, b) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_times_acceptance_is_the_reference_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, k, g = 7, 5, 4, 9
    g2 = np.sort(10.0 ** rng.uniform(-12, 0, (n, m, k, g)), axis=-1)
    tau1 = 10.0 ** rng.uniform(-30, -5, (n, m, k, 1))
    # even seeds: the window varies along the masses only (the scan's layout, sliced along it);
    # odd seeds: along two axes (the general path)
    t0 = 10.0 ** rng.uniform(-12, -6, (1 + (n - 1) * (seed % 2), m, 1, 1))
    t1 = t0 * rng.uniform(1.5, 30.0, (1, m, 1, 1))
    r1 = 10.0 ** rng.uniform(-3, 12, (n, m, k, 1))
    # special values: no statement, an infinite prompt ratio, no width (infinite lifetime), g = 0
    r1[0, 0, 0, 0] = np.nan
    r1[1, 1, 1, 0] = np.inf
    tau1[2, 2, 2, 0] = np.inf
    g2[3, 3, 3, :2] = 0.0
    t1[0, 4, 0, 0] = np.inf
    r = r1 * g2
    assert _same(_times_acceptance(r, tau1, g2, t0, t1), _reference(r, tau1, g2, t0, t1))


def test_times_acceptance_all_dead_all_alive_and_nan_windows() -> None:
    g2 = np.geomspace(1e-8, 1e-4, 9)[None, :]
    tau1 = np.array([[1e-30], [1e-31]])
    t0, t1 = np.array([[1e-9]]), np.array([[3e-9]])
    r = np.array([[5.0], [np.nan]]) * g2
    dead = _times_acceptance(r, tau1, g2, t0, t1)
    assert _same(dead, _reference(r, tau1, g2, t0, t1))
    assert dead[0].tolist() == [0.0] * 9
    assert np.isnan(dead[1]).all()
    alive = np.array([[1e-3], [1e-2]])
    assert _same(_times_acceptance(r, alive, g2, t0, t1), _reference(r, alive, g2, t0, t1))
    # a NaN window edge is never "dead": the full formula decides (NaN)
    nan_t1 = np.array([[np.nan]])
    assert _same(_times_acceptance(r, tau1, g2, t0, nan_t1), _reference(r, tau1, g2, t0, nan_t1))


def test_the_underflow_threshold_is_exact() -> None:
    assert math.exp(-_EXP_UNDERFLOW) == 0.0
    assert np.exp(-np.nextafter(_EXP_UNDERFLOW, 0.0)) == 0.0  # already zero just below it


def test_min_over_short_and_long_axes() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 3, 9))
    a[1, 2, 4] = np.nan
    for axes in [(2,), (1, 2), (0,), ()]:
        want = a.min(axis=axes, keepdims=True) if axes else a
        assert _same(_min_over(a, axes), want)
    long = rng.normal(size=(2, 100))
    assert _same(_min_over(long, (1,)), long.min(axis=1, keepdims=True))


def test_solar_table_lookup_is_the_bilinear_formula() -> None:
    solar = constraints.get("nsi_oscillation").solar
    rng = np.random.default_rng(5)
    w0 = rng.normal(size=2000) * 10.0 ** rng.uniform(-6, 3, 2000)
    w1 = rng.normal(size=2000) * 10.0 ** rng.uniform(-6, 3, 2000)
    ln10 = math.log(10.0)
    step = solar.s_grid[1] - solar.s_grid[0]
    u = np.clip((np.arcsinh(w0 / solar.W_SCALE) / ln10 + solar.S_MAX) / step, 0.0, 2 * solar.N_HALF)
    v = np.clip((np.arcsinh(w1 / solar.W_SCALE) / ln10 + solar.S_MAX) / step, 0.0, 2 * solar.N_HALF)
    i = np.minimum(u.astype(int), 2 * solar.N_HALF - 1)
    j = np.minimum(v.astype(int), 2 * solar.N_HALF - 1)
    fu, fv, t = u - i, v - j, solar.table
    want = ((1 - fu) * (1 - fv) * t[i, j] + fu * (1 - fv) * t[i + 1, j]
            + (1 - fu) * fv * t[i, j + 1] + fu * fv * t[i + 1, j + 1])  # fmt: skip
    assert _same(solar(w0, w1), want)


def test_scan_equals_each_constraints_public_ratio() -> None:
    """The engine calls the physics hooks directly (no second validation, no range mask): its r
    is the public ``ratio`` at every point of a ratio-storing scan, across masses where beam dumps
    are dead, alive and mixed."""
    fam = alpha_r(np.linspace(-1.5, 1.5, 5)[:, None], np.linspace(-2.0, 2.0, 3)[None, :])
    masses = np.array([0.0015, 0.004, 0.03, 0.2, 0.45])
    xi = np.array([-0.3, 0.0, 0.05])
    names = [n for n in catalogue.default_names() if n.endswith("_dump")] + [
        "nsi_oscillation", "babar_2014_visible", "ccfr_trident"]  # fmt: skip
    res = engine.scan(fam, masses, xi=xi, constraints=names, store="ratio", progress=False)
    flat = res.models
    g = engine.band_couplings(res.g_low, res.g_high, res.shape[3])
    x_e = np.asarray(flat.charge("e"), dtype=float).reshape(-1)[:, None, None, None]
    eps_over_g = (x_e - xi[None, None, :, None]) / E_CHARGE
    for name in names:
        c = constraints.get(name)
        direct = c.ratio(masses[None, :, None, None], np.where(np.isfinite(g), g, 0.0),
                         _chunk(flat), eps_over_g=eps_over_g)  # fmt: skip
        direct = np.where(np.isfinite(g), np.broadcast_to(direct, g.shape), np.nan)
        with np.errstate(over="ignore"):
            assert _same(res.ratio(name), direct.astype(np.float32)), name


def _chunk(flat):
    from zprime_atlas.constants import FERMIONS
    from zprime_atlas.models import Model

    return Model({f: np.asarray(flat.charge(f), dtype=float).reshape(-1)[:, None, None, None]
                  for f in FERMIONS})  # fmt: skip


def test_keep_freed_memory_nests_and_restores() -> None:
    before = _memory._DEPTH
    with _memory.keep_freed_memory():
        with _memory.keep_freed_memory():
            assert before + 2 == _memory._DEPTH
            a = np.ones(4_000_000)
            del a
        assert before + 1 == _memory._DEPTH
    assert before == _memory._DEPTH
    # a scan inside leaves it as it was, also when it fails
    with pytest.raises(ValueError, match="mass"):
        engine.scan(model("B-L"), [-1.0], progress=False)
    assert before == _memory._DEPTH


def test_a_survey_in_memory_is_the_survey_read_back_from_its_file(tmp_path) -> None:
    """Surveys keep, in memory as in their file, per constraint whether it says nothing at a
    (model, mass) instead of the smallest r per (model, mass, mix): same numbers either way."""
    masses = np.geomspace(2e-3, 0.5, 6)
    mem = engine.survey(max_charge=2, masses=masses, progress=False)
    disk = engine.survey(max_charge=2, masses=masses, progress=False, out=tmp_path / "s.h5")
    for name in mem.constraint_names:
        assert set(mem.results[name]) == {"excluded_count", "silent"}
        assert _same(mem.results[name]["excluded_count"], disk.results[name]["excluded_count"])
        assert _same(mem.results[name]["silent"].astype(bool), disk.results[name]["silent"].astype(bool))
    assert _same(mem.allowed, disk.allowed)
    # (the file keeps band edges to 16 mantissa bits, so the g_X ranges differ in the 5th digit)
    def key(v: dict) -> tuple:
        return v["label"], v["masses"], v["xi"]

    assert [key(v) for v in mem.viable_models()] == [key(v) for v in disk.viable_models()]


def test_a_summary_auto_chose_for_size_is_compact_and_an_asked_one_keeps_min_ratio(monkeypatch) -> None:
    fam = alpha_r(np.linspace(-1.5, 1.5, 4)[:, None], np.linspace(-2.0, 2.0, 3)[None, :])
    kw = {"xi": np.array([-0.2, 0.0, 0.3]), "constraints": ["babar_2014_visible", "nsi_oscillation"],
          "progress": False}  # fmt: skip
    monkeypatch.setattr(engine, "_AUTO_RATIO_LIMIT", 10)  # this small scan counts as big
    auto = engine.scan(fam, [0.02, 0.2], **kw)
    asked = engine.scan(fam, [0.02, 0.2], store="summary", **kw)
    for name in kw["constraints"]:
        assert set(auto.results[name]) == {"excluded_count", "silent"}
        assert set(asked.results[name]) == {"excluded_count", "min_ratio"}
        assert _same(auto.results[name]["excluded_count"], asked.results[name]["excluded_count"])
        silent = np.all(np.isnan(asked.results[name]["min_ratio"]), axis=-1)
        assert _same(auto.results[name]["silent"].astype(bool), silent)
    assert _same(auto.allowed, asked.allowed)


def test_chunks_sent_to_workers_give_the_same_numbers() -> None:
    """A chunk evaluated from a pickled specification (what a loky or dask worker receives) equals
    the chunk evaluated in place. The recasts' per-chunk cache is keyed by object identities; it
    once returned the widths of a freed mass array whose id a new one took (a shape error in the
    default parallel survey, or, had the shapes agreed, wrong numbers). The constraints travel as
    the engine ships them (:class:`engine._Shipped`): unpickled once, the same objects for every
    later chunk, their caches kept from chunk to chunk."""
    import pickle
    from dataclasses import replace

    from zprime_atlas.models import enumerate_models

    plan = engine.plan_scan(enumerate_models(10), np.geomspace(1e-3, 1, 200), xi=engine.default_xi(),
                            gm2="2021", kind="survey", store="summary",
                            constraints=catalogue.default_names())  # fmt: skip
    shipped = replace(plan.spec, constraints=engine._Shipped(plan.spec.constraints))
    received = []
    for start, stop in plan.bounds[:4]:
        sent = pickle.loads(pickle.dumps(engine._sliced(shipped, start, stop)))
        received.append(sent.constraints)
        assert sent.constraints[0] is not plan.spec.constraints[0]  # a copy, as in a worker
        assert sent.constraints is received[0]  # unpickled once
        _, _, remote = engine._evaluate_chunk(sent, 0, stop - start)
        _, _, local = engine._evaluate_chunk(plan.spec, start, stop)
        assert remote.keys() == local.keys()
        for key in local:
            assert _same(np.asarray(remote[key]), np.asarray(local[key])), key


def test_constraints_default_is_the_cli_set() -> None:
    plan = engine.plan_scan(model("B-L"), [0.1], constraints="default")
    assert [c.name for c in plan.spec.constraints] == catalogue.default_names()
    assert "xenonnt_2026_b8" not in catalogue.default_names()
    everything = engine.plan_scan(model("B-L"), [0.1], constraints="all")
    assert {"xenonnt_2026_b8", "coherent_lar_2020"} <= {c.name for c in everything.spec.constraints}


@pytest.mark.parametrize("contiguous", [True, False])
def test_recasts_at_a_declared_mass_selection_equal_a_direct_evaluation(contiguous: bool) -> None:
    """Inside the engine's shared evaluation a mass selection takes couplings, widths, production
    factors, branching ratios and total widths from the whole mass axis, selected: r (and the
    closed form's r1) at the selection is the direct evaluation's, bit for bit, for prompt,
    window, displaced, invisible and r-value searches, a contiguous selection (a view) or not."""
    from zprime_atlas.constraints.recast import shared_evaluation
    from zprime_atlas.constraints.recast.darkcast import share_masses
    from zprime_atlas.couplings import Mixing

    rng = np.random.default_rng(3)
    x = _chunk(alpha_r(rng.uniform(-3, 3, 4), rng.uniform(-2, 2, 4)))
    m = np.geomspace(1e-3, 3.0, 40)[None, :, None, None]
    where = slice(5, 31) if contiguous else np.array([1, 4, 9, 20, 21, 33, 39])
    mix = Mixing.parse(0.0, (x.charge("e") - np.array([-0.4, 0.0, 0.3])[None, None, :, None])
                       / E_CHARGE, None)  # fmt: skip
    g = np.geomspace(1e-4, 1e-2, 5)[None, None, None, :]
    names = ["babar_2014_visible", "kloe_2015_visible", "kloe_2016_pipi", "nucal_2019_dump",
             "na64_2019_invisible", "lhcb_2019_displaced", "lhcb_2017_prompt"]  # fmt: skip
    direct = {n: constraints.get(n)._ratio(m[:, where], g, x, mix) for n in names}
    with shared_evaluation():
        m_where = m[:, where]
        share_masses(m_where, m, where)
        constraints.get("ccfr_trident")._ratio(m, g, x, mix)  # something else first
        for n in names:
            c = constraints.get(n)
            assert _same(np.asarray(c._ratio(m_where, g, x, mix)), direct[n]), n
            form = c._g2_form(m_where, g[..., :1] ** 2, g[..., -1:] ** 2, x, mix)
            if form is not None:
                plain = c._g2_form.__func__(c, m[:, where], g[..., :1] ** 2, g[..., -1:] ** 2, x,
                                            mix)  # fmt: skip
                assert _same(np.broadcast_to(form.r1, plain.r1.shape), plain.r1), n


@pytest.mark.parametrize(("shape", "dtype"), [((3, 5), np.uint8), ((700, 50, 128), np.uint8),
                                              ((40, 30, 64, 9), bool), ((600, 9000), np.float32)])
def test_large_zeros_are_writable_zeros_of_the_shape_and_type(shape, dtype) -> None:
    """The engine's result arrays (2 MiB pages where the system gives them) are np.zeros."""
    a = _memory.large_zeros(shape, dtype)
    assert a.shape == shape
    assert a.dtype == np.dtype(dtype)
    assert a.flags.writeable
    assert a.flags.c_contiguous
    assert not a.any()
    a[-1] = 1
    assert a.reshape(-1)[-1] == 1
    assert np.count_nonzero(a) == math.prod(shape[1:])


def _resident(a: np.ndarray) -> np.ndarray | None:
    """Per page of ``a``'s mapping: whether it is in memory (mincore(2)); None off Linux/glibc."""
    import ctypes

    libc = _memory._glibc()
    if libc is None:
        return None
    page = _memory.mmap.PAGESIZE
    start = a.ctypes.data - a.ctypes.data % page
    length = a.ctypes.data + a.nbytes - start
    vec = (ctypes.c_ubyte * ((length + page - 1) // page))()
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(length), vec) != 0:
        return None
    return np.frombuffer(vec, dtype=np.uint8) & 1 == 1


def test_prefault_faults_pages_in_and_leaves_the_contents() -> None:
    """Prefault.ahead maps the asked rows of a large_zeros array (where the kernel supports
    MADV_POPULATE_WRITE) and changes no value: written rows keep theirs, the others stay 0."""
    a = _memory.large_zeros((2000, 50, 128), np.uint8)
    assert _memory._is_mapped(a)
    assert not _memory._is_mapped(np.zeros((700, 50, 128), np.uint8))
    a[:10] = 7
    before = _resident(a)
    prefault = _memory.Prefault()
    prefault.ahead([a], 10, 400)
    prefault.stop()
    if prefault.thread is not None:
        prefault.thread.join(timeout=60)
    after = _resident(a)  # before reading a: a read maps pages too
    if before is not None and after is not None and not prefault._refused:
        pages = after.size
        rows = slice(11 * pages // 2000, 399 * pages // 2000)  # pages wholly inside rows 10-400
        assert not before[rows].any()  # fresh: not yet mapped (the test would be vacuous)
        assert after[rows].all()
        assert not after[-pages // 10 :].any()  # rows never asked for (2 MiB pages away) stay out
    assert not a[10:].any()
    assert (a[:10] == 7).all()


def test_a_scan_faulting_its_results_in_ahead_equals_one_without(monkeypatch) -> None:
    """One job, several chunks in memory: the result arrays' next rows are faulted in on a second
    thread (engine._run, _memory.Prefault); every output is the same without it."""
    fam = alpha_r(np.linspace(-np.pi, np.pi, 24, endpoint=False)[:, None],
                  np.linspace(-3, 3, 24)[None, :])  # fmt: skip
    kw = {"xi": engine.default_xi()[::8], "constraints": catalogue.default_names(),
          "progress": False, "chunk_size": 60, "store": "summary"}
    asked = []
    real = _memory.Prefault.ahead

    def ahead(self, arrays, start, stop):
        asked.append((start, stop))
        real(self, arrays, start, stop)

    monkeypatch.setattr(_memory.Prefault, "ahead", ahead)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)  # a core to spare, as on CI
    with_prefault = engine.scan(fam, [0.02, 0.2], **kw)
    assert asked[:2] == [(60, 120), (120, 180)]  # the next chunk's rows, chunk by chunk
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 1)  # no core to spare: none
    asked.clear()
    without = engine.scan(fam, [0.02, 0.2], **kw)
    assert asked == []
    np.testing.assert_array_equal(with_prefault.allowed, without.allowed)
    np.testing.assert_array_equal(with_prefault.g_low, without.g_low)
    for name, arrays in without.results.items():
        for key, value in arrays.items():
            np.testing.assert_array_equal(with_prefault.results[name][key], value, err_msg=name)


def test_a_partial_scan_in_memory_has_no_band_in_the_rows_not_computed() -> None:
    """execute(max_chunks=...) without a file returns the chunks computed; the other rows keep
    NaN band edges (not allowed, not evaluated), as before the band arrays went unfilled."""
    fam = alpha_r(np.linspace(-np.pi, np.pi, 12, endpoint=False), 0.5)
    plan = engine.plan_scan(fam, [0.2], eps_over_g=[0.0, 0.01], chunk_size=4,
                            constraints=["ccfr_trident"], store="summary")  # fmt: skip
    part = engine.execute(plan, max_chunks=1, progress=False)
    assert part is not None
    assert np.isfinite(part.g_low[:4]).all()
    assert np.isnan(part.g_low[4:]).all()
    assert np.isnan(part.g_high[4:]).all()
    assert not part.allowed[4:].any()
    assert np.isnan(part.results["ccfr_trident"]["min_ratio"][4:]).all()


def test_chunks_grow_with_the_number_of_masses_up_to_twice() -> None:
    """The per-chunk setup grows with the masses (engine._chunk_points): 2e6 grid points at one
    mass, 1 + (M - 1) / 160 times that with M masses, at most 4e6; small scans keep 1e6 (at
    least 8 chunks) and a chunk is never smaller than one model."""
    big = 10**6
    assert engine._chunk_points(big, 576, 1) == 2_000_000
    assert engine._chunk_points(big, 576, 81) == 3_000_000
    assert engine._chunk_points(big, 576, 200) == 4_000_000
    assert engine._chunk_points(big, 576, 10**9) == 4_000_000
    assert engine._chunk_points(100, 576, 200) == 1_000_000
    assert engine._chunk_points(3, 5_000_000, 200) == 5_000_000
    # the default survey: 17 models of 200 x 128 x 9 per chunk (was 8)
    assert engine._chunk_points(418, 200 * 128 * 9, 200) // (200 * 128 * 9) == 17
