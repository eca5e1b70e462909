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
                            point's band (result.band_couplings(g_low, g_high, G): derived data)
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

import datetime as _dt
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from ._version import __version__
from .constants import FERMIONS, PARTICLE_VERSION

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ScanLayout",
    "ScanWriter",
    "StoreError",
    "open_for_read",
    "read_scan",
    "scan_attributes",
]

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


# -- what a scan file holds --------------------------------------------------------------------------


@dataclass
class ScanLayout:
    """The axes and contents of a scan file (everything the writer needs to lay it out).

    ``constraints`` holds (name, citation, cl) per constraint; ``store`` is "ratio" or "summary".
    """

    charges: NDArray[np.float64]  # (N, 12), FERMIONS order
    x_dark: NDArray[np.float64]  # (N,)
    labels: Sequence[str]
    generators: NDArray[np.float64] | None  # (N, 4) or None
    masses: NDArray[np.float64]
    mix_kind: str
    mix_values: NDArray[np.float64]
    g_explicit: NDArray[np.float64] | None
    n_g: int
    constraints: list[tuple[str, tuple[str, ...], float]]
    store: str

    @property
    def shape(self) -> tuple[int, int, int, int]:
        g = len(self.g_explicit) if self.g_explicit is not None else self.n_g
        return (len(self.charges), len(self.masses), len(self.mix_values), g)


def config_hash(layout: ScanLayout, options: list[Any]) -> str:
    """sha256 of the axes, models and options: a resumed scan must have the same one."""
    h = hashlib.sha256()
    for arr in (layout.charges, layout.x_dark, layout.masses, layout.mix_values):
        h.update(np.ascontiguousarray(arr).tobytes())
    if layout.g_explicit is not None:
        h.update(np.ascontiguousarray(layout.g_explicit).tobytes())
    h.update(json.dumps([layout.mix_kind, layout.n_g, layout.store,
                         [c[0] for c in layout.constraints], *options]).encode())  # fmt: skip
    return h.hexdigest()


def scan_attributes(
    layout: ScanLayout, *, kind: str, chunk_size: int, n_chunks: int, options: dict[str, Any],
    citations: dict[str, list[str]], file_hashes: dict[str, str], family: dict[str, Any], name: str,
) -> dict[str, Any]:  # fmt: skip
    """The root attributes of a scan file (format, provenance, configuration)."""
    opts = [options[k] for k in sorted(options)]
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "package_version": __version__,
        "particle_version": PARTICLE_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command_line": " ".join(sys.argv),
        "mix_kind": layout.mix_kind,
        "store": layout.store,
        "chunk_size": chunk_size,
        "n_chunks": n_chunks,
        # the data files' hashes are part of the configuration: a resume after a data file changed
        # is refused instead of mixing two versions of a limit in one file
        "config_hash": config_hash(layout, [chunk_size, kind, *opts, sorted(file_hashes.items())]),
        "constraints": json.dumps([c[0] for c in layout.constraints]),
        "citations": json.dumps(citations),
        "file_hashes": json.dumps(file_hashes),
        "family": json.dumps(family, default=str),
        "name": name,
        **options,
    }


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ScanWriter:
    """Single writer of an HDF5 scan file; marks a chunk done only after all its data are written."""

    def __init__(
        self, path: Path, layout: ScanLayout, attrs: dict[str, Any], resume: bool,
        overwrite: bool = False,
    ) -> None:  # fmt: skip
        """Open ``path`` for a new scan, or to resume one (``resume=True``: the same scan only).

        An existing file is never replaced unless ``overwrite=True``: without it a new scan onto an
        existing path is refused in one sentence before anything is written.
        """
        self.path = path
        n, m, k, g = layout.shape
        if path.exists() and not resume and not overwrite:
            raise StoreError(
                f"{path} exists; resume it (--resume, the same scan only), replace it (--overwrite) "
                "or choose another file: nothing was written"
            )
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
            make_scale(f, "axes/mass", layout.masses, "m_X [GeV]"),
            make_scale(f, "axes/mix", layout.mix_values, layout.mix_kind),
            make_scale(f, "axes/g_index", np.arange(g), "coupling index"),
        ]
        f.create_dataset("models/charges", data=layout.charges)
        f["models/charges"].attrs["fermions"] = json.dumps(list(FERMIONS))
        f.create_dataset("models/labels", data=np.array([str(s) for s in layout.labels],
                                                          dtype=h5py.string_dtype()))  # fmt: skip
        f.create_dataset("models/x_dark", data=layout.x_dark)
        if layout.generators is not None:
            f.create_dataset("models/generators", data=layout.generators)
        if layout.g_explicit is not None:
            f.create_dataset("couplings", data=layout.g_explicit)
        # otherwise the couplings are band_couplings(g_low, g_high, G): derived, not stored
        for name in ("band/g_low", "band/g_high"):
            attach_scales(create_dataset(f, name, (n, m, k), "f8", cm, np.nan), scales)
        attach_scales(create_dataset(f, "allowed", (n, m, k, g), "u1", cm, 0), scales)
        for cname, citation, cl in layout.constraints:
            if layout.store == "ratio":
                ds = create_dataset(f, f"constraints/{cname}/ratio", (n, m, k, g), "f4", cm,
                                    np.nan)  # fmt: skip
                attach_scales(ds, scales)
            else:
                attach_scales(create_dataset(f, f"constraints/{cname}/excluded_count",
                                             (n, m, k), "u1", cm, 0), scales)  # fmt: skip
                attach_scales(create_dataset(f, f"constraints/{cname}/min_ratio",
                                             (n, m, k), "f4", cm, np.nan), scales)  # fmt: skip
            f[f"constraints/{cname}"].attrs["citation"] = json.dumps(list(citation))
            f[f"constraints/{cname}"].attrs["cl"] = cl
        f.create_dataset("done", data=np.zeros(int(attrs["n_chunks"]), dtype=np.uint8))
        f.flush()
        self.done = np.zeros(int(attrs["n_chunks"]), dtype=bool)

    def write(self, index: int, start: int, stop: int, res: dict[str, NDArray]) -> None:
        """Write models [start, stop) of every dataset, then mark chunk ``index`` done."""
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


def read_scan(path: str | Path) -> dict[str, Any]:
    """Every array and attribute of a finished scan file, checked (:func:`open_for_read`)."""
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
        names = json.loads(attrs["constraints"])
        results: dict[str, dict[str, NDArray]] = {}
        for name in names:
            grp = f[f"constraints/{name}"]
            results[name] = {key: grp[key][...] for key in grp}
        return {
            "attrs": attrs,
            "charges": f["models/charges"][...],
            "labels": [_str(s) for s in f["models/labels"][...]],
            "generators": f["models/generators"][...] if "models/generators" in f else None,
            "x_dark": f["models/x_dark"][...],
            "family": json.loads(attrs.get("family", "{}")),
            "masses": f["axes/mass"][...],
            "mix_values": f["axes/mix"][...],
            "couplings": f["couplings"][...] if "couplings" in f else None,
            "g_low": f["band/g_low"][...],
            "g_high": f["band/g_high"][...],
            "allowed": f["allowed"][...].astype(bool),
            "results": results,
            "constraint_names": names,
        }
    except KeyError as exc:
        raise StoreError(f"{path} is damaged: {exc}") from None
    finally:
        f.close()


def __dir__() -> list[str]:
    return list(__all__)
