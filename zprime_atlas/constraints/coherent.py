r"""COHERENT: coherent elastic neutrino-nucleus scattering (CEvNS) at the SNS, with an X exchange.

Constraint ``coherent_csi_2017``: the CsI[Na] observation, Akimov et al. (COHERENT),
arXiv:1708.01294, Science 357 (2017) 1123, with the single-bin chi^2 of Liao & Marfatia,
arXiv:1708.04255. Units: GeV unless a name says otherwise.

For a neutrino of energy E on a nucleus of mass M (Z protons, N neutrons), recoil energy T
(Freedman 1974; as in arXiv:1604.01025 and bradkav/CEvNS):

    dsigma/dT = (G_F^2 M / 4 pi) Q_eff^2 (1 - M T / (2 E^2)) F^2(q),    q^2 = 2 M T,
    Q_eff = Q_W - A_alpha / (2 M T + m_X^2),    Q_W = N - (1 - 4 s_W^2) Z,
    A_alpha = (sqrt2 / G_F) g_nu_alpha (Z g_p + N g_n),   g_p = 2 g_u + g_d,   g_n = g_u + 2 g_d,

with the Helm form factor F (:mod:`zprime_atlas.nuclear`) and the SNS pi-DAR flux (prompt nu_mu
line, delayed nu_e and nubar_mu Michel spectra). The count is a quadratic form in the amplitudes,

    N = sum_{n,k} [ Q_n^2 K0_nk - 2 Q_n A_nk K1_nk(m_X) + A_nk^2 K2_nk(m_X) ],
    Kp_nk(m_X) = int dT w_nk(T) / (2 M_n T + m_X^2)^p,

with charge-independent kernels computed once per set of masses (composite Gauss-Legendre between
the kinks of the integrand). Statistics: chi^2(N) = (N_meas - N - B_on)^2 / (sigma_stat^2 +
sigma_alpha^2 N^2 + sigma_beta^2 B_on^2), the exact profile over the signal and background
normalisations, and r = max(chi^2(N) - chi^2(N_SM), 0) / Delta chi^2_crit(CL). Derivation, inputs
(with their verification status), approximations and checks: docs/physics/coherent.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.constants as _sc
from numpy.typing import ArrayLike, NDArray
from particle import Particle

from .._csv import package_table
from .._quadrature import gauss_legendre_panels
from .._validate import as_mass
from ..constants import (
    G_FERMI,
    HBARC_GEV_CM,
    M_MU,
    M_PI_CHARGED,
    SIN2_THETA_W_LOW,
)
from ..couplings import Mixing, effective_couplings
from ..models import Model
from ..nuclear import helm_form_factor
from ._memo import remembered
from .base import CompiledRatio, Constraint, ConstraintInfo, PointForm, _at_points
from .rate_shift import parabola_sides
from .solve import (
    delta_chi2_critical,
    polynomial_exclusion_intervals,
    quadratic_exclusion_intervals,
    trim_intervals,
)

__all__ = [
    "CS133",
    "I127",
    "PROMPT_ENERGY",
    "CEvNSSingleBin",
    "CoherentCsI2017",
    "Nucleus",
    "SingleBinStatistics",
    "helm_form_factor",
    "michel_spectrum",
    "recoil_factor",
]

#: Atomic mass unit in GeV and kg (CODATA via scipy.constants).
_U_GEV: float = _sc.physical_constants["atomic mass constant energy equivalent in MeV"][0] * 1e-3
_U_KG: float = _sc.physical_constants["atomic mass constant"][0]
_KEV: float = 1e-6  # GeV per keV
_SQRT2_OVER_GF: float = math.sqrt(2.0) / G_FERMI

#: Energy of the prompt nu_mu line from pi+ -> mu+ nu_mu at rest: (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV.
PROMPT_ENERGY: float = (M_PI_CHARGED**2 - M_MU**2) / (2.0 * M_PI_CHARGED)
#: Endpoint of the delayed (Michel) spectra, m_mu/2 = 52.83 MeV.
_MICHEL_END: float = M_MU / 2.0

#: The neutrino keys of the flux: nu_e (delayed) and nu_mu (prompt nu_mu + delayed nubar_mu).
_KEYS: tuple[str, ...] = ("nu_e", "nu_mu")


# -- nuclei --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nucleus:
    """A target nucleus: Z protons, N neutrons, mass in GeV."""

    name: str
    Z: int
    N: int
    mass: float

    @property
    def A(self) -> int:
        return self.Z + self.N

    @property
    def weak_charge(self) -> float:
        """SM weak charge Q_W = N - (1 - 4 s_W^2) Z (low-energy s_W^2)."""
        return self.N - (1.0 - 4.0 * SIN2_THETA_W_LOW) * self.Z


def _nucleus(name: str, Z: int, N: int) -> Nucleus:
    """Nucleus with its mass from the PDG nuclear code 100ZZZAAA0 of the `particle` package."""
    pdgid = 1_000_000_000 + 10_000 * Z + 10 * (Z + N)
    mass = Particle.from_pdgid(pdgid).mass
    if mass is None:
        raise ValueError(f"the PDG table of `particle` has no mass for {name} ({pdgid})")
    return Nucleus(name, Z, N, float(mass) * 1e-3)


#: Cs-133 and I-127 (masses from the `particle` package: 123.80 and 118.21 GeV).
CS133: Nucleus = _nucleus("Cs133", 55, 78)
I127: Nucleus = _nucleus("I127", 53, 74)


# -- cross-section ingredients ------------------------------------------------------------------


def michel_spectrum(flavour: str, E: ArrayLike) -> NDArray[np.float64]:
    """Normalised delayed spectrum dPhi/dE [1/GeV] of ``"nu_e"`` or ``"nubar_mu"`` (mu+ decay at rest).

    nu_e: 192 E^2/m_mu^3 (1/2 - E/m_mu); nubar_mu: 64 E^2/m_mu^3 (3/4 - E/m_mu); 0 < E < m_mu/2.
    """
    e = np.asarray(E, dtype=np.float64)
    x = e / M_MU
    if flavour == "nu_e":
        f = 192.0 * x * x * (0.5 - x)
    elif flavour == "nubar_mu":
        f = 64.0 * x * x * (0.75 - x)
    else:
        raise ValueError(f"unknown delayed flavour {flavour!r}; use 'nu_e' or 'nubar_mu'")
    return np.where((e >= 0) & (e <= _MICHEL_END), f / M_MU, 0.0)


def recoil_factor(flavour: str, M: float, T: ArrayLike) -> NDArray[np.float64]:
    """S(T) = int dE f(E) (1 - M T/(2 E^2)) over E >= sqrt(M T/2), for a normalised spectrum f.

    ``flavour``: ``"nu_mu_prompt"`` (the 29.79 MeV line: S = 1 - M T/(2 E_pi^2)), ``"nu_e"`` or
    ``"nubar_mu"`` (Michel spectra, integrated in closed form with x = E/m_mu, kappa = M T/(2 m_mu^2):
    nu_e: [32 x^3 - 48 x^4 - 96 kappa x + 96 kappa x^2], nubar_mu: [16 x^3 - 16 x^4 - 48 kappa x +
    32 kappa x^2], from x = sqrt(kappa) to 1/2). M, T in GeV.
    """
    t = np.asarray(T, dtype=np.float64)
    if flavour == "nu_mu_prompt":
        return np.maximum(1.0 - M * t / (2.0 * PROMPT_ENERGY**2), 0.0)
    kappa = M * np.maximum(t, 0.0) / (2.0 * M_MU**2)
    x0 = np.minimum(np.sqrt(kappa), 0.5)
    if flavour == "nu_e":

        def prim(x: NDArray) -> NDArray:
            return 32 * x**3 - 48 * x**4 - 96 * kappa * x + 96 * kappa * x**2

    elif flavour == "nubar_mu":

        def prim(x: NDArray) -> NDArray:
            return 16 * x**3 - 16 * x**4 - 48 * kappa * x + 32 * kappa * x**2

    else:
        raise ValueError(f"unknown flavour {flavour!r}; use 'nu_mu_prompt', 'nu_e' or 'nubar_mu'")
    return np.maximum(prim(np.full_like(x0, 0.5)) - prim(x0), 0.0)


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleBinStatistics:
    """Single-bin chi^2 with signal and background normalisation nuisances (module docstring)."""

    n_meas: float
    b_on: float
    b_ss: float
    sigma_alpha: float
    sigma_beta: float

    @property
    def sigma_stat2(self) -> float:
        """sigma_stat^2 = N_meas + 2 B_ss + B_on."""
        return self.n_meas + 2.0 * self.b_ss + self.b_on

    def chi2(self, n_pred: ArrayLike) -> NDArray[np.float64]:
        """chi^2 minimised over the nuisances alpha, beta (exact closed form)."""
        n = np.asarray(n_pred, dtype=np.float64)
        d = self.n_meas - self.b_on - n
        var = self.sigma_stat2 + (self.sigma_alpha * n) ** 2 + (self.sigma_beta * self.b_on) ** 2
        return d * d / var

    def count_window(self, chi2_max: float) -> tuple[float, float]:
        """(N_lo, N_hi): the predictions with chi^2(N) < chi2_max (N_lo may be <= 0).

        Roots of (D - N)^2 = X (c0 + sigma_alpha^2 N^2), D = N_meas - B_on,
        c0 = sigma_stat^2 + sigma_beta^2 B_on^2. chi^2 rises monotonically on both sides of N = D
        towards 1/sigma_alpha^2 as N -> inf, so chi2_max must stay below that.
        """
        x = chi2_max
        d = self.n_meas - self.b_on
        c0 = self.sigma_stat2 + (self.sigma_beta * self.b_on) ** 2
        a = 1.0 - x * self.sigma_alpha**2
        if a <= 0:
            raise ValueError(
                f"chi^2 threshold {x:.3g} is above the largest chi^2 any prediction can reach "
                f"({1 / self.sigma_alpha**2:.3g}): choose a lower confidence level"
            )
        root = math.sqrt(d * d * (1.0 - a) + a * x * c0)
        return (d - root) / a, (d + root) / a


# -- the generic constraint ---------------------------------------------------------------------


class CEvNSSingleBin(Constraint):
    """CEvNS at a pi-DAR source with a single-bin chi^2 (module docstring for the physics).

    Parameters
    ----------
    info
        Metadata (name, citation, CL, notes...). ``info.cl`` sets Delta chi^2_crit.
    targets
        (nucleus, number of nuclei in the detector) pairs.
    fluence
        Neutrinos per flavour per cm^2 at the detector: r N_POT / (4 pi L^2).
    efficiency
        Detection efficiency as a function of the nuclear recoil energy T [GeV] (array in, array out).
    t_range
        (T_min, T_max) in GeV over which events are counted.
    breaks
        Extra kinks of the efficiency in T [GeV] (quadrature panel edges).
    statistics
        The single-bin chi^2 inputs.
    """

    _CACHE_SIZE = 16
    _MASS_CHUNK = 4096

    def __init__(
        self,
        info: ConstraintInfo,
        targets: tuple[tuple[Nucleus, float], ...],
        fluence: float,
        efficiency: Callable[[NDArray[np.float64]], NDArray[np.float64]],
        t_range: tuple[float, float],
        breaks: ArrayLike,
        statistics: SingleBinStatistics,
        order: int = 8,
    ) -> None:
        self.info = info
        self.targets = targets
        self.fluence = fluence
        self.statistics = statistics
        self.t_range = t_range
        t_lo, t_hi = t_range
        nuclei = [n for n, _ in targets]
        kinks = [2.0 * e * e / n.mass for n in nuclei for e in (PROMPT_ENERGY, _MICHEL_END)]
        pts = np.concatenate([[t_lo, t_hi], np.asarray(breaks, dtype=float), kinks])
        pts = np.unique(pts[(pts >= t_lo) & (pts <= t_hi)])
        self._t, w = gauss_legendre_panels(pts, order)
        eff = np.clip(efficiency(self._t), 0.0, None)
        # w_{n,k}(T_i): events per unit Q_eff^2, per node (dimensionless).
        weights = np.empty((len(nuclei), len(_KEYS), self._t.size))
        self._flavour_weights: dict[str, NDArray[np.float64]] = {}
        for j, (nuc, count) in enumerate(targets):
            q = np.sqrt(2.0 * nuc.mass * self._t)
            xsec = G_FERMI**2 * nuc.mass / (4.0 * math.pi) * HBARC_GEV_CM**2  # cm^2 / GeV
            common = count * fluence * xsec * helm_form_factor(q, nuc.A) ** 2 * eff * w
            parts = {
                f: common * recoil_factor(f, nuc.mass, self._t)
                for f in ("nu_e", "nu_mu_prompt", "nubar_mu")
            }
            for f, v in parts.items():
                self._flavour_weights.setdefault(f, np.zeros((len(nuclei), self._t.size)))[j] = v
            weights[j, 0] = parts["nu_e"]
            weights[j, 1] = parts["nu_mu_prompt"] + parts["nubar_mu"]
        self._weights = weights
        self._mass = np.array([n.mass for n in nuclei])
        self._Z = np.array([n.Z for n in nuclei], dtype=float)
        self._N = np.array([n.N for n in nuclei], dtype=float)
        self._qw = np.array([n.weak_charge for n in nuclei])
        self._cache: dict[bytes, tuple[NDArray, NDArray]] = {}
        self.sm_counts: float = float(np.einsum("n,nki->", self._qw**2, weights))
        self.dchi2_crit: float = delta_chi2_critical(info.cl)
        self.chi2_sm: float = float(statistics.chi2(self.sm_counts))
        self.count_window: tuple[float, float] = statistics.count_window(self.chi2_sm + self.dchi2_crit)

    # -- kernels --------------------------------------------------------------------------------

    def kernels(self, m_X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(K1, K2), each shaped (n_nuclei, 2, *m_X.shape): int w/(2MT + m^2)^p for p = 1, 2.

        The second axis is the neutrino key (nu_e, nu_mu). Cached per set of distinct masses.
        """
        m = as_mass(m_X)
        uniq, inverse = np.unique(m.ravel(), return_inverse=True)

        def compute() -> tuple[NDArray, NDArray]:
            k1 = np.empty((self._mass.size, len(_KEYS), uniq.size))
            k2 = np.empty_like(k1)
            two_mt = 2.0 * self._mass[:, None] * self._t[None, :]  # (n, i)
            for start in range(0, uniq.size, self._MASS_CHUNK):
                mm = uniq[start : start + self._MASS_CHUNK]
                prop = 1.0 / (two_mt[:, :, None] + mm[None, None, :] ** 2)  # (n, i, j)
                k1[:, :, start : start + mm.size] = np.einsum("nki,nij->nkj", self._weights, prop)
                k2[:, :, start : start + mm.size] = np.einsum("nki,nij->nkj", self._weights, prop * prop)
            return k1, k2

        hit = remembered(self._cache, uniq.tobytes(), compute, self._CACHE_SIZE)
        shape = (self._mass.size, len(_KEYS), *m.shape)
        return hit[0][:, :, inverse].reshape(shape), hit[1][:, :, inverse].reshape(shape)

    # -- predictions ----------------------------------------------------------------------------

    def amplitudes(
        self,
        model: Model,
        g_X: ArrayLike = 1.0,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> list[list[NDArray[np.float64]]]:
        """A[n][k] = (sqrt2/G_F) g_nu_k (Z_n g_p + N_n g_n) [GeV^2], per nucleus n and key k.

        Couplings at q^2 = 0 (the size of that approximation for eps="loop": docs/physics/coherent.md).
        """
        c = effective_couplings(
            model, g_X, eps=eps, eps_over_g=eps_over_g, q2=0.0, loop_scale=loop_scale
        )
        g_p = np.real(2.0 * c["u"] + c["d"])
        g_n = np.real(c["u"] + 2.0 * c["d"])
        out = []
        for z, n in zip(self._Z, self._N, strict=True):
            nuc = z * g_p + n * g_n
            out.append([_SQRT2_OVER_GF * np.real(c[k]) * nuc for k in _KEYS])
        return out

    def _counts_from(self, amps: list[list[NDArray]], k1: NDArray, k2: NDArray) -> NDArray[np.float64]:
        total: NDArray = np.asarray(self.sm_counts)
        for j, qw in enumerate(self._qw):
            for k in range(len(_KEYS)):
                a = amps[j][k]
                total = total - 2.0 * qw * a * k1[j, k] + a * a * k2[j, k]
        return total

    def _u_coefficients(
        self, amps: list[list[NDArray]], k1: NDArray, k2: NDArray, scale: ArrayLike = 1.0
    ) -> tuple[NDArray, NDArray]:
        """(S1, S2) of N = N_SM + S1 v + S2 v^2 for amplitudes A = v A_1 / scale (eps ∝ g_X)."""
        s1: NDArray = np.zeros(())
        s2: NDArray = np.zeros(())
        for j, qw in enumerate(self._qw):
            for k in range(len(_KEYS)):
                a = amps[j][k] / scale
                s1 = s1 - 2.0 * qw * a * k1[j, k]
                s2 = s2 + a * a * k2[j, k]
        return s1, s2

    def predicted_counts(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Expected CEvNS events (SM + X, interference included); all arguments broadcast."""
        k1, k2 = self.kernels(m_X)
        amps = self.amplitudes(model, g_X, eps, eps_over_g, loop_scale)
        return np.asarray(self._counts_from(amps, k1, k2), dtype=np.float64)

    def rate_ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """N(SM + X) / N(SM)."""
        return self.predicted_counts(m_X, g_X, model, eps, eps_over_g, loop_scale) / self.sm_counts

    def flavour_counts(self) -> dict[str, float]:
        """SM events per flux component (``nu_e``, ``nu_mu_prompt``, ``nubar_mu``)."""
        return {f: float(np.einsum("n,ni->", self._qw**2, w)) for f, w in self._flavour_weights.items()}

    # -- the Constraint interface ---------------------------------------------------------------

    def _r_from_counts(self, n: NDArray) -> NDArray[np.float64]:
        dchi2 = self.statistics.chi2(n) - self.chi2_sm
        return np.maximum(dchi2, 0.0) / self.dchi2_crit

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = max(chi^2(N) - chi^2(N_SM), 0) / Delta chi^2_crit."""
        if mix.proportional:
            # Every amplitude is A = g^2 A_1 (g_nu and g_q both scale with g): N is a polynomial
            # in u = g^2 whose coefficients are evaluated once, without the coupling axis.
            k1, k2 = self.kernels(m)
            s1, s2 = self._u_coefficients(self.amplitudes(model, 1.0, eps=mix), k1, k2)
            n = self._counts_of(s1, s2, g)
        else:
            n = self.predicted_counts(m, g, model, eps=mix)
        return self._r_from_counts(n)

    def _counts_of(self, s1: NDArray, s2: NDArray, g: NDArray) -> NDArray[np.float64]:
        """N = N_SM + S1 u + S2 u^2 with u = g^2 (eps proportional to g)."""
        u = g * g
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(self.sm_counts + u * (s1 + u * s2), dtype=np.float64)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """eps proportional to g: N - N_SM = S1 u + S2 u^2 with u = g^2, a parabola, and chi^2
        rises on both sides of its minimum, so r >= 1 exactly outside the count window
        (N_lo, N_hi): its range over a point's couplings decides every coupling at once
        (:func:`~zprime_atlas.constraints.rate_shift.parabola_sides`). r at the other points is
        :meth:`_ratio`'s arithmetic on the gathered coefficients, bit for bit."""
        n_lo, n_hi = self.count_window
        s0 = self.sm_counts
        own = type(self)._ratio is CEvNSSingleBin._ratio and \
            type(self)._r_from_counts is CEvNSSingleBin._r_from_counts  # fmt: skip
        if not own or not mix.proportional or not (n_lo < s0 < n_hi):
            return None
        k1, k2 = self.kernels(m)
        s1, s2 = self._u_coefficients(self.amplitudes(model, 1.0, eps=mix), k1, k2)
        below, above = parabola_sides(s1, s2, 1.0, g2_min, g2_max, n_lo - s0, n_hi - s0)
        shape = np.shape(g2_max)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            s1_i, s2_i = (_at_points(v, shape, index) for v in (s1, s2))
            return self._r_from_counts(self._counts_of(s1_i, s2_i, g))

        compiled = None
        st = self.statistics
        if type(st) is SingleBinStatistics and type(self)._counts_of is CEvNSSingleBin._counts_of:
            compiled = CompiledRatio(
                "cevns_single_bin", (s1, s2),
                (s0, st.n_meas - st.b_on, st.sigma_stat2, st.sigma_alpha,
                 (st.sigma_beta * st.b_on) ** 2, self.chi2_sm, self.dchi2_crit),
            )  # fmt: skip
        return PointForm(below, above, ratio_at, compiled)

    def _proportional_intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray, NDArray]]:
        """The two excluded g_X intervals for eps proportional to g_X, in closed form.

        N = N_SM + S1 v + S2 v^2 with v = lam g_X^2: excluded where N >= N_hi or N <= N_lo (an
        island from destructive interference below the onset of N >= N_hi).
        """
        k1, k2 = self.kernels(m)
        amps = self.amplitudes(model, 1.0, eps=mix)
        # Work in v = lam u with lam = max |A| per point, so that S1, S2 neither under- nor
        # overflow for extreme charge ratios (e.g. a tiny eps/g as the only quark coupling).
        lam = np.abs(amps[0][0])
        for row in amps:
            for a in row:
                lam = np.maximum(lam, np.abs(a))
        lam = np.where(lam > 0, lam, 1.0)
        s1, s2 = self._u_coefficients(amps, k1, k2, lam)
        n_lo, n_hi = self.count_window
        s0 = self.sm_counts
        return quadratic_exclusion_intervals(s1, s2, lam, 0.0, n_lo - s0, n_hi - s0, 2)

    def _intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """The excluded g_X intervals, in increasing g_X: [(lo1, hi1), (lo2, hi2), ...].

        Destructive interference can open an island (N < N_lo) below the onset of N > N_hi; where
        there is no island the first pair is [g_hi, inf) and the others (inf, inf). eps
        proportional to g_X: N is a quadratic in g_X^2 (closed form,
        :func:`~zprime_atlas.constraints.solve.quadratic_exclusion_intervals`), two slots. A fixed
        eps (eps = 0 included): every amplitude is A_nk = alpha_nk g^2 + delta_nk g (delta from the
        dark-photon part, a different fraction of each nucleus' charge), so N - N_SM is a quartic in
        g_X solved in closed form by
        :func:`~zprime_atlas.constraints.solve.polynomial_exclusion_intervals`: up to four intervals
        (eight roots; N > N_hi and N < N_lo can alternate through the odd powers): two slots as for
        eps proportional to g_X, a third and fourth only where some point needs them.
        """
        if mix.proportional:
            return self._proportional_intervals(m, model, mix)
        k1, k2 = self.kernels(m)
        alpha = self.amplitudes(model, 1.0, eps=Mixing("fixed", np.zeros(())))
        full = self.amplitudes(model, 1.0, eps=mix)
        c1: NDArray = np.zeros(())
        c2: NDArray = np.zeros(())
        c3: NDArray = np.zeros(())
        c4: NDArray = np.zeros(())
        for j, qw in enumerate(self._qw):
            for k in range(len(_KEYS)):
                al, de = alpha[j][k], full[j][k] - alpha[j][k]
                c1 = c1 - 2.0 * qw * de * k1[j, k]
                c2 = c2 - 2.0 * qw * al * k1[j, k] + de * de * k2[j, k]
                c3 = c3 + 2.0 * al * de * k2[j, k]
                c4 = c4 + al * al * k2[j, k]
        n_lo, n_hi = self.count_window
        s0 = self.sm_counts
        intervals = polynomial_exclusion_intervals([c1, c2, c3, c4], n_lo - s0, n_hi - s0, 4)
        return trim_intervals(intervals, 2)


# -- COHERENT CsI[Na] 2017 ----------------------------------------------------------------------


def _read_table(name: str, header: str) -> NDArray[np.float64]:
    """A CSV of zprime_atlas/data/coherent (``#`` provenance lines, one header row)."""
    data = package_table("coherent", name, header)
    if not np.all(np.isfinite(data)) or not np.all(np.diff(data[:, 0]) > 0):
        raise ValueError(f"COHERENT table {name}: expected finite rows in increasing first column")
    return data


class CoherentCsI2017(CEvNSSingleBin):
    """``coherent_csi_2017``: COHERENT CsI[Na] (arXiv:1708.01294), single-bin chi^2.

    Inputs (docs/physics/coherent.md gives each one's source and status; most are as coded in
    bradkav/CEvNS and not checked against the paper): 14.6 kg CsI[Na] at L = 19.3 m, 1.76e23 POT
    (308.1 live days x 5.7e20 POT/day), 0.08 nu per flavour per POT; light yield 1.17 PE per keVnr
    (quenching included); acceptance vs PE digitised from the paper's supplement
    (``COHERENT_CsI_2017_efficiency.csv``), integrated from 4.49 PE (below it the table is < 1e-4,
    the floor of a zero acceptance) to 50 PE (the end of the published spectrum); N_meas = 142,
    B_on = 6, B_ss = 405, sigma_alpha = 0.28, sigma_beta = 0.25.

    ``cl``: confidence level of the two-sided chi^2 test (default 0.90, Delta chi^2 = 2.706).
    """

    #: Light yield in photoelectrons per keV of nuclear recoil (quenching included; bradkav/CEvNS).
    LIGHT_YIELD_PE_PER_KEV: float = 1.17
    #: Detector mass [kg], baseline [m], protons on target, nu per flavour per POT.
    DETECTOR_KG: float = 14.6
    BASELINE_M: float = 19.3
    POT: float = 1.76e23
    NU_PER_POT: float = 0.08
    #: Counting window in photoelectrons (threshold node of the acceptance table; spectrum end).
    PE_RANGE: tuple[float, float] = (4.49406, 50.0)
    #: Published SM expectation and measured CEvNS counts (arXiv:1708.01294) [unverified].
    PUBLISHED_SM: tuple[float, float] = (173.0, 48.0)
    PUBLISHED_MEASURED: tuple[float, float] = (134.0, 22.0)

    def __init__(self, cl: float = 0.90) -> None:
        if not 0.0 < cl < 1.0:
            raise ValueError(f"cl must lie between 0 and 1, got {cl!r}")
        eff_table = _read_table("COHERENT_CsI_2017_efficiency.csv", "pe,efficiency")
        self.efficiency_table = eff_table
        self.spectrum_table = _read_table(
            "COHERENT_CsI_2017_spectrum.csv", "pe,counts,counts_lo,counts_hi,sm_prediction"
        )
        ly = self.LIGHT_YIELD_PE_PER_KEV
        pe_lo, pe_hi = self.PE_RANGE

        def efficiency(t: NDArray[np.float64]) -> NDArray[np.float64]:
            pe = ly * t / _KEV
            e = np.interp(pe, eff_table[:, 0], eff_table[:, 1])
            return np.where((pe >= pe_lo) & (pe <= pe_hi), e, 0.0)

        centres = self.spectrum_table[:, 0]
        self.bin_edges_pe = np.concatenate([centres - 1.0, [centres[-1] + 1.0]])
        pe_breaks = np.concatenate([eff_table[:, 0], self.bin_edges_pe])
        pair_kg = (CS133.mass + I127.mass) / _U_GEV * _U_KG
        n_pairs = self.DETECTOR_KG / pair_kg
        fluence = self.NU_PER_POT * self.POT / (4.0 * math.pi * (self.BASELINE_M * 100.0) ** 2)
        info = ConstraintInfo(
            name="coherent_csi_2017",
            title="COHERENT CsI[Na] 2017: CEvNS event count (single bin)",
            citation=("1708.01294", "1708.04255"),
            mass_range=(1e-6, 10.0),
            cl=cl,
            notes="",
            verified=False,
            journal="Science 357 (2017) 1123",
        )
        super().__init__(
            info=info,
            targets=((CS133, n_pairs), (I127, n_pairs)),
            fluence=fluence,
            efficiency=efficiency,
            t_range=(pe_lo / ly * _KEV, pe_hi / ly * _KEV),
            breaks=pe_breaks / ly * _KEV,
            statistics=SingleBinStatistics(
                n_meas=142.0, b_on=6.0, b_ss=405.0, sigma_alpha=0.28, sigma_beta=0.25
            ),
        )
        n_lo, n_hi = self.count_window
        self.info = dataclasses.replace(
            info,
            notes=(
                f"CEvNS on Cs and I with an X exchange (propagator 1/(2MT + m_X^2)), SNS pi-DAR "
                f"flux, Helm form factor, PE = 1.17 T[keVnr], digitised acceptance, 4.5-50 PE. "
                f"SM prediction {self.sm_counts:.1f} events (published 173 +- 48). Single-bin "
                f"chi^2 (N_meas 142, B_on 6, B_ss 405, sigma_alpha 0.28, sigma_beta 0.25) profiled "
                f"over both nuisances in closed form; r = [chi^2(N) - chi^2(SM)]/"
                f"{self.dchi2_crit:.3f} ({cl:.0%} CL, 1 dof): excluded when N < {n_lo:.1f} or "
                f"N > {n_hi:.1f}. eps='loop' at q^2 = 0 (eps(q^2 = -2MT) is 1-3% smaller). "
                "Inputs as coded in bradkav/CEvNS (mostly unverified against the paper); no "
                "timing information, no axial or radiative corrections."
            ),
        )

    def predicted_spectrum(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Expected events per 2-PE bin (bins of :attr:`bin_edges_pe`), as a last axis of length 25.

        The leading axes are the broadcast of the arguments. Meant for checks and plots (it keeps
        one value per quadrature node, so it is not for large batches).
        """
        m = as_mass(m_X)
        amps = self.amplitudes(model, g_X, eps, eps_over_g, loop_scale)
        pe = self.LIGHT_YIELD_PE_PER_KEV * self._t / _KEV
        which = np.digitize(pe, self.bin_edges_pe) - 1
        onehot = (which[:, None] == np.arange(self.bin_edges_pe.size - 1)[None, :]).astype(float)
        total = 0.0
        for j, qw in enumerate(self._qw):
            prop = 1.0 / (2.0 * self._mass[j] * self._t + m[..., None] ** 2)  # (*m, i)
            for k in range(len(_KEYS)):
                a = np.asarray(amps[j][k])[..., None]
                q_eff = qw - a * prop
                total = total + (q_eff * q_eff * self._weights[j, k]) @ onehot
        return np.asarray(total, dtype=np.float64)


def __dir__() -> list[str]:
    return list(__all__)
