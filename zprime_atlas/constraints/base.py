"""The constraint interface: every experiment maps (m_X, g_X, eps, charges) to an exclusion ratio r.

A constraint answers two questions, both vectorized over masses, couplings, mixings and model batches:

- ``ratio(m_X, g_X, model, eps=0, eps_over_g=None)``: r >= 1 excluded at the stated CL, r < 1 allowed,
  NaN where the constraint says nothing (outside its mass range or in a vetoed window). Rate-based
  limits use r = predicted / excluded signal; chi^2 tests use r = Delta chi^2 / Delta chi^2_crit.
- ``limit(m_X, model, eps_over_g=0.0, eps=None)``: the smallest excluded g_X > 0; NaN outside the mass
  range; +inf where the constraint is in range but excludes no coupling. Never clipped.

Anything combining constraints treats NaN as "no constraint", never as excluded.

The public methods check the inputs and parse the mixing arguments (eps, eps_over_g, loop_scale)
once, into a :class:`~zprime_atlas.couplings.Mixing`; a built-in constraint implements physics hooks
only, on validated arrays (masses in GeV):

- ``_ratio(m, g, model, mix)``: r (the base sets NaN outside :attr:`Constraint.mass_range`);
- ``_intervals(m, model, mix)``: the excluded g_X intervals, and/or ``_limit(m, model, mix)``: the
  smallest excluded g_X (each defaults to the other);
- optionally ``_g2_form(m, g2_min, g2_max, model, mix)``: r in closed form in g (:class:`G2Form`),
  with, where r = r1 g^2 E(tau1/g^2), ``_lifetime_form(m, model, mix)`` (:class:`LifetimeForm`:
  the numbers that form is built from, which the engine's compiled kernel starts from),
  and ``_point_form(...)``: the points where r < 1 at every coupling, and r at the others
  (:class:`PointForm`); the grid engine uses them to count excluded couplings without evaluating r
  at every coupling of every point.

A subclass may instead override ``ratio`` and ``limit`` (and ``excluded_intervals``) themselves, the
interface of earlier versions, which third-party plugins use; it then parses the mixing itself
(:func:`limit_mixing`, :meth:`Mixing.parse`). See docs/physics/constraints.md.
"""

from __future__ import annotations

import math
from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_coupling, as_mass
from ..couplings import Mixing
from ..models import Model
from .solve import G_SCAN_GRID, bisect_log, intervals_by_scan

__all__ = [
    "G_SCAN_GRID",
    "CompiledRatio",
    "Constraint",
    "ConstraintInfo",
    "G2Form",
    "LifetimeForm",
    "PointForm",
    "bisect_log",
    "intervals_by_scan",
    "limit_mixing",
]


def limit_mixing(
    eps: ArrayLike | str | Mixing | None,
    eps_over_g: ArrayLike | None,
    loop_scale: float | None = None,
) -> Mixing:
    """The mixing of a ``limit()`` call: ``eps`` (fixed or "loop") if given, else ``eps_over_g``.

    ``limit`` defaults to eps_over_g = 0; giving a non-zero eps_over_g together with eps is an error.
    """
    if eps is not None:
        if (
            eps_over_g is not None
            and not isinstance(eps_over_g, str)
            and np.any(np.asarray(eps_over_g, dtype=float) != 0)
        ):
            raise ValueError("give eps or eps_over_g, not both")
        return Mixing.parse(eps, None, loop_scale)
    return Mixing.parse(None, 0.0 if eps_over_g is None else eps_over_g, loop_scale)


@dataclass(frozen=True)
class G2Form:
    """r(g) of a constraint in closed form at each point (model, mass, mixing), for eps proportional
    to g_X, as :meth:`Constraint._g2_form` returns it (arrays broadcast over the points; the coupling
    axis has length 1):

    - where ``prompt``: r(g) = r1 * g**2 at every coupling of the point, bit for bit what ``_ratio``
      returns (a prompt search: rates scale as g^2, branching ratios do not depend on g);
    - where ``dead``: r(g) = (r1 * g**2) * 0.0 (0, or NaN where r1 g^2 is not finite), bit for bit
      (a beam dump whose decay probability underflows to 0.0 at every coupling of the point);
    - elsewhere r must be evaluated coupling by coupling.

    Both are exact statements about the floating-point result for every coupling g with g**2 in
    the [g2_min, g2_max] the form was computed for (decay probabilities are monotonic in g).
    """

    r1: NDArray[np.float64]
    prompt: NDArray[np.bool_]
    dead: NDArray[np.bool_]
    #: points where r is finite and < 1 at every coupling (guaranteed with a margin far above
    #: rounding), though not in closed form: enough for a compact summary (counts and silence)
    below: NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class LifetimeForm:
    """r(g) = r1 g^2 E(tau1 / g^2; t0, t1) of a search with eps proportional to g_X, as
    :meth:`Constraint._lifetime_form` returns it: rates scale as g^2, the lifetime as 1/g^2, and
    E = exp(-t0/tau) - exp(-t1/tau) is the fraction of decays inside the window [t0, t1] (s).

    ``r1`` per point (model, mass, mixing; coupling axis of length 1), ``tau1`` the lifetime at
    g = 1 (s) per point, or None for a search without lifetime cut (E = 1); ``t0``, ``t1`` per mass.
    The engine's compiled summary (:mod:`zprime_atlas._kernels`) starts from these numbers; the
    :class:`G2Form` built from them is its numpy reference.
    """

    r1: NDArray[np.float64]
    tau1: NDArray[np.float64] | None
    t0: NDArray[np.float64]
    t1: NDArray[np.float64]


@dataclass(frozen=True)
class PointForm:
    """r of a constraint point by point, as :meth:`Constraint._point_form` returns it, for a
    summary that needs, per point (model, mass, mixing), only the excluded couplings and whether r
    says anything:

    - ``below``: points where r is finite and < 1 at every coupling of the point, guaranteed with
      a margin far above rounding (e.g. the exact range of a rate shift over the couplings);
    - ``above``: points where r is finite and >= 1 at every coupling, guaranteed alike;
    - ``ratio_at(index, g)``: r at the points ``index`` (a tuple of index arrays into the point
      grid) for their couplings ``g`` (one row per point), bit for bit what ``_ratio`` gives there;
    - ``compiled`` (optional): the same r as one of the formulas of the engine's compiled kernel
      (:class:`CompiledRatio`), which then evaluates it at each coupling of the undecided points
      without gathering them; ``ratio_at`` stays the reference and the path without numba.
    """

    below: NDArray[np.bool_]
    above: NDArray[np.bool_]
    ratio_at: Callable[[tuple[NDArray[np.intp], ...], NDArray[np.float64]], NDArray[np.float64]]
    compiled: CompiledRatio | None = None


@dataclass(frozen=True)
class CompiledRatio:
    """r(g) of a :class:`PointForm` as a formula of :func:`zprime_atlas._kernels.point_ratio_marks`
    (``formula``, a key of ``_kernels.POINT_FORMULAS``, whose docstring gives each formula's
    arithmetic step by step): its ``coefficients`` per point (real, broadcasting to the point grid
    with a coupling axis of length 1) and its scalar ``constants``, in the formula's order."""

    formula: str
    coefficients: tuple[ArrayLike, ...]
    constants: tuple[float, ...]


def _at_points(value: ArrayLike, shape: tuple[int, ...], index: tuple[NDArray[np.intp], ...]
               ) -> NDArray:  # fmt: skip
    """``value`` (broadcast to the point grid ``shape``, coupling axis of length 1) at the points
    ``index``, as a column (one row per point): what a :class:`PointForm`'s ``ratio_at`` combines
    with the points' couplings."""
    return np.broadcast_to(value, shape)[..., 0][index][:, None]


@dataclass(frozen=True)
class ConstraintInfo:
    """Descriptive metadata of a constraint (what ``zprime-atlas list`` prints)."""

    name: str
    title: str
    citation: tuple[str, ...]
    mass_range: tuple[float, float]
    cl: float
    notes: str
    verified: bool = False
    journal: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    #: Kind of search: visible | invisible | dump | displaced | ... ("" when not a search).
    kind: str = ""
    experiment: str = ""
    year: int | None = None
    #: Display label and plot family (recast files may set them; "" = the plotting defaults).
    label: str = ""
    family: str = ""
    #: "published" or "superseded"; superseded constraints are not in names()/all() by default.
    status: str = "published"
    supersedes: tuple[str, ...] = ()
    #: Model whose coupling the published numbers limit (recasts), "" otherwise.
    reference: str = ""
    #: (mass [GeV], g_X) where plots put the label; None: placed automatically near the region's
    #: strongest point (recast files: ``label_position = [m, g]``).
    label_position: tuple[float, float] | None = None


Intervals = list[tuple[NDArray[np.float64], NDArray[np.float64]]]


class Constraint(ABC):
    """Base class of every constraint: :attr:`info`, and the hooks or methods of the module docstring."""

    info: ConstraintInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def citation(self) -> tuple[str, ...]:
        return self.info.citation

    @property
    def mass_range(self) -> tuple[float, float]:
        """(m_min, m_max) in GeV over which the constraint says something."""
        return self.info.mass_range

    @property
    def cl(self) -> float:
        return self.info.cl

    @property
    def notes(self) -> str:
        return self.info.notes

    def in_range(self, m_X: ArrayLike) -> NDArray[np.bool_]:
        """True where the mass [GeV] lies inside :attr:`mass_range` (inclusive)."""
        m = as_mass(m_X)
        lo, hi = self.mass_range
        return (m >= lo) & (m <= hi)

    # -- the public interface: validation and mixing parsed once ---------------------------------

    def ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Exclusion ratio r (>= 1 excluded, NaN = no statement); all arguments broadcast. GeV."""
        m = as_mass(m_X)
        g = as_coupling(g_X)
        return self._ratio_in_range(m, g, model, Mixing.parse(eps, eps_over_g, loop_scale))

    def limit(
        self,
        m_X: ArrayLike,
        model: Model,
        eps_over_g: ArrayLike | None = 0.0,
        eps: ArrayLike | str | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        """Smallest excluded g_X > 0 (NaN out of range, +inf if nothing is excluded). GeV."""
        m = as_mass(m_X)
        mix = limit_mixing(eps, eps_over_g, loop_scale)
        return self._outside_range_nan(m, self._limit(m, model, mix))

    def excluded_intervals(
        self,
        m_X: ArrayLike,
        model: Model,
        eps_over_g: ArrayLike | None = 0.0,
        eps: ArrayLike | str | None = None,
        loop_scale: float | None = None,
    ) -> Intervals:
        """All excluded g_X intervals as a list of (lower, upper) array pairs, lowest first.

        (inf, inf) pads unused slots; NaN outside the mass range. A constraint that only knows its
        limit has one interval, [limit, +inf).
        """
        if _overrides(self, "limit") and not _overrides(self, "_intervals"):
            # Written against the earlier interface (limit() overridden): [limit, inf), as before.
            lower = self.limit(m_X, model, eps_over_g=eps_over_g, eps=eps, loop_scale=loop_scale)
            return [(lower, np.where(np.isnan(lower), np.nan, math.inf))]
        m = as_mass(m_X)
        mix = limit_mixing(eps, eps_over_g, loop_scale)
        return [
            (self._outside_range_nan(m, lo), self._outside_range_nan(m, hi))
            for lo, hi in self._intervals(m, model, mix)
        ]

    # -- the physics hooks ------------------------------------------------------------------------

    def _ratio(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        """r at validated masses m [GeV] and couplings g for the parsed mixing."""
        raise NotImplementedError(f"{type(self).__name__} implements neither ratio() nor _ratio()")

    def _limit(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> NDArray[np.float64]:
        """Smallest excluded g_X; by default the lower end of the first of :meth:`_intervals`."""
        if not _overrides(self, "_intervals"):
            raise NotImplementedError(
                f"{type(self).__name__} implements none of limit(), _limit() and _intervals()"
            )
        return self._intervals(m, model, mix)[0][0]

    def _intervals(self, m: NDArray[np.float64], model: Model, mix: Mixing) -> Intervals:
        """Excluded g_X intervals; by default the single interval [_limit, +inf)."""
        lower = self._limit(m, model, mix)
        return [(lower, np.where(np.isnan(lower), np.nan, math.inf))]

    def _g2_form(
        self, m: NDArray[np.float64], g2_min: NDArray[np.float64], g2_max: NDArray[np.float64],
        model: Model, mix: Mixing,
    ) -> G2Form | None:
        """r in closed form in g at validated masses (:class:`G2Form`), valid for every coupling
        with ``g2_min <= g**2 <= g2_max`` (per point, coupling axis of length 1); None when there is
        none (the default): the engine then evaluates :meth:`_ratio` at every coupling."""
        return None

    def _lifetime_form(
        self, m: NDArray[np.float64], model: Model, mix: Mixing
    ) -> LifetimeForm | None:
        """r = r1 g^2 E(tau1/g^2; t0, t1) at validated masses (:class:`LifetimeForm`), the numbers
        :meth:`_g2_form` is built from; None (the default) when r is not of this form."""
        return None

    def _point_form(
        self, m: NDArray[np.float64], g2_min: NDArray[np.float64], g2_max: NDArray[np.float64],
        model: Model, mix: Mixing,
    ) -> PointForm | None:
        """r point by point (:class:`PointForm`) for couplings with ``g2_min <= g**2 <= g2_max``
        (per point, coupling axis of length 1); None (the default) when there is none."""
        return None

    def _ratio_in_range(
        self, m: NDArray[np.float64], g: NDArray[np.float64], model: Model, mix: Mixing
    ) -> NDArray[np.float64]:
        """:meth:`_ratio` with NaN outside the mass range (what :meth:`ratio` returns)."""
        return self._outside_range_nan(m, self._ratio(m, g, model, mix))

    def _outside_range_nan(self, m: NDArray[np.float64], values: ArrayLike) -> NDArray[np.float64]:
        return np.where(self.in_range(m), values, np.nan).astype(np.float64, copy=False)

    def __repr__(self) -> str:
        lo, hi = self.mass_range
        return f"<Constraint {self.name}: {self.title}; {lo:g}-{hi:g} GeV, {self.cl:.0%} CL>"


def _overrides(obj: Constraint, method: str) -> bool:
    """Whether the class of ``obj`` defines ``method`` itself rather than inheriting Constraint's."""
    return getattr(type(obj), method) is not getattr(Constraint, method)


def __dir__() -> list[str]:
    return list(__all__)
