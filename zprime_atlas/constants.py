"""Physical constants in GeV units, each defined once with its source.

CODATA values come from :mod:`scipy.constants`; particle masses and widths from the PDG table bundled
with the `particle` package (MeV there, converted to GeV here, once). Both are read through a
snapshot, ``data/constants/reference_values.json``, written by ``data/constants/generate.py`` from
those packages (it records their versions; a test checks it against a fresh read): importing
scipy.constants and loading the PDG table would cost about 0.3 s at every start-up, and the snapshot
keeps the numbers independent of the installed `particle` release. Everything else carries its
reference and year in the comment next to it. Outputs record :data:`PARTICLE_VERSION`, the
`particle` release whose PDG table the snapshot holds.

Fermion bookkeeping (keys, electric charges, colour factors) also lives here, so that every module
speaks of the same twelve fermions.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

__all__ = [
    "ALPHA_EM",
    "ALPHA_S_MZ",
    "AVOGADRO",
    "CHARGED_FERMIONS",
    "CHARGED_LEPTONS",
    "COLOURS",
    "ELECTRIC_CHARGE",
    "E_CHARGE",
    "FERMIONS",
    "FERMION_MASS",
    "G_FERMI",
    "HBARC_GEV_CM",
    "HBARC_GEV_FM",
    "HBAR_GEV_S",
    "HIGGS_VEV",
    "LEPTONS",
    "M_B_POLE",
    "M_C_POLE",
    "M_E",
    "M_ETA",
    "M_ETA_PRIME",
    "M_MU",
    "M_OMEGA",
    "M_PHI",
    "M_PI0",
    "M_PI_CHARGED",
    "M_RHO",
    "M_TAU",
    "M_Z",
    "NEUTRINOS",
    "NEUTRINO_OF",
    "PARTICLE_VERSION",
    "QUARKS",
    "SIN2_THETA_W_LOW",
    "WIDTH_OMEGA",
    "WIDTH_PHI",
    "WIDTH_RHO",
    "Y_N_EARTH",
]

_MEV = 1e-3  # GeV per MeV

_SNAPSHOT: dict[str, Any] = json.loads(
    resources.files("zprime_atlas").joinpath("data", "constants", "reference_values.json").read_text()
)
_CODATA: dict[str, float] = {**_SNAPSHOT["codata"], **_SNAPSHOT["codata_physical_constants"]}

#: Version of the `particle` package whose PDG table supplied the masses below (the snapshot's).
PARTICLE_VERSION: str = _SNAPSHOT["particle_version"]


def _pdg_mass(pdgid: int) -> float:
    """Mass of a PDG particle in GeV (the `particle` table is in MeV)."""
    return _known(_SNAPSHOT["pdg_mass_MeV"], pdgid, "mass") * _MEV


def _pdg_width(pdgid: int) -> float:
    """Total width of a PDG particle in GeV."""
    return _known(_SNAPSHOT["pdg_width_MeV"], pdgid, "width") * _MEV


def _known(table: dict[str, float], pdgid: int, what: str) -> float:
    if str(pdgid) not in table:
        raise ValueError(
            f"the constants snapshot has no {what} for PDG id {pdgid}: add it to "
            "data/constants/generate.py and regenerate"
        )
    return float(table[str(pdgid)])


# --- couplings ---------------------------------------------------------------------------------

#: Fine-structure constant at q^2 = 0 (CODATA 2022 via scipy.constants).
ALPHA_EM: float = _CODATA["fine_structure"]
#: Elementary charge in natural Heaviside-Lorentz units, e = sqrt(4 pi alpha) ~ 0.3028.
E_CHARGE: float = math.sqrt(4.0 * math.pi * ALPHA_EM)
#: Fermi constant in GeV^-2 (CODATA 2022 via scipy.constants; 1.1663787e-5).
G_FERMI: float = _CODATA["Fermi coupling constant"]
#: Higgs vacuum expectation value v = (sqrt(2) G_F)^(-1/2) = 246.22 GeV.
HIGGS_VEV: float = (math.sqrt(2.0) * G_FERMI) ** -0.5
#: Low-energy (Thomson-limit, MS-bar) weak mixing angle sin^2 theta_W(0) = 0.23868(5)(2):
#: Erler & Ferro-Hernandez, JHEP 03 (2018) 196, arXiv:1712.09146 (abstract, verified).
#: Not scipy's 'weak mixing angle' (0.22305), which is the on-shell 1 - m_W^2/m_Z^2.
SIN2_THETA_W_LOW: float = 0.23868
#: Strong coupling at m_Z, PDG 2024 world average 0.1180(9) (R.L. Workman et al., PTEP 2022 083C01
#: and 2024 update). Used only for the O(alpha_s) QCD factor of perturbative hadronic widths.
ALPHA_S_MZ: float = 0.1180
#: Earth-matter neutron-to-electron ratio Y_n = N_n/N_e = 1.0491 for atmospheric neutrinos, computed
#: from PREM with its electron fractions (zprime_atlas/data/nsi/generate_earth_yn.py: column ratio over
#: upgoing directions uniform in cos(zenith)). Used for Earth-matter NSI; defined here once.
Y_N_EARTH: float = 1.0491

# --- unit conversion ---------------------------------------------------------------------------

#: hbar in GeV s (CODATA 2022 via scipy.constants): lifetime [s] = HBAR_GEV_S / width [GeV].
HBAR_GEV_S: float = _CODATA["hbar"] / _CODATA["e"] * 1e-9
#: hbar c in GeV fm and GeV cm (CODATA 2022 via scipy.constants): lengths <-> inverse GeV.
HBARC_GEV_FM: float = _CODATA["hbar"] * _CODATA["c"] / _CODATA["e"] * 1e-9 * 1e15
HBARC_GEV_CM: float = HBARC_GEV_FM * 1e-13
#: Avogadro's number (CODATA 2022 via scipy.constants).
AVOGADRO: float = _CODATA["N_A"]

# --- masses and widths (GeV), PDG table of the `particle` package ------------------------------

M_E: float = _pdg_mass(11)
M_MU: float = _pdg_mass(13)
M_TAU: float = _pdg_mass(15)
M_PI0: float = _pdg_mass(111)
M_PI_CHARGED: float = _pdg_mass(211)
M_ETA: float = _pdg_mass(221)
M_ETA_PRIME: float = _pdg_mass(331)
M_RHO: float = _pdg_mass(113)
M_OMEGA: float = _pdg_mass(223)
M_PHI: float = _pdg_mass(333)
WIDTH_RHO: float = _pdg_width(113)
WIDTH_OMEGA: float = _pdg_width(223)
WIDTH_PHI: float = _pdg_width(333)
M_Z: float = _pdg_mass(23)
_M_TOP: float = _pdg_mass(6)

#: Charm and bottom pole-like masses that set the running of alpha_s between flavour thresholds
#: (PDG 2024 quark-mass review: m_c(m_c) = 1.27 GeV, m_b(m_b) = 4.18 GeV, MS-bar).
M_C_POLE: float = 1.27
M_B_POLE: float = 4.18

# --- fermions ----------------------------------------------------------------------------------

#: The twelve fermion keys used everywhere (left- and right-handed fields share a charge).
FERMIONS: tuple[str, ...] = (
    "u", "d", "s", "c", "b", "t", "e", "mu", "tau", "nu_e", "nu_mu", "nu_tau",
)  # fmt: skip
QUARKS: tuple[str, ...] = ("u", "d", "s", "c", "b", "t")
CHARGED_LEPTONS: tuple[str, ...] = ("e", "mu", "tau")
NEUTRINOS: tuple[str, ...] = ("nu_e", "nu_mu", "nu_tau")
LEPTONS: tuple[str, ...] = CHARGED_LEPTONS + NEUTRINOS
CHARGED_FERMIONS: tuple[str, ...] = QUARKS + CHARGED_LEPTONS
#: Neutrino of each charged lepton's doublet.
NEUTRINO_OF: dict[str, str] = {"e": "nu_e", "mu": "nu_mu", "tau": "nu_tau"}

#: Electric charges Q_f in units of the positron charge (Q_e = -1).
ELECTRIC_CHARGE: dict[str, float] = {
    "u": 2 / 3, "c": 2 / 3, "t": 2 / 3,
    "d": -1 / 3, "s": -1 / 3, "b": -1 / 3,
    "e": -1.0, "mu": -1.0, "tau": -1.0,
    "nu_e": 0.0, "nu_mu": 0.0, "nu_tau": 0.0,
}  # fmt: skip
#: Colour multiplicities N_c.
COLOURS: dict[str, int] = {f: (3 if f in QUARKS else 1) for f in FERMIONS}

#: Masses used for X -> f fbar thresholds and for the fermion loops of the kinetic mixing.
#: Leptons and the top quark: PDG via `particle`. Light and heavy quarks: the constituent-like
#: masses of Darkcast (Ilten, Soreq, Williams, Xue, arXiv:1801.04847, section 2: u, d 0.33,
#: s 0.5, c 1.5, b 4.8 GeV), which place the perturbative thresholds near the hadronic ones.
#: Quark loops below ~1 GeV are model dependent whatever mass is used (see couplings.py).
FERMION_MASS: dict[str, float] = {
    "u": 0.33, "d": 0.33, "s": 0.5, "c": 1.5, "b": 4.8, "t": _M_TOP,
    "e": M_E, "mu": M_MU, "tau": M_TAU,
    "nu_e": 0.0, "nu_mu": 0.0, "nu_tau": 0.0,
}  # fmt: skip


def __dir__() -> list[str]:
    return list(__all__)
