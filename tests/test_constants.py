"""Tests of zprime_atlas.constants against published values (PHYSICS.md section 10).

Every reference number below is typed in from its source (CODATA 2022, PDG via PHYSICS.md
section 10, Erler & Ferro-Hernandez 2018), never recomputed from the module itself.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from zprime_atlas import constants as c

# --- couplings ---------------------------------------------------------------------------------


def test_alpha_em_codata():
    # CODATA 2022: 1/alpha = 137.035999177(21).
    alpha = c.ALPHA_EM
    assert alpha == pytest.approx(1.0 / 137.035999177, rel=1e-9)
    assert alpha == pytest.approx(7.2973525643e-3, rel=1e-9)


def test_elementary_charge_heaviside_lorentz():
    # PHYSICS.md section 0: e = sqrt(4 pi alpha) ~ 0.30282.
    e = c.E_CHARGE
    assert e == pytest.approx(0.30282, abs=1e-5)
    assert e**2 / (4.0 * math.pi) == pytest.approx(1.0 / 137.035999177, rel=1e-9)


def test_fermi_constant():
    # CODATA 2022 / PDG: G_F = 1.1663787(6) x 1e-5 GeV^-2.
    g_fermi = c.G_FERMI
    assert g_fermi == pytest.approx(1.1663787e-5, abs=6e-12)


def test_higgs_vev():
    # v = (sqrt2 G_F)^(-1/2) = 246.22 GeV (PHYSICS.md sections 0 and 10).
    v = c.HIGGS_VEV
    assert v == pytest.approx(246.22, abs=0.005)
    assert v**-2 == pytest.approx(math.sqrt(2.0) * 1.1663787e-5, rel=1e-6)


def test_low_energy_weak_mixing_angle():
    # Thomson-limit MS-bar value: 0.23868 (Erler & Ferro-Hernandez 2018); PDG quotes 0.23857(5).
    # Either way it lies in [0.2385, 0.2390] and is NOT the on-shell 0.22305 or m_Z-scale 0.2312.
    assert 0.2385 <= c.SIN2_THETA_W_LOW <= 0.2390


def test_alpha_s_mz():
    # PDG 2024 world average 0.1180(9).
    alpha_s = c.ALPHA_S_MZ
    assert alpha_s == pytest.approx(0.1180, abs=0.0009)


def test_hbar_in_gev_seconds():
    # CODATA: hbar = 6.582119569e-16 eV s exactly (derived from exact h and e).
    hbar = c.HBAR_GEV_S
    assert hbar == pytest.approx(6.582119569e-25, rel=1e-9)
    # hbar c = 0.1973269804 GeV fm, c = 299792458 m/s exactly.
    assert hbar * 299792458.0 * 1e15 == pytest.approx(0.1973269804, rel=1e-9)


# --- masses and widths (PHYSICS.md section 10, in MeV there) ---------------------------------

_MEV = 1e-3


@pytest.mark.parametrize(
    ("value", "reference_mev", "tol_mev"),
    [
        pytest.param(c.M_E, 0.51099895069, 1e-9, id="m_e"),
        pytest.param(c.M_MU, 105.6583755, 3e-6, id="m_mu"),
        pytest.param(c.M_TAU, 1776.93, 0.12, id="m_tau"),
        pytest.param(c.M_PI0, 134.9768, 5e-4, id="m_pi0"),
        pytest.param(c.M_PI_CHARGED, 139.57039, 2e-4, id="m_pi+"),
        pytest.param(c.M_ETA, 547.862, 0.02, id="m_eta"),
        pytest.param(c.M_ETA_PRIME, 957.78, 0.06, id="m_eta'"),
        pytest.param(c.M_RHO, 775.26, 0.3, id="m_rho"),
        pytest.param(c.M_OMEGA, 782.66, 0.13, id="m_omega"),
        pytest.param(c.M_PHI, 1019.46, 0.02, id="m_phi"),
        pytest.param(c.WIDTH_RHO, 147.4, 0.9, id="Gamma_rho"),
        pytest.param(c.WIDTH_OMEGA, 8.68, 0.13, id="Gamma_omega"),
        pytest.param(c.WIDTH_PHI, 4.249, 0.013, id="Gamma_phi"),
        pytest.param(c.M_Z, 91187.6, 2.1, id="m_Z"),
    ],
)
def test_masses_in_gev_match_pdg(value, reference_mev, tol_mev):
    assert value == pytest.approx(reference_mev * _MEV, abs=tol_mev * _MEV)


def test_mass_hierarchy_and_units():
    # A unit slip (MeV left unconverted) would put m_mu above 1.
    assert 0 < c.M_E < c.M_MU < c.M_PI0 < c.M_PI_CHARGED < c.M_TAU < c.M_Z
    ratio = c.M_MU / c.M_E
    assert ratio == pytest.approx(206.7682830, rel=1e-7)  # CODATA 2022 mu/e mass ratio


def test_particle_version_recorded():
    assert c.PARTICLE_VERSION.startswith("1.1")


# --- fermion bookkeeping -------------------------------------------------------------------------


def test_fermion_keys():
    assert c.FERMIONS == (
        "u", "d", "s", "c", "b", "t", "e", "mu", "tau", "nu_e", "nu_mu", "nu_tau",
    )  # fmt: skip
    assert set(c.QUARKS) | set(c.LEPTONS) == set(c.FERMIONS)
    assert not set(c.QUARKS) & set(c.LEPTONS)
    assert set(c.CHARGED_FERMIONS) == set(c.FERMIONS) - set(c.NEUTRINOS)
    assert c.NEUTRINO_OF == {"e": "nu_e", "mu": "nu_mu", "tau": "nu_tau"}


def test_electric_charges_gell_mann_nishijima():
    # Q = T3 + Y for the left-handed doublet members, with Y_Q = 1/6, Y_L = -1/2.
    y_q, t3 = Fraction(1, 6), Fraction(1, 2)
    for f in ("u", "c", "t"):
        assert Fraction(c.ELECTRIC_CHARGE[f]).limit_denominator(10) == t3 + y_q
    for f in ("d", "s", "b"):
        assert Fraction(c.ELECTRIC_CHARGE[f]).limit_denominator(10) == -t3 + y_q
    for lep, nu in c.NEUTRINO_OF.items():
        assert c.ELECTRIC_CHARGE[lep] == -1.0
        assert c.ELECTRIC_CHARGE[nu] == 0.0


def test_colours_and_generation_neutrality():
    assert all(c.COLOURS[q] == 3 for q in c.QUARKS)
    assert all(c.COLOURS[lep] == 1 for lep in c.LEPTONS)
    # A full generation is electrically neutral: sum N_c Q over (u, d, e, nu) = 0 (so hydrogen is).
    for gen in (("u", "d", "e", "nu_e"), ("c", "s", "mu", "nu_mu"), ("t", "b", "tau", "nu_tau")):
        total = sum(c.COLOURS[f] * c.ELECTRIC_CHARGE[f] for f in gen)
        assert total == pytest.approx(0.0, abs=1e-15)


def test_fermion_masses_for_loops_and_thresholds():
    assert set(c.FERMION_MASS) == set(c.FERMIONS)
    assert c.FERMION_MASS["e"] == c.M_E
    assert c.FERMION_MASS["mu"] == c.M_MU
    assert c.FERMION_MASS["tau"] == c.M_TAU
    assert all(c.FERMION_MASS[nu] == 0.0 for nu in c.NEUTRINOS)
    # Darkcast constituent-like quark masses (arXiv:1801.04847): u, d 0.33, s 0.5, c 1.5, b 4.8.
    assert [c.FERMION_MASS[q] for q in ("u", "d", "s", "c", "b")] == [0.33, 0.33, 0.5, 1.5, 4.8]
    assert c.FERMION_MASS["t"] == pytest.approx(172.5, abs=1.5)  # PDG top mass, GeV


def test_snapshot_is_what_scipy_and_particle_give() -> None:
    # data/constants/reference_values.json is a snapshot of scipy.constants and the `particle` PDG
    # table (start-up cost, reproducibility); with the snapshot's versions installed it must equal a
    # fresh read exactly, and with other versions agree to the precision those tables change by.
    import importlib.util
    import json
    from importlib import resources

    path = resources.files("zprime_atlas").joinpath("data", "constants", "generate.py")
    spec = importlib.util.spec_from_file_location("constants_generate", str(path))
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    fresh = generate.read()
    folder = resources.files("zprime_atlas").joinpath("data", "constants")
    shipped = json.loads(folder.joinpath("reference_values.json").read_text())
    same_versions = (fresh["scipy_version"], fresh["particle_version"]) == (
        shipped["scipy_version"], shipped["particle_version"])  # fmt: skip
    for table in ("codata", "codata_physical_constants", "pdg_mass_MeV", "pdg_width_MeV"):
        assert fresh[table].keys() == shipped[table].keys()
        for key, value in shipped[table].items():
            if same_versions:
                assert fresh[table][key] == value, (table, key)
            else:  # another CODATA edition or PDG year: small shifts only
                tol = 1e-6 if table.startswith("codata") else 2e-2
                assert fresh[table][key] == pytest.approx(value, rel=tol), (table, key)


def test_importing_the_package_does_not_import_scipy_particle_or_h5py() -> None:
    # start-up cost: scipy.constants, scipy.interpolate, the PDG table, h5py (files), numba
    # (kernels) and importlib.metadata (plugins) load on first use only
    import subprocess
    import sys

    heavy = "('scipy', 'particle', 'scipy.interpolate', 'tqdm', 'h5py', 'numba', 'importlib.metadata')"
    code = f"import sys, zprime_atlas; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_csv_reader_splits_lines_as_the_csv_module_does() -> None:
    """_csv.rows_with_lines splits a line without quotes at its commas and sends quoted lines to
    the csv module: the same fields as csv for every line, comments and blank lines skipped with
    their line numbers kept; every shipped table and recast file reads the same both ways."""
    import csv
    import io
    from pathlib import Path

    from zprime_atlas import _csv

    def reference(text: str) -> list[tuple[int, list[str]]]:
        out = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            s = line.strip()
            if s and not s.startswith("#"):
                out.append((lineno, [f.strip() for f in next(csv.reader(io.StringIO(s)))]))
        return out

    text = ('# provenance\n\nm_GeV, eps ,r\n1e-3,2.5e-4,0.5\n  \n 2 , 3,,\n"a,b", c\n'
            'x,"y ""q"" z",w\n,\n  # indented comment\n1,2,3 # not a comment\n\'a\',b\n')
    got = _csv.rows_with_lines(text)
    assert got == reference(text)
    assert got[3] == (7, ["a,b", "c"])  # a quoted comma: one field
    assert got[5] == (9, ["", ""])
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("recasts/**/*.csv"), *root.glob("zprime_atlas/data/**/*.csv")]
    assert len(files) > 40
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _csv.rows_with_lines(text) == reference(text), path
