r"""Production factors P(m) of X per mechanism: the model dependence of a production rate.

A recast only needs *ratios* of production rates between two models at the same mass, so each
mechanism is reduced to the squared coupling combination that multiplies a model-independent
(kinematics, parton luminosity, meson yield) factor. With the effective couplings
g_f = g_X x_f + eps e Q_f of :func:`zprime_atlas.couplings.effective_couplings` (evaluated at
q^2 = m_X^2 for production) and the U(3) quark-coupling matrix Q = diag(g_u, g_d, g_s), the factors
are (Ilten, Soreq, Williams, Xue, arXiv:1801.04847, section 2; docs/physics/production.md):

==============================  =======================================================
mechanism                       P
==============================  =======================================================
``e_e`` (e+e- -> gamma X,        |g_e|^2
e-beam bremsstrahlung)
``mu_mu`` (e+e- -> mu mu X,      |g_mu|^2
mu bremsstrahlung)
``d_d u_u s_s c_c b_b``          |g_q|^2 (Drell-Yan q qbar -> X)
``rho0 omega phi``               |tr(T_V Q)|^2 (vector-meson mixing)
``pi0_gamma eta_gamma``          |sum_V tr(T_A T_gamma T_V) tr(T_V Q) BW_V(m)|^2 (A -> gamma X)
``etap_gamma``
``omega_pi0``                    |sum_V tr(T_omega T_pi0 T_V) tr(T_V Q) BW_V(m)|^2
``phi_eta``                      |sum_V tr(T_phi T_eta T_V) tr(T_V Q) BW_V(m)|^2 (phi -> eta X)
``p_brem``                       |2 g_u + g_d|^2 (proton bremsstrahlung: the proton coupling)
==============================  =======================================================

Generators (diagonals over u, d, s): T_rho0 = T_pi0 = (1, -1, 0)/2, T_omega = (1, 1, 0)/2,
T_phi = (0, 0, 1)/sqrt 2, T_eta = (1, 1, -1)/sqrt 6, T_eta' = (1, 1, 2)/(2 sqrt 3), and
T_gamma = (2, -1, -1)/3 (the quark charges). BW_V(m) = m_V^2 / (m_V^2 - m^2 - i m Gamma_V) is the
fixed-width Breit-Wigner of 1801.04847 eq. (A.2), equal to 1 at m = 0 (the width term carries the X
mass; a "m_V Gamma_V" width term is right only with a running width that vanishes below
threshold). The energy-dependent width of 1801.04847 differs only near the rho peak and cancels in
ratios between models with the same rho/omega mixture. Above a meson's kinematic limit
(m > m_A - m_B) the experiment's production fractions vanish, so the factor is not set to zero here.

Check (tested): for m -> 0 the vector-meson sum completes, sum_V T_V tr(T_V Q) = Q/2, so
pi0 -> gamma X follows the pi0 -> gamma gamma*
anomaly structure (the amplitude is tr(T_pi0 T_gamma Q)/2 = (2 g_u + g_d)/12); B-L and the dark
photon then give the same rate per unit coupling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...constants import M_OMEGA, M_PHI, M_RHO, WIDTH_OMEGA, WIDTH_PHI, WIDTH_RHO

__all__ = ["GENERATORS", "MECHANISMS", "production_factor", "production_factors"]

_S2, _S3, _S6 = math.sqrt(2.0), math.sqrt(3.0), math.sqrt(6.0)

#: Diagonal U(3) generators (u, d, s) of the mesons and of the photon.
GENERATORS: dict[str, tuple[float, float, float]] = {
    "rho0": (0.5, -0.5, 0.0),
    "omega": (0.5, 0.5, 0.0),
    "phi": (0.0, 0.0, 1.0 / _S2),
    "pi0": (0.5, -0.5, 0.0),
    "eta": (1.0 / _S6, 1.0 / _S6, -1.0 / _S6),
    "etap": (1.0 / (2 * _S3), 1.0 / (2 * _S3), 2.0 / (2 * _S3)),
    "gamma": (2.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0),
}

_VECTORS: dict[str, tuple[float, float]] = {
    "rho0": (M_RHO, WIDTH_RHO),
    "omega": (M_OMEGA, WIDTH_OMEGA),
    "phi": (M_PHI, WIDTH_PHI),
}

#: Meson-decay mechanisms: name -> (decaying meson A, recoiling B).
_MESON_DECAYS: dict[str, tuple[str, str]] = {
    "pi0_gamma": ("pi0", "gamma"),
    "eta_gamma": ("eta", "gamma"),
    "etap_gamma": ("etap", "gamma"),
    "omega_pi0": ("omega", "pi0"),
    "phi_eta": ("phi", "eta"),
}

_FERMION_MECHANISMS: dict[str, str] = {
    "e_e": "e",
    "mu_mu": "mu",
    "d_d": "d",
    "u_u": "u",
    "s_s": "s",
    "c_c": "c",
    "b_b": "b",
}

#: Every mechanism name a recast file may use.
MECHANISMS: tuple[str, ...] = (
    *_FERMION_MECHANISMS,
    *_VECTORS,
    *_MESON_DECAYS,
    "p_brem",
)


def _trace(t: tuple[float, float, float], g: Mapping[str, NDArray]) -> NDArray:
    """tr(T diag(g_u, g_d, g_s)) for a diagonal generator T."""
    return t[0] * g["u"] + t[1] * g["d"] + t[2] * g["s"]


def _breit_wigner(vector: str, m: NDArray[np.float64]) -> NDArray[np.complex128]:
    m_v, width = _VECTORS[vector]
    return np.asarray(m_v**2 / (m_v**2 - m**2 - 1j * m * width), dtype=np.complex128)


def _abs2(z: ArrayLike) -> NDArray[np.float64]:
    z = np.asarray(z)
    if np.iscomplexobj(z):
        return z.real**2 + z.imag**2
    return z * z


def production_factor(
    mechanism: str, couplings: Mapping[str, ArrayLike], m_X: ArrayLike
) -> NDArray[np.float64]:
    """P for one mechanism (table in the module docstring), from effective couplings at m_X [GeV].

    ``couplings`` is the dict of :func:`~zprime_atlas.couplings.effective_couplings` (complex
    values allowed); the result broadcasts couplings with ``m_X``.
    """
    g = {k: np.asarray(v) for k, v in couplings.items()}
    m = np.asarray(m_X, dtype=np.float64)
    if mechanism in _FERMION_MECHANISMS:
        out = _abs2(g[_FERMION_MECHANISMS[mechanism]])
    elif mechanism in _VECTORS:
        out = _abs2(_trace(GENERATORS[mechanism], g))
    elif mechanism in _MESON_DECAYS:
        a, b = (GENERATORS[k] for k in _MESON_DECAYS[mechanism])
        amp: NDArray = np.zeros((), dtype=np.complex128)
        for vector in _VECTORS:
            v = GENERATORS[vector]
            coefficient = sum(a[i] * b[i] * v[i] for i in range(3))
            if coefficient != 0.0:
                amp = amp + coefficient * _trace(v, g) * _breit_wigner(vector, m)
        out = _abs2(amp)
    elif mechanism == "p_brem":
        out = _abs2(2.0 * g["u"] + g["d"])
    else:
        raise ValueError(f"unknown production mechanism {mechanism!r}; known: " + ", ".join(MECHANISMS))
    shape = np.broadcast_shapes(np.shape(out), m.shape, *(np.shape(v) for v in g.values()))
    return np.broadcast_to(out, shape).astype(np.float64)


def production_factors(
    mechanisms: Iterable[str], couplings: Mapping[str, ArrayLike], m_X: ArrayLike
) -> dict[str, NDArray[np.float64]]:
    """:func:`production_factor` for several mechanisms: dict mechanism -> P."""
    return {name: production_factor(name, couplings, m_X) for name in mechanisms}


def __dir__() -> list[str]:
    return list(__all__)
