"""The grid engine: every constraint over models x masses x mixings x couplings, chunked and parallel.

Axes are an outer product (DESIGN.md section 7):

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
``"auto"`` picks ratio up to 5e6 grid points (the survey always stores summaries). ``allowed``
(every r < 1, NaN = no constraint) is always kept at full resolution.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

from . import constraints as _registry
from . import gm2 as _gm2
from ._validate import as_coupling, as_mass
from ._version import __version__
from .constants import E_CHARGE, FERMIONS, PARTICLE_VERSION
from .constraints.base import Constraint
from .models import GENERATORS, Model
from .store import (
    FORMAT_NAME,
    FORMAT_VERSION,
    StoreError,
    attach_scales,
    create_dataset,
    make_scale,
    open_for_read,
)

__all__ = ["ScanResult", "default_xi", "load", "scan", "survey"]

_AUTO_RATIO_LIMIT = 5_000_000
_TARGET_CHUNK_POINTS = 1_000_000


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

    with shared_evaluation():
        return _evaluate(spec, start, stop)


def _sliced(spec: _Spec, start: int, stop: int) -> _Spec:
    """The spec of one chunk, with only its models (what is sent to a worker)."""
    return replace(
        spec,
        charges=spec.charges[start:stop],
        dark=(spec.dark[0][start:stop], spec.dark[1]),
    )


def _evaluate_sliced(spec: _Spec, start: int, stop: int) -> tuple[int, int, dict[str, NDArray]]:
    _, _, res = _evaluate_chunk(spec, 0, stop - start)
    return start, stop, res


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
    if spec.g_explicit is not None:
        g = np.broadcast_to(spec.g_explicit[None, None, None, :], shape4)
    else:
        g = band_couplings(g_low, g_high, n_g)
    has_g = np.isfinite(g)
    g_eval = np.where(has_g, g, 0.0)  # no band: evaluate at 0, marked not allowed below
    no_band = ~has_g[..., 0]  # a band is all-finite or all-NaN along the coupling axis
    allowed = has_g.copy()
    for c in spec.constraints:
        r = np.broadcast_to(c.ratio(m, g_eval, x, **mix), shape4)
        excluded = r >= 1.0  # NaN compares False: no constraint there
        allowed &= ~excluded
        if spec.store == "ratio":
            with np.errstate(over="ignore"):  # r beyond float32's range is stored as inf
                out[f"ratio/{c.name}"] = np.where(has_g, r, np.nan).astype(np.float32)
        else:
            count = np.count_nonzero(excluded, axis=-1).astype(np.uint8)
            out[f"excluded_count/{c.name}"] = np.where(no_band, 0, count).astype(np.uint8)
            with np.errstate(invalid="ignore", over="ignore"):
                low = np.fmin.reduce(r, axis=-1).astype(np.float32)
            out[f"min_ratio/{c.name}"] = np.where(no_band, np.float32(np.nan), low)
    out["allowed"] = allowed
    return start, stop, out


def band_couplings(g_low: NDArray, g_high: NDArray, n_g: int) -> NDArray[np.float64]:
    """``n_g`` couplings spread geometrically across each band [g_low, g_high], edges included.

    For an upper-limit data set (g_low NaN everywhere) and ``n_g = 1``: the upper limit g_high.
    """
    if n_g == 1 and not np.any(np.isfinite(g_low)):
        return np.asarray(g_high)[..., None]
    t = np.linspace(0.0, 1.0, n_g)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(np.log(g_low)[..., None] * (1 - t) + np.log(g_high)[..., None] * t)


# -- results ---------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    """Axes, per-constraint results, the (g-2) band and the allowed regions of a scan.

    ``allowed[n, m, k, g]``: every constraint has r < 1 (NaN ignored). ``allowed_in_band[n, m, k]``:
    some coupling of the band is allowed. :meth:`best_mix` reduces over the mixing axis.
    """

    kind: str
    models: Model
    masses: NDArray[np.float64]
    mix_kind: str
    mix_values: NDArray[np.float64]
    g_explicit: NDArray[np.float64] | None
    g_low: NDArray[np.float64]
    g_high: NDArray[np.float64]
    allowed: NDArray[np.bool_]
    results: dict[str, dict[str, NDArray]]
    constraint_names: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> NDArray[np.object_]:
        return self.models.labels

    @property
    def couplings(self) -> NDArray[np.float64]:
        """The g_X axis: the explicit (G,) array, or (N, M, K, G) values across each band."""
        if self.g_explicit is not None:
            return self.g_explicit
        return band_couplings(self.g_low, self.g_high, self.allowed.shape[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        return self.allowed.shape

    def ratio(self, name: str) -> NDArray[np.float32]:
        """r of one constraint (N, M, K, G); only for scans stored with ``store="ratio"``."""
        if name not in self.results:
            raise ValueError(f"unknown constraint {name!r} in this scan; it has: "
                             + ", ".join(self.constraint_names))  # fmt: skip
        if "ratio" not in self.results[name]:
            raise ValueError("this scan was stored as a summary (store='summary'): no per-g ratios")
        return self.results[name]["ratio"]

    def excluded_count(self, name: str) -> NDArray[np.uint8]:
        """Number of couplings of the g axis that constraint ``name`` excludes, per (n, m, k)."""
        res = self.results[name]
        if "excluded_count" in res:
            return res["excluded_count"]
        return (np.nan_to_num(res["ratio"], nan=0.0) >= 1.0).sum(axis=-1).astype(np.uint8)

    @property
    def allowed_in_band(self) -> NDArray[np.bool_]:
        return np.any(self.allowed, axis=-1)

    def best_mix(self) -> NDArray[np.bool_]:
        """Allowed for some mixing value (and some coupling of the band), per (model, mass)."""
        return np.any(self.allowed_in_band, axis=-1)

    def allowed_fraction(self) -> float:
        """Fraction of (model, mass, mix) points where some coupling is allowed."""
        return float(np.mean(self.allowed_in_band))

    def save(self, path: str | Path) -> None:
        """Write this result as an HDF5 scan file (format: :mod:`zprime_atlas.store`)."""
        _write_full(self, Path(path))

    def summary(self) -> dict[str, Any]:
        """Axes, constraints and allowed fractions as plain data (the body of ``show --json``)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "n_models": int(self.shape[0]),
            "masses": [float(m) for m in self.masses],
            "mix_kind": self.mix_kind,
            "mix_values": [float(v) for v in self.mix_values],
            "n_couplings": int(self.shape[3]),
            "dataset": self.attrs.get("dataset"),
            "constraints": list(self.constraint_names),
            "allowed_fraction": self.allowed_fraction(),
        }
        if self.kind == "survey":
            survey = self.survey_summary()
            out.update(survey)
            # deprecated names (first round): the clean list and the old count
            out["viable_models"] = survey["viable"]
            out["n_viable_outside_vetoed_windows"] = survey["n_viable"]
            out["vetoed_masses"] = [float(m) for m in self.masses[self.vetoed_masses()]]
        return out

    def gap_mask(self) -> NDArray[np.bool_]:
        """(N, M): True where a constraint whose mass range covers m_X says nothing for that model
        at that mass (NaN for every mixing and coupling), e.g. BaBar's and LHCb's rho/omega and phi
        windows. A model allowed only at such points is *gap-only*, not viable."""
        out = np.zeros(self.shape[:2], dtype=bool)
        for name in self.constraint_names:
            res = self.results[name]
            arr = res["ratio"] if "ratio" in res else res["min_ratio"][..., None]
            silent = np.all(np.isnan(arr), axis=(2, 3))  # (N, M)
            try:
                lo, hi = _registry.get(name).mass_range
            except ValueError:
                continue
            out |= silent & ((self.masses >= lo) & (self.masses <= hi))[None, :]
        return out

    def vetoed_masses(self) -> NDArray[np.bool_]:
        """Masses (M,) inside a gap of some search for every model (:meth:`gap_mask`)."""
        return np.all(self.gap_mask(), axis=0)

    def viable(self) -> NDArray[np.bool_]:
        """(N, M, K): allowed in the band where every search covering the mass speaks."""
        return self.allowed_in_band & ~self.gap_mask()[:, :, None]

    def viable_models(self, exclude_vetoed: bool = False) -> list[dict[str, Any]]:
        """Models allowed in the band for some mass and mixing, with where (survey).

        ``exclude_vetoed=True`` counts only points where every search covering the mass speaks
        (:meth:`gap_mask`): the *viable* list. Without it, gap-only survivors are included too.
        """
        where_all = self.viable() if exclude_vetoed else self.allowed_in_band  # (N, M, K)
        return [self._describe(i, where_all[i]) for i in np.flatnonzero(np.any(where_all, axis=(1, 2)))]

    def survey_summary(self) -> dict[str, Any]:
        """``viable`` (every search covering the mass speaks: the headline) and ``gap_only`` (models
        that survive only where a search covering the mass publishes no limit), with counts."""
        clean = self.viable()
        loose = self.allowed_in_band
        has_clean = np.any(clean, axis=(1, 2))
        gap_only = np.any(loose, axis=(1, 2)) & ~has_clean
        return {
            "n_viable": int(has_clean.sum()),
            "n_gap_only": int(gap_only.sum()),
            "viable": [self._describe(i, clean[i]) for i in np.flatnonzero(has_clean)],
            "gap_only": [self._describe(i, loose[i]) for i in np.flatnonzero(gap_only)],
        }

    def _describe(self, i: int, where: NDArray[np.bool_]) -> dict[str, Any]:
        """One model's survival: charges, mass intervals (runs of grid masses), mixing, g_X range."""
        gens = self.models.generators
        item: dict[str, Any] = {"label": str(self.labels[i])}
        if gens is not None:
            item["charges"] = {k: float(np.broadcast_to(gens[k], self.models.shape)[i])
                               for k in GENERATORS}  # fmt: skip
        mass_hit = np.any(where, axis=1)
        item["masses"] = [float(v) for v in self.masses[mass_hit]]
        mix = self.mix_values[np.any(where, axis=0)]
        item["eps_over_g" if self.mix_kind != "xi" else "xi"] = [float(v) for v in mix]
        if self.mix_kind == "xi":
            x_e = float(np.broadcast_to(self.models.charge("e"), self.models.shape)[i])
            item["eps_over_g"] = [float((x_e - v) / E_CHARGE) for v in mix]
        g_all = self._allowed_couplings(i, where)
        item["g_X"] = _span(g_all)
        intervals = []
        idx = np.flatnonzero(mass_hit)
        for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
            sub = np.zeros_like(where)
            sub[run] = where[run]
            entry: dict[str, Any] = {"mass": [float(self.masses[run[0]]), float(self.masses[run[-1]])]}
            entry[self.mix_kind] = _span(self.mix_values[np.any(sub, axis=0)])
            entry["g_X"] = _span(self._allowed_couplings(i, sub))
            intervals.append(entry)
        item["mass_intervals"] = intervals
        return item

    def _allowed_couplings(self, i: int, where: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Couplings of the g axis allowed at the (mass, mix) points ``where`` of model i."""
        allowed = self.allowed[i] & where[..., None]  # (M, K, G)
        if self.g_explicit is not None:
            g = np.broadcast_to(self.g_explicit, allowed.shape)
        else:
            g = band_couplings(self.g_low[i], self.g_high[i], allowed.shape[-1])
            g = np.broadcast_to(g, allowed.shape)
        return g[allowed]


def _span(values: NDArray) -> list[float] | None:
    """[min, max] of finite values, or None when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return [float(v.min()), float(v.max())] if v.size else None


# -- the scan ----------------------------------------------------------------------------------------


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
    _mix_kind: str | None = None,
    _kind: str = "scan",
    _upper_limit: str | None = None,
    _stop_after_chunks: int | None = None,
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
        2021 band.
    constraints
        ``"all"`` or names / Constraint objects.
    n_jobs, backend, chunk_size
        joblib parallelism over chunks of the model axis (``loky``, ``threading``, ``dask``,
        ``ray``, ``sequential``); ``chunk_size`` models per chunk (default: ~1e6 grid points).
    out, resume
        HDF5 file written chunk by chunk; ``resume=True`` continues an interrupted scan of the same
        configuration (refused with a message if the file is foreign or describes another scan).
    store
        ``"ratio"``, ``"summary"`` or ``"auto"`` (module docstring).
    """
    if not isinstance(model, Model):
        raise ValueError(f"model must be a zprime_atlas Model, got {type(model).__name__}")
    masses = np.atleast_1d(as_mass(m_X, "mass axis m_X")).ravel()
    if xi is not None:
        if eps is not None or eps_over_g is not None:
            raise ValueError("give one of eps, eps_over_g and xi")
        eps_over_g, _mix_kind = xi, "xi"
    if _mix_kind == "xi":
        mix_kind, mix_values = "xi", np.atleast_1d(as_coupling(eps_over_g, "xi")).ravel()
        if mix_values.size == 0:
            raise ValueError("the mixing axis is empty")
    else:
        mix_kind, mix_values = _mixing_axis(eps, eps_over_g, loop_scale)
    flat = _flatten(model)
    if g_X is not None and gm2 is not None:
        raise ValueError("give g_X or gm2, not both")
    dataset = _gm2.dataset(_upper_limit or gm2 or "2021")
    g_explicit = None
    if _upper_limit is not None:
        n_g = 1  # one coupling per point: the (g-2)_mu upper limit g_high
    elif g_X is not None:
        g_explicit = np.atleast_1d(as_coupling(g_X)).ravel()
        if g_explicit.size == 0 or np.any(g_explicit <= 0):
            raise ValueError("g_X must be a non-empty array of positive couplings")
    elif dataset.kind != "band":
        raise ValueError(
            f"g-2 data set {dataset.name!r} is an upper limit with no band to scan; pass g_X"
        )
    if int(n_g) < 1:
        raise ValueError(f"n_g must be at least 1, got {n_g!r}")
    selected = _constraint_list(constraints)
    n_models = flat.size
    n_points = (
        n_models
        * len(masses)
        * len(mix_values)
        * (len(g_explicit) if g_explicit is not None else int(n_g))
    )
    if store == "auto":
        store = "ratio" if n_points <= _AUTO_RATIO_LIMIT else "summary"
    if store not in ("ratio", "summary"):
        raise ValueError(f"store must be 'ratio', 'summary' or 'auto', got {store!r}")
    charges = np.stack([np.broadcast_to(flat.charge(f), flat.shape) for f in FERMIONS], axis=1)
    spec = _Spec(
        charges=np.ascontiguousarray(charges, dtype=np.float64),
        dark=(np.broadcast_to(flat.x_dark, flat.shape).astype(float), flat.m_dark),
        masses=masses,
        mix_kind=mix_kind,
        mix_values=mix_values,
        loop_scale=loop_scale,
        g_explicit=g_explicit,
        dataset=dataset.name,
        nsigma=float(nsigma),
        n_g=int(n_g),
        constraints=selected,
        store=store,
    )
    per_model = len(masses) * len(mix_values) * spec.shape[3]
    if chunk_size is None:
        chunk_size = max(1, _TARGET_CHUNK_POINTS // per_model)
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    bounds = [(s, min(s + chunk_size, n_models)) for s in range(0, n_models, chunk_size)]
    attrs = _attributes(spec, flat, chunk_size, len(bounds), _kind)
    writer = _Writer(Path(out), spec, flat, attrs, resume) if out is not None else None
    memory = None if writer is not None else _Memory(spec)
    todo = [b for i, b in enumerate(bounds) if writer is None or not writer.done[i]]
    if _stop_after_chunks is not None:  # for tests: emulate an interruption
        todo = todo[:_stop_after_chunks]
    try:
        _run(spec, todo, bounds, n_jobs, backend, writer or memory, progress)
    finally:
        if writer is not None:  # an interruption leaves every finished chunk marked done
            writer.close()
    if writer is not None:
        if _stop_after_chunks is not None:
            return None  # type: ignore[return-value]
        return load(out)  # type: ignore[arg-type]
    return memory.result(flat, attrs)  # type: ignore[union-attr]


def _run(spec, todo, bounds, n_jobs, backend, sink, progress) -> None:
    index = {b: i for i, b in enumerate(bounds)}
    quiet = (progress is False) or (progress is None and not sys.stderr.isatty())
    bar = tqdm(total=len(todo), disable=quiet, unit="chunk", desc="scan", file=sys.stderr)
    try:
        if n_jobs == 1 or backend == "sequential" or len(todo) <= 1:
            for start, stop in todo:
                sink.write(index[(start, stop)], *_evaluate_chunk(spec, start, stop))
                bar.update(1)
        else:
            from joblib import Parallel, delayed, parallel_config

            if backend == "ray":
                from ray.util.joblib import register_ray

                register_ray()

            def tasks(bounds_: list[tuple[int, int]]):
                return (
                    delayed(_evaluate_sliced)(_sliced(spec, start, stop), start, stop)
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
                    for start, stop, res in parallel(tasks(batch)):
                        sink.write(index[(start, stop)], start, stop, res)
                        bar.update(1)
    finally:
        bar.close()


# -- sinks: memory and HDF5 ------------------------------------------------------------------------


class _Memory:
    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        n, m, k, g = spec.shape
        self.arrays: dict[str, NDArray] = {
            "g_low": np.full((n, m, k), np.nan),
            "g_high": np.full((n, m, k), np.nan),
            "allowed": np.zeros((n, m, k, g), dtype=bool),
        }
        for c in spec.constraints:
            if spec.store == "ratio":
                self.arrays[f"ratio/{c.name}"] = np.full((n, m, k, g), np.nan, dtype=np.float32)
            else:
                self.arrays[f"excluded_count/{c.name}"] = np.zeros((n, m, k), dtype=np.uint8)
                self.arrays[f"min_ratio/{c.name}"] = np.full((n, m, k), np.nan, dtype=np.float32)

    def write(self, index: int, start: int, stop: int, res: dict[str, NDArray]) -> None:
        for key, value in res.items():
            self.arrays[key][start:stop] = value

    def result(self, flat: Model, attrs: dict[str, Any]) -> ScanResult:
        a = self.arrays
        spec = self.spec
        results: dict[str, dict[str, NDArray]] = {}
        for c in spec.constraints:
            if spec.store == "ratio":
                results[c.name] = {"ratio": a[f"ratio/{c.name}"]}
            else:
                results[c.name] = {"excluded_count": a[f"excluded_count/{c.name}"],
                                   "min_ratio": a[f"min_ratio/{c.name}"]}  # fmt: skip
        return ScanResult(
            kind=attrs["kind"], models=flat, masses=spec.masses, mix_kind=spec.mix_kind,
            mix_values=spec.mix_values, g_explicit=spec.g_explicit, g_low=a["g_low"],
            g_high=a["g_high"], allowed=a["allowed"], results=results,
            constraint_names=[c.name for c in spec.constraints], attrs=attrs,
        )  # fmt: skip


def _config_hash(spec: _Spec, chunk_size: int, kind: str) -> str:
    h = hashlib.sha256()
    for arr in (spec.charges, spec.dark[0], spec.masses, spec.mix_values):
        h.update(np.ascontiguousarray(arr).tobytes())
    if spec.g_explicit is not None:
        h.update(spec.g_explicit.tobytes())
    h.update(json.dumps([spec.mix_kind, spec.loop_scale, spec.dark[1], spec.dataset, spec.nsigma,
                         spec.n_g, spec.store, chunk_size, kind,
                         [c.name for c in spec.constraints]]).encode())  # fmt: skip
    return h.hexdigest()


def _attributes(spec: _Spec, flat: Model, chunk_size: int, n_chunks: int, kind: str) -> dict:
    hashes: dict[str, str] = {}
    citations: dict[str, list[str]] = {}
    for c in spec.constraints:
        citations[c.name] = list(c.citation)
        if hasattr(c, "file_hashes"):
            hashes.update(c.file_hashes())
    family = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in flat.family.items()}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "package_version": __version__,
        "particle_version": PARTICLE_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command_line": " ".join(sys.argv),
        "mix_kind": spec.mix_kind,
        "loop_scale": -1.0 if spec.loop_scale is None else float(spec.loop_scale),
        "dataset": spec.dataset,
        "nsigma": spec.nsigma,
        "store": spec.store,
        "chunk_size": chunk_size,
        "n_chunks": n_chunks,
        "config_hash": _config_hash(spec, chunk_size, kind),
        "constraints": json.dumps([c.name for c in spec.constraints]),
        "citations": json.dumps(citations),
        "file_hashes": json.dumps(hashes),
        "family": json.dumps(family, default=str),
        "name": flat.name or "",
        "m_dark": spec.dark[1],
    }


class _Writer:
    """Single writer of an HDF5 scan file; marks a chunk done only after all its data are written."""

    def __init__(self, path: Path, spec: _Spec, flat: Model, attrs: dict, resume: bool) -> None:
        self.path = path
        n, m, k, g = spec.shape
        if resume and path.exists():
            f = open_for_read(path)
            f.close()
            self.f = h5py.File(path, "r+")
            if _str(self.f.attrs["config_hash"]) != attrs["config_hash"]:
                self.f.close()
                raise StoreError(
                    f"{path} holds a different scan (other axes, models, constraints or options); "
                    "cannot resume it"
                )
            self.done = self.f["done"][...].astype(bool)
            return
        self.f = h5py.File(path, "w")
        f = self.f
        for key, value in attrs.items():
            f.attrs[key] = value
        cm = int(attrs["chunk_size"])
        scales = [
            make_scale(f, "axes/model", np.arange(n), "model"),
            make_scale(f, "axes/mass", spec.masses, "m_X [GeV]"),
            make_scale(f, "axes/mix", spec.mix_values, spec.mix_kind),
            make_scale(f, "axes/g_index", np.arange(g), "coupling index"),
        ]
        f.create_dataset("models/charges", data=spec.charges)
        f["models/charges"].attrs["fermions"] = json.dumps(list(FERMIONS))
        f.create_dataset("models/labels", data=np.array([str(s) for s in flat.labels],
                                                          dtype=h5py.string_dtype()))  # fmt: skip
        f.create_dataset("models/x_dark", data=spec.dark[0])
        gens = flat.generators
        if gens is not None:
            f.create_dataset("models/generators", data=np.stack(
                [np.broadcast_to(gens[k_], flat.shape) for k_ in GENERATORS], axis=1))  # fmt: skip
        if spec.g_explicit is not None:
            f.create_dataset("couplings", data=spec.g_explicit)
        # otherwise the couplings are band_couplings(g_low, g_high, G): derived, not stored
        for name in ("band/g_low", "band/g_high"):
            attach_scales(create_dataset(f, name, (n, m, k), "f8", cm, np.nan), scales)
        attach_scales(create_dataset(f, "allowed", (n, m, k, g), "u1", cm, 0), scales)
        for c in spec.constraints:
            if spec.store == "ratio":
                ds = create_dataset(f, f"constraints/{c.name}/ratio", (n, m, k, g), "f4", cm,
                                    np.nan)  # fmt: skip
                attach_scales(ds, scales)
            else:
                attach_scales(create_dataset(f, f"constraints/{c.name}/excluded_count",
                                             (n, m, k), "u1", cm, 0), scales)  # fmt: skip
                attach_scales(create_dataset(f, f"constraints/{c.name}/min_ratio",
                                             (n, m, k), "f4", cm, np.nan), scales)  # fmt: skip
            f[f"constraints/{c.name}"].attrs["citation"] = json.dumps(list(c.citation))
            f[f"constraints/{c.name}"].attrs["cl"] = c.cl
        f.create_dataset("done", data=np.zeros(int(attrs["n_chunks"]), dtype=np.uint8))
        f.flush()
        self.done = np.zeros(int(attrs["n_chunks"]), dtype=bool)

    def write(self, index: int, start: int, stop: int, res: dict[str, NDArray]) -> None:
        f = self.f
        for key, value in res.items():
            if key in ("g_low", "g_high"):
                f[f"band/{key}"][start:stop] = value
            elif key == "allowed":
                f["allowed"][start:stop] = value.astype(np.uint8)
            else:
                what, name = key.split("/", 1)
                f[f"constraints/{name}/{what}"][start:stop] = value
        f.flush()
        f["done"][index] = 1  # only after the chunk's data are in the file
        f.flush()
        self.done[index] = True

    def close(self) -> None:
        self.f.close()


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _write_full(result: ScanResult, path: Path) -> None:
    """Save an in-memory ScanResult (all chunks done)."""
    models = result.models
    attrs = dict(result.attrs)
    n = result.shape[0]
    attrs["chunk_size"] = n
    attrs["n_chunks"] = 1
    charges = np.stack([np.broadcast_to(models.charge(f), models.shape) for f in FERMIONS], 1)
    store = "ratio" if all("ratio" in r for r in result.results.values()) else "summary"
    spec = _Spec(
        charges=charges, dark=(np.broadcast_to(models.x_dark, models.shape).astype(float),
                               models.m_dark),
        masses=result.masses, mix_kind=result.mix_kind, mix_values=result.mix_values,
        loop_scale=None, g_explicit=result.g_explicit,
        dataset=str(attrs.get("dataset", "2021")), nsigma=float(attrs.get("nsigma", 2.0)),
        n_g=result.shape[3], constraints=[_NamedOnly(name) for name in result.constraint_names],
        store=store,
    )  # fmt: skip
    writer = _Writer(path, spec, models, attrs, resume=False)
    res: dict[str, NDArray] = {"g_low": result.g_low, "g_high": result.g_high,
                               "allowed": result.allowed}  # fmt: skip
    for name, data in result.results.items():
        for what, arr in data.items():
            res[f"{what}/{name}"] = arr
    writer.write(0, 0, n, res)
    writer.close()


class _NamedOnly:
    """Stand-in carrying a constraint's name and citation when re-saving a loaded result."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.citation: tuple[str, ...] = ()
        self.cl = math.nan


# -- loading ---------------------------------------------------------------------------------------


def load(path: str | Path) -> ScanResult:
    """Read a scan file written by :func:`scan` or :meth:`ScanResult.save` (all chunks done)."""
    path = Path(path)
    f = open_for_read(path)
    try:
        done = f["done"][...].astype(bool)
        if not np.all(done):
            raise StoreError(
                f"{path} is an unfinished scan ({int(done.sum())} of {done.size} chunks done); "
                "finish it with resume=True (CLI --resume)"
            )
        attrs = {k: _str(v) if isinstance(v, bytes) else v for k, v in f.attrs.items()}
        charges = f["models/charges"][...]
        labels = np.array([_str(s) for s in f["models/labels"][...]], dtype=object)
        if "models/generators" in f:
            g = f["models/generators"][...]
            models = Model.from_generators(*(g[:, i] for i in range(4)), name=attrs.get("name") or None)
        else:
            models = Model({fm: charges[:, i] for i, fm in enumerate(FERMIONS)},
                           name=attrs.get("name") or None)  # fmt: skip
        models._labels = labels
        x_dark = f["models/x_dark"][...]
        if np.any(x_dark):
            models = models.with_dark_sector(x_dark, float(attrs.get("m_dark", 0.0)))
        models.family = json.loads(attrs.get("family", "{}"))
        names = json.loads(attrs["constraints"])
        results: dict[str, dict[str, NDArray]] = {}
        for name in names:
            grp = f[f"constraints/{name}"]
            results[name] = {key: grp[key][...] for key in grp}
        return ScanResult(
            kind=attrs["kind"], models=models, masses=f["axes/mass"][...],
            mix_kind=attrs["mix_kind"], mix_values=f["axes/mix"][...],
            g_explicit=f["couplings"][...] if "couplings" in f else None,
            g_low=f["band/g_low"][...],
            g_high=f["band/g_high"][...], allowed=f["allowed"][...].astype(bool),
            results=results, constraint_names=names, attrs=attrs,
        )  # fmt: skip
    except KeyError as exc:
        raise StoreError(f"{path} is damaged: {exc}") from None
    finally:
        f.close()


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
    """The model survey of the seed analysis (arXiv:2203.13731; PHYSICS.md section 15).

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
    names = [n for n in _registry.names() if not n.startswith("gm2_electron_")]
    if electron_gm2 is not None:
        key = str(electron_gm2).lower()
        if key not in ("cs", "rb"):
            raise ValueError(f"electron_gm2 must be 'cs' or 'rb', got {electron_gm2!r}")
        names.append(f"gm2_electron_{key}")
    scan_options.setdefault("constraints", names)
    scan_options.setdefault("store", "summary")
    data = _gm2.dataset(dataset)
    if data.kind != "band":
        return scan(models, m, xi=xi_values, n_g=1, _kind="survey", _upper_limit=data.name,
                    **scan_options)  # fmt: skip
    return scan(models, m, xi=xi_values, gm2=data.name, n_g=n_g, _kind="survey", **scan_options)
