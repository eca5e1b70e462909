"""The grid engine: every constraint over models x masses x mixings x couplings, chunked and parallel.

Axes are an outer product:

- models: a model batch, flattened (N); a 2-D family such as the alpha-R plane keeps its own axes in
  ``family`` metadata;
- masses m_X in GeV (M);
- mixing values (K): ``eps`` (fixed), ``eps_over_g``, ``"loop"`` (K = 1), or the survey's effective
  electron charge xi = x_e - e eps/g_X (``mix_kind = "xi"``, eps_over_g = (x_e - xi)/e per model);
- couplings (G): either ``g_X`` (one array for every point) or ``gm2=dataset``: ``n_g`` values spread
  geometrically across each point's (g-2)_mu band, edges included.

Each constraint's ``ratio`` is evaluated on whole chunks of the model axis (array-in, array-out; no
loop over grid points). Chunks go to joblib workers (``backend="loky"`` locally; ``"dask"`` with a
``distributed.Client`` or ``"ray"`` on a cluster) and come back unordered; the calling process alone
writes them (HDF5 is single-writer), so memory is bounded by the chunk size. With ``out=`` every chunk
is written as it arrives and ``resume=True`` skips chunks already marked done.

Storage per constraint (``store``): ``"ratio"`` keeps r (float32, N x M x K x G); ``"summary"`` keeps,
per (model, mass, mix), the number of couplings it excludes and its smallest r over the couplings.
A summary *file*, a survey and a summary that ``"auto"`` chose for size keep instead of the smallest
r, per (model, mass), whether the constraint says nothing at any mixing and coupling (and a file the
band edges to 16 mantissa bits): the default alpha-R file is 17 MB instead of 129 MB, the default
survey in memory 0.7 GB instead of 2.9 GB (:mod:`zprime_atlas.store`). ``"auto"`` picks ratio up to
5e6 grid points (the survey always stores summaries). ``allowed`` (every r < 1, NaN =
no constraint) is always kept at full resolution.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels, catalogue
from . import constraints as _registry
from . import gm2 as _gm2
from . import store as _store
from ._memory import Prefault, keep_freed_memory, keep_freed_memory_for_good, large_zeros
from ._validate import as_coupling, as_mass
from .constants import E_CHARGE, FERMIONS
from .constraints.base import Constraint, G2Form, LifetimeForm
from .couplings import Mixing
from .models import GENERATORS, Model
from .result import ScanResult, band_couplings, load

__all__ = [
    "ScanPlan",
    "ScanResult",
    "band_couplings",
    "default_xi",
    "execute",
    "load",
    "plan_scan",
    "scan",
    "survey",
]

_AUTO_RATIO_LIMIT = 5_000_000
#: Grid points (models x masses x mixings x couplings) per chunk: a scan's total / 8 (at least 8
#: chunks for the workers), between 1e6 and 2e6. Chunks of 2e6 points instead of 1e6 made the
#: survey 418 x 200 x 128 5-10% faster with one job and 10-20% with two threads (half the chunks:
#: half the per-chunk work in Python; peak 1.25 GB with two threads) and the alpha-R plane 400^2 x
#: 64 up to 10% faster with two threads; 4e6 was slower on alpha-R (the chunk's arrays leave the
#: cache) and reached 1.6 GB with two threads.
#: With many masses the upper bound grows, to at most twice (_MASSES_PER_DOUBLING masses: see
#: :func:`_chunk_points`).
_MIN_CHUNK_POINTS = 1_000_000
_MAX_CHUNK_POINTS = 2_000_000
_CHUNKS_WANTED = 8
_MASSES_PER_DOUBLING = 160


def _chunk_points(n_models: int, per_model: int, n_masses: int = 1) -> int:
    """Grid points per chunk for ``n_models`` models of ``per_model`` points each (at least one
    model's) over ``n_masses`` masses.

    A chunk pays a setup for every constraint at each of its masses (tables interpolated there,
    widths and kinematics per mass) besides the work per point: measured (a chunk of a few
    thousand points) ~8 ms per chunk at one mass and ~18 ms at 200, i.e. ~8 ms (1 + M / 160).
    The upper bound grows by that factor, up to 2x, so that the setup stays the same share of a
    chunk: the survey 418 x 200 x 128 (8 -> 16 models per chunk) 5% faster with one job and
    12-17% with two threads (peaks 1.07 -> 1.21 GB and 1.22 -> 1.53 GB), while the alpha-R plane
    at one mass keeps 2e6 (4e6 there was slower with two threads: its arrays leave the cache)."""
    factor = min(2.0, 1.0 + max(0, n_masses - 1) / _MASSES_PER_DOUBLING)
    upper = int(_MAX_CHUNK_POINTS * factor)
    target = min(upper, max(_MIN_CHUNK_POINTS, n_models * per_model // _CHUNKS_WANTED))
    return max(per_model, target)


# -- specification ---------------------------------------------------------------------------------


@dataclass
class _Spec:
    """Everything a worker needs to evaluate a chunk (picklable)."""

    charges: NDArray[np.float64]  # (N, 12)
    dark: tuple[NDArray[np.float64], float]
    masses: NDArray[np.float64]  # (M,)
    mix_kind: str  # eps | eps_over_g | loop | xi
    mix_values: NDArray[np.float64]  # (K,)
    loop_scale: float | None
    g_explicit: NDArray[np.float64] | None  # (G,) or None
    dataset: str
    nsigma: float
    n_g: int
    constraints: list[Constraint]
    store: str
    #: a summary returns, per constraint, where it is silent (N x M bytes) instead of its smallest
    #: r per mixing (N x M x K floats): what a file or a compact result keeps, and what a worker
    #: then sends back
    compact: bool = False

    @property
    def shape(self) -> tuple[int, int, int, int]:
        g = len(self.g_explicit) if self.g_explicit is not None else self.n_g
        return (len(self.charges), len(self.masses), len(self.mix_values), g)


def _model_chunk(spec: _Spec, start: int, stop: int) -> Model:
    charges = spec.charges[start:stop]
    x = Model({f: charges[:, i][:, None, None, None] for i, f in enumerate(FERMIONS)})
    x_dark, m_dark = spec.dark
    if np.any(x_dark):
        x = x.with_dark_sector(x_dark[start:stop][:, None, None, None], m_dark)
    return x


def _mixing_kwargs(spec: _Spec, x: Model) -> dict[str, Any]:
    k = spec.mix_values[None, None, :, None]
    if spec.mix_kind == "eps":
        return {"eps": k}
    if spec.mix_kind == "eps_over_g":
        return {"eps_over_g": k}
    if spec.mix_kind == "loop":
        return {"eps": "loop", "loop_scale": spec.loop_scale}
    # xi = x_e - e eps/g  ->  eps/g = (x_e - xi)/e, per model
    return {"eps_over_g": (x.charge("e") - k) / E_CHARGE}


def _evaluate_chunk(spec: _Spec, start: int, stop: int) -> tuple[int, int, dict[str, NDArray]]:
    """Band, couplings, allowed and per-constraint results for models [start, stop)."""
    from .recast import shared_evaluation

    with keep_freed_memory(), shared_evaluation():
        return _evaluate(spec, start, stop)


def _sliced(spec: _Spec, start: int, stop: int) -> _Spec:
    """The spec of one chunk, with only its models (what is sent to a worker)."""
    return replace(
        spec,
        charges=spec.charges[start:stop],
        dark=(spec.dark[0][start:stop], spec.dark[1]),
    )


class _Shipped(list):
    """The scan's constraints as sent to worker processes: pickled once per scan (not once per
    chunk), and unpickled once per worker (:func:`_received`), so that a worker's constraints keep
    what they computed for earlier chunks (e.g. a recast's reference quantities per mass, the
    same for every chunk) instead of arriving new with every chunk. The same objects' state as
    pickling each chunk's: only how often it is unpickled changes."""

    _payload: tuple[str, bytes] | None = None

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        if self._payload is None:
            import hashlib
            import pickle

            data = pickle.dumps(list(self), protocol=pickle.HIGHEST_PROTOCOL)
            self._payload = (hashlib.sha256(data).hexdigest(), data)
        return _received, self._payload


#: constraint sets a worker process has received, by the sha256 of their pickle (a few kept)
_RECEIVED: dict[str, list[Constraint]] = {}
_RECEIVED_KEPT = 2


def _received(digest: str, data: bytes) -> list[Constraint]:
    """In a worker: the constraints of ``data`` (a pickle), unpickled the first time its digest is
    seen and the same objects after that."""
    found = _RECEIVED.pop(digest, None)
    if found is None:
        import pickle

        found = pickle.loads(data)
    _RECEIVED[digest] = found  # most recently used last
    while len(_RECEIVED) > _RECEIVED_KEPT:
        del _RECEIVED[next(iter(_RECEIVED))]
    return found


def _evaluate_sliced(spec: _Spec, start: int, stop: int, parent: int | None = None
                     ) -> tuple[int, int, dict[str, NDArray]]:  # fmt: skip
    if parent is not None and os.getpid() != parent:
        _watch_parent(parent)
        keep_freed_memory_for_good()  # a loky worker only evaluates chunks (see _memory)
    _, _, res = _evaluate_chunk(spec, 0, stop - start)
    return start, stop, res


_WATCHING: set[int] = set()


def _watch_parent(parent: int) -> None:
    """In a worker process: exit as soon as the scan's process ``parent`` is gone (killed, even with
    SIGKILL), instead of idling until the pool's timeout. Started once per worker."""
    if parent in _WATCHING:
        return
    _WATCHING.add(parent)
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="zprime-atlas-parent-watch", daemon=True).start()


def _ratio_inside(
    c: Constraint, masses: NDArray, m: NDArray, g: NDArray, x: Model, mix: dict[str, Any],
    shape4: tuple[int, int, int, int], subsets: dict[bytes, tuple[Any, NDArray, NDArray]],
) -> tuple[slice | NDArray[np.int64] | None, NDArray | None]:
    """r of one constraint at the masses inside its range only: (those masses' indices, a slice
    when they are contiguous, or None for all of them; r there). (None, None) when no mass of
    the scan is inside: the constraint says nothing (NaN) everywhere, and a search of 0.02-10 GeV
    costs nothing at 1 MeV.

    ``subsets`` keeps one (indices, masses, couplings) triple per mass selection alive for the whole
    chunk: the recasts' shared evaluation caches widths by the identity of the mass array, so the
    same selection must be the same object, and no id may be reused by a new array meanwhile.
    """
    sub = _in_range(c, masses, m, g, subsets)
    if sub is None:
        return None, None
    if sub[0] is None:
        return None, np.broadcast_to(_ratio_of(c, m, g, x, mix), shape4)
    idx, m_sub, g_sub = sub
    part = _ratio_of(c, m_sub, g_sub, x, mix)
    return idx, np.broadcast_to(part, (shape4[0], m_sub.shape[1], *shape4[2:]))


def _ratio_of(c: Constraint, m: NDArray, g: NDArray, x: Model, mix: dict[str, Any]) -> NDArray:
    """``c.ratio(m, g, x, **mix)`` at masses inside its range and couplings the engine has checked:
    the physics hook ``_ratio`` directly, without validating g again (a full pass over the chunk)
    and without the NaN-outside-the-range mask (a full copy), which change nothing here. A
    constraint that overrides ``ratio`` itself is called through it."""
    if type(c).ratio is not Constraint.ratio:
        return c.ratio(m, g, x, **mix)
    parsed = Mixing.parse(mix.get("eps", 0.0), mix.get("eps_over_g"), mix.get("loop_scale"))
    r = np.asarray(c._ratio(m, g, x, parsed))
    return r if r.dtype == np.float64 else r.astype(np.float64)


def _count_and_min(r: NDArray) -> tuple[NDArray[np.uint8], NDArray]:
    """Per (model, mass, mix): how many couplings are excluded (r >= 1; NaN is not), and the
    smallest r (NaN ignored).

    Reduced slice by slice along the short coupling axis (a few to a few tens of values): the same
    numbers as ``count_nonzero(r >= 1, axis=-1)`` and ``fmin.reduce(axis=-1)``, several times faster
    than a ufunc reduction over a short innermost axis, and without an excluded-mask the size of r.
    """
    count = (r[..., 0] >= 1.0).astype(np.uint8)
    low = np.array(r[..., 0], dtype=np.float64)
    for j in range(1, r.shape[-1]):
        count += r[..., j] >= 1.0
        np.fmin(low, r[..., j], out=low)
    return count, low


#: The share of a chunk's points (model, mass, mixing) without a closed form up to which a search
#: with a LifetimeForm is evaluated point by point (gathered); above it, at every point of the
#: masses concerned (a light beam dump: about a fifth of the points of a mass are undecided).
_POINTS_SHARE = 0.5


class _ClosedForms:
    """Summaries of the constraints whose r(g) is known in closed form at every point of a chunk
    (:class:`~zprime_atlas.constraints.base.G2Form`: prompt searches, r = r1 g^2, and beam dumps
    whose decay probability underflows, r = 0), without r at each coupling.

    With eps proportional to g, a prompt search needs r1 once per (model, mass, mixing) instead of
    r at every coupling: the excluded count is sum_j [r1 g_j^2 >= 1], the smallest r is
    fmin(r1 g2_min, r1 g2_max) (r1 g^2 is monotonic in g^2, and so is its rounding), and the largest
    r of all such searches at a coupling is (max_c r1_c) g^2, one product per chunk instead of one
    per search (rounding is monotonic: max_c fl(r1_c g^2) = fl(max_c(r1_c) g^2) for g^2 >= 0). Every
    number is the one the full evaluation gives, bit for bit (tests/test_engine_closed_forms.py).
    """

    def __init__(self, g_eval: NDArray, no_band: NDArray, mix: Mixing,
                 squares: list[NDArray] | None = None) -> None:  # fmt: skip
        """``squares``: (g2, g2_min, g2_max) as computed here, already at hand
        (:func:`zprime_atlas._kernels.band_points`)."""
        self.mix = mix
        if squares is not None:
            self.g2, self.g2_min, self.g2_max = squares
        else:
            self.g2 = g_eval * g_eval  # what the recasts compute as g**2
            n_g = self.g2.shape[-1]
            self.g2_min = np.array(self.g2[..., :1])
            self.g2_max = np.array(self.g2[..., :1])
            for j in range(1, n_g):
                np.minimum(self.g2_min, self.g2[..., j : j + 1], out=self.g2_min)
                np.maximum(self.g2_max, self.g2[..., j : j + 1], out=self.g2_max)
        self.no_band = no_band[..., None]
        self.high: NDArray | None = None  # max r1 over the prompt searches, (N, M, K, 1)
        self.blocked: NDArray[np.bool_] | None = None  # r >= 1 at every coupling, (N, M, K)
        self.hit: NDArray[np.bool_] | None = None  # r >= 1 at a coupling, flat (N M K G)

    def summary(self, c: Constraint, where: slice | NDArray[np.int64], m: NDArray, x: Model,
                compact: bool = False
                ) -> tuple[NDArray[np.uint8], NDArray, NDArray[np.intp]] | None:  # fmt: skip
        """(excluded count, smallest r, the masses left) of ``c`` at the masses ``where`` (``m``
        those masses). Points without a closed form are evaluated here at each of their couplings
        when ``c`` gives a :class:`~zprime_atlas.constraints.base.LifetimeForm` and they are at most
        :data:`_POINTS_SHARE` of the points; otherwise the masses (indices of the chunk's mass axis)
        where some point has none are left to be evaluated at every coupling (their count and r
        here are not final). None when no mass has a closed form at every point or ``c`` has none.
        ``compact``: only counts and silence are wanted, so points where r < 1 at every coupling
        (``below``) count 0 like dead ones (their smallest r here is then only a finite stand-in,
        as for the points evaluated here)."""
        lifetime = c._lifetime_form(m, x, self.mix)
        n_points = self.g2.size // self.g2.shape[-1]
        if lifetime is not None and _kernels.enabled(n_points):
            return self._compiled_summary(lifetime, where, compact)
        g2, lo, hi = self.g2[:, where], self.g2_min[:, where], self.g2_max[:, where]
        form: G2Form | None
        if lifetime is not None:
            from .constraints.recast.darkcast import closed_form

            form = closed_form(lifetime, lo, hi)
        else:
            form = c._g2_form(m, lo, hi, x, self.mix)
        if form is None:
            return None
        shape = lo.shape
        prompt = np.broadcast_to(form.prompt, shape)
        dead = np.broadcast_to(form.dead, shape)
        decided = prompt | dead | self.no_band[:, where]
        if compact and form.below is not None:  # r < 1 everywhere: counts 0, says something
            below = np.broadcast_to(form.below, shape) & ~decided
            dead = dead | below
            decided = decided | below
        alive = ~decided
        alive_masses = np.any(alive, axis=(0, 2, 3))
        todo = np.flatnonzero(alive) if lifetime is not None else None
        by_point = todo is not None and todo.size <= _POINTS_SHARE * alive.size
        if alive_masses.all() and not by_point:
            return None
        index = np.arange(self.g2.shape[1])[where]
        rest = index[alive_masses]  # evaluated at every coupling
        r1 = np.broadcast_to(form.r1, shape)
        rp = np.where(prompt, r1, np.nan)  # NaN: no exclusion, ignored by fmax
        with np.errstate(invalid="ignore", over="ignore"):
            at_lo, at_hi = rp * lo, rp * hi
            low = np.where(prompt, np.fmin(at_lo, at_hi), (r1 * lo) * 0.0)[..., 0]
        # r1 g^2 >= 1 at every coupling where it is so at the smallest, at none where it is not so
        # at the largest (rounding is monotonic); only the points in between are counted one by one
        n_g = g2.shape[-1]
        every = (at_lo >= 1.0)[..., 0]
        count = np.where(every, np.uint8(n_g), np.uint8(0))
        between = np.nonzero(~every & (at_hi >= 1.0)[..., 0])
        if between[0].size:
            r_b = rp[..., 0][between][:, None]
            count[between] = np.count_nonzero(r_b * g2[between] >= 1.0, axis=1)
        rp = rp[..., 0]
        if self.high is None:
            self.high = np.full(self.g2_min.shape, np.nan)
        part = self.high[:, where]  # a view for a slice, a copy for indices (written back)
        np.fmax(part[..., 0], rp, out=part[..., 0])
        if not isinstance(where, slice):
            self.high[:, where] = part
        if by_point:
            assert lifetime is not None
            assert todo is not None
            self._at_points(lifetime, todo, index, count, low, compact)
            rest = rest[:0]
        return count, low, rest

    def _compiled_summary(self, form: LifetimeForm, where: slice | NDArray[np.int64], compact: bool
                          ) -> tuple[NDArray[np.uint8], NDArray, NDArray[np.intp]] | None:  # fmt: skip
        """:meth:`summary` of a search with a :class:`LifetimeForm`, by the compiled kernel
        (:func:`zprime_atlas._kernels.recast_summary`): the same numbers in one pass."""
        from .constraints.recast.darkcast import _EXP_SATURATED, _EXP_UNDERFLOW

        n, n_m, n_k = self.g2.shape[:3]
        index = np.arange(n_m)[where]
        ms = index.size
        r1 = np.broadcast_to(form.r1, (n, ms, n_k, 1))[..., 0]
        tau1 = None if form.tau1 is None else np.broadcast_to(form.tau1, (n, ms, n_k, 1))[..., 0]
        t0 = np.ascontiguousarray(np.broadcast_to(form.t0, (1, ms, 1, 1)).reshape(ms), np.float64)
        t1 = np.ascontiguousarray(np.broadcast_to(form.t1, (1, ms, 1, 1)).reshape(ms), np.float64)
        if self.high is None:
            self.high = np.full(self.g2_min.shape, np.nan)
        count, low, alive = _kernels.recast_summary(
            r1, tau1, t0, t1, index, self.g2, self.g2_min[..., 0], self.g2_max[..., 0],
            self.no_band[..., 0], self.high[..., 0], compact, _EXP_UNDERFLOW, _EXP_SATURATED,
        )
        todo = np.flatnonzero(alive)
        if todo.size > _POINTS_SHARE * alive.size:
            alive_masses = np.any(alive, axis=(0, 2))
            if alive_masses.all():
                # like the numpy path: r at every coupling of every mass (the prompt points' r1 now
                # in the largest r is what that evaluation adds there too: nothing changes)
                return None
            return count, low, index[alive_masses]
        self._at_points(form, todo, index, count, low, compact)
        return count, low, index[:0]

    def _at_points(self, form: LifetimeForm, todo: NDArray[np.intp], index: NDArray[np.intp],
                   count: NDArray[np.uint8], low: NDArray, compact: bool) -> None:  # fmt: skip
        """Evaluate r = (r1 g^2) E(tau1/g^2) at each coupling of the points ``todo`` (flat indices
        into the (N, masses ``index``, K) grid of ``count``): their excluded count, smallest r
        (``compact``: a stand-in, NaN exactly where r says nothing), and marks of the excluded
        couplings for :meth:`restrict` (the largest r per coupling matters only against 1)."""
        from .constraints.recast.darkcast import lifetime_ratio

        if not todo.size:
            return
        shape = count.shape
        _, m_all, k_all, n_g = self.g2.shape
        at_points = np.unravel_index(todo, shape)
        rows = (at_points[0] * m_all + index[at_points[1]]) * k_all + at_points[2]
        g2 = np.take(self.g2.reshape(-1, n_g), rows, axis=0)
        point_shape = (*shape, 1)

        def column(value: NDArray) -> NDArray:
            return np.broadcast_to(value, point_shape)[..., 0][at_points][:, None]

        tau1 = None if form.tau1 is None else column(form.tau1)
        if tau1 is not None and _kernels.enabled(self.g2.size // n_g):  # one pass each side of exp
            hit = np.zeros(self.g2.size, dtype=bool) if self.hit is None else self.hit
            if _kernels.lifetime_marks(column(form.r1), tau1, g2, column(form.t0),
                                       column(form.t1), todo, rows, count, low, hit, compact):
                self.hit = hit
            return
        r = lifetime_ratio(column(form.r1), tau1, g2, column(form.t0), column(form.t1))
        count[at_points], smallest = _count_and_min(r)
        # fmin ignores NaN: the smallest r is NaN exactly where r says nothing at any coupling
        low[at_points] = np.where(np.isnan(smallest), np.nan, 0.0) if compact else smallest
        row, col = np.nonzero(r >= 1.0)
        if row.size:
            if self.hit is None:
                self.hit = np.zeros(self.g2.size, dtype=bool)
            self.hit[rows[row] * n_g + col] = True

    def points(self, c: Constraint, where: slice | NDArray[np.int64], m: NDArray, x: Model,
               g: NDArray) -> tuple[NDArray[np.uint8], NDArray, NDArray[np.intp]] | None:
        """(excluded count, a stand-in for the smallest r that is NaN exactly where r says nothing)
        of ``c`` at the masses ``where``, evaluating r only at the points its
        :class:`~zprime_atlas.constraints.base.PointForm` cannot decide for every coupling at once;
        marks the excluded couplings for :meth:`restrict`. None where ``c`` has no point form. For
        compact summaries only (they keep where a constraint is silent, not its smallest r)."""
        lo, hi = self.g2_min[:, where], self.g2_max[:, where]
        form = c._point_form(m, lo, hi, x, self.mix)
        if form is None:
            return None
        n_g = g.shape[-1]
        nb = self.no_band[:, where][..., 0]
        below = np.broadcast_to(form.below, lo.shape)[..., 0] | nb
        above = np.broadcast_to(form.above, lo.shape)[..., 0] & ~nb
        count = np.where(above, np.uint8(n_g), np.uint8(0))
        low = np.where(below | above, 0.0, np.nan)  # r finite there: says something
        n_all, m_all, k_all = self.g2.shape[:3]
        if self.blocked is None:
            self.blocked = np.zeros((n_all, m_all, k_all), dtype=bool)
        blocked = self.blocked[:, where]  # a view for a slice, a copy for indices (written back)
        blocked |= above  # r >= 1 at every coupling: not allowed anywhere there
        if not isinstance(where, slice):
            self.blocked[:, where] = blocked
        todo = np.flatnonzero(~(below | above))
        if todo.size:
            # rows of the (model, mass, mixing) grid of the whole chunk, for g and the marks
            if below.shape[1] == m_all:
                at = todo
            else:
                i_n, i_m, i_k = np.unravel_index(todo, below.shape)
                at = (i_n * m_all + np.arange(m_all)[where][i_m]) * k_all + i_k
            if _kernels.enabled(self.g2.size // n_g):  # the same marks in one compiled pass
                hit = np.zeros(self.g2.size, dtype=bool) if self.hit is None else self.hit
                marked = None
                if form.compiled is not None:  # r at each coupling inside the kernel, not stored
                    marked = _kernels.point_ratio_marks(
                        form.compiled.formula, form.compiled.coefficients, form.compiled.constants,
                        below.shape, todo, at, g.reshape(-1, n_g), count, low, hit,
                    )  # fmt: skip
                if marked is None:
                    r = form.ratio_at(np.unravel_index(todo, below.shape),
                                      np.take(g.reshape(-1, n_g), at, axis=0))  # fmt: skip
                    marked = _kernels.point_marks(np.asarray(r, dtype=np.float64), todo, at, count,
                                                  low, hit)  # fmt: skip
                if marked:
                    self.hit = hit
                return count, low, np.zeros(0, dtype=np.intp)
            r = form.ratio_at(np.unravel_index(todo, below.shape),
                              np.take(g.reshape(-1, n_g), at, axis=0))  # fmt: skip
            excluded = r >= 1.0
            silent = np.isnan(r[:, 0])
            for j in range(1, n_g):
                silent &= np.isnan(r[:, j])
            count.reshape(-1)[todo] = np.count_nonzero(excluded, axis=1)
            low.reshape(-1)[todo] = np.where(silent, np.nan, 0.0)
            row, col = np.nonzero(excluded)
            if row.size:
                if self.hit is None:
                    self.hit = np.zeros(self.g2.size, dtype=bool)
                self.hit[at[row] * n_g + col] = True
        return count, low, np.zeros(0, dtype=np.intp)

    def raise_highest(self, highest: NDArray) -> None:
        """Fold the prompt searches into the largest r per coupling (one product per chunk)."""
        if self.high is not None:
            with np.errstate(invalid="ignore", over="ignore"):
                np.fmax(highest, self.high * self.g2, out=highest)

    def restrict(self, allowed: NDArray[np.bool_]) -> None:
        """Not allowed where :meth:`points` found r >= 1: at every coupling of a point, or at
        single couplings (what raising the largest r there to r would give, without gathering
        and scattering rows of it)."""
        if self.blocked is not None:
            allowed &= ~self.blocked[..., None]
        if self.hit is not None:
            allowed &= ~self.hit.reshape(allowed.shape)


def _in_range(c: Constraint, masses: NDArray, m: NDArray, g: NDArray,
              subsets: dict[bytes, tuple[Any, NDArray, NDArray]]
              ) -> tuple[slice | NDArray[np.int64] | None, NDArray, NDArray] | None:  # fmt: skip
    """(indices of the masses inside the range of ``c``, a slice when contiguous or None for all;
    those masses; the couplings there), or None when no mass of the scan is inside. One triple per
    selection, kept in ``subsets`` for the chunk (see :func:`_ratio_inside`)."""
    lo, hi = c.mass_range
    inside = (masses >= lo) & (masses <= hi)
    if inside.all():
        return None, m, g
    if not inside.any():
        return None
    key = inside.tobytes()
    if key not in subsets:
        found = np.flatnonzero(inside)
        idx: slice | NDArray[np.int64] = (
            slice(int(found[0]), int(found[-1]) + 1)
            if found[-1] - found[0] + 1 == found.size else found
        )  # fmt: skip
        subsets[key] = _selection(idx, m, g)
    return subsets[key]


def _selection(where: slice | NDArray[np.int64], m: NDArray, g: NDArray
               ) -> tuple[slice | NDArray[np.int64], NDArray, NDArray]:  # fmt: skip
    """(where, the masses there, the couplings there), the masses declared a selection of the
    chunk's (recasts then select the couplings and widths of every mass, computed once)."""
    from .constraints.recast.darkcast import share_masses  # loaded by the first scan, not import

    m_where = m[:, where]
    share_masses(m_where, m, where)
    return where, m_where, g[:, where]


def _fill(count: NDArray[np.uint8], low: NDArray, where: slice | NDArray[np.int64],
          no_band: NDArray[np.bool_], count_sub: NDArray, low_sub: NDArray) -> None:  # fmt: skip
    """Store one constraint's excluded counts and smallest r at the masses ``where`` (no band: 0
    and NaN). A boolean ``low`` (N x M, a compact summary) keeps instead whether the constraint
    says something at some mixing of a (model, mass): some smallest r there is not NaN, what
    ``~all(isnan(low), axis=-1)`` of the float32 array gives (conversion keeps NaN and makes none)."""
    nb = no_band[:, where]
    count[:, where] = np.where(nb, 0, count_sub)
    if low.dtype == np.bool_:
        low[:, where] = np.any(~(nb | np.isnan(low_sub)), axis=-1)
        return
    with np.errstate(invalid="ignore", over="ignore"):
        low[:, where] = np.where(nb, np.float32(np.nan), low_sub.astype(np.float32))


def _evaluate(spec: _Spec, start: int, stop: int) -> tuple[int, int, dict[str, NDArray]]:
    x = _model_chunk(spec, start, stop)
    m = spec.masses[None, :, None, None]
    mix = _mixing_kwargs(spec, x)
    n = stop - start
    _, n_m, n_k, n_g = spec.shape
    band_kw = dict(mix)
    g_low, g_high = _gm2.band(x, m, dataset=spec.dataset, nsigma=spec.nsigma, **band_kw)
    shape4 = (n, n_m, n_k, n_g)
    g_low = np.broadcast_to(g_low, shape4)[..., 0]
    g_high = np.broadcast_to(g_high, shape4)[..., 0]
    out: dict[str, NDArray] = {"g_low": g_low, "g_high": g_high}
    compiled = _kernels.enabled(n * n_m * n_k)
    own = False  # g is this chunk's own array (written over by g_eval below)
    if spec.g_explicit is not None:
        g = np.broadcast_to(spec.g_explicit[None, None, None, :], shape4)
    elif compiled and n_g > 1:
        g = _kernels.band_couplings(g_low, g_high, n_g)  # the same numbers in fewer passes
        own = True
    else:
        g = band_couplings(g_low, g_high, n_g)
    squares = None
    if compiled:  # the steps below and the squares of _ClosedForms in one pass
        g_eval = g if own else np.array(g, dtype=np.float64)  # becomes g_eval in place
        has_g, *squares, no_band = _kernels.band_points(g_eval)
    else:
        has_g = np.isfinite(g)
        g_eval = np.where(has_g, g, 0.0)  # no band: evaluate at 0, marked not allowed below
        no_band = ~has_g[..., 0]  # a band is all-finite or all-NaN along the coupling axis
    # the largest r of any constraint (NaN ignored): allowed = band & (highest < 1), the same as
    # every r < 1, with one fmax per constraint instead of a mask and an in-place and
    # (allocated by the first constraint evaluated at every coupling: where closed and point forms
    # decide every constraint, as in the default scans and surveys, it is never needed)
    highest: NDArray | None = None
    subsets: dict[bytes, tuple[Any, NDArray, NDArray]] = {}
    parsed = Mixing.parse(mix.get("eps", 0.0), mix.get("eps_over_g"), mix.get("loop_scale"))
    closed = (_ClosedForms(g_eval, no_band, parsed, squares)
              if spec.store != "ratio" and parsed.proportional else None)  # fmt: skip
    for c in spec.constraints:
        count = np.zeros(shape4[:3], dtype=np.uint8)
        # a compact summary keeps where the constraint says something, not its smallest r
        low = (np.zeros(shape4[:2], dtype=bool) if spec.compact
               else np.full(shape4[:3], np.nan, dtype=np.float32))  # fmt: skip
        summary = None
        rest: NDArray[np.intp] | None = None  # all masses in range: None
        if closed is not None and type(c).ratio is Constraint.ratio:
            sub = _in_range(c, spec.masses, m, g_eval, subsets)
            if sub is not None:
                where = slice(None) if sub[0] is None else sub[0]
                summary = closed.summary(c, where, sub[1], x, spec.compact)
                if summary is None and spec.compact:
                    summary = closed.points(c, where, sub[1], x, g_eval)
                if summary is not None:
                    _fill(count, low, where, no_band, summary[0], summary[1])
                    rest = summary[2]
            else:
                rest = np.zeros(0, dtype=np.intp)  # no mass inside: silent everywhere
        if rest is None or rest.size:
            if rest is None:
                idx, r = _ratio_inside(c, spec.masses, m, g_eval, x, mix, shape4, subsets)
            else:  # the masses the closed forms left
                idx = rest
                key = b"rest" + rest.tobytes()
                if key not in subsets:
                    subsets[key] = _selection(rest, m, g_eval)
                _, m_rest, g_rest = subsets[key]
                r = np.broadcast_to(_ratio_of(c, m_rest, g_rest, x, mix),
                                    (n, rest.size, n_k, n_g))  # fmt: skip
            where = slice(None) if idx is None else idx
            if spec.store == "ratio":
                ratio = np.full(shape4, np.nan, dtype=np.float32)
                if r is not None:
                    with np.errstate(over="ignore"):  # r beyond float32's range is stored as inf
                        ratio[:, where] = np.where(has_g[:, where], r, np.nan).astype(np.float32)
                out[f"ratio/{c.name}"] = ratio
            if r is not None:
                if highest is None:
                    highest = np.full(shape4, -np.inf)
                if spec.compact and spec.store != "ratio" and compiled:
                    # the largest r, counts and "says something" in one compiled pass over r
                    index = np.arange(n_m)[where]
                    r4 = np.broadcast_to(r, (n, index.size, n_k, n_g))
                    _kernels.compact_summary(r4, index, no_band, highest, count, low)
                else:
                    if isinstance(where, slice):
                        np.fmax(highest[:, where], r, out=highest[:, where])
                    else:
                        highest[:, where] = np.fmax(highest[:, where], r)
                    if spec.store != "ratio":
                        _fill(count, low, where, no_band, *_count_and_min(r))
        if spec.store != "ratio":
            out[f"excluded_count/{c.name}"] = count
            if spec.compact:
                out[f"silent/{c.name}"] = (~low).view(np.uint8)
            else:
                out[f"min_ratio/{c.name}"] = low
    if compiled:  # the steps below in one compiled pass
        allowed = _kernels.allowed_couplings(
            highest, has_g, *((None, None, None, None) if closed is None else
                              (closed.high, closed.g2, closed.blocked, closed.hit)))  # fmt: skip
    else:
        if closed is not None:
            if highest is None:
                highest = np.full(shape4, -np.inf)
            closed.raise_highest(highest)
        # has_g is this chunk's own array (np.isfinite above), not used again: allowed may be it
        allowed = has_g if highest is None else has_g & ~(highest >= 1.0)
        if closed is not None:
            closed.restrict(allowed)
    out["allowed"] = allowed
    return start, stop, out


# -- the scan ----------------------------------------------------------------------------------------

#: The summary stores per-point exclusion counts in one byte.
MAX_SUMMARY_COUPLINGS = 255


def memory_estimate(n_models: int, n_masses: int, n_mix: int, n_g: int, n_constraints: int,
                    store: str, *, in_memory: bool, n_jobs: int = 1) -> int:  # fmt: skip
    """Bytes a scan of this size needs, roughly: the models, one chunk's working arrays per worker,
    and the result (in memory) or the compressed file image (which is built in memory).

    Python integers throughout: an absurd grid gives an absurd number, not an overflow.
    """
    per_model = n_masses * n_mix * n_g
    chunk_points = min(_chunk_points(n_models, per_model, n_masses),
                       max(per_model, n_models * per_model))
    working = chunk_points * 8 * 16  # the couplings, r and masks of the constraint being evaluated
    per_point = 16 + n_g + n_constraints * (4 * n_g if store == "ratio" else 1)
    result = n_models * n_masses * n_mix * per_point
    return n_models * 1000 + working * max(1, n_jobs) + (result if in_memory else result // 4)


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine (None if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(n_models: int, n_masses: int, n_mix: int, n_g: int, n_constraints: int,
                 store: str, *, in_memory: bool, n_jobs: int = 1) -> None:  # fmt: skip
    """ValueError (one sentence, with the estimate) if the scan cannot fit in this machine's memory."""
    need = memory_estimate(n_models, n_masses, n_mix, n_g, n_constraints, store,
                           in_memory=in_memory, n_jobs=n_jobs)  # fmt: skip
    have = physical_memory()
    if have is not None and need > have:
        raise ValueError(
            f"this scan ({n_models:.3g} models x {n_masses:.3g} masses x {n_mix:.3g} mixings x "
            f"{n_g:.3g} couplings) needs about {need / 1e9:.3g} GB of memory and this machine has "
            f"{have / 1e9:.3g} GB: make the grid smaller"
        )



def _mixing_axis(eps, eps_over_g, loop_scale) -> tuple[str, NDArray[np.float64]]:
    if eps is not None and eps_over_g is not None:
        raise ValueError("give eps or eps_over_g, not both")
    if isinstance(eps, str):
        if eps.strip().lower() != "loop":
            raise ValueError(f"eps must be numbers or 'loop', got {eps!r}")
        return "loop", np.zeros(1)
    if eps_over_g is not None:
        values = np.atleast_1d(as_coupling(eps_over_g, "eps_over_g")).ravel()
        kind = "eps_over_g"
    else:
        values = np.atleast_1d(as_coupling(0.0 if eps is None else eps, "eps")).ravel()
        kind = "eps"
    if values.size == 0:
        raise ValueError("the mixing axis is empty")
    return kind, values


def _constraint_list(constraints: str | Iterable[str | Constraint]) -> list[Constraint]:
    if isinstance(constraints, str):
        if constraints == "all":
            return _registry.all()
        if constraints == "default":  # the CLI's, the survey's and the figures' set
            return [_registry.get(n) for n in catalogue.default_names()]
        constraints = [constraints]
    out = []
    for c in constraints:
        out.append(c if isinstance(c, Constraint) else _registry.get(c))
    if not out:
        raise ValueError("no constraints selected")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ValueError("a constraint is selected twice")
    return out


def _flatten(model: Model) -> Model:
    flat = model.reshape(model.size) if model.shape != () else model.reshape(1)
    flat.family = dict(model.family)
    flat.family.setdefault("batch_shape", list(model.shape))
    return flat


@dataclass
class ScanPlan:
    """A scan ready to run: the picklable chunk specification, the flattened models, the chunk
    boundaries and the file attributes (:func:`plan_scan`; run it with :func:`execute`)."""

    spec: _Spec
    models: Model
    bounds: list[tuple[int, int]]
    attrs: dict[str, Any]
    #: in memory, a summary keeps where each constraint is silent instead of its smallest r
    compact: bool = False

    @property
    def layout(self) -> _store.ScanLayout:
        """What the scan file holds (for :class:`~zprime_atlas.store.ScanWriter`)."""
        spec, flat = self.spec, self.models
        gens = flat.generators
        return _store.ScanLayout(
            charges=spec.charges, x_dark=spec.dark[0], labels=_Labels(flat),
            generators=None if gens is None else np.stack(
                [np.broadcast_to(gens[k], flat.shape) for k in GENERATORS], axis=1),
            masses=spec.masses, mix_kind=spec.mix_kind, mix_values=spec.mix_values,
            g_explicit=spec.g_explicit, n_g=spec.n_g,
            constraints=[(c.name, tuple(c.citation), float(c.cl)) for c in spec.constraints],
            store=spec.store,
        )  # fmt: skip


class _Labels(Sequence[str]):
    """The models' labels, made on first use: only a file stores them, and labelling 1e5 models of
    a family plane costs seconds (one string per model)."""

    def __init__(self, models: Model) -> None:
        self._models = models
        self._labels: list[str] | None = None

    def _all(self) -> list[str]:
        if self._labels is None:
            self._labels = [str(s) for s in self._models.labels.reshape(-1)]
        return self._labels

    def __len__(self) -> int:
        return self._models.size

    def __getitem__(self, index):
        return self._all()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())


def _parse_mixing(eps, eps_over_g, xi, loop_scale) -> tuple[str, NDArray[np.float64]]:
    if xi is None:
        return _mixing_axis(eps, eps_over_g, loop_scale)
    if eps is not None or eps_over_g is not None:
        raise ValueError("give one of eps, eps_over_g and xi")
    values = np.atleast_1d(as_coupling(xi, "xi")).ravel()
    if values.size == 0:
        raise ValueError("the mixing axis is empty")
    return "xi", values


def _parse_couplings(
    g_X: ArrayLike | None, gm2: str | None, n_g: int, at_upper_limit: bool
) -> tuple[str, NDArray[np.float64] | None, int]:
    """(data set name, explicit couplings or None, couplings per point)."""
    if g_X is not None and gm2 is not None:
        raise ValueError("give g_X or gm2, not both")
    dataset = _gm2.dataset(gm2 or "2021")
    if isinstance(n_g, bool) or not isinstance(n_g, (int, np.integer)) or int(n_g) < 1:
        raise ValueError(f"n_g must be a positive integer, got {n_g!r}")
    if at_upper_limit:
        if dataset.kind == "band":
            raise ValueError(f"g-2 data set {dataset.name!r} is a band, not an upper limit")
        return dataset.name, None, 1  # one coupling per point: the (g-2)_mu upper limit g_high
    if g_X is not None:
        g = np.atleast_1d(as_coupling(g_X)).ravel()
        if g.size == 0 or np.any(g <= 0):
            raise ValueError("g_X must be a non-empty array of positive couplings")
        return dataset.name, g, int(n_g)
    if dataset.kind != "band":
        raise ValueError(
            f"g-2 data set {dataset.name!r} is an upper limit with no band to scan; pass g_X"
        )
    return dataset.name, None, int(n_g)


def plan_scan(
    model: Model,
    m_X: ArrayLike,
    *,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    loop_scale: float | None = None,
    g_X: ArrayLike | None = None,
    gm2: str | None = None,
    n_g: int = 9,
    at_upper_limit: bool = False,
    nsigma: float = 2.0,
    constraints: str | Iterable[str | Constraint] = "all",
    store: str = "auto",
    chunk_size: int | None = None,
    kind: str = "scan",
) -> ScanPlan:
    """Check the axes and options of a scan and lay it out (arguments as in :func:`scan`).

    ``at_upper_limit=True`` with an upper-limit data set (``gm2="2025"``) evaluates each point at its
    (g-2)_mu upper limit g_high (one coupling per point); ``kind`` is "scan" or "survey".
    """
    if not isinstance(model, Model):
        raise ValueError(f"model must be a zprime_atlas Model, got {type(model).__name__}")
    if kind not in ("scan", "survey"):
        raise ValueError(f"kind must be 'scan' or 'survey', got {kind!r}")
    masses = np.atleast_1d(as_mass(m_X, "mass axis m_X")).ravel()
    mix_kind, mix_values = _parse_mixing(eps, eps_over_g, xi, loop_scale)
    dataset, g_explicit, n_g = _parse_couplings(g_X, gm2, n_g, at_upper_limit)
    selected = _constraint_list(constraints)
    flat = _flatten(model)
    n_couplings = len(g_explicit) if g_explicit is not None else n_g
    per_model = len(masses) * len(mix_values) * n_couplings
    # A summary chosen for size ("auto") or a survey keeps in memory what its file keeps (counts and
    # where each constraint is silent, not the smallest r per mixing): 0.7 GB instead of 2.7 GB for
    # the alpha-R plane at 400^2 x 64 with 53 constraints. store="summary" asked for keeps min_ratio.
    compact = kind == "survey" or (store == "auto" and flat.size * per_model > _AUTO_RATIO_LIMIT)
    if store == "auto":
        store = "ratio" if flat.size * per_model <= _AUTO_RATIO_LIMIT else "summary"
    if store not in ("ratio", "summary"):
        raise ValueError(f"store must be 'ratio', 'summary' or 'auto', got {store!r}")
    if store == "summary" and n_couplings > MAX_SUMMARY_COUPLINGS:
        raise ValueError(f"{n_couplings} couplings per point is more than the summary storage "
                         f"counts ({MAX_SUMMARY_COUPLINGS}); use fewer or store='ratio'")  # fmt: skip
    check_memory(flat.size, len(masses), len(mix_values), n_couplings, len(selected), store,
                 in_memory=False)  # fmt: skip
    charges = np.stack([np.broadcast_to(flat.charge(f), flat.shape) for f in FERMIONS], axis=1)
    spec = _Spec(
        charges=np.ascontiguousarray(charges, dtype=np.float64),
        dark=(np.broadcast_to(flat.x_dark, flat.shape).astype(float), flat.m_dark),
        masses=masses, mix_kind=mix_kind, mix_values=mix_values, loop_scale=loop_scale,
        g_explicit=g_explicit, dataset=dataset, nsigma=float(nsigma), n_g=n_g,
        constraints=selected, store=store,
    )  # fmt: skip
    chunk = (max(1, _chunk_points(flat.size, per_model, len(masses)) // per_model)
             if chunk_size is None else int(chunk_size))  # fmt: skip
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    bounds = [(s, min(s + chunk, flat.size)) for s in range(0, flat.size, chunk)]
    plan = ScanPlan(spec, flat, bounds, {}, compact=compact)
    plan.attrs = _attributes(plan, chunk, kind)
    return plan


def _attributes(plan: ScanPlan, chunk_size: int, kind: str) -> dict[str, Any]:
    spec, flat = plan.spec, plan.models
    hashes: dict[str, str] = _package_data_hashes()
    citations: dict[str, list[str]] = {}
    for c in spec.constraints:
        citations[c.name] = list(c.citation)
        if hasattr(c, "file_hashes"):
            hashes.update(c.file_hashes())
    family = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in flat.family.items()}
    options = {
        "loop_scale": -1.0 if spec.loop_scale is None else float(spec.loop_scale),
        "dataset": spec.dataset,
        "nsigma": spec.nsigma,
        "m_dark": spec.dark[1],
        "extra_recast_folders": json.dumps(catalogue.extra_recast_folders()),
        "constraint_settings": json.dumps({c.name: _settings(c) for c in spec.constraints},
                                          sort_keys=True),
    }
    return _store.scan_attributes(
        plan.layout, kind=kind, chunk_size=chunk_size, n_chunks=len(plan.bounds), options=options,
        citations=citations, file_hashes=hashes, family=family, name=flat.name or "",
    )  # fmt: skip


def _package_data_hashes() -> dict[str, str]:
    """sha256 of every data table the package ships (``zprime_atlas/data/...``: decay, COHERENT,
    NSI, cosmology inputs): part of the configuration even when the version did not change."""
    import hashlib
    from importlib import resources

    root = Path(str(resources.files("zprime_atlas"))) / "data"
    out: dict[str, str] = {}
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            out[f"zprime_atlas/data/{path.relative_to(root).as_posix()}"] = hashlib.sha256(
                path.read_bytes()).hexdigest()  # fmt: skip
    return out


def _settings(c: Constraint) -> dict[str, Any]:
    """A constraint's class and simple parameters (e.g. ``NSIOscillation(scale=0.5)``): part of the
    configuration, so that a resume with the same name but other settings is refused."""
    out: dict[str, Any] = {"class": f"{type(c).__module__}.{type(c).__qualname__}"}
    for key, value in sorted(getattr(c, "__dict__", {}).items()):
        if key.startswith("_"):
            continue
        if isinstance(value, (bool, int, float, str)):
            out[key] = value if not isinstance(value, float) or np.isfinite(value) else str(value)
        elif isinstance(value, np.generic) and np.ndim(value) == 0:
            out[key] = str(value)
    return out


def execute(
    plan: ScanPlan,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
    max_chunks: int | None = None,
    overwrite: bool = False,
) -> ScanResult | None:
    """Run a planned scan: in memory, or into the HDF5 file ``out`` chunk by chunk.

    ``resume=True`` skips chunks already marked done in ``out`` (same plan only); an existing ``out``
    is otherwise refused unless ``overwrite=True`` (nothing is lost by accident). ``max_chunks``
    stops after that many chunks (the file is then unfinished and ``None`` is returned; resume it
    later). Returns the :class:`ScanResult` (read back from ``out`` when writing a file).
    """
    writer = (_store.ScanWriter(Path(out), plan.layout, plan.attrs, resume, overwrite)
              if out is not None else None)  # fmt: skip
    if writer is None:
        n, m, k, g = plan.spec.shape
        check_memory(n, m, k, g, len(plan.spec.constraints), plan.spec.store, in_memory=True,
                     n_jobs=n_jobs)  # fmt: skip
    every = max_chunks is None or max_chunks >= len(plan.bounds)
    memory = None if writer is not None else _Memory(plan.spec, compact=plan.compact, every=every)
    try:
        todo = [b for i, b in enumerate(plan.bounds) if writer is None or not writer.done[i]]
        if max_chunks is not None:
            todo = todo[:max_chunks]
        spec = plan.spec
        if spec.store == "summary" and (writer is not None or plan.compact):
            spec = replace(spec, compact=True)
        _run(spec, todo, plan.bounds, n_jobs, backend, writer or memory, progress)
        if writer is not None:
            if not np.all(writer.done):
                return None  # stopped early (max_chunks): the scan is unfinished, resume it
            writer.finish()  # the target appears, finished, in one rename
    finally:
        if writer is not None:  # an interruption keeps every finished chunk (store.ScanWriter)
            writer.close()
    if writer is not None:
        return load(out)  # type: ignore[arg-type]
    assert memory is not None
    return memory.result(plan.models, plan.attrs)


def scan(
    model: Model,
    m_X: ArrayLike,
    *,
    eps: ArrayLike | str | None = None,
    eps_over_g: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    g_X: ArrayLike | None = None,
    gm2: str | None = None,
    n_g: int = 9,
    constraints: str | Iterable[str | Constraint] = "all",
    n_jobs: int = 1,
    backend: str = "loky",
    chunk_size: int | None = None,
    resume: bool = False,
    out: str | Path | None = None,
    loop_scale: float | None = None,
    nsigma: float = 2.0,
    store: str = "auto",
    progress: bool | None = None,
    at_upper_limit: bool = False,
    overwrite: bool = False,
) -> ScanResult:
    """Evaluate every selected constraint over models x masses x mixings x couplings (GeV).

    Parameters
    ----------
    model
        A model or batch (any shape; flattened to N models, the shape is kept in ``family``).
    m_X
        Masses in GeV (1-D after flattening; positive, finite).
    eps, eps_over_g, xi
        The mixing axis: numbers (an array is an axis), ``eps="loop"`` (with ``loop_scale``), or
        ``xi``: the effective electron charge g_e/g_X = x_e - e eps/g_X (free kinetic mixing with a
        grid that can cancel the electron coupling exactly; see :func:`default_xi`).
    g_X, gm2, n_g
        Couplings: an explicit ``g_X`` array, or ``gm2=<dataset>`` for ``n_g`` values across each
        point's (g-2)_mu band (a ``band`` data set; the 2025 upper limit has none). Default: the
        2021 band. ``at_upper_limit=True`` with an upper-limit data set (``gm2="2025"``) evaluates
        each point at its (g-2)_mu upper limit (one coupling per point): allowed then means that
        g-2 is the strongest constraint there.
    constraints
        ``"all"`` (every registered constraint, the slow binned likelihoods and the electron g-2
        pair included), ``"default"`` (:func:`zprime_atlas.catalogue.default_names`: what the CLI,
        the survey and the figures use) or names / Constraint objects.
    n_jobs, backend, chunk_size
        joblib parallelism over chunks of the model axis (``loky``, ``threading``, ``dask``,
        ``ray``, ``sequential``); ``chunk_size`` models per chunk (default: 1-2e6 grid points,
        at least 8 chunks where the scan allows).
    out, resume
        HDF5 file written chunk by chunk; ``resume=True`` continues an interrupted scan of the same
        configuration (refused with a message if the file is foreign or describes another scan).
    store
        ``"ratio"``, ``"summary"`` or ``"auto"`` (module docstring).

    The two steps are also public: :func:`plan_scan` then :func:`execute`.
    """
    plan = plan_scan(
        model, m_X, eps=eps, eps_over_g=eps_over_g, xi=xi, loop_scale=loop_scale, g_X=g_X,
        gm2=gm2, n_g=n_g, nsigma=nsigma, constraints=constraints, store=store,
        chunk_size=chunk_size, at_upper_limit=at_upper_limit,
    )  # fmt: skip
    result = execute(plan, out=out, resume=resume, n_jobs=n_jobs, backend=backend, progress=progress,
                     overwrite=overwrite)  # fmt: skip
    assert result is not None
    return result


def _run(spec, todo, bounds, n_jobs, backend, sink, progress) -> None:
    index = {b: i for i, b in enumerate(bounds)}
    quiet = (progress is False) or (progress is None and not sys.stderr.isatty())
    from tqdm.auto import tqdm  # on first scan: import zprime_atlas stays light

    bar = tqdm(total=len(todo), disable=quiet, unit="chunk", desc="scan", file=sys.stderr)
    memory = keep_freed_memory()  # for the whole scan: chunks reuse each other's memory (_memory)
    memory.__enter__()
    inline = n_jobs == 1 or backend == "sequential" or len(todo) <= 1
    # one chunk at a time in memory, a core idle: it faults in the next chunk's rows of the result
    # arrays written so far while the chunk is computed (_memory.Prefault)
    prefault = (Prefault() if inline and isinstance(sink, _Memory) and len(todo) > 1
                and (os.cpu_count() or 1) > 1 else None)  # fmt: skip
    try:
        if inline:
            for i, (start, stop) in enumerate(todo):
                sink.write(index[(start, stop)], *_evaluate_chunk(spec, start, stop))
                if prefault is not None and i + 1 < len(todo):
                    prefault.ahead(sink.written(), *todo[i + 1])
                bar.update(1)
        else:
            from joblib import Parallel, delayed, parallel_config

            if backend == "ray":
                from ray.util.joblib import register_ray

                register_ray()

            parent = os.getpid() if backend == "loky" else None  # worker processes watch us

            shipped = replace(spec, constraints=_Shipped(spec.constraints))

            def tasks(bounds_: list[tuple[int, int]]):
                return (
                    delayed(_evaluate_sliced)(_sliced(shipped, start, stop), start, stop, parent)
                    for start, stop in bounds_
                )

            with parallel_config(backend=backend, n_jobs=n_jobs):
                try:
                    parallel = Parallel(return_as="generator_unordered")
                    batches = [todo]
                except ValueError:
                    # Backends without generators (ray) return lists: run batches of a few chunks
                    # per worker, so that memory stays bounded and finished batches are written.
                    parallel = Parallel(return_as="list")
                    size = 4 * max(1, int(n_jobs if n_jobs > 0 else 2))
                    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
                for batch in batches:
                    results = parallel(tasks(batch))
                    try:
                        for start, stop, res in results:
                            sink.write(index[(start, stop)], start, stop, res)
                            bar.update(1)
                    except BaseException:
                        _abort(results, backend)
                        raise
    finally:
        if prefault is not None:
            prefault.stop()
        memory.__exit__(None, None, None)
        bar.close()


def _abort(results: Any, backend: str) -> None:
    """Stop the workers after a failure or an interruption (no worker outlives the scan)."""
    close = getattr(results, "close", None)
    if close is not None:  # joblib aborts its pending tasks when its generator is closed
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joblib's "tasks ... have been cancelled"
            close()
    if backend == "loky":
        from joblib.externals.loky import get_reusable_executor  # type: ignore[import-untyped]

        with contextlib.suppress(Exception):
            get_reusable_executor().shutdown(wait=True, kill_workers=True)


# -- sinks: memory and HDF5 ------------------------------------------------------------------------


class _Memory:
    """The in-memory sink. ``compact`` (surveys): per constraint, like a summary file, whether it
    says nothing at a (model, mass) (``silent``, N x M bytes) instead of the smallest r per
    (model, mass, mix) (N x M x K float32): the default survey in memory is then 0.7 GB instead
    of 2.9 GB (53 constraints), and equals the survey read back from its file."""

    def __init__(self, spec: _Spec, compact: bool = False, every: bool = False) -> None:
        """``every``: every chunk will be written (NaN, no band, then need not be filled in first:
        each chunk writes all its rows of g_low, g_high, ratio and min_ratio)."""
        self.spec = spec
        self.compact = compact and spec.store != "ratio"
        self._written: set[str] = set()
        n, m, k, g = spec.shape
        nan_array = large_zeros if every else _nan_array
        # each written once, chunk by chunk: 2 MiB pages where the system gives them (_memory)
        self.arrays: dict[str, NDArray] = {
            "g_low": nan_array((n, m, k), np.float64),
            "g_high": nan_array((n, m, k), np.float64),
            "allowed": large_zeros((n, m, k, g), bool),
        }
        for c in spec.constraints:
            if spec.store == "ratio":
                self.arrays[f"ratio/{c.name}"] = nan_array((n, m, k, g), np.float32)
            else:
                self.arrays[f"excluded_count/{c.name}"] = large_zeros((n, m, k), np.uint8)
                if self.compact:
                    self.arrays[f"silent/{c.name}"] = np.ones((n, m), dtype=np.uint8)
                else:
                    self.arrays[f"min_ratio/{c.name}"] = nan_array((n, m, k), np.float32)

    def write(self, index: int, start: int, stop: int, res: dict[str, NDArray]) -> None:
        for key, value in res.items():
            if ((key == "allowed" or key.startswith("excluded_count/"))
                    and (value.size == 0 or value.max() == 0)):  # fmt: skip
                # the array starts as zeros (large_zeros: pages the system maps on first write) and
                # each chunk is written once: a constraint silent at every mass of the scan then
                # costs no memory (first touch is most of a large scan's system time here). The
                # counts are >= 0 (uint8), so max == 0 is "all zero": 5x faster than any() there
                continue
            if self.compact and key.startswith("min_ratio/"):
                key = f"silent/{key.split('/', 1)[1]}"
                value = np.all(np.isnan(value), axis=-1)
            self.arrays[key][start:stop] = value
            self._written.add(key)

    def written(self) -> list[NDArray]:
        """The arrays some chunk has written so far (those of constraints that said nothing
        anywhere yet are left unmapped: _memory.Prefault faults in the others ahead)."""
        return [self.arrays[key] for key in self._written]

    def result(self, flat: Model, attrs: dict[str, Any]) -> ScanResult:
        a = self.arrays
        spec = self.spec
        results: dict[str, dict[str, NDArray]] = {}
        for c in spec.constraints:
            if spec.store == "ratio":
                results[c.name] = {"ratio": a[f"ratio/{c.name}"]}
            else:
                second = "silent" if self.compact else "min_ratio"
                results[c.name] = {"excluded_count": a[f"excluded_count/{c.name}"],
                                   second: a[f"{second}/{c.name}"]}  # fmt: skip
        return ScanResult(
            kind=attrs["kind"], models=flat, masses=spec.masses, mix_kind=spec.mix_kind,
            mix_values=spec.mix_values, g_explicit=spec.g_explicit, g_low=a["g_low"],
            g_high=a["g_high"], allowed=a["allowed"], results=results,
            constraint_names=[c.name for c in spec.constraints], attrs=attrs,
        )  # fmt: skip


def _nan_array(shape: tuple[int, ...], dtype: Any) -> NDArray:
    out = large_zeros(shape, dtype)
    out.fill(np.nan)
    return out


# -- the model survey --------------------------------------------------------------------------------


def default_xi() -> NDArray[np.float64]:
    """The survey's effective-electron-charge grid: 0 and +-geomspace(1e-4, 40, 63) (127 values)."""
    pos = np.geomspace(1e-4, 40.0, 63)
    return np.concatenate([-pos[::-1], [0.0], pos])


def survey(
    max_charge: int = 10,
    masses: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    dataset: str = "2021",
    electron_gm2: str | None = None,
    n_g: int = 9,
    **scan_options: Any,
) -> ScanResult:
    """The model survey of the seed analysis (arXiv:2203.13731; docs/physics/models.md).

    Every anomaly-free quark-universal model with integer charges |x| <= ``max_charge``
    (:func:`~zprime_atlas.models.enumerate_models`) is scanned over ``masses`` [GeV] (default
    geomspace(1e-3, 1, 200)) and over free kinetic mixing, parametrised by the effective electron
    charge xi = g_e/g_X = x_e - e eps/g_X on a grid containing 0 exactly (:func:`default_xi`), so that
    the electron coupling can be cancelled per model. A model is viable where, for some mass and xi,
    some g_X inside the 2-sigma (g-2)_mu band is allowed by every constraint.

    The electron g-2 constraints are off by default (their inputs disagree): ``electron_gm2="cs"``
    or ``"rb"`` adds one. With an upper-limit data set (2025) there is no band: no model is
    preferred, and the scan instead evaluates each point at its g-2 upper limit g_high (``g_X`` is not
    used): ``allowed`` then says whether the largest coupling compatible with (g-2)_mu survives.
    """
    from .models import enumerate_models

    models = enumerate_models(max_charge)
    m = np.geomspace(1e-3, 1.0, 200) if masses is None else masses
    xi_values = default_xi() if xi is None else np.atleast_1d(as_coupling(xi, "xi")).ravel()
    names = catalogue.default_names()
    if electron_gm2 is not None:
        key = str(electron_gm2).lower()
        if key not in ("cs", "rb"):
            raise ValueError(f"electron_gm2 must be 'cs' or 'rb', got {electron_gm2!r}")
        names.append(f"gm2_electron_{key}")
    scan_options.setdefault("constraints", names)
    scan_options.setdefault("store", "summary")
    run = {k: scan_options.pop(k) for k in ("out", "resume", "n_jobs", "backend", "progress",
                                            "overwrite")
           if k in scan_options}  # fmt: skip
    data = _gm2.dataset(dataset)
    upper = data.kind != "band"
    plan = plan_scan(models, m, xi=xi_values, gm2=data.name, n_g=1 if upper else n_g,
                     at_upper_limit=upper, kind="survey", **scan_options)  # fmt: skip
    result = execute(plan, **run)
    assert result is not None
    return result


def __dir__() -> list[str]:
    return list(__all__)
