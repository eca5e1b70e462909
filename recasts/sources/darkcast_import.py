#!/usr/bin/env python3
"""Regenerate the Darkcast-derived recast files of recasts/ from a Darkcast checkout.

Usage (from the repository root)::

    python recasts/sources/darkcast_import.py --git-dir DIR [--git-dir-new DIR] [--check]
    python recasts/sources/darkcast_import.py --checkout PATH [--checkout-new PATH] [--check]

``--git-dir`` is a bare clone of github.com/micha-a-schmidt/darkcast (read at commit
d627d13c834ec6e606e5e77adcb843a01b7edd81, upstream Darkcast v1.2; the later fork commit db9a0f6
breaks the limit files and must not be used); ``--git-dir-new`` a bare clone of
github.com/Noah-Everett/DS-Decay-Scripts, whose folder darkcast/ at commit
2a86698dee49d66b193c99154c63087c8d798f72 holds a newer Darkcast release (FASER 2023, NA62 2023).
With ``--checkout`` a work tree of the same commits is read instead. Every source file is checked
against the sha256 recorded in :data:`SHA256` before it is used; a mismatch stops the script.
``--check`` compares instead of writing and exits 1 if any recast file differs.

What is copied: only the experimental limit points (mass, coupling) of each Darkcast ``.lmt``
file and the production fractions of the ``.prd`` files, every point with its own mass.
Darkcast marks masses without a limit with the value 1e5 (its ``gmax``): such rows split a curve
into separate ``segment``s and are not written. A mass that appears twice keeps its last row (as
Darkcast's own reader does). Rows at m <= 0 (a flat extension to zero mass) are not written.
Everything else (titles, notes, the vocabulary mapping) is ours: see recasts/README.md.
Standard library plus nothing else (numpy is not needed for reading and writing text).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

COMMIT = "d627d13c834ec6e606e5e77adcb843a01b7edd81"
REPO = "https://github.com/micha-a-schmidt/darkcast"
COMMIT_NEW = "2a86698dee49d66b193c99154c63087c8d798f72"
REPO_NEW = "https://github.com/Noah-Everett/DS-Decay-Scripts"
PREFIX_NEW = "darkcast/"
GMAX = 1e5  # Darkcast's marker of "no limit at this mass"
M_E = 5.110e-04  # Darkcast's pars.mfs["e"] (GeV)
GE = 3.02822e-1  # Darkcast's pars.ge (its electric charge), used where a file was divided by it

OUT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Spec:
    """One Darkcast limit and how it becomes a recast file pair."""

    stem: str  # Darkcast limit name (limits/<stem>.py and .lmt)
    name: str
    kind: str  # visible | invisible | dump | displaced
    title: str
    production: tuple[str, ...] = ()
    final_states: tuple[str, ...] = ("e_e",)
    lifetime: str = 'lifetime = { kind = "prompt" }'
    new_release: bool = False
    reference: str = "dark-photon"
    coupling: str = "eps"
    scale: float = 1.0  # multiply the Darkcast column by this
    scale_text: str = ""
    production_fractions: str = ""
    extra: tuple[str, ...] = ()  # further TOML lines
    notes: str = ""
    family: str = ""
    label: str = ""
    column_text: str = ""
    min_mass: float = 0.0  # drop rows below (a Darkcast extension of the published curve)
    min_mass_text: str = ""
    cl: float = 0.90
    cl_text: str = ""
    verified: bool = False
    lines: tuple[str, ...] = field(default=())  # further CSV header lines
    texkey: str = ""  # the paper's INSPIRE texkey when the Darkcast bibtex names another paper
    rvalues: bool = False  # a 2-D Dataset (mass, eps, r) with Efficiency(rvals = True)


_UNVERIFIED_CL = (
    "90% (Darkcast records no confidence level; 90% is assumed here and not yet checked against "
    "the paper: the file is marked verified = false)"
)

# t1 of KLOE: the 8 cm flight-distance requirement boosted with the X energy of e+e- -> gamma X
# (phi -> gamma X) or phi -> eta X at the phi mass (Darkcast's limit files).
_KLOE_GAMMA = ('lifetime = { kind = "window", t0_ps = 0.0, t1_decay_length_m = 0.08, '
               'boost_parent = "phi", boost_recoil = "gamma" }')  # fmt: skip
_KLOE_ETA = ('lifetime = { kind = "window", t0_ps = 0.0, t1_decay_length_m = 0.08, '
             'boost_parent = "phi", boost_recoil = "eta" }')  # fmt: skip


def _dump(ratio_text: str, ratio: float) -> str:
    return (f"# decay volume over shield length {ratio_text} (Darkcast's lratio)\n"
            f'lifetime = {{ kind = "displaced", decay_over_shield = {ratio!r} }}')  # fmt: skip


SPECS: tuple[Spec, ...] = (
    Spec("A1_Merkel2011ze", "a1_2011_visible", "visible",
         "A1 (MAMI) e- Z -> e- Z X, X -> e+e- (prompt, 2011)", ("e_e",), family="fixed-target",
         texkey="Merkel:2011ze",
         lines=("paper: Merkel:2011ze (2011). Darkcast's file carries the bibtex of its 2014 update "
                "Merkel:2014avp; the 2011 paper's arXiv id and journal are not in the source and are "
                "left empty",)),
    Spec("A1_Merkel2014avp", "a1_2014_visible", "visible",
         "A1 (MAMI) e- Z -> e- Z X, X -> e+e- (prompt, 2014)", ("e_e",), family="fixed-target",
         extra=('supersedes = ["a1_2011_visible"]  # Darkcast: an update of Merkel:2011ze',),),
    Spec("APEX_Abrahamyan2011gv", "apex_2011_visible", "visible",
         "APEX (JLab) e- Z -> e- Z X, X -> e+e- (prompt)", ("e_e",), family="fixed-target"),
    Spec("HPS_Adrian2018scb", "hps_2018_visible", "visible",
         "HPS (JLab) e- W -> e- W X, X -> e+e- (prompt, 2015 engineering run)", ("e_e",),
         family="fixed-target"),
    Spec("BESIII_Ablikim2017aab", "besiii_2017_visible", "visible",
         "BESIII e+e- -> gamma X, X -> e+e-, mu+mu- (prompt)", ("e_e",), ("e_e", "mu_mu"),
         family="e+e-", cl=0.90, verified=True,
         cl_text=("90% (stated in the abstract of arXiv:1705.04265: 'a 90% confidence level upper "
                  "limit on the mixing strength')")),
    Spec("BaBar_Lees2014xha", "babar_2014_visible", "visible",
         "BaBar e+e- -> gamma X, X -> e+e-, mu+mu- (prompt)", ("e_e",), ("e_e", "mu_mu"),
         family="e+e-", cl=0.90, cl_text="90%", verified=True,
         notes=("The e+e- and mu+mu- channels are combined as in the paper: the recast scales with "
                "g_e^2 BR(X -> ee + mumu). Prompt: valid while c tau at the limit is far below the "
                "vertex resolution.")),
    Spec("BaBar_TheBABAR2016rlg", "babar_2016_4mu", "visible",
         "BaBar e+e- -> mu+mu- X, X -> mu+mu-", ("mu_mu",), ("mu_mu",),
         reference="Lmu-Ltau", coupling="g", family="e+e-", cl=0.90, cl_text="90%", verified=True,
         column_text=("g' of L_mu-L_tau (Z' couples g' to mu, nu_mu and -g' to tau, nu_tau; no "
                      "kinetic mixing). Darkcast files this curve under its dark-photon model, but "
                      "the numbers are the published g' limit of the paper's figure (abstract: "
                      "'as low as 7e-4')"),
         notes=("Reference model L_mu-L_tau without kinetic mixing, with its own BR(X -> mu mu) "
                "(X -> nu nu open), as the paper's interpretation assumes equal couplings to mu, "
                "tau, nu_mu, nu_tau. Production by radiation off the muons, ~ g_mu^2.")),
    Spec("BaBar_Lees2017lec", "babar_2017_invisible", "invisible",
         "BaBar e+e- -> gamma X, X -> invisible", ("e_e",), ("invisible",),
         extra=("reference_branching_ratio = 1.0",), family="e+e-", cl=0.90, cl_text="90%",
         verified=True,
         notes=("The published limit assumes BR(A' -> invisible) = 1; a model's invisible BR is "
                "Gamma(X -> nu nu + dark)/Gamma_total. X decaying visibly outside the detector is "
                "not counted (conservative).")),
    Spec("BelleII_Adachi2019otg", "belle2_2019_invisible", "invisible",
         "Belle II e+e- -> mu+mu- X, X -> invisible", ("mu_mu",), ("invisible",),
         reference="Lmu-Ltau", coupling="g", scale=GE,
         scale_text=("Darkcast stores g'/e (divided by its pars.ge = 3.02822e-1); multiplied back "
                     "by 3.02822e-1 here"),
         column_text="g' of L_mu-L_tau (the paper's Z' interpretation)",
         min_mass=1.1565, min_mass_text=("Darkcast's flat extension below the first published "
                                          "point (rows at 0 and 0.002 GeV with the 1.1565 GeV value) "
                                          "is not written"),
         family="e+e-", cl=0.90, cl_text="90%", verified=True,
         notes=("2018 commissioning data (276 pb^-1). Reference L_mu-L_tau with its own "
                "BR(X -> nu nu) from the model.")),
    Spec("LEP_Fox2011fx", "lep_2011_invisible", "invisible",
         "LEP e+e- -> gamma X, X -> invisible (mono-photon, recast by Fox et al.)", ("e_e",),
         ("invisible",), extra=("reference_branching_ratio = 1.0",), family="e+e-"),
    Spec("KLOE_Babusci2012cr", "kloe_2013_visible", "visible",
         "KLOE phi -> eta X, X -> e+e- (prompt)", ("phi_eta",), ("e_e",), lifetime=_KLOE_ETA,
         family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1210.3927: 'upper limit at 90% C.L.')",
         notes=("Darkcast restricts its reference dark photon to the e+e- and mu+mu- widths for "
                "this limit; here the reference is the full dark photon (hadronic widths included), "
                "so that the recast onto the dark photon returns the published points.")),
    Spec("KLOE_Babusci2014sta", "kloe_2014_mumu", "visible",
         "KLOE e+e- -> gamma X, X -> mu+mu- (prompt, 2014)", ("e_e",), ("mu_mu",),
         lifetime=_KLOE_GAMMA, family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1404.7772: 'a 90% CL upper limit')"),
    Spec("KLOE_Anastasi2015qla", "kloe_2015_visible", "visible",
         "KLOE e+e- -> gamma X, X -> e+e- (prompt)", ("e_e",), ("e_e",), lifetime=_KLOE_GAMMA,
         family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1509.00740: 'a 90% CL upper limit')"),
    Spec("KLOE_Anastasi2016ktq", "kloe_2016_pipi", "visible",
         "KLOE e+e- -> gamma X, X -> pi+pi- (prompt)", ("e_e",), ("pi_pi",), lifetime=_KLOE_GAMMA,
         family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1603.06086: 'a limit at 90% CL')"),
    Spec("KLOE_Anastasi2018azp_mumu", "kloe_2018_mumu", "visible",
         "KLOE-2 e+e- -> gamma X, X -> mu+mu- (prompt, 2018)", ("e_e",), ("mu_mu",),
         lifetime=_KLOE_GAMMA, family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1807.02691: 'A 90% CL limit')"),
    Spec("KLOE_Anastasi2018azp_combined", "kloe_2018_combined", "visible",
         "KLOE-2 e+e- -> gamma X, X -> mu+mu- + pi+pi- combined (prompt)", ("e_e",),
         ("mu_mu", "pi_pi"), lifetime=_KLOE_GAMMA, family="e+e-", cl=0.90, verified=True,
         cl_text="90% (stated in the abstract of arXiv:1807.02691: 'The combined 90% CL limit')"),
    Spec("NA48_Batley2015lha", "na48_2015_visible", "visible",
         "NA48/2 pi0 -> gamma X, X -> e+e- (prompt)", ("pi0_gamma",), ("e_e",),
         lifetime=('lifetime = { kind = "window", t0_ps = 0.0, t1_decay_length_m = 1.0, '
                   "x_energy_gev = 50.0 }"), family="meson decays", cl=0.90, verified=True,
         cl_text=("90% (the abstract of arXiv:1504.00607 states no CL; the paper's HEPData record "
                  "ins1357601, Table 1 = data of its Fig. 4: 'The obtained 90% CL upper limits (ULs) "
                  "on the mixing parameter')")),
    Spec("NA62_CortinaGil2019nuo", "na62_2019_invisible", "invisible",
         "NA62 pi0 -> gamma X, X -> invisible", ("pi0_gamma",), ("invisible",),
         extra=("reference_branching_ratio = 1.0",), family="meson decays"),
    Spec("LHCb_Aaij2017rft_prompt", "lhcb_2017_prompt", "visible",
         "LHCb pp -> X + anything, X -> mu+mu- (prompt-like, 1.6 fb^-1)", (), ("mu_mu",),
         production_fractions="lhcb_production_fractions.csv",
         lifetime=('lifetime = { kind = "window", t0_ps = 0.0, t1_ps = 0.1, t1_gev_ps = 0.004, '
                   't1_threshold = "mu_mu" }'),
         family="LHCb", cl=0.90, cl_text="90%", verified=True,
         notes=("Data driven: LHCb normalises to the prompt gamma* -> mu mu yield, so the recast "
                "scales with the production mix (meson decays, vector-meson mixing, Drell-Yan) of "
                "each model relative to the dark photon. t1 = 0.1 ps + 0.004 GeV ps/(m - 2 m_mu) as "
                "coded in Darkcast's limit file (its prose says 0.04).")),
    Spec("LHCb_Aaij2019bvg_prompt", "lhcb_2019_prompt", "visible",
         "LHCb pp -> X + anything, X -> mu+mu- (prompt-like, 5.5 fb^-1)", (), ("mu_mu",),
         production_fractions="lhcb_production_fractions.csv",
         lifetime=('lifetime = { kind = "window", t0_ps = 0.0, t1_ps = 0.1, t1_gev_ps = 0.004, '
                   't1_threshold = "mu_mu" }'),
         family="LHCb", cl=0.90, cl_text="90%", verified=True,
         notes=("Data driven: LHCb normalises to the prompt gamma* -> mu mu yield, so the recast "
                "scales with the production mix of each model relative to the dark photon. "
                "t1 = 0.1 ps + 0.004 GeV ps/(m - 2 m_mu) as coded in Darkcast's limit file.")),
    Spec("LHCb_Aaij2017rft_displaced", "lhcb_2017_displaced", "displaced",
         "LHCb pp -> X + anything, X -> mu+mu- (displaced vertex, 1.6 fb^-1)", (), ("mu_mu",),
         production_fractions="lhcb_production_fractions.csv", rvalues=True,
         lifetime='lifetime = { kind = "rvalues" }',
         family="LHCb", label="LHCb 2017 displaced", cl=0.90, cl_text="90%", verified=True,
         notes=("r-value table: per (mass, eps) the upper limit on the observed yield over the yield "
                "expected for the dark photon. A model is compared with the dark photon of the same "
                "lifetime (the efficiencies cancel), scaled by the production mix and BR(mu mu); beyond "
                "the tabulated eps Darkcast's window [0, tau_edge] (longer lifetimes) or "
                "[tau_edge, inf) (shorter) is used. The production fractions are those of the prompt "
                "selection (Ilten:2018crw); fiducial differences of the displaced selection are "
                "neglected, as in Darkcast.")),
    Spec("LHCb_Aaij2019bvg_displaced", "lhcb_2019_displaced", "displaced",
         "LHCb pp -> X + anything, X -> mu+mu- (displaced vertex, 5.5 fb^-1)", (), ("mu_mu",),
         production_fractions="lhcb_production_fractions.csv", rvalues=True,
         lifetime='lifetime = { kind = "rvalues" }',
         family="LHCb", label="LHCb 2019 displaced", cl=0.90, cl_text="90%", verified=True,
         notes=("r-value table: per (mass, eps) the upper limit on the observed yield over the yield "
                "expected for the dark photon. A model is compared with the dark photon of the same "
                "lifetime (the efficiencies cancel), scaled by the production mix and BR(mu mu); beyond "
                "the tabulated eps Darkcast's window [0, tau_edge] (longer lifetimes) or "
                "[tau_edge, inf) (shorter) is used. The production fractions are those of the prompt "
                "selection (Ilten:2018crw); Darkcast warns that fiducial differences change them "
                "somewhat.")),
    Spec("CMS_CMS2019kiy", "cms_2019_prompt", "visible",
         "CMS pp -> X + anything, X -> mu+mu- (scouting, prompt-like)", (), ("mu_mu",),
         production_fractions="cms_2019_production_fractions.csv",
         lifetime=('lifetime = { kind = "window", t0_ps = 0.0, '
                   "t1_pieces = [[0.0, inf, 0.0], [45.0, 5.0, 0.0], [130.0, -36.6, 0.312]] }"),
         family="CMS",
         notes=("Impact-parameter requirement as a proper-time cut t1(m) (Darkcast's limit file): "
                "none below 45 GeV, 5 ps up to 130 GeV, then -36.6 ps + 0.312 ps/GeV m. "
                "Drell-Yan production fractions per quark flavour from Darkcast's CMS table.")),
    Spec("NA64_Banerjee2016tad", "na64_2016_invisible", "invisible",
         "NA64 e- Z -> e- Z X, X -> invisible (2016)", ("e_e",), ("invisible",),
         extra=("reference_branching_ratio = 1.0", 'status = "superseded"'),
         family="NA64"),
    Spec("NA64_Banerjee2017hhz", "na64_2017_invisible", "invisible",
         "NA64 e- Z -> e- Z X, X -> invisible (2017)", ("e_e",), ("invisible",),
         extra=("reference_branching_ratio = 1.0", 'status = "superseded"',
                'supersedes = ["na64_2016_invisible"]'), family="NA64"),
    Spec("NA64_NA642019imj", "na64_2019_invisible", "invisible",
         "NA64 e- Z -> e- Z X, X -> invisible (missing energy, 2.84e11 EOT)", ("e_e",),
         ("invisible",), extra=("reference_branching_ratio = 1.0",
                                'supersedes = ["na64_2016_invisible", "na64_2017_invisible"]'),
         family="NA64", cl=0.90, cl_text="90%", verified=True,
         notes=("Production by electron bremsstrahlung (~ g_e^2); the published curve assumes "
                "BR(A' -> invisible) = 1. For L_mu-L_tau the electron coupling is the loop mixing "
                "only (as in arXiv:2404.06982).")),
    Spec("NA64_Banerjee2018vgk", "na64_2018_visible", "displaced",
         "NA64 e- Z -> e- Z X, X -> e+e- after the dump (visible mode, 5.4e10 EOT)", ("e_e",),
         ("e_e",), lifetime=_dump("4/1", 4.0), extra=('status = "superseded"',), family="NA64",
         cl=0.90, cl_text="90%", verified=True,
         notes="Production by electron bremsstrahlung (~ g_e^2)."),
    Spec("NA64_Banerjee2019hmi", "na64_2020_visible", "displaced",
         "NA64 e- Z -> e- Z X, X -> e+e- after the dump (visible mode, 8.4e10 EOT)", ("e_e",),
         ("e_e",), lifetime=_dump("4/1", 4.0), extra=('supersedes = ["na64_2018_visible"]',),
         family="NA64", cl=0.90, cl_text="90%", verified=True,
         notes="Production by electron bremsstrahlung (~ g_e^2)."),
    Spec("E137_Andreas2012mt", "e137_2012_dump", "dump",
         "E137 (SLAC) electron beam dump, X -> e+e- (Andreas et al. analysis)", ("e_e",),
         lifetime=_dump("204/179", 204.0 / 179.0), family="beam dump"),
    Spec("E137_Bjorken2009mm", "e137_2009_dump", "dump",
         "E137 (SLAC) electron beam dump, X -> e+e- (Bjorken et al. analysis)", ("e_e",),
         lifetime=_dump("204/179", 204.0 / 179.0), family="beam dump"),
    Spec("E141_Riordan1987aw", "e141_1987_dump", "dump",
         "E141 (SLAC) electron beam dump, X -> e+e-", ("e_e",),
         lifetime=_dump("35/0.12", 35.0 / 0.12), family="beam dump"),
    Spec("E774_Bross1989mp", "e774_1991_dump", "dump",
         "E774 (Fermilab) electron beam dump, X -> e+e-", ("e_e",),
         lifetime=_dump("2/0.3", 2.0 / 0.3), family="beam dump"),
    Spec("KEK_Konaka1986cb", "kek_1986_dump", "dump",
         "KEK electron beam dump, X -> e+e-", ("e_e",),
         lifetime=_dump("2.2/2.4", 2.2 / 2.4), family="beam dump"),
    Spec("Orsay_Davier1989wz", "orsay_1989_dump", "dump",
         "Orsay electron beam dump, X -> e+e-", ("e_e",),
         lifetime=_dump("2/1", 2.0), family="beam dump"),
    Spec("CHARM_Bergsma1985qz", "charm_1985_dump", "dump",
         "CHARM proton beam dump, eta -> gamma X, X -> e+e-", ("eta_gamma",),
         lifetime=_dump("10/480", 10.0 / 480.0), family="beam dump"),
    Spec("CHARM_Tsai2019mtm", "charm_2019_dump", "dump",
         "CHARM proton beam dump, eta -> gamma X, X -> e+e- (Tsai et al. reanalysis)",
         ("eta_gamma",), lifetime=_dump("10/480", 10.0 / 480.0), family="beam dump"),
    Spec("NuCAL_Blumlein1990ay", "nucal_1990_dump", "dump",
         "NuCal (U70) proton beam dump, pi0 -> gamma X, X -> e+e-", ("pi0_gamma",),
         lifetime=_dump("23/64", 23.0 / 64.0), family="beam dump"),
    Spec("NuCAL_Blumlein1991xh", "nucal_1991_dump", "dump",
         "NuCal (U70) proton beam dump, proton bremsstrahlung, X -> e+e-", ("p_brem",),
         lifetime=_dump("23/64", 23.0 / 64.0), family="beam dump"),
    Spec("NuCAL_Tsai2019mtm", "nucal_2019_dump", "dump",
         "NuCal (U70) proton beam dump, pi0 -> gamma X, X -> e+e- (Tsai et al. reanalysis)",
         ("pi0_gamma",), lifetime=_dump("23/64", 23.0 / 64.0), family="beam dump"),
    Spec("NOMAD_Astier2001ck", "nomad_2001_dump", "dump",
         "NOMAD proton beam dump, pi0 -> gamma X, X -> e+e-", ("pi0_gamma",),
         lifetime=_dump("7.5/835", 7.5 / 835.0), family="beam dump"),
    Spec("PS191_Bernardi1985ny", "ps191_1985_dump", "dump",
         "PS191 proton beam dump, pi0 -> gamma X, X -> e+e-", ("pi0_gamma",),
         lifetime=_dump("7/128", 7.0 / 128.0), family="beam dump"),
    Spec("FASER_Petersen2023hgm", "faser_2023_dump", "dump",
         "FASER (LHC) pi0, eta -> gamma X, X -> e+e- far downstream", (),
         production_fractions="faser_2023_production_fractions.csv",
         lifetime=_dump("5/480", 5.0 / 480.0), new_release=True, family="beam dump",
         notes=("Production pi0 -> gamma X below m_pi0 - 2 m_e and eta -> gamma X above (Darkcast's "
                "step; written as a fractions table whose step is 1e-9 GeV wide).")),
    Spec("NA62_Dobrich2023dkm", "na62_2023_dump", "dump",
         "NA62 in beam-dump mode, eta -> gamma X, X -> mu+mu-", ("eta_gamma",), ("mu_mu",),
         lifetime=_dump("75/142", 75.0 / 142.0), new_release=True, family="beam dump",
         cl=0.90, verified=True,
         cl_text=("90% (stated in the abstract of arXiv:2303.08666: 'A region of the parameter space "
                  "is excluded at 90% CL')")),
)  # fmt: skip

#: sha256 of every source file read (path relative to the Darkcast root).
SHA256: dict[str, str] = {}  # filled below from _SHA256_TEXT
_SHA256_TEXT = """
2a86698:limits/FASER_Petersen2023hgm.lmt
    a0513b37ca0816a0da6c32948914dc478cf9d4c3d8460be26722a02dcd9a6e49
2a86698:limits/FASER_Petersen2023hgm.py
    44b955fefa525829837fd5282fde93c8822bc947d221e6f049625344d73be549
2a86698:limits/NA62_Dobrich2023dkm.lmt
    ad69becf39886087d3afc1c87888e9214307d9f6be667a6d5fefc227ad2f396f
2a86698:limits/NA62_Dobrich2023dkm.py
    f5c823003ff8ce6829b771913089c0c1a373b99ef687438a54acfeed644df401
2a86698:pars.py
    ac01f929295ab3bcbcca9fd58399f1ba342cb73e85d8071676b8758ba3cc7a2c
d627d13:limits/A1_Merkel2011ze.lmt
    f8b32063e8098f1547b1bb5da7bae55929936f66fbffa768ee9b648ce693a137
d627d13:limits/A1_Merkel2011ze.py
    587e15d3810c2f17ef98b9bf477564d8c3844f59811b69af16ddf7d88d463db8
d627d13:limits/A1_Merkel2014avp.lmt
    df44910d347c446f8251c49f233f9b3005d86a2c0d98813a42161341a596522c
d627d13:limits/A1_Merkel2014avp.py
    a78b66a78ea570b54869e3efdb7470f72dc3271e38b64cc869db9613b0015b73
d627d13:limits/APEX_Abrahamyan2011gv.lmt
    5437c5915ae7b8f40686a24625c238ddb13b4f009f96864bbd8e3fa8b83fa3d3
d627d13:limits/APEX_Abrahamyan2011gv.py
    742593f72a70c5e269f0706af92cc4d7b405e95825160880e90a5f04cf7e0fb5
d627d13:limits/BESIII_Ablikim2017aab.lmt
    74d345455c17b06c0b22b5af164aaee93d243a6d0470751e483ac45c116438a8
d627d13:limits/BESIII_Ablikim2017aab.py
    9c3586e7bdaf18e4cee336b0af9b4de7b2c99f90cec3d1aacbfff6206082c881
d627d13:limits/BaBar_Lees2014xha.lmt
    5b03037c27f248126830114229300f938d89c1509b47eae0088c55bb0b0a2778
d627d13:limits/BaBar_Lees2014xha.py
    c13696c3ce6ce7c0bf1aa0c72423aa95be35bc208f988b382db102b30b2cec8c
d627d13:limits/BaBar_Lees2017lec.lmt
    98a74649b9e276aab98fcebe2fea5dffd418539de846468c5426eaad712d9441
d627d13:limits/BaBar_Lees2017lec.py
    426717b677996ad7d0ce0a44bdbcc300c27d48a850498f0bbf6419e662529c0a
d627d13:limits/BaBar_TheBABAR2016rlg.lmt
    65c1348733eec63f32fc7b5a2573e30009328bc5d051ab0189d69492d5b1edac
d627d13:limits/BaBar_TheBABAR2016rlg.py
    786133e3fa4c6d936c3c8e721e91528a7264b2fc8137341bd63241984b395935
d627d13:limits/BelleII_Adachi2019otg.lmt
    a5dc15d298b61b1a24af742a7ad3da3d4c6d8bcb0b9702f9d1c9f5eb7d75b1d9
d627d13:limits/BelleII_Adachi2019otg.py
    14fc8423330a004dadbef3ec5f66a7dbca8ea057011c1d44f0d6420bfa18c297
d627d13:limits/CHARM_Bergsma1985qz.lmt
    dc3cca59303e630ec3711b12028d00dbbabd8c0c7c822a9c46e0fc31f502f0a1
d627d13:limits/CHARM_Bergsma1985qz.py
    8e42fc968b1fe190db1d49b24501462ceb61386f91a5a160b93e9631c47c7cb8
d627d13:limits/CHARM_Tsai2019mtm.lmt
    7c2c9bf5621b2227bbac1dd6d56e16793fcdbb6769ba477e4dc5ba6d66104a40
d627d13:limits/CHARM_Tsai2019mtm.py
    35ea2f40fcfdaabee966867ed32bba099f82396c059a3434cd3a49dfbbc4521e
d627d13:limits/CMS_CMS2019kiy.lmt
    8b5df3a248096dc4c401f0f5f7bf9d56e76524d424599a1ba276b2887aee94de
d627d13:limits/CMS_CMS2019kiy.prd
    f3619e62ec16edee7e60fe1a165bffcdc6e917252eba673d6fc5e1870353931a
d627d13:limits/CMS_CMS2019kiy.py
    accbf2df72f34eee056677df794708464a7b2af69f70d693e2cded56572edcd7
d627d13:limits/E137_Andreas2012mt.lmt
    933ade105ea2707e397cc8e13465cee7db654cb5ec49d395b98243e11cdaea62
d627d13:limits/E137_Andreas2012mt.py
    f03c3e96471e9d4223add60686cfb01c50a17302de99221aa9c061be90e2a15a
d627d13:limits/E137_Bjorken2009mm.lmt
    0e19e759fbe73f4100f0e7bc4be8a2dfe36158f1772a0258be30bf1e9b405db1
d627d13:limits/E137_Bjorken2009mm.py
    b00c7d78a765aeb842d0db0e6c6d4584be9a069410b6b6a2f1f0778794fcee18
d627d13:limits/E141_Riordan1987aw.lmt
    279b51f4b327c592247940274c04d7fa52164cccbc0122d65cba9529ebfbc2b7
d627d13:limits/E141_Riordan1987aw.py
    601328db4c0eaafb0a8dcf20c509c0fde27a5da004b68f433a338df65d0ae864
d627d13:limits/E774_Bross1989mp.lmt
    f154e8dc9c80b5d9fac7af97f5c2807398e13b3f55a5e453fb58083a890d0a82
d627d13:limits/E774_Bross1989mp.py
    5396ba60111bfbf924d431cb703293c09d7ca0d89ed755a62e7b943011576fb4
d627d13:limits/HPS_Adrian2018scb.lmt
    49f53061a8aa5026e1d729a853fd64093c94aa669397a9b5e8fe7ff775fdeea2
d627d13:limits/HPS_Adrian2018scb.py
    8af295a86ee9af494fd1605e0a4e430741f1a00ad406371c9a0d0850beb5ac22
d627d13:limits/KEK_Konaka1986cb.lmt
    550f63894d9ced8854d6752cba1ba7f47f5ab705f3aaa4d015bfee333535825c
d627d13:limits/KEK_Konaka1986cb.py
    34f595d2dc10bb8a2c981ff5220f4c0a19bb24cea6c3fd5c9a879aca3e0e40e4
d627d13:limits/KLOE_Anastasi2015qla.lmt
    481bb85ba3bc8868d05dedb17b77bb36f574ae5c72d5cf1e8ac4a82fc7e650ef
d627d13:limits/KLOE_Anastasi2015qla.py
    f87a43179d699b8f082623d36f73c446e121db7ce75721dc62f2368b5d086ca9
d627d13:limits/KLOE_Anastasi2016ktq.lmt
    ef6b953c266ded39f06a924f273ab3fd2f5e02f78b52f9a08ba73f57af2fa958
d627d13:limits/KLOE_Anastasi2016ktq.py
    5e8e74a8ad3d8bf36146ad4473bd7ec451cf1d2b442ffd5cbf7bb2787f8379ad
d627d13:limits/KLOE_Anastasi2018azp_combined.lmt
    93951f560a5f6e1bdab5921128a7a53dee88488e3d08ca81e9e80170db15321e
d627d13:limits/KLOE_Anastasi2018azp_combined.py
    4462ed0bc6eb4286cd746a83650bc42474be56b9eaa3e51d25183eb400190896
d627d13:limits/KLOE_Anastasi2018azp_mumu.lmt
    a111235ca958d51ac5fd2fc030520407e0541f66a2703db04c6e898f7ec2a50e
d627d13:limits/KLOE_Anastasi2018azp_mumu.py
    278cfc0b2d8ea02da781e5386e298c0c53102af09121fcdf495da678f3a0a6bd
d627d13:limits/KLOE_Babusci2012cr.lmt
    5afad1e83bf71a3fbe1c01989631bb8362f9d8617f6fc91c06c0b4cc8b2d24cd
d627d13:limits/KLOE_Babusci2012cr.py
    877f30f245c995c49825ca0c8b2d49fea07590c9d3c1263a47ac03cbccd6b062
d627d13:limits/KLOE_Babusci2014sta.lmt
    7a060bd86bbc1ab67922ab8c39e502220415c6315f955c32914704948aac9813
d627d13:limits/KLOE_Babusci2014sta.py
    e7d8a70ed8f62ce88bb23ef3b9a045cad982b16cf6912efac30a8bdf08999595
d627d13:limits/LEP_Fox2011fx.lmt
    0bbcd33dcb63b13b791cb7b5c6bc4b7578971dc5313ac6ccf7f44f590f9d1fe9
d627d13:limits/LEP_Fox2011fx.py
    4370cc8bfee3e7ef436dc2c3c86e14a2c06f30ef5c8c97cfad3b1a038ed539ab
d627d13:limits/LHCb_Aaij2017rft.prd
    78ed222bb9b8b2a3992a9f274168575c712d1a517e714de55e5a0d06043f3413
d627d13:limits/LHCb_Aaij2017rft_displaced.lmt
    3d511c5f8f42c35230487a7d4043ee977c8b3a41a0d050c507e37356b7b7d370
d627d13:limits/LHCb_Aaij2017rft_displaced.py
    7a03e7b155f6b6ae0c4cd2494426916f117ac0183daeeb72354f352f613f6b3a
d627d13:limits/LHCb_Aaij2017rft_prompt.lmt
    32e3879e606e7e28c62e0d89eb758a930e3fb529f76f8090b1b940b5b108b368
d627d13:limits/LHCb_Aaij2017rft_prompt.py
    3ba642ce17650c4e455e79f7820315c4e1b5fcf01b38b5cb332905661936ba88
d627d13:limits/LHCb_Aaij2019bvg_displaced.lmt
    41c0b74fd360a38bb2bec5f272bd1b70e59b0c4b81b64a64d17b2fec10ad8857
d627d13:limits/LHCb_Aaij2019bvg_displaced.py
    5db7afd388d10cb3e05f82284066f307ace39a351f86afc3e6c0635c8aba7f24
d627d13:limits/LHCb_Aaij2019bvg_prompt.lmt
    c4fd5ba38c9a89e0f105227160bbdf93204301d95f47a8eca2ed606411bc898b
d627d13:limits/LHCb_Aaij2019bvg_prompt.py
    76cf38192345dbbf403af996dba6e92633b1a6680d0664f45ebf74be30c14593
d627d13:limits/NA48_Batley2015lha.lmt
    c3f49aace7477aa004621f79fb3ad463cdbd6d52f194849b5e8eab3a59c8f655
d627d13:limits/NA48_Batley2015lha.py
    a4087af3e1c5cc379f00f8fb29c7fc8c18731ce2bb1148a68f5beb93c4a8e1db
d627d13:limits/NA62_CortinaGil2019nuo.lmt
    6753c213c73173d7b21cb48450250e4b354b5af66cd1e7534f4b665d07f795c1
d627d13:limits/NA62_CortinaGil2019nuo.py
    9f60dfccaa98e9ff00e2545d0cf2d3d31a6059bb5f4a48b66341b33c02ff9e46
d627d13:limits/NA64_Banerjee2016tad.lmt
    31758892377d74e5fa1e64d3c8dcc82cbb250b58aac337c8d08ee91a8abdc020
d627d13:limits/NA64_Banerjee2016tad.py
    05472dfbe745bbc564cedcea2de1af362bbadef21447dad4009365bd4dc530cf
d627d13:limits/NA64_Banerjee2017hhz.lmt
    be134be26f070f24cb1978706400901546836cfca4653626c066cd66da56fb69
d627d13:limits/NA64_Banerjee2017hhz.py
    03808893ab164eab8cd7ce6a594fc458543be1a6e00827bcc5e7948a2c15a095
d627d13:limits/NA64_Banerjee2018vgk.lmt
    63130af5e21840fdd8309292b6f1ce539b167748c44eaddd4d3587135663815e
d627d13:limits/NA64_Banerjee2018vgk.py
    71522cee8f0435cbbb65a72eb7ebbf532bd3fc4139b6f11163367e745cd94c94
d627d13:limits/NA64_Banerjee2019hmi.lmt
    fa6c18740eabdcb32a98dbbad02d9c2850fbd7f2d8e34636491a259a73ecffde
d627d13:limits/NA64_Banerjee2019hmi.py
    cc6ea2072e7e9d7e0863dfecbd031190e18f0d80bc7f5c7bf3762e817ced1663
d627d13:limits/NA64_NA642019imj.lmt
    8c338d25f12121ad70a891d8ed0b033878a5f0a2a2a717af0c511ef3a8b4498c
d627d13:limits/NA64_NA642019imj.py
    7900ef518988b4e43504b9b3b6065fc0132ff8ec68f576fd654f043d5ccc4242
d627d13:limits/NOMAD_Astier2001ck.lmt
    b07cc8da90dbeebe67010fdd4344db339aac211845f2ffb873a79d57be8566a5
d627d13:limits/NOMAD_Astier2001ck.py
    ce2886ae8b76c011ff2bbeb22ffc2e469f94b5c47063e5dea3b2f32ee9d011a0
d627d13:limits/NuCAL_Blumlein1990ay.lmt
    9d848f1f71fb90ae5f8558057033264d7c8f7445aa070fb9d81c1fa122d79640
d627d13:limits/NuCAL_Blumlein1990ay.py
    d2b7f794a78eb0dad439b4d9eac69fe51836a9f7a1cbc8ada963ef929c8a1e1c
d627d13:limits/NuCAL_Blumlein1991xh.lmt
    0bdb75de1f504ef133e67be4c9568726e6b94e1444f7a5c3e91674b0ceb2d8c6
d627d13:limits/NuCAL_Blumlein1991xh.py
    3eab3a8d27e48ba7f177c802aa90379fff4e8c403487f5659acfab0a54f9c25c
d627d13:limits/NuCAL_Tsai2019mtm.lmt
    13108bb8e0c1967b4a9ffc9881e20ae09088ac37e5159b345aea4ce6ad6748a2
d627d13:limits/NuCAL_Tsai2019mtm.py
    d913b9407c129abba5b86caa5283c34fdcfaac8d6d4360f1cd3e973910471f00
d627d13:limits/Orsay_Davier1989wz.lmt
    314da188add26675354f4a81ec3ff9b375bd7bdde7dc1397f02bbfdbe10e179b
d627d13:limits/Orsay_Davier1989wz.py
    d51d66568bedd3ae3b580b1c5ced4c6f9464d25496c3c09ef328f5165ca8f363
d627d13:limits/PS191_Bernardi1985ny.lmt
    eb55e3a1b19576798fed941d6c8f047b1b7b8e62aace2e02cffe8af2956a137f
d627d13:limits/PS191_Bernardi1985ny.py
    b8a6b37bda3048872c13c814ac6399ed937d9bb6211e1bc6ba765e3a4eb9a3db
"""


class Source:
    """Reads files of one Darkcast release from a bare git dir (at a commit) or a checkout."""

    def __init__(self, git_dir: str | None, checkout: str | None, commit: str, prefix: str,
                 repo: str) -> None:  # fmt: skip
        self.git_dir, self.checkout, self.commit, self.prefix, self.repo = (
            git_dir, checkout, commit, prefix, repo)  # fmt: skip

    def read(self, path: str) -> bytes:
        if self.checkout:
            data = (Path(self.checkout) / path).read_bytes()
        else:
            assert self.git_dir
            data = subprocess.run(
                ["git", f"--git-dir={self.git_dir}", "show", f"{self.commit}:{self.prefix}{path}"],
                check=True, capture_output=True,
            ).stdout  # fmt: skip
        digest = hashlib.sha256(data).hexdigest()
        key = f"{self.commit[:7]}:{path}"
        expected = SHA256.get(key)
        if RECORD:
            SHA256[key] = digest
        elif expected != digest:
            sys.exit(f"{key}: sha256 {digest} differs from the recorded {expected}")
        return data


RECORD = False


def _bib(text: str) -> dict[str, str]:
    block = text.split('bibtex = """', 1)[1].split('"""', 1)[0]
    fields = {}
    for key, value in re.findall(r'(\w+)\s*=\s*"([^"]*)"', block):
        fields[key.lower()] = " ".join(value.split())
    texkey = re.search(r"@\w+\{([^,]+),", block)
    fields["texkey"] = texkey.group(1) if texkey else ""
    return fields


def _figure(text: str) -> str:
    notes = " ".join(text.split('notes = """', 1)[1].split('"""', 1)[0].split())
    hit = re.search(r"(figure|Figure|table)\s+(\w+)\s*(\([^)]*\))?\s*of\s+(?:the associated paper, )?"
                    r"([A-Za-z]+:?\d{4}\w*)", notes)  # fmt: skip
    if hit:
        return f"{hit.group(1).lower()} {hit.group(2)} {hit.group(3) or ''} of {hit.group(4)}".replace(
            "  ", " ")
    hit = re.search(r"'([\w.-]+\.txt)'", notes)
    return f"the data file {hit.group(1)} of the paper's supplementary material" if hit else "n/a"


def _journal(bib: dict[str, str]) -> str:
    if "journal" not in bib or "volume" not in bib:
        return ""
    pages = bib.get("pages", "").split("-")[0]
    return f"{bib['journal']} {bib['volume']} ({bib['year']}) {pages}".strip()


def _rows(lmt: str) -> tuple[list[list[float]], int]:
    rows = []
    for line in lmt.splitlines():
        fields = line.split("#")[0].split()
        if fields:
            rows.append([float(v) for v in fields])
    return rows, len(rows)


def _fmt(x: float) -> str:
    return f"{x:.5g}"


def _paper(spec: Spec, text_py: str) -> dict[str, str]:
    """Bibliographic fields of the limit's paper (Darkcast's bibtex, unless it names another)."""
    bib = _bib(text_py)
    if spec.texkey:
        year = re.search(r"(\d{4})", spec.texkey)
        bib = {"texkey": spec.texkey, "year": year.group(1) if year else ""}
    return bib


def _limit_csv(spec: Spec, src: Source, text_py: str, lmt: bytes) -> str:
    bib = _paper(spec, text_py)
    rows, n_source = _rows(lmt.decode())
    two = len(rows[0]) == 3
    below = 0
    if spec.final_states == ("e_e",):
        # The reference (dark photon) has no e+e- signal below 2 m_e (m_e of Darkcast's pars.py):
        # digitised points there say nothing and are not written.
        threshold = 2 * M_E
        below = sum(1 for r in rows if 0 < r[0] < threshold)
        rows = [r for r in rows if r[0] >= threshold]
    dropped_low = sum(1 for r in rows if r[0] < max(spec.min_mass, 1e-300))
    rows = [r for r in rows if r[0] >= spec.min_mass and r[0] > 0]
    # Segments: a row at GMAX closes the current segment; a repeated mass keeps its last row.
    out: list[tuple[int, float, list[float]]] = []
    seg, open_seg, dup, gaps = 0, False, 0, []
    for r in rows:
        m, vals = r[0], r[1:]
        if any(v >= GMAX for v in vals):
            if open_seg:
                gaps.append(out[-1][1])
                seg += 1
            open_seg = False
            continue
        if out and out[-1][1] == m and out[-1][0] == seg:
            out[-1] = (seg, m, vals)
            dup += 1
            continue
        out.append((seg, m, vals))
        open_seg = True
    # renumber segments from 0
    seen: dict[int, int] = {}
    out = [(seen.setdefault(s, len(seen)), m, v) for s, m, v in out]
    column = "eps" if spec.coupling == "eps" else "gprime"
    col_text = spec.column_text or (
        "kinetic mixing of the dark photon (couplings eps e Q_f; Darkcast's dark_photon model)"
        if spec.coupling == "eps" else f"g' of the {spec.reference} model")  # fmt: skip
    lo, hi = out[0][1], out[-1][1]
    src_path = f"limits/{spec.stem}.lmt"
    digest = hashlib.sha256(lmt).hexdigest()
    header = [
        f"# experiment limit: {spec.title}",
        f"# arXiv: {bib['eprint']}" if "eprint" in bib else
        f"# arXiv: INSPIRE {bib['texkey']} (no arXiv number in the Darkcast source)",
        f"# journal: {_journal(bib) or 'n/a'}",
        f"# inspire texkey: {bib['texkey']}",
        f"# figure: {_figure(text_py)} (as digitised in Darkcast)",
        f"# column: {column} = {col_text}"
        + (". Two-sided: excluded for lower < value < upper" if two else ""),
        f"# confidence level: {spec.cl_text or _UNVERIFIED_CL}",
        f"# mass range [GeV]: {_fmt(lo)} - {_fmt(hi)}",
        f"# source repository: {src.repo}",
        f"# source commit: {src.commit}",
        f"# source file: {src.prefix}{src_path}",
        f"# source sha256: {digest}",
        f"# points: {len(out)} written of {n_source} source rows; native resolution, every published"
        " point at its own mass; interpolate only between neighbours of one segment (log-log)",
    ]
    if gaps or seg:
        header.append(f"# segments: {len(seen)}; Darkcast's 1e5 'no limit' rows split the curve "
                      "(no limit between segments)")  # fmt: skip
    if dup:
        header.append(f"# repeated masses: {dup} rows replaced by the later row at the same mass")
    if dropped_low:
        header.append(f"# not written: {dropped_low} rows below {spec.min_mass:g} GeV"
                      + (f" ({spec.min_mass_text})" if spec.min_mass_text else ""))
    if below:
        header.append(f"# not written: {below} rows below the e+e- threshold 2 m_e = {2 * M_E:g} GeV "
                      "(no e+e- signal of the reference there)")  # fmt: skip
    if spec.scale != 1.0:
        header.append(f"# scale: {spec.scale_text}")
    header += [f"# {line}" for line in spec.lines]
    header.append("# generated by recasts/sources/darkcast_import.py (do not edit by hand)")
    lines = header
    if two:
        lines.append(f"m_GeV,{column}_lower,{column}_upper")
        for _s, m, v in out:
            lines.append(f"{_fmt(m)},{_fmt(v[0] * spec.scale)},{_fmt(v[1] * spec.scale)}")
    else:
        lines.append(f"segment,m_GeV,{column}")
        for s, m, v in out:
            lines.append(f"{s},{_fmt(m)},{_fmt(v[0] * spec.scale)}")
    return "\n".join(lines) + "\n"


def _rvalue_csv(spec: Spec, src: Source, text_py: str, lmt: bytes) -> str:
    """An r-value table: every (mass, eps, r) row of the source, in its order (a regular grid)."""
    bib = _paper(spec, text_py)
    rows, n_source = _rows(lmt.decode())
    masses = sorted({r[0] for r in rows})
    eps = sorted({r[1] for r in rows})
    assert len(rows) == len(masses) * len(eps), "not a regular grid"
    header = [
        f"# experiment limit: {spec.title}",
        f"# arXiv: {bib['eprint']}",
        f"# journal: {_journal(bib) or 'n/a'}",
        f"# inspire texkey: {bib['texkey']}",
        f"# figure: {_figure(text_py)} (as tabulated in Darkcast)",
        "# column: eps = kinetic mixing of the dark photon (couplings eps e Q_f; Darkcast's "
        "dark_photon model, its global coupling g); r = upper limit on the observed signal yield "
        "divided by the yield expected for that dark photon (r < 1: excluded)",
        f"# confidence level: {spec.cl_text or _UNVERIFIED_CL}",
        f"# mass range [GeV]: {_fmt(masses[0])} - {_fmt(masses[-1])}",
        f"# eps range: {_fmt(eps[0])} - {_fmt(eps[-1])}",
        f"# source repository: {src.repo}",
        f"# source commit: {src.commit}",
        f"# source file: {src.prefix}limits/{spec.stem}.lmt",
        f"# source sha256: {hashlib.sha256(lmt).hexdigest()}",
        f"# points: {len(rows)} written of {n_source} source rows, a regular grid of "
        f"{len(masses)} masses x {len(eps)} eps values, every point as published",
        "# generated by recasts/sources/darkcast_import.py (do not edit by hand)",
        "m_GeV,eps,r",
    ]
    body = [f"{_fmt(m)},{_fmt(e)},{_fmt(r)}" for m, e, r in rows]
    return "\n".join(header + body) + "\n"


def _toml(spec: Spec, src: Source, text_py: str) -> str:
    bib = _paper(spec, text_py)
    year = bib.get("year", "")
    arxiv = [bib["eprint"]] if "eprint" in bib else []
    lines = [
        "format_version = 1",
        "# generated by recasts/sources/darkcast_import.py from Darkcast's limit "
        f"{spec.stem} ({src.repo} @ {src.commit[:7]})",
        f'name = "{spec.name}"',
        f'title = "{spec.title}"',
        f'experiment = "{spec.stem.split("_")[0]}"',
        f"year = {year}",
        f'kind = "{spec.kind}"',
        "arxiv = [" + ", ".join(f'"{a}"' for a in arxiv) + "]",
        f'inspire = "{bib["texkey"]}"',
    ]
    if _journal(bib):
        lines.append(f'journal = "{_journal(bib)}"')
    lines += [
        f"cl = {spec.cl:.2f}",
        f"verified = {'true' if spec.verified else 'false'}",
        f'data = "{spec.name}.csv"',
        f'reference = "{spec.reference}"',
        f'coupling = "{spec.coupling}"',
    ]
    if spec.production_fractions:
        lines.append(f'production_fractions = "{spec.production_fractions}"')
    else:
        lines.append("production = [" + ", ".join(f'"{p}"' for p in spec.production) + "]")
    lines.append("final_states = [" + ", ".join(f'"{f}"' for f in spec.final_states) + "]")
    lines.append(spec.lifetime)
    lines += list(spec.extra)
    if spec.family:
        lines.append(f'family = "{spec.family}"')
    label = spec.label or f"{spec.stem.split('_')[0]} {year}"
    lines.append(f'label = "{label}"')
    lines.append(
        f'provenance = "Darkcast limit {spec.stem} ({_figure(text_py)}), every published point at '
        f'native resolution; see the CSV header for repository, commit, file and sha256."'
    )
    if spec.notes:
        lines.append(f'notes = "{spec.notes}"')
    return "\n".join(lines) + "\n"


def _fractions_csv(name: str, src: Source, prd_path: str, prd: bytes, rename: dict[str, str]) -> str:
    text = prd.decode().splitlines()
    header = text[0].replace("#", "").split()
    body = [ln.split() for ln in text[1:] if ln.split() and not ln.lstrip().startswith("#")]
    cols = [rename.get(c, c) for c in header[1:]]
    out = [
        f"# production fractions per mechanism of the dark-photon signal ({name})",
        f"# source repository: {src.repo}",
        f"# source commit: {src.commit}",
        f"# source file: {src.prefix}{prd_path}",
        f"# source sha256: {hashlib.sha256(prd).hexdigest()}",
        "# every source row written; fractions interpolated linearly in mass between rows",
        "# generated by recasts/sources/darkcast_import.py (do not edit by hand)",
        "m_GeV," + ",".join(cols),
    ]
    last = None
    for row in body:
        if row[0] == last:
            out[-1] = ",".join(row)
            continue
        out.append(",".join(row))
        last = row[0]
    return "\n".join(out) + "\n"


def _faser_fractions(src: Source) -> str:
    # The FASER limit file's production: pi0 -> gamma X below m_pi0 - 2 m_e, eta -> gamma X above,
    # with m_pi0 and m_e of Darkcast's pars.py.
    pars = src.read("pars.py").decode()
    m_pi0 = float(re.search(r'"pi0"\s*:\s*([0-9.eE+-]+)', pars).group(1))  # type: ignore[union-attr]
    m_e = float(re.search(r'"e"\s*:\s*([0-9.eE+-]+)', pars).group(1))  # type: ignore[union-attr]
    step = m_pi0 - 2 * m_e
    return "\n".join([
        "# production fractions of the FASER 2023 recast: Darkcast's limit file uses pi0 -> gamma X",
        f"# below m_pi0 - 2 m_e = {step!r} GeV and eta -> gamma X above (masses from its pars.py)",
        f"# source repository: {src.repo}",
        f"# source commit: {src.commit}",
        f"# source files: {src.prefix}limits/FASER_Petersen2023hgm.py, {src.prefix}pars.py",
        "# generated by recasts/sources/darkcast_import.py (do not edit by hand)",
        "m_GeV,pi0_gamma,eta_gamma",
        "1e-06,1,0",
        f"{step!r},1,0",
        f"{step + 1e-9!r},0,1",
        "10.0,0,1",
    ]) + "\n"  # fmt: skip


def build(old: Source, new: Source) -> dict[str, str]:
    files: dict[str, str] = {}
    for spec in SPECS:
        src = new if spec.new_release else old
        text_py = src.read(f"limits/{spec.stem}.py").decode()
        lmt = src.read(f"limits/{spec.stem}.lmt")
        write = _rvalue_csv if spec.rvalues else _limit_csv
        files[f"{spec.name}.csv"] = write(spec, src, text_py, lmt)
        files[f"{spec.name}.toml"] = _toml(spec, src, text_py)
    files["lhcb_production_fractions.csv"] = _fractions_csv(
        "LHCb 2017 and 2019 prompt-like searches", old, "limits/LHCb_Aaij2017rft.prd",
        old.read("limits/LHCb_Aaij2017rft.prd"), {})  # fmt: skip
    files["cms_2019_production_fractions.csv"] = _fractions_csv(
        "CMS 2019 dimuon scouting search", old, "limits/CMS_CMS2019kiy.prd",
        old.read("limits/CMS_CMS2019kiy.prd"), {})  # fmt: skip
    files["faser_2023_production_fractions.csv"] = _faser_fractions(new)
    return files


def main(argv: list[str] | None = None) -> int:
    global RECORD
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--git-dir")
    p.add_argument("--git-dir-new")
    p.add_argument("--checkout")
    p.add_argument("--checkout-new")
    p.add_argument("--check", action="store_true")
    p.add_argument("--record-sha256", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    RECORD = a.record_sha256
    old = Source(a.git_dir, a.checkout, COMMIT, "", REPO)
    new = Source(a.git_dir_new, a.checkout_new, COMMIT_NEW, PREFIX_NEW, REPO_NEW)
    files = build(old, new)
    if RECORD:
        for key in sorted(SHA256):
            print(f"{key} {SHA256[key]}")
        return 0
    differ = []
    for name, text in files.items():
        path = OUT / name
        if a.check:
            if not path.exists() or path.read_text() != text:
                differ.append(name)
        else:
            path.write_text(text)
    for name in differ:
        print(f"differs: {name}")
    return 1 if differ else 0


_TOKENS = _SHA256_TEXT.split()  # "<commit>:<path>" followed by its sha256, one pair per entry
SHA256.update(zip(_TOKENS[0::2], _TOKENS[1::2], strict=True))

if __name__ == "__main__":
    sys.exit(main())
