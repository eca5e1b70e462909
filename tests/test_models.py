"""Tests of zprime_atlas.models: anomalies, named models, the alpha-R family, the survey, batches.

The anomaly coefficients are re-derived here from the chiral SM field content (with hypercharges and
three right-handed neutrinos), and the survey is re-enumerated with plain Python loops, so neither
check reuses the module's own shortcut (the sum 3(x_u + x_c + x_t) + x_e + x_mu + x_tau).
"""

from __future__ import annotations

import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas.models import (
    GENERATORS,
    Model,
    alpha_r,
    enumerate_models,
    generator_label,
    model,
    model_names,
)

# --- independent anomaly bookkeeping -----------------------------------------------------------

# Chiral content of one SM generation plus nu_R, written as left-handed Weyl fields is avoided:
# instead each entry carries its chirality sign (+1 left, -1 right), colour multiplicity,
# SU(2) multiplicity, hypercharge Y (Q = T3 + Y) and which vector-like charge it carries.
# Doublet members share one field, so a doublet is only consistent if its components share a charge.
_GENERATIONS = (
    {"up": "u", "down": "d", "lep": "e", "nu": "nu_e"},
    {"up": "c", "down": "s", "lep": "mu", "nu": "nu_mu"},
    {"up": "t", "down": "b", "lep": "tau", "nu": "nu_tau"},
)


def _chiral_fields(charges, gen):
    """(chirality, N_colour, N_su2, is_doublet, Y, x) for every chiral field of one generation."""
    up, down, lep, nu = gen["up"], gen["down"], gen["lep"], gen["nu"]
    x_q = charges.get(up, 0.0)  # Q_L doublet: the caller checked x_up == x_down
    x_l = charges.get(lep, 0.0)  # L_L doublet: the caller checked x_lep == x_nu
    return [
        (+1, 3, 2, True, Fraction(1, 6), x_q),  # Q_L
        (-1, 3, 1, False, Fraction(2, 3), charges.get(up, 0.0)),  # u_R
        (-1, 3, 1, False, Fraction(-1, 3), charges.get(down, 0.0)),  # d_R
        (+1, 1, 2, True, Fraction(-1, 2), x_l),  # L_L
        (-1, 1, 1, False, Fraction(-1, 1), charges.get(lep, 0.0)),  # e_R
        (-1, 1, 1, False, Fraction(0, 1), charges.get(nu, 0.0)),  # nu_R
    ]


def _anomaly_coefficients(charges):
    """All six anomaly coefficients involving U(1)_X, summed over chiral fields (L minus R)."""
    coeff = dict.fromkeys(("SU3^2 X", "SU2^2 X", "Y^2 X", "Y X^2", "X^3", "grav X"), 0.0)
    for gen in _GENERATIONS:
        for chir, nc, n2, doublet, y, x in _chiral_fields(charges, gen):
            y = float(y)
            dim = nc * n2
            coeff["SU3^2 X"] += chir * n2 * (0.5 if nc == 3 else 0.0) * x
            coeff["SU2^2 X"] += chir * nc * (0.5 if doublet else 0.0) * x
            coeff["Y^2 X"] += chir * dim * y * y * x
            coeff["Y X^2"] += chir * dim * y * x * x
            coeff["X^3"] += chir * dim * x**3
            coeff["grav X"] += chir * dim * x
    return coeff


def _doublet_consistent(charges):
    return all(
        charges.get(g["up"], 0.0) == charges.get(g["down"], 0.0)
        and charges.get(g["lep"], 0.0) == charges.get(g["nu"], 0.0)
        for g in _GENERATIONS
    )


def _independently_anomaly_free(charges, tol=1e-9):
    if not _doublet_consistent(charges):
        return False
    return all(abs(v) <= tol for v in _anomaly_coefficients(charges).values())


def _charges_from_generators(B, Le, Lmu, Ltau):
    charges = dict.fromkeys("udscbt", B / 3)
    for lep, gen in (("e", Le), ("mu", Lmu), ("tau", Ltau)):
        charges[lep] = gen
        charges["nu_" + lep] = gen
    return charges


# --- the anomaly condition -----------------------------------------------------------------------

ANOMALY_FREE = ["B-L", "B-3Lmu", "B-3Le", "B-3Ltau", "Lmu-Ltau", "Le-Lmu", "Le-Ltau", "dark-photon"]


@pytest.mark.parametrize("name", ANOMALY_FREE)
def test_named_anomaly_free(name):
    m = model(name)
    assert m.is_anomaly_free() is True
    m.require_anomaly_free()  # does not raise


@pytest.mark.parametrize("name", [n for n in ANOMALY_FREE if n != "dark-photon"])
def test_named_anomaly_free_independently(name):
    m = model(name)
    charges = {f: float(v) for f, v in m.charges.items()}
    assert _independently_anomaly_free(charges)
    assert float(m.anomaly_sum()) == 0.0


@pytest.mark.parametrize(
    ("gens", "label"),
    [
        ((1, 0, 0, 0), "B"),
        ((0, 0, 1, 0), "Lmu"),
        ((0, 1, 0, 0), "Le"),
        ((0, 0, 0, 1), "Ltau"),
        ((1, -1, -1, 0), "B-Le-Lmu"),
        ((0, 1, 1, 1), "L"),
    ],
)
def test_anomalous_generators_fail(gens, label):
    m = Model.from_generators(*gens)
    assert m.is_anomaly_free() is False
    assert not _independently_anomaly_free(_charges_from_generators(*map(float, gens)))
    # Independent value of the anomaly sum: 3B + Le + Lmu + Ltau.
    B, Le, Lmu, Ltau = gens
    assert float(m.anomaly_sum()) == pytest.approx(3 * B + Le + Lmu + Ltau)
    with pytest.raises(ValueError, match=rf"model {re.escape(label)} is not anomaly free"):
        m.require_anomaly_free()


def test_named_b_is_anomalous_and_named_in_error():
    m = model("B")
    assert m.is_anomaly_free() is False
    with pytest.raises(ValueError, match=r"model B is not anomaly free"):
        m.require_anomaly_free()


def test_require_anomaly_free_names_first_bad_member_of_batch():
    batch = Model.from_generators(B=[1, 1, 0], Lmu=[-3, 0, 1], Ltau=[0, 0, -1])
    np.testing.assert_array_equal(batch.is_anomaly_free(), [True, False, True])
    with pytest.raises(ValueError, match=r"model B is not anomaly free.*= 3"):
        batch.require_anomaly_free()


def test_non_doublet_consistent_model_is_not_anomaly_free():
    # x_u != x_d breaks SU(2)_L: Q_L cannot carry two charges. The sum 3x_u + x_e is made zero on
    # purpose so that only the doublet condition can reject it.
    charges = {"u": 1.0, "d": 2.0, "e": -3.0, "nu_e": -3.0}
    m = Model(charges)
    assert float(m.anomaly_sum()) == 0.0
    assert m.is_anomaly_free() is False
    with pytest.raises(ValueError, match="not anomaly free"):
        m.require_anomaly_free()
    # A lepton doublet split between e and nu_e fails as well.
    m2 = Model({"mu": 1.0, "nu_mu": 0.0, "tau": -1.0, "nu_tau": -1.0})
    assert float(m2.anomaly_sum()) == 0.0
    assert m2.is_anomaly_free() is False
    # Neither is the generators view defined for such charge sets.
    assert m.generators is None
    assert m2.generators is None


def test_doublet_consistent_non_universal_quarks():
    # Generation-dependent quark charges (x_u = x_d = 1, others 0) with x_e = -3: anomaly free,
    # and confirmed by the explicit chiral sum.
    charges = {"u": 1.0, "d": 1.0, "e": -3.0, "nu_e": -3.0}
    assert _independently_anomaly_free(charges)
    assert Model(charges).is_anomaly_free() is True
    assert Model(charges).generators is None  # not quark universal


def test_dark_photon_charges_are_electric_charges():
    m = model("dark-photon")
    expected = {"u": 2 / 3, "c": 2 / 3, "t": 2 / 3, "d": -1 / 3, "s": -1 / 3, "b": -1 / 3}
    expected.update({"e": -1.0, "mu": -1.0, "tau": -1.0, "nu_e": 0.0, "nu_mu": 0.0, "nu_tau": 0.0})
    for f, q in expected.items():
        assert float(m.charge(f)) == pytest.approx(q, abs=1e-15)
    # Photon-like up to normalisation is still fine; photon-like plus a neutrino charge is not.
    assert m.scaled(-2.5).is_anomaly_free() is True
    assert Model({**expected, "nu_e": 0.5}).is_anomaly_free() is False


def test_zero_model_is_trivially_anomaly_free():
    assert Model({}).is_anomaly_free() is True
    assert Model.from_generators().name == "0"


_gen_int = st.integers(min_value=-6, max_value=6)


@settings(max_examples=150, deadline=None)
@given(B=_gen_int, Le=_gen_int, Lmu=_gen_int, Ltau=_gen_int, force_free=st.booleans())
def test_anomaly_free_agrees_with_chiral_field_sum(B, Le, Lmu, Ltau, force_free):
    if force_free:
        Ltau = -3 * B - Le - Lmu  # solve the condition for half of the examples
    charges = _charges_from_generators(float(B), float(Le), float(Lmu), float(Ltau))
    coeff = _anomaly_coefficients(charges)
    m = Model.from_generators(B, Le, Lmu, Ltau)
    a = float(m.anomaly_sum())
    # Vector-like charges cancel every anomaly except the two mixed ones with SU(2) and Y^2, which
    # are +A/2 and -A/2 of the module's anomaly sum A.
    for key in ("SU3^2 X", "Y X^2", "X^3", "grav X"):
        assert coeff[key] == pytest.approx(0.0, abs=1e-9)
    assert coeff["SU2^2 X"] == pytest.approx(a / 2, abs=1e-9)
    assert coeff["Y^2 X"] == pytest.approx(-a / 2, abs=1e-9)
    assert m.is_anomaly_free() is _independently_anomaly_free(charges)
    if force_free:
        assert m.is_anomaly_free() is True


@settings(max_examples=100, deadline=None)
@given(
    xq=st.lists(st.integers(-4, 4), min_size=3, max_size=3),
    xl=st.lists(st.integers(-4, 4), min_size=3, max_size=3),
    fix=st.booleans(),
)
def test_anomaly_free_general_doublet_consistent_charges(xq, xl, fix):
    # Generation-dependent, doublet-consistent charges: x_u = x_d etc.
    if fix:
        xl[2] = -3 * sum(xq) - xl[0] - xl[1]
    charges = {}
    for g, q, lep in zip(_GENERATIONS, xq, xl, strict=True):
        charges[g["up"]] = charges[g["down"]] = float(q)
        charges[g["lep"]] = charges[g["nu"]] = float(lep)
    m = Model(charges)
    coeff = _anomaly_coefficients(charges)
    assert coeff["SU2^2 X"] == pytest.approx(float(m.anomaly_sum()) / 2, abs=1e-9)
    photon_like = m._is_photon_like(1e-9)  # only the all-zero vector here (neutrinos = leptons)
    expected = _independently_anomaly_free(charges) or bool(photon_like)
    assert m.is_anomaly_free() is expected
    if fix:
        assert expected


@settings(max_examples=50, deadline=None)
@given(
    B=st.floats(-5, 5, allow_subnormal=False),
    Le=st.floats(-5, 5, allow_subnormal=False),
    Lmu=st.floats(-5, 5, allow_subnormal=False),
    k=st.floats(0.1, 10, allow_subnormal=False),
)
def test_anomaly_freedom_invariant_under_sign_and_normalisation(B, Le, Lmu, k):
    Ltau = -3 * B - Le - Lmu
    m = Model.from_generators(B, Le, Lmu, Ltau)
    assert m.is_anomaly_free() is True
    assert (-m).is_anomaly_free() is True
    assert m.scaled(k).is_anomaly_free() is True
    for f in m.charges:
        assert float((-m).charge(f)) == -float(m.charge(f))


# --- from_generators ---------------------------------------------------------------------------


def test_from_generators_charges():
    m = Model.from_generators(B=3.0, Le=-1.0, Lmu=2.0, Ltau=-4.0)
    for q in "udscbt":
        assert float(m.charge(q)) == 1.0  # each quark carries B/3
    assert float(m.charge("e")) == float(m.charge("nu_e")) == -1.0
    assert float(m.charge("mu")) == float(m.charge("nu_mu")) == 2.0
    assert float(m.charge("tau")) == float(m.charge("nu_tau")) == -4.0
    gens = m.generators
    assert {g: float(v) for g, v in gens.items()} == {
        "B": 3.0,
        "Le": -1.0,
        "Lmu": 2.0,
        "Ltau": -4.0,
    }
    assert GENERATORS == ("B", "Le", "Lmu", "Ltau")


def test_generators_recovered_from_plain_charges():
    m = Model(_charges_from_generators(1.0, 0.0, -3.0, 0.0))
    gens = m.generators
    assert gens is not None
    assert float(gens["B"]) == pytest.approx(1.0)
    assert float(gens["Lmu"]) == -3.0
    assert m.labels[()] == "B-3Lmu"


@pytest.mark.parametrize(
    ("gens", "label"),
    [
        ((1, -1, -1, -1), "B-L"),
        ((1, 0, -3, 0), "B-3Lmu"),
        ((3, -2, -7, 0), "3B-2Le-7Lmu"),
        ((0, 0, 1, -1), "Lmu-Ltau"),
        ((-1, 1, 1, 1), "-B+L"),
        ((0, 0, 0, 0), "0"),
        ((0.5, 0, 0, -1.5), "0.5B-1.5Ltau"),
        ((0, 2, 2, 2), "2L"),
    ],
)
def test_generator_label(gens, label):
    assert generator_label(*gens) == label
    assert Model.from_generators(*gens).name == label


# --- named registry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "gens"),
    [
        ("B-L", (1, -1, -1, -1)),
        ("B", (1, 0, 0, 0)),
        ("B-3Le", (1, -3, 0, 0)),
        ("B-3Lmu", (1, 0, -3, 0)),
        ("B-3Ltau", (1, 0, 0, -3)),
        ("Lmu-Ltau", (0, 0, 1, -1)),
        ("Le-Lmu", (0, 1, -1, 0)),
        ("Le-Ltau", (0, 1, 0, -1)),
    ],
)
def test_named_model_charges(name, gens):
    m = model(name)
    assert m.name == name
    expected = _charges_from_generators(*map(float, gens))
    for f, x in expected.items():
        assert float(m.charge(f)) == pytest.approx(x, abs=1e-15)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("L_mu-L_tau", "Lmu-Ltau"),
        ("lmu-ltau", "Lmu-Ltau"),
        ("LMU-LTAU", "Lmu-Ltau"),
        ("b-l", "B-L"),
        ("B-3L_mu", "B-3Lmu"),
        ("L_e-L_mu", "Le-Lmu"),
        ("Dark-Photon", "dark-photon"),
        ("dark_photon", "dark-photon"),
    ],
)
def test_named_model_spelling_tolerance(spelling, canonical):
    a, b = model(spelling), model(canonical)
    assert a.name == canonical
    for f in a.charges:
        assert float(a.charge(f)) == float(b.charge(f))


def test_model_names_cover_design_minimum():
    required = {"dark-photon", "B-L", "B", "B-3Lmu", "Lmu-Ltau", "Le-Lmu", "Le-Ltau"}
    assert required <= set(model_names())
    for n in model_names():
        assert model(n).name == n


def test_unknown_model_lists_known_models():
    with pytest.raises(ValueError, match="unknown model 'B-2L'") as info:
        model("B-2L")
    msg = str(info.value)
    for n in ("dark-photon", "B-L", "B-3Lmu", "Lmu-Ltau", "Le-Lmu", "Le-Ltau"):
        assert n in msg
    with pytest.raises(ValueError, match="known models"):
        model("Lmu+Ltau")
    with pytest.raises(ValueError, match="must be a string"):
        model(3)  # type: ignore[arg-type]


# --- validation ----------------------------------------------------------------------------------


def test_unknown_fermion_key():
    with pytest.raises(ValueError, match=r"unknown fermion 'nu_s'.*known fermions: u, d"):
        Model({"u": 1.0, "nu_s": 1.0})
    with pytest.raises(ValueError, match=r"unknown fermion 'electron'"):
        Model({"electron": -1.0})
    with pytest.raises(ValueError, match=r"unknown fermion 'top'"):
        model("B-L").charge("top")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, math.nan], "one", None])
def test_bad_charge_values(bad):
    with pytest.raises(ValueError, match="charge of e"):
        Model({"e": bad})


@pytest.mark.parametrize("bad", [math.nan, math.inf, "x"])
def test_bad_generator_values(bad):
    with pytest.raises(ValueError, match="generator Lmu"):
        Model.from_generators(B=1, Lmu=bad)


def test_charge_arrays_that_do_not_broadcast():
    with pytest.raises(ValueError, match="broadcast"):
        Model({"e": [1.0, 2.0], "mu": [1.0, 2.0, 3.0]})


def test_missing_keys_are_zero():
    m = Model({"mu": 1.0})
    assert {f: float(v) for f, v in m.charges.items() if f != "mu"} == dict.fromkeys(
        ("u", "d", "s", "c", "b", "t", "e", "tau", "nu_e", "nu_mu", "nu_tau"), 0.0
    )


# --- batches -----------------------------------------------------------------------------------


def test_batch_shape_indexing_and_labels():
    batch = Model.from_generators(
        B=[1.0, 0.0, 0.0, 1.0], Le=[-1.0, 0.0, 1.0, 0.0], Lmu=[-1.0, 1.0, -1.0, -3.0],
        Ltau=[-1.0, -1.0, 0.0, 0.0],
    )  # fmt: skip
    assert batch.shape == (4,)
    assert batch.size == 4
    assert len(batch) == 4
    assert list(batch.labels) == ["B-L", "Lmu-Ltau", "Le-Lmu", "B-3Lmu"]
    np.testing.assert_array_equal(batch.is_anomaly_free(), [True] * 4)
    assert float(batch.charge("u")[3]) == pytest.approx(1 / 3)

    one = batch[2]
    assert one.shape == ()
    assert one.size == 1
    assert one.name == "Le-Lmu"
    assert one.is_anomaly_free() is True
    with pytest.raises(TypeError):
        len(one)
    assert float(one.charge("nu_mu")) == -1.0

    sub = batch[1:3]
    assert sub.shape == (2,)
    assert list(sub.labels) == ["Lmu-Ltau", "Le-Lmu"]

    grid = batch.reshape(2, 2)
    assert grid.shape == (2, 2)
    assert grid.labels[1, 1] == "B-3Lmu"
    assert float(grid.charge("mu")[1, 1]) == -3.0
    assert float(grid.generators["B"][1, 1]) == 1.0


def test_batch_broadcasting_of_generators():
    m = Model.from_generators(B=np.array([1.0, 2.0])[:, None], Lmu=np.array([-3.0, -6.0, 0.0]))
    assert m.shape == (2, 3)
    assert m.labels.shape == (2, 3)
    assert m.labels[0, 0] == "B-3Lmu"
    assert m.labels[1, 1] == "2B-6Lmu"
    assert m.labels[1, 2] == "2B"
    np.testing.assert_array_equal(m.is_anomaly_free(), [[True, False, False], [False, True, False]])
    assert float(m[1, 1].charge("t")) == pytest.approx(2 / 3)


def test_batch_mixing_scalar_and_array_charges():
    m = Model({"e": [1.0, 2.0, 3.0], "mu": -1.0})
    assert m.shape == (3,)
    assert float(m[2].charge("mu")) == -1.0
    assert float(m[2].charge("e")) == 3.0


def test_scaled_and_negated_models():
    m = model("B-3Lmu")
    s = m.scaled(3.0)
    assert float(s.charge("u")) == pytest.approx(1.0)
    assert float(s.charge("mu")) == -9.0
    assert float(s.generators["B"]) == pytest.approx(3.0)
    n = -m
    assert float(n.charge("mu")) == 3.0
    assert float(n.generators["Lmu"]) == 3.0


# --- the alpha-R family ------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    alpha=st.floats(-2 * math.pi, 2 * math.pi, allow_nan=False, allow_subnormal=False),
    R=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
)
def test_alpha_r_anomaly_free_and_generators(alpha, R):
    m = alpha_r(alpha, R)
    assert m.is_anomaly_free() is True
    gens = {g: float(v) for g, v in m.generators.items()}
    # From X = sin a (L_e - L_mu) + cos a (B/3 - L_mu) + R (L_mu - L_tau), term by term:
    assert gens["B"] == pytest.approx(math.cos(alpha) / 3, abs=1e-12)
    assert gens["Le"] == pytest.approx(math.sin(alpha), abs=1e-12)
    assert gens["Lmu"] == pytest.approx(-math.sin(alpha) - math.cos(alpha) + R, abs=1e-12)
    assert gens["Ltau"] == pytest.approx(-R, abs=1e-12)
    charges = {f: float(v) for f, v in m.charges.items()}
    assert _independently_anomaly_free(charges, tol=1e-9)
    assert charges["u"] == pytest.approx(math.cos(alpha) / 9, abs=1e-12)


def test_alpha_r_special_points():
    le_lmu = alpha_r(math.pi / 2, 0.0)
    ref = model("Le-Lmu")
    for f in ref.charges:
        assert float(le_lmu.charge(f)) == pytest.approx(float(ref.charge(f)), abs=1e-15)
    # alpha = 0, R = 0: B/3 - L_mu = (B - 3 L_mu)/3.
    b3 = alpha_r(0.0, 0.0)
    ref = model("B-3Lmu")
    for f in ref.charges:
        assert float(b3.charge(f)) == pytest.approx(float(ref.charge(f)) / 3, abs=1e-15)
    # alpha = pi/2, R = 1: L_e - L_tau.
    le_ltau = alpha_r(math.pi / 2, 1.0)
    ref = model("Le-Ltau")
    for f in ref.charges:
        assert float(le_ltau.charge(f)) == pytest.approx(float(ref.charge(f)), abs=1e-15)


def test_alpha_r_plane_batch():
    alpha = np.linspace(0, math.pi, 5)
    R = np.array([-1.0, 0.0, 2.0])
    m = alpha_r(alpha[:, None], R[None, :])
    assert m.shape == (5, 3)
    assert bool(np.all(m.is_anomaly_free()))
    assert m.family["kind"] == "alpha-R"
    np.testing.assert_allclose(np.broadcast_to(m.charge("tau"), (5, 3)), -np.tile(R, (5, 1)))
    np.testing.assert_allclose(
        np.broadcast_to(m.charge("e"), (5, 3)), np.sin(alpha)[:, None] * np.ones((1, 3))
    )


def test_alpha_r_rejects_nan():
    with pytest.raises(ValueError, match="alpha"):
        alpha_r(math.nan, 0.0)
    with pytest.raises(ValueError, match="R"):
        alpha_r(0.0, [0.0, math.inf])


# --- the survey ------------------------------------------------------------------------------


def _brute_force_survey(n):
    """Canonical rays of anomaly-free integer field charges (x_q, x_e, x_mu, x_tau), |x| <= n.

    Plain loops over all (2n+1)^4 vectors; a ray is identified by dividing by its first non-zero
    entry (exact fractions), which needs neither gcd nor a sign convention.
    """
    rays = {}
    rng = range(-n, n + 1)
    for xq, xe, xmu, xtau in itertools.product(rng, rng, rng, rng):
        if 9 * xq + xe + xmu + xtau != 0:
            continue
        v = (xq, xe, xmu, xtau)
        pivot = next((x for x in v if x != 0), None)
        if pivot is None:
            continue
        ray = tuple(Fraction(x, pivot) for x in v)
        # keep the shortest integer representative with positive pivot
        rep = v if pivot > 0 else tuple(-x for x in v)
        if ray not in rays or max(map(abs, rep)) < max(map(abs, rays[ray])):
            rays[ray] = rep
    return set(rays.values())


def _survey_vectors(m):
    return [tuple(int(x) for x in row) for row in m.family["field_charges"]]


def _parse_label(label):
    """Generator coefficients (B, Le, Lmu, Ltau) from a label such as '3B-2Le-7Lmu' or '-B+L'."""
    out = dict.fromkeys(GENERATORS, 0)
    for sign, coef, sym in re.findall(r"([+-]?)(\d*)(Lmu|Ltau|Le|L|B)", label):
        value = (int(coef) if coef else 1) * (-1 if sign == "-" else 1)
        if sym == "L":
            out["Le"] = out["Lmu"] = out["Ltau"] = value
        else:
            out[sym] = value
    assert re.fullmatch(r"([+-]?\d*(Lmu|Ltau|Le|L|B))+", label), label
    return tuple(out[g] for g in GENERATORS)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_survey_matches_brute_force_small(n):
    m = enumerate_models(n)
    vecs = _survey_vectors(m)
    assert len(vecs) == len(set(vecs)) == m.size
    assert set(vecs) == _brute_force_survey(n)


def test_survey_max10_matches_brute_force_and_count():
    m = enumerate_models(10)
    vecs = _survey_vectors(m)
    ref = _brute_force_survey(10)
    assert len(ref) == 418
    assert m.size == 418
    assert set(vecs) == ref


def test_survey_default_is_max10():
    assert enumerate_models().size == enumerate_models(10).size


def test_survey_members_properties():
    m = enumerate_models(10)
    assert m.shape == (418,)
    assert bool(np.all(m.is_anomaly_free()))
    vecs = _survey_vectors(m)
    assert vecs == sorted(vecs)  # documented order: by x_q, then x_e, x_mu
    for v in vecs:
        assert all(abs(x) <= 10 for x in v)
        assert math.gcd(*v) == 1
        assert next(x for x in v if x != 0) > 0
        assert 9 * v[0] + v[1] + v[2] + v[3] == 0
    # Field charges of the batch are the integers of the survey (quark charge x_q, leptons x_l).
    np.testing.assert_array_equal(m.charge("b"), [v[0] for v in vecs])
    np.testing.assert_array_equal(m.charge("nu_tau"), [v[3] for v in vecs])
    # No duplicates up to sign or normalisation: distinct unit rays.
    arr = np.array(vecs, dtype=float)
    unit = arr / np.linalg.norm(arr, axis=1)[:, None]
    overlap = np.abs(unit @ unit.T)
    np.fill_diagonal(overlap, 0.0)
    assert overlap.max() < 1 - 1e-12


def test_survey_labels_encode_the_models():
    m = enumerate_models(10)
    labels = list(m.labels)
    assert len(labels) == len(set(labels)) == 418
    for label, v in zip(labels, _survey_vectors(m), strict=True):
        gens = _parse_label(label)
        field = (Fraction(gens[0], 3), *gens[1:])  # generator coefficients -> field charges
        # proportional with a positive factor
        k = next(Fraction(a, b) for a, b in zip(v, field, strict=True) if b != 0)
        assert k > 0
        assert tuple(k * f for f in field) == v
        assert math.gcd(*gens) == 1


@pytest.mark.parametrize("label", ["B-L", "B-3Lmu", "Lmu-Ltau", "Le-Lmu", "3B-2Le-7Lmu"])
def test_survey_contains_named_models_once(label):
    m = enumerate_models(10)
    labels = list(m.labels)
    assert labels.count(label) == 1
    i = labels.index(label)
    member = m[i]
    assert member.labels[()] == label
    gens = _parse_label(label)
    ref = Model.from_generators(*map(float, gens))
    ratio = {float(member.charge(f)) / float(ref.charge(f)) for f in ref.charges if ref.charge(f)}
    assert len(ratio) == 1
    assert ratio.pop() > 0


def test_survey_excludes_anomalous_and_dark_photon():
    labels = set(enumerate_models(10).labels)
    assert "B" not in labels
    assert "Lmu" not in labels
    assert "0" not in labels
    assert "B-3Le" in labels
    assert "Le-Ltau" in labels


@pytest.mark.parametrize("bad", [0, -1, 2.5, "x", None, True, 3.0])
def test_survey_bad_max_charge(bad):
    with pytest.raises(ValueError, match="max_charge must be a positive integer"):
        enumerate_models(bad)


def test_survey_accepts_numpy_integer():
    assert enumerate_models(np.int64(2)).size == len(_brute_force_survey(2))


def test_top_level_exports():
    import zprime_atlas

    assert zprime_atlas.model is model
    assert zprime_atlas.Model is Model
    assert zprime_atlas.alpha_r is alpha_r
    assert zprime_atlas.enumerate_models is enumerate_models
    assert zprime_atlas.model("L_mu-L_tau").name == "Lmu-Ltau"


# --- copies keep every field ---------------------------------------------------------------------


def _transforms() -> dict[str, object]:
    return {
        "reshape": lambda m: m.reshape(2, 2),
        "slice": lambda m: m[1:3],
        "fancy index": lambda m: m[[0, 2]],
        "scaled": lambda m: m.scaled(2.0),
        "negated": lambda m: -m,
        "with_dark_sector": lambda m: m.with_dark_sector(0.5, 0.01),
    }


@pytest.mark.parametrize("name", list(_transforms()))
def test_every_transform_keeps_name_family_and_dark_sector(name: str) -> None:
    base = alpha_r(np.array([0.1, 0.2, 0.3, 0.4]), 1.5).with_dark_sector(2.0, 0.003)
    base.name = "my family"
    out = _transforms()[name](base)
    assert out.name == "my family"
    assert out.family["kind"] == "alpha-R"
    assert set(out.family) == set(base.family)
    assert out.family is not base.family  # a copy: editing it leaves the original alone
    assert out.m_dark == (0.01 if name == "with_dark_sector" else 0.003)
    assert out.has_dark_sector
    assert out.generators is not None
    assert out.labels.shape == out.shape


def test_a_single_member_is_named_by_its_label_and_keeps_the_family() -> None:
    batch = alpha_r(np.array([0.0, np.pi / 2]), 0.0)
    one = batch[1]
    assert one.family["kind"] == "alpha-R"
    assert one.name == str(batch.labels[1])


def test_copies_carry_every_field() -> None:
    from zprime_atlas.models import _COPIED_FIELDS

    m = Model({"mu": 1.0, "tau": -1.0}, name="custom")
    instance_fields = set(vars(m)) - {"_charges", "_shape"}
    assert instance_fields == set(_COPIED_FIELDS)
    with pytest.raises(TypeError, match="no field 'colour'"):
        m._evolve(colour="red")


@pytest.mark.parametrize(
    ("text", "gens"),
    [
        ("B-2Le-Lmu", (1.0, -2.0, -1.0, 0.0)),
        ("3B-10Le+Lmu", (3.0, -10.0, 1.0, 0.0)),
        ("L_mu-L_tau", (0.0, 0.0, 1.0, -1.0)),
        ("B-3/2Lmu-3/2Ltau", (1.0, 0.0, -1.5, -1.5)),
        ("B-L", (1.0, -1.0, -1.0, -1.0)),
        ("0.5B-1.5Le", (0.5, -1.5, 0.0, 0.0)),
    ],
)
def test_generator_strings_parse(text, gens) -> None:
    from zprime_atlas.models import generator_label, parse_generators

    assert parse_generators(text) == gens
    assert parse_generators(generator_label(*gens)) == pytest.approx(gens)  # round trip


def test_every_survey_label_round_trips() -> None:
    from zprime_atlas.models import parse_generators

    survey = enumerate_models(10)
    gens = survey.generators
    for i, label in enumerate(survey.labels[:80]):
        parsed = np.array(parse_generators(str(label)))
        row = np.array([float(np.broadcast_to(gens[k], survey.shape)[i]) for k in GENERATORS])
        # labels may be normalised differently from the stored generators: same direction
        assert abs(abs(np.dot(parsed, row)) / np.linalg.norm(parsed) / np.linalg.norm(row) - 1) < 1e-12
        assert model(str(label)).is_anomaly_free()


@pytest.mark.parametrize(
    ("text", "message"),
    [("B--L", "cannot read '--L'"), ("Bx", "cannot read 'x'"), ("", "empty"), ("3", "cannot read '3'")],
)
def test_bad_generator_strings_say_what_is_wrong(text, message) -> None:
    with pytest.raises(ValueError, match=message):
        model(text)
