"""The constraint registry and the electron g-2 constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas import constraints, gm2
from zprime_atlas.constants import E_CHARGE, M_E
from zprime_atlas.constraints.electron_gm2 import ElectronGM2
from zprime_atlas.models import Model, model


def test_registry_names_and_lookup() -> None:
    names = constraints.names()
    assert names == sorted(names)
    assert {"gm2_electron_cs", "gm2_electron_rb"} <= set(names)
    c = constraints.get("gm2_electron_rb")
    assert c.name == "gm2_electron_rb"
    assert constraints.origin("gm2_electron_rb") == "built-in"
    assert [x.name for x in constraints.all()] == names
    with pytest.raises(ValueError, match="unknown constraint 'nope'; known constraints: "):
        constraints.get("nope")


def test_registering_a_duplicate_name_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered by built-in"):
        constraints.register(ElectronGM2("rb"))


def test_metadata_complete() -> None:
    for c in constraints.all():
        assert c.title
        assert c.citation
        assert c.notes
        lo, hi = c.mass_range
        assert 0 <= lo < hi
        assert 0 < c.cl < 1


@pytest.mark.parametrize("source", ["cs", "rb"])
def test_limit_is_where_ratio_reaches_one(source: str) -> None:
    c = ElectronGM2(source)
    m = np.geomspace(1e-3, 5, 12)
    for name in ("B-L", "Le-Lmu", "dark-photon", "B-3Le"):
        x = model(name)
        lim = c.limit(m, x)
        assert np.allclose(c.ratio(m, lim, x), 1.0, rtol=1e-9)
        assert np.all(c.ratio(m, 0.99 * lim, x) < 1)
        assert np.all(c.ratio(m, 1.01 * lim, x) > 1)


def test_largest_allowed_contribution() -> None:
    # One-sided 95% CL: Rb allows Delta + 1.645 sigma; Cs (negative Delta) allows
    # -|D| + sqrt(D^2 + 2.706 sigma^2) (physical boundary at a_X = 0).
    rb, cs = gm2.ELECTRON_DATASETS["rb"], gm2.ELECTRON_DATASETS["cs"]
    assert ElectronGM2("rb").a_crit == pytest.approx(rb.delta + 1.6449 * rb.sigma, rel=1e-4)
    expected_cs = cs.delta + math.sqrt(cs.delta**2 + 2.7055 * cs.sigma**2)
    assert ElectronGM2("cs").a_crit == pytest.approx(expected_cs, rel=1e-4)
    assert 0 < ElectronGM2("cs").a_crit < ElectronGM2("rb").a_crit


def test_dark_photon_light_limit_in_eps() -> None:
    # For m_X << m_e: Delta a_e = eps^2 alpha/(2 pi)  ->  eps_lim = sqrt(2 pi a_crit / alpha).
    c = ElectronGM2("rb")
    g_lim = c.limit(1e-10, model("dark-photon"))
    eps_lim = math.sqrt(8 * math.pi**2 * c.a_crit) / E_CHARGE
    assert g_lim / E_CHARGE == pytest.approx(eps_lim, rel=1e-5)
    # Both spellings: g_X = 0 with eps gives r = 1 at eps_lim.
    assert c.ratio(1e-10, 0.0, Model({}), eps=eps_lim) == pytest.approx(1.0, rel=1e-5)


def test_no_electron_coupling_no_limit() -> None:
    c = ElectronGM2("cs")
    assert np.all(np.isinf(c.limit([0.01, 0.1], model("Lmu-Ltau"))))
    # ... but the loop mixing gives Lmu-Ltau an electron coupling -e eps = -0.00437 g (PHYSICS 9).
    lim = c.limit(1e-10, model("Lmu-Ltau"), eps="loop")
    g_e_max = math.sqrt(8 * math.pi**2 * c.a_crit)
    assert lim == pytest.approx(g_e_max / (E_CHARGE * 0.0144331), rel=1e-4)


def test_fixed_eps_limit() -> None:
    c = ElectronGM2("rb")
    x = model("B-L")  # x_e = -1
    m = 0.02
    eps = 2e-5
    lim = c.limit(m, x, eps=eps)
    assert c.ratio(m, lim, x, eps=eps) == pytest.approx(1.0, rel=1e-9)
    # g_e = -g - e eps: mixing adds to |g_e|, so the limit is lower than without eps.
    assert lim < c.limit(m, x)
    # If eps alone is excluded, every g_X > 0 is: the limit is 0.
    assert c.limit(m, x, eps=1.0) == 0.0
    with pytest.raises(ValueError, match="give eps or eps_over_g, not both"):
        c.limit(m, x, eps=1e-5, eps_over_g=0.1)


@settings(max_examples=30, deadline=None)
@given(
    B=st.floats(-3, 3, allow_subnormal=False),
    Le=st.floats(0.05, 3, allow_subnormal=False),
    Lmu=st.floats(-3, 3, allow_subnormal=False),
    k=st.floats(0.2, 5, allow_subnormal=False),
    m=st.floats(1e-4, 10, allow_subnormal=False),
)
def test_charge_scaling_scales_limit(B, Le, Lmu, k, m) -> None:
    # Scaling all charges by k scales every coupling limit by 1/k; a sign flip changes nothing.
    c = ElectronGM2("rb")
    x = Model.from_generators(B, Le, Lmu, -3 * B - Le - Lmu)
    lim = c.limit(m, x)
    assert c.limit(m, x.scaled(k)) == pytest.approx(lim / k, rel=1e-10)
    assert c.limit(m, -x) == pytest.approx(lim, rel=1e-12)


def test_heavy_x_limit_scales_with_mass() -> None:
    # m_X >> m_e: |g_e| < sqrt(12 pi^2 a_crit) m_X / m_e, linear in m_X.
    c = ElectronGM2("rb")
    lim = c.limit([1.0, 2.0], model("Le-Lmu"))
    assert lim[1] / lim[0] == pytest.approx(2.0, rel=1e-4)
    assert lim[0] == pytest.approx(math.sqrt(12 * math.pi**2 * c.a_crit) / M_E, rel=1e-5)
