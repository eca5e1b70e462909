"""Neutrino trident production: the constraint (:mod:`.constraint`), the nu gamma -> nu mu mu
matrix element (:mod:`.matrix_element`), the measurements (:mod:`.experiments`), the Q^2 tables
(:mod:`.tables`) and their generator (:mod:`.generate`). Physics: docs/physics/trident.md.
"""

from ...nuclear import helm_form_factor
from .constraint import CCFRTrident, CHARM2Trident, TridentConstraint
from .experiments import CCFR, CHARM2, TridentExperiment
from .matrix_element import nu_gamma_dsigma_dq2, sm_couplings
from .tables import photon_flux, q2_distribution, write_table

__all__ = [
    "CCFR",
    "CHARM2",
    "CCFRTrident",
    "CHARM2Trident",
    "TridentConstraint",
    "TridentExperiment",
    "helm_form_factor",
    "nu_gamma_dsigma_dq2",
    "photon_flux",
    "q2_distribution",
    "sm_couplings",
    "write_table",
]


def __dir__() -> list[str]:
    return list(__all__)
