"""NSI of X in solar and Earth matter: the matching, the cancellations, the one-parameter test."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zprime_atlas import constraints
from zprime_atlas.constants import G_FERMI, Y_N_EARTH
from zprime_atlas.constraints import nsi as nsi_module
from zprime_atlas.constraints.nsi import (
    NSIOscillation,
    SolarChi2,
    earth_nsi,
    load_inputs,
    model_direction,
)
from zprime_atlas.models import Model, model

NSI = constraints.get("nsi_oscillation")


def test_registered_with_its_status_and_sources_visible() -> None:
    assert isinstance(NSI, NSIOscillation)
    assert not NSI.info.verified  # the SNO polynomial and the atmospheric normalisation are second-hand
    assert "not all read" in NSI.notes
    for arxiv in ("1104.1816", "1109.0763", "0801.4589", "1304.1042"):
        assert arxiv in NSI.citation


def test_matching_for_le_minus_lmu() -> None:
    # For L_e-L_mu (x_e = +1), eps^e_ee = +g^2/(sqrt2 G_F m^2) > 0 (electrons only).
    g, m = 1e-4, 0.05
    nsi = earth_nsi(model("Le-Lmu"), m, g)
    expected = g**2 / (math.sqrt(2) * G_FERMI * m**2)
    assert nsi["ee"] == pytest.approx(expected, rel=1e-12)
    assert nsi["mumu"] == pytest.approx(-expected, rel=1e-12)
    assert nsi["tautau"] == 0.0


def test_quark_universal_matching_is_two_point_zero_five_xb() -> None:
    # eps^E_aa = g^2 x_a [x_e + (1 + Y_n) x_B] / (sqrt2 G_F m^2): "2.05 x_B + x_e".
    g, m = 3e-5, 0.2
    nsi = earth_nsi(model("B-3Lmu"), m, g)
    expected = g**2 * (-3) * (1 + Y_N_EARTH) / (math.sqrt(2) * G_FERMI * m**2)
    assert nsi["mumu"] == pytest.approx(expected, rel=1e-12)
    d = model_direction(model("B-3Lmu"))
    assert float(d["q_earth"]) == pytest.approx(1 + Y_N_EARTH)
    assert (float(d["a"]), float(d["b"])) == (3.0, 3.0)


def test_kinetic_mixing_gives_no_matter_nsi() -> None:
    # The proton's +eps e and the electron's -eps e cancel in neutral matter (Sun and Earth alike).
    for eps in (1e-3, -0.2):
        nsi = earth_nsi(model("Lmu-Ltau"), 0.01, 1e-3, eps=eps)
        assert all(abs(v) < 1e-12 * 1e-6 / (G_FERMI * 1e-4) for v in nsi.values())
    x = model("B-3Le")
    for kw in ({"eps": 1e-4}, {"eps_over_g": 3.0}, {"eps": "loop", "loop_scale": 100.0}):
        assert NSI.ratio(0.03, 2e-5, x, **kw) == pytest.approx(NSI.ratio(0.03, 2e-5, x), rel=1e-12)


def test_lmu_minus_ltau_and_flavour_universal_models_see_no_nsi() -> None:
    # L_mu-L_tau: no charge on e, u, d (matter charge 0) for any mixing; B-L: a = b = 0.
    assert np.all(np.isinf(NSI.limit([1e-3, 0.1, 10.0], model("B-L"))))
    for eps in ("loop", 1e-3):
        assert np.all(np.isinf(NSI.limit([1e-3, 0.1], model("Lmu-Ltau"), eps=eps)))
    assert np.all(NSI.ratio([1e-3, 0.1], 1.0, model("Lmu-Ltau"), eps="loop") == 0.0)


def test_earth_cancellation_leaves_a_solar_effect() -> None:
    # x_e = -(1 + Y_n) x_B: the Earth's matter charge vanishes; the Sun's (Y_n ~ 0.47 in the core)
    # does not, so the solar Delta chi^2 still moves with the coupling.
    x = Model.from_generators(B=1.0, Le=-(1 + Y_N_EARTH), Lmu=2.0, Ltau=Y_N_EARTH - 2.0)
    assert all(abs(v) < 1e-9 for v in earth_nsi(x, 0.1, 1e-3).values())
    d = model_direction(x)
    assert float(d["q_earth"]) == 0.0
    assert float(d["q0"] + d["qn"] * 0.47) == pytest.approx(0.47 - Y_N_EARTH, abs=1e-12)
    chi = NSI.delta_chi2(0.1, np.geomspace(1e-4, 1e-2, 5), x)
    assert np.ptp(chi) > 1.0
    assert np.isfinite(NSI.limit(0.1, x))


def test_standard_fit_reproduces_the_inputs() -> None:
    # Without X the fit finds theta12 inside KamLAND's range and P_ee(10 MeV) near SNO's c0.
    tab = NSI.solar
    chi = tab.chi2(0.0, 0.0)
    th = tab.theta12[int(np.argmin(chi))]
    inputs = NSI.inputs
    lo, hi = inputs.tan2_theta12_err
    assert inputs.tan2_theta12 - 2 * lo < math.tan(th) ** 2 < inputs.tan2_theta12 + 2 * hi
    assert float(np.min(chi)) < 8.0  # 4 measurements + 1 prior, 1 fitted parameter


def test_table_agrees_with_the_direct_calculation() -> None:
    tab = NSI.solar
    rng = np.random.default_rng(7)
    w0 = rng.choice([-1, 1], 60) * 10 ** rng.uniform(-3, 1.5, 60)
    w1 = rng.choice([-1, 1], 60) * 10 ** rng.uniform(-3, 1.5, 60)
    direct = tab.delta_chi2_direct(w0, w1)
    near = direct < 10.0  # where the test decides (crit 3.84)
    err = np.abs(tab(w0, w1)[near] - direct[near])
    # bilinear interpolation at 20 points per decade: small, except near the sharp LMA-D valley
    assert np.median(err) < 0.01
    assert np.quantile(err, 0.9) < 0.1
    assert err.max() < 1.0


def test_shipped_solar_tables_equal_a_fresh_computation() -> None:
    # data/nsi/solar_chi2_tables.npz is derived data: the package uses it only when its fingerprint
    # matches the inputs, and it must be what the code computes from them. Bit for bit on the
    # machine that wrote it; on another CPU numpy's vectorised transcendental functions may round
    # differently (seen: 1.5e-10 relative, 2026-12-02), which is why the package ships the table
    # (every machine then uses the same numbers); the test allows 1e-9 relative.
    for solutions in ("both", "LMA"):
        stored = nsi_module._stored_table(SolarChi2.fingerprint(NSI.inputs, solutions), solutions)
        assert stored is not None, f"the shipped {solutions} table does not match the inputs"
        np.testing.assert_allclose(stored, SolarChi2(NSI.inputs, solutions)._tabulate(),
                                   rtol=1e-9, atol=0.0)  # fmt: skip


def test_other_inputs_do_not_use_the_shipped_table(tmp_path) -> None:
    text = resources.files("zprime_atlas").joinpath("data", "nsi", "oscillation_inputs.toml").read_text()
    assert "p_ee = 0.51" in text
    path = tmp_path / "inputs.toml"
    path.write_text(text.replace("p_ee = 0.51", "p_ee = 0.55", 1))
    changed = load_inputs(path)
    assert changed.solar != NSI.inputs.solar
    assert nsi_module._stored_table(SolarChi2.fingerprint(changed, "both"), "both") is None


def test_contact_limit_scales_with_the_mass() -> None:
    for name in ("Le-Lmu", "B-3Le", "B-3Ltau"):
        lim = NSI.limit([0.01, 0.02], model(name))
        assert lim[1] / lim[0] == pytest.approx(2.0, rel=1e-6)
        np.testing.assert_allclose(NSI.ratio([0.01, 0.02], lim, model(name)), 1.0, rtol=1e-6)


def test_best_fit_reference_is_tighter_than_the_sm_reference() -> None:
    sm = NSIOscillation(reference="sm")
    for name in ("Le-Lmu", "B-3Le", "Le-Ltau"):
        assert NSI.limit(0.05, model(name)) <= sm.limit(0.05, model(name)) * (1 + 1e-9)
        kappa, chi = NSI.best_fit(model(name))
        assert chi <= 0.0
        assert kappa >= 0.0


def test_scale_moves_the_limit_by_its_square_root() -> None:
    # Delta chi^2 is read at kappa / scale and kappa ∝ g^2: the g limit moves by sqrt(scale).
    for s in (0.5, 2.0):
        other = NSIOscillation(scale=s)
        for name in ("Le-Lmu", "B-3Lmu"):
            ratio = other.limit(0.1, model(name)) / NSI.limit(0.1, model(name))
            assert ratio == pytest.approx(math.sqrt(s), rel=1e-3)
    with pytest.raises(ValueError, match="scale must be a positive number, got -1"):
        NSIOscillation(scale=-1)


def test_lma_only_is_at_least_as_strong() -> None:
    lma = NSIOscillation(solutions="LMA")
    for name in ("B-3Le", "Le-Ltau"):
        assert lma.limit(0.05, model(name)) <= NSI.limit(0.05, model(name)) * (1 + 1e-9)


def test_inputs_file_errors_name_the_file(tmp_path) -> None:
    default = load_inputs()
    assert default.sno is not None
    assert default.solar
    assert default.atmospheric
    bad = tmp_path / "bad.toml"
    text = (
        "[kamland]\narxiv='0'\ndm21_ev2=7e-5\ntan2_theta12=0.5\ntan2_theta12_err=[0.1,0.1]\n"
        "[theta13]\narxiv='0'\nsin2_2theta13=0.08\ndm31_ev2=2.5e-3\n[theta23]\narxiv='0'\n"
        "sin2_theta23=0.5\n[[solar]]\nlabel='x'\narxiv='0'\nflux='be7'\nenergy_MeV=0.862\n"
        "p_ee=0.5\nsigma=0.1\n[[atmospheric]]\nlabel='a'\narxiv='0'\nquantity='tautau_minus_mumu'\n"
        "interval=[-0.1,0.1]\ninterval_cl=0.9\nnormalisation='q'\n"
    )
    bad.write_text(text)
    with pytest.raises(ValueError, match=r"bad.toml: normalisation must be 'e' or 'd', got 'q'"):
        load_inputs(bad)
    bad.write_text("not toml [")
    with pytest.raises(ValueError, match=r"bad\.toml is not valid TOML"):
        load_inputs(bad)
    with pytest.raises(ValueError, match="cannot read NSI inputs file"):
        load_inputs(tmp_path / "missing.toml")


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
    x = Model.from_generators(B, Le, Lmu, -3 * B - Le - Lmu)
    lim = NSI.limit(m, x, eps_over_g=r)
    assert NSI.limit(m, x.scaled(k), eps_over_g=k * r) == pytest.approx(lim / k, rel=1e-4)
    assert NSI.limit(m, -x, eps_over_g=-r) == pytest.approx(lim, rel=1e-4)


def test_an_overflowing_kappa_is_no_index_error_and_zero_charge_stays_zero() -> None:
    """g^2/m^2 beyond double precision (kappa = inf) once gave inf x 0 = NaN and an IndexError in
    the table lookup: a model without the NSI direction stays at r = 0, others are excluded."""
    import warnings

    c = constraints.get("nsi_oscillation")
    m, g = np.array([1e-9, 1e-3]), np.array([1e200, 1e-3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow of g^2 itself
        for name in ("B-L", "Lmu-Ltau"):
            assert c.ratio(m, g, model(name)).tolist() == [0.0, 0.0]
        r = c.ratio(m, g, model("B-3Lmu"))
    assert not np.any(np.isnan(r))
    assert r[0] >= 1.0


def _earth_generator():
    import importlib.util

    path = resources.files("zprime_atlas") / "data" / "nsi" / "generate_earth_yn.py"
    spec = importlib.util.spec_from_file_location("generate_earth_yn", str(path))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_earth_yn_is_computed_from_the_shipped_prem_table() -> None:
    """Y_n(Earth) of the inputs file and of constants is the PREM column average (no recalled
    number); its limits: mantle-only chords (1.0173) and the vertical one through the core."""
    gen = _earth_generator()
    value = gen.earth_yn()
    assert round(value, 4) == NSI.inputs.y_n_earth == Y_N_EARTH
    r, _rho, _ye = gen.load()
    assert r[0] == 0.0
    assert r[-1] == 1.0
    assert len(r) == 201
    mantle = gen.chord_columns(np.array([-0.5]))
    assert mantle[0][0] / mantle[1][0] == pytest.approx((1 - 0.4957) / 0.4957, rel=1e-9)
    vertical = gen.chord_columns(np.array([-1.0]))
    assert mantle[0][0] / mantle[1][0] < value < vertical[0][0] / vertical[1][0]
    # an isotropic average must not depend on the quadrature: 4x the directions, same 4 digits
    assert round(gen.earth_yn(1600), 4) == round(value, 4)


def test_earth_prem_table_is_its_source_byte_for_byte() -> None:
    from pathlib import Path

    source = Path("/work/.mirror/arguelles+nuSQuIDS/repo")
    if not source.is_dir():
        pytest.skip("the nuSQuIDS mirror is not on this machine")
    gen = _earth_generator()
    assert gen.TABLE.read_text() == gen.rebuild(source)
