"""The two trident measurements: target, beam spectrum and result (docs/physics/trident.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..._quadrature import gauss_legendre

__all__ = ["CCFR", "CHARM2", "TridentExperiment"]


@dataclass(frozen=True)
class TridentExperiment:
    """One trident measurement: target, beam, result.

    The beam is a Gamma distribution phi(E) ~ E^(k-1) exp(-k E/<E>) on [e_min, e_max]
    (``shape`` = k, ``mean_energy`` = <E>): an approximation documented in ``beam_note``.
    """

    name: str
    title: str
    experiment: str
    journal: str
    measured: float
    error: float
    targets: tuple[tuple[int, float, float], ...]
    target_note: str
    mean_energy: float
    shape: float
    e_min: float
    e_max: float
    beam_note: str

    def spectrum_nodes(self, n: int = 24) -> tuple[NDArray, NDArray]:
        """Beam energies [GeV] and normalised weights (Gauss-Legendre in ln E)."""
        ln_e, w = gauss_legendre(n, math.log(self.e_min), math.log(self.e_max))
        e = np.exp(ln_e)
        k, mean = self.shape, self.mean_energy
        log_phi = k * ln_e - k * e / mean  # ln[E phi(E)]: the d ln E measure
        weights = w * np.exp(log_phi - log_phi.max())
        return e, weights / weights.sum()

    @property
    def table_name(self) -> str:
        return f"{self.name}_q2_weights.csv"


#: CCFR (Fermilab E744/E770), iron target, quad-triplet wide-band nu/nu-bar beam.
CCFR = TridentExperiment(
    name="ccfr_trident",
    title="CCFR neutrino trident nu_mu Fe -> nu_mu mu+ mu- Fe",
    experiment="CCFR",
    journal="S. R. Mishra et al., Phys. Rev. Lett. 66 (1991) 3117",
    measured=0.82,
    error=0.28,
    targets=((26, 56.0, 1.0),),
    target_note="iron (Z = 26, A = 56), Helm form factor",
    mean_energy=160.0,
    shape=3.0,
    e_min=20.0,
    e_max=600.0,
    beam_note=(
        "approximate beam: Gamma distribution with mean 160 GeV (the <E_nu> ~ 160 GeV quoted for "
        "CCFR by 1406.2332, unverified) and shape k = 3 (rms 92 GeV) on 20-600 GeV; the real "
        "quad-triplet spectrum was not available"
    ),
)

#: CHARM-II, glass target (taken as SiO2), CERN SPS wide-band beam.
CHARM2 = TridentExperiment(
    name="charm2_trident",
    title="CHARM-II neutrino trident nu_mu (glass) -> nu_mu mu+ mu-",
    experiment="CHARM-II",
    journal="D. Geiregat et al., Phys. Lett. B 245 (1990) 271",
    measured=1.58,
    error=0.57,
    targets=((14, 28.0, 1.0), (8, 16.0, 2.0)),
    target_note="glass taken as SiO2 (Si Z = 14, A = 28; 2 O Z = 8, A = 16), Helm form factors",
    mean_energy=23.7,
    shape=2.0,
    e_min=2.0,
    e_max=200.0,
    beam_note=(
        "approximate beam: Gamma distribution with mean 23.7 GeV (CHARM-II wide-band nu_mu beam "
        "mean energy, unverified) and shape k = 2 on 2-200 GeV; nu and nu-bar give the same ratio "
        "(the V-A interference vanishes), so the mix does not matter"
    ),
)


def __dir__() -> list[str]:
    return list(__all__)
