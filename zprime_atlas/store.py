"""HDF5 storage of scans: a self-describing, versioned, resumable file format (h5py).

Layout (format ``zprime_atlas.scan``, version :data:`FORMAT_VERSION`)::

    /                      attrs: format, format_version, kind (scan|survey), package_version,
                                  particle_version, created (UTC ISO), command_line, mix_kind,
                                  loop_scale, dataset, nsigma, store (ratio|summary), chunk_size,
                                  n_chunks, config_hash, constraints (JSON list), citations (JSON),
                                  file_hashes (JSON: sha256 of every data file used), family (JSON)
    /axes/model  /axes/mass  /axes/mix  /axes/g_index     dimension scales (1-D)
    /models/charges (N, 12)   /models/labels (N,)   /models/generators (N, 4) if any
    /couplings              (G,) explicit g_X; absent when the couplings are spread across each
                            point's band (engine.band_couplings(g_low, g_high, G): derived data)
    /band/g_low, /band/g_high                     (N, M, K)
    /allowed                (N, M, K, G) uint8    every r < 1 (NaN ignored)
    /constraints/<name>/ratio          (N, M, K, G) float32   (store = "ratio")
    /constraints/<name>/excluded_count (N, M, K) uint8, /min_ratio (N, M, K) float32 (store = "summary")
    /done                   (n_chunks,) uint8: 1 once every dataset of that model chunk is written

Every dataset is chunked along the model axis and gzip+shuffle compressed. A scan writes chunk by
chunk and flips ``done`` last, so an interrupted file is resumable and never holds half-written
chunks marked done. :func:`open_for_read` refuses files of another format or version, truncated
files and files with missing datasets, in one sentence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "StoreError", "open_for_read"]

FORMAT_NAME = "zprime_atlas.scan"
FORMAT_VERSION = 1


class StoreError(ValueError):
    """A file that is not a readable zprime-atlas scan (foreign, truncated, other version)."""


def _attr(f: h5py.File, key: str) -> Any:
    value = f.attrs[key]
    return value.decode() if isinstance(value, bytes) else value


def open_for_read(path: str | Path) -> h5py.File:
    """Open a scan file read-only after checking its format name, version and structure."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise StoreError(f"{path} is not a readable HDF5 file (truncated or not HDF5)") from None
    try:
        fmt = _attr(f, "format") if "format" in f.attrs else None
        if fmt != FORMAT_NAME:
            raise StoreError(f"{path} is not a zprime-atlas scan file (format {fmt!r})")
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise StoreError(
                f"{path} has scan format version {version}; this zprime-atlas reads version "
                f"{FORMAT_VERSION}"
            )
        for name in ("axes/model", "axes/mass", "axes/mix", "axes/g_index", "allowed", "done"):
            if name not in f:
                raise StoreError(f"{path} is incomplete: dataset {name!r} is missing")
        for name in json.loads(_attr(f, "constraints")):
            if f"constraints/{name}" not in f:
                raise StoreError(f"{path} is incomplete: constraint {name!r} is missing")
    except StoreError:
        f.close()
        raise
    except (KeyError, ValueError, OSError) as exc:
        f.close()
        raise StoreError(f"{path} is damaged ({exc})") from None
    return f


def create_dataset(group: h5py.Group, name: str, shape: tuple, dtype: Any, chunk_models: int,
                   fill: Any = None) -> h5py.Dataset:  # fmt: skip
    """A dataset chunked along the first (model) axis, gzip + shuffle compressed."""
    chunks = (max(1, min(chunk_models, shape[0])), *shape[1:]) if shape and shape[0] else None
    return group.create_dataset(
        name, shape=shape, dtype=dtype, chunks=chunks, compression="gzip", shuffle=True,
        fillvalue=fill,
    )  # fmt: skip


def make_scale(f: h5py.File, name: str, data: np.ndarray, label: str) -> h5py.Dataset:
    ds = f.create_dataset(name, data=data)
    ds.make_scale(label)
    return ds


def attach_scales(ds: h5py.Dataset, scales: list[h5py.Dataset]) -> None:
    for i, scale in enumerate(scales[: ds.ndim]):
        ds.dims[i].attach_scale(scale)
