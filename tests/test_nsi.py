"""Earth-matter NSI from X exchange: the matching, the eps cancellation, the limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas import constraints
from zprime_atlas.constants import E_CHARGE, G_FERMI, Y_N_EARTH
from zprime_atlas.constraints.nsi import NSIBounds, NSIOscillation, earth_nsi, load_bounds
from zprime_atlas.models import Model, model


def test_registered_with_unverified_label_visible() -> None:
    c = constraints.get("nsi_oscillation")
    assert isinstance(c, NSIOscillation)
    assert "UNVERIFIED" in c.notes
    assert not c.info.verified
    assert "1805.04530" in c.citation


def test_matching_for_le_minus_lmu() -> None:
    # PHYSICS 4.2: for L_e-L_mu (x_e = +1), eps^e_ee = +g^2/(sqrt2 G_F m^2) > 0 (electrons only).
    g, m = 1e-4, 0.05
    nsi = earth_nsi(model("Le-Lmu"), m, g)
    expected = g**2 / (math.sqrt(2) * G_FERMI * m**2)
    assert nsi["ee"] == pytest.approx(expected, rel=1e-12)
    assert nsi["mumu"] == pytest.approx(-expected, rel=1e-12)
    assert nsi["tautau"] == 0.0


def test_quark_universal_matching_is_two_point_zero_five_xb() -> None:
    # PHYSICS 16: eps^E_aa = g^2 x_a [x_e + (1 + Y_n) x_B] / (sqrt2 G_F m^2), "2.05 x_B + x_e".
    g, m = 3e-5, 0.2
    x = model("B-3Lmu")  # x_B = 1, x_mu = -3
    nsi = earth_nsi(x, m, g)
    expected = g**2 * (-3) * (1 + Y_N_EARTH) / (math.sqrt(2) * G_FERMI * m**2)
    assert nsi["mumu"] == pytest.approx(expected, rel=1e-12)
    assert math.isclose(Y_N_EARTH, 1.051)


def test_kinetic_mixing_gives_no_earth_matter_nsi() -> None:
    # eps e Q_f: proton +eps e, electron -eps e: cancels in neutral matter (PHYSICS 4.2).
    for eps in (1e-3, -0.2):
        nsi = earth_nsi(model("Lmu-Ltau"), 0.01, 1e-3, eps=eps)
        assert all(abs(v) < 1e-12 * 1e-6 / (G_FERMI * 1e-4) for v in nsi.values())
    # ... also with the loop mixing, and for any model the result does not depend on eps.
    x = model("B-3Le")
    base = earth_nsi(x, 0.03, 2e-5)
    for kw in ({"eps": 1e-4}, {"eps_over_g": 3.0}, {"eps": "loop", "loop_scale": 100.0}):
        other = earth_nsi(x, 0.03, 2e-5, **kw)
        for k in base:
            assert other[k] == pytest.approx(base[k], rel=1e-9, abs=1e-15)


def test_no_nsi_when_matter_charge_cancels() -> None:
    # x_e = -(1 + Y_n) x_B: electrons and nucleons cancel in Earth matter (issue text).
    x = Model.from_generators(B=1.0, Le=-(1 + Y_N_EARTH), Lmu=2.0, Ltau=0.0)
    nsi = earth_nsi(x, 0.1, 1e-3)
    assert all(abs(v) < 1e-9 for v in nsi.values())
    c = constraints.get("nsi_oscillation")
    assert np.isinf(c.limit(0.1, x))


def test_flavour_universal_models_are_invisible_to_oscillations() -> None:
    c = constraints.get("nsi_oscillation")
    assert np.all(np.isinf(c.limit([1e-3, 0.1, 10.0], model("B-L"))))
    assert np.all(np.isinf(c.limit([1e-3, 0.1], model("Lmu-Ltau"), eps="loop")))


def test_limit_in_closed_form_for_b_minus_3lmu() -> None:
    # D_tau = eps_tautau - eps_mumu = g^2 (0 - (-3)) (1 + Y_n)/(sqrt2 G_F m^2) <= upper edge.
    c = constraints.get("nsi_oscillation")
    b = c.bounds
    m = np.array([0.001, 0.1, 3.0])
    coef = 3 * (1 + Y_N_EARTH) / (math.sqrt(2) * G_FERMI * m**2)
    expected = np.minimum(np.sqrt(b.tautau_minus_mumu[1] / coef), np.sqrt(b.ee_minus_mumu[1] / coef))
    np.testing.assert_allclose(c.limit(m, model("B-3Lmu")), expected, rtol=1e-12)
    np.testing.assert_allclose(c.ratio(m, expected, model("B-3Lmu")), 1.0, rtol=1e-12)
    # Contact form: the limit on g is proportional to m_X.
    assert c.limit(2.0, model("B-3Lmu")) / c.limit(1.0, model("B-3Lmu")) == pytest.approx(2.0)


def test_negative_side_uses_the_lower_edge() -> None:
    b = NSIBounds((-0.1, 1.0), (-0.01, 0.5), 0.95, "test", ("0",), "verified", "")
    c = NSIOscillation(b)
    x = model("B-3Ltau")  # x_tau - x_mu = -3 < 0: D_tau negative
    nsi = earth_nsi(x, 0.1, 1e-5)
    d_tau = nsi["tautau"] - nsi["mumu"]
    assert d_tau < 0
    assert c.ratio(0.1, 1e-5, x) == pytest.approx(max(d_tau / -0.01, (nsi["ee"] - nsi["mumu"]) / 1.0))
    assert c.info.verified


CHARGE = st.one_of(
    st.just(0.0), st.floats(1e-3, 3, allow_subnormal=False), st.floats(-3, -1e-3, allow_subnormal=False)
)


@settings(max_examples=30, deadline=None)
@given(
    B=CHARGE, Le=CHARGE, Lmu=CHARGE,
    k=st.floats(0.1, 10, allow_subnormal=False),
    m=st.floats(1e-4, 10, allow_subnormal=False),
    r=st.floats(-1, 1, allow_subnormal=False),
)  # fmt: skip
def test_scaling_and_sign_flip(B, Le, Lmu, k, m, r) -> None:
    c = constraints.get("nsi_oscillation")
    x = Model.from_generators(B, Le, Lmu, -3 * B - Le - Lmu)
    lim = c.limit(m, x, eps_over_g=r)
    assert c.limit(m, x.scaled(k), eps_over_g=k * r) == pytest.approx(lim / k, rel=1e-12)
    assert c.limit(m, -x, eps_over_g=-r) == pytest.approx(lim, rel=1e-12)


def test_bounds_file_is_consistent() -> None:
    b = load_bounds()
    assert b.status in ("verified", "unverified")
    assert b.ee_minus_mumu[0] < 0 < b.ee_minus_mumu[1]
    assert b.tautau_minus_mumu[0] < 0 < b.tautau_minus_mumu[1]
    # The file's conversion of the u-quark row: (2 + Y_n) x 0.130 = 0.397.
    assert b.tautau_minus_mumu[1] == pytest.approx((2 + Y_N_EARTH) * 0.130, rel=1e-3)
    assert E_CHARGE > 0
