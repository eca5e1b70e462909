r"""Recast a published limit on a reference model to any U(1)_X: the Darkcast method, vectorized.

A search reports, per mass m, the largest allowed coupling g_ref(m) of a reference model (the dark
photon, whose couplings are eps e Q_f, so g_ref = eps_lim e; or a named model such as L_mu-L_tau
with coupling g'). The signal yield of a model with coupling g is (Ilten, Soreq, Williams, Xue,
arXiv:1801.04847; docs/physics/recast.md)

    N(m, g) ∝ P(m, g) · BR(X -> F, m) · E(tau(m, g)),

with P the production factor of :mod:`.production` (a sum over mechanisms weighted by the
reference model's production fractions f_k(m)), F the detected final states and
E(tau) = exp(-t0/tau) - exp(-t1/tau) the fraction of X decaying inside the fiducial proper-time
window [t0, t1]. The exclusion ratio is

    r = N_X(g) / N_ref(g_ref) = [sum_k f_k P_X,k / P_ref,k] · [BR_X(F) / BR_ref(F)] · [E_X / E_ref],

with P_ref,k evaluated at g_ref (r >= 1: excluded at the experiment's CL). r is NaN outside the
published mass range and inside vetoed mass windows (gaps between segments are never
interpolated).

Lifetime treatments (``lifetime.kind`` in a recast file):

- ``prompt``: E = 1 for both models (the X decays well inside the resolution near the limit);
- ``window``: fixed t0 and a t1 that may depend on mass, t1(m) = t1_ps + t1_gev_ps/(m - m_threshold)
  (the LHCb prompt-like selection);
- ``displaced``: a two-sided island [g_lower, g_upper] (beam dumps, NA64 visible). t1 = t0 (1 + L_d/L_s)
  with L_d/L_s = ``decay_over_shield``, and t0 fixed per mass by requiring equal reference yields at
  both ends of the island: g_l^2 E(tau(g_l)) = g_u^2 E(tau(g_u)).
- ``rvalues``: a table r_ref(m, eps) of the upper limit on the yield relative to the dark photon's
  expected yield (LHCb displaced). A model with coupling g is compared with the dark photon of the
  same lifetime, eps_eq^2 = Gamma_X(g) / Gamma_A'(eps = 1), so the efficiencies cancel:
  r = [sum_k f_k P_X,k(g) / P_ref,k(eps_eq)] [BR_X / BR_ref] / r_ref(m, eps_eq). Beyond the tabulated
  eps (lifetimes) the table's edge eps_e is used with the efficiency ratio of a window [0, tau_e]
  (longer lifetimes) or [tau_e, inf) (shorter), tau_e the edge lifetime (Darkcast's treatment).

Invisible final states are X -> nu nubar (all flavours) plus a user-declared dark-sector width
(:meth:`~zprime_atlas.models.Model.with_dark_sector`). Published invisible dark-photon curves
assume BR(A' -> invisible) = 1: recast files say so with ``reference_branching_ratio = 1.0``.

Limits: with eps proportional to g_X (``eps_over_g`` or ``eps="loop"``) every rate scales as g^2 and
the branching ratios do not depend on g, so a prompt limit is closed form, g_lim = 1/sqrt(r(g=1)); a
window or displaced limit is a one-dimensional root find in g, done by vectorized bisection. A fixed
eps (g-independent) makes r a general function of g: the smallest excluded g is found by scanning a
log grid of g and bisecting the first crossing, all as array operations.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ... import _kernels, decays
from ...constants import E_CHARGE, HBAR_GEV_S
from ...couplings import Mixing, effective_couplings
from ...models import Model
from ...models import model as named_model
from .._memo import remembered
from ..base import Constraint, ConstraintInfo, G2Form, LifetimeForm, PointForm, _at_points
from ..solve import bisect_log, intervals_by_scan
from .production import production_factor
from .schema import INVISIBLE, RecastFileError, RecastMetadata
from .tables import LimitData, ProductionFractions, RValueTable, sha256

__all__ = ["RecastConstraint", "acceptance", "closed_form", "lifetime_ratio", "shared_evaluation"]


def acceptance(tau: NDArray, t0: NDArray, t1: NDArray) -> NDArray[np.float64]:
    """E = exp(-t0/tau) - exp(-t1/tau): fraction of decays inside [t0, t1] (tau = inf gives 0)."""
    # Written as e^-t0/tau (1 - e^-(t1-t0)/tau) with expm1: no cancellation for tau >> t1 - t0
    # (the lower edge of a beam-dump island).
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = np.where(np.isfinite(tau), 1.0 / tau, 0.0)
        span = np.where(np.isinf(t1), math.inf, t1 - t0)
        return np.exp(-t0 * inv) * -np.expm1(-np.where(inv > 0, span * inv, 0.0))


#: exp(-a) is exactly 0.0 in double precision for a > 745.14 (below half the smallest subnormal).
_EXP_UNDERFLOW = 746.0
#: -expm1(-a) = 1 - e^-a is exactly 1.0 in double precision for a >= 37.43 (e^-a below half an ulp
#: of 1); tested densely up to 1e300 in tests/test_engine_closed_forms.py.
_EXP_SATURATED = 40.0


def _slowest_decay(tau1: NDArray, g2_min: NDArray, t0: NDArray, t1: NDArray
                   ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:  # fmt: skip
    """(1/tau at the smallest coupling, where exp(-t0/tau) underflows to 0.0 already there): the
    lifetime tau = tau1/g^2 (tau1 at g = 1) with the arithmetic of ``acceptance(tau1 / g2, ...)``;
    1/tau grows with g^2 and rounding is monotonic, so a point dead at g2_min is dead at every
    larger coupling."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tau_max = tau1 / g2_min
        inv_min = np.where(np.isfinite(tau_max), 1.0 / tau_max, 0.0)
        dead = (t0 * inv_min > _EXP_UNDERFLOW) & ~np.isnan(t1)
    return inv_min, dead


def _times_acceptance(r: NDArray, tau1: NDArray, g2: NDArray, t0: NDArray, t1: NDArray
                      ) -> NDArray[np.float64]:  # fmt: skip
    """``r * acceptance(tau1 / g2, t0, t1)``, bit for bit, computing E only where it can be non-zero.

    With eps proportional to g the lifetime is tau1/g^2 (tau1 at g = 1). Where even the smallest
    coupling of a point gives t0/tau > 745.14, exp(-t0/tau) underflows to 0.0 at every coupling of
    that point (t0/tau grows with g^2, and rounding is monotonic), so E = 0 exactly and r * E is
    r * 0.0 (0, or NaN where r is not finite, as IEEE arithmetic gives in the full formula). A
    beam dump above ~50 MeV is such a point almost everywhere in the (g-2) band: the acceptance
    (a dozen array operations over every coupling) is then evaluated only on the points that
    remain. "Points" are the broadcast shape of tau1, t0 and t1; g2 may add axes (the couplings).
    """
    tau1, t0, t1, g2 = (np.asarray(a, dtype=np.float64) for a in (tau1, t0, t1, g2))
    full = np.broadcast_shapes(r.shape, tau1.shape, t0.shape, t1.shape, g2.shape)
    point = np.broadcast_shapes(tau1.shape, t0.shape, t1.shape)
    point = (1,) * (len(full) - len(point)) + point
    g2_full = g2.reshape((1,) * (len(full) - g2.ndim) + g2.shape)
    # axes along which the points are constant but the couplings vary: reduce g^2 to its minimum
    axes = tuple(i for i, (p, q) in enumerate(zip(point, g2_full.shape, strict=True))
                 if p == 1 and q > 1)  # fmt: skip
    _, dead = _slowest_decay(tau1, _min_over(g2_full, axes), t0, t1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if not dead.any():
            return r * acceptance(tau1 / g2, t0, t1)
        zero = np.zeros(())
        if dead.all():
            return np.broadcast_to(r, full) * zero
        out = np.broadcast_to(r, full) * zero
        ops = [a.reshape((1,) * (len(full) - a.ndim) + a.shape) for a in (r, tau1, g2, t0, t1)]
        window_axes = [i for i in range(len(full)) if ops[3].shape[i] > 1 or ops[4].shape[i] > 1]
        if len(window_axes) == 1:
            # the window varies along one axis (the masses): evaluate the slices of that axis
            # where some point is alive (in a scan, the light masses of a beam dump)
            ax = window_axes[0]
            others = tuple(i for i in range(len(full)) if i != ax)
            alive = ~np.all(np.broadcast_to(dead, np.broadcast_shapes(dead.shape, point)), axis=others)
            idx = np.flatnonzero(alive.reshape(-1))
            r_s, tau_s, g2_s, t0_s, t1_s = (np.take(a, idx, axis=ax) if a.shape[ax] > 1 else a
                                            for a in ops)  # fmt: skip
            out[(slice(None),) * ax + (idx,)] = r_s * acceptance(tau_s / g2_s, t0_s, t1_s)
            return out
        live = ~np.broadcast_to(dead, full)
        tau_live = np.broadcast_to(tau1, full)[live] / np.broadcast_to(g2, full)[live]
        e_live = acceptance(tau_live, np.broadcast_to(t0, full)[live], np.broadcast_to(t1, full)[live])
        out[live] = np.broadcast_to(r, full)[live] * e_live
        return out


def closed_form(form: LifetimeForm, g2_min: NDArray, g2_max: NDArray) -> G2Form:
    """r = r1 g^2 E(tau1/g^2) (``form``) in closed form for couplings g2_min <= g^2 <= g2_max:
    prompt where the decay probability E is 1.0 exactly at every coupling of the point (no
    lifetime cut, or a window [0, t1] with t1/tau >= 40 already at the smallest coupling: 1 - e^-40
    rounds to 1.0), dead where it underflows to 0.0 at every coupling (:func:`_times_acceptance`).
    Both monotonic in g^2: what holds at ``g2_min`` holds at every larger coupling."""
    r1 = form.r1
    if form.tau1 is None:
        everywhere = np.ones((1,) * r1.ndim, dtype=bool)
        return G2Form(r1, everywhere, ~everywhere)
    tau1, t0, t1 = form.tau1, form.t0, form.t1
    inv_min, dead = _slowest_decay(tau1, g2_min, t0, t1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        span = np.where(np.isinf(t1), math.inf, t1 - t0)
        # tau1/g2_max > 0: 1/tau stays finite at every coupling (exp(-0 * inf) would be NaN)
        prompt = (t0 == 0.0) & (span * inv_min >= _EXP_SATURATED) & (tau1 / g2_max > 0.0)
        # E <= exp(-t0/tau) <= exp(-t0 g2_min/tau1): r <= r1 g2_max exp(-t0 inv_min) bounds r
        # at every coupling; below 0.999 of 1 (rounding is a few 1e-16 of it) r < 1 there
        bound = r1 * g2_max * np.exp(-t0 * inv_min)
        below = np.isfinite(bound) & (bound < 0.999) & (r1 >= 0.0)
    return G2Form(r1, prompt, dead, below)


def lifetime_ratio(r1: NDArray, tau1: NDArray | None, g2: NDArray, t0: NDArray, t1: NDArray
                   ) -> NDArray[np.float64]:  # fmt: skip
    """r = (r1 g^2) E(tau1/g^2; t0, t1) at given points and couplings (arrays broadcast), bit for
    bit what :meth:`RecastConstraint._ratio` gives there with eps proportional to g (tau1 None:
    no lifetime cut)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = r1 * g2
        return r if tau1 is None else r * acceptance(tau1 / g2, t0, t1)


def _min_over(a: NDArray, axes: tuple[int, ...]) -> NDArray:
    """``a.min(axis=axes, keepdims=True)``, the same numbers: a short axis (the couplings, a few to
    a few tens) is reduced slice by slice, several times faster than a ufunc reduction over it."""
    for ax in axes:
        n = a.shape[ax]
        if n > 64:
            a = a.min(axis=ax, keepdims=True)
            continue
        lead = (slice(None),) * ax
        low = np.array(a[(*lead, slice(0, 1))])
        for j in range(1, n):
            np.minimum(low, a[(*lead, slice(j, j + 1))], out=low)
        a = low
    return a


class RecastConstraint(Constraint):
    """A constraint defined by a recast file pair (metadata TOML + limit CSV)."""

    def __init__(self, meta: RecastMetadata, data: LimitData | RValueTable, meta_path: Path,
                 fractions: ProductionFractions | None = None,
                 packaged: bool = True) -> None:  # fmt: skip
        self.meta = meta
        self.data = data
        self.meta_path = meta_path
        self.fractions = fractions
        self.reference_model = named_model(meta.reference)
        if data.two_sided and meta.lifetime.kind != "displaced":
            raise RecastFileError(f"{meta_path}: a two-sided limit needs lifetime kind 'displaced'")
        if meta.lifetime.kind == "displaced" and not data.two_sided:
            raise RecastFileError(f"{meta_path}: a displaced lifetime needs a two-sided data file")
        if (meta.lifetime.kind == "rvalues") != isinstance(data, RValueTable):
            raise RecastFileError(f"{meta_path}: an r-value table (m_GeV, eps, r) goes with lifetime "
                                  "kind 'rvalues' and only with it")  # fmt: skip
        if isinstance(data, RValueTable) and (
            meta.coupling != "eps" or meta.final_states == (INVISIBLE,)
        ):
            raise RecastFileError(
                f"{meta_path}: an r-value table needs coupling 'eps' and a visible final state"
            )
        lo, hi = data.mass_range
        if fractions is not None:
            lo = max(lo, float(fractions.masses[0]))
            hi = min(hi, float(fractions.masses[-1]))
        coupling_text = (
            "eps of the dark photon (g = eps e)" if meta.coupling == "eps" else
            f"g of the {meta.reference} model"
        )  # fmt: skip
        self.info = ConstraintInfo(
            name=meta.name,
            title=meta.title,
            # A paper without an arXiv number is cited by its INSPIRE texkey.
            citation=meta.arxiv or tuple(f"INSPIRE {k}" for k in _texkeys(meta)),
            mass_range=(lo, hi),
            cl=meta.cl,
            notes=(
                f"Recast (Darkcast method) of the published {meta.cl:.0%} CL limit on "
                f"{coupling_text}; production {self._production_text()}; final state "
                f"{' + '.join(meta.final_states)}; lifetime {meta.lifetime.kind}. "
                + (meta.notes + " " if meta.notes else "")
                + f"Data: {meta.provenance}"
            ),
            # The package's own files are verified unless they say otherwise; user files
            # ($ZPRIME_ATLAS_RECASTS) are unverified unless they say verified = true.
            verified=packaged if meta.verified is None else meta.verified,
            journal=meta.journal,
            extra={"experiment": meta.experiment, "status": meta.status},
            kind=meta.kind or _default_kind(meta),
            experiment=meta.experiment,
            year=meta.year,
            label=meta.label,
            family=meta.family,
            label_position=meta.label_position,
            status=meta.status,
            supersedes=meta.supersedes,
            reference=meta.reference,
        )

    def _production_text(self) -> str:
        if self.fractions is not None:
            return "mix of " + ", ".join(self.fractions.fractions) + " (per-mass fractions)"
        return " + ".join(self.meta.production)

    @property
    def files(self) -> list[Path]:
        """Every file this constraint reads (metadata, data, fractions)."""
        out = [self.meta_path, self.data.path]
        if self.fractions is not None:
            out.append(self.fractions.path)
        return out

    def file_hashes(self) -> dict[str, str]:
        """sha256 of every file this constraint reads, keyed by file name."""
        return {p.name: sha256(p) for p in self.files}

    # -- the physics ---------------------------------------------------------------------------

    def _weights(self, m: NDArray[np.float64], ref_couplings: dict) -> dict[str, NDArray]:
        """Mechanism -> f_k(m) / P_ref,k(m, g = 1)."""
        if self.fractions is not None:
            frac = self.fractions(m)
        else:
            ref = {k: production_factor(k, ref_couplings, m) for k in self.meta.production}
            total = sum(ref.values())
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = {k: np.where(total > 0, v / total, np.nan) for k, v in ref.items()}
        out = {}
        for k, f in frac.items():
            p_ref = production_factor(k, ref_couplings, m)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[k] = np.where(f > 0, f / p_ref, 0.0)
            out[k] = np.where(np.isnan(f), np.nan, out[k])
        return out

    def _branching(self, widths: Mapping[str, NDArray], states: tuple[str, ...] = ()) -> NDArray:
        """BR into the final states; with ``states``, of the total over these channels only."""
        if self.meta.final_states == (INVISIBLE,):
            part = widths["invisible"]  # nu nubar plus any declared dark-sector width
        else:
            part = np.zeros(())
            for channel in self.meta.final_states:
                part = part + widths[channel]
        total = _restricted_total(widths, states)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, part / total, 0.0)

    def _reference(self, m: NDArray[np.float64]) -> dict[str, NDArray]:
        """Reference-model quantities per mass: weights, BR, width at g = 1, g_ref edges, t0, t1."""
        ref = self.reference_model
        assert isinstance(self.data, LimitData)
        g_lo, g_hi = self.data.interpolate(m)
        if self.meta.coupling == "eps":
            g_lo, g_hi = g_lo * E_CHARGE, g_hi * E_CHARGE
        couplings = effective_couplings(ref, 1.0, q2=m * m)
        widths = _with_pi_pi(decays.widths_from_couplings(couplings, m, ref.m_dark), couplings, m)
        states = self.meta.reference_states
        br = self._branching(widths, states)
        if self.meta.reference_branching_ratio is not None:
            br = np.full(m.shape, self.meta.reference_branching_ratio)
        width1 = _restricted_total(widths, states)
        # No statement outside the constraint's mass range, or where the reference model itself
        # cannot give the signal (e.g. a tabulated point below the e+e- threshold).
        lo_m, hi_m = self.mass_range
        undefined = (m < lo_m) | (m > hi_m) | ~(br > 0)
        g_lo = np.where(undefined, np.nan, g_lo)
        g_hi = np.where(undefined, np.nan, g_hi)
        out: dict[str, Any] = {"weights": self._weights(m, couplings), "br": br,
                               "width1": width1, "g_lo": g_lo, "g_hi": g_hi}  # fmt: skip
        kind = self.meta.lifetime.kind
        if kind == "window":
            out["t0"], out["t1"] = self.meta.lifetime.window(m)
        elif kind == "displaced":
            out["t0"], out["t1"] = self._displaced_window(width1, g_lo, g_hi)
        if kind == "prompt" or self.meta.final_states == (INVISIBLE,):
            out["e_ref"] = np.ones(m.shape)
        else:
            tau_ref = _lifetime(width1 * g_lo**2)
            out["e_ref"] = acceptance(tau_ref, out["t0"], out["t1"])
        return out

    def _per_mass(self, compute: Callable[[NDArray], dict[str, Any]], m: NDArray) -> dict[str, Any]:
        """``compute(m)`` (the reference model's quantities: they depend on the masses only),
        remembered for the last few mass arrays: a scan's chunks share its masses, so the
        reference (widths, weights, the displaced window's bisection) is computed once per scan,
        not once per chunk. Read-only results; the same numbers as computing them again."""
        m = np.asarray(m, dtype=np.float64)

        def read_only() -> dict[str, Any]:
            out = compute(m)
            for value in out.values():
                for v in value.values() if isinstance(value, dict) else (value,):
                    if isinstance(v, np.ndarray):
                        v.flags.writeable = False
            return out

        cache = self.__dict__.setdefault("_per_mass_cache", {})
        return remembered(cache, (compute.__name__, m.shape, m.tobytes()), read_only, 8)

    def _displaced_window(self, width1: NDArray, g_lo: NDArray, g_hi: NDArray) -> tuple:
        """t0, t1 [s] making the reference yields equal at both ends of the island."""
        k = self.meta.lifetime.decay_over_shield + 1.0
        ratio = (g_hi / g_lo) ** 2  # tau_lo / tau_hi
        valid = np.isfinite(ratio) & (ratio > 1)
        ratio = np.where(valid, ratio, 2.0)

        # a = t0/tau_lo solves e^-a - e^-ka = ratio (e^-ratio a - e^-k ratio a).
        def f(a: NDArray) -> NDArray:
            # e^-a - e^-ka with expm1 (no cancellation for small a)
            return -np.exp(-a) * np.expm1(-(k - 1) * a) + ratio * np.exp(-ratio * a) * np.expm1(
                -(k - 1) * ratio * a
            )

        lo = np.full(ratio.shape, 1e-12)
        hi = np.full(ratio.shape, 1e3)
        a = bisect_log(f, lo, hi, iterations=80)
        tau_lo = _lifetime(width1 * np.where(valid, g_lo, np.nan) ** 2)
        t0 = a * tau_lo
        return t0, k * t0

    # -- r-value tables (lifetime kind "rvalues") -----------------------------------------------

    def _rvalue_reference(self, m: NDArray[np.float64]) -> dict[str, Any]:
        """Dark-photon quantities per mass for an r-value table: weights, BR, width at g = 1."""
        couplings = effective_couplings(self.reference_model, 1.0, q2=m * m)
        widths = _with_pi_pi(decays.widths_from_couplings(couplings, m, self.reference_model.m_dark),
                             couplings, m)  # fmt: skip
        states = self.meta.reference_states
        br = self._branching(widths, states)
        if self.meta.reference_branching_ratio is not None:
            br = np.full(m.shape, self.meta.reference_branching_ratio)
        lo_m, hi_m = self.mass_range
        undefined = (m < lo_m) | (m > hi_m) | ~(br > 0)
        return {"weights": self._weights(m, couplings), "br": np.where(undefined, np.nan, br),
                "width1": _restricted_total(widths, states)}  # fmt: skip

    def _rvalue_ratio(self, m, g, model, mix, ref) -> NDArray[np.float64]:
        """r of an r-value table for couplings g (module docstring; every step an array operation)."""
        assert isinstance(self.data, RValueTable)
        if mix.proportional:
            # Rates and widths scale as g^2 and BRs do not depend on g: evaluate at g = 1.
            g_eval, g2 = 1.0, np.asarray(g, dtype=np.float64) ** 2
        else:
            g_eval, g2 = g, np.ones(())
        prod, br_x, total = self._production_branching_total(m, g_eval, model, mix, ref["weights"])
        return self._rvalue_tail(m, g2, prod, br_x, total, ref["br"], ref["width1"])

    def _rvalue_tail(self, m, g2, prod, br_x, total, ref_br, ref_width1) -> NDArray[np.float64]:
        """:meth:`_rvalue_ratio` from the production factor ``prod``, branching ratio ``br_x`` and
        total width ``total`` at g = 1 (proportional mixing; g2 = g^2) or at g (g2 = 1), and the
        reference's BR and width at eps = 1 (also the point form's r at gathered points)."""
        assert isinstance(self.data, RValueTable)
        prod = prod * g2
        width_x = total * g2
        # The dark photon with the same lifetime: eps_eq^2 Gamma_A'(eps = 1) = Gamma_X.
        with np.errstate(divide="ignore", invalid="ignore"):
            eps_eq = np.sqrt(width_x / ref_width1) / E_CHARGE
        eps_lo, eps_hi = self.data.eps_range
        eps_use = np.clip(eps_eq, eps_lo, eps_hi)
        g_use2 = (eps_use * E_CHARGE) ** 2
        # Beyond the tabulated lifetimes: efficiency ratio of [0, tau_e] (longer) or [tau_e, inf)
        # (shorter), tau_e the edge lifetime; x = tau_e / tau_X = (eps_eq / eps_e)^2.
        # (each extrapolation computed only where it applies: the same numbers there)
        eff = np.ones(np.shape(eps_eq))
        is_longer, is_shorter = eps_eq < eps_lo, eps_eq > eps_hi
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (eps_eq / eps_use) ** 2
            if is_longer.any():
                eff[is_longer] = -np.expm1(-x[is_longer]) / -math.expm1(-1.0)
            if is_shorter.any():
                eff[is_shorter] = np.exp(1.0 - x[is_shorter])
        r_ref = self.data.interpolate(m, eps_use)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = prod / g_use2 * br_x / ref_br * eff / r_ref
        # A model without width (g = 0) or without this final state gives no signal.
        r = np.where((width_x > 0) & (br_x > 0), r, 0.0)
        return np.where(np.isnan(ref_br) | np.isnan(r_ref), np.nan, r)

    def _point_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                    ) -> PointForm | None:  # fmt: skip
        """An r-value table with eps proportional to g: where every coupling of a point gives a
        lifetime beyond the table's (eps_eq, which grows with g, below its smallest eps or above
        its largest), eps is clipped to that edge and r = C x E(x) with x = (eps_eq/eps_edge)^2
        proportional to g^2: E(x) = (1 - e^-x)/(1 - e^-1) below (r rises with g), E(x) = e^(1-x)
        above, where x > 1 (r = C' x e^-x falls with g). r then lies between its values at the
        band's ends, computed as :meth:`_ratio` does (margin 1e-9 of them, far above rounding).
        Points inside the table's lifetimes are left to ``ratio_at``: :meth:`_rvalue_tail` on the
        gathered factors, bit for bit :meth:`_ratio`."""
        if not isinstance(self.data, RValueTable) or not mix.proportional \
                or type(self)._ratio is not RecastConstraint._ratio \
                or type(self)._rvalue_ratio is not RecastConstraint._rvalue_ratio \
                or type(self)._rvalue_tail is not RecastConstraint._rvalue_tail:  # fmt: skip
            return None
        ref = self._per_mass(self._rvalue_reference, m)
        prod, br_x, total = self._production_branching_total(m, 1.0, model, mix, ref["weights"])
        ref_br, width1 = ref["br"], ref["width1"]
        r_lo = self._rvalue_tail(m, g2_min, prod, br_x, total, ref_br, width1)
        r_hi = self._rvalue_tail(m, g2_max, prod, br_x, total, ref_br, width1)
        eps_lo, eps_hi = self.data.eps_range
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            e_lo = np.sqrt(total * g2_min / width1) / E_CHARGE  # eps_eq at the band's ends
            e_hi = np.sqrt(total * g2_max / width1) / E_CHARGE
            longer = e_hi * (1.0 + 1e-9) < eps_lo
            shorter = e_lo * (1.0 - 1e-9) > eps_hi
            r_min = np.where(longer, r_lo, r_hi)
            r_max = np.where(longer, r_hi, r_lo)
            known = (longer | shorter) & np.isfinite(r_min) & np.isfinite(r_max)
            below = known & (r_max * (1.0 + 1e-9) < 1.0)
            above = known & (r_min * (1.0 - 1e-9) >= 1.0)
        shape = np.broadcast_shapes(np.shape(g2_max), np.shape(r_lo))

        def ratio_at(index: tuple[NDArray[np.intp], ...], g: NDArray) -> NDArray[np.float64]:
            m_i, prod_i, br_i, total_i, ref_br_i, width1_i = (
                _at_points(v, shape, index) for v in (m, prod, br_x, total, ref_br, width1))
            return self._rvalue_tail(m_i, np.asarray(g, dtype=np.float64) ** 2, prod_i, br_i,
                                     total_i, ref_br_i, width1_i)  # fmt: skip

        return PointForm(np.broadcast_to(below, shape), np.broadcast_to(above, shape), ratio_at)

    def _rvalue_intervals(self, m, model, mix):
        """Excluded intervals of an r-value table: log-grid scan and bisection of every crossing."""
        ref = self._rvalue_reference(m)
        shape = np.broadcast_shapes(model.shape, m.shape, mix.shape)
        if not mix.proportional and not np.any(np.asarray(mix.value)):
            mix = Mixing("ratio", np.zeros(()), mix.loop_scale)
        return intervals_by_scan(lambda g: self._rvalue_ratio(m, g, model, mix, ref), shape)

    def _production_terms(self, m, g, model, mix, weights
                          ) -> tuple[list[tuple[Any, NDArray]], NDArray, NDArray]:  # fmt: skip
        """([(w_k, P_k)], BR into the final states, total width) of X for couplings g, with the
        production weights ``weights`` of the reference; within a shared evaluation, the
        factors every recast of the chunk has already computed."""
        couplings, widths, shared = _couplings_and_widths(m, g, model, mix)
        at = (couplings, widths, m)
        terms = [(w, _derived(shared, ("production", k), partial(_production, k), *at))
                 for k, w in weights.items()]  # fmt: skip
        br = _derived(shared, ("branching", type(self)._branching, self.meta.final_states),
                      lambda _c, w, _m: self._branching(w), *at)  # fmt: skip
        return terms, br, _derived(shared, ("total",), _total, *at)

    def _production_branching_total(self, m, g, model, mix, weights) -> tuple[NDArray, ...]:
        """(sum_k w_k P_k, BR into the final states, total width) of X for couplings g
        (:meth:`_production_terms`, summed from 0 in their order)."""
        terms, br, total = self._production_terms(m, g, model, mix, weights)
        return _weighted_sum(terms), br, total

    def _prompt_signal_and_width(self, m, g, model, mix, ref) -> tuple[NDArray, NDArray]:
        """(r without the lifetime factor, total width of X) for couplings g:
        r = (sum_k w_k P_k) BR / (BR_ref E_ref g_lo^2), NaN where the reference has no limit."""
        terms, br, total = self._production_terms(m, g, model, mix, ref["weights"])
        with np.errstate(divide="ignore", invalid="ignore"):
            den = ref["br"] * ref["e_ref"] * ref["g_lo"] ** 2
        no_limit = np.isnan(ref["g_lo"])
        if len(terms) == 1:  # the usual single production channel: one compiled pass
            shape = np.broadcast_shapes(*(np.shape(v) for v in (*terms[0], br, den, no_limit)))
            if _kernels.enabled(math.prod(shape)):
                r = _kernels.recast_signal(terms[0][0], terms[0][1], br, den, no_limit)
                if r is not None:
                    return r, total
        with np.errstate(divide="ignore", invalid="ignore"):
            r = _weighted_sum(terms) * br / den
        r = np.where(no_limit, np.nan, r)
        return r, total

    @property
    def _lifetime_matters(self) -> bool:
        return self.meta.lifetime.kind != "prompt" and self.meta.final_states != (INVISIBLE,)

    def _signal(self, m, g, model, mix, ref) -> NDArray[np.float64]:
        """N_X / N_ref (r) for couplings g (arrays broadcast)."""
        r, width = self._prompt_signal_and_width(m, g, model, mix, ref)
        if self._lifetime_matters:
            r = r * acceptance(_lifetime(width), ref["t0"], ref["t1"])
        return r

    # -- public interface ----------------------------------------------------------------------

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        """r = N_X(g_X) / N_ref(g_ref(m_X)) (module docstring); NaN where the search says nothing."""
        if isinstance(self.data, RValueTable):
            r = self._rvalue_ratio(m, g, model, mix, self._per_mass(self._rvalue_reference, m))
            shape = np.broadcast_shapes(r.shape, model.shape, m.shape, g.shape)
            return r if r.shape == shape else np.broadcast_to(r, shape).copy()
        ref = self._per_mass(self._reference, m)
        if mix.proportional:
            # Rates scale as g^2, lifetimes as 1/g^2, and branching ratios do not depend on g:
            # evaluate the physics once at g = 1 (a scan over n couplings costs one evaluation).
            r1, width1 = self._prompt_signal_and_width(m, 1.0, model, mix, ref)
            g2 = g**2
            r = r1 * g2
            if self._lifetime_matters:
                r = _times_acceptance(r, _lifetime(width1), g2, ref["t0"], ref["t1"])
        else:
            r = self._signal(m, g, model, mix, ref)
        shape = np.broadcast_shapes(r.shape, model.shape, m.shape, g.shape)
        return r if r.shape == shape else np.broadcast_to(r, shape).copy()

    def _lifetime_form(self, m: NDArray, model: Model, mix: Mixing) -> LifetimeForm | None:
        """With eps proportional to g, r = r1 g^2 E(tau1 / g^2; t0, t1) (:meth:`_ratio`): r1, the
        lifetime tau1 at g = 1 (None: no lifetime cut, E = 1) and the decay window per mass."""
        if isinstance(self.data, RValueTable) or not mix.proportional \
                or type(self)._ratio is not RecastConstraint._ratio:  # a subclass's own r: no form
            return None
        ref = self._per_mass(self._reference, m)
        r1, width1 = self._prompt_signal_and_width(m, 1.0, model, mix, ref)
        r1 = np.asarray(r1, dtype=np.float64)
        if not self._lifetime_matters:
            return LifetimeForm(r1, None, np.zeros(()), np.zeros(()))
        couplings, widths, shared = _couplings_and_widths(m, 1.0, model, mix)
        if shared is None:
            tau1 = _lifetime(width1)
        else:  # the same lifetime for every search of a chunk: computed once
            tau1 = _derived(shared, ("lifetime",), _lifetime_of_total, couplings, widths, m)
        return LifetimeForm(r1, tau1, ref["t0"], ref["t1"])

    def _g2_form(self, m: NDArray, g2_min: NDArray, g2_max: NDArray, model: Model, mix: Mixing
                 ) -> G2Form | None:  # fmt: skip
        """r in closed form in g (:func:`closed_form` of :meth:`_lifetime_form`)."""
        form = self._lifetime_form(m, model, mix)
        return None if form is None else closed_form(form, g2_min, g2_max)

    def _intervals(
        self, m: NDArray, model: Model, mix: Mixing
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Excluded g_X intervals [(lower, upper), ...] per point (two-sided searches: islands)."""
        if isinstance(self.data, RValueTable):
            return self._rvalue_intervals(m, model, mix)
        ref = self._reference(m)
        shape = np.broadcast_shapes(model.shape, m.shape, mix.shape)
        nan_mask = np.broadcast_to(np.isnan(ref["g_lo"]), shape)
        if mix.proportional or not np.any(np.asarray(mix.value)):
            if not mix.proportional:
                mix = Mixing("ratio", np.zeros(()), mix.loop_scale)
            intervals = self._proportional_intervals(m, model, mix, ref, shape)
        else:
            intervals = self._scanned_intervals(m, model, mix, ref, shape)
        return [(np.where(nan_mask, np.nan, lo), np.where(nan_mask, np.nan, hi)) for lo, hi in intervals]

    def _proportional_intervals(self, m, model, mix, ref, shape):
        """eps proportional to g: r(g) = g^2 C E(tau_1/g^2)/E_ref (closed form or bisection)."""
        # Every rate scales as g^2 and the branching ratios do not depend on g, so one evaluation
        # at g = 1 gives r(g) = g^2 c E(tau_1 / g^2) with tau_1 the lifetime at g = 1.
        c, width1 = self._prompt_signal_and_width(m, 1.0, model, mix, ref)
        c = np.broadcast_to(c, shape)
        tau1 = np.broadcast_to(_lifetime(width1), shape)
        with np.errstate(divide="ignore"):
            closed = np.where(c > 0, 1.0 / np.sqrt(c), math.inf)
        if not self._lifetime_matters:
            return [(closed, np.full(shape, math.inf))]
        kind = self.meta.lifetime.kind
        t0, t1 = ref["t0"], ref["t1"]

        def r_minus_one(g: NDArray) -> NDArray:
            g2 = np.asarray(g) ** 2
            return c * g2 * acceptance(tau1 / g2, t0, t1) - 1.0

        if kind == "window":
            # E rises with g (shorter lifetime): r is increasing; the prompt value bounds the root.
            lo = np.where(np.isfinite(closed), closed, 1.0)
            hi = np.where(np.isfinite(closed), closed * 1e6, 1.0)
            finite_hi = r_minus_one(hi) >= 0
            root = bisect_log(r_minus_one, lo, hi)
            out = np.where(np.isfinite(closed) & finite_hi, root, math.inf)
            return [(out, np.full(shape, math.inf))]
        # displaced island: find the peak of r in g, then both crossings.
        g_peak = self._peak(r_minus_one, shape)
        peak_excluded = r_minus_one(g_peak) >= 0
        lo = bisect_log(r_minus_one, np.full(shape, 1e-14), g_peak)
        hi = bisect_log(lambda g: -r_minus_one(g), g_peak, np.full(shape, _G_MAX))
        lower = np.where(peak_excluded, lo, math.inf)
        upper = np.where(peak_excluded, hi, math.inf)
        return [(lower, upper)]

    @staticmethod
    def _peak(r_minus_one: Callable, shape: tuple) -> NDArray:
        """g maximizing r on a log grid, refined by golden-section steps in log g."""
        grid = np.geomspace(1e-14, _G_MAX, 201).reshape((-1,) + (1,) * len(shape))
        values = np.stack([r_minus_one(np.broadcast_to(gv, shape)) for gv in grid])
        best = np.argmax(np.nan_to_num(values, nan=-np.inf), axis=0)
        lo = np.log(grid.reshape(-1)[np.clip(best - 1, 0, len(grid) - 1)])
        hi = np.log(grid.reshape(-1)[np.clip(best + 1, 0, len(grid) - 1)])
        invphi = (math.sqrt(5) - 1) / 2
        for _ in range(40):
            a = hi - invphi * (hi - lo)
            b = lo + invphi * (hi - lo)
            fa, fb = r_minus_one(np.exp(a)), r_minus_one(np.exp(b))
            lo = np.where(fa < fb, a, lo)
            hi = np.where(fa < fb, hi, b)
        return np.exp(0.5 * (lo + hi))

    def _scanned_intervals(self, m, model, mix, ref, shape):
        """Fixed eps: scan a log grid of g and bisect the crossings (:func:`intervals_by_scan`)."""
        return intervals_by_scan(lambda g: self._signal(m, g, model, mix, ref), shape)


#: Largest coupling searched for the upper edge of an island (large enough for scaled charges).
_G_MAX = 1e6

_SHARED = threading.local()  # per thread: engines may evaluate chunks in threads (dask, threading)


@contextmanager
def shared_evaluation() -> Iterator[None]:
    """Within this context, recasts share couplings and widths of the same (model, m, mix) inputs.

    The grid engine evaluates every recast on the same model chunk, masses and mixing; the
    effective couplings at q^2 = m^2 and the partial widths at g_X = 1 are then computed once.
    Keys are the identities of the input objects, so the cache is only valid inside the context;
    it is private to the calling thread. A mass array the engine declares a selection of another
    (:func:`share_masses`) takes its quantities from those of the whole mass axis.
    """
    previous = getattr(_SHARED, "cache", None), getattr(_SHARED, "selections", None)
    _SHARED.cache, _SHARED.selections = {}, {}
    try:
        yield
    finally:
        _SHARED.cache, _SHARED.selections = previous


def share_masses(m_selected: NDArray, m_all: NDArray, where: slice | NDArray[np.integer]) -> None:
    """Declare, inside :func:`shared_evaluation`, that ``m_selected`` is ``m_all[:, where]`` (the
    engine's 4-D mass arrays, masses on axis 1): couplings, widths and the quantities derived from
    them at ``m_selected`` are then the whole axis's, selected (computed once per chunk for every
    mass, not once per mass range of a constraint). Every one of them is elementwise in the mass,
    so the selected numbers are the ones a direct evaluation gives, bit for bit. Outside the
    context: nothing."""
    selections: dict | None = getattr(_SHARED, "selections", None)
    if selections is not None and m_selected is not m_all:
        selections[id(m_selected)] = (m_selected, m_all, where)


class _Shared:
    """What recasts share at one (model, masses, mixing): couplings, widths, derived quantities
    (:func:`_derived`); for a declared mass selection, the whole axis's (``parent``) and where."""

    __slots__ = ("couplings", "m", "parent", "values", "where", "widths")

    def __init__(self, couplings: Mapping, widths: Mapping, m: NDArray, parent: _Shared | None = None,
                 where: slice | NDArray | None = None) -> None:  # fmt: skip
        self.couplings, self.widths, self.m = couplings, widths, m
        self.values: dict[tuple, NDArray] = {}
        self.parent, self.where = parent, where


class _AtMasses(Mapping[str, NDArray]):
    """The values of ``whole`` (a mapping of arrays over every mass) at the masses ``where``,
    each selected when first read (a recast reads a few of the couplings and channels)."""

    def __init__(self, whole: Mapping[str, Any], where: slice | NDArray, n_masses: int) -> None:
        self._whole, self._where, self._n = whole, where, n_masses
        self._done: dict[str, NDArray] = {}

    def __getitem__(self, key: str) -> NDArray:
        value = self._done.get(key)
        if value is None:
            value = self._done[key] = _select_masses(self._whole[key], self._where, self._n)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole)

    def __len__(self) -> int:
        return len(self._whole)


def _select_masses(a: Any, where: slice | NDArray, n_masses: int) -> NDArray:
    """``a`` (broadcasting against the engine's 4-D arrays) at the masses ``where`` of axis 1."""
    a = np.asarray(a)
    if a.ndim > 4:
        raise ValueError(f"a shared recast quantity has {a.ndim} axes (at most 4 expected)")
    full = a.reshape((1,) * (4 - a.ndim) + a.shape)
    if full.shape[1] == 1:
        return a  # the same at every mass
    if full.shape[1] != n_masses:
        raise ValueError(f"a shared recast quantity has {full.shape[1]} masses, not {n_masses}")
    return full[:, where]


def _couplings_and_widths(m, g, model, mix) -> tuple[Mapping, Mapping, _Shared | None]:
    """(effective couplings at q^2 = m^2, partial widths, what recasts share of them) for
    couplings g; within :func:`shared_evaluation` the same inputs give the same objects, so
    quantities several recasts need (production factors, branching ratios, the total width)
    are computed once (:func:`_derived`); outside it the third item is None."""
    cache: dict | None = getattr(_SHARED, "cache", None)
    key = None
    if cache is not None and isinstance(g, float):
        key = (id(model), id(m), id(mix.value), mix.kind, mix.loop_scale, g)
        hit = cache.get(key)
        # the entry holds its key objects: while the cache lives, no id can be reused by a new
        # array (a freed mass array's id taken by another of a different shape once returned the
        # wrong widths in a parallel survey); the identity check guards the rest
        if hit is not None and hit[0] is model and hit[1] is m and hit[2] is mix.value:
            shared: _Shared = hit[3]
            return shared.couplings, shared.widths, shared
        selection = _SHARED.selections.get(id(m))
        if selection is not None and selection[0] is m:
            _, m_all, where = selection
            _, _, parent = _couplings_and_widths(m_all, g, model, mix)
            assert parent is not None
            n_masses = m_all.shape[1]
            shared = _Shared(_AtMasses(parent.couplings, where, n_masses),
                             _AtMasses(parent.widths, where, n_masses), m, parent, where)  # fmt: skip
        else:
            shared = _Shared(*_computed_couplings_and_widths(m, g, model, mix), m)
        cache[key] = (model, m, mix.value, shared)
        return shared.couplings, shared.widths, shared
    return (*_computed_couplings_and_widths(m, g, model, mix), None)


def _computed_couplings_and_widths(m, g, model, mix) -> tuple[dict, dict]:
    couplings = effective_couplings(model, g, eps=mix, q2=m * m, loop_scale=mix.loop_scale)
    return couplings, _with_pi_pi(decays.widths_from_couplings(couplings, m, model.m_dark),
                                  couplings, m)  # fmt: skip


def _derived(shared: _Shared | None, key: tuple, compute: Callable[[Any, Any, Any], NDArray],
             couplings: Mapping, widths: Mapping, m: NDArray) -> NDArray:  # fmt: skip
    """``compute(couplings, widths, m)``; within :func:`shared_evaluation` (``shared`` of
    :func:`_couplings_and_widths`, whose couplings and widths these are) remembered there under
    ``key`` (read only: every recast of the chunk shares it), and for a mass selection the whole
    axis's value, selected. The same numbers as computing it again (elementwise in m)."""
    if shared is None:
        return np.asarray(compute(couplings, widths, m))
    value = shared.values.get(key)
    if value is None:
        if shared.parent is not None:
            assert shared.where is not None
            with np.errstate(all="ignore"):  # masses outside the selection may be unphysical
                parent = shared.parent
                whole = _derived(parent, key, compute, parent.couplings, parent.widths, parent.m)
            value = _select_masses(whole, shared.where, shared.parent.m.shape[1])
        else:
            value = np.asarray(compute(shared.couplings, shared.widths, shared.m))
        value.flags.writeable = False
        shared.values[key] = value
    return value


def _weighted_sum(terms: list[tuple[Any, NDArray]]) -> NDArray:
    """sum_k w_k P_k of the production terms [(w_k, P_k)], summed from 0 in their order."""
    total: NDArray = np.zeros(())
    for w, p in terms:
        total = total + w * p
    return total


def _production(mechanism: str, couplings: Mapping, _widths: Mapping, m: NDArray) -> NDArray:
    return production_factor(mechanism, couplings, m)


def _lifetime_of_total(couplings: Mapping, widths: Mapping, m: NDArray) -> NDArray:
    """Lifetime (s) from the total width, as ``_lifetime(_total(...))``."""
    return _lifetime(_total(couplings, widths, m))


def _total(_couplings: Mapping, widths: Mapping, _m: NDArray) -> NDArray:
    return decays.total_from_widths(widths)


def _with_pi_pi(widths: dict[str, NDArray], couplings: dict, m: NDArray) -> dict[str, NDArray]:
    """``widths`` plus ``pi_pi``: X -> pi+ pi- through rho mixing (part of ``hadrons``).

    Gamma = m/(12 pi) |a_rho|^2 R^{pi pi, rho}(m), a_rho = 2 tr(T_rho Q) = g_u - g_d, with the VMD
    curve of :func:`zprime_atlas.decays.vmd_curve` (docs/physics/decays.md).
    """
    a_rho = np.asarray(couplings["u"]) - np.asarray(couplings["d"])
    abs2 = a_rho.real**2 + a_rho.imag**2 if np.iscomplexobj(a_rho) else a_rho**2
    curve = decays.vmd_curve("pi+_pi-", "rho0", np.atleast_1d(m)).reshape(np.shape(m))
    out = dict(widths)
    out["pi_pi"] = np.broadcast_to(abs2 * m / (12.0 * math.pi) * curve, widths["e_e"].shape)
    return out


def _restricted_total(widths: Mapping[str, NDArray], states: tuple[str, ...]) -> NDArray:
    """Total width, or the sum over ``states`` when the reference assumes only these channels."""
    if not states:
        return decays.total_from_widths(widths)
    total = np.zeros(np.shape(widths["e_e"]))
    for channel in states:
        total = total + widths[channel]
    return total


def _texkeys(meta: RecastMetadata) -> list[str]:
    keys = meta.extra.get("inspire", ())
    return [keys] if isinstance(keys, str) else list(keys)


def _default_kind(meta: RecastMetadata) -> str:
    if meta.final_states == (INVISIBLE,):
        return "invisible"
    return "displaced" if meta.lifetime.kind == "displaced" else "visible"


def _lifetime(width: NDArray) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        return np.where(width > 0, HBAR_GEV_S / width, math.inf)


def __dir__() -> list[str]:
    return list(__all__)
