"""The engine's closed forms in g give the full evaluation's numbers bit for bit (issue 18).

Prompt searches and dead beam dumps (:class:`G2Form`), rate shifts and tridents
(:class:`PointForm`) are summarised without evaluating r at every coupling; every summary, count,
silence flag and allowed mask must equal the one the engine computes with the forms switched off,
for every mixing kind, in compact (survey-like) and full summaries.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from zprime_atlas import _kernels, catalogue, constraints, engine
from zprime_atlas.constraints.base import Constraint
from zprime_atlas.constraints.rate_shift import parabola_sides
from zprime_atlas.constraints.recast.darkcast import _EXP_SATURATED
from zprime_atlas.models import alpha_r, model


def _family(n: int = 14):
    return alpha_r(np.linspace(-np.pi, np.pi, n, endpoint=False)[:, None],
                   np.linspace(-3, 3, n)[None, :])  # fmt: skip


def _no_forms(monkeypatch) -> None:
    monkeypatch.setattr(Constraint, "_g2_form", lambda self, *a: None)
    monkeypatch.setattr(Constraint, "_point_form", lambda self, *a: None)
    monkeypatch.setattr(Constraint, "_lifetime_form", lambda self, *a: None)
    classes = {k for n in catalogue.default_names() for k in type(constraints.get(n)).__mro__}
    for cls in classes:
        for hook in ("_g2_form", "_point_form", "_lifetime_form"):
            if hook in vars(cls):
                monkeypatch.setattr(cls, hook, lambda self, *a: None)


def _run(compact: bool, **mixing):
    masses = np.concatenate([np.geomspace(1e-3, 5.0, 17), [0.2, 0.75]])
    plan = engine.plan_scan(_family(), masses, constraints=catalogue.default_names(),
                            store="summary", **mixing)  # fmt: skip
    plan.compact = compact
    result = engine.execute(plan, progress=False)
    assert result is not None
    out = {"allowed": result.allowed}
    for name, parts in result.results.items():
        for key, value in parts.items():
            out[f"{name}/{key}"] = value
    return out


MIXINGS = [
    {"xi": np.array([-3.0, -0.1, 0.0, 1e-3, 0.5, 2.0])},
    {"eps_over_g": np.array([0.0, 3e-3, -0.1])},
    {"eps": "loop", "loop_scale": 1000.0},
]


#: the forms in numpy, and (numba installed) by the compiled kernels of zprime_atlas._kernels
KERNELS = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("mixing", MIXINGS, ids=["xi", "eps_over_g", "loop"])
def test_scan_with_closed_forms_equals_the_full_evaluation(monkeypatch, compact, mixing) -> None:
    """With the numpy forms and with the compiled kernels, which thereby give the numpy path's
    numbers bit for bit."""
    calls: list[str] = []
    for kernel in ("recast_summary", "parabola_sides", "point_marks", "point_ratio_marks",
                   "nsi_chi2", "band_couplings", "band_points", "compact_summary",
                   "allowed_couplings"):
        original = getattr(_kernels, kernel)

        def spy(*args, _original=original, _name=kernel):
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(_kernels, kernel, spy)
    runs = {}
    for kernels in KERNELS:
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        before = len(calls)
        runs[kernels] = _run(compact, **mixing)
        if kernels == "numba":  # the kernels ran, for every recast and rate shift of every chunk
            assert len(calls) - before > 20
            # the point forms (rate shifts among them) serve compact summaries only
            assert ("parabola_sides" in calls[before:]) == compact
            assert ("point_marks" in calls[before:]) == compact
            # r inside the kernel: rate shifts, tridents, CEvNS (not for the loop's complex eps)
            assert ("point_ratio_marks" in calls[before:]) == compact
            assert "nsi_chi2" in calls[before:]  # the NSI best fits
            assert "band_points" in calls[before:]  # every chunk's couplings and their squares
            assert "allowed_couplings" in calls[before:]  # every chunk's allowed couplings
            # constraints evaluated at every coupling are summed up in one pass for compact
            # summaries only (here every point is decided by a form; surveys below use it)
            assert compact or "compact_summary" not in calls[before:]
        else:
            assert len(calls) == before
    with monkeypatch.context() as patch:
        _no_forms(patch)
        slow = _run(compact, **mixing)
    for fast in runs.values():
        assert fast.keys() == slow.keys()
        differ = [k for k in fast if not np.array_equal(fast[k], slow[k], equal_nan=True)]
        assert differ == []
    fast = runs["numpy"]
    # not a comparison of empty results: counts between 0 and all 9 couplings, for the recasts and
    # for the rate shifts and tridents alike
    names = ("babar_2014_visible", "nucal_1991_dump", "borexino", "ccfr_trident")
    for name in names if "xi" in mixing else names[:1]:
        count = fast[f"{name}/excluded_count"]
        assert np.any((count > 0) & (count < 9)), name


def test_the_forms_are_used(monkeypatch) -> None:
    """The fast paths run (a spy counts the constraints whose summary they produced)."""
    used: list[str] = []
    for method in ("summary", "points"):
        original = getattr(engine._ClosedForms, method)

        def spy(self, c, *args, _original=original):
            out = _original(self, c, *args)
            if out is not None:
                used.append(c.name)
            return out

        monkeypatch.setattr(engine._ClosedForms, method, spy)
    _run(True, **MIXINGS[0])
    need = {"babar_2014_visible", "kloe_2015_visible", "nucal_1991_dump", "na64_2019_invisible",
            "borexino", "ccfr_trident", "conusplus_2025", "xenonnt_2024_b8", "coherent_csi_2017",
            "neff_bbn", "nsi_oscillation", "texono_2010_nue"}
    assert need - set(used) == set()


def test_a_fixed_eps_has_no_closed_form() -> None:
    """eps fixed (not proportional to g): r is not r1 g^2, every constraint says None."""
    from zprime_atlas.couplings import Mixing

    mix = Mixing.parse(1e-4, None, None)
    m = np.array([[[[0.2]]]])
    g2 = np.full((1, 1, 1, 1), 1e-6)
    x = model("B-L")
    for name in ("babar_2014_visible", "borexino", "ccfr_trident", "nucal_1991_dump"):
        c = constraints.get(name)
        assert c._g2_form(m, g2, g2, x, mix) is None
        assert c._point_form(m, g2, g2, x, mix) is None


def test_the_saturation_threshold_is_exact() -> None:
    """1 - e^-a rounds to 1.0 for every a >= 40 (the prompt window test relies on it)."""
    a = np.concatenate([np.linspace(_EXP_SATURATED, 60.0, 200_001), np.geomspace(60.0, 1e300, 5000)])
    assert np.all(-np.expm1(-a) == 1.0)
    assert -np.expm1(-37.0) < 1.0  # and not far below: the threshold is not vacuous


@pytest.mark.parametrize("seed", range(4))
def test_parabola_sides_against_a_fine_scan(seed: int) -> None:
    """Where parabola_sides says below (above), s stays inside (outside) (d_lo, d_hi) on a fine grid
    of the interval, and it decides most random points (it is not vacuous)."""
    rng = np.random.default_rng(seed)
    n = 4000
    beta = rng.normal(size=n) * 10.0 ** rng.uniform(-2, 2, n)
    gamma = rng.normal(size=n) * 10.0 ** rng.uniform(-2, 2, n)
    gamma[:50] = 0.0  # a pure line
    a = rng.normal(size=n)
    u_min = 10.0 ** rng.uniform(-3, 0, n)
    u_max = u_min * 10.0 ** rng.uniform(0, 1.5, n)
    d_lo, d_hi = -0.4, 0.7
    below, above = parabola_sides(beta, gamma, a, u_min, u_max, d_lo, d_hi)
    u = u_min[:, None] * (u_max / u_min)[:, None] ** np.linspace(0, 1, 2001)[None, :]
    p = a[:, None] * u
    s = beta[:, None] * p + gamma[:, None] * p * p
    inside = (s > d_lo) & (s < d_hi)
    assert not np.any(below & ~inside.all(axis=1))
    assert not np.any(above & inside.any(axis=1))
    assert not np.any(below & above)
    assert (below | above).mean() > 0.5
    # the vertex matters: s = p^2 - 4p on [0.1, 3.9] is -0.39 (inside) at both ends but -4 at
    # p = 2, beyond d_lo = -0.4: neither side
    dip = parabola_sides(np.array([-4.0]), np.array([1.0]), np.array([1.0]), np.array([0.1]),
                         np.array([3.9]), d_lo, d_hi)  # fmt: skip
    assert not dip[0][0]
    assert not dip[1][0]
    # and a peak: s = 4p - p^2 on [1, 3] is 3 at both ends but 4 at p = 2, beyond d_hi = 3.5
    peak = parabola_sides(np.array([4.0]), np.array([-1.0]), np.array([1.0]), np.array([1.0]),
                          np.array([3.0]), -5.0, 3.5)  # fmt: skip
    assert not peak[0][0]
    assert not peak[1][0]


def test_parabola_sides_nan_and_overflow_decide_nothing() -> None:
    below, above = parabola_sides(np.array([np.nan, 1.0, 1e300]), np.array([1.0, np.inf, 1e300]),
                                  np.array([1.0, 1.0, 1e10]), np.array([1.0, 1.0, 1.0]),
                                  np.array([2.0, 2.0, 2.0]), -0.5, 0.5)  # fmt: skip
    assert not below.any()
    assert not above.any()


def test_a_survey_with_cancelled_muon_couplings_equals_the_full_evaluation(monkeypatch) -> None:
    """The survey's xi = 0 cancels the electron coupling exactly, and with it the muon coupling of
    every model with x_mu = x_e (e.g. 3B-5Le-5Lmu+Ltau): the trident's g x_mu - e eps is then
    rounding, which the point form must leave to the full evaluation (it once did not)."""

    def run():
        r = engine.survey(max_charge=10, masses=np.geomspace(1e-3, 1.0, 30),
                          xi=np.array([-1.0, 0.0, 2.0]), progress=False)  # fmt: skip
        out = {"allowed": r.allowed}
        for name, parts in r.results.items():
            for key, value in parts.items():
                out[f"{name}/{key}"] = value
        return out

    runs = {}
    for kernels in KERNELS:
        monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
        runs[kernels] = run()
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", "numpy")
    with monkeypatch.context() as patch:
        _no_forms(patch)
        assert constraints.get("ccfr_trident")._point_form(*[None] * 5) is None
        slow = run()
        if "numba" in KERNELS:
            # every constraint at every coupling, summed up by the compiled compact pass
            calls: list[int] = []
            original = _kernels.compact_summary

            def spy(*args):
                calls.append(1)
                return original(*args)

            patch.setattr(_kernels, "compact_summary", spy)
            patch.setenv("ZPRIME_ATLAS_KERNELS", "numba")
            runs["numba, no forms"] = run()
            assert len(calls) > 20
    for fast in runs.values():
        differ = [k for k in fast if not np.array_equal(fast[k], slow[k], equal_nan=True)]
        assert differ == []


POINT_FORMS = ["borexino", "conusplus_2025", "xenonnt_2024_b8", "ccfr_trident", "charm2_trident",
               "coherent_csi_2017", "neff_bbn", "nsi_oscillation", "texono_2010_nue",
               "lhcb_2017_displaced", "lhcb_2019_displaced"]


def _nsi_variant(**options):
    from zprime_atlas.constraints.nsi import NSIOscillation

    return NSIOscillation(**options)


@pytest.mark.parametrize("name", [*POINT_FORMS, "nsi_sm_lma", "nsi_scale_half"])
def test_point_forms_against_r_on_a_fine_coupling_grid(name: str) -> None:
    """On coupling ranges from 1e-9 to 1 (both sides of every threshold, thermalisation and the
    table edges of N_eff included): where a point form says below (above), r < 1 (>= 1) at 40
    couplings across the range, and ratio_at is _ratio at those couplings, bit for bit."""
    from zprime_atlas.couplings import Mixing

    variants = {"nsi_sm_lma": {"reference": "sm", "solutions": "LMA"}, "nsi_scale_half": {"scale": 0.5}}
    c = _nsi_variant(**variants[name]) if name in variants else constraints.get(name)
    rng = np.random.default_rng(7)
    fam = _family(6)
    x = _chunk_model(fam.reshape(fam.size))
    lo_m, hi_m = c.mass_range
    masses = np.geomspace(max(lo_m, 1e-4), min(hi_m, 5.0), 7)
    m = masses[None, :, None, None]
    mix = Mixing.parse(0.0, rng.uniform(-0.2, 0.2, (1, 1, 5, 1)), None)
    n = x.charge("e").shape[0]
    g_lo = 10.0 ** rng.uniform(-9, -1, (n, masses.size, 5, 1))
    g_hi = g_lo * 10.0 ** rng.uniform(0, 2, g_lo.shape)
    g = g_lo * (g_hi / g_lo) ** np.linspace(0, 1, 40)
    form = c._point_form(m, g_lo**2, g_hi**2, x, mix)
    assert form is not None
    r = np.broadcast_to(c._ratio(m, g, x, mix), g.shape)
    below = np.broadcast_to(form.below, g_lo.shape)[..., 0]
    above = np.broadcast_to(form.above, g_lo.shape)[..., 0]
    assert np.all(r[below] < 1.0)
    assert np.all(r[above] >= 1.0)
    assert below.any()
    # N_eff and the LHCb r-value searches decide only "below" here (LHCb: outside its table's
    # lifetimes the signal falls off, and the points inside are left to ratio_at)
    assert above.any() or name in ("neff_bbn", "lhcb_2017_displaced", "lhcb_2019_displaced")
    index = np.nonzero(~(below | above))
    assert np.array_equal(form.ratio_at(index, g[index]), r[index], equal_nan=True)


def test_texono_point_form_sides() -> None:
    """TEXONO's shift S = beta a g^2 (L_e: beta > 0; a = x_e - e eps/g flips sign with eps/g):
    a band inside the destructive window [s_floor, d_lo] or above d_hi is excluded at every
    coupling, one inside (d_lo, d_hi) allowed at every coupling, and one reaching below s_floor
    (r NaN there) or across a threshold is left to r."""
    from zprime_atlas.constants import E_CHARGE
    from zprime_atlas.couplings import Mixing

    c = constraints.get("texono_2010_nue")
    x = model("L_e-L_mu")
    m = np.full((1, 1, 1, 1), 0.1)
    targets = np.array([0.5 * (c.d_lo + c.s_floor), 1.5 * c.s_floor, c.d_lo, 0.5 * c.d_lo,
                        0.5 * c.d_hi, c.d_hi, 2.0 * c.d_hi])  # fmt: skip
    over_g = np.where(targets < 0, 2.0 / E_CHARGE, 0.0).reshape(1, 1, -1, 1)  # a = -1 or +1
    mix = Mixing.parse(0.0, over_g, None)
    slope = c._beta(m, x) * c._p_coefficients(x, mix)[0]
    g2 = targets.reshape(1, 1, -1, 1) / slope
    form = c._point_form(m, g2 * 0.98, g2 * 1.02, x, mix)
    assert form is not None
    below = np.broadcast_to(form.below, g2.shape).ravel().tolist()
    above = np.broadcast_to(form.above, g2.shape).ravel().tolist()
    assert above == [True, False, False, False, False, False, True]
    assert below == [False, False, False, True, True, False, False]
    g = np.sqrt(g2 * np.linspace(0.98, 1.02, 9))
    r = np.broadcast_to(c._ratio(m, g, x, mix), g.shape)[0, 0]
    assert np.all(r[0] >= 1.0)
    assert np.isnan(r[1]).any()
    assert np.all(r[3] < 1.0)
    for straddling in (r[2], r[5]):
        assert (straddling >= 1.0).any()
        assert (straddling < 1.0).any()


def _chunk_model(flat):
    """A model batch shaped like an engine chunk: (N, 1, 1, 1)."""
    from zprime_atlas.constants import FERMIONS
    from zprime_atlas.models import Model

    return Model({f: np.asarray(flat.charge(f))[:, None, None, None] for f in FERMIONS})


def test_the_n_eff_point_form_needs_a_clipped_exchange_rate() -> None:
    """Thermalised but with the exchange rate inside the table (neither edge): N_eff changes with
    g, so the point form must not call it constant (it once could have)."""
    from zprime_atlas.couplings import Mixing

    c = constraints.get("neff_bbn")
    x = _chunk_model(model("Lmu-Ltau").reshape(1))
    m = np.geomspace(1e-4, 3e-2, 12)[None, :, None, None]
    mix = Mixing.parse(0.0, np.zeros((1, 1, 1, 1)), None)
    g = np.geomspace(1e-12, 1e-3, 200)
    r = np.broadcast_to(c._ratio(m, g, x, mix), (1, 12, 1, 200))
    form = c._point_form(m, np.full((1, 12, 1, 1), g[0] ** 2), np.full((1, 12, 1, 1), g[-1] ** 2),
                         x, mix)  # fmt: skip
    varies = np.ptp(r, axis=-1)[..., None] > 0
    constant = np.broadcast_to(form.below | form.above, varies.shape)
    assert varies.any()
    assert not np.any(constant & varies)


@pytest.mark.parametrize("kernels", KERNELS)
def test_solar_box_range_is_the_table_extreme_over_the_box(monkeypatch, kernels) -> None:
    """The NSI solar table's sparse min/max tables against a direct min/max over each box of nodes
    (the cells between the two coordinates' cells, one more on each side), and boxes too large
    for the tables give NaN (undecided), never a bound; in numpy and by the compiled kernel."""
    monkeypatch.setenv("ZPRIME_ATLAS_KERNELS", kernels)
    solar = constraints.get("nsi_oscillation").solar
    t = solar.table
    top = t.shape[0] - 1
    rng = np.random.default_rng(3)
    u0, v0 = rng.uniform(0, top, (2, 500))
    u = np.clip(u0 + np.stack([np.zeros(500), rng.uniform(-30, 30, 500)]), 0, top)
    v = np.clip(v0 + np.stack([np.zeros(500), rng.uniform(-30, 30, 500)]), 0, top)
    low, high = solar.box_range((u[0], u[1]), (v[0], v[1]))
    for k in range(500):
        r0 = max(int(np.floor(min(u[:, k]))) - 1, 0)
        r1 = min(int(np.floor(max(u[:, k]))) + 2, top)
        c0 = max(int(np.floor(min(v[:, k]))) - 1, 0)
        c1 = min(int(np.floor(max(v[:, k]))) + 2, top)
        if r1 - r0 + 1 > 32 or c1 - c0 + 1 > 32:
            assert np.isnan(low[k])
            assert np.isnan(high[k])
            continue
        box = t[r0 : r1 + 1, c0 : c1 + 1]
        assert low[k] == box.min()
        assert high[k] == box.max()
    assert np.isfinite(low).mean() > 0.3  # most random boxes are small enough


def test_a_subclass_with_its_own_ratio_gets_no_closed_form() -> None:
    """A plugin that subclasses a built-in constraint and changes r must not inherit a closed form
    of the parent's r (the engine would then count the parent's exclusions)."""
    from zprime_atlas.constraints.recast.darkcast import RecastConstraint
    from zprime_atlas.constraints.trident.constraint import CCFRTrident
    from zprime_atlas.couplings import Mixing

    class HalfRecast(RecastConstraint):
        def _ratio(self, m, g, model, mix):
            return 0.5 * super()._ratio(m, g, model, mix)

    class HalfTrident(CCFRTrident):
        def _ratio(self, m, g, model, mix):
            return 0.5 * super()._ratio(m, g, model, mix)

    parent = constraints.get("babar_2014_visible")
    half = HalfRecast.__new__(HalfRecast)
    half.__dict__.update(parent.__dict__)
    mix = Mixing.parse(0.0, np.zeros((1, 1, 1, 1)), None)
    m = np.array([[[[0.2]]]])
    g2 = np.full((1, 1, 1, 1), 1e-6)
    x = _chunk_model(model("B-L").reshape(1))
    assert parent._g2_form(m, g2, g2, x, mix) is not None
    assert half._g2_form(m, g2, g2, x, mix) is None
    assert HalfTrident()._point_form(m, g2, g2, x, mix) is None
