r"""Anomalous magnetic moments: the one-loop X contribution, data sets, and the (g-2)_mu band.

One-loop contribution of a vector boson of mass m_X with vector coupling g_l to lepton l
(Leveille, Nucl. Phys. B137 (1978) 63; e.g. Pospelov arXiv:0811.1030; docs/physics/gm2.md):

    Delta a_l = (|g_l|^2 / 4 pi^2) F(r),
    F(r) = int_0^1 dz z (1-z)^2 / [(1-z)^2 + r z],   r = m_X^2/m_l^2.

Limits: F -> 1/2 for m_X << m_l (Delta a = g^2/8 pi^2) and F -> 1/(3r) for m_X >> m_l
(Delta a = g^2 m_l^2 / (12 pi^2 m_X^2)). F is evaluated exactly (closed form for r <= 8; above, where the
closed form cancels catastrophically, a spline of a Gauss-Legendre table in ln z); both agree with
adaptive quadrature to better than 1e-10.

The coupling is g_l = g_X x_l + eps e Q_l (Q_l = -1). A loop-induced eps is taken at q^2 = 0: the
virtual X in the (g-2) loop carries momenta of order m_l, over which eps(q^2)/g_X of L_mu-L_tau varies by
less than 4%, and eps itself is a ~1% correction to g_mu, so the approximation is good to < 0.1%.

Data sets of Delta a_mu = a_exp - a_SM (:data:`DATASETS`) and Delta a_e (:data:`ELECTRON_DATASETS`) carry
their sources and a verification status in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._quadrature import gauss_legendre
from ._validate import as_coupling, as_mass
from .constants import E_CHARGE, M_E, M_MU, M_TAU
from .couplings import Mixing, effective_couplings
from .models import Model

__all__ = [
    "DATASETS",
    "ELECTRON_DATASETS",
    "GM2Dataset",
    "band",
    "contribution",
    "dataset",
    "delta_a",
    "loop_integral",
]

LEPTON_MASS: dict[str, float] = {"e": M_E, "mu": M_MU, "tau": M_TAU}

_CLOSED_FORM_MAX_R = 8.0
_GL_NODES = 128
_CHUNK = 1 << 15


def _closed_form(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """F(r) from partial fractions (derivation in :func:`loop_integral`); used for r <= 8."""
    # int_0^1 dz / (z^2 + (r-2) z + 1): (2/k) arctan(k/r) for r < 4 (k = sqrt(r(4-r))),
    # (2/s) artanh(s/r) for r > 4 (s = sqrt(r(r-4))), 1/2 at r = 4.
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.sqrt(np.abs(r * (4.0 - r)))
        below = np.where(k > 0, 2.0 / k * np.arctan(k / r), 0.5)
        above = np.where(k > 0, 2.0 / k * np.arctanh(np.minimum(k / r, 1.0)), 0.5)
    integral = np.where(r < 4.0, below, above)
    return 0.5 - r + 0.5 * (r * r - 2.0 * r) * np.log(r) + (r - 0.5 * r * (r - 2.0) ** 2) * integral


def _log_quadrature(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """F(r) = int du z^2 (1-z)^2 / ((1-z)^2 + r z), z = e^u, by Gauss-Legendre in u (for large r).

    The integrand's poles sit at Im u = pi, so the rule converges geometrically; the range starts
    where z = 1e-9/r, below which the integrand (~ z^2) contributes < 1e-18 / r^2.
    """
    x, w = gauss_legendre(_GL_NODES)
    out = np.empty_like(r)
    for start in range(0, r.size, _CHUNK):
        rr = r[start : start + _CHUNK, None]
        u_min = np.log(1e-9 / rr)
        half = -0.5 * u_min
        u = half * (x[None, :] - 1.0)  # maps [-1, 1] -> [u_min, 0]
        z = np.exp(u)
        one_minus = 1.0 - z
        integrand = z * z * one_minus * one_minus / (one_minus * one_minus + rr * z)
        out[start : start + _CHUNK] = half[:, 0] * (integrand @ w)
    return out


_TABLE_R_MAX = 1e16
_TABLE_POINTS = 3000


@cache
def _large_r_spline() -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Cubic spline of r F(r) in ln r on [8, 1e16], tabulated once with the Gauss-Legendre rule.

    r F(r) is smooth in ln r (it tends to 1/3); with 3000 knots the interpolation error is below
    2e-11 relative (checked against adaptive quadrature in the tests).
    """
    from scipy.interpolate import CubicSpline  # imported on first use: import zprime_atlas stays light

    t = np.linspace(math.log(_CLOSED_FORM_MAX_R), math.log(_TABLE_R_MAX), _TABLE_POINTS)
    r = np.exp(t)
    return CubicSpline(t, r * _log_quadrature(r))


def loop_integral(r: ArrayLike) -> NDArray[np.float64]:
    r"""F(r) = int_0^1 dz z(1-z)^2 / [(1-z)^2 + r z] for r = m_X^2/m_l^2 > 0 (vectorized).

    Closed form (partial fractions of z(1-z)^2 = (z - r) D + (r^2 - 2r) z + r with
    D = z^2 + (r-2) z + 1, D(1) = r):

        F = 1/2 - r + (r^2 - 2r)/2 ln r + [r - r(r-2)^2/2] int_0^1 dz/D.

    Used for r <= 8; above, the terms cancel to 1/(3r) with a loss of ~r^4 in precision, so r F(r)
    is interpolated (cubic spline in ln r) from a table computed once with a 128-point
    Gauss-Legendre rule in ln z; beyond r = 1e16, F = 1/(3r) (relative error < 1e-14).
    """
    r = np.asarray(r, dtype=np.float64)
    flat = r.reshape(-1)
    out = np.empty_like(flat)
    small = flat <= _CLOSED_FORM_MAX_R
    huge = flat > _TABLE_R_MAX
    mid = ~small & ~huge
    out[small] = _closed_form(flat[small])
    if np.any(mid):
        out[mid] = _large_r_spline()(np.log(flat[mid])) / flat[mid]
    out[huge] = 1.0 / (3.0 * flat[huge])
    return out.reshape(r.shape)


def _lepton_mass(lepton: str) -> float:
    try:
        return LEPTON_MASS[lepton]
    except (KeyError, TypeError):
        raise ValueError(f"unknown lepton {lepton!r}; use 'e', 'mu' or 'tau'") from None


def delta_a(lepton: str, m_X: ArrayLike, g_l: ArrayLike) -> NDArray[np.float64]:
    """One-loop Delta a_l from a vector X of mass m_X [GeV] with vector coupling g_l to lepton l.

    Delta a_l = |g_l|^2 F(m_X^2/m_l^2) / (4 pi^2) (see :func:`loop_integral`). ``g_l`` may be complex.
    """
    m_l = _lepton_mass(lepton)
    m = as_mass(m_X)
    g = np.asarray(g_l)
    if not np.all(np.isfinite(g)):
        raise ValueError(f"coupling g_l must be finite, got {g_l!r}")
    return np.abs(g) ** 2 * loop_integral((m / m_l) ** 2) / (4.0 * math.pi**2)


def contribution(
    model: Model,
    m_X: ArrayLike,
    g_X: ArrayLike,
    eps: ArrayLike | str | Mixing | None = None,
    eps_over_g: ArrayLike | None = None,
    lepton: str = "mu",
    loop_scale: float | None = None,
) -> NDArray[np.float64]:
    """Delta a_l of a model: g_l = g_X x_l + eps e Q_l at q^2 = 0 (all arguments broadcast; GeV)."""
    couplings = effective_couplings(
        model, g_X, eps=eps, eps_over_g=eps_over_g, q2=0.0, loop_scale=loop_scale,
        fermions=(lepton,),
    )  # fmt: skip
    return delta_a(lepton, m_X, couplings[lepton])


# -- data sets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GM2Dataset:
    """A measured Delta a_l = a_exp - a_SM with its Gaussian uncertainty and sources.

    ``kind="band"``: a non-zero deviation, to be explained (the band is delta +- n sigma).
    ``kind="upper_limit"``: consistent with zero; only an upper limit on a positive new contribution
    is meaningful (one-sided, :attr:`upper_limit_cl`).
    """

    name: str
    lepton: Literal["e", "mu"]
    delta: float
    sigma: float
    kind: Literal["band", "upper_limit"]
    description: str
    references: tuple[str, ...]
    status: str
    upper_limit_cl: float = 0.95

    @property
    def upper_limit(self) -> float:
        """One-sided upper limit on a positive Delta a at :attr:`upper_limit_cl`."""
        from scipy.special import ndtri

        return self.delta + float(ndtri(self.upper_limit_cl)) * self.sigma


DATASETS: dict[str, GM2Dataset] = {
    "2021": GM2Dataset(
        name="2021",
        lepton="mu",
        delta=251e-11,
        sigma=59e-11,
        kind="band",
        description="FNAL Run-1 + BNL average vs the 2020 White Paper SM (WP20)",
        references=("2104.03281", "2006.04822"),
        status="a_exp verified (abstract); a_SM(WP20) = 116591810(43)e-11 from memory, "
        "cross-checked: 116592061 - 116591810 = 251, sqrt(41^2 + 43^2) = 59",
    ),
    "2023": GM2Dataset(
        name="2023",
        lepton="mu",
        delta=249e-11,
        sigma=48e-11,
        kind="band",
        description="FNAL Run-1..3 + BNL average vs WP20",
        references=("2308.06230", "2006.04822"),
        status="a_exp 116592059(22)e-11 verified (abstract); a_SM(WP20) from memory, "
        "cross-checked: sqrt(22^2 + 43^2) = 48",
    ),
    "2025": GM2Dataset(
        name="2025",
        lepton="mu",
        delta=38e-11,
        sigma=63e-11,
        kind="upper_limit",
        description="final 2025 world average vs the 2025 White Paper SM (WP25, lattice HVP)",
        references=("2506.03069", "2505.21476", "2512.16980"),
        status="Delta = 38(63)e-11 verified (quoted in 2512.16980); consistent with zero, "
        "used as a one-sided 95% CL upper limit: 38 + 1.645 x 63 = 142e-11",
    ),
    "2025-run3": GM2Dataset(
        name="2025-run3",
        lepton="mu",
        delta=26e-11,
        sigma=66e-11,
        kind="upper_limit",
        description="experimental average to Run-3 vs WP25",
        references=("2505.21476",),
        status="26(66)e-11 verified (WP25 abstract); one-sided 95% CL upper limit",
    ),
}

# Delta a_e with the 2023 Northwestern a_e (Fan et al., PRL 130 (2023) 071801, arXiv:2209.13084), whose
# abstract gives the alpha that makes SM = experiment, alpha^-1 = 137.035999166(15) [verified]. Then
# Delta a_e = (alpha_a_e - alpha_X) da_e/dalpha with da_e/dalpha = 1/(2 pi) - 2 C_2 alpha/pi^2
# (C_2 = -0.328479), and alpha_X the atom-interferometry value [both verified]:
# Cs 137.035999046(27) -> -101.4(26.1)e-14; Rb 137.035999206(11) -> +33.8(15.7)e-14 [derived here].
ELECTRON_DATASETS: dict[str, GM2Dataset] = {
    "cs": GM2Dataset(
        name="cs",
        lepton="e",
        delta=-101.4e-14,
        sigma=26.1e-14,
        kind="band",
        description="a_e (Northwestern 2023) vs SM with alpha from Cs recoil (Parker et al. 2018)",
        references=("2209.13084", "1812.04130"),
        status="derived from verified alpha values (a_e 2023 abstract; Cs and Rb alpha abstracts)",
    ),
    "rb": GM2Dataset(
        name="rb",
        lepton="e",
        delta=33.8e-14,
        sigma=15.7e-14,
        kind="band",
        description="a_e (Northwestern 2023) vs SM with alpha from Rb recoil (Morel et al. 2020)",
        references=("2209.13084",),
        status="derived from verified alpha values (a_e 2023 abstract; Rb alpha abstract)",
    ),
}


def dataset(name: str | GM2Dataset) -> GM2Dataset:
    """Look up a (g-2)_mu data set by name (``"2021"``, ``"2023"``, ``"2025"``, ``"2025-run3"``)."""
    if isinstance(name, GM2Dataset):
        return name
    key = str(name)
    if key in DATASETS:
        return DATASETS[key]
    if key.lower() in ELECTRON_DATASETS:
        return ELECTRON_DATASETS[key.lower()]
    raise ValueError(
        f"unknown g-2 data set {name!r}; known: " + ", ".join([*DATASETS, *ELECTRON_DATASETS])
    )


# -- the (g-2)_mu band ------------------------------------------------------------------------


def band(
    model: Model,
    m_X: ArrayLike,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    dataset: str | GM2Dataset = "2021",
    nsigma: float = 2.0,
    loop_scale: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The range of g_X (g_low, g_high) for which Delta a_mu fits a data set.

    For a ``band`` data set, Delta a_mu(g_X) lies in [delta - nsigma sigma, delta + nsigma sigma]
    (the lower edge is clipped at 0). For an ``upper_limit`` data set (2025), g_low is NaN and
    g_high is the 95% CL one-sided upper limit (``nsigma`` unused). Where the muon coupling vanishes
    the band is (NaN, NaN).

    With eps proportional to g_X (``eps_over_g`` or ``eps="loop"``, the loop taken at q^2 = 0) the
    muon coupling is g_X xi_mu with xi_mu = x_mu - e eps/g_X, so g = sqrt(4 pi^2 Delta a / F) / |xi_mu|.
    With a fixed eps, g_mu = g_X x_mu - e eps; the returned interval is the branch on which g_X x_mu
    has the sign of g_mu (the X coupling, not the mixing, supplies the effect), restricted to
    g_X >= 0; where that branch has no g_X >= 0 the result is NaN.

    Shapes: the broadcast of ``m_X``, the model batch and the mixing values. GeV units.
    """
    data = globals()["dataset"](dataset)  # the parameter shadows the module-level function
    if data.lepton != "mu":
        raise ValueError(f"band() needs a muon data set, got {data.name!r}")
    nsig = float(nsigma)
    if not np.isfinite(nsig) or nsig <= 0:
        raise ValueError(f"nsigma must be positive, got {nsigma!r}")
    m = as_mass(m_X)
    f = loop_integral((m / M_MU) ** 2) / (4.0 * math.pi**2)  # Delta a per |g_mu|^2
    if data.kind == "band":
        lo_da = max(data.delta - nsig * data.sigma, 0.0)
        hi_da = data.delta + nsig * data.sigma
    else:
        lo_da, hi_da = math.nan, data.upper_limit
    s_lo = np.sqrt(lo_da / f)  # |g_mu| at the band edges
    s_hi = np.sqrt(hi_da / f)
    mix = Mixing.parse(eps, eps_over_g, loop_scale)
    x_mu = model.charge("mu")
    with np.errstate(divide="ignore", invalid="ignore"):
        if mix.proportional:
            xi = np.abs(x_mu - E_CHARGE * np.real(mix.over_g(model, 0.0)))
            xi = np.where(xi > 0, xi, np.nan)
            g_low, g_high = s_lo / xi, s_hi / xi
        else:
            e_eps = E_CHARGE * as_coupling(mix.fixed_eps(), "kinetic mixing eps")
            sign = np.sign(x_mu)
            ax = np.where(x_mu != 0, np.abs(x_mu), np.nan)
            # g x_mu - e eps = sign(x_mu) s  =>  g = (s + sign(x_mu) e eps) / |x_mu|
            g_low = (s_lo + sign * e_eps) / ax
            g_high = (s_hi + sign * e_eps) / ax
            g_high = np.where(g_high >= 0, g_high, np.nan)
            g_low = np.where(np.isnan(g_high), np.nan, np.maximum(g_low, 0.0))
    shape = np.broadcast_shapes(np.shape(g_low), np.shape(g_high))
    g_low = np.broadcast_to(g_low, shape).astype(np.float64)
    g_high = np.broadcast_to(g_high, shape).astype(np.float64)
    if data.kind != "band":
        g_low = np.full(shape, np.nan)
    return g_low, g_high


def __dir__() -> list[str]:
    return list(__all__)
