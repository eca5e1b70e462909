r"""Partial widths, branching ratios and lifetime of X (GeV, seconds).

X couples to fermion f through the vector current with the effective coupling
g_f = g_X x_f + eps e Q_f (neutrinos: g_X x_nu, left-handed only), evaluated by
:func:`zprime_atlas.couplings.effective_couplings` at q^2 = m_X^2 (this matters for ``eps="loop"``,
which is complex above the fermion-pair thresholds of the loop: rates use |g_f|^2).
Formulas (Ilten, Soreq, Williams, Xue, arXiv:1801.04847, section 2; derivations, status and checks
in docs/physics/decays.md):

Charged leptons, l = e, mu, tau (r = m_l^2/m^2, zero for m <= 2 m_l)::

    Gamma(X -> l+ l-) = |g_l|^2 m/(12 pi) (1 + 2r) sqrt(1 - 4r)

Neutrinos (left-handed only; right-handed neutrinos are taken heavy)::

    Gamma(X -> nu_a nubar_a) = |g_nu_a|^2 m/(24 pi)

Quarks, perturbative (N_c = 3, constituent-like masses of constants.FERMION_MASS, one-loop QCD
factor with :func:`alpha_s` at mu = m)::

    Gamma(X -> q qbar) = 3 |g_q|^2 m/(12 pi) (1 + 2r) sqrt(1 - 4r) (1 + alpha_s(m)/pi)

(Darkcast's code has (1 + r) in place of (1 + 2r); the tree-level vector-current result has 2r.)

Light hadrons through vector-meson dominance (1801.04847 eqs. 2.15-2.18)::

    Gamma(X -> F) = m/(12 pi) [ sum_V |a_V|^2 R^{F,V}(m) + sum_{V<V'} 2 Re(a_V a_V'^*) R^{F,VV'}(m) ]
    a_V = c_V tr(T_V diag(g_u, g_d, g_s))
    T_rho = (1, -1, 0)/2, T_omega = (1, 1, 0)/2, T_phi = (0, 0, 1)/sqrt(2); c_rho = 2, c_omega = 6,
    c_phi = 3 sqrt(2)

with the *effective* couplings g_u, g_d, g_s (they already contain g_X and eps). For the dark photon
(g_f = eps e Q_f) a_rho = a_omega = eps e and a_phi = -eps e, so that Gamma(X -> hadrons) =
Gamma(X -> mu mu)|_{m_mu = 0} R(m) with R = sigma(e+e- -> hadrons)/sigma(e+e- -> mu+mu-). The
component curves R^{F,V} (the Darkcast fit to e+e- data of 1801.04847, resampled; files
``data/vmd/R_<final state>__<component>.csv``) are interpolated linearly and are zero outside their
tabulated range (all end at 2 GeV). The only interference curve is omega-phi in pi+ pi- pi0.

Two guards on the fitted curves (documented deviations from a literal use of the tables):

- components that are squares (every curve but the omega-phi interference) are clipped at 0; the
  4-pion (pi+ pi- pi0 pi0, rho) fit dips to R = -5e-4 just above its 0.8 GeV threshold;
- the pi+ pi- pi0 width is clipped at 0: above ~0.99 GeV the fitted interference violates
  R_{omega phi}^2 <= R_omega R_phi (by up to 44% near 1.48 GeV), so models with a_phi/a_omega of the
  wrong size (around -R_{omega phi}/R_phi) would get a negative pi+ pi- pi0 width. The dark photon
  (a_phi/a_omega = -1) is never clipped. Quark-universal models without mixing (a_phi/a_omega = 1/2:
  B, B-L, B-3Lmu, ...) are clipped in a narrow window just below the phi peak (the literal formula,
  which Darkcast uses, would go negative there).

Join: below ``M_JOIN`` = 2 GeV the u, d, s contribution to ``hadrons`` is the VMD sum; at and above it,
the perturbative u, d, s widths (with the QCD factor); the two differ by about 1% at 2 GeV.
``c_c``, ``b_b`` and ``t_t`` are perturbative at all masses (they open at 2 m_q) and are part of
``hadrons``.

A dark photon below 2 m_e has no open channel here (X -> 3 gamma is not included): its width is 0,
its branching ratios are 0 and its lifetime is +inf. Top quarks (``t_t``) are included for
completeness with n_f = 5 running above m_b.

Everything is array-in, array-out: the model batch, ``m_X``, ``g_X`` and ``eps`` broadcast together
and every returned array has the broadcast shape. There is no Python loop over masses or models.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._csv import package_table
from ._validate import as_mass
from .constants import (
    ALPHA_S_MZ,
    FERMION_MASS,
    HBAR_GEV_S,
    M_B_POLE,
    M_C_POLE,
    M_Z,
    NEUTRINO_OF,
)
from .couplings import effective_couplings
from .models import Model
from .models import model as _named_model

__all__ = [
    "CHANNELS",
    "HADRONIC_STATES",
    "M_JOIN",
    "alpha_s",
    "branching_ratios",
    "hadronic_widths",
    "lifetime",
    "total_from_widths",
    "total_width",
    "vmd_curve",
    "widths",
    "widths_from_couplings",
]

#: Mass [GeV] where the light-quark hadronic width switches from VMD (below) to perturbative
#: u, d, s (at and above). The VMD tables end at 2 GeV.
M_JOIN: float = 2.0

#: Channels returned by :func:`widths` and :func:`branching_ratios`. ``nu_nu`` is the sum of the
#: three neutrino flavours; ``hadrons`` is every quark/hadron final state (VMD light hadrons below
#: M_JOIN, perturbative u, d, s at and above it, plus ``c_c``, ``b_b`` and ``t_t``, which are also
#: listed on their own). The total width is e_e + mu_mu + tau_tau + nu_nu + hadrons.
#: ``dark`` is X -> chi chibar of a user-declared dark fermion (Model.with_dark_sector), zero
#: otherwise; ``invisible`` = nu_nu + dark.
CHANNELS: tuple[str, ...] = (
    "e_e", "mu_mu", "tau_tau", "nu_e_nu_e", "nu_mu_nu_mu", "nu_tau_nu_tau", "nu_nu",
    "c_c", "b_b", "t_t", "hadrons", "dark", "invisible",
)  # fmt: skip

#: VMD final states returned by :func:`hadronic_widths` (plus ``u_d_s``, the perturbative light
#: quarks at and above M_JOIN).
HADRONIC_STATES: tuple[str, ...] = (
    "pi+_pi-", "pi+_pi-_pi0", "pi0_gamma", "K_K", "K_K_pi", "pi+_pi-_pi+_pi-", "pi+_pi-_pi0_pi0",
    "other",
)  # fmt: skip

_CHANNELS_IN_TOTAL = ("e_e", "mu_mu", "tau_tau", "nu_nu", "hadrons", "dark")
_LEPTON_CHANNELS = {"e": "e_e", "mu": "mu_mu", "tau": "tau_tau"}
_NEUTRINO_CHANNELS = {"nu_e": "nu_e_nu_e", "nu_mu": "nu_mu_nu_mu", "nu_tau": "nu_tau_nu_tau"}
_HEAVY_QUARKS = {"c": "c_c", "b": "b_b", "t": "t_t"}
_LIGHT_QUARKS = ("u", "d", "s")

# (final state, component) of every VMD table; "omega_phi" is the omega-phi interference term.
_VMD_TABLES: tuple[tuple[str, str], ...] = (
    ("pi+_pi-", "rho0"),
    ("pi+_pi-_pi0", "omega"),
    ("pi+_pi-_pi0", "phi"),
    ("pi+_pi-_pi0", "omega_phi"),
    ("pi0_gamma", "omega"),
    ("K_K", "phi"),
    ("K_K_pi", "phi"),
    ("pi+_pi-_pi+_pi-", "rho0"),
    ("pi+_pi-_pi0_pi0", "rho0"),
    ("other", "rho0"),
    ("other", "omega"),
    ("other", "phi"),
)
_THREE_PI = "pi+_pi-_pi0"

_INV_12PI = 1.0 / (12.0 * math.pi)
_INV_24PI = 1.0 / (24.0 * math.pi)


# -- strong coupling --------------------------------------------------------------------------


def _b0(n_f: int) -> float:
    """One-loop coefficient of d(1/alpha_s)/d ln(mu^2): beta_0/(4 pi), beta_0 = 11 - 2 n_f/3."""
    return (11.0 - 2.0 * n_f / 3.0) / (4.0 * math.pi)


_INV_AS_MB = 1.0 / ALPHA_S_MZ + _b0(5) * math.log(M_B_POLE**2 / M_Z**2)
_INV_AS_MC = _INV_AS_MB + _b0(4) * math.log(M_C_POLE**2 / M_B_POLE**2)
#: One-loop Landau pole of the n_f = 3 running [GeV]: alpha_s is undefined at and below it.
_LAMBDA_3 = M_C_POLE * math.exp(-0.5 * _INV_AS_MC / _b0(3))


def alpha_s(mu: ArrayLike) -> NDArray[np.float64]:
    r"""Strong coupling alpha_s(mu) at one loop, mu in GeV (vectorized).

    1/alpha_s(mu) = 1/alpha_s(mu_0) + (beta_0/4pi) ln(mu^2/mu_0^2), beta_0 = 11 - 2 n_f/3, run
    from constants.ALPHA_S_MZ at constants.M_Z with n_f = 5 above constants.M_B_POLE, 4 between
    M_C_POLE and M_B_POLE and 3 below, matched continuously at the two thresholds.

    Used only for the O(alpha_s) factor 1 + alpha_s/pi of perturbative quark widths (mu >= 2 GeV).
    One-loop running is approximate (about 10% below the alpha_s(m_tau) of tau decays).
    Raises ValueError for mu at or below the one-loop n_f = 3 Landau pole (0.142 GeV).
    """
    m = as_mass(mu, "scale mu")
    log_mu2 = np.log(m * m)
    inv = np.where(
        m >= M_B_POLE,
        _INV_AS_MB + _b0(5) * (log_mu2 - 2.0 * math.log(M_B_POLE)),
        _INV_AS_MC + np.where(m >= M_C_POLE, _b0(4), _b0(3)) * (log_mu2 - 2.0 * math.log(M_C_POLE)),
    )
    bad = inv <= 0.0
    if np.any(bad):
        value = float(m.reshape(-1)[int(np.argmax(bad.reshape(-1)))])
        raise ValueError(
            f"alpha_s: scale mu = {value!r} GeV is at or below the one-loop Landau pole "
            f"({_LAMBDA_3:.3g} GeV)"
        )
    return 1.0 / inv


# -- VMD tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VMDTable:
    """All VMD component curves on one common (union) mass grid.

    Each curve is piecewise linear on its own nodes and zero outside its range; since every file
    starts at R = 0, it is exactly piecewise linear on the union of all nodes, so one index lookup
    serves every curve.
    """

    grid: NDArray[np.float64]
    values: dict[tuple[str, str], NDArray[np.float64]]
    slopes: dict[tuple[str, str], NDArray[np.float64]]

    def curve(self, key: tuple[str, str] | tuple[tuple[str, str], ...]) -> tuple[NDArray, NDArray]:
        """(values, slopes) of one curve or of the sum of several."""
        keys = (key,) if isinstance(key[0], str) else key
        y = sum(self.values[k] for k in keys)
        s = sum(self.slopes[k] for k in keys)
        return y, s  # type: ignore[return-value]


def _read_vmd_file(state: str, component: str) -> NDArray[np.float64]:
    name = f"R_{state}__{component}.csv"
    data = package_table("vmd", name, header="m_GeV,R")
    if data.shape[1] != 2 or data.shape[0] < 2 or not np.all(np.isfinite(data)):
        raise ValueError(f"VMD table {name}: expected two finite columns m_GeV,R")
    if not np.all(np.diff(data[:, 0]) > 0):
        raise ValueError(f"VMD table {name}: masses must increase strictly")
    if data[0, 1] != 0.0:
        raise ValueError(f"VMD table {name}: the curve must start at R = 0")
    return data


@functools.cache
def _vmd_table() -> _VMDTable:
    """Load the twelve VMD tables once (package data, works from an installed wheel)."""
    raw = {key: _read_vmd_file(*key) for key in _VMD_TABLES}
    grid = np.unique(np.concatenate([d[:, 0] for d in raw.values()]))
    if grid[-1] < M_JOIN:
        raise ValueError("the VMD tables must reach M_JOIN")
    h = np.diff(grid)
    values: dict[tuple[str, str], NDArray[np.float64]] = {}
    slopes: dict[tuple[str, str], NDArray[np.float64]] = {}
    for key, d in raw.items():
        r = d[:, 1] if key[1] == "omega_phi" else np.maximum(d[:, 1], 0.0)
        y = np.interp(grid, d[:, 0], r, left=0.0, right=0.0)
        values[key] = y[:-1].copy()
        slopes[key] = np.diff(y) / h
    return _VMDTable(grid=grid, values=values, slopes=slopes)


class _Locator:
    """Index and offset of masses on the VMD grid; both 0 outside [grid[0], M_JOIN)."""

    def __init__(self, m: NDArray[np.float64]) -> None:
        table = _vmd_table()
        grid = table.grid
        inside = (m >= grid[0]) & (m < M_JOIN)
        self.any = bool(np.any(inside))
        if self.any:
            idx = np.clip(np.searchsorted(grid, m, side="right") - 1, 0, grid.size - 2)
            idx = np.where(inside, idx, 0)
            dm = np.where(inside, m - grid[idx], 0.0)
            self.idx, self.dm = idx, dm

    def __call__(self, key: tuple[str, str] | tuple[tuple[str, str], ...]) -> NDArray[np.float64]:
        y, s = _vmd_table().curve(key)
        return y[self.idx] + self.dm * s[self.idx]


def vmd_curve(state: str, component: str, m_X: ArrayLike) -> NDArray[np.float64]:
    """The VMD component curve R^{F,V}(m) of final state ``state`` and component ``component``.

    ``component`` is ``rho0``, ``omega``, ``phi`` or ``omega_phi`` (interference). Linear
    interpolation of the package table, zero outside its range and at and above M_JOIN (where
    the hadronic width is perturbative). Square components are clipped at 0 (module docstring).
    """
    if (state, component) not in _VMD_TABLES:
        known = ", ".join(f"{s}/{c}" for s, c in _VMD_TABLES)
        raise ValueError(f"no VMD curve {state}/{component}; known: {known}")
    m = as_mass(m_X)
    loc = _Locator(m)
    if not loc.any:
        return np.zeros(m.shape)
    return loc((state, component))


# -- helpers ----------------------------------------------------------------------------------


def _abs2(z: NDArray) -> NDArray[np.float64]:
    if np.iscomplexobj(z):
        return z.real * z.real + z.imag * z.imag
    return z * z


def _re_conj_product(a: NDArray, b: NDArray) -> NDArray[np.float64]:
    """Re(a conj(b))."""
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
        return a.real * b.real + a.imag * b.imag
    return a * b


def _pair_kernel(m: NDArray[np.float64], m_f: float) -> NDArray[np.float64] | None:
    """m/(12 pi) (1 + 2r) sqrt(1 - 4r), r = m_f^2/m^2, zero below threshold (None if all zero)."""
    if m_f == 0.0:
        return m * _INV_12PI
    if not np.any(m > 2.0 * m_f):
        return None
    r = (m_f * m_f) / (m * m)
    return m * _INV_12PI * (1.0 + 2.0 * r) * np.sqrt(np.maximum(1.0 - 4.0 * r, 0.0))


def _as_model(model: Model | str) -> Model:
    if isinstance(model, str):
        return _named_model(model)
    if not isinstance(model, Model):
        raise ValueError(f"model must be a zprime_atlas Model or a model name, got {model!r}")
    return model


def _full(x: NDArray | float | None, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """x as a float array of the given shape (None: no contribution, zeros)."""
    x = np.asarray(0.0 if x is None else x, dtype=np.float64)
    if x.shape == shape:
        return x
    return np.broadcast_to(x, shape).copy()


def _own(x: NDArray[np.float64], others: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """x, copied if it is one of the arrays already returned (no two channels share memory)."""
    return x.copy() if any(x is y for y in others.values()) else x


def _add(total: NDArray | None, term: NDArray | None) -> NDArray | None:
    if term is None:
        return total
    if total is None:
        return term
    return total + term


@dataclass
class _Setup:
    m: NDArray[np.float64]
    g: dict[str, NDArray]
    shape: tuple[int, ...]
    qcd: NDArray[np.float64]  # 1 + alpha_s(max(m, M_JOIN))/pi, mass shape
    m_dark: float = 0.0
    _kernels: dict[float, NDArray[np.float64] | None] = field(default_factory=dict)

    def kernel(self, m_f: float) -> NDArray[np.float64] | None:
        """:func:`_pair_kernel` at the masses, computed once per fermion mass."""
        if m_f not in self._kernels:
            self._kernels[m_f] = _pair_kernel(self.m, m_f)
        return self._kernels[m_f]


def _setup(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike,
    eps: ArrayLike | str | None,
    eps_over_g: ArrayLike | None,
    loop_scale: float | None,
) -> _Setup:
    mdl = _as_model(model)
    m = as_mass(m_X)
    g = effective_couplings(mdl, g_X, eps=eps, eps_over_g=eps_over_g, q2=m * m, loop_scale=loop_scale)
    return _setup_from_couplings(g, m, mdl.m_dark, mdl.shape)


def _setup_from_couplings(
    g: dict[str, NDArray], m: NDArray[np.float64], m_dark: float = 0.0, shape: tuple = ()
) -> _Setup:
    shape = np.broadcast_shapes(m.shape, shape, *(np.shape(v) for v in g.values()))
    qcd = 1.0 + alpha_s(np.maximum(m, M_JOIN)) / math.pi
    return _Setup(m=m, g=g, shape=shape, qcd=qcd, m_dark=m_dark)


def _vmd_amplitudes(g: dict[str, NDArray]) -> tuple[NDArray, NDArray, NDArray]:
    """a_rho, a_omega, a_phi = c_V tr(T_V diag(g_u, g_d, g_s))."""
    g_u, g_d, g_s = g["u"], g["d"], g["s"]
    a_rho = 2.0 * 0.5 * (g_u - g_d)  # c_rho = 2, T_rho = (1, -1, 0)/2
    a_omega = 6.0 * 0.5 * (g_u + g_d)  # c_omega = 6, T_omega = (1, 1, 0)/2
    a_phi = (3.0 * math.sqrt(2.0)) * (g_s / math.sqrt(2.0))  # c_phi = 3 sqrt 2, T_phi = (0,0,1)/sqrt2
    return a_rho, a_omega, a_phi


def _light_quark_pert(s: _Setup) -> NDArray | None:
    """Perturbative u, d, s width (zero below M_JOIN); None if no mass is at or above M_JOIN."""
    above = s.m >= M_JOIN
    if not np.any(above):
        return None
    total = None
    for q in _LIGHT_QUARKS:
        kern = s.kernel(FERMION_MASS[q])
        if kern is None:
            continue
        kern = np.where(above, 3.0 * kern * s.qcd, 0.0)
        total = _add(total, _abs2(s.g[q]) * kern)
    return total


def _three_pi(loc: _Locator, kern: NDArray, a_omega: NDArray, a_phi: NDArray) -> NDArray:
    width = (
        _abs2(a_omega) * (kern * loc((_THREE_PI, "omega")))
        + _abs2(a_phi) * (kern * loc((_THREE_PI, "phi")))
        + _re_conj_product(a_omega, a_phi) * (2.0 * kern * loc((_THREE_PI, "omega_phi")))
    )
    return np.maximum(width, 0.0)


_SUM_RHO = tuple(k for k in _VMD_TABLES if k[1] == "rho0" and k[0] != _THREE_PI)
_SUM_OMEGA = tuple(k for k in _VMD_TABLES if k[1] == "omega" and k[0] != _THREE_PI)
_SUM_PHI = tuple(k for k in _VMD_TABLES if k[1] == "phi" and k[0] != _THREE_PI)


def _widths(s: _Setup) -> dict[str, NDArray[np.float64]]:
    m, g, shape = s.m, s.g, s.shape
    out: dict[str, NDArray[np.float64]] = {}
    for lep, channel in _LEPTON_CHANNELS.items():
        kern = s.kernel(FERMION_MASS[lep])
        out[channel] = _full(0.0 if kern is None else _abs2(g[lep]) * kern, shape)
    nu_kern = m * _INV_24PI
    nu_total = None
    for lep in _LEPTON_CHANNELS:
        nu = NEUTRINO_OF[lep]
        width = _full(_abs2(g[nu]) * nu_kern, shape)
        out[_NEUTRINO_CHANNELS[nu]] = width
        nu_total = _add(nu_total, width)
    out["nu_nu"] = _own(_full(nu_total, shape), out)

    hadrons = None
    for q, channel in _HEAVY_QUARKS.items():
        kern = s.kernel(FERMION_MASS[q])
        if kern is None:
            out[channel] = np.zeros(shape)
            continue
        out[channel] = _full(_abs2(g[q]) * (3.0 * kern * s.qcd), shape)
        hadrons = _add(hadrons, out[channel])

    loc = _Locator(m)
    if loc.any:
        a_rho, a_omega, a_phi = _vmd_amplitudes(g)
        kern = m * _INV_12PI
        vmd = (
            _abs2(a_rho) * (kern * loc(_SUM_RHO))
            + _abs2(a_omega) * (kern * loc(_SUM_OMEGA))
            + _abs2(a_phi) * (kern * loc(_SUM_PHI))
            + _three_pi(loc, kern, a_omega, a_phi)
        )
        hadrons = _add(hadrons, vmd)
    hadrons = _add(hadrons, _light_quark_pert(s))
    out["hadrons"] = _own(_full(0.0 if hadrons is None else hadrons, shape), out)
    dark_kern = s.kernel(s.m_dark) if "dark" in g else None
    out["dark"] = _full(0.0 if dark_kern is None else _abs2(g["dark"]) * dark_kern, shape)
    out["invisible"] = out["nu_nu"] + out["dark"]
    return {c: out[c] for c in CHANNELS}


def _total(w: Mapping[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    total = w[_CHANNELS_IN_TOTAL[0]].copy()
    for channel in _CHANNELS_IN_TOTAL[1:]:
        total += w[channel]
    return total


def widths_from_couplings(
    couplings: Mapping[str, ArrayLike], m_X: ArrayLike, m_dark: float = 0.0
) -> dict[str, NDArray[np.float64]]:
    """Partial widths [GeV] from effective couplings already evaluated at q^2 = m_X^2.

    ``couplings`` is the dict of :func:`~zprime_atlas.couplings.effective_couplings` (for callers
    that also need the couplings, e.g. recasts); ``m_dark`` is the dark fermion's mass [GeV].
    Same keys as :func:`widths`.
    """
    m = as_mass(m_X)
    g = {k: np.asarray(v) for k, v in couplings.items()}
    return _widths(_setup_from_couplings(g, m, m_dark))


def total_from_widths(w: Mapping[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """Total width [GeV] from a :func:`widths` dict (e_e + mu_mu + tau_tau + nu_nu + hadrons + dark)."""
    return _total(w)


# -- public API -------------------------------------------------------------------------------


def widths(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike = 1.0,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Partial widths of X [GeV], channel -> array (formulas in the module docstring).

    Parameters
    ----------
    model
        A :class:`~zprime_atlas.models.Model` (a batch broadcasts) or a registry name.
    m_X
        Mass(es) of X in GeV (positive, finite).
    g_X
        U(1)_X coupling (number or array).
    eps, eps_over_g, loop_scale
        Kinetic mixing, as in :func:`zprime_atlas.couplings.effective_couplings` (a number or
        array, ``"loop"`` evaluated at q^2 = m_X^2, or a fixed ratio eps/g_X; ``loop_scale`` in
        GeV for loop mixing of models with B != 0). Default: no mixing.

    Returns
    -------
    dict
        Keys :data:`CHANNELS`: ``e_e mu_mu tau_tau nu_e_nu_e nu_mu_nu_mu nu_tau_nu_tau nu_nu c_c
        b_b t_t hadrons``. ``nu_nu`` is the sum of the three neutrino channels; ``hadrons``
        contains ``c_c``, ``b_b`` and ``t_t`` (do not add them again). Every array has the broadcast
        shape of the model batch, ``m_X``, ``g_X`` and ``eps``.
    """
    return _widths(_setup(model, m_X, g_X, eps, eps_over_g, loop_scale))


def hadronic_widths(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike = 1.0,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Widths [GeV] of the individual VMD final states (arguments as in :func:`widths`).

    Keys :data:`HADRONIC_STATES` (``pi+_pi- pi+_pi-_pi0 pi0_gamma K_K K_K_pi pi+_pi-_pi+_pi-
    pi+_pi-_pi0_pi0 other``), which are zero at and above M_JOIN, plus ``u_d_s``: the perturbative
    X -> u ubar, d dbar, s sbar width, zero below M_JOIN. Their sum plus ``c_c + b_b + t_t`` of
    :func:`widths` is ``hadrons``.
    """
    s = _setup(model, m_X, g_X, eps, eps_over_g, loop_scale)
    out: dict[str, NDArray[np.float64]] = {}
    loc = _Locator(s.m)
    if loc.any:
        amps = dict(zip(("rho0", "omega", "phi"), _vmd_amplitudes(s.g), strict=True))
        kern = s.m * _INV_12PI
        for state in HADRONIC_STATES:
            if state == _THREE_PI:
                width = _three_pi(loc, kern, amps["omega"], amps["phi"])
            else:
                width = None
                for key in _VMD_TABLES:
                    if key[0] == state:
                        width = _add(width, _abs2(amps[key[1]]) * (kern * loc(key)))
            out[state] = _full(width, s.shape)
    else:
        out = {state: np.zeros(s.shape) for state in HADRONIC_STATES}
    pert = _light_quark_pert(s)
    out["u_d_s"] = _full(0.0 if pert is None else pert, s.shape)
    return out


def total_width(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike = 1.0,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> NDArray[np.float64]:
    """Total width [GeV] = e_e + mu_mu + tau_tau + nu_nu + hadrons + dark (arguments: :func:`widths`)."""
    return _total(widths(model, m_X, g_X, eps, eps_over_g, loop_scale))


def branching_ratios(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike = 1.0,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Branching ratios, channel -> width/total (keys and arguments as in :func:`widths`).

    Where the total width is 0 (X couples to nothing, e.g. a model with zero charges and no
    mixing, or only to channels that are closed) every branching ratio is 0.
    """
    w = widths(model, m_X, g_X, eps, eps_over_g, loop_scale)
    total = _total(w)
    positive = total > 0.0
    return {c: np.divide(v, total, out=np.zeros_like(total), where=positive) for c, v in w.items()}


def lifetime(
    model: Model | str,
    m_X: ArrayLike,
    g_X: ArrayLike = 1.0,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> NDArray[np.float64]:
    """Proper lifetime [s] = hbar/Gamma_total (constants.HBAR_GEV_S); +inf where the width is 0."""
    total = total_width(model, m_X, g_X, eps, eps_over_g, loop_scale)
    return np.divide(HBAR_GEV_S, total, out=np.full_like(total, np.inf), where=total > 0.0)


def __dir__() -> list[str]:
    return list(__all__)
