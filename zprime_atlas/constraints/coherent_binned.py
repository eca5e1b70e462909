r"""COHERENT binned likelihoods: CEvNS spectra in energy and time with an X exchange.

Constraint ``coherent_lar_2020``: the CENNS-10 liquid-argon observation, Akimov et al. (COHERENT),
arXiv:2003.10630, Phys. Rev. Lett. 126 (2021) 012002, with the collaboration's Analysis-A data
release (3D bins in energy, F90 and time; background PDFs; efficiency; quenching; exposure).
Units: GeV unless a name says otherwise.

The cross section, the X amplitude and the pi-DAR flux are those of :mod:`.coherent`:

    dsigma/dT = (G_F^2 M / 4 pi) Q_eff^2 (1 - M T / (2 E^2)) F^2(q),
    Q_eff = Q_W - A_k / (2 M T + m_X^2),   A_k = (sqrt2/G_F) g_nu_k (Z g_p + N g_n).

Per analysis bin b (energy x time) the expected CEvNS count is a quadratic form in the amplitudes,

    N_b = sum_{n,k} [ Q_n^2 K0_nkb - 2 Q_n A_nk K1_nkb(m_X) + A_nk^2 K2_nkb(m_X) ],
    Kp_nkb(m_X) = int dT w_nkb(T) / (2 M_n T + m_X^2)^p,

where w_nkb folds the flux and cross section with the detector response of the bin (efficiency,
quenching, energy resolution) and the arrival-time distribution of each flux component (prompt
nu_mu, delayed nu_e and nubar_mu), so a flavour-dependent X changes the timing too. With
A_nk = alpha_nk g^2 + delta_nk g (delta from kinetic mixing at fixed eps; zero when eps is
proportional to g_X) every bin is a quartic polynomial in g_X, N_b = N_b^SM + sum_{j=1}^4 c_jb g^j.

Statistics: Poisson -2 ln L over the bins with Gaussian-constrained normalisation nuisances of the
signal and of every background, profiled by vectorised Newton steps (:class:`PoissonProfile`), and

    r = max(chi^2(model) - chi^2(SM), 0) / Delta chi^2_crit(CL),

relative to the SM point as for ``coherent_csi_2017``: the SM, and any X that reaches neither the
nucleus nor the neutrinos, has r = 0 at every CL. Derivation, inputs (each read from the release),
approximations and checks: docs/physics/coherent.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtr

from .._csv import package_table
from .._quadrature import gauss_legendre_panels
from .._validate import as_mass
from ..constants import G_FERMI, HBARC_GEV_CM
from ..couplings import Mixing, effective_couplings
from ..models import Model
from ..nuclear import helm_form_factor
from ._memo import remembered
from .base import Constraint, ConstraintInfo, Intervals
from .coherent import _KEYS, _MICHEL_END, _U_GEV, _U_KG, PROMPT_ENERGY, Nucleus, _nucleus, recoil_factor
from .solve import delta_chi2_critical, intervals_by_scan, polynomial_roots

__all__ = [
    "AR40",
    "CEvNSBinned",
    "CoherentLAr2020",
    "PoissonProfile",
    "arrival_time_cdf",
]

_KEV: float = 1e-6  # GeV per keV
_SQRT2_OVER_GF: float = math.sqrt(2.0) / G_FERMI
#: The three flux components and the neutrino key (amplitude) each belongs to.
_COMPONENTS: tuple[tuple[str, int], ...] = (("nu_e", 0), ("nu_mu_prompt", 1), ("nubar_mu", 1))

#: Argon-40 (Z = 18, N = 22; mass from the `particle` package, 37.22 GeV).
AR40: Nucleus = _nucleus("Ar40", 18, 22)


def _lifetime_us(pdgid: int) -> float:
    """Mean lifetime [microseconds] from the PDG table of the `particle` package (ns there)."""
    from particle import Particle

    tau = Particle.from_pdgid(pdgid).lifetime
    if tau is None:
        raise ValueError(f"the PDG table of `particle` has no lifetime for {pdgid}")
    return float(tau) * 1e-3


# -- arrival times ------------------------------------------------------------------------------


def _emg_cdf(t: NDArray, mu: float, sigma: float, lam: float) -> NDArray:
    """CDF of a Gaussian (mu, sigma) convolved with an exponential of rate lam (all in us)."""
    z = (t - mu) / sigma
    return ndtr(z) - np.exp(-lam * (t - mu) + 0.5 * (lam * sigma) ** 2 + log_ndtr(z - lam * sigma))


def arrival_time_cdf(component: str, t: ArrayLike, mean: float, width: float) -> NDArray[np.float64]:
    """P(arrival <= t) of a flux component; t, mean and width in microseconds.

    Protons arrive with a Gaussian time profile (``mean``, ``width``); a pi+ decays after an
    exponential time (tau_pi), and its mu+ after a second one (tau_mu), lifetimes from the PDG table:
    the prompt nu_mu follows Gauss (x) Exp(tau_pi), the delayed nu_e and nubar_mu
    Gauss (x) Exp(tau_pi) (x) Exp(tau_mu), whose CDF is
    (l_mu F(l_pi) - l_pi F(l_mu)) / (l_mu - l_pi) with F the exponentially modified Gaussian CDF.
    """
    x = np.asarray(t, dtype=np.float64)
    l_pi, l_mu = 1.0 / _lifetime_us(211), 1.0 / _lifetime_us(13)
    if component == "nu_mu_prompt":
        return _emg_cdf(x, mean, width, l_pi)
    if component in ("nu_e", "nubar_mu"):
        f_pi, f_mu = _emg_cdf(x, mean, width, l_pi), _emg_cdf(x, mean, width, l_mu)
        return (l_mu * f_pi - l_pi * f_mu) / (l_mu - l_pi)
    raise ValueError(f"unknown flux component {component!r}")


# -- statistics ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PoissonProfile:
    r"""Poisson -2 ln L of binned counts, profiled over Gaussian normalisation nuisances.

    mu_b = (1 + theta_0) s_b + sum_j (1 + theta_j) B_jb, and

        chi^2(s) = min_theta 2 sum_b [mu_b - n_b + n_b ln(n_b / mu_b)] + sum_i (theta_i / sigma_i)^2,

    (n ln n = 0 for n = 0). mu is linear in theta, so the objective is convex: Newton steps from
    theta = 0 (gradient 2 sum_b (1 - n_b/mu_b) T_ib + 2 theta_i/sigma_i^2, Hessian
    2 sum_b n_b T_ib T_jb / mu_b^2 + 2 delta_ij / sigma_i^2, T_0 = s, T_j = B_j), each taken
    in full if every mu_b stays positive, else cut to half the largest fraction that keeps them
    positive; vectorised over any leading axes of s. Any theta bounds the profile from above, so
    an unconverged point (only for predictions far beyond any limit) overstates chi^2, never
    understates it.
    """

    observed: NDArray[np.float64]  # (B,)
    backgrounds: NDArray[np.float64]  # (J, B)
    sigma_signal: float
    sigma_backgrounds: NDArray[np.float64]  # (J,)
    iterations: int = 12
    #: Starting point of the signal nuisance: theta_0 = min(0, signal_scale / sum(s) - 1), so a
    #: prediction far above ``signal_scale`` events starts near its best fit (0: start at 0). The
    #: objective is convex, so the start changes the number of steps, not the minimum.
    signal_scale: float = 0.0

    #: Points per block: the Newton temporaries of one block stay in cache.
    _BLOCK = 256

    def chi2(self, signal: ArrayLike, return_theta: bool = False) -> NDArray[np.float64]:
        """Profiled chi^2 for signal counts ``signal`` (last axis: bins; leading axes broadcast).

        Newton steps until every point's step is below 1e-7 in each parameter (at most
        ``iterations``); with ``return_theta`` also the fitted nuisances (..., 1 + J). The points
        are processed in blocks of :attr:`_BLOCK` (same result, less memory traffic).
        """
        s = np.asarray(signal, dtype=np.float64)
        lead = s.shape[:-1]
        flat = s.reshape(-1, s.shape[-1])
        n_par = 1 + self.backgrounds.shape[0]
        out = np.empty(flat.shape[0])
        theta = np.empty((flat.shape[0], n_par))
        for start in range(0, flat.shape[0], self._BLOCK):
            sl = slice(start, start + self._BLOCK)
            out[sl], theta[sl] = self._chi2_block(flat[sl])
        if return_theta:
            return out.reshape(lead), theta.reshape((*lead, n_par))  # type: ignore[return-value]
        return out.reshape(lead)

    def _chi2_block(self, s: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(chi^2, theta) of a block of signals (points, bins)."""
        n = self.observed
        bkg = self.backgrounds
        lead = s.shape[:-1]
        n_bkg = bkg.shape[0]
        n_par = 1 + n_bkg
        inv_var = 1.0 / np.concatenate([[self.sigma_signal], self.sigma_backgrounds]) ** 2
        pairs = (bkg[:, None, :] * bkg[None, :, :]).reshape(n_bkg * n_bkg, -1).T  # (B, J*J)
        bkg_t = np.ascontiguousarray(bkg.T)
        base = s + bkg.sum(axis=0)
        theta = np.zeros((*lead, n_par))
        nlogn = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0)
        eye = np.eye(n_par) * inv_var

        if self.signal_scale > 0:
            total = np.sum(s, axis=-1)
            with np.errstate(divide="ignore"):
                theta[:, 0] = np.minimum(0.0, np.where(total > 0, self.signal_scale / total, 1.0) - 1.0)
        mu = base + theta[:, :1] * s
        # Newton on the points still moving only: a point leaves once its step is below 1e-7.
        act = np.arange(s.shape[0])
        for _ in range(self.iterations):
            sa, mua, tha = s[act], mu[act], theta[act]
            ratio = n / mua
            one_minus = 1.0 - ratio
            w = ratio / mua
            ws = w * sa
            grad = np.empty((act.size, n_par))
            grad[:, 0] = np.sum(one_minus * sa, axis=-1)
            grad[:, 1:] = one_minus @ bkg_t
            grad += tha * inv_var
            hess = np.empty((act.size, n_par, n_par))
            hess[:, 0, 0] = np.sum(ws * sa, axis=-1)
            h0b = ws @ bkg_t
            hess[:, 0, 1:] = h0b
            hess[:, 1:, 0] = h0b
            hess[:, 1:, 1:] = (w @ pairs).reshape((act.size, n_bkg, n_bkg))
            hess += eye
            step = np.linalg.solve(hess, grad[..., None])[..., 0]
            # Largest fraction of the step that keeps every mu_b > 0: mu - lam dmu > 0.
            dmu = step[:, :1] * sa + step[:, 1:] @ bkg
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.min(np.where(dmu > 0, mua / dmu, np.inf), axis=-1)
            lam = np.where(room > 1.0, 1.0, 0.5 * room)
            step = lam[:, None] * step
            theta[act] = tha - step
            mu[act] = mua - lam[:, None] * dmu
            act = act[np.any(np.abs(step) >= 1e-7, axis=-1)]
            if act.size == 0:
                break
        dev = 2.0 * np.sum(mu - n + nlogn - n * np.log(mu), axis=-1)
        return dev + np.sum(theta * theta * inv_var, axis=-1), theta

    # -- the certified fast profile ---------------------------------------------------------------

    #: Newton decrement below which a point is finished by one more full step (see
    #: :meth:`chi2_certified`): the chi^2 it returns is then within 2.3e-7 of the minimum.
    LAMBDA_CERT = 0.03
    #: Newton steps of :meth:`chi2_certified` before a point is handed to :meth:`chi2`.
    CERTIFIED_STEPS = 30

    def chi2_certified(self, signal: ArrayLike, start: ArrayLike | None = None) -> NDArray[np.float64]:
        r"""The profiled chi^2 of :meth:`chi2` with a certified error, at a fraction of its cost.

        F(theta) = 2 sum_b [mu_b - n_b ln mu_b] + sum_i (theta_i/sigma_i)^2 (+ constants) is a
        *standard self-concordant* function of theta: mu is affine in theta, and each term
        -2 n_b ln mu_b with an integer n_b >= 1 obeys |f'''| <= 2 f''^(3/2) (bins with n_b = 0 and
        the priors are linear or quadratic). For such functions (Nesterov, Lectures on Convex
        Optimization, 2nd ed., Thms 5.1.13 and 5.2.2) the Newton decrement
        lambda^2 = F'^T F''^-1 F' bounds everything: a full Newton step from a point with
        lambda < 1 lands where the decrement is at most lambda_+ = (lambda/(1 - lambda))^2, and a
        point with decrement l has 0 <= F - F_min <= omega*(l) = -l - ln(1 - l). So each point
        takes Newton steps (from ``start``; mu kept positive in every bin as in :meth:`chi2`) until
        lambda <= LAMBDA_CERT = 0.03, takes that step in full, and returns F at the new point minus
        omega*(lambda_+)/2: the true minimum lies within omega*(lambda_+)/2 <= 2.3e-7 of it.
        Nothing is approximated beyond that bound (and the float rounding of F, ~1e-12 relative).

        The signal nuisance is carried as kappa = 1 + theta_0, which keeps full relative precision
        when the fit switches a huge prediction off (kappa ~ 1e-10; :meth:`chi2` loses digits
        there). ``start``: nuisances (..., 1 + J) to start from (default 0); kappa is lowered to
        signal_scale kappa / sum(s) for predictions above ``signal_scale`` events. A point not
        certified within :attr:`CERTIFIED_STEPS` steps is computed by :meth:`chi2`.
        """
        s = np.asarray(signal, dtype=np.float64)
        lead = s.shape[:-1]
        flat = s.reshape(-1, s.shape[-1])
        n_par = 1 + self.backgrounds.shape[0]
        th0 = np.zeros(n_par) if start is None else np.asarray(start, dtype=np.float64)
        th0 = np.broadcast_to(th0, (*lead, n_par)).reshape(-1, n_par)
        out = np.empty(flat.shape[0])
        for begin in range(0, flat.shape[0], self._BLOCK):
            sl = slice(begin, begin + self._BLOCK)
            out[sl] = self._certified_block(flat[sl], th0[sl])
        bad = ~np.isfinite(out)
        if np.any(bad):
            out[bad] = self.chi2(flat[bad])
        return out.reshape(lead)

    @functools.cached_property
    def _certified_constants(self) -> dict[str, NDArray]:
        n = self.observed
        bkg = self.backgrounds
        n_bkg = bkg.shape[0]
        upper = [(i, j) for i in range(n_bkg) for j in range(i, n_bkg)]
        nlogn = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0)
        return {
            "inv_var": 1.0 / np.concatenate([[self.sigma_signal], self.sigma_backgrounds]) ** 2,
            "bkg_t": np.ascontiguousarray(bkg.T),
            "pairs": np.ascontiguousarray(np.stack([bkg[i] * bkg[j] for i, j in upper]).T),
            "upper": np.array(upper, dtype=np.intp).reshape(-1, 2),
            "const": np.asarray(np.sum(nlogn) - np.sum(n)),
            "bkg_sum": bkg.sum(axis=1),
        }

    def _certified_block(self, s: NDArray[np.float64], start: NDArray[np.float64]) -> NDArray:
        """chi^2 of a block of signals (points, bins) by :meth:`chi2_certified`; NaN: not certified."""
        k = self._certified_constants
        n, bkg = self.observed, self.backgrounds
        inv_var, bkg_t, pairs, upper = k["inv_var"], k["bkg_t"], k["pairs"], k["upper"]
        n_par = 1 + bkg.shape[0]
        diag = np.arange(n_par)
        ssum = s.sum(axis=-1)
        theta = np.array(start, dtype=np.float64)  # theta[:, 0] holds kappa = 1 + theta_0
        theta[:, 0] += 1.0
        if self.signal_scale > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                lowered = self.signal_scale * theta[:, 0] / ssum
            big = ssum > self.signal_scale
            theta[:, 0] = np.where(big, np.minimum(theta[:, 0], lowered), theta[:, 0])
        mu = s * theta[:, :1] + (1.0 + theta[:, 1:]) @ bkg
        out = np.full(s.shape[0], np.nan)
        idx = np.arange(s.shape[0])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for _ in range(self.CERTIFIED_STEPS):
                ratio = n / mu
                w = ratio / mu
                ws = w * s
                grad = np.empty((idx.size, n_par))
                grad[:, 0] = ssum - np.einsum("pb,pb->p", ratio, s) + (theta[:, 0] - 1.0) * inv_var[0]
                grad[:, 1:] = k["bkg_sum"] - ratio @ bkg_t + theta[:, 1:] * inv_var[1:]
                hess = np.empty((idx.size, n_par, n_par))
                hess[:, 0, 0] = np.einsum("pb,pb->p", ws, s)
                h0b = ws @ bkg_t
                hess[:, 0, 1:] = h0b
                hess[:, 1:, 0] = h0b
                hb = w @ pairs
                hess[:, 1 + upper[:, 0], 1 + upper[:, 1]] = hb
                hess[:, 1 + upper[:, 1], 1 + upper[:, 0]] = hb
                hess[:, diag, diag] += inv_var
                ok = np.all(np.isfinite(hess), axis=(1, 2)) & np.all(np.isfinite(grad), axis=1)
                if not np.all(ok):  # such points are left to chi2()
                    hess[~ok] = np.eye(n_par)
                    grad[~ok] = 0.0
                step = np.linalg.solve(hess, grad[..., None])[..., 0]
                # grad and hess are half of F' and F'': lambda^2 = F'^T F''^-1 F' = 2 grad.step
                lam = np.sqrt(np.maximum(2.0 * np.einsum("pi,pi->p", grad, step), 0.0))
                dmu = step[:, :1] * s + step[:, 1:] @ bkg
                new = mu - dmu
                full = np.min(new, axis=-1) > 0
                done = full & (lam <= self.LAMBDA_CERT) & ok
                if not np.all(full):
                    cut = ~full
                    room = np.min(np.where(dmu[cut] > 0, mu[cut] / dmu[cut], np.inf), axis=-1)
                    frac = np.where(room > 1.0, 1.0, 0.5 * room)
                    step[cut] *= frac[:, None]
                    new[cut] = mu[cut] - frac[:, None] * dmu[cut]
                theta -= step
                mu = new
                if np.any(done):
                    th, md = theta[done], mu[done]
                    f = 2.0 * (md.sum(axis=-1) + k["const"] - np.log(md) @ n)
                    f += (th[:, 0] - 1.0) ** 2 * inv_var[0] + th[:, 1:] ** 2 @ inv_var[1:]
                    lam_plus = (lam[done] / (1.0 - lam[done])) ** 2
                    out[idx[done]] = f - 0.5 * (-lam_plus - np.log1p(-lam_plus))
                gone = done | ~ok
                if np.all(gone):
                    break
                if np.any(gone):
                    keep = ~gone
                    idx, s, mu, theta, ssum = idx[keep], s[keep], mu[keep], theta[keep], ssum[keep]
        return out


def bin_weights(
    targets: tuple[tuple[Nucleus, float], ...],
    fluence: float,
    t_nodes: NDArray[np.float64],
    t_weights: NDArray[np.float64],
    response: dict[tuple[str, int], NDArray[np.float64]],
    n_bins: int,
) -> NDArray[np.float64]:
    """w_nkbi: events per unit Q_eff^2 of nucleus n, neutrino key k, bin b, recoil node i.

    w = N_n Phi (G_F^2 M_n / 4 pi) F_n^2(T_i) S_c(T_i) R_c(b, T_i) w_i summed over the flux
    components c of key k (S_c: :func:`~zprime_atlas.constraints.coherent.recoil_factor`,
    R_c: the response). Dimensionless.
    """
    weights = np.zeros((len(targets), len(_KEYS), n_bins, t_nodes.size))
    for j, (nuc, count) in enumerate(targets):
        q = np.sqrt(2.0 * nuc.mass * t_nodes)
        xsec = G_FERMI**2 * nuc.mass / (4.0 * math.pi) * HBARC_GEV_CM**2  # cm^2 / GeV
        common = count * fluence * xsec * helm_form_factor(q, nuc.A) ** 2 * t_weights
        for comp, key in _COMPONENTS:
            per_node = common * recoil_factor(comp, nuc.mass, t_nodes)
            weights[j, key] += response[(comp, j)] * per_node[None, :]
    return weights


# -- the generic constraint ---------------------------------------------------------------------


class CEvNSBinned(Constraint):
    """CEvNS at a pi-DAR source with a binned Poisson likelihood (module docstring for the physics).

    Parameters
    ----------
    info
        Metadata; ``info.cl`` sets Delta chi^2_crit.
    targets
        (nucleus, number of nuclei) pairs.
    fluence
        Neutrinos per flavour per cm^2 at the detector.
    t_nodes, t_weights
        Quadrature nodes and weights in the recoil energy T [GeV].
    response
        Per flux component (``nu_e``, ``nu_mu_prompt``, ``nubar_mu``) and nucleus index, an array
        (n_model_bins, n_nodes): the probability that a recoil T_i from that component is recorded
        in each model bin (efficiency, resolution and arrival time included).
    to_fit
        (n_fit_bins, n_model_bins) linear map from model-bin counts to the fit bins' signal.
    statistics
        The Poisson likelihood of the fit bins.
    """

    _CACHE_SIZE = 16
    _MASS_CHUNK = 256
    #: Per-point coupling samples of the interval search: log-spaced points, and linear points
    #: around every coupling where the total count returns to the SM or is extremal.
    _N_LOG = 60
    _N_WINDOW = 16

    def __init__(
        self,
        info: ConstraintInfo,
        targets: tuple[tuple[Nucleus, float], ...],
        fluence: float,
        t_nodes: NDArray[np.float64],
        t_weights: NDArray[np.float64],
        response: dict[tuple[str, int], NDArray[np.float64]],
        to_fit: NDArray[np.float64],
        statistics: PoissonProfile,
    ) -> None:
        self.info = info
        self.targets = targets
        self.fluence = fluence
        self.statistics = statistics
        self._t = t_nodes
        nuclei = [n for n, _ in targets]
        weights = bin_weights(targets, fluence, t_nodes, t_weights, response, to_fit.shape[1])
        # Fold the map to the fit bins into the weights once: (n, k, fit bin, node).
        self._weights = np.einsum("fb,nkbi->nkfi", to_fit, weights)
        self._model_weights = weights
        self.to_fit = to_fit
        self._mass = np.array([n.mass for n in nuclei])
        self._Z = np.array([n.Z for n in nuclei], dtype=float)
        self._N = np.array([n.N for n in nuclei], dtype=float)
        self._qw = np.array([n.weak_charge for n in nuclei])
        self._cache: dict[bytes, tuple[NDArray, NDArray]] = {}
        self.sm_model_bins: NDArray[np.float64] = np.einsum("n,nkbi->b", self._qw**2, weights)
        self.sm_bins: NDArray[np.float64] = np.einsum("n,nkfi->f", self._qw**2, self._weights)
        self.sm_counts: float = float(self.sm_model_bins.sum())
        self.dchi2_crit: float = delta_chi2_critical(info.cl)
        chi2_sm, theta_sm = statistics.chi2(self.sm_bins, return_theta=True)
        self.chi2_sm: float = float(chi2_sm)
        #: The nuisances of the SM fit: where every point's Newton steps start.
        self.theta_sm: NDArray[np.float64] = np.asarray(theta_sm)

    # -- kernels --------------------------------------------------------------------------------

    def kernels(self, m_X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(K1, K2), each (n_nuclei, 2, n_fit_bins, *m_X.shape); cached per set of distinct masses."""
        m = as_mass(m_X)
        uniq, inverse = np.unique(m.ravel(), return_inverse=True)

        def compute() -> tuple[NDArray, NDArray]:
            n_nuc, n_key, n_fit, _ = self._weights.shape
            k1 = np.empty((n_nuc, n_key, n_fit, uniq.size))
            k2 = np.empty_like(k1)
            two_mt = 2.0 * self._mass[:, None] * self._t[None, :]
            for start in range(0, uniq.size, self._MASS_CHUNK):
                mm = uniq[start : start + self._MASS_CHUNK]
                prop = 1.0 / (two_mt[:, :, None] + mm[None, None, :] ** 2)  # (n, i, j)
                k1[..., start : start + mm.size] = np.einsum("nkfi,nij->nkfj", self._weights, prop)
                k2[..., start : start + mm.size] = np.einsum(
                    "nkfi,nij->nkfj", self._weights, prop * prop
                )
            return k1, k2

        hit = remembered(self._cache, uniq.tobytes(), compute, self._CACHE_SIZE)
        shape = (*self._weights.shape[:3], *m.shape)
        return hit[0][..., inverse].reshape(shape), hit[1][..., inverse].reshape(shape)

    # -- predictions ----------------------------------------------------------------------------

    def amplitudes(
        self,
        model: Model,
        g_X: ArrayLike = 1.0,
        eps: ArrayLike | str | Mixing | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> list[list[NDArray[np.float64]]]:
        """A[n][k] = (sqrt2/G_F) g_nu_k (Z_n g_p + N_n g_n) [GeV^2], couplings at q^2 = 0."""
        c = effective_couplings(
            model, g_X, eps=eps, eps_over_g=eps_over_g, q2=0.0, loop_scale=loop_scale
        )
        g_p = np.real(2.0 * c["u"] + c["d"])
        g_n = np.real(c["u"] + 2.0 * c["d"])
        return [
            [_SQRT2_OVER_GF * np.real(c[k]) * (z * g_p + n * g_n) for k in _KEYS]
            for z, n in zip(self._Z, self._N, strict=True)
        ]

    def coefficients(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> NDArray[np.float64]:
        """c_j of N_b = N_b^SM + sum_{j=1}^4 c_jb g^j, shape (4, *broadcast, n_fit_bins).

        A_nk = alpha_nk g^2 + delta_nk g: alpha from the U(1)_X couplings (and a mixing
        proportional to g_X), delta = x_nu e eps of a fixed eps. Then c_1 = -2 Q delta K1,
        c_2 = -2 Q alpha K1 + delta^2 K2, c_3 = 2 alpha delta K2, c_4 = alpha^2 K2, summed over
        nuclei and neutrino keys.
        """
        return self._coefficients_from(*self._coefficient_inputs(m, model, mix))

    def _coefficient_inputs(
        self, m: NDArray[np.float64], model: Model, mix: Mixing
    ) -> tuple[list[list[NDArray]], list[list[NDArray]] | None, NDArray, NDArray]:
        """(alpha, delta, K1, K2): amplitudes per nucleus and key, kernels (n, k, *m, f)."""
        k1, k2 = self.kernels(m)
        k1 = np.moveaxis(k1, 2, -1)  # (n, k, *m, f)
        k2 = np.moveaxis(k2, 2, -1)
        alpha, delta = self._amplitude_inputs(model, mix)
        return alpha, delta, k1, k2

    def _amplitude_inputs(
        self, model: Model, mix: Mixing
    ) -> tuple[list[list[NDArray]], list[list[NDArray]] | None]:
        """(alpha, delta): A_nk = alpha_nk g^2 + delta_nk g per nucleus n and key k."""
        if mix.proportional:
            alpha = self.amplitudes(model, 1.0, eps=mix)
            delta = None
        else:
            alpha = self.amplitudes(model, 1.0, eps=Mixing("fixed", np.zeros(())))
            full = self.amplitudes(model, 1.0, eps=mix)
            delta = [[full[j][k] - alpha[j][k] for k in range(len(_KEYS))] for j in range(len(alpha))]
        alpha = [[np.asarray(a, dtype=np.float64) for a in row] for row in alpha]
        return alpha, delta

    def _coefficients_from(
        self,
        alpha: list[list[NDArray]],
        delta: list[list[NDArray]] | None,
        k1: NDArray,
        k2: NDArray,
    ) -> NDArray[np.float64]:
        """The c_j of :meth:`coefficients` from amplitudes (*p) and kernels (n, k, *p, f)."""
        c = [np.zeros(()) for _ in range(4)]
        for j, qw in enumerate(self._qw):
            for k in range(len(_KEYS)):
                al = np.asarray(alpha[j][k])[..., None]
                c[1] = c[1] - 2.0 * qw * al * k1[j, k]
                c[3] = c[3] + al * al * k2[j, k]
                if delta is not None:
                    de = np.asarray(delta[j][k])[..., None]
                    c[0] = c[0] - 2.0 * qw * de * k1[j, k]
                    c[1] = c[1] + de * de * k2[j, k]
                    c[2] = c[2] + 2.0 * al * de * k2[j, k]
        return np.stack(np.broadcast_arrays(*c))

    def _fit_counts(self, c: NDArray, g: ArrayLike) -> NDArray[np.float64]:
        """N_b^SM + sum_j c_jb g^j for couplings g (broadcast against c's leading axes)."""
        gg = np.asarray(g, dtype=np.float64)[..., None]
        with np.errstate(over="ignore", invalid="ignore"):
            total = ((c[3] * gg + c[2]) * gg + c[1]) * gg + c[0]
            return self.sm_bins + total * gg

    def predicted_bins(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Expected CEvNS events per fit bin (last axis), SM + X with interference."""
        m = as_mass(m_X)
        mix = Mixing.parse(eps, eps_over_g, loop_scale)
        return self._fit_counts(self.coefficients(m, model, mix), np.asarray(g_X, dtype=float))

    def predicted_counts(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Expected CEvNS events summed over the fit bins."""
        return self.predicted_bins(m_X, g_X, model, eps, eps_over_g, loop_scale).sum(axis=-1)

    # -- the Constraint interface ---------------------------------------------------------------

    #: Predicted counts per bin are capped at this multiple of all observed events: beyond it
    #: chi^2 is astronomically large anyway, and the cap keeps the Newton steps finite.
    _COUNT_CAP = 1e6

    #: A prediction within this many standard deviations of the SM in every bin has
    #: Delta chi^2 < n_bins x (1e-4)^2 (r < 2e-5): r is reported as 0 without the Newton fit.
    _NEGLIGIBLE_PULL = 1e-4
    #: Points per block of :meth:`_ratio` (bounds the memory of the (points, bins) arrays).
    _RATIO_BLOCK = 2048

    def _r_from_bins(self, bins: NDArray, exact: bool = False) -> NDArray[np.float64]:
        """r of predicted fit-bin counts (last axis); ``exact``: by :meth:`PoissonProfile.chi2`
        (the reference), else by :meth:`PoissonProfile.chi2_certified` from the SM nuisances."""
        cap = self._COUNT_CAP * float(self.statistics.observed.sum())
        bins = np.clip(np.where(np.isnan(bins), cap, bins), 0.0, cap)
        scale = np.sqrt(self.sm_bins + self.statistics.backgrounds.sum(axis=0))
        pull = np.max(np.abs(bins - self.sm_bins) / scale, axis=-1)
        live = pull >= self._NEGLIGIBLE_PULL
        out = np.zeros(bins.shape[:-1])
        if np.any(live):
            if exact:
                chi2 = self.statistics.chi2(bins[live])
            else:
                chi2 = self.statistics.chi2_certified(bins[live], self.theta_sm)
            out[live] = np.maximum(chi2 - self.chi2_sm, 0.0) / self.dchi2_crit
        return out

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = max(chi^2(bins) - chi^2(SM), 0) / Delta chi^2_crit, point by point (fast path).

        The bins are linear in fixed templates at each mass: N_b = N_b^SM + sum_{n,k}
        [-2 Q_n A_nk K1_nkb + A_nk^2 K2_nkb] with the total amplitude A_nk = alpha_nk g^2 +
        delta_nk g of each point. So the points are grouped by mass, the templates (K1, K2) taken
        once per distinct mass (cached by :meth:`kernels`), and each block of
        :attr:`_RATIO_BLOCK` points costs one (points, 2 n k) x (2 n k, bins) product; the profile
        is :meth:`PoissonProfile.chi2_certified` (chi^2 within 2.3e-7 of the minimum) started
        from the SM fit's nuisances. :meth:`_ratio_reference` is the previous path (same
        physics: the quartic coefficients and :meth:`PoissonProfile.chi2`).
        """
        alpha, delta = self._amplitude_inputs(model, mix)
        al_flat = [a for row in alpha for a in row]
        de_flat = [a for row in delta for a in row] if delta is not None else []
        final = np.broadcast_shapes(np.shape(g), np.shape(m), *(np.shape(a) for a in al_flat + de_flat))
        shape = final if final else (1,)
        size = math.prod(shape)
        masses, which = np.unique(np.broadcast_to(m, shape).ravel(), return_inverse=True)
        k1, k2 = self.kernels(masses)  # (n, k, f, U)
        n_nk, n_f = k1.shape[0] * k1.shape[1], k1.shape[2]
        # (U, 2nk, f): rows -2 Q_n A_nk -> K1_nk, then A_nk^2 -> K2_nk
        templates = np.ascontiguousarray(
            np.moveaxis(np.concatenate([k1.reshape(n_nk, n_f, -1), k2.reshape(n_nk, n_f, -1)]), -1, 0)
        )
        qw2 = np.repeat(-2.0 * self._qw, k1.shape[1])  # -2 Q_n per (n, k)
        gg = np.broadcast_to(g, shape).ravel()
        al = [np.broadcast_to(a, shape).ravel() for a in al_flat]
        de = [np.broadcast_to(a, shape).ravel() for a in de_flat]
        order = np.argsort(which.ravel(), kind="stable")
        edges = np.searchsorted(which.ravel()[order], np.arange(masses.size + 1))
        out = np.empty(size)
        with np.errstate(over="ignore", invalid="ignore"):
            for u in range(masses.size):
                group = order[edges[u] : edges[u + 1]]
                for begin in range(0, group.size, self._RATIO_BLOCK):
                    pts = group[begin : begin + self._RATIO_BLOCK]
                    gp = gg[pts]
                    coef = np.empty((pts.size, 2 * n_nk))
                    for i in range(n_nk):
                        amp = al[i][pts] * (gp * gp)
                        if de:
                            amp = amp + de[i][pts] * gp
                        coef[:, i] = qw2[i] * amp
                        coef[:, n_nk + i] = amp * amp
                    out[pts] = self._r_from_bins(self.sm_bins + coef @ templates[u])
        return out.reshape(final)

    def _ratio_reference(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """The reference path of :meth:`_ratio` (before the fast path): r from the quartic
        coefficients c_jb and :meth:`PoissonProfile.chi2`, in blocks of points.

        Amplitudes and kernels are computed once; the (points, bins) coefficients and counts only
        per block of :attr:`_RATIO_BLOCK` points, so memory stays bounded for any batch.
        """
        alpha, delta, k1, k2 = self._coefficient_inputs(m, model, mix)
        amps = [a for row in alpha for a in row] + ([a for row in delta for a in row] if delta else [])
        final = np.broadcast_shapes(np.shape(g), k1.shape[2:-1], *(np.shape(a) for a in amps))
        shape = final if final else (1,)
        size = math.prod(shape)
        n_f = k1.shape[-1]
        m_shape = k1.shape[2:-1]
        pad = (1,) * (len(shape) - len(m_shape))
        lead = k1.shape[:2]
        kk1 = np.broadcast_to(k1.reshape(*lead, *pad, *m_shape, n_f), (*lead, *shape, n_f))
        kk2 = np.broadcast_to(k2.reshape(*lead, *pad, *m_shape, n_f), (*lead, *shape, n_f))
        gg = np.broadcast_to(g, shape)

        def pick(a: NDArray, idx: tuple[NDArray, ...]) -> NDArray:
            return np.broadcast_to(a, shape)[idx]

        out = np.empty(size)
        for start in range(0, size, self._RATIO_BLOCK):
            idx = np.unravel_index(np.arange(start, min(start + self._RATIO_BLOCK, size)), shape)
            al = [[pick(a, idx) for a in row] for row in alpha]
            de = [[pick(a, idx) for a in row] for row in delta] if delta is not None else None
            sel: tuple[slice | NDArray, ...] = (slice(None), slice(None), *idx)
            c = self._coefficients_from(al, de, kk1[sel], kk2[sel])
            bins = self._fit_counts(c, gg[idx])
            out[start : start + idx[0].size] = self._r_from_bins(bins, exact=True)
        return out.reshape(final)

    def _coupling_samples(self, c: NDArray) -> NDArray[np.float64]:
        """Per-point g_X samples, sorted on the first axis: (n_samples, *shape).

        Log-spaced from 1e-3 x the smallest to 1e3 x the largest scale g_j = (N_SM/|C_j|)^(1/j)
        of the total count N = N_SM + sum_j C_j g^j, plus linear grids over [0.5, 1.5] x every
        positive root of N = N_SM (where destructive interference re-allows couplings) and of
        dN/dg = 0 (where a deficit peaks): the places a window or an island can hide.
        """
        tot = c.sum(axis=-1)  # (4, *shape)
        n0 = self.sm_bins.sum()
        j = np.arange(1, 5).reshape((4,) + (1,) * (tot.ndim - 1))
        with np.errstate(divide="ignore"):
            scales = np.where(tot != 0, (n0 / np.abs(tot)) ** (1.0 / j), np.nan)
        lo = np.nanmin(np.where(np.isfinite(scales), scales, np.nan), axis=0, initial=np.inf)
        hi = np.nanmax(np.where(np.isfinite(scales), scales, np.nan), axis=0, initial=0.0)
        lo = np.where(np.isfinite(lo), lo, 1.0) * 1e-3
        hi = np.where(hi > 0, hi, 1.0) * 1e3
        hi = np.maximum(hi, lo * 1e6)
        t = np.linspace(0.0, 1.0, self._N_LOG).reshape((-1,) + (1,) * lo.ndim)
        samples = [np.exp(np.log(lo) + t * (np.log(hi) - np.log(lo)))]
        # roots of (N - N_SM)/g = C1 + C2 g + C3 g^2 + C4 g^3
        # and of dN/dg = C1 + 2 C2 g + 3 C3 g^2 + 4 C4 g^3
        roots = np.concatenate(
            [polynomial_roots(tot), polynomial_roots(tot * j)], axis=-1
        )  # (*shape, 6)
        fallback = np.sqrt(lo * hi)
        u = np.linspace(0.5, 1.5, self._N_WINDOW).reshape((-1,) + (1,) * lo.ndim)
        for i in range(roots.shape[-1]):
            rho = roots[..., i]
            rho = np.where(np.isfinite(rho) & (rho > 0), rho, fallback)
            samples.append(u * rho)
        out = np.concatenate(samples, axis=0)
        out.sort(axis=0)
        return out

    def _intervals(self, m: NDArray, model: Model, mix: Mixing) -> Intervals:
        """The excluded g_X intervals, lowest first (at least two slots; (inf, inf) pads).

        Every bin is a quartic in g_X but the likelihood is not, so no closed form exists: the
        search runs :func:`~zprime_atlas.constraints.solve.intervals_by_scan` (scan, golden-section
        refinement of every extremum that could hide a crossing, bisection of every crossing) over a
        per-point sample set (:meth:`_coupling_samples`) that is dense wherever the count returns
        to the SM or peaks, indexed by a common variable s = 1..n_samples (g is log-linear in s
        between samples).
        """
        c = self.coefficients(m, model, mix)
        shape = c.shape[1:-1]
        untouched = np.all(c == 0, axis=(0, -1))
        samples = self._coupling_samples(c)
        log_s = np.log(samples)
        n_s = samples.shape[0]

        def g_of(s: NDArray) -> NDArray:
            x = np.clip(np.asarray(s, dtype=float), 1.0, float(n_s)) - 1.0
            i = np.minimum(np.floor(x).astype(int), n_s - 2)
            frac = x - i
            a = np.take_along_axis(log_s, i[None], axis=0)[0]
            b = np.take_along_axis(log_s, (i + 1)[None], axis=0)[0]
            return np.exp(a + frac * (b - a))

        def ratio_of_s(s: NDArray) -> NDArray:
            return self._r_from_bins(self._fit_counts(c, g_of(np.broadcast_to(s, shape))))

        grid = np.arange(1.0, n_s + 1.0)
        found = intervals_by_scan(ratio_of_s, shape, g_grid=grid, max_intervals=4)
        out: Intervals = []
        for lo_s, hi_s in found:
            at_lo = g_of(np.where(np.isfinite(lo_s), lo_s, 1.0))
            lo_g = np.where(lo_s == 0, 0.0, np.where(np.isfinite(lo_s), at_lo, np.inf))
            hi_g = np.where(np.isfinite(hi_s), g_of(np.where(np.isfinite(hi_s), hi_s, 1.0)), np.inf)
            lo_g = np.where(untouched, np.inf, lo_g)
            hi_g = np.where(untouched, np.inf, hi_g)
            out.append((lo_g, hi_g))
        while len(out) > 2 and not np.any(np.isfinite(out[-1][0])):
            out.pop()
        return out


# -- COHERENT CENNS-10 LAr 2020 -----------------------------------------------------------------


def _read_parameters(name: str) -> dict[str, dict[str, object]]:
    res = resources.files("zprime_atlas") / "data" / "coherent" / name
    return tomllib.loads(res.read_text(encoding="utf-8"))


class CoherentLAr2020(CEvNSBinned):
    """``coherent_lar_2020``: COHERENT CENNS-10 liquid argon, Analysis A (arXiv:2003.10630).

    Every input is read from the collaboration's data release (zprime_atlas/data/coherent,
    regenerated by its ``generate.py``): 24.4 kg of argon (taken as Ar-40) at 27.5 m, 13.8e22 POT,
    0.09 nu per flavour per POT; quenching QF = 0.246 + 0.00078 T[keVnr]; resolution
    sigma/E = 0.58/sqrt(E[keVee]); the acceptance per 0.5 keVee; proton-pulse timing Gaussian
    (440 ns, 150 ns). The fit uses the release's 12 energy x 8 F90 x 10 time bins and its background
    PDFs (prompt and delayed beam-related neutrons, steady state) with their prediction
    normalisations and uncertainties as Gaussian nuisances (497 +- 160, 33 +- 33, 3154 +- 25);
    the signal normalisation nuisance has the release's CEvNS prediction uncertainty 17/128.

    The signal of a model in bin (E, F90, t) is the release's SM CEvNS PDF times the ratio
    N_{E,t}(model) / N_{E,t}(SM) of this module's prediction in the (energy, time) bin (F90 does
    not depend on the neutrino). ``cl``: confidence level (default 0.90, Delta chi^2 = 2.706).
    """

    PUBLISHED_SM: tuple[float, float] = (128.0, 17.0)
    PUBLISHED_BESTFIT: tuple[float, float] = (159.0, 43.0)

    def __init__(self, cl: float = 0.90) -> None:
        if not 0.0 < cl < 1.0:
            raise ValueError(f"cl must lie between 0 and 1, got {cl!r}")
        p = _read_parameters("COHERENT_LAr_2020_parameters.toml")
        self.parameters = p

        def val(key: str, field: str = "value") -> float:
            return float(p[key][field])  # type: ignore[arg-type]

        bins = package_table(
            "coherent",
            "COHERENT_LAr_2020_bins.csv",
            "e_kevee,f90,t_us,observed,cevns,brn_prompt,brn_delayed,steady_state",
        )
        eff = package_table("coherent", "COHERENT_LAr_2020_efficiency.csv", "kevee,kevnr,efficiency")
        self.bins_table = bins
        self.efficiency_table = eff
        e_c, f_c, t_c = (np.unique(bins[:, i]) for i in range(3))
        n_e, n_f, n_t = e_c.size, f_c.size, t_c.size
        if n_e * n_f * n_t != bins.shape[0]:
            raise ValueError("COHERENT LAr bins: not a full energy x F90 x time grid")
        e_w, t_w = np.diff(e_c).mean(), np.diff(t_c).mean()
        e_edges = np.concatenate([e_c - e_w / 2, [e_c[-1] + e_w / 2]])
        t_edges = np.concatenate([t_c - t_w / 2, [t_c[-1] + t_w / 2]])
        self.energy_edges_kevee, self.time_edges_us = e_edges, t_edges
        qa, qb = val("quenching", "a"), val("quenching", "b")
        res_a = val("resolution", "a")
        t_mean, t_width = val("pot_trace", "a") * 1e-3, val("pot_trace", "b") * 1e-3  # us

        # Recoil nodes [keVnr]: from the first efficiency node with efficiency > 0 to the largest
        # recoil of a 52.8 MeV neutrino; panel edges at the efficiency nodes and prompt endpoint.
        t_max = 2.0 * _MICHEL_END**2 / AR40.mass / _KEV
        t_prompt = 2.0 * PROMPT_ENERGY**2 / AR40.mass / _KEV
        t_min = float(eff[np.argmax(eff[:, 2] > 0) - 1, 1])
        pts = np.unique(np.concatenate([[t_min, t_max, t_prompt], eff[:, 1]]))
        pts = pts[(pts >= t_min) & (pts <= t_max)]
        t_kevnr, w_kevnr = gauss_legendre_panels(pts, 8)
        e_true = (qa + qb * t_kevnr) * t_kevnr  # keVee
        efficiency = np.interp(e_true, eff[:, 0], eff[:, 2], left=0.0, right=float(eff[-1, 2]))
        sigma = res_a * np.sqrt(e_true)
        cdf = ndtr((e_edges[:, None] - e_true[None, :]) / sigma[None, :])
        p_energy = np.diff(cdf, axis=0) * efficiency[None, :]  # (n_e, nodes)
        response: dict[tuple[str, int], NDArray[np.float64]] = {}
        self.time_fractions: dict[str, NDArray[np.float64]] = {}
        for comp, _ in _COMPONENTS:
            p_time = np.diff(arrival_time_cdf(comp, t_edges, t_mean, t_width))
            self.time_fractions[comp] = p_time
            # model bins: energy-major (E, t)
            response[(comp, 0)] = (p_energy[:, None, :] * p_time[None, :, None]).reshape(n_e * n_t, -1)

        # Fit bins (E, F90, t) in the order of the table; signal = PDF x ratio in (E, t).
        cube = bins[:, 4].reshape(n_e, n_f, n_t)
        # SM prediction of this module per (E, t) model bin, for the ratio:
        n_atoms = val("fiducial_mass_kg") / (AR40.mass / _U_GEV * _U_KG)
        fluence = val("nu_per_flavour_per_pot") * val("pot_e22") * 1e22 / (
            4.0 * math.pi * (val("distance_m") * 100.0) ** 2
        )
        t_nodes, t_weights = t_kevnr * _KEV, w_kevnr * _KEV
        targets = ((AR40, n_atoms),)
        w_model = bin_weights(targets, fluence, t_nodes, t_weights, response, n_e * n_t)
        sm_model = np.einsum("n,nkbi->b", np.array([AR40.weak_charge]) ** 2, w_model)
        sm_et = sm_model.reshape(n_e, n_t)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(sm_et[:, None, :] > 0, cube / sm_et[:, None, :], 0.0)  # (E, F90, t)
        to_fit = np.zeros((n_e * n_f * n_t, n_e * n_t))
        ie, jf, kt = np.meshgrid(np.arange(n_e), np.arange(n_f), np.arange(n_t), indexing="ij")
        to_fit[(ie * n_f * n_t + jf * n_t + kt).ravel(), (ie * n_t + kt).ravel()] = scale.ravel()
        # Bins that can hold no signal at all (no SM CEvNS in the release PDF and none predicted
        # here) only constrain the backgrounds: merge them per time bin (sums of Poisson counts).
        keep = to_fit.any(axis=1)
        groups = np.where(keep, np.arange(bins.shape[0]), -1)
        side = ~keep
        fit_index: list[NDArray[np.int_]] = [np.array([i]) for i in np.flatnonzero(keep)]
        t_index = np.tile(np.arange(n_t), n_e * n_f)
        for k in range(n_t):
            members = np.flatnonzero(side & (t_index == k))
            if members.size:
                fit_index.append(members)
        del groups
        merge = np.zeros((len(fit_index), bins.shape[0]))
        for row, members in enumerate(fit_index):
            merge[row, members] = 1.0
        self.fit_bins = merge
        observed = merge @ bins[:, 3]
        backgrounds = np.stack([merge @ bins[:, c] for c in (5, 6, 7)])
        sig = [
            val("brn_prompt_prediction", "uncertainty") / val("brn_prompt_prediction"),
            val("brn_delayed_prediction", "uncertainty") / val("brn_delayed_prediction"),
            val("steady_state_prediction", "uncertainty") / val("steady_state_prediction"),
        ]
        stats = PoissonProfile(
            observed=observed,
            backgrounds=backgrounds,
            sigma_signal=val("cevns_prediction", "uncertainty") / val("cevns_prediction"),
            sigma_backgrounds=np.array(sig),
            signal_scale=float(bins[:, 4].sum()),
        )
        self.absolute_sm_counts: float = float(sm_model.sum())
        self.absolute_sm_et = sm_et
        info = ConstraintInfo(
            name="coherent_lar_2020",
            title="COHERENT CENNS-10 LAr 2020: CEvNS in energy, F90 and time (binned Poisson)",
            citation=("2003.10630",),
            mass_range=(1e-6, 10.0),
            cl=cl,
            notes="",
            verified=True,
            journal="Phys. Rev. Lett. 126 (2021) 012002",
            kind="neutrino",
            experiment="COHERENT",
            year=2020,
        )
        super().__init__(
            info=info,
            targets=targets,
            fluence=fluence,
            t_nodes=t_nodes,
            t_weights=t_weights,
            response=response,
            to_fit=merge @ to_fit,
            statistics=stats,
        )
        self.info = dataclasses.replace(
            info,
            notes=(
                f"CEvNS on Ar-40 with an X exchange (propagator 1/(2MT + m_X^2)) in every "
                f"(energy, time) bin; SNS pi-DAR flux with prompt/delayed arrival times from the "
                f"release's proton-pulse parameters and the PDG pi/mu lifetimes; Helm form factor; "
                f"quenching, resolution and acceptance of the release. SM prediction of this module "
                f"{self.absolute_sm_counts:.1f} events (release: 128 +- 17); the fit uses the "
                f"release's SM PDF scaled bin by bin by the model/SM ratio. Poisson likelihood over "
                f"{observed.size} bins (the release's 960, signal-free ones merged per time bin) "
                f"with normalisation nuisances (CEvNS 13%, prompt BRN 32%, delayed BRN 100%, steady "
                f"state 0.8%) profiled by Newton steps; r = [chi^2 - chi^2(SM)]/"
                f"{self.dchi2_crit:.3f} ({cl:.0%} CL, 1 dof). Shape systematics of the release "
                f"(BRN energy and timing, CEvNS F90 and timing) are not included; eps='loop' at "
                f"q^2 = 0. Every input read from the data release (verified)."
            ),
        )


def __dir__() -> list[str]:
    return list(__all__)
