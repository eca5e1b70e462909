r"""Solar nu_e survival with matter effects and flavour-diagonal non-standard interactions (NSI).

Physics (docs/physics/nsi.md):

- Matter potential in the flavour basis, per unit of the standard charged-current potential
  V_CC(r) = sqrt2 G_F n_e(r) [GeV]:  diag(1 + D_e(r), 0, D_tau(r)), where D_a = eps_aa - eps_mumu
  (the flavour-universal part drops out of oscillations).
- Three-flavour adiabatic evolution reduced to two flavours (Kuo-Pantaleone): rotate by
  O23 U13 and drop the heavy state (Delta m31^2 / 2E >> V). The 2x2 matter block is

      M11 = V [c13^2 (1 + D_e) + s13^2 c23^2 D_tau],   M22 = V s23^2 D_tau,
      M12 = +V s13 s23 c23 D_tau,

  (derived in docs/physics/nsi.md; checked against a full 3x3 diagonalisation in the tests), and with
  k = Delta m21^2 / 2E the effective mixing angle at the production point is

      cos 2 theta_m = (k cos 2theta12 - (M11 - M22)) / sqrt((k cos 2theta12 - (M11 - M22))^2
                                                         + (k sin 2theta12 + 2 M12)^2).

- Adiabatic propagation out of the Sun (valid for LMA: the adiabaticity parameter is >> 1), decoherence
  on the way to Earth, no Earth regeneration (day-night effect of a few percent, neglected):

      P_ee = c13^4 (1 + cos 2theta_m cos 2theta12) / 2 + s13^4.

- Production-region average over the radial distribution of each flux of a standard solar model
  (data/solar/solar_model.csv: BS05(AGS,OP), Bahcall, Serenelli & Basu, astro-ph/0412440), by
  equal-weight quantile points of that distribution.

Units: energies and potentials in GeV, Delta m^2 in eV^2 (converted here), densities in N_A cm^-3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constants import AVOGADRO, G_FERMI, HBARC_GEV_CM

__all__ = [
    "FLUXES",
    "SolarModel",
    "potential_cc",
    "production_points",
    "standard_solar_model",
    "survival_probability",
]

#: Fluxes with a tabulated production distribution.
FLUXES: tuple[str, ...] = ("pp", "pep", "be7", "b8")

_SQRT2_GF = math.sqrt(2.0) * G_FERMI
_EV2_TO_GEV2 = 1e-18


def potential_cc(ne_na: ArrayLike) -> NDArray[np.float64]:
    """V_CC = sqrt2 G_F n_e [GeV] for n_e given in units of N_A cm^-3."""
    return _SQRT2_GF * np.asarray(ne_na, dtype=float) * AVOGADRO * HBARC_GEV_CM**3


def survival_probability(
    E_nu: ArrayLike,
    ne_na: ArrayLike,
    theta12: ArrayLike,
    theta13: float,
    theta23: float,
    dm21_ev2: float,
    d_e: ArrayLike = 0.0,
    d_tau: ArrayLike = 0.0,
    dm31_ev2: float = 2.5e-3,
) -> NDArray[np.float64]:
    """P_ee of a nu_e produced at electron density ``ne_na`` [N_A cm^-3] with energy E_nu [GeV].

    ``d_e`` and ``d_tau`` are eps_ee - eps_mumu and eps_tautau - eps_mumu at the production point,
    normalised to the electron density (module docstring). All arguments broadcast.
    """
    v = potential_cc(ne_na)
    d_e = np.asarray(d_e, dtype=float)
    d_tau = np.asarray(d_tau, dtype=float)
    E = np.asarray(E_nu, dtype=float)
    # theta13 in matter (first order in V / (Delta m31^2 / 2E), the heavy state decoupled)
    a13 = 2.0 * E * v * (1.0 + d_e) / (dm31_ev2 * _EV2_TO_GEV2)
    cos2_13 = (math.cos(2.0 * theta13) - a13) / np.hypot(math.cos(2.0 * theta13) - a13,
                                                         math.sin(2.0 * theta13))  # fmt: skip
    c13 = np.sqrt(0.5 * (1.0 + cos2_13))
    s13 = np.sqrt(0.5 * (1.0 - cos2_13))
    s23, c23 = math.sin(theta23), math.cos(theta23)
    m11 = v * (c13 * c13 * (1.0 + d_e) + s13 * s13 * c23 * c23 * d_tau)
    m22 = v * (s23 * s23 * d_tau)
    m12 = v * (s13 * s23 * c23 * d_tau)
    k = dm21_ev2 * _EV2_TO_GEV2 / (2.0 * E)
    th = np.asarray(theta12, dtype=float)
    cos2, sin2 = np.cos(2.0 * th), np.sin(2.0 * th)
    diag = k * cos2 - (m11 - m22)
    off = k * sin2 + 2.0 * m12
    cos2m = diag / np.hypot(diag, off)
    return c13**4 * 0.5 * (1.0 + cos2m * cos2) + s13**4


@dataclass(frozen=True)
class SolarModel:
    """Radial profile of a standard solar model: electron density, neutron fraction, production.

    ``r`` in units of R_sun, ``ne_na`` = n_e / (N_A cm^-3), ``y_n`` = n_n / n_e, ``production[flux]``
    the fraction of that flux produced in each tabulated shell (sums to 1).
    """

    r: NDArray[np.float64]
    ne_na: NDArray[np.float64]
    y_n: NDArray[np.float64]
    production: dict[str, NDArray[np.float64]]
    source: str


@cache
def standard_solar_model() -> SolarModel:
    """The bundled standard solar model (data/solar/solar_model.csv; provenance in its header)."""
    path = resources.files("zprime_atlas").joinpath("data", "solar", "solar_model.csv")
    text = path.read_text()
    header = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("#")]
    rows = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    columns = [c.strip() for c in rows[0].split(",")]
    table = np.array([[float(v) for v in ln.split(",")] for ln in rows[1:]])
    col = {name: table[:, i] for i, name in enumerate(columns)}
    production = {}
    for flux in FLUXES:
        f = col[f"f_{flux}"]
        production[flux] = f / f.sum()
    return SolarModel(
        r=col["r_over_rsun"],
        ne_na=10.0 ** col["log10_ne_NA"],
        y_n=col["Y_n"],
        production=production,
        source=" ".join(header[:3]),
    )


@cache
def production_points(flux: str, n_points: int = 16) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(n_e / N_A cm^-3, Y_n) at ``n_points`` equal-weight quantile points of a flux's production.

    The average of any function over these points is the production-weighted average, to the
    accuracy of a midpoint rule in the cumulative distribution (the tests compare with the full
    table: well below 1e-3 in P_ee).
    """
    if flux not in FLUXES:
        raise ValueError(f"unknown solar flux {flux!r}; known: {', '.join(FLUXES)}")
    ssm = standard_solar_model()
    w = ssm.production[flux]
    cdf = np.cumsum(w)
    centre_cdf = cdf - 0.5 * w  # the cumulative fraction at each shell's centre
    q = (np.arange(n_points) + 0.5) / n_points
    log_ne = np.interp(q, centre_cdf, np.log(ssm.ne_na))
    y_n = np.interp(q, centre_cdf, ssm.y_n)
    return np.exp(log_ne), y_n


def __dir__() -> list[str]:
    return list(__all__)
