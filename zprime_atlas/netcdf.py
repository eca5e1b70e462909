"""Scan results as labelled arrays: :class:`xarray.Dataset` and netCDF-4 files.

The HDF5 scan format (:mod:`zprime_atlas.store`) is built for resumable, chunked writing; analysis
tools expect labelled arrays. :func:`to_dataset` turns a :class:`~zprime_atlas.result.ScanResult` into
an :class:`xarray.Dataset` with named dimensions and coordinates, :func:`write` stores it as a
netCDF-4 file that ``xarray.open_dataset`` (and any netCDF reader) opens, and :func:`from_dataset`
(and :func:`read`) turn such a dataset back into a ScanResult, losslessly (tested).

Layout (dimensions ``model``, ``mass``, ``mix``, ``coupling``, ``fermion``)::

    coords   model (index), label (model), mass [GeV], mix (its kind in attrs), coupling (index),
             fermion (the twelve fermion keys)
    charges  (model, fermion)            U(1)_X charge of each fermion field
    generators (model, generator)        B, Le, Lmu, Ltau coefficients (when the models have them)
    x_dark   (model,)                    dark-sector charge
    g_low, g_high (model, mass, mix)     the (g-2)_mu band [g_X]; NaN where there is none
    g_X      (coupling,) or (model, mass, mix, coupling)   the couplings evaluated
    allowed  (model, mass, mix, coupling)  bool: every constraint has r < 1 there
    ratio_<constraint>           (model, mass, mix, coupling)  r (store = "ratio")
    excluded_count_<constraint>  (model, mass, mix)            couplings excluded (store = "summary")
    min_ratio_<constraint>       (model, mass, mix)            smallest r over the couplings
    silent_<constraint>          (model, mass)                 1: says nothing at any mix and
                                                               coupling (summaries read from files)

Each constraint variable carries ``constraint`` (its registry name) and ``quantity`` attributes; the
scan's provenance attributes (package version, data-file hashes, command line, ...) are the
dataset's attributes. xarray is an optional dependency (``pip install "zprime-atlas[xarray]"``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import FERMIONS
from .models import GENERATORS, Model

if TYPE_CHECKING:  # pragma: no cover
    import xarray

    from .result import ScanResult

__all__ = ["from_dataset", "read", "to_dataset", "write"]

_QUANTITIES = ("ratio", "excluded_count", "min_ratio", "silent")
_FULL = ("model", "mass", "mix", "coupling")


def _xarray() -> Any:
    try:
        import xarray
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "xarray is not installed: pip install 'zprime-atlas[xarray]' (xarray and h5netcdf)"
        ) from None
    return xarray


def _attribute(value: Any) -> Any:
    """A netCDF-storable attribute: numbers and strings stay, everything else becomes JSON."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if value is None:
        return "null"
    return json.dumps(value, default=str)


def to_dataset(result: ScanResult) -> xarray.Dataset:
    """The scan as an :class:`xarray.Dataset` (layout in the module docstring); no data copied."""
    xr = _xarray()
    models = result.models
    n, g = result.shape[0], result.shape[3]
    charges = np.stack([np.broadcast_to(models.charge(f), models.shape) for f in FERMIONS], axis=1)
    data: dict[str, Any] = {
        "charges": (("model", "fermion"), charges.reshape(n, len(FERMIONS)),
                    {"long_name": "U(1)_X charge of each fermion field"}),
        "x_dark": ("model", np.broadcast_to(models.x_dark, models.shape).astype(float).reshape(n),
                   {"long_name": "dark-sector charge"}),
        "g_low": (_FULL[:3], result.g_low, {"long_name": "lower edge of the (g-2)_mu band",
                                            "units": "1 (g_X)"}),
        "g_high": (_FULL[:3], result.g_high, {"long_name": "upper edge of the (g-2)_mu band "
                                              "(the upper limit for an upper-limit data set)",
                                              "units": "1 (g_X)"}),
        "allowed": (_FULL, result.allowed, {"long_name": "every constraint has r < 1 (NaN: no "
                                            "statement, ignored)"}),
    }  # fmt: skip
    gens = models.generators
    if gens is not None:
        data["generators"] = (("model", "generator"),
                              np.stack([np.broadcast_to(gens[key], models.shape).reshape(n)
                                        for key in GENERATORS], axis=1),
                              {"long_name": "coefficients of B, Le, Lmu, Ltau"})  # fmt: skip
    if result.g_explicit is not None:
        data["g_X"] = ("coupling", result.g_explicit, {"long_name": "gauge coupling g_X"})
    else:
        data["g_X"] = (_FULL, result.couplings,
                       {"long_name": "gauge coupling g_X, geometric across the band"})  # fmt: skip
    for name in result.constraint_names:
        for quantity, arr in result.results[name].items():
            dims = {"ratio": _FULL, "silent": _FULL[:2]}.get(quantity, _FULL[:3])
            data[f"{quantity}_{name}"] = (dims, arr, {"constraint": name, "quantity": quantity})
    coords = {
        "model": np.arange(n),
        "label": ("model", np.array([str(s) for s in result.labels], dtype=object)),
        "mass": ("mass", result.masses, {"units": "GeV", "long_name": "m_X"}),
        "mix": ("mix", result.mix_values, {"long_name": result.mix_kind}),
        "coupling": np.arange(g),
        "fermion": list(FERMIONS),
    }
    if gens is not None:
        coords["generator"] = list(GENERATORS)
    attrs = {key: _attribute(value) for key, value in result.attrs.items()}
    attrs.update(kind=result.kind, mix_kind=result.mix_kind,
                 constraint_names=json.dumps(list(result.constraint_names)))  # fmt: skip
    return xr.Dataset(data, coords=coords, attrs=attrs)


def from_dataset(ds: xarray.Dataset) -> ScanResult:
    """The :class:`~zprime_atlas.result.ScanResult` of a dataset made by :func:`to_dataset`."""
    from .result import ScanResult

    names = json.loads(str(ds.attrs["constraint_names"]))
    missing = [v for v in ("charges", "g_low", "g_high", "allowed", "g_X") if v not in ds]
    if missing:
        raise ValueError(f"not a zprime-atlas scan dataset: no variable {missing[0]!r}")
    name = str(ds.attrs.get("name", "")) or None
    if "generators" in ds:
        gen = np.asarray(ds["generators"].values, dtype=float)
        models = Model.from_generators(**{key: gen[:, i] for i, key in enumerate(GENERATORS)},
                                       name=name)  # fmt: skip
    else:
        charges = np.asarray(ds["charges"].values, dtype=float)
        models = Model({f: charges[:, i] for i, f in enumerate(FERMIONS)}, name=name)
    models._labels = np.array([str(s) for s in ds["label"].values], dtype=object)
    models.family = json.loads(str(ds.attrs.get("family", "{}")))
    x_dark = np.asarray(ds["x_dark"].values, dtype=float)
    if np.any(x_dark):
        models = models.with_dark_sector(x_dark, float(ds.attrs.get("m_dark", 0.0)))
    results: dict[str, dict[str, np.ndarray]] = {}
    for cname in names:
        results[cname] = {q: ds[f"{q}_{cname}"].values for q in _QUANTITIES if f"{q}_{cname}" in ds}
    g_x = ds["g_X"]
    attrs = {key: value for key, value in ds.attrs.items() if key != "constraint_names"}
    return ScanResult(
        kind=str(ds.attrs["kind"]), models=models, masses=np.asarray(ds["mass"].values),
        mix_kind=str(ds.attrs["mix_kind"]), mix_values=np.asarray(ds["mix"].values),
        g_explicit=np.asarray(g_x.values) if g_x.dims == ("coupling",) else None,
        g_low=np.asarray(ds["g_low"].values), g_high=np.asarray(ds["g_high"].values),
        allowed=np.asarray(ds["allowed"].values, dtype=bool), results=results,
        constraint_names=names, attrs=attrs,
    )  # fmt: skip


def write(result: ScanResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``result`` as a netCDF-4 file (zlib level 1 compression); refuses an existing file
    unless ``overwrite=True``. Returns the path."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (CLI --overwrite) to replace it")
    ds = to_dataset(result)
    encoding = {v: {"zlib": True, "complevel": 1} for v in ds.data_vars
                if ds[v].dtype.kind in "fiub"}  # fmt: skip
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    return path


def read(path: str | Path) -> ScanResult:
    """Read a netCDF file written by :func:`write` back into a ScanResult."""
    xr = _xarray()
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return from_dataset(ds.load())


def __dir__() -> list[str]:
    return list(__all__)
