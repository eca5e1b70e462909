r"""The trident Q^2 tables: photon flux, beam folding, reading and writing (docs/physics/trident.md).

The coherent cross section is computed in the equivalent-photon (Weizsaecker-Williams)
approximation (Altmannshofer, Gori, Pospelov, Yavin, arXiv:1406.2332):

    sigma(nu A -> nu A mu mu) = <  int ds/s  Phi(s; E)  int dQ^2  dsigma(nu gamma -> nu mu mu)/dQ^2  >_E

    Phi(s; E) = sum_nuclei n_k (Z_k^2 alpha/pi) int_{q_min^2} dq^2 (q^2 - q_min^2)/q^4 F_k(q^2)^2,
    q_min = s/(2E),

with the Helm form factor F and <>_E the average over the beam spectrum
(:class:`~.experiments.TridentExperiment`). The Q^2 distributions W_V, W_A of the pure-vector and
pure-axial cross sections (charge independent) are stored per experiment in
``zprime_atlas/data/trident/<name>_q2_weights.csv`` (20 points per decade of Q^2, 1e-12 to 1e3
GeV^2). Regenerate them with ``python -m zprime_atlas.constraints.trident.generate``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._csv import package_table
from ..._quadrature import gauss_legendre
from ...constants import ALPHA_EM, HBARC_GEV_FM, M_MU, SIN2_THETA_W_LOW
from ...nuclear import helm_form_factor
from .experiments import TridentExperiment
from .matrix_element import nu_gamma_dsigma_dq2, sm_couplings

__all__ = ["TABLE_FOLDER", "load_table", "photon_flux", "q2_distribution", "write_table"]

#: Q^2 grid of the stored tables [GeV^2]: 20 points per decade.
_Q2_GRID = np.geomspace(1e-12, 1e3, 301)
#: Where the tables live (package data).
TABLE_FOLDER = Path(__file__).resolve().parents[2] / "data" / "trident"


def photon_flux(
    s: ArrayLike, energy: ArrayLike, targets: Sequence[tuple[int, float, float]], n_q: int = 96
) -> NDArray[np.float64]:
    r"""Equivalent-photon flux per unit ln s of the target nuclei (coherent, Helm form factor).

    Phi = sum_k n_k (Z_k^2 alpha/pi) int dq^2 (q^2 - q_min^2)/q^4 F_k(q^2)^2, q_min = s/(2E);
    ``targets`` lists (Z, A, atoms per formula unit). s [GeV^2], E [GeV]; broadcast.
    The integral runs in ln q^2 from q_min^2 to (3 GeV)^2, where every form factor has died off.
    """
    s, energy = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(energy, dtype=float))
    q2_min = (s / (2.0 * energy)) ** 2
    upper = 9.0
    total = np.zeros(s.shape)
    x, w = gauss_legendre(n_q)
    lo = np.log(np.minimum(q2_min, upper))
    half = 0.5 * (math.log(upper) - lo)
    ln_q2 = half[..., None] * x + (0.5 * (math.log(upper) + lo))[..., None]
    q2 = np.exp(ln_q2)
    for z, a_num, n in targets:
        f2 = helm_form_factor(np.sqrt(q2), a_num) ** 2
        integrand = (1.0 - q2_min[..., None] / q2) * f2  # dq^2/q^2 = d ln q^2
        total = total + n * z * z * ALPHA_EM / math.pi * np.sum(half[..., None] * w * integrand, -1)
    return total


def q2_distribution(
    experiment: TridentExperiment,
    n_s: tuple[int, int, int] = (12, 16, 16),
    n_q2: int = 48,
    n_energy: int = 24,
    **matrix_element: Any,
) -> tuple[NDArray, NDArray, NDArray, dict[str, float]]:
    """Q^2 distributions W_V, W_A [GeV^-2 per target formula unit] of the trident cross section.

    Returns (Q^2 grid, W_V, W_A, info): W_G are weights on ``_Q2_GRID`` (each node's share of
    int dQ^2 dsigma_G/dQ^2, spread linearly in ln Q^2 between neighbouring grid points), folded
    with the photon flux and the beam spectrum. ``info`` holds the totals and the pieces used.
    This is the expensive step (minutes): it is run by the table generator, not at import.
    """
    m2_4 = 4.0 * M_MU**2
    e_nodes, e_weights = experiment.spectrum_nodes(n_energy)
    s_max = 2.0 * float(e_nodes.max()) * 1.2  # q_min = s/2E < 0.6 GeV: F^2 negligible beyond
    edges = [math.log(m2_4), math.log(1.0), math.log(30.0), math.log(s_max)]
    s_nodes, s_weights = [], []
    for (a, b), n in zip(itertools.pairwise(edges), n_s, strict=True):
        x, w = gauss_legendre(n, a, b)
        s_nodes.append(np.exp(x))
        s_weights.append(w)  # d ln s
    s_all = np.concatenate(s_nodes)
    ws_all = np.concatenate(s_weights)
    flux = np.sum(photon_flux(s_all[:, None], e_nodes[None, :], experiment.targets) * e_weights, -1)
    w_v = np.zeros(_Q2_GRID.size)
    w_a = np.zeros(_Q2_GRID.size)
    interference = 0.0
    ln_grid = np.log(_Q2_GRID)
    step = ln_grid[1] - ln_grid[0]
    for s, ws, fl in zip(s_all, ws_all, flux, strict=True):
        if s <= m2_4 * (1 + 1e-9) or fl <= 0:
            continue
        ln_q, wq = gauss_legendre(n_q2, math.log(_Q2_GRID[0]), math.log(s - m2_4))
        q2 = np.exp(ln_q)
        d = nu_gamma_dsigma_dq2(s, q2, **matrix_element)
        node_w = ws * fl * wq * q2  # d ln s * flux * dQ^2
        pos = (ln_q - ln_grid[0]) / step
        i0 = np.clip(np.floor(pos).astype(int), 0, _Q2_GRID.size - 2)
        frac = pos - i0
        for arr, piece in ((w_v, d[0]), (w_a, d[1])):
            np.add.at(arr, i0, node_w * piece * (1.0 - frac))
            np.add.at(arr, i0 + 1, node_w * piece * frac)
        interference += float(np.sum(node_w * d[2]))
    info = {
        "I_V": float(w_v.sum()),
        "I_A": float(w_a.sum()),
        "interference_over_I_V": interference / float(w_v.sum()),
        "mean_beam_energy": float(np.sum(e_nodes * e_weights)),
    }
    return _Q2_GRID.copy(), w_v, w_a, info


def write_table(experiment: TridentExperiment, path: str | Path, **kwargs: Any) -> dict[str, float]:
    """Compute :func:`q2_distribution` and write it as CSV with provenance lines (returns info)."""
    q2, w_v, w_a, info = q2_distribution(experiment, **kwargs)
    gv, ga = sm_couplings()
    cm2 = (HBARC_GEV_FM * 1e-13) ** 2  # GeV^-2 -> cm^2
    sigma_sm = gv * gv * info["I_V"] + ga * ga * info["I_A"]
    lines = [
        f"# {experiment.title}: Q^2 distributions of the coherent trident cross section",
        "# generated by python -m zprime_atlas.constraints.trident.generate",
        "# W_V, W_A: share of sigma [GeV^-2 per target formula unit] at C_V=1 (C_A=1) in each Q^2 bin",
        "# (Q^2 = -(k_nu - k_nu')^2, linear sharing in ln Q^2 between neighbouring grid points)",
        "# method: equivalent-photon approximation (1406.2332), exact tree-level nu gamma -> nu mu mu",
        f"# target: {experiment.target_note}",
        f"# beam: {experiment.beam_note}",
        f"# I_V = {info['I_V']:.6e} GeV^-2, I_A = {info['I_A']:.6e} GeV^-2, I_A/I_V = "
        f"{info['I_A'] / info['I_V']:.5f}",
        f"# sigma_SM = g_V^2 I_V + g_A^2 I_A = {sigma_sm * cm2:.4e}"
        f" cm^2 (s_W^2 = {SIN2_THETA_W_LOW}), flux-averaged <E> = {info['mean_beam_energy']:.1f} GeV",
        f"# V-A interference / I_V = {info['interference_over_I_V']:.2e} (zero analytically)",
        "q2_GeV2,w_V,w_A",
    ]
    lines += [f"{a:.6e},{b:.8e},{c:.8e}" for a, b, c in zip(q2, w_v, w_a, strict=True)]
    Path(path).write_text("\n".join(lines) + "\n")
    return info


@functools.lru_cache(maxsize=8)
def load_table(name: str) -> tuple[NDArray, NDArray, NDArray]:
    """(Q^2 [GeV^2], W_V, W_A [GeV^-2]) of the stored table of experiment ``name``."""
    try:
        data = package_table("trident", f"{name}_q2_weights.csv", header="q2_GeV2,w_V,w_A")
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"{err}; regenerate it with python -m zprime_atlas.constraints.trident.generate"
        ) from None
    return data[:, 0], data[:, 1], data[:, 2]


def __dir__() -> list[str]:
    return list(__all__)
