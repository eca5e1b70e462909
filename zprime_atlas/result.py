"""The result of a scan: axes, per-constraint results, the (g-2) band and the allowed regions.

:class:`ScanResult` is what :func:`zprime_atlas.scan` returns and :func:`zprime_atlas.load` reads back;
it knows nothing of how a scan is run (:mod:`zprime_atlas.engine`) and writes and reads files through
:mod:`zprime_atlas.store`, which owns the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import constraints as _registry
from . import store as _store
from .constants import E_CHARGE, FERMIONS
from .models import GENERATORS, Model

__all__ = ["ScanResult", "band_couplings", "load"]


def band_couplings(g_low: NDArray, g_high: NDArray, n_g: int) -> NDArray[np.float64]:
    """``n_g`` couplings spread geometrically across each band [g_low, g_high], edges included.

    For an upper-limit data set (g_low NaN everywhere) and ``n_g = 1``: the upper limit g_high.
    """
    if n_g == 1 and not np.any(np.isfinite(g_low)):
        return np.asarray(g_high)[..., None]
    t = np.linspace(0.0, 1.0, n_g)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(np.log(g_low)[..., None] * (1 - t) + np.log(g_high)[..., None] * t)


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

    def allowed_fraction(self, mass_index: int | None = None) -> float:
        """The *allowed fraction*: the share of (model, mass) points at which, for some mixing value,
        some coupling of the band (or of the explicit g_X axis) is allowed by every constraint, i.e.
        the mean of :meth:`best_mix`; at one mass with ``mass_index``. This one definition is what
        ``scan`` prints, ``show`` reports and the alpha-R figure's titles and JSON state."""
        best = self.best_mix()
        return float(np.mean(best if mass_index is None else best[:, mass_index]))

    def save(self, path: str | Path, overwrite: bool = False) -> None:
        """Write this result as an HDF5 scan file (format: :mod:`zprime_atlas.store`); an existing
        file is replaced only with ``overwrite=True``."""
        models = self.models
        n = self.shape[0]
        attrs = dict(self.attrs)
        attrs["chunk_size"] = n
        attrs["n_chunks"] = 1
        store = "ratio" if all("ratio" in r for r in self.results.values()) else "summary"
        layout = _store.ScanLayout(
            charges=np.stack([np.broadcast_to(models.charge(f), models.shape) for f in FERMIONS], 1),
            x_dark=np.broadcast_to(models.x_dark, models.shape).astype(float),
            labels=[str(s) for s in models.labels],
            generators=_generators(models),
            masses=self.masses, mix_kind=self.mix_kind, mix_values=self.mix_values,
            g_explicit=self.g_explicit, n_g=self.shape[3],
            constraints=[(name, (), float("nan")) for name in self.constraint_names], store=store,
        )  # fmt: skip
        writer = _store.ScanWriter(Path(path), layout, attrs, resume=False, overwrite=overwrite)
        res: dict[str, NDArray] = {"g_low": self.g_low, "g_high": self.g_high,
                                   "allowed": self.allowed}  # fmt: skip
        for name, data in self.results.items():
            if store == "summary":  # the file layout: excluded_count and silent
                data = {"excluded_count": data["excluded_count"],
                        "silent": _silent(data).astype(np.uint8)}  # fmt: skip
            for what, arr in data.items():
                res[f"{what}/{name}"] = arr
        try:
            writer.write(0, 0, n, res)
            writer.finish()
        finally:
            writer.close()

    def to_xarray(self) -> Any:
        """This result as an :class:`xarray.Dataset` with named dimensions (model, mass, mix,
        coupling); :func:`zprime_atlas.netcdf.write` stores it as a netCDF-4 file."""
        from . import netcdf

        return netcdf.to_dataset(self)

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
            silent = _silent(self.results[name])  # (N, M)
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
        hits = np.flatnonzero(np.any(where_all, axis=(1, 2)))
        return [self._describe(int(i), where_all[i]) for i in hits]

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
            "viable": [self._describe(int(i), clean[i]) for i in np.flatnonzero(has_clean)],
            "gap_only": [self._describe(int(i), loose[i]) for i in np.flatnonzero(gap_only)],
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


def _silent(res: dict[str, NDArray]) -> NDArray[np.bool_]:
    """(N, M): the constraint says nothing at any mixing and coupling (any storage kind)."""
    if "silent" in res:
        return np.asarray(res["silent"], dtype=bool)
    arr = res["ratio"] if "ratio" in res else res["min_ratio"][..., None]
    return np.all(np.isnan(arr), axis=(2, 3))


def _span(values: NDArray) -> list[float] | None:
    """[min, max] of finite values, or None when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return [float(v.min()), float(v.max())] if v.size else None


def _generators(models: Model) -> NDArray[np.float64] | None:
    gens = models.generators
    if gens is None:
        return None
    return np.stack([np.broadcast_to(gens[k], models.shape) for k in GENERATORS], axis=1)


def load(path: str | Path) -> ScanResult:
    """Read a scan file written by :func:`zprime_atlas.scan` or :meth:`ScanResult.save`."""
    data = _store.read_scan(path)
    attrs = data["attrs"]
    name = attrs.get("name") or None
    if data["generators"] is not None:
        g = data["generators"]
        models = Model.from_generators(B=g[:, 0], Le=g[:, 1], Lmu=g[:, 2], Ltau=g[:, 3], name=name)
    else:
        charges = data["charges"]
        models = Model({fm: charges[:, i] for i, fm in enumerate(FERMIONS)}, name=name)
    models._labels = np.array(data["labels"], dtype=object)
    if np.any(data["x_dark"]):
        models = models.with_dark_sector(data["x_dark"], float(attrs.get("m_dark", 0.0)))
    models.family = data["family"]
    return ScanResult(
        kind=attrs["kind"], models=models, masses=data["masses"], mix_kind=attrs["mix_kind"],
        mix_values=data["mix_values"], g_explicit=data["couplings"], g_low=data["g_low"],
        g_high=data["g_high"], allowed=data["allowed"], results=data["results"],
        constraint_names=data["constraint_names"], attrs=attrs,
    )  # fmt: skip


def __dir__() -> list[str]:
    return list(__all__)
