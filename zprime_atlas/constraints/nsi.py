r"""``nsi_oscillation``: the matter effect of X on solar and atmospheric neutrino oscillations.

Physics (docs/physics/nsi.md). Forward scattering has q = 0, so for every mass of the atlas
(m_X >> 1/R_sun) X exchange is a contact interaction. A vector-like U(1)_X gives flavour-diagonal
NSI only. Normalised to the electron density of the medium,

    eps_aa(r) = kappa x_a q(r),   kappa = g_X^2 / (sqrt2 G_F m_X^2),   q(r) = x_e + x_B (1 + Y_n(r)),

with Y_n = n_n / n_e of the medium (kinetic mixing cancels: the proton's +eps e and the electron's
-eps e meet in neutral matter). Oscillations see D_e = eps_ee - eps_mumu ∝ (x_e - x_mu) and
D_tau = eps_tautau - eps_mumu ∝ (x_tau - x_mu): one direction per model, one parameter kappa.

The test is a one-parameter Delta chi^2 along that direction:

- **Sun** (Y_n ~ 0.47 in the core, radial profile of the BS05(AGS,OP) standard solar model): the
  adiabatic MSW survival probability (:mod:`zprime_atlas.solar`) with D_eff(r) = c13^2 D_e(r)
  - (s23^2 - s13^2 c23^2) D_tau(r) = w0 + w1 Y_n(r), averaged over each flux's production region,
  against measured P_ee (Borexino 7Be; SNO's P_ee(E) polynomial for 8B), profiled over theta12 with
  KamLAND's reactor-only theta12 (both octants: LMA and LMA-D are both tried; the data decide).
  The solar Delta chi^2 is tabulated once on a grid in (w0, w1) and interpolated.
- **Earth** (Y_n = 1.0491, computed from PREM: data/nsi/generate_earth_yn.py): published
  atmospheric intervals on D_tau (or D_e), each taken as a
  Gaussian in D with its quoted CL: Delta chi^2 = crit(CL) (D / edge)^2.

r = max(Delta chi^2_sun + Delta chi^2_atm, 0) / crit(95%, 1 dof). Inputs and their sources:
``data/nsi/oscillation_inputs.toml`` (swap in newer data with ``NSIOscillation(inputs=path)``).

Approximations, stated: the s13 s23 c23 D_tau off-diagonal term of the solar 2x2 Hamiltonian is
neglected in the table (it is O(s13) of the D_tau term that is kept); Delta m21^2 is fixed at KamLAND's
best fit; no Earth regeneration; the detection cross sections of the solar experiments are SM
(X exchange in nu-e scattering is the ``borexino`` constraint's business); atmospheric intervals
are one-at-a-time (others zero) and treated as Gaussian.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _kernels
from .._validate import as_coupling, as_mass
from ..constants import G_FERMI, Y_N_EARTH
from ..couplings import Mixing, effective_couplings
from ..models import Model
from ..solar import production_points, survival_probability
from .base import Constraint, ConstraintInfo, PointForm, _at_points
from .solve import Intervals, delta_chi2_critical, intervals_by_scan

__all__ = [
    "AtmosphericBound",
    "NSIInputs",
    "NSIOscillation",
    "SolarChi2",
    "earth_nsi",
    "load_inputs",
    "model_direction",
]

_SQRT2_GF = math.sqrt(2.0) * G_FERMI
_MEV = 1e-3
_BLOCK = 1 << 15  # elements per block of the fast NSI evaluation (NSIOscillation._blocks)


def _leading(a: ArrayLike, nd: int) -> NDArray:
    """``a`` as an array of ``nd`` dimensions (leading axes of length 1 added, as broadcasting does)."""
    arr = np.asarray(a)
    return arr.reshape((1,) * (nd - arr.ndim) + arr.shape)


def _rows(a: NDArray, sl: slice) -> NDArray:
    """Rows ``sl`` of the first axis of ``a``, or ``a`` itself when that axis is broadcast (length 1)."""
    return a if a.shape[0] == 1 else a[sl]


# -- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SolarPoint:
    """A measured solar nu_e survival probability at one energy [GeV] of one flux."""

    label: str
    arxiv: str
    flux: str
    energy: float
    p_ee: float
    sigma: float


@dataclass(frozen=True)
class SNOPolynomial:
    """SNO's fitted P_ee(E) = c0 + c1 (E - E0) + c2 (E - E0)^2 (E in MeV) with its covariance."""

    arxiv: str
    flux: str
    expansion_MeV: float
    fit_energies_MeV: NDArray[np.float64]
    values: NDArray[np.float64]
    inverse_covariance: NDArray[np.float64]


@dataclass(frozen=True)
class AtmosphericBound:
    """A published interval on D_tau ("tautau_minus_mumu") or D_e ("ee_minus_mumu") in Earth matter."""

    label: str
    arxiv: str
    quantity: str
    interval: tuple[float, float]  # per electron (converted from the source's normalisation)
    interval_cl: float


@dataclass(frozen=True)
class NSIInputs:
    """Everything the NSI test reads (one TOML file; see ``data/nsi/oscillation_inputs.toml``)."""

    path: str
    cl: float
    status: str
    dm21_ev2: float
    tan2_theta12: float
    tan2_theta12_err: tuple[float, float]
    theta13: float
    dm31_ev2: float
    theta23: float
    solar: tuple[SolarPoint, ...]
    sno: SNOPolynomial | None
    atmospheric: tuple[AtmosphericBound, ...]
    y_n_earth: float
    arxiv: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def _require(raw: dict, key: str, where: str) -> dict:
    """The table ``[key]`` of an inputs file, or one sentence naming what is missing."""
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"NSI inputs file {where}: missing table [{key}]")
    return value


def load_inputs(path: str | Path | None = None) -> NSIInputs:
    """Read an NSI inputs file (default: the bundled ``data/nsi/oscillation_inputs.toml``)."""
    if path is None:
        return _default_inputs()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read NSI inputs file {p}: {exc.strerror}") from None
    return _parse_inputs(text, str(p))


@cache
def _default_inputs() -> NSIInputs:
    text = resources.files("zprime_atlas").joinpath("data", "nsi", "oscillation_inputs.toml").read_text()
    return _parse_inputs(text, "oscillation_inputs.toml")


def _parse_inputs(text: str, where: str) -> NSIInputs:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"NSI inputs file {where} is not valid TOML: {exc}") from None
    kl = _require(raw, "kamland", where)
    t13 = _require(raw, "theta13", where)
    t23 = _require(raw, "theta23", where)
    y_n = float(raw.get("earth", {}).get("y_n", Y_N_EARTH))
    arxiv = [str(kl["arxiv"]), str(t13["arxiv"]), str(t23["arxiv"])]
    solar = []
    for item in raw.get("solar", []):
        solar.append(SolarPoint(str(item["label"]), str(item["arxiv"]), str(item["flux"]),
                                float(item["energy_MeV"]) * _MEV, float(item["p_ee"]),
                                float(item["sigma"])))  # fmt: skip
        arxiv.append(str(item["arxiv"]))
    sno = None
    if "sno" in raw:
        s = raw["sno"]
        sigma = np.hypot(np.asarray(s["stat"], float), np.asarray(s["syst"], float))
        cov = np.asarray(s["correlation"], float) * np.outer(sigma, sigma)
        lo, hi = (float(v) for v in s["fit_range_MeV"])
        sno = SNOPolynomial(str(s["arxiv"]), str(s["flux"]), float(s["expansion_MeV"]),
                            np.linspace(lo, hi, 6), np.asarray(s["values"], float),
                            np.linalg.inv(cov))  # fmt: skip
        arxiv.append(str(s["arxiv"]))
    atmospheric = []
    for item in raw.get("atmospheric", []):
        quantity = str(item["quantity"])
        if quantity not in ("tautau_minus_mumu", "ee_minus_mumu"):
            raise ValueError(f"NSI inputs file {where}: unknown atmospheric quantity {quantity!r}")
        norm = str(item.get("normalisation", "e"))
        factor = {"e": 1.0, "d": 1.0 + 2.0 * y_n}.get(norm)
        if factor is None:
            raise ValueError(f"NSI inputs file {where}: normalisation must be 'e' or 'd', got {norm!r}")
        lo, hi = (float(v) * factor for v in item["interval"])
        if not lo < 0 < hi:
            raise ValueError(f"NSI inputs file {where}: interval of {item['label']} must contain 0")
        atmospheric.append(AtmosphericBound(str(item["label"]), str(item["arxiv"]), quantity,
                                            (lo, hi), float(item["interval_cl"])))  # fmt: skip
        arxiv.append(str(item["arxiv"]))
    if not solar and sno is None:
        raise ValueError(f"NSI inputs file {where}: no solar data ([[solar]] or [sno])")
    return NSIInputs(
        path=where,
        cl=float(raw.get("cl", 0.95)),
        status=str(raw.get("status", "unverified")),
        dm21_ev2=float(kl["dm21_ev2"]),
        tan2_theta12=float(kl["tan2_theta12"]),
        tan2_theta12_err=(float(kl["tan2_theta12_err"][0]), float(kl["tan2_theta12_err"][1])),
        theta13=0.5 * math.asin(math.sqrt(float(t13["sin2_2theta13"]))),
        dm31_ev2=float(t13["dm31_ev2"]),
        theta23=math.asin(math.sqrt(float(t23["sin2_theta23"]))),
        solar=tuple(solar),
        sno=sno,
        atmospheric=tuple(atmospheric),
        y_n_earth=y_n,
        arxiv=tuple(dict.fromkeys(arxiv)),
    )


# -- the model direction -----------------------------------------------------------------------------


def model_direction(model: Model, y_n_earth: float = Y_N_EARTH) -> dict[str, NDArray[np.float64]]:
    """Charge combinations that fix a model's NSI per unit kappa = g_X^2/(sqrt2 G_F m_X^2).

    ``a = x_e - x_mu``, ``b = x_tau - x_mu`` (flavour differences of the neutrino charges),
    ``q0 = x_e + x_B`` and ``qn = x_B`` (matter charge per electron q = q0 + qn Y_n), and the Earth
    charge ``q_earth = q0 + qn Y_n(Earth)``. Arrays over the model batch.
    """
    g = effective_couplings(model, 1.0, fermions=("e", "u", "d", "nu_e", "nu_mu", "nu_tau"))
    x_e, x_u, x_d = (np.real(np.asarray(g[f], dtype=float)) for f in ("e", "u", "d"))
    x_p, x_n = 2.0 * x_u + x_d, x_u + 2.0 * x_d  # proton and neutron charges
    nu = {k: np.real(np.asarray(g[f"nu_{k}"], dtype=float)) for k in ("e", "mu", "tau")}
    q0, qn = x_e + x_p, x_n
    q_earth = _cancel(q0 + qn * y_n_earth, np.abs(q0) + np.abs(qn * y_n_earth))
    return {
        "a": nu["e"] - nu["mu"],
        "b": nu["tau"] - nu["mu"],
        "q0": q0,
        "qn": qn,
        "q_earth": q_earth,
    }


def _cancel(value: NDArray, size: NDArray) -> NDArray[np.float64]:
    """An exact cancellation gives 0, not round-off: drop what is below 1e-12 of the terms."""
    return np.where(np.abs(value) <= 1e-12 * size, 0.0, value)


def earth_nsi(
    model: Model,
    m_X: ArrayLike,
    g_X: ArrayLike,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    loop_scale: float | None = None,
) -> dict[str, NDArray[np.float64]]:
    """eps^E_aa for a = e, mu, tau in Earth matter (Y_n = 1.0491), normalised to electrons.

    eps^E_aa = g_nu_a [g_e + (2 + Y_n) g_u + (1 + 2 Y_n) g_d] / (sqrt2 G_F m_X^2), couplings at
    q^2 = 0 including kinetic mixing (which cancels). Keys ``ee``, ``mumu``, ``tautau``; GeV units.
    """
    m = as_mass(m_X)
    g = effective_couplings(model, g_X, eps=eps, eps_over_g=eps_over_g, loop_scale=loop_scale,
                            fermions=("e", "u", "d", "nu_e", "nu_mu", "nu_tau"))  # fmt: skip
    terms = (g["e"], (2.0 + Y_N_EARTH) * g["u"], (1.0 + 2.0 * Y_N_EARTH) * g["d"])
    size = np.abs(terms[0]) + np.abs(terms[1]) + np.abs(terms[2])
    matter = _cancel(np.real(terms[0] + terms[1] + terms[2]), size)
    scale = 1.0 / (_SQRT2_GF * m * m)
    return {
        "ee": g["nu_e"] * matter * scale,
        "mumu": g["nu_mu"] * matter * scale,
        "tautau": g["nu_tau"] * matter * scale,
    }


# -- the solar chi^2 table ------------------------------------------------------------------------


class SolarChi2:
    """Delta chi^2 of the solar data for D_eff(r) = w0 + w1 Y_n(r), profiled over theta12.

    Tabulated on a grid uniform in s = asinh(w / W_SCALE) / ln 10 (0 included, |w| up to 100, where
    the matter term dominates every energy and P_ee no longer changes) and interpolated bilinearly;
    beyond the grid the edge value is used. The tests compare it with a direct evaluation. For the
    bundled inputs the tables are shipped (``data/nsi/solar_chi2_tables.npz``, regenerated by
    ``data/nsi/generate_solar_table.py``, used only when :meth:`fingerprint` matches); other inputs
    are tabulated on first use (a few seconds).
    """

    W_SCALE = 2e-3
    S_MAX = 5.0
    N_HALF = 100

    def __init__(self, inputs: NSIInputs, solutions: str = "both") -> None:
        self.inputs = inputs
        n = self.N_HALF
        self.s_grid = np.linspace(-self.S_MAX, self.S_MAX, 2 * n + 1)
        self.w_grid = self.W_SCALE * np.sinh(self.s_grid * math.log(10.0))
        self.w_grid[n] = 0.0
        self.theta12 = self.theta12_grid(solutions)
        self.solutions = solutions
        stored = _stored_table(self.fingerprint(inputs, solutions), solutions)
        self.table = stored if stored is not None else self._tabulate()

    @staticmethod
    def theta12_grid(solutions: str) -> NDArray[np.float64]:
        """theta12 [rad] on 1-degree steps: both octants (LMA below 45 degrees, LMA-D above), or
        LMA only."""
        top = 75.0 if solutions == "both" else 45.0
        return np.radians(np.arange(15.0, top + 0.5, 1.0))

    @classmethod
    def fingerprint(cls, inputs: NSIInputs, solutions: str) -> str:
        """sha256 of everything a table depends on: the inputs the solar fit reads, the solar model
        file, the grids. A shipped table is used only when its fingerprint is this one."""
        inp = inputs
        parts = [
            repr((inp.dm21_ev2, inp.tan2_theta12, inp.tan2_theta12_err, inp.theta13, inp.dm31_ev2,
                  inp.theta23, inp.solar, inp.sno)),
            _solar_model_sha256(),
            repr((cls.W_SCALE, cls.S_MAX, cls.N_HALF, cls.theta12_grid(solutions).tolist())),
        ]  # fmt: skip
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    # chi^2 pieces ---------------------------------------------------------------------------------
    def _kamland_chi2(self, theta12: NDArray) -> NDArray[np.float64]:
        """Reactor theta12 prior: KamLAND measures sin^2 2theta12, so tan^2 is mirrored at 1."""
        t = np.tan(theta12) ** 2
        t = np.minimum(t, 1.0 / t)
        lo, hi = self.inputs.tan2_theta12_err
        d = t - self.inputs.tan2_theta12
        return (d / np.where(d < 0, lo, hi)) ** 2

    def _p_ee(self, flux: str, energy: NDArray, w0: NDArray, w1: NDArray, theta12: NDArray) -> NDArray:
        """Production-averaged P_ee; broadcast shape (*w.shape, theta, energy)."""
        inp = self.inputs
        ne, y_n = production_points(flux, 8)
        c13sq = math.cos(inp.theta13) ** 2
        d_eff = w0[..., None, None, None] + w1[..., None, None, None] * y_n  # (..., 1, 1, Q)
        p = survival_probability(
            energy[:, None], ne, theta12[:, None, None], inp.theta13, inp.theta23, inp.dm21_ev2,
            d_e=d_eff / c13sq, d_tau=0.0, dm31_ev2=inp.dm31_ev2,
        )  # fmt: skip
        return p.mean(axis=-1)

    def chi2(self, w0: ArrayLike, w1: ArrayLike) -> NDArray[np.float64]:
        """chi^2 of the solar data plus the KamLAND prior, per theta12 of the grid: (*w, theta)."""
        w0a, w1a = np.broadcast_arrays(np.asarray(w0, float), np.asarray(w1, float))
        inp = self.inputs
        total = np.broadcast_to(self._kamland_chi2(self.theta12), (*w0a.shape, len(self.theta12)))
        total = total.copy()
        for pt in inp.solar:
            p = self._p_ee(pt.flux, np.array([pt.energy]), w0a, w1a, self.theta12)[..., 0]
            total += ((p - pt.p_ee) / pt.sigma) ** 2
        if inp.sno is not None:
            sno = inp.sno
            e = sno.fit_energies_MeV
            p = self._p_ee(sno.flux, e * _MEV, w0a, w1a, self.theta12)  # (..., theta, E)
            x = e - sno.expansion_MeV
            design = np.stack([np.ones_like(x), x, x * x], axis=1)  # (E, 3)
            coef = p @ np.linalg.pinv(design).T  # least-squares quadratic: (..., theta, 3)
            d = coef - sno.values
            total += np.einsum("...i,ij,...j->...", d, sno.inverse_covariance, d)
        return total

    def _tabulate(self) -> NDArray[np.float64]:
        w = self.w_grid
        sm = float(np.min(self._profile(self.chi2(0.0, 0.0))))
        rows = [self._profile(self.chi2(w0, w)) for w0 in w]  # one row of w1 per w0 (101 rows)
        return np.array(rows) - sm

    def _profile(self, chi2_theta: NDArray) -> NDArray[np.float64]:
        """Minimum over theta12 with a parabola through the grid minimum and its neighbours."""
        i = np.clip(np.argmin(chi2_theta, axis=-1), 1, chi2_theta.shape[-1] - 2)
        y0 = np.take_along_axis(chi2_theta, (i - 1)[..., None], -1)[..., 0]
        y1 = np.take_along_axis(chi2_theta, i[..., None], -1)[..., 0]
        y2 = np.take_along_axis(chi2_theta, (i + 1)[..., None], -1)[..., 0]
        curv = y0 - 2.0 * y1 + y2
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.where(curv > 0, y1 - (y2 - y0) ** 2 / (8.0 * curv), y1)
        return np.minimum(vertex, y1)

    def delta_chi2_direct(self, w0: ArrayLike, w1: ArrayLike) -> NDArray[np.float64]:
        """Delta chi^2 without the table (slow; for tests and checks)."""
        sm = float(np.min(self._profile(self.chi2(0.0, 0.0))))
        return self._profile(self.chi2(w0, w1)) - sm

    def __call__(self, w0: ArrayLike, w1: ArrayLike) -> NDArray[np.float64]:
        """Delta chi^2 at (w0, w1), bilinear in the grid coordinates s."""
        ln10 = math.log(10.0)
        s0 = np.arcsinh(np.asarray(w0, float) / self.W_SCALE) / ln10
        s1 = np.arcsinh(np.asarray(w1, float) / self.W_SCALE) / ln10
        step = self.s_grid[1] - self.s_grid[0]
        u = np.clip((s0 + self.S_MAX) / step, 0.0, 2 * self.N_HALF)
        v = np.clip((s1 + self.S_MAX) / step, 0.0, 2 * self.N_HALF)
        i = np.minimum(u.astype(int), 2 * self.N_HALF - 1)
        j = np.minimum(v.astype(int), 2 * self.N_HALF - 1)
        fu, fv = u - i, v - j
        # the four corners by flat index: t.take(k) is several times faster than t[i, j]
        flat = np.ascontiguousarray(self.table).ravel()
        n1 = self.table.shape[1]
        k = i * n1 + j
        # mode="clip": a NaN input (index from NaN) gives NaN through fu, fv, never an IndexError
        t00, t10, t01, t11 = (flat.take(k + o, mode="clip") for o in (0, n1, 1, n1 + 1))
        return ((1 - fu) * (1 - fv) * t00 + fu * (1 - fv) * t10
                + (1 - fu) * fv * t01 + fu * fv * t11)  # fmt: skip


    def _corners(self) -> NDArray[np.float64]:
        """The four corners of every cell side by side: row k = i n1 + j (n1 = row length) holds
        t[i, j], t[i + 1, j], t[i, j + 1], t[i + 1, j + 1], so that one ``take`` of rows gathers all
        four (about 2.5 times faster than four gathers). Built once per table object."""
        cached = self.__dict__.get("_corner_cache")
        if cached is None or cached[0] is not self.table:
            flat = np.ascontiguousarray(self.table).ravel()
            n1 = self.table.shape[1]
            rows = flat.size - n1 - 1  # the last cell k = (n1 - 2) n1 + n1 - 2 is row rows - 1
            corners = np.stack([flat[o : o + rows] for o in (0, n1, 1, n1 + 1)], axis=1)
            cached = (self.table, corners)
            self.__dict__["_corner_cache"] = cached
        return cached[1]

    #: boxes of up to 2^(RANGE_LEVELS - 1) nodes per side are bounded by :meth:`box_range`
    RANGE_LEVELS = 6

    def _range_tables(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(min, max) of the table over every box of 2^a x 2^b nodes from node (i, j), a, b <
        RANGE_LEVELS (a two-dimensional sparse table: four look-ups bound any box). Built once per
        table object; NaN where the box would leave the table."""
        cached = self.__dict__.get("_range_cache")
        if cached is None or cached[0] is not self.table:
            t = np.asarray(self.table, dtype=np.float64)
            n0, n1 = t.shape
            levels = self.RANGE_LEVELS
            lo = np.full((levels, levels, n0, n1), np.nan)
            hi = np.full((levels, levels, n0, n1), np.nan)
            lo[0, 0], hi[0, 0] = t, t
            for a in range(levels):
                if a > 0:  # double the rows of level (a - 1, 0)
                    h = 1 << (a - 1)
                    lo[a, 0, : n0 - h] = np.fmin(lo[a - 1, 0, : n0 - h], lo[a - 1, 0, h:])
                    hi[a, 0, : n0 - h] = np.fmax(hi[a - 1, 0, : n0 - h], hi[a - 1, 0, h:])
                    lo[a, 0, n0 - (1 << a) + 1 :] = np.nan
                    hi[a, 0, n0 - (1 << a) + 1 :] = np.nan
                for b in range(1, levels):  # double the columns of level (a, b - 1)
                    w = 1 << (b - 1)
                    lo[a, b, :, : n1 - w] = np.fmin(lo[a, b - 1, :, : n1 - w], lo[a, b - 1, :, w:])
                    hi[a, b, :, : n1 - w] = np.fmax(hi[a, b - 1, :, : n1 - w], hi[a, b - 1, :, w:])
                    lo[a, b, :, n1 - (1 << b) + 1 :] = np.nan
                    hi[a, b, :, n1 - (1 << b) + 1 :] = np.nan
            cached = (self.table, lo, hi)
            self.__dict__["_range_cache"] = cached
        return cached[1], cached[2]

    def coordinate(self, w: NDArray) -> NDArray[np.float64]:
        """u = clip((asinh(w / W_SCALE) / ln 10 + S_MAX) / step, 0, 2 N_HALF): the table's row (or
        column) coordinate of w, the steps of :meth:`_lookup_into`."""
        step = self.s_grid[1] - self.s_grid[0]
        u = np.arcsinh(np.asarray(w, dtype=np.float64) / self.W_SCALE) / math.log(10.0)
        return np.clip((u + self.S_MAX) / step, 0.0, 2 * self.N_HALF)

    def box_range(self, u: tuple[NDArray, NDArray], v: tuple[NDArray, NDArray]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
        """Bounds (min, max) of the interpolated table along any path whose coordinates stay in
        [u0, u1] x [v0, v1] (either order): the nodes of every cell the path can enter, one cell
        more on each side (a coordinate computed along the path may round across a cell edge).
        NaN where the box is larger than 2^(RANGE_LEVELS - 1) nodes per side or not finite."""
        lo_t, hi_t = self._range_tables()
        top = 2 * self.N_HALF
        n1 = self.table.shape[1]
        levels = self.RANGE_LEVELS
        if _kernels.enabled(max(np.size(a) for a in (*u, *v))):  # the same in one compiled pass
            return _kernels.solar_box_range(*u, *v, lo_t, hi_t, top, levels)
        with np.errstate(invalid="ignore"):
            u_lo, u_hi = np.fmin(*u), np.fmax(*u)
            v_lo, v_hi = np.fmin(*v), np.fmax(*v)
            ok = np.isfinite(u_lo) & np.isfinite(u_hi) & np.isfinite(v_lo) & np.isfinite(v_hi)
            r0 = np.clip(np.floor(np.where(ok, u_lo, 0.0)) - 1, 0, top).astype(np.intp)
            r1 = np.clip(np.floor(np.where(ok, u_hi, 0.0)) + 2, 0, top).astype(np.intp)
            c0 = np.clip(np.floor(np.where(ok, v_lo, 0.0)) - 1, 0, top).astype(np.intp)
            c1 = np.clip(np.floor(np.where(ok, v_hi, 0.0)) + 2, 0, top).astype(np.intp)
        h, w = r1 - r0 + 1, c1 - c0 + 1
        ok &= (h <= 1 << (levels - 1)) & (w <= 1 << (levels - 1))
        a = np.where(ok, np.floor(np.log2(np.maximum(h, 1))), 0).astype(np.intp)
        b = np.where(ok, np.floor(np.log2(np.maximum(w, 1))), 0).astype(np.intp)
        rs = (r0, np.maximum(r1 - (1 << a) + 1, r0))
        cs = (c0, np.maximum(c1 - (1 << b) + 1, c0))
        base = (a * levels + b) * self.table.shape[0]
        lo_f, hi_f = lo_t.reshape(-1), hi_t.reshape(-1)
        low = np.full(np.shape(ok), np.inf)
        high = np.full(np.shape(ok), -np.inf)
        for r in rs:
            for c in cs:
                k = np.where(ok, (base + r) * n1 + c, 0)
                low = np.minimum(low, lo_f.take(k))  # NaN (never expected) propagates: undecided
                high = np.maximum(high, hi_f.take(k))
        return np.where(ok, low, np.nan), np.where(ok, high, np.nan)

    def _lookup_into(self, w0: NDArray, w1: NDArray, out: NDArray, work: _Work) -> None:
        """``out[...] = self(w0, w1)``, bit for bit, without temporaries (``w0``, ``w1`` and the
        scratch buffers of ``work`` are overwritten). The same steps as :meth:`__call__`:

            u = clip((asinh(w0 / W_SCALE) / ln 10 + S_MAX) / step, 0, 2 N_HALF),
            i = min(int(u), 2 N_HALF - 1),  fu = u - i  (v, j, fv likewise from w1),
            out = (1 - fu)(1 - fv) t[i, j] + fu (1 - fv) t[i+1, j]
                  + (1 - fu) fv t[i, j+1] + fu fv t[i+1, j+1].
        """
        ln10 = math.log(10.0)
        step = self.s_grid[1] - self.s_grid[0]
        top = 2 * self.N_HALF
        n1 = self.table.shape[1]
        # the indices as floats (exact integers): floor = int() for u >= 0, and u - float(i) is
        # what u - i computes; one conversion to an integer index for the flat cell k = i n1 + j
        fi, fj = work.a, work.b
        for w, idx in ((w0, fi), (w1, fj)):
            np.divide(w, self.W_SCALE, out=w)
            np.arcsinh(w, out=w)
            np.divide(w, ln10, out=w)
            np.add(w, self.S_MAX, out=w)
            np.divide(w, step, out=w)
            np.clip(w, 0.0, top, out=w)
            np.floor(w, out=idx)
            np.clip(idx, 0.0, top - 1, out=idx)  # = minimum(idx, top - 1): idx >= 0 already
            np.subtract(w, idx, out=w)  # fu, fv
        fu, fv = w0, w1
        np.multiply(fi, n1, out=fi)
        np.add(fi, fj, out=fi)
        k = work.k
        np.copyto(k, fi, casting="unsafe")
        # mode="clip": a NaN input (index from NaN) gives NaN through fu, fv, never an IndexError
        quad = self._corners().take(k, axis=0, mode="clip", out=work.quad)
        t00, t10, t01, t11 = (quad[..., c] for c in range(4))
        a, b = work.a, work.b
        np.subtract(1, fu, out=a)
        np.subtract(1, fv, out=b)
        np.multiply(a, b, out=out)
        np.multiply(out, t00, out=out)
        np.multiply(fu, b, out=b)
        np.multiply(b, t10, out=b)
        np.add(out, b, out=out)
        np.multiply(a, fv, out=a)
        np.multiply(a, t01, out=a)
        np.add(out, a, out=out)
        np.multiply(fu, fv, out=fu)
        np.multiply(fu, t11, out=fu)
        np.add(out, fu, out=out)


class _Work:
    """Scratch buffers for one block of the fast NSI evaluation, reused block after block: the
    coupling (``kappa``), the two solar coordinates, two weights, the four table corners (``quad``,
    one row per element) and the cell index."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._f = [np.empty(size) for _ in range(5)]
        self._quad = np.empty((size, 4))
        self._k = np.empty(size, dtype=np.intp)

    def shaped(self, shape: tuple[int, ...]) -> _Work:
        """The buffers viewed with ``shape`` (at most ``size`` elements; views, never copies)."""
        n = math.prod(shape)
        if n > self.size:
            raise ValueError(f"a block of {n} elements does not fit buffers of {self.size}")
        view = object.__new__(_Work)
        view.size = n
        view._f = [f[:n].reshape(shape) for f in self._f]
        view._quad = self._quad[:n].reshape(*shape, 4)
        view._k = self._k[:n].reshape(shape)
        return view

    @property
    def kappa(self) -> NDArray[np.float64]:
        return self._f[0]

    @property
    def w0(self) -> NDArray[np.float64]:
        return self._f[1]

    @property
    def w1(self) -> NDArray[np.float64]:
        return self._f[2]

    @property
    def a(self) -> NDArray[np.float64]:
        return self._f[3]

    @property
    def b(self) -> NDArray[np.float64]:
        return self._f[4]

    @property
    def quad(self) -> NDArray[np.float64]:
        return self._quad

    @property
    def k(self) -> NDArray[np.intp]:
        return self._k


_TABLES: dict[tuple[int, str], tuple[NSIInputs, SolarChi2]] = {}
#: tables by content: inputs equal in value (e.g. unpickled in a worker process, one copy per task)
#: share one table instead of building and keeping one per copy
_TABLES_BY_CONTENT: dict[tuple[str, str], SolarChi2] = {}
#: the identity-keyed entries kept (each holds its inputs, so no id is reused meanwhile)
_TABLES_KEPT = 16
#: distinct input sets whose tables are kept (a loop over edited inputs files stays bounded)
_CONTENTS_KEPT = 8


@cache
def _solar_model_sha256() -> str:
    """sha256 of the packaged solar model table (read once per process)."""
    path = resources.files("zprime_atlas").joinpath("data", "solar", "solar_model.csv")
    return hashlib.sha256(path.read_bytes()).hexdigest()
_STORED = "solar_chi2_tables.npz"


def _stored_table(fingerprint: str, solutions: str) -> NDArray[np.float64] | None:
    """The shipped solar Delta chi^2 table (``data/nsi/solar_chi2_tables.npz``, written by
    ``data/nsi/generate_solar_table.py``) when it was computed from exactly these inputs, else None
    (the table is then computed, a few seconds, on first use)."""
    path = resources.files("zprime_atlas").joinpath("data", "nsi", _STORED)
    if not path.is_file():
        return None
    with path.open("rb") as fh, np.load(fh) as data:
        if str(data[f"fingerprint_{solutions}"]) != fingerprint:
            return None
        return np.array(data[f"table_{solutions}"], dtype=np.float64)


def _solar_table(inputs: NSIInputs, solutions: str) -> SolarChi2:
    """The table of these inputs and octant choice: found by the inputs object (kept with its entry,
    so that its id cannot be reused), else by content (inputs equal in value share one table)."""
    key = (id(inputs), solutions)
    entry = _TABLES.get(key)
    if entry is None or entry[0] is not inputs:
        sno = inputs.sno
        exact = b"" if sno is None else b"".join(  # repr() of an array rounds to 8 digits
            np.ascontiguousarray(a, dtype=np.float64).tobytes()
            for a in (sno.fit_energies_MeV, sno.values, sno.inverse_covariance))
        content = (SolarChi2.fingerprint(inputs, solutions) + exact.hex(), solutions)
        table = _TABLES_BY_CONTENT.pop(content, None)
        if table is None:
            table = SolarChi2(inputs, solutions)
        _TABLES_BY_CONTENT[content] = table  # most recently used last
        while len(_TABLES_BY_CONTENT) > _CONTENTS_KEPT:  # ~25 MB each with the range tables
            del _TABLES_BY_CONTENT[next(iter(_TABLES_BY_CONTENT))]
        entry = (inputs, table)
        _TABLES[key] = entry
        while len(_TABLES) > _TABLES_KEPT:  # bounded: a worker unpickles new inputs every task
            del _TABLES[next(iter(_TABLES))]
    return entry[1]


# -- the constraint ----------------------------------------------------------------------------------


class NSIOscillation(Constraint):
    """``nsi_oscillation``: flavour-diagonal NSI of X vs solar and atmospheric oscillation data."""

    def __init__(
        self,
        inputs: NSIInputs | str | Path | None = None,
        reference: str = "best_fit",
        solutions: str = "both",
        scale: float = 1.0,
    ) -> None:
        """``inputs``: an inputs file (default: the bundled one). ``reference``: Delta chi^2 relative to
        the best fit along the model's direction (likelihood ratio) or to no X ("sm"). ``solutions``:
        theta12 in both octants (LMA and LMA-D) or LMA only. ``scale``: a sensitivity knob that
        loosens (> 1) or tightens (< 1) the allowed NSI by that factor (Delta chi^2 read at
        kappa / scale)."""
        if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        self.scale = float(scale)
        if reference not in ("best_fit", "sm"):
            raise ValueError(f"reference must be 'best_fit' or 'sm', got {reference!r}")
        if solutions not in ("both", "LMA"):
            raise ValueError(f"solutions must be 'both' or 'LMA', got {solutions!r}")
        self.inputs = inputs if isinstance(inputs, NSIInputs) else load_inputs(inputs)
        self.reference = reference
        self.solutions = solutions
        inp = self.inputs
        self.dchi2_crit = delta_chi2_critical(inp.cl)
        solar = ", ".join([p.label for p in inp.solar] + (["SNO 8B P_ee(E)"] if inp.sno else []))
        atm = ", ".join(a.label for a in inp.atmospheric) or "none"
        status = "VERIFIED" if inp.verified else f"not all read from the papers ({inp.status})"
        self.info = ConstraintInfo(
            name="nsi_oscillation",
            title="Matter effects of X on solar and atmospheric neutrino oscillations (NSI)",
            citation=inp.arxiv,
            mass_range=(1e-9, 1e4),
            cl=inp.cl,
            notes=(
                f"One-parameter Delta chi^2 along the model's flavour-diagonal NSI direction "
                f"(crit {self.dchi2_crit:.2f}). Sun (BS05(AGS,OP) profile, Y_n ~ 0.47 in the core): "
                f"{solar}, theta12 profiled with KamLAND (both octants). Earth (Y_n = "
                f"{inp.y_n_earth}): {atm}. Contact limit; kinetic mixing cancels in neutral "
                f"matter. Inputs: {status}; see the inputs file for each source."
            ),
            verified=inp.verified,
        )

    @property
    def solar(self) -> SolarChi2:
        """The solar Delta chi^2 table (computed on first use, a few seconds; then cached)."""
        return _solar_table(self.inputs, self.solutions)

    def _chi2_along(self, d: dict[str, NDArray], kappa: NDArray) -> NDArray[np.float64]:
        """chi^2(kappa) - chi^2(SM) along a model's direction (``d`` from :func:`model_direction`)."""
        inp = self.inputs
        c13sq = math.cos(inp.theta13) ** 2
        s13sq = math.sin(inp.theta13) ** 2
        s23sq, c23sq = math.sin(inp.theta23) ** 2, math.cos(inp.theta23) ** 2
        a_eff = c13sq * d["a"] - (s23sq - s13sq * c23sq) * d["b"]
        if not np.all(np.isfinite(kappa)):  # g^2/m^2 overflowed: a zero charge still means no NSI
            def product(*factors: NDArray) -> NDArray:
                out = kappa
                for f in factors:
                    out = np.where(f == 0, 0.0, out * f)
                return out
        else:
            def product(*factors: NDArray) -> NDArray:
                out = kappa
                for f in factors:
                    out = out * f
                return out

        total = self.solar(product(a_eff, d["q0"]), product(a_eff, d["qn"]))
        for atm in inp.atmospheric:
            diff = d["b"] if atm.quantity == "tautau_minus_mumu" else d["a"]
            value = product(diff, d["q_earth"])
            lo, hi = atm.interval
            edge = np.where(value >= 0, hi, lo)
            total = total + delta_chi2_critical(atm.interval_cl) * (value / edge) ** 2
        return total

    def best_fit(self, model: Model) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(kappa_best, chi^2_best - chi^2_SM) along each model's direction, kappa >= 0.

        kappa = g_X^2 / (sqrt2 G_F m_X^2); found on a log grid of 401 points from 1e-6 to 1e4 plus
        kappa = 0 (the SM), so chi^2_best - chi^2_SM <= 0.
        """
        return self._best_fit_of(model_direction(model, self.inputs.y_n_earth))

    def _best_fit_of(
        self, d: dict[str, NDArray], fast: bool = True
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`best_fit` for the direction ``d`` (:func:`model_direction`); ``fast=False``
        evaluates the chi^2 with the reference :meth:`_chi2_along` (the same numbers)."""
        along = self._chi2_along_fast if fast else self._chi2_along
        shape = np.broadcast_shapes(*(np.shape(v) for v in d.values()))
        # one row per direction (the models' axes flattened: the same numbers, element by
        # element, and the two axes the compiled chi^2 takes), reshaped back at the end
        d = {k: np.broadcast_to(v, shape).reshape(-1, 1) for k, v in d.items()}
        # the grid is in units of the model's charge products, so that it scales with the charges
        products = [np.abs(d[f] * d[q]) for f in ("a", "b") for q in ("q0", "qn", "q_earth")]
        size = np.maximum.reduce(products)
        size = np.where(size > 0, size, 1.0)
        grid = np.concatenate([[0.0], np.geomspace(1e-6, 1e4, 401)])
        chi = self._grid_chi2(d, grid, size) if fast else along(d, grid / size)
        i = np.argmin(chi, axis=-1)
        n_grid = grid.size
        # refine in log kappa: a parabola through the grid minimum and its neighbours
        j = np.clip(i, 2, n_grid - 2)
        y0, y1, y2 = (np.take_along_axis(chi, (j + o)[..., None], -1)[..., 0] for o in (-1, 0, 1))
        curv = y0 - 2.0 * y1 + y2
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curv > 0, 0.5 * (y0 - y2) / curv, 0.0)
        shift = np.clip(shift, -1.0, 1.0)
        step = math.log(1e10) / 400
        # kappa = grid / size at the columns j and i (the full (rows, grid) array is not needed)
        k_j = grid[j] / size[:, 0]
        k_i = grid[i] / size[:, 0]
        k_ref = k_j * np.exp(shift * step)
        chi_ref = along({k: v[..., 0] for k, v in d.items()}, k_ref)
        interior = (i >= 2) & (i <= n_grid - 2)
        better = interior & (chi_ref < np.take_along_axis(chi, i[..., None], -1)[..., 0])
        k_best = np.where(better, k_ref, k_i)
        chi_best = np.where(better, chi_ref, np.take_along_axis(chi, i[..., None], -1)[..., 0])
        return k_best.reshape(shape), np.minimum(chi_best, 0.0).reshape(shape)

    #: columns of the best-fit grid evaluated together by :meth:`_grid_chi2`
    GRID_COLUMNS = 32

    def _grid_chi2(self, d: dict[str, NDArray], grid: NDArray, size: NDArray) -> NDArray[np.float64]:
        """chi^2 at kappa = grid / size (``grid`` increasing from 0, ``size`` per row (rows, 1))
        where it can be a row's minimum or a neighbour of it, +inf elsewhere: the same grid
        minimum, its index and its neighbours' values as the full grid (:meth:`_chi2_along_fast`),
        bit for bit.

        chi^2 = solar + sum_n crit_n (kappa diff_n q_earth / edge_n)^2 >= floor + C kappa^2, with
        floor the table's smallest value (bilinear interpolation stays between its corners) and
        C = sum_n crit_n (diff_n q_earth / edge_n)^2. Where that bound exceeds chi^2 at kappa = 0,
        i.e. beyond kappa_max = sqrt((chi^2(0) - floor) / C), no column can be the minimum (the
        bound only grows along the row); the columns up to kappa_max and the one after (the
        refinement's neighbour) are evaluated, 32 at a time for the rows that reach them. The
        cut is widened by 1e-6 (rounding is ~1e-16 of its terms); a row with a non-finite cut
        is evaluated in full."""
        along = self._chi2_along_fast
        n_rows, n_cols = size.shape[0], grid.size
        f = self._factors(d)
        c_atm: NDArray = np.zeros((n_rows, 1))
        for n, atm in enumerate(self.inputs.atmospheric):
            unit = np.broadcast_to(f[f"diff{n}"] * f["q_earth"] / f[f"edge{n}"], (n_rows, 1))
            c_atm = c_atm + delta_chi2_critical(atm.interval_cl) * unit * unit
        floor = min(float(np.min(self.solar.table)), 0.0)
        first = along(d, grid[None, :1] / size)  # kappa = 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            reach = np.sqrt((first - floor) / c_atm) * size * (1.0 + 1e-6)  # in grid units
        reach = np.where(np.isfinite(reach), reach, np.inf)[:, 0]
        # columns [0, upto): the grid up to the cut, the neighbour after it, and at least 4 (the
        # refinement's window at the grid's start)
        upto = np.minimum(np.searchsorted(grid, reach, side="right") + 1, n_cols)
        upto = np.maximum(upto, min(4, n_cols))
        out = np.full((n_rows, n_cols), np.inf)
        step = self.GRID_COLUMNS
        for c0 in range(0, n_cols, step):
            c1 = min(c0 + step, n_cols)
            rows = np.flatnonzero(upto > c0)
            if not rows.size:
                break
            if rows.size == n_rows:
                out[:, c0:c1] = along(d, grid[None, c0:c1] / size)
            else:
                d_rows = {k: np.broadcast_to(v, (n_rows, 1))[rows] for k, v in d.items()}
                out[rows, c0:c1] = along(d_rows, grid[None, c0:c1] / size[rows])
        return out

    def delta_chi2(self, m_X: ArrayLike, g_X: ArrayLike, model: Model) -> NDArray[np.float64]:
        """Delta chi^2 (Sun + Earth) at (m_X [GeV], g_X) relative to the best fit along the model's
        direction (likelihood ratio, 1 dof; ``reference="sm"``: relative to no X)."""
        return self._delta_chi2_of(model)(as_mass(m_X), as_coupling(g_X))

    def _delta_chi2_of(
        self, model: Model, fast: bool = True
    ) -> Callable[[NDArray, NDArray], NDArray[np.float64]]:
        """Delta chi^2 as a function of (m_X, g_X) for one model batch (direction and best fit
        computed once). ``fast=False``: the reference formula (:meth:`_chi2_along` on whole arrays);
        the default evaluates the same steps block by block in reused buffers (bit for bit equal)."""
        d = model_direction(model, self.inputs.y_n_earth)
        best = self._best_fit_of(d, fast)[1] if self.reference == "best_fit" else 0.0

        if fast:
            def delta_fast(m: NDArray, g: NDArray) -> NDArray[np.float64]:
                return self._delta_fast(d, best, m, g, clip=False)

            return delta_fast

        def delta(m: NDArray, g: NDArray) -> NDArray[np.float64]:
            kappa = g * g / (_SQRT2_GF * m * m) / self.scale
            return self._chi2_along(d, kappa) - best

        return delta

    def _ratio(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        """r = max(Delta chi^2, 0) / crit. Kinetic mixing cancels in neutral matter: ``mix`` unused.

        Evaluated by :meth:`_delta_fast` (equal bit for bit to :meth:`_ratio_reference`)."""
        d = model_direction(model, self.inputs.y_n_earth)
        best = self._best_fit_of(d)[1] if self.reference == "best_fit" else 0.0
        return self._delta_fast(d, best, m, g, clip=True)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """kappa = g^2/(sqrt2 G_F m^2)/scale runs over [kappa_lo, kappa_hi] at a point, and both
        solar coordinates are monotonic in kappa: the solar Delta chi^2 stays between the table's
        extremes over the box of cells the path can cross (:meth:`SolarChi2.box_range`; bilinear
        interpolation never leaves its corners' range), and the atmospheric sum C kappa^2 between
        its values at the ends. Where the upper bound of Delta chi^2 is below crit, r < 1 at every
        coupling; where the lower bound reaches it, r >= 1 (margin 1e-9 of the terms' size; the
        rounding of the interpolation is ~1e-16 of it). r at the other points is :meth:`_ratio`'s
        arithmetic (:meth:`_delta_fast`) on the gathered inputs, bit for bit."""
        if type(self)._ratio is not NSIOscillation._ratio:
            return None
        d = model_direction(model, self.inputs.y_n_earth)
        f = self._factors(d)
        shape = np.shape(g2_max)
        solar = self.solar
        crit = self.dchi2_crit
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            den = _SQRT2_GF * m * m
            k_lo, k_hi = g2_min / den / self.scale, g2_max / den / self.scale
            ends = [(k * f["a_eff"] * f["q0"], k * f["a_eff"] * f["qn"]) for k in (k_lo, k_hi)]
            u = (solar.coordinate(ends[0][0]), solar.coordinate(ends[1][0]))
            v = (solar.coordinate(ends[0][1]), solar.coordinate(ends[1][1]))
            s_min, s_max = solar.box_range(u, v)
            c_atm: NDArray = np.zeros(())
            for n, atm in enumerate(self.inputs.atmospheric):
                unit = f[f"diff{n}"] * f["q_earth"] / f[f"edge{n}"]
                c_atm = c_atm + delta_chi2_critical(atm.interval_cl) * unit * unit
            chi_min = np.broadcast_to(s_min + c_atm * k_lo * k_lo, shape)
            chi_max = np.broadcast_to(s_max + c_atm * k_hi * k_hi, shape)
            size = np.abs(s_min) + np.abs(s_max) + c_atm * k_hi * k_hi

            def sides(best: ArrayLike) -> tuple[NDArray, NDArray]:
                """(below, above) for Delta chi^2 = chi^2 - best, best within the given bounds."""
                best_lo, best_hi = best if isinstance(best, tuple) else (best, best)
                margin = 1e-9 * (size + np.abs(best_lo) + crit)
                finite = np.isfinite(chi_min) & np.isfinite(chi_max) & np.isfinite(margin)
                return (finite & (chi_max - best_lo + margin < crit),
                        finite & (chi_min - best_hi - margin >= crit))  # fmt: skip

            if self.reference != "best_fit":
                best_b = np.zeros(shape)
                below, above = sides(0.0)
            else:
                # best = min over kappa >= 0 of chi^2, between the table's minimum (the atmospheric
                # term is >= 0) and 0 (kappa = 0): most points are decided without it, and the best
                # fit (a 402-point scan per model) is computed only for the models of the others
                floor = min(float(np.min(solar.table)), 0.0)
                below, above = sides((floor, 0.0))
                open_ = ~(below | above)[..., 0]
                rows: NDArray[np.intp] = (
                    np.flatnonzero(open_.any(axis=tuple(range(1, open_.ndim))) if open_.ndim > 1
                                   else open_)  # the models with an open point, in order
                    if open_.ndim else np.zeros(0, dtype=np.intp)
                )  # fmt: skip
                best_b = np.full(shape, np.nan)
                if rows.size:
                    lead = (shape[0],) + (1,) * (len(shape) - 1)
                    d_rows = {k: np.broadcast_to(val, lead)[rows] for k, val in d.items()}
                    best_b[rows] = np.broadcast_to(self._best_fit_of(d_rows)[1],
                                                   (rows.size, *shape[1:]))  # fmt: skip
                    exact_below, exact_above = sides(best_b)  # NaN (other models): neither
                    flags = np.zeros(shape[0], dtype=bool)
                    flags[rows] = True
                    known = flags.reshape(lead)
                    below = np.where(known, exact_below, below)
                    above = np.where(known, exact_above, above)

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            d_i = {k: _at_points(v, shape, index) for k, v in d.items()}
            return self._delta_fast(d_i, _at_points(best_b, shape, index), _at_points(m, shape, index),
                                    g, clip=True)  # fmt: skip

        return PointForm(below, above, ratio_at)

    def _ratio_reference(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        """:meth:`_ratio` by the reference formula on whole arrays (for tests and checks)."""
        return np.maximum(self._delta_chi2_of(model, fast=False)(m, g), 0.0) / self.dchi2_crit

    # the fast path --------------------------------------------------------------------------------
    def _factors(self, d: dict[str, NDArray]) -> dict[str, NDArray]:
        """Per-model factors of :meth:`_chi2_along`: ``a_eff`` = c13^2 a - (s23^2 - s13^2 c23^2) b,
        ``q0``, ``qn``, and per atmospheric bound i its flavour difference ``diff{i}``, ``q_earth``
        and ``edge{i}`` (the interval's end on the side of sign(diff q_earth): with kappa >= 0 the
        same choice as sign(kappa diff q_earth); where that is 0 the term is 0 either way)."""
        inp = self.inputs
        c13sq = math.cos(inp.theta13) ** 2
        s13sq = math.sin(inp.theta13) ** 2
        s23sq, c23sq = math.sin(inp.theta23) ** 2, math.cos(inp.theta23) ** 2
        out = {"a_eff": c13sq * d["a"] - (s23sq - s13sq * c23sq) * d["b"], "q0": d["q0"],
               "qn": d["qn"], "q_earth": d["q_earth"]}  # fmt: skip
        for n, atm in enumerate(inp.atmospheric):
            diff = d["b"] if atm.quantity == "tautau_minus_mumu" else d["a"]
            lo, hi = atm.interval
            out[f"diff{n}"] = diff
            out[f"edge{n}"] = np.where((np.asarray(diff) < 0) != (np.asarray(d["q_earth"]) < 0), lo, hi)
        return out

    def _chi2_block(self, f: dict[str, NDArray], work: _Work, out: NDArray) -> None:
        """``out[...] = _chi2_along(d, work.kappa)`` for one block (``f``: :meth:`_factors` of the
        block), step by step as there, in the buffers of ``work``:

            chi^2 = solar(kappa a_eff q0, kappa a_eff qn)
                    + sum_i crit_i (kappa diff_i q_earth / edge_i)^2

        where a product with a zero factor is 0 even when kappa is inf (g^2/m^2 overflowed)."""
        kappa = work.kappa
        exact_zero = not bool(np.isfinite(kappa).all())

        def product_into(dst: NDArray, *factors: NDArray, src: NDArray = kappa) -> NDArray:
            for fac in factors:
                np.multiply(src, fac, out=dst)
                if exact_zero:
                    np.copyto(dst, 0.0, where=np.asarray(fac) == 0)
                src = dst
            return dst

        product_into(work.w1, f["a_eff"])  # kappa a_eff, shared by both coordinates
        product_into(work.w0, f["q0"], src=work.w1)
        product_into(work.w1, f["qn"], src=work.w1)
        self.solar._lookup_into(work.w0, work.w1, out, work)
        value = work.a
        for n, atm in enumerate(self.inputs.atmospheric):
            product_into(value, f[f"diff{n}"], f["q_earth"])
            np.divide(value, f[f"edge{n}"], out=value)
            np.square(value, out=value)
            np.multiply(delta_chi2_critical(atm.interval_cl), value, out=value)
            np.add(out, value, out=out)

    def _per_row(self, lead: dict[str, NDArray], n_rows: int) -> dict[str, NDArray]:
        """The factors of :meth:`_factors` (each (rows or 1, 1)) as the compiled kernels take
        them, built once per evaluation: one value per row, the atmospheric bounds' flavour
        differences and interval ends stacked (bounds, rows), and their critical values."""

        def column(v: NDArray) -> NDArray[np.float64]:
            return np.ascontiguousarray(np.broadcast_to(v, (n_rows, 1))[:, 0], dtype=np.float64)

        atm = self.inputs.atmospheric
        out = {k: column(lead[k]) for k in ("a_eff", "q0", "qn", "q_earth")}
        out["diff"] = np.array([column(lead[f"diff{n}"]) for n in range(len(atm))]).reshape(-1, n_rows)
        out["edge"] = np.array([column(lead[f"edge{n}"]) for n in range(len(atm))]).reshape(-1, n_rows)
        out["crit"] = np.array([delta_chi2_critical(a.interval_cl) for a in atm], dtype=np.float64)
        return out

    def _chi2_block_compiled(self, f: dict[str, NDArray], work: _Work, out: NDArray) -> None:
        """:meth:`_chi2_block` for a block (rows, kappa values), ``f`` the block's rows of
        :meth:`_per_row`, by the compiled kernels (:func:`zprime_atlas._kernels.nsi_chi2`) around
        numpy's arcsinh: the same numbers, without a pass over the block per step."""
        solar = self.solar
        kappa = work.kappa
        _kernels.nsi_coordinates(kappa, f["a_eff"], f["q0"], f["qn"], solar.W_SCALE, work.w0,
                                 work.w1)  # fmt: skip
        np.arcsinh(work.w0, out=work.w0)
        np.arcsinh(work.w1, out=work.w1)
        _kernels.nsi_chi2(work.w0, work.w1, kappa, solar._corners(), math.log(10.0), solar.S_MAX,
                          float(solar.s_grid[1] - solar.s_grid[0]), float(2 * solar.N_HALF),
                          float(solar.table.shape[1]), f["diff"], f["q_earth"], f["edge"],
                          f["crit"], out)  # fmt: skip

    def _blocks(
        self, shape: tuple[int, ...], factors: dict[str, NDArray],
        kappa_into: Callable[[slice, NDArray], None], finish: Callable[[slice, NDArray], None] | None,
    ) -> NDArray[np.float64]:  # fmt: skip
        """Evaluate :meth:`_chi2_block` over ``shape`` in blocks of rows of the first axis (about
        ``_BLOCK`` elements each, so that the buffers stay in the processor's cache): ``kappa_into(rows,
        buffer)`` fills kappa of a block, ``finish(rows, chi2)`` post-processes it in place."""
        full = shape if shape else (1,)
        nd = len(full)
        lead = {k: _leading(v, nd) for k, v in factors.items()}
        out = np.empty(full)
        per = math.prod(full[1:])
        if out.size == 0:
            return out.reshape(shape)
        rows = max(1, min(full[0], _BLOCK // max(per, 1)))
        work = _Work(rows * per)
        # the compiled kernels take factors per row: (models or points, kappa values)
        compiled = (nd == 2 and all(v.shape[1] == 1 for v in lead.values())
                    and _kernels.enabled(out.size))  # fmt: skip
        per_row = self._per_row(lead, full[0]) if compiled else {}
        for start in range(0, full[0], rows):
            sl = slice(start, min(start + rows, full[0]))
            block = out[sl]
            w = work.shaped(block.shape)
            kappa_into(sl, w.kappa)
            if compiled:
                # the block's rows (the last axis of every factor; the critical values per bound)
                f = {k: v if k == "crit" else v[..., sl] for k, v in per_row.items()}
                self._chi2_block_compiled(f, w, block)
            else:
                self._chi2_block({k: _rows(v, sl) for k, v in lead.items()}, w, block)
            if finish is not None:
                finish(sl, block)
        return out.reshape(shape)

    def _chi2_along_fast(self, d: dict[str, NDArray], kappa: NDArray) -> NDArray[np.float64]:
        """:meth:`_chi2_along`, the same numbers bit for bit, block by block in reused buffers."""
        factors = self._factors(d)
        kappa = np.asarray(kappa, dtype=float)
        shape = np.broadcast_shapes(kappa.shape, *(np.shape(v) for v in factors.values()))
        k_lead = _leading(kappa, max(len(shape), 1))

        def kappa_into(sl: slice, buf: NDArray) -> None:
            np.copyto(buf, _rows(k_lead, sl))

        return self._blocks(shape, factors, kappa_into, None)

    def _delta_fast(
        self, d: dict[str, NDArray], best: NDArray | float, m: NDArray, g: NDArray, clip: bool
    ) -> NDArray[np.float64]:
        """chi^2(kappa) - best at kappa = g^2 / (sqrt2 G_F m^2) / scale, and with ``clip`` the ratio
        max(that, 0) / crit: the reference steps, block by block."""
        factors = self._factors(d)
        m, g = np.asarray(m, dtype=float), np.asarray(g, dtype=float)
        den = _SQRT2_GF * m * m
        shapes = (np.shape(v) for v in factors.values())
        shape = np.broadcast_shapes(g.shape, den.shape, np.shape(best), *shapes)
        nd = max(len(shape), 1)
        g_l, den_l, best_l = (_leading(v, nd) for v in (g, den, best))
        scale, crit = self.scale, self.dchi2_crit

        def kappa_into(sl: slice, buf: NDArray) -> None:
            gs = _rows(g_l, sl)
            np.multiply(gs, gs, out=buf)
            np.divide(buf, _rows(den_l, sl), out=buf)
            np.divide(buf, scale, out=buf)

        def finish(sl: slice, chi: NDArray) -> None:
            np.subtract(chi, _rows(best_l, sl), out=chi)
            if clip:
                np.maximum(chi, 0.0, out=chi)
                np.divide(chi, crit, out=chi)

        return self._blocks(shape, factors, kappa_into, finish)

    def _intervals(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> Intervals:
        """Every excluded g_X interval (the solar chi^2 may re-open at large coupling: LMA-D); the
        limit is the lower edge of the first."""
        delta = self._delta_chi2_of(model)
        shape = np.broadcast_shapes(m.shape, model.shape)

        def r_of_g(g: NDArray) -> NDArray:
            return np.maximum(delta(m, g), 0.0) / self.dchi2_crit

        return intervals_by_scan(r_of_g, shape, max_intervals=3)


def __dir__() -> list[str]:
    return list(__all__)
