r"""Neutrino decoupling with a thermalised light X: T_gamma, T_nu and N_eff (GeV units).

The method is Escudero's (arXiv:1812.05605, 2001.04466; code MiguelEA/nudec_BSM): every species is
described by an equilibrium distribution with a temperature, the electron-photon bath (T_gamma) and
the neutrino bath (one common T_nu for the three flavours) each conserve energy except for the
energy they exchange, and

    dT_nu/dln a    = [-3 (rho + p)_nu-bath + drho_nu/dt / H] / (d rho_nu-bath / dT_nu)
    dT_gamma/dln a = [-3 (rho + p)_em-bath - drho_nu/dt / H] / (d rho_em-bath / dT_gamma)

with H = sqrt(8 pi rho_total / 3) / M_Pl. The Standard-Model exchange (Maxwell-Boltzmann collision
terms, massless electrons; nudec_BSM ``nuDec_SM.py``, the equations of 1812.05605), summed over
the three flavours at a common T_nu::

    drho_nu/dt|_SM = 2 G_F^2 / pi^5 [(C_Ae^2 + C_Ve^2) + 2 (C_Amu^2 + C_Vmu^2)]
                     * [16 (T_gamma^9 - T_nu^9) + 7 T_gamma^4 T_nu^4 (T_gamma - T_nu)]

with C_Ae = 1/2, C_Ve = 1/2 + 2 s_W^2, C_Amu = -1/2, C_Vmu = -1/2 + 2 s_W^2 and s_W^2 = 0.223
(the on-shell value that code uses). QED finite-temperature corrections to the plasma equation of
state are *not* included (they add about +0.01 to N_eff; docs/physics/neff_bbn.md).

X (three polarisations, Bose-Einstein, no chemical potential) sits in the bath it decays to fastest
(``bath="nu"`` or ``"em"``) and exchanges energy with the other one through decays and inverse
decays into it, with Maxwell-Boltzmann statistics and the partial width Gamma_other::

    drho_nu/dt|_X = Gamma_other m_X [n_X(T_gamma) - n_X(T_nu)],  n_X(T) = 3 m^2 T K_2(m/T) / (2 pi^2)

(the same expression for either bath: energy flows from the hotter bath to the colder). Gamma_other
enters as ``k`` = Gamma_other / H(T = m_X), the Hubble rate of :func:`hubble_at` at T = m_X.

N_eff = (8/7) (11/4)^(4/3) rho_nu / rho_gamma once e+- and X are gone. Without X this gives
N_eff^SM = 3.035 (measured here; 2001.04466 quotes 3.045 with the QED corrections).

The solver is vectorized over points (one stiff system, scipy BDF with a block-diagonal Jacobian
sparsity). :func:`neff_table` computes the table ``data/cosmology/neff_table.csv`` ships;
:mod:`zprime_atlas.constraints.neff` interpolates it. Regenerate with
``python -m zprime_atlas.cosmology``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import scipy.constants as _sc
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp
from scipy.sparse import block_diag
from scipy.special import kve, roots_laguerre

from .constants import G_FERMI, M_E

__all__ = [
    "M_PLANCK",
    "NEFF_NORMALISATION",
    "SIN2_THETA_W_ONSHELL",
    "g_star",
    "hubble_at",
    "neff",
    "neff_table",
]

#: Planck mass sqrt(hbar c / G) in GeV (CODATA 2022 G via scipy.constants): 1.2209e19 GeV.
M_PLANCK: float = math.sqrt(_sc.hbar * _sc.c / _sc.G) * _sc.c**2 / _sc.e * 1e-9
#: On-shell weak mixing angle 1 - m_W^2/m_Z^2 = 0.223 as used in the neutrino-electron energy
#: transfer rates of MiguelEA/nudec_BSM (nuDec_SM.py; arXiv:1812.05605).
SIN2_THETA_W_ONSHELL: float = 0.223
#: N_eff = NEFF_NORMALISATION * rho_nu / rho_gamma = (8/7) (11/4)^(4/3) rho_nu / rho_gamma.
NEFF_NORMALISATION: float = 8.0 / 7.0 * (11.0 / 4.0) ** (4.0 / 3.0)

_G_X = 3.0  # polarisations of a massive vector
_G_E = 4.0  # e+ e-, two helicities each
_RHO_NU_COEFF = 3.0 * 2.0 * 7.0 / 8.0 * math.pi**2 / 30.0  # three flavours, nu + nubar
_RHO_GAMMA_COEFF = 2.0 * math.pi**2 / 30.0
_sw2 = SIN2_THETA_W_ONSHELL
_C2_E = 0.25 + (0.5 + 2 * _sw2) ** 2
_C2_MU = 0.25 + (-0.5 + 2 * _sw2) ** 2
_SM_RATE = 2.0 * G_FERMI**2 / math.pi**5 * (_C2_E + 2.0 * _C2_MU)

# Gauss-Laguerre nodes for the momentum integrals (u = p/T, weight e^-u).
_U, _W = roots_laguerre(64)

#: Temperatures [GeV]: start at max(T_START, m_X), stop at T_END (e+- and X long gone).
T_START = 0.010
T_END = 2e-6


def _thermo(T: NDArray, m: NDArray | float, g: float, fermion: bool) -> tuple[NDArray, ...]:
    """(rho, p, d rho/dT) of a species of mass m in equilibrium at T (no chemical potential)."""
    T = np.asarray(T, dtype=float)
    z = np.asarray(m, dtype=float) / T
    u = _U[None, :]
    eps = np.sqrt(u * u + np.asarray(z).reshape(-1, 1) ** 2)
    sign = 1.0 if fermion else -1.0
    # integrands times e^u (the Laguerre weight); e^(u - eps) / (1 + sign e^-eps) is stable.
    occ = np.exp(u - eps) / (1.0 + sign * np.exp(-eps))
    rho_i = (u * u * eps * occ) @ _W
    p_i = (u**4 / eps * occ) @ _W / 3.0
    # d rho/dT = g T^3/(2 pi^2) int u^2 eps^2 e^eps/(e^eps + sign)^2 du
    d_i = (u * u * eps * eps * occ / (1.0 + sign * np.exp(-eps))) @ _W
    shape = T.shape
    c = g / (2.0 * math.pi**2)
    rho = c * T**4 * rho_i.reshape(shape)
    p = c * T**4 * p_i.reshape(shape)
    drho = c * T**3 * d_i.reshape(shape)
    return rho, p, drho


def _n_mb(T: NDArray, m: NDArray) -> NDArray:
    """Maxwell-Boltzmann number density of X: 3 m^2 T K_2(m/T) / (2 pi^2)."""
    z = m / T
    return _G_X / (2.0 * math.pi**2) * m * m * T * kve(2, z) * np.exp(-z)


def g_star(T: ArrayLike, m_X: ArrayLike | None = None) -> NDArray[np.float64]:
    """Energy degrees of freedom g* = rho / (pi^2 T^4 / 30) of photons, e+-, three neutrinos (and X).

    Everything at the common temperature T [GeV] (before neutrino decoupling). 10.75 for
    m_e << T without X (2 + 7/8 * 4 + 7/8 * 6); X adds up to 3.
    """
    T = np.asarray(T, dtype=float)
    rho_e = _thermo(T, M_E, _G_E, True)[0]
    rho = (_RHO_GAMMA_COEFF + _RHO_NU_COEFF) * T**4 + rho_e
    if m_X is not None:
        rho = rho + _thermo(T, np.broadcast_to(np.asarray(m_X, float), T.shape), _G_X, False)[0]
    return rho / (math.pi**2 / 30.0 * T**4)


def hubble_at(T: ArrayLike, m_X: ArrayLike | None = None) -> NDArray[np.float64]:
    """H [GeV] = sqrt(8 pi^3 g*/90) T^2 / M_Pl = 1.66 sqrt(g*) T^2 / M_Pl at a common temperature T."""
    T = np.asarray(T, dtype=float)
    gs = g_star(T, None if m_X is None else np.broadcast_to(np.asarray(m_X, float), T.shape))
    return np.sqrt(8.0 * math.pi**3 * gs / 90.0) * T * T / M_PLANCK


def _solve(m: NDArray, k: NDArray, x_in_nu: NDArray, with_x: NDArray) -> NDArray:
    """N_eff for each point (vectorized stiff integration in ln a)."""
    n = m.size
    T0 = np.maximum(T_START, m)
    h_m = hubble_at(m, m)
    gamma_other = k * h_m
    y_end = float(np.log(T0.max() / T_END)) + 1.0

    def rhs(_y: float, state: NDArray) -> NDArray:
        tg, tn = state[:n], state[n:]
        rho_g = _RHO_GAMMA_COEFF * tg**4
        rho_e, p_e, drho_e = _thermo(tg, M_E, _G_E, True)
        rho_n = _RHO_NU_COEFF * tn**4
        t_x = np.where(x_in_nu, tn, tg)
        rho_x, p_x, drho_x = _thermo(t_x, m, _G_X, False)
        rho_x, p_x, drho_x = (np.where(with_x, v, 0.0) for v in (rho_x, p_x, drho_x))
        rho_tot = rho_g + rho_e + rho_n + rho_x
        H = np.sqrt(8.0 * math.pi * rho_tot / 3.0) / M_PLANCK
        q = _SM_RATE * (16.0 * (tg**9 - tn**9) + 7.0 * tg**4 * tn**4 * (tg - tn))
        q = q + np.where(with_x, gamma_other * m * (_n_mb(tg, m) - _n_mb(tn, m)), 0.0)
        em_enthalpy = 4.0 * rho_g + 3.0 * (rho_e + p_e) + np.where(x_in_nu, 0.0, 3.0 * (rho_x + p_x))
        nu_enthalpy = 4.0 * rho_n + np.where(x_in_nu, 3.0 * (rho_x + p_x), 0.0)
        em_heat = 4.0 * rho_g / tg + drho_e + np.where(x_in_nu, 0.0, drho_x)
        nu_heat = 4.0 * rho_n / tn + np.where(x_in_nu, drho_x, 0.0)
        dtg = (-em_enthalpy - q / H) / em_heat
        dtn = (-nu_enthalpy + q / H) / nu_heat
        return np.concatenate([dtg, dtn])

    # Each point couples only its own (T_gamma, T_nu): block-diagonal Jacobian, in the layout
    # [T_gamma of every point, T_nu of every point].
    sparsity = block_diag([np.ones((2, 2))] * n, format="csr")
    perm = np.concatenate([np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)])
    sparsity = sparsity[perm][:, perm]
    sol = solve_ivp(
        rhs,
        (0.0, y_end),
        np.concatenate([T0, T0]),
        method="BDF",
        rtol=1e-7,
        atol=1e-14,
        jac_sparsity=sparsity,
    )
    if not sol.success:
        raise RuntimeError(f"neutrino decoupling integration failed: {sol.message}")
    tg, tn = sol.y[:n, -1], sol.y[n:, -1]
    return np.asarray(NEFF_NORMALISATION * _RHO_NU_COEFF * tn**4 / (_RHO_GAMMA_COEFF * tg**4))


def neff(
    m_X: ArrayLike | None = None, k: ArrayLike = 0.0, bath: str | ArrayLike = "nu"
) -> NDArray[np.float64]:
    """N_eff with a thermalised X of mass m_X [GeV] in ``bath`` ("nu" or "em"), or the SM (m_X None).

    ``k`` = Gamma(X -> other bath) / H(T = m_X). All arguments broadcast; one stiff integration.
    """
    if m_X is None:
        return _solve(np.array([1.0]), np.array([0.0]), np.array([False]), np.array([False]))[0]
    m, kk, b = np.broadcast_arrays(
        np.asarray(m_X, dtype=float), np.asarray(k, dtype=float), np.asarray(bath)
    )
    if not np.all(np.isin(b, ("nu", "em"))):
        raise ValueError("bath must be 'nu' or 'em'")
    out = _solve(m.ravel(), kk.ravel(), (b == "nu").ravel(), np.ones(m.size, dtype=bool))
    return out.reshape(m.shape)


#: Grids of the shipped table: masses [GeV] and log10 k.
TABLE_MASSES: NDArray[np.float64] = np.geomspace(1e-4, 3e-2, 31)
TABLE_LOG10_K: NDArray[np.float64] = np.arange(-4.0, 5.01, 0.5)


def neff_table() -> tuple[float, NDArray[np.float64]]:
    """(N_eff^SM, rows of (bath 0=nu/1=em, m_GeV, log10_k, N_eff)) on the shipped grids."""
    bb, mm, kk = np.meshgrid([0, 1], TABLE_MASSES, TABLE_LOG10_K, indexing="ij")
    values = neff(mm, 10.0**kk, np.where(bb == 0, "nu", "em"))
    rows = np.stack([bb.ravel(), mm.ravel(), kk.ravel(), values.ravel()], axis=1)
    return float(neff()), rows


_HEADER = """\
# N_eff after neutrino decoupling with a thermalised vector X (3 polarisations, Bose-Einstein)
# computed by zprime_atlas/cosmology.py (python -m zprime_atlas.cosmology regenerates this file):
#   Escudero's method (arXiv:1812.05605, 2001.04466): equilibrium distributions, one T_gamma and one
#   common T_nu; SM nu-e energy transfer with Maxwell-Boltzmann collision terms and massless electrons
#   as in MiguelEA/nudec_BSM nuDec_SM.py (s_W^2 = 0.223); no QED plasma corrections.
#   X sits in bath (0 = neutrinos, 1 = electron-photon) and exchanges energy with the other bath by
#   decays and inverse decays with width Gamma_other = k H(T = m_X).
# N_eff^SM (no X, same code) = {sm:.5f}
# columns: bath (0 nu, 1 em), m_GeV (mass of X), log10_k (log10 Gamma_other/H(m_X)), neff
"""


def write_table(path: Path) -> None:
    """Compute :func:`neff_table` and write it as a commented CSV to ``path``."""
    sm, rows = neff_table()
    lines = [_HEADER.format(sm=sm), "bath,m_GeV,log10_k,neff"]
    lines += [f"{int(b)},{m:.6e},{k:.2f},{v:.6f}" for b, m, k, v in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _main() -> None:  # pragma: no cover - the regeneration entry point
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "data" / "cosmology" / "neff_table.csv"
    parser.add_argument("-o", "--output", type=Path, default=default)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_table(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":  # pragma: no cover
    _main()
