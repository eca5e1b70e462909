r"""Solar 8B neutrinos scattering coherently on xenon (CEvNS) in XENONnT and PandaX-4T, with an X.

Constraints ``xenonnt_2024_b8`` (XENONnT, arXiv:2408.02877, Phys. Rev. Lett. 133 (2024) 191002) and
``pandax4t_2024_b8`` (PandaX-4T, arXiv:2407.10892, Phys. Rev. Lett. 133 (2024) 191001). Units: GeV
unless a name says otherwise. Physics, inputs and approximations: docs/physics/solar_cevns.md.

Both experiments quote a 8B flux fitted with the SM CEvNS cross section. An X changes the rate
above threshold by R = N(SM + X)/N(SM), so the flux they would infer is R Phi_true. With the
independently measured flux Phi_SNO (SNO neutral current, arXiv:1109.0763) the test is

    chi^2(R) = ((R - R_meas)/sigma_side)^2,   R_meas = Phi_meas / Phi_SNO,
    r = max(chi^2(R) - chi^2(1), 0) / Delta chi^2_crit(CL),

with sigma_side the published upper error for R > R_meas, the lower one below (both combined in
quadrature with the SNO error). Per nucleus (Z, N, mass M), flavour alpha, recoil T (as in
:mod:`~zprime_atlas.constraints.coherent`):

    dsigma/dT = (G_F^2 M / 4 pi) Q_eff^2 (1 - M T/(2 E^2)) F^2(q),   q^2 = 2 M T,
    Q_eff = Q_W - A_alpha / (2 M T + m_X^2),   A_alpha = (sqrt2/G_F) x_alpha p,
    p = g_X (Z g_p + N g_n) = a g_X^2 + b g_X,  a = Z (2 x_u + x_d) + N (x_u + 2 x_d),  b = e Z eps,

so (the nucleon part of A is flavour-blind, the neutrino charge x_alpha is not)

    R - 1 = beta p + gamma p^2,
    beta = -2 Q_W (sqrt2/G_F) sum_alpha x_alpha k1_alpha(m_X),
    gamma = (sqrt2/G_F)^2 sum_alpha x_alpha^2 k2_alpha(m_X),
    k_p,alpha = sum_c w_c [int dT W_alpha,c(T) / (2 M T + m_X^2)^p] / N_SM,c,

with W_alpha,c(T) = (G_F^2 M/4 pi) F^2 theta(T - T_c) int dE lambda(E) f_alpha(E) (1 - M T/2E^2)_+,
lambda the 8B spectrum (Winter et al. 2006), f_alpha(E) the flavour fractions at Earth (adiabatic
LMA-MSW from the 8B production region of :mod:`zprime_atlas.solar`, incoherent mass states), and
the detector channels c (threshold T_c, weight w_c). The excluded couplings follow in closed form
(:func:`~zprime_atlas.constraints.solve.quadratic_exclusion_intervals`): up to four intervals, the
destructive-interference window included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from particle import Particle

from .._csv import package_table
from .._quadrature import gauss_legendre_panels
from .._validate import as_mass
from ..constants import E_CHARGE, G_FERMI, HBARC_GEV_CM, SIN2_THETA_W_LOW
from ..couplings import Mixing
from ..models import Model
from ..nuclear import helm_form_factor
from ..solar import potential_cc, production_points
from ._memo import remembered
from .base import CompiledRatio, Constraint, ConstraintInfo
from .rate_shift import QuadraticRateShift
from .solve import delta_chi2_critical

__all__ = [
    "B8_FLUX_SNO",
    "FLAVOURS",
    "OSCILLATION_SNO_2013",
    "PANDAX4T_2024",
    "XE131",
    "XENONNT_2024",
    "B8Measurement",
    "SolarB8CEvNS",
    "b8_spectrum",
    "flavour_fractions",
    "pandax4t_2024_b8",
    "xenonnt_2024_b8",
]

#: Neutrino flavours, in the order of every flavour axis of this module.
FLAVOURS: tuple[str, ...] = ("nu_e", "nu_mu", "nu_tau")

_SQRT2_OVER_GF: float = math.sqrt(2.0) / G_FERMI
_MEV: float = 1e-3
_KEV: float = 1e-6

#: SNO total active 8B flux [cm^-2 s^-1]: (value, stat, syst+, syst-) = (5.25, 0.16, +0.11, -0.13)
#: x 1e6, "Combined analysis of all three phases", Phys. Rev. C 88 (2013) 025501, arXiv:1109.0763,
#: abstract [verified].
B8_FLUX_SNO: tuple[float, float, float, float] = (5.25e6, 0.16e6, 0.11e6, 0.13e6)

#: Oscillation parameters of the three-flavour fit in the same SNO abstract (arXiv:1109.0763)
#: [verified]: Delta m21^2 = 7.46e-5 eV^2, tan^2 theta12 = 0.443, sin^2 theta13 = 2.49e-2; and
#: sin^2 theta23 = 0.54 (IceCube DeepCore, arXiv:2405.02163, abstract, as in
#: zprime_atlas/data/nsi/oscillation_inputs.toml) [verified]. delta_CP is not read anywhere here:
#: 0 is a choice (docs/physics/solar_cevns.md: it moves f_mu - f_tau by a few percent).
OSCILLATION_SNO_2013: dict[str, float] = {
    "dm21_ev2": 7.46e-5,
    "tan2_theta12": 0.443,
    "sin2_theta13": 2.49e-2,
    "sin2_theta23": 0.54,
    "delta_cp_deg": 0.0,
    "dm31_ev2": 2.471e-3,  # Daya Bay, arXiv:1809.02261 abstract (oscillation_inputs.toml)
}


def _xenon131() -> tuple[int, int, float]:
    """(Z, N, mass [GeV]) of Xe-131 from the PDG nuclear code of the `particle` package."""
    mass = Particle.from_pdgid(1_000_000_000 + 10_000 * 54 + 10 * 131).mass
    if mass is None:  # pragma: no cover - the table has it
        raise ValueError("the PDG table of `particle` has no mass for Xe-131")
    return 54, 77, float(mass) * 1e-3


#: The single nucleus standing for natural xenon (an approximation: docs/physics/solar_cevns.md).
XE131: tuple[int, int, float] = _xenon131()


# -- source -------------------------------------------------------------------------------------


def b8_spectrum() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(E [GeV], lambda(E) [1/GeV]) of the 8B spectrum (Winter et al. 2006), normalised to 1.

    Read from ``zprime_atlas/data/solar/b8_spectrum_winter2006.csv`` (provenance in its header);
    normalised by its trapezoidal integral (999.991 in the table's units, i.e. 1e-3 per MeV).
    """
    header = "E_MeV,lambda_1e3_per_MeV,sigma_1e3_per_MeV"
    table = package_table("solar", "b8_spectrum_winter2006.csv", header)
    e = table[:, 0] * _MEV
    lam = np.clip(table[:, 1], 0.0, None)
    return e, lam / np.trapezoid(lam, e)


def _pmns_abs2(osc: dict[str, float]) -> NDArray[np.float64]:
    """|U_alpha i|^2 (PDG parametrisation) for the parameters ``osc``."""
    s12sq = osc["tan2_theta12"] / (1.0 + osc["tan2_theta12"])
    s12, s13, s23 = (math.sqrt(x) for x in (s12sq, osc["sin2_theta13"], osc["sin2_theta23"]))
    c12, c13, c23 = (math.sqrt(1.0 - x) for x in (s12sq, osc["sin2_theta13"], osc["sin2_theta23"]))
    ed = np.exp(1j * math.radians(osc["delta_cp_deg"]))
    u = np.array(
        [
            [c12 * c13, s12 * c13, s13 / ed],
            [-s12 * c23 - c12 * s23 * s13 * ed, c12 * c23 - s12 * s23 * s13 * ed, s23 * c13],
            [s12 * s23 - c12 * c23 * s13 * ed, -c12 * s23 - s12 * c23 * s13 * ed, c23 * c13],
        ]
    )
    return np.asarray(np.abs(u) ** 2, dtype=np.float64)


def flavour_fractions(
    E_nu: ArrayLike, osc: dict[str, float] | None = None, n_points: int = 16
) -> NDArray[np.float64]:
    """(f_e, f_mu, f_tau) at Earth of solar 8B nu_e of energy E_nu [GeV]: shape E.shape + (3,).

    Adiabatic LMA-MSW: a nu_e born at electron density n_e leaves the Sun as the mass-state mixture
    P_1 = c13m^2 cos^2 theta12m, P_2 = c13m^2 sin^2 theta12m, P_3 = s13m^2 (matter angles at the
    production point, as in :func:`zprime_atlas.solar.survival_probability` without NSI) and
    arrives as an incoherent mixture of mass states: f_alpha = sum_i P_i |U_alpha i|^2. Averaged
    over ``n_points`` equal-weight points of the 8B production distribution (BS05(AGS,OP)).
    """
    osc = OSCILLATION_SNO_2013 if osc is None else osc
    e = np.asarray(E_nu, dtype=np.float64)[..., None]
    ne, _ = production_points("b8", n_points)
    v = potential_cc(ne)  # (n_points,)
    theta13 = math.asin(math.sqrt(osc["sin2_theta13"]))
    s12sq = osc["tan2_theta12"] / (1.0 + osc["tan2_theta12"])
    cos2_12, sin2_12 = 1.0 - 2.0 * s12sq, 2.0 * math.sqrt(s12sq * (1.0 - s12sq))
    a13 = 2.0 * e * v / (osc["dm31_ev2"] * 1e-18)
    c2, s2 = math.cos(2.0 * theta13), math.sin(2.0 * theta13)
    cos2_13m = (c2 - a13) / np.hypot(c2 - a13, s2)
    c13m2, s13m2 = 0.5 * (1.0 + cos2_13m), 0.5 * (1.0 - cos2_13m)
    k = osc["dm21_ev2"] * 1e-18 / (2.0 * e)
    diag = k * cos2_12 - v * c13m2
    cos2m = diag / np.hypot(diag, k * sin2_12)
    p = np.stack([c13m2 * 0.5 * (1 + cos2m), c13m2 * 0.5 * (1 - cos2m), s13m2 * np.ones_like(cos2m)], -1)
    p = p.mean(axis=-2)  # average over the production points: (..., 3 mass states)
    return np.asarray(p @ _pmns_abs2(osc).T, dtype=np.float64)


# -- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class B8Measurement:
    """A measured 8B flux from xenon CEvNS and the detector channels it comes from.

    ``flux`` = (value, error+, error-) in cm^-2 s^-1; ``channels`` = ((T_threshold [GeV], weight),
    ...), the weights the share of the fitted 8B signal in each channel.
    """

    name: str
    experiment: str
    title: str
    citation: tuple[str, ...]
    journal: str
    flux: tuple[float, float, float]
    channels: tuple[tuple[float, float], ...]
    source: str


#: XENONnT, arXiv:2408.02877 abstract [verified]: "37 observed events above 0.5 keV" (read as
#: nuclear-recoil energy: the abstract measures nuclear recoils but does not qualify the unit),
#: "measured 8B solar neutrino flux of (4.7 +3.6 -2.3) x 10^6 cm^-2 s^-1".
XENONNT_2024 = B8Measurement(
    name="xenonnt_2024_b8",
    experiment="XENONnT",
    title="XENONnT 2024: solar 8B CEvNS on xenon (measured flux vs SNO)",
    citation=("2408.02877", "1109.0763"),
    journal="Phys. Rev. Lett. 133 (2024) 191002",
    flux=(4.7e6, 3.6e6, 2.3e6),
    channels=((0.5 * _KEV, 1.0),),
    source="arXiv:2408.02877 abstract: flux (4.7 +3.6 -2.3)e6 cm^-2 s^-1, events above 0.5 keV",
)

#: PandaX-4T commissioning + Run0, arXiv:2407.10892 abstract [verified]: thresholds "approximately
#: 1.1 keV (0.33 keV) nuclear recoil energy" for the paired (US2) data, "best-fit 8B neutrino signal
#: of 3.5 (75) events", "solar 8B neutrino flux of (8.4 +- 3.1) x 10^6 cm^-2 s^-1".
PANDAX4T_2024 = B8Measurement(
    name="pandax4t_2024_b8",
    experiment="PandaX-4T",
    title="PandaX-4T 2024: solar 8B CEvNS on xenon (measured flux vs SNO)",
    citation=("2407.10892", "1109.0763"),
    journal="Phys. Rev. Lett. 133 (2024) 191001",
    flux=(8.4e6, 3.1e6, 3.1e6),
    channels=((1.1 * _KEV, 3.5), (0.33 * _KEV, 75.0)),
    source=(
        "arXiv:2407.10892 abstract: flux (8.4 +- 3.1)e6 cm^-2 s^-1; paired (1.1 keVnr, 3.5 signal "
        "events) and US2 (0.33 keVnr, 75 signal events)"
    ),
)


# -- the constraint -----------------------------------------------------------------------------


class SolarB8CEvNS(QuadraticRateShift, Constraint):
    """Solar 8B CEvNS on xenon: R = N(SM + X)/N(SM) against Phi_meas/Phi_SNO (module docstring).

    Parameters
    ----------
    measurement
        :data:`XENONNT_2024` or :data:`PANDAX4T_2024` (or any :class:`B8Measurement`).
    cl
        Confidence level of the one-parameter Delta chi^2 test; default 0.90.
    oscillation
        Oscillation parameters (default :data:`OSCILLATION_SNO_2013`).
    """

    _CACHE_SIZE = 32
    _N_ENERGY = 1601
    _ORDER = 12

    def __init__(
        self,
        measurement: B8Measurement,
        cl: float = 0.90,
        oscillation: dict[str, float] | None = None,
    ) -> None:
        if not 0.0 < cl < 1.0:
            raise ValueError(f"confidence level must lie in (0, 1), got {cl!r}")
        self.measurement = measurement
        self.oscillation = dict(OSCILLATION_SNO_2013 if oscillation is None else oscillation)
        self.dchi2_crit = delta_chi2_critical(cl)
        z, n, mass = XE131
        self.Z, self.N, self.M = z, n, mass
        self.weak_charge = n - (1.0 - 4.0 * SIN2_THETA_W_LOW) * z
        self._setup_kernels()
        self._setup_statistics()
        self._cache: dict[bytes, tuple[NDArray, NDArray]] = {}
        thresholds = ", ".join(f"{1e6 * t:g} keV (weight {w:g})" for t, w in measurement.channels)
        self.info = ConstraintInfo(
            name=measurement.name,
            title=measurement.title,
            citation=measurement.citation,
            mass_range=(1e-6, 10.0),
            cl=float(cl),
            notes=(
                f"CEvNS of solar 8B neutrinos on xenon (one nucleus, Xe-131) with an X exchange "
                f"(propagator 1/(2MT + m_X^2)), Winter et al. 8B spectrum, Helm form factor, "
                f"adiabatic MSW flavour fractions (f_e = {self.mean_fractions[0]:.3f}, f_mu = "
                f"{self.mean_fractions[1]:.3f}, f_tau = {self.mean_fractions[2]:.3f}, SM-rate "
                f"weighted). R = N(SM+X)/N(SM) above the nuclear-recoil threshold(s) {thresholds}, "
                f"step efficiency (not the published one). R_meas = Phi_meas/Phi_SNO = "
                f"{self.r_meas:.3f} (+{self.sigma_up:.3f} -{self.sigma_down:.3f}); Delta chi^2 "
                f"= chi^2(R) - chi^2(1) clipped at 0, crit {self.dchi2_crit:.3f}; excluded when R >= "
                f"{1 + self.d_hi:.3f} or R <= {1 + self.d_lo:.3f}. Not verified: the 8B spectrum is "
                "a second-hand copy of the paper's table, the efficiency is a step, delta_CP = 0 "
                "is a choice, natural xenon is one nucleus. docs/physics/solar_cevns.md"
            ),
            verified=False,
            journal=measurement.journal,
            extra={
                "experiment": measurement.experiment,
                "r_meas": f"{self.r_meas:.5f}",
                "source": measurement.source,
            },
            kind="neutrino",
            experiment=measurement.experiment,
            year=2024,
        )

    # -- set-up ---------------------------------------------------------------------------------

    def _setup_kernels(self) -> None:
        """Per-flavour recoil weights W_alpha(T) on Gauss-Legendre nodes, per channel (cm^2/GeV)."""
        e_tab, lam_tab = b8_spectrum()
        e = np.linspace(e_tab[1], e_tab[lam_tab > 0][-1] + (e_tab[1] - e_tab[0]), self._N_ENERGY)
        lam = np.interp(e, e_tab, lam_tab)
        f = flavour_fractions(e, self.oscillation)  # (n_E, 3)
        e_max = float(e[-1])
        t_max = 2.0 * e_max**2 / self.M
        m = self.M
        self.channels = self.measurement.channels
        self._t_nodes: list[NDArray[np.float64]] = []
        self._w_nodes: list[NDArray[np.float64]] = []  # (3, n_T) per channel, dimension cm^2/GeV
        n_sm = []
        for t_thr, _ in self.channels:
            if not 0.0 < t_thr < t_max:
                raise ValueError(f"threshold {t_thr!r} GeV is outside (0, {t_max:.3g}) GeV")
            breaks = np.geomspace(t_thr, t_max, 9)
            t, w = gauss_legendre_panels(breaks, self._ORDER)
            kin = np.clip(1.0 - m * t[:, None] / (2.0 * e[None, :] ** 2), 0.0, None)  # (n_T, n_E)
            s = np.trapezoid(kin[:, :, None] * (lam[:, None] * f)[None, :, :], e, axis=1)  # (n_T, 3)
            q = np.sqrt(2.0 * m * t)
            form = helm_form_factor(q, self.Z + self.N) ** 2
            xsec = G_FERMI**2 * m / (4.0 * math.pi) * HBARC_GEV_CM**2 * form  # cm^2 / GeV
            weights = (xsec * w)[None, :] * s.T  # (3, n_T)
            self._t_nodes.append(t)
            self._w_nodes.append(weights)
            n_sm.append(self.weak_charge**2 * float(weights.sum()))
        #: SM flux-weighted cross section above each threshold [cm^2] (per 8B neutrino, per nucleus).
        self.sm_cross_section: tuple[float, ...] = tuple(n_sm)
        total_w = sum(w for _, w in self.channels)
        self._channel_weights = [w / total_w / n for (_, w), n in zip(self.channels, n_sm, strict=True)]
        per_flavour = sum(
            cw * self.weak_charge**2 * wn.sum(axis=1)
            for cw, wn in zip(self._channel_weights, self._w_nodes, strict=True)
        )
        #: SM-rate-weighted flavour fractions (f_e, f_mu, f_tau) of the detected events.
        self.mean_fractions = np.asarray(per_flavour, dtype=np.float64)

    def _setup_statistics(self) -> None:
        value, up, down = self.measurement.flux
        sno, stat, syst_up, syst_down = B8_FLUX_SNO
        rel_sno = math.hypot(stat, max(syst_up, syst_down)) / sno
        self.r_meas = value / sno
        self.sigma_up = math.hypot(up / sno, self.r_meas * rel_sno)
        self.sigma_down = math.hypot(down / sno, self.r_meas * rel_sno)
        self.chi2_sm = float(self._chi2(np.asarray(1.0)))
        half = math.sqrt(self.dchi2_crit + self.chi2_sm)
        #: Excluded when R - 1 >= d_hi or R - 1 <= d_lo.
        self.d_hi = self.r_meas + self.sigma_up * half - 1.0
        self.d_lo = self.r_meas - self.sigma_down * half - 1.0

    # -- kernels --------------------------------------------------------------------------------

    def kernels(self, m_X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(k1, k2), each m_X.shape + (3,): sum_c w_c int W_alpha,c / (2MT + m^2)^p dT / N_SM,c.

        In GeV^-2 and GeV^-4; cached per set of distinct masses.
        """
        m = as_mass(m_X)
        uniq, inverse = np.unique(m.ravel(), return_inverse=True)

        def compute() -> tuple[NDArray, NDArray]:
            k1 = np.zeros((uniq.size, 3))
            k2 = np.zeros((uniq.size, 3))
            m2 = uniq[:, None] ** 2
            for cw, t, wn in zip(self._channel_weights, self._t_nodes, self._w_nodes, strict=True):
                prop = 1.0 / (2.0 * self.M * t[None, :] + m2)  # (n_m, n_T)
                k1 += cw * prop @ wn.T
                k2 += cw * (prop * prop) @ wn.T
            return k1, k2

        hit = remembered(self._cache, uniq.tobytes(), compute, self._CACHE_SIZE)
        shape = (*m.shape, 3)
        return hit[0][inverse].reshape(shape), hit[1][inverse].reshape(shape)

    # -- physics --------------------------------------------------------------------------------

    def _p_coefficients(self, model: Model, mix: Mixing) -> tuple[NDArray, NDArray]:
        """p = a g^2 + b g, p = g_X (Z g_p + N g_n) (vector nucleon charges, eps e on the proton)."""
        x_u, x_d = model.charge("u"), model.charge("d")
        nuc = self.Z * (2.0 * x_u + x_d) + self.N * (x_u + 2.0 * x_d)
        if mix.proportional:
            over_g = np.real(np.asarray(mix.over_g(model, 0.0)))
            return nuc + E_CHARGE * self.Z * over_g, np.zeros(())
        return nuc, E_CHARGE * self.Z * mix.fixed_eps()

    def _beta_gamma(self, m: NDArray, model: Model) -> tuple[NDArray, NDArray]:
        k1, k2 = self.kernels(m)
        x = [model.charge(fl) for fl in FLAVOURS]
        beta = -2.0 * self.weak_charge * _SQRT2_OVER_GF * sum(xa * k1[..., a] for a, xa in enumerate(x))
        gamma = _SQRT2_OVER_GF**2 * sum(xa * xa * k2[..., a] for a, xa in enumerate(x))
        return np.asarray(beta), np.asarray(gamma)

    def _chi2(self, r: NDArray) -> NDArray[np.float64]:
        d = np.asarray(r, dtype=np.float64) - self.r_meas
        sigma = np.where(d > 0, self.sigma_up, self.sigma_down)
        return np.asarray((d / sigma) ** 2, dtype=np.float64)

    def delta_chi2(self, shift: ArrayLike) -> NDArray[np.float64]:
        """chi^2(1 + shift) - chi^2(1), clipped at 0 (two-piece Gaussian in R)."""
        return np.maximum(self._chi2(1.0 + np.asarray(shift, dtype=np.float64)) - self.chi2_sm, 0.0)

    def _compiled_ratio(self, a: ArrayLike, b: ArrayLike, beta: ArrayLike, gamma: ArrayLike
                        ) -> CompiledRatio | None:  # fmt: skip
        """The two-piece Gaussian of :meth:`delta_chi2` as the kernel's ``two_piece_shift``."""
        own = all(getattr(type(self), k) is getattr(SolarB8CEvNS, k) for k in ("delta_chi2", "_chi2"))
        if not own:
            return None
        return CompiledRatio("two_piece_shift", (a, b, beta, gamma),
                             (self.r_meas, self.sigma_up, self.sigma_down, self.chi2_sm,
                              self.dchi2_crit))  # fmt: skip


def xenonnt_2024_b8(cl: float = 0.90) -> SolarB8CEvNS:
    """``xenonnt_2024_b8``: XENONnT 8B CEvNS (arXiv:2408.02877)."""
    return SolarB8CEvNS(XENONNT_2024, cl=cl)


def pandax4t_2024_b8(cl: float = 0.90) -> SolarB8CEvNS:
    """``pandax4t_2024_b8``: PandaX-4T 8B CEvNS (arXiv:2407.10892)."""
    return SolarB8CEvNS(PANDAX4T_2024, cl=cl)


def __dir__() -> list[str]:
    return list(__all__)
