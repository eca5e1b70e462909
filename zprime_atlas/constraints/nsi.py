r"""Earth-matter non-standard interactions (NSI) induced by X, against global oscillation fits.

Forward scattering has q = 0, so for every mass of the atlas (m_X >> 1/R_Earth ~ 1e-14 eV) the X
exchange is a contact interaction. Matching -(g_nu_a g_f / m_X^2)(nu_a gamma P_L nu_a)(f gamma f) to
L_NSI = -2 sqrt2 G_F eps^fP (nu gamma P_L nu)(f gamma P f) with vector couplings gives
(PHYSICS.md section 4.2)

    eps^f_aa = g_nu_a g_f / (sqrt2 G_F m_X^2),       g_nu_a = g_X x_a,  g_f = g_X x_f + eps e Q_f,

and the Earth-matter combination normalised to electrons (Y_n = N_n/N_e = 1.051)

    eps^E_aa = eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d
             = g_X x_a [g_e + (2 + Y_n) g_u + (1 + 2 Y_n) g_d] / (sqrt2 G_F m_X^2).

Kinetic mixing cancels exactly in neutral matter: -eps e + (2 + Y_n)(2/3) eps e - (1 + 2 Y_n)(1/3)
eps e = 0, so eps^E depends on g_X alone, and L_mu-L_tau (no tree-level e, u, d charge) induces none.
Oscillations only see differences of the diagonal entries,

    D_e = eps^E_ee - eps^E_mumu ∝ (x_e - x_mu),     D_tau = eps^E_tautau - eps^E_mumu ∝ (x_tau - x_mu),

both proportional to g_X^2 / m_X^2. Each is compared with its allowed interval [low, high] from the
global fit in ``data/nsi/earth_matter_bounds.toml`` (one parameter at a time, as the fits quote
them): r = max(D_e / bound_e, D_tau / bound_tau), with bound = high for D > 0 and |low| for D < 0.
Since r ∝ g_X^2 for any mixing, the limit is g_lim = 1/sqrt(r(g_X = 1)).

Approximations, stated: (1) one-at-a-time intervals ignore the correlation of D_e and D_tau in the
fit; (2) the fits' Earth ranges are used for electron and quark couplings alike, whereas the solar
data see a different neutron fraction (the bound for a given direction in (e, u, d) space depends
on it); (3) the LMA solution is assumed (LMA-D is excluded by other data for most directions). The
verification status of the numbers is carried by the data file and shown in ``notes``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_coupling, as_mass
from ..constants import G_FERMI, Y_N_EARTH
from ..couplings import Mixing, effective_couplings
from ..models import Model
from .base import Constraint, ConstraintInfo, limit_mixing

__all__ = ["NSIBounds", "NSIOscillation", "earth_nsi", "load_bounds"]

_SQRT2_GF = math.sqrt(2.0) * G_FERMI


@dataclass(frozen=True)
class NSIBounds:
    """Allowed intervals of D_e = eps_ee - eps_mumu and D_tau = eps_tautau - eps_mumu (Earth matter)."""

    ee_minus_mumu: tuple[float, float]
    tautau_minus_mumu: tuple[float, float]
    cl: float
    source: str
    arxiv: tuple[str, ...]
    status: str
    description: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"


@cache
def load_bounds(name: str = "earth_matter_bounds.toml") -> NSIBounds:
    """Read an NSI bounds file from the package data folder ``data/nsi``."""
    text = resources.files("zprime_atlas").joinpath("data", "nsi", name).read_text()
    raw = tomllib.loads(text)
    ee = tuple(float(v) for v in raw["ee_minus_mumu"])
    tt = tuple(float(v) for v in raw["tautau_minus_mumu"])
    for label, (lo, hi) in (("ee_minus_mumu", ee), ("tautau_minus_mumu", tt)):
        if not lo < 0 < hi:
            raise ValueError(f"NSI bounds file {name}: {label} must contain 0, got [{lo}, {hi}]")
    return NSIBounds(
        ee_minus_mumu=(ee[0], ee[1]),
        tautau_minus_mumu=(tt[0], tt[1]),
        cl=float(raw["cl"]),
        source=str(raw["source"]),
        arxiv=tuple(raw["arxiv"]),
        status=str(raw["status"]),
        description=str(raw.get("description", "")),
    )


def earth_nsi(
    model: Model,
    m_X: ArrayLike,
    g_X: ArrayLike,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> dict[str, NDArray[np.float64]]:
    """eps^E_aa for a = e, mu, tau (module docstring; couplings at q^2 = 0; GeV units).

    Returns keys ``ee``, ``mumu``, ``tautau`` (arrays broadcast over model batch, m_X, g_X, eps).
    """
    m = as_mass(m_X)
    g = effective_couplings(model, g_X, eps=eps, eps_over_g=eps_over_g, loop_scale=loop_scale,
                            fermions=("e", "u", "d", "nu_e", "nu_mu", "nu_tau"))  # fmt: skip
    terms = (g["e"], (2.0 + Y_N_EARTH) * g["u"], (1.0 + 2.0 * Y_N_EARTH) * g["d"])
    matter = np.real(sum(terms))
    # An exact cancellation (e.g. the kinetic-mixing parts, or x_e = -(1 + Y_n) x_B) must give 0,
    # not round-off: drop what is below 1e-12 of the individual terms.
    size = sum(np.abs(t) for t in terms)
    matter = np.where(np.abs(matter) <= 1e-12 * size, 0.0, matter)
    scale = 1.0 / (_SQRT2_GF * m * m)
    return {
        "ee": g["nu_e"] * matter * scale,
        "mumu": g["nu_mu"] * matter * scale,
        "tautau": g["nu_tau"] * matter * scale,
    }


class NSIOscillation(Constraint):
    """``nsi_oscillation``: Earth-matter NSI from X exchange vs global oscillation fits."""

    def __init__(self, bounds: NSIBounds | None = None) -> None:
        self.bounds = bounds or load_bounds()
        b = self.bounds
        status = "VERIFIED" if b.verified else "UNVERIFIED"
        self.info = ConstraintInfo(
            name="nsi_oscillation",
            title="Earth-matter NSI from global oscillation fits",
            citation=b.arxiv,
            mass_range=(1e-9, 1e4),
            cl=b.cl,
            notes=(
                f"Inputs {status}: eps_ee - eps_mumu in [{b.ee_minus_mumu[0]:g}, "
                f"{b.ee_minus_mumu[1]:g}], eps_tautau - eps_mumu in [{b.tautau_minus_mumu[0]:g}, "
                f"{b.tautau_minus_mumu[1]:g}] ({b.source}). Contact limit (valid for m_X >> 1e-14 "
                "eV); kinetic mixing cancels in neutral matter; one-at-a-time ranges; LMA."
            ),
            verified=b.verified,
        )

    def ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """r = max over (D_e, D_tau) of D / (its bound on the same side); NaN outside the range."""
        m = as_mass(m_X)
        g = as_coupling(g_X)
        Mixing.parse(eps, eps_over_g, loop_scale)  # checks the arguments; eps itself cancels
        # eps cancels in neutral matter, so eps^E ∝ g_X^2 exactly: evaluate at g_X = 1, scale.
        nsi = earth_nsi(model, m, 1.0)
        r1 = np.maximum(
            _side_ratio(nsi["ee"] - nsi["mumu"], self.bounds.ee_minus_mumu),
            _side_ratio(nsi["tautau"] - nsi["mumu"], self.bounds.tautau_minus_mumu),
        )
        return np.where(self.in_range(m), r1, np.nan) * (g * g)

    def limit(
        self,
        m_X: ArrayLike,
        model: Model,
        eps_over_g: ArrayLike | None = 0.0,
        eps: ArrayLike | str | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """g_lim = 1/sqrt(r(g_X = 1)): exact, since eps cancels and r ∝ g_X^2 (module docstring)."""
        m = as_mass(m_X)
        limit_mixing(eps, eps_over_g, loop_scale)  # checks the arguments; eps itself cancels
        r1 = self.ratio(m, 1.0, model)
        with np.errstate(divide="ignore"):
            return np.where(np.isnan(r1), np.nan, np.where(r1 > 0, 1.0 / np.sqrt(r1), math.inf))


def _side_ratio(d: NDArray, interval: tuple[float, float]) -> NDArray[np.float64]:
    low, high = interval
    return np.where(d >= 0, d / high, d / low)
