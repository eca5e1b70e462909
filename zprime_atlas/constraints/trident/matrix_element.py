r"""nu gamma -> nu mu+ mu-: the exact tree-level matrix element with massive muons.

See docs/physics/trident.md.

Contact SM interaction (the W box Fierzed into the Z form):

    L = -sqrt2 G_F [nu_mu-bar gamma^a P_L nu_mu][mu-bar gamma_a (C_V - C_A gamma5) mu],
    C_V^SM = g_V = 1/2 + 2 s_W^2,  C_A = g_A = 1/2.

Helicity amplitudes are evaluated numerically with Dirac matrices (both diagrams of the muon line,
transverse photon polarizations summed), on the phase space dPhi_3 = dQ^2/(8 pi s) dM^2/(2 pi)
beta/(32 pi^2) dOmega* (M the mu mu mass, Omega* the mu- direction in the mu mu rest frame about the
photon axis), integrated with Gauss-Legendre rules mapped onto the collinear peaks. Used only to
build the Q^2 tables (:mod:`.tables`); the tests check photon gauge invariance, conservation of the
vector current, Lorentz invariance, the vanishing V-A interference and the leading-log high-energy
behaviour sigma_V -> alpha G_F^2 s/(9 pi^2) [ln(s/m_mu^2) - 8/3].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._quadrature import gauss_legendre
from ...constants import E_CHARGE, G_FERMI, M_MU, SIN2_THETA_W_LOW

__all__ = ["nu_gamma_dsigma_dq2", "sm_couplings"]


def sm_couplings(sin2_theta_w: float = SIN2_THETA_W_LOW) -> tuple[float, float]:
    """(g_V, g_A) = (1/2 + 2 s_W^2, 1/2) of nu_mu mu -> nu_mu mu (Z + Fierzed W)."""
    return 0.5 + 2.0 * sin2_theta_w, 0.5


_SIGMA = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_GAMMA = np.zeros((4, 4, 4), dtype=complex)  # Dirac representation, gamma^mu
_GAMMA[0] = np.block([[_I2, _Z2], [_Z2, -_I2]])
for _i in range(3):
    _GAMMA[_i + 1] = np.block([[_Z2, _SIGMA[_i]], [-_SIGMA[_i], _Z2]])
_GAMMA5 = 1j * _GAMMA[0] @ _GAMMA[1] @ _GAMMA[2] @ _GAMMA[3]
_METRIC = np.array([1.0, -1.0, -1.0, -1.0])
_DIRAC_BAR = np.array([1.0, 1.0, -1.0, -1.0])  # u-bar = u^dagger gamma^0 (gamma^0 diagonal)


def _slash(p: NDArray) -> NDArray:
    """gamma^mu p_mu for 4-vectors p (..., 4) given with upper indices."""
    return np.einsum("...a,aij->...ij", p * _METRIC, _GAMMA)


def _dot(a: NDArray, b: NDArray) -> NDArray:
    return np.sum(a * b * _METRIC, axis=-1)


def _massive_spinors(p: NDArray, m: float) -> tuple[NDArray, NDArray]:
    """u(p, s) and v(p, s), shape (N, 2, 4): sum_s u u-bar = pslash + m, sum_s v v-bar = pslash - m."""
    e = p[:, 0]
    sp = np.einsum("ni,ijk->njk", p[:, 1:], _SIGMA)
    a = np.sqrt(e + m)[:, None]
    u = np.zeros((len(p), 2, 4), dtype=complex)
    v = np.zeros((len(p), 2, 4), dtype=complex)
    for s, (chi, eta) in enumerate((((1.0, 0.0), (0.0, -1.0)), ((0.0, 1.0), (1.0, 0.0)))):
        chi_a, eta_a = np.array(chi), np.array(eta)
        u[:, s, :2] = a * chi_a
        u[:, s, 2:] = np.einsum("njk,k->nj", sp, chi_a) / a
        v[:, s, :2] = np.einsum("njk,k->nj", sp, eta_a) / a
        v[:, s, 2:] = a * eta_a
    return u, v


def _left_spinor(k: NDArray) -> NDArray:
    """Negative-helicity massless spinor u_L(k), shape (N, 4) (Dirac representation)."""
    e = k[:, 0]
    n = k[:, 1:] / e[:, None]
    theta = np.arccos(np.clip(n[:, 2], -1.0, 1.0))
    phi = np.arctan2(n[:, 1], n[:, 0])
    chi = np.stack([-np.exp(-1j * phi) * np.sin(theta / 2), np.cos(theta / 2) + 0j], axis=-1)
    return np.sqrt(e)[:, None] * np.concatenate([chi, -chi], axis=-1)


def _boost(a: NDArray, beta: NDArray) -> NDArray:
    """4-vectors a (N, 4) seen from a frame moving with velocity beta (N, 3)."""
    b2 = np.sum(beta**2, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    ba = np.sum(beta * a[:, 1:], axis=-1)
    safe = np.where(b2 > 0, b2, 1.0)
    coef = np.where(b2 > 0, (gamma - 1.0) * ba / safe, 0.0) - gamma * a[:, 0]
    return np.concatenate([(gamma * (a[:, 0] - ba))[:, None], a[:, 1:] + coef[:, None] * beta], axis=1)


def _kinematics(
    s: float, q2: NDArray, m2_pair: NDArray, cos_star: NDArray, phi_star: NDArray, m: float
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Momenta (k1, k2, q, p_minus, p_plus) of nu(k1) gamma(q) -> nu(k2) mu-(p-) mu+(p+).

    nu gamma centre-of-mass frame, nu along +z; Q^2 = -(k1 - k2)^2, M^2 the pair mass; the mu-
    direction (cos_star, phi_star) in the pair rest frame is measured from the photon direction.
    """
    n = len(q2)
    e1 = math.sqrt(s) / 2.0
    k1 = np.tile([e1, 0.0, 0.0, e1], (n, 1))
    q = np.tile([e1, 0.0, 0.0, -e1], (n, 1))
    e2 = (s - m2_pair) / (2.0 * math.sqrt(s))
    c = np.clip(1.0 - q2 / (2.0 * e1 * e2), -1.0, 1.0)
    k2 = np.stack([e2, e2 * np.sqrt(1.0 - c * c), np.zeros_like(e2), e2 * c], axis=1)
    pair = k1 + q - k2
    beta = pair[:, 1:] / pair[:, :1]
    q_rest = _boost(q, beta)
    k1_rest = _boost(k1, beta)
    e3 = q_rest[:, 1:] / np.linalg.norm(q_rest[:, 1:], axis=1)[:, None]
    e1v = k1_rest[:, 1:] - np.sum(k1_rest[:, 1:] * e3, axis=1)[:, None] * e3
    e1v = e1v / np.linalg.norm(e1v, axis=1)[:, None]
    e2v = np.cross(e3, e1v)
    mass = np.sqrt(m2_pair)
    b_mu = np.sqrt(1.0 - 4.0 * m * m / m2_pair)
    sin_star = np.sqrt(1.0 - cos_star**2)
    direction = (
        (sin_star * np.cos(phi_star))[:, None] * e1v
        + (sin_star * np.sin(phi_star))[:, None] * e2v
        + cos_star[:, None] * e3
    )
    p3 = (mass / 2 * b_mu)[:, None] * direction
    half = (mass / 2)[:, None]
    p_minus = _boost(np.concatenate([half, p3], axis=1), -beta)
    p_plus = _boost(np.concatenate([half, -p3], axis=1), -beta)
    return k1, k2, q, p_minus, p_plus


def _amplitudes_squared(
    k1: NDArray, k2: NDArray, q: NDArray, p_minus: NDArray, p_plus: NDArray, m: float
) -> tuple[NDArray, NDArray, NDArray]:
    """Spin- and photon-polarization-summed |A_V|^2, |A_A|^2 and Re(A_V A_A*) per point.

    A_G = J_a u-bar(p-) [eps-slash S(p- - q) G^a + G^a S(q - p+) eps-slash] v(p+), with the neutrino
    current J^a = u-bar_L(k2) gamma^a u_L(k1), G^a = gamma^a (V) or gamma^a gamma5 (A), and
    S(p) = (pslash + m)/(p^2 - m^2). The photon polarizations are the two transverse ones of the
    centre-of-mass frame (photon along -z). |M|^2 = 2 G_F^2 e^2 |C_V A_V - C_A A_A|^2.
    """
    uk2 = _left_spinor(k2).conj() * _DIRAC_BAR
    current = np.einsum("ni,aij,nj->na", uk2, _GAMMA, _left_spinor(k1))
    j_v = _slash(current)
    j_a = j_v @ _GAMMA5
    u_minus, _ = _massive_spinors(p_minus, m)
    _, v_plus = _massive_spinors(p_plus, m)
    ubar = u_minus.conj() * _DIRAC_BAR
    v_t = np.swapaxes(v_plus, 1, 2)
    den_a = -2.0 * _dot(p_minus, q)
    den_b = -2.0 * _dot(q, p_plus)
    s_a = _slash(p_minus - q) + m * np.eye(4)
    s_b = _slash(q - p_plus) + m * np.eye(4)
    vv = aa = va = 0.0
    for pol in (1, 2):
        e_slash = -_GAMMA[pol]  # eps = (0, unit vector x or y): eps-slash = -gamma^i
        row = (ubar @ e_slash @ s_a) / den_a[:, None, None]
        col = (s_b @ e_slash @ v_t) / den_b[:, None, None]
        amp_v = (row @ j_v) @ v_t + ubar @ (j_v @ col)
        amp_a = (row @ j_a) @ v_t + ubar @ (j_a @ col)
        vv = vv + np.sum(np.abs(amp_v) ** 2, axis=(1, 2))
        aa = aa + np.sum(np.abs(amp_a) ** 2, axis=(1, 2))
        va = va + np.sum((amp_v * amp_a.conj()).real, axis=(1, 2))
    return vv, aa, va  # type: ignore[return-value]


def nu_gamma_dsigma_dq2(
    s: float,
    q2: ArrayLike,
    m: float = M_MU,
    n_mass: tuple[int, int] = (8, 14),
    n_y: int = 20,
    n_phi: int = 6,
) -> NDArray[np.float64]:
    r"""dsigma(nu gamma -> nu l+ l-)/dQ^2 [GeV^-4] per unit coupling squared, at nu gamma energy s.

    Returns an array (3, len(q2)): the pure-vector (C_V = 1, C_A = 0), pure-axial (C_V = 0,
    C_A = 1) and V-A interference (coefficient of -2 C_V C_A) pieces, so that
    dsigma/dQ^2 = C_V^2 [0] + C_A^2 [1] - 2 C_V C_A [2]; [2] vanishes after the angular integral.

    dsigma/dQ^2 = 1/(4s) * 1/(8 pi s) * int dM^2/(2 pi) beta/(32 pi^2) dOmega* |M|^2,
    |M|^2 = 2 G_F^2 e^2 sum |A|^2 (1/(4s): flux 1/(2s) and the photon-polarization average 1/2).
    M^2 runs over [4m^2, s - Q^2] (Gauss-Legendre in sqrt(M^2 - 4m^2) near threshold, then in
    ln M^2); the polar angle through the rapidity y = atanh(beta cos theta*), which flattens the
    collinear propagator peaks; the azimuth by the trapezoid rule (the integrand is a low-order
    trigonometric polynomial in it).
    """
    q2 = np.atleast_1d(np.asarray(q2, dtype=float))
    out = np.zeros((3, q2.size))
    yx, yw = gauss_legendre(n_y)
    phi = np.arange(n_phi) * 2.0 * math.pi / n_phi
    pref = 2.0 * G_FERMI**2 * E_CHARGE**2 / (4.0 * s) / (8.0 * math.pi * s) / (2.0 * math.pi)
    for iq, q2i in enumerate(q2):
        m2_max = s - q2i
        if q2i <= 0 or m2_max <= 4.0 * m * m:
            continue
        w_max = math.sqrt(m2_max - 4.0 * m * m)
        w_1 = min(w_max, 2.0 * m)
        wn, ww = gauss_legendre(n_mass[0], 0.0, w_1)
        m2_nodes, m2_weights = 4.0 * m * m + wn**2, 2.0 * wn * ww
        if w_max > w_1:
            ln, lw = gauss_legendre(n_mass[1], math.log(4.0 * m * m + w_1**2), math.log(m2_max))
            m2_nodes = np.concatenate([m2_nodes, np.exp(ln)])
            m2_weights = np.concatenate([m2_weights, lw * np.exp(ln)])
        b_mu = np.sqrt(1.0 - 4.0 * m * m / m2_nodes)
        y_max = np.arctanh(b_mu)
        y = y_max[:, None] * yx[None, :]
        cos_star = np.tanh(y) / b_mu[:, None]
        # dcos/dy = (1 - tanh^2 y)/beta; phase-space factor beta/(32 pi^2); azimuth 2 pi/n_phi
        weight = (
            m2_weights[:, None]
            * (y_max[:, None] * yw[None, :])
            * (1.0 - np.tanh(y) ** 2)
            / (32.0 * math.pi**2)
            * (2.0 * math.pi / n_phi)
        )
        shape = (len(m2_nodes), n_y, n_phi)
        m2_all = np.broadcast_to(m2_nodes[:, None, None], shape).ravel()
        cos_all = np.broadcast_to(cos_star[:, :, None], shape).ravel()
        phi_all = np.broadcast_to(phi[None, None, :], shape).ravel()
        w_all = np.broadcast_to(weight[:, :, None], shape).ravel()
        moms = _kinematics(s, np.full(m2_all.shape, q2i), m2_all, cos_all, phi_all, m)
        vv, aa, va = _amplitudes_squared(*moms, m)
        out[0, iq] = pref * np.sum(w_all * vv)
        out[1, iq] = pref * np.sum(w_all * aa)
        out[2, iq] = pref * np.sum(w_all * va)
    return out


def __dir__() -> list[str]:
    return list(__all__)
