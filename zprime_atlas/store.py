"""HDF5 storage of scans: a self-describing, versioned, resumable file format (h5py).

Layout (format ``zprime_atlas.scan``, version :data:`FORMAT_VERSION`)::

    /                      attrs: format, format_version, kind (scan|survey), package_version,
                                  particle_version, created (UTC ISO), command_line, mix_kind,
                                  loop_scale, dataset, nsigma, store (ratio|summary), chunk_size,
                                  n_chunks, config_hash, config_components (JSON: one hash per
                                  input, to say which changed), constraints (JSON list), citations
                                  (JSON), file_hashes (JSON: sha256 of every data file used),
                                  family (JSON)
    /axes/model  /axes/mass  /axes/mix  /axes/g_index     dimension scales (1-D)
    /models/labels (N,)  /models/x_dark (N,)  /models/generators (N, 4) if the models have
                            generators, else /models/charges (N, 12) (version 1: charges always)
    /couplings              (G,) explicit g_X; absent when the couplings are spread across each
                            point's band (result.band_couplings(g_low, g_high, G): derived data)
    /band/g_low, /band/g_high                     (N, M, K) float64 (store = "ratio"); float32
                                                  with 16 mantissa bits (store = "summary",
                                                  :func:`quantize_band`: 5 significant digits)
    /allowed                (N, M, K, G) uint8    every r < 1 (NaN ignored)
    /constraints/<name>/ratio          (N, M, K, G) float32   (store = "ratio")
    /constraints/<name>/excluded_count (N, M, K) uint8, /silent (N, M) uint8 (store = "summary":
                            the number of couplings excluded, and 1 where the constraint says
                            nothing at any mixing and coupling); version-1 summaries hold
                            /min_ratio (N, M, K) float32 instead of /silent (still read)
    /done                   (n_chunks,) uint8: 1 for every chunk (a finished file)

Every dataset is chunked along the model axis, shuffle + gzip level 1 (chosen by
benchmarks/bench_store.py: within 5% of the smallest file, 30% faster than level 4; lzf is faster
still but 15-25% larger and not readable without h5py's own filter), with a Fletcher-32 checksum per
chunk: a damaged chunk is a read error, never silently different numbers.

**Writing** (:class:`ScanWriter`, the guarantees of the README's "What the tool guarantees"):

- A scan writes into a *partial folder* next to the target, ``<name>.partial/``: one small HDF5 file
  per finished chunk, written as ``chunk_<i>.h5.tmp``, closed, read back and compared with the data
  in memory, fsync'ed, and only then renamed to ``chunk_<i>.h5`` (the rename *is* the "done" mark).
  A kill (even ``kill -9``), a full disk or a file-size limit leaves every finished chunk intact:
  ``resume=True`` (CLI ``--resume``) on the same target picks the folder up.
- When every chunk is done, the chunks are copied (compressed bytes, no recompression) into
  ``.<name>.<pid>.tmp`` in the same folder, which is checked and then renamed onto the target in one
  atomic step; the partial folder is removed afterwards. The target path therefore only ever holds
  a finished scan, and an existing file is replaced (with ``overwrite=True``) only at that instant,
  by a finished one.
- Every HDF5 file is built in memory and written with plain file I/O (so a write failure is an
  ordinary exception, never HDF5 state broken mid-write): the assembly holds the compressed file
  in memory once, and the partial folder needs about the file's size on disk besides it.
- One writer per target: a lock (``flock`` on ``.<name>.lock``, released by the kernel if the process
  dies) is taken before anything is touched; a second writer is refused in one sentence.

:func:`open_for_read` refuses files of another format or version, truncated files, files with
missing or misshapen datasets, wrong dtypes, a ``done`` list that does not match the chunking, and
external links or external/virtual storage, in one sentence.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import glob
import hashlib
import io
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._version import __version__
from .constants import FERMIONS, PARTICLE_VERSION

if TYPE_CHECKING:
    import h5py

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ScanLayout",
    "ScanWriteError",
    "ScanWriter",
    "StoreError",
    "open_for_read",
    "partial_path",
    "progress",
    "read_scan",
    "scan_attributes",
]

FORMAT_NAME = "zprime_atlas.scan"
FORMAT_VERSION = 2
#: Versions this module reads (1: summaries with min_ratio and float64 band edges).
READABLE_VERSIONS = (1, 2)
#: The HDF5 filter of every dataset (benchmarks/bench_store.py).
FILTER: dict[str, Any] = {"compression": "gzip", "compression_opts": 1, "shuffle": True,
                          "fletcher32": True}  # a checksum per chunk: damage is an error, not data


def _h5py() -> Any:
    """h5py, imported where a file is first read or written (~25 ms that ``import zprime_atlas``
    then does not pay)."""
    import h5py

    return h5py


class StoreError(ValueError):
    """A file that is not a readable zprime-atlas scan (foreign, truncated, other version), or a
    scan that cannot be started or resumed (locked, another configuration)."""


class ScanWriteError(StoreError):
    """Writing a scan failed (disk full, quota, file-size limit, I/O error); finished chunks kept."""

    def __init__(self, message: str, kept: int, total: int) -> None:
        super().__init__(message)
        self.kept = kept
        self.total = total


def _attr(f: h5py.File, key: str) -> Any:
    value = f.attrs[key]
    return value.decode() if isinstance(value, bytes) else value


def partial_path(path: str | Path) -> Path:
    """The partial folder of a scan being written to ``path`` (``<name>.partial``)."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


def progress(path: str | Path) -> tuple[int, int] | None:
    """(chunks done, chunks in all) of an unfinished scan of ``path``, or None if there is none."""
    folder = partial_path(path)
    try:
        meta = json.loads((folder / "scan.json").read_text())
        total = int(meta["n_chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return len(_done_chunks(folder, total)), total


def _done_chunks(folder: Path, total: int) -> set[int]:
    done = set()
    for p in folder.glob("chunk_*.h5"):
        try:
            i = int(p.stem.split("_", 1)[1])
        except ValueError:
            continue
        if 0 <= i < total:
            done.add(i)
    return done


# -- reading and checking ------------------------------------------------------------------------


def _walk_links(group: h5py.Group, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name in group:
        link = group.get(name, getlink=True)
        full = f"{prefix}/{name}"
        yield full, link
        if isinstance(link, _h5py().HardLink):
            obj = group.get(name)
            if isinstance(obj, _h5py().Group):
                yield from _walk_links(obj, full)


def _check_structure(f: h5py.File, path: Path, version: int) -> None:
    """Shapes, dtypes, links and the done list of an open scan file (StoreError if wrong)."""
    for name, link in _walk_links(f):
        if isinstance(link, _h5py().ExternalLink):
            raise StoreError(f"{path} is refused: {name} is an external link (to {link.filename})")
        if isinstance(link, _h5py().SoftLink):
            raise StoreError(f"{path} is refused: {name} is a soft link (scan files have none)")
        obj = f.get(name)
        if isinstance(obj, _h5py().Dataset):
            if obj.external:
                raise StoreError(f"{path} is refused: dataset {name} stores its data in external "
                                 "files")  # fmt: skip
            if obj.is_virtual:
                raise StoreError(f"{path} is refused: dataset {name} is a virtual dataset")
    axes = {k: f[f"axes/{k}"] for k in ("model", "mass", "mix", "g_index")}
    for k, ds in axes.items():
        if ds.ndim != 1 or ds.size == 0:
            raise StoreError(f"{path} is damaged: axis {k} is not a non-empty 1-D array")
    n, m, k, g = (axes[a].shape[0] for a in ("model", "mass", "mix", "g_index"))
    store = _str(f.attrs.get("store", ""))
    if store not in ("ratio", "summary"):
        raise StoreError(f"{path} is damaged: store {store!r} is neither 'ratio' nor 'summary'")
    expected: dict[str, tuple[tuple[int, ...], str]] = {
        "axes/mass": ((m,), "f"), "axes/mix": ((k,), "f"),
        "models/x_dark": ((n,), "f"),
        "models/labels": ((n,), "OSU"), "band/g_low": ((n, m, k), "f"),
        "band/g_high": ((n, m, k), "f"), "allowed": ((n, m, k, g), "ub"),
    }  # fmt: skip
    if "models/generators" in f:
        expected["models/generators"] = ((n, 4), "f")
    if version == 1 or "models/generators" not in f:  # version 2: charges only without generators
        expected["models/charges"] = ((n, len(FERMIONS)), "f")
    if "couplings" in f:
        expected["couplings"] = ((g,), "f")
    names = json.loads(_attr(f, "constraints"))
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        raise StoreError(f"{path} is damaged: the constraints attribute is not a list of names")
    for name in names:
        grp = f[f"constraints/{name}"]
        if not isinstance(grp, _h5py().Group):
            raise StoreError(f"{path} is damaged: constraints/{name} is not a group")
        if store == "ratio":
            expected[f"constraints/{name}/ratio"] = ((n, m, k, g), "f")
        else:
            expected[f"constraints/{name}/excluded_count"] = ((n, m, k), "ui")
            if version == 1:
                expected[f"constraints/{name}/min_ratio"] = ((n, m, k), "f")
            else:
                expected[f"constraints/{name}/silent"] = ((n, m), "ub")
    for name, (shape, kinds) in expected.items():
        if name not in f:
            raise StoreError(f"{path} is incomplete: dataset {name!r} is missing")
        ds = f[name]
        if not isinstance(ds, _h5py().Dataset):
            raise StoreError(f"{path} is damaged: {name} is not a dataset")
        if ds.shape != shape:
            raise StoreError(f"{path} is damaged: dataset {name} has shape {ds.shape}, the axes "
                             f"say {shape}")  # fmt: skip
        if ds.dtype.kind not in kinds:
            raise StoreError(f"{path} is damaged: dataset {name} has dtype {ds.dtype}")
    done = f["done"]
    n_chunks = int(f.attrs["n_chunks"])
    chunk = int(f.attrs["chunk_size"])
    if chunk < 1 or n_chunks != math.ceil(n / chunk):
        raise StoreError(f"{path} is damaged: {n_chunks} chunks of {chunk} models do not cover "
                         f"{n} models")  # fmt: skip
    if done.shape != (n_chunks,) or done.dtype.kind not in "ub":
        raise StoreError(f"{path} is damaged: the done list has shape {done.shape}, expected "
                         f"({n_chunks},)")  # fmt: skip
    values = done[...]
    if np.any((values != 0) & (values != 1)):
        raise StoreError(f"{path} is damaged: the done list holds values other than 0 and 1")


def open_for_read(path: str | Path) -> h5py.File:
    """Open a scan file read-only after checking its format name, version and structure."""
    path = Path(path)
    if not path.exists():
        state = progress(path)
        if state is not None:
            raise StoreError(
                f"{path} is an unfinished scan ({state[0]} of {state[1]} chunks done in "
                f"{partial_path(path)}); finish it with resume=True (CLI --resume)"
            )
        raise StoreError(f"{path} does not exist")
    try:
        f = _h5py().File(path, "r")
    except OSError:
        raise StoreError(f"{path} is not a readable HDF5 file (truncated or not HDF5)") from None
    try:
        fmt = _attr(f, "format") if "format" in f.attrs else None
        if fmt != FORMAT_NAME:
            raise StoreError(f"{path} is not a zprime-atlas scan file (format {fmt!r})")
        version = int(f.attrs.get("format_version", -1))
        if version not in READABLE_VERSIONS:
            raise StoreError(
                f"{path} has scan format version {version}; this zprime-atlas reads versions "
                + ", ".join(map(str, READABLE_VERSIONS))
            )
        for name in ("axes/model", "axes/mass", "axes/mix", "axes/g_index", "allowed", "done"):
            if name not in f:
                raise StoreError(f"{path} is incomplete: dataset {name!r} is missing")
        for name in json.loads(_attr(f, "constraints")):
            if f"constraints/{name}" not in f:
                raise StoreError(f"{path} is incomplete: constraint {name!r} is missing")
        _check_structure(f, path, version)
    except StoreError:
        f.close()
        raise
    except (KeyError, ValueError, TypeError, OSError, RuntimeError) as exc:
        f.close()
        raise StoreError(f"{path} is damaged ({exc})") from None
    return f


def _create(group: h5py.Group, name: str, shape: tuple, dtype: Any, chunk_models: int,
            fill: Any = None) -> h5py.Dataset:  # fmt: skip
    chunks = (max(1, min(chunk_models, shape[0])), *shape[1:])
    return group.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks, fillvalue=fill,
                                **FILTER)  # fmt: skip


def create_dataset(group: h5py.Group, name: str, shape: tuple, dtype: Any, chunk_models: int,
                   fill: Any = None) -> h5py.Dataset:  # fmt: skip
    """A dataset chunked along the first (model) axis, compressed with :data:`FILTER`."""
    return _create(group, name, shape, dtype, chunk_models, fill)


def make_scale(f: h5py.File, name: str, data: np.ndarray, label: str) -> h5py.Dataset:
    """A 1-D dimension scale (chunked and checksummed like every dataset)."""
    ds = f.create_dataset(name, data=data, chunks=(min(len(data), 65536),), **FILTER)
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

    def datasets(self) -> dict[str, tuple[tuple[int, ...], str, Any]]:
        """Per-chunk datasets: name -> (shape, dtype, fill value)."""
        n, m, k, g = self.shape
        band = "f8" if self.store == "ratio" else "f4"
        out: dict[str, tuple[tuple[int, ...], str, Any]] = {
            "band/g_low": ((n, m, k), band, np.nan),
            "band/g_high": ((n, m, k), band, np.nan),
            "allowed": ((n, m, k, g), "u1", 0),
        }
        for cname, _, _ in self.constraints:
            if self.store == "ratio":
                out[f"constraints/{cname}/ratio"] = ((n, m, k, g), "f4", np.nan)
            else:
                out[f"constraints/{cname}/excluded_count"] = ((n, m, k), "u1", 0)
                out[f"constraints/{cname}/silent"] = ((n, m), "u1", 0)
        return out


#: What each configuration component covers (the words of a refused resume).
COMPONENTS: dict[str, str] = {
    "models": "the models",
    "masses": "the mass axis",
    "mixing": "the mixing axis",
    "couplings": "the couplings",
    "constraints": "the constraint set or a constraint's settings",
    "options": "the options (g-2 data set, nsigma, loop scale, storage, chunking, kind)",
    "data_files": "the data files",
    "recast_folders": "the extra recast folders ($ZPRIME_ATLAS_RECASTS)",
    "package_version": "the zprime-atlas or particle version",
}


def _sha(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()


def config_components(layout: ScanLayout, options: dict[str, Any], file_hashes: dict[str, str],
                      recast_folders: Any, settings: Any = "{}") -> dict[str, str]:  # fmt: skip
    """One hash per input that changes the results (a resumed scan must match every one)."""
    g = None if layout.g_explicit is None else np.asarray(layout.g_explicit, dtype=np.float64)
    return {
        "models": _sha(np.asarray(layout.charges, dtype=np.float64),
                       np.asarray(layout.x_dark, dtype=np.float64)),
        "masses": _sha(np.asarray(layout.masses, dtype=np.float64)),
        "mixing": _sha(layout.mix_kind, np.asarray(layout.mix_values, dtype=np.float64)),
        "couplings": _sha("band" if g is None else g, layout.n_g),
        "constraints": _sha([c[0] for c in layout.constraints], settings),
        "options": _sha({**options, "store": layout.store}),
        "data_files": _sha(sorted(file_hashes.items())),
        "recast_folders": _sha(recast_folders),
        "package_version": f"{__version__}; particle {PARTICLE_VERSION}",
    }


def config_hash(layout: ScanLayout, options: list[Any]) -> str:
    """sha256 of the axes, models and options (kept for callers of the first format)."""
    return _sha(np.asarray(layout.charges), np.asarray(layout.masses), np.asarray(layout.mix_values),
                layout.mix_kind, layout.n_g, layout.store, [c[0] for c in layout.constraints],
                options)  # fmt: skip


def scan_attributes(
    layout: ScanLayout, *, kind: str, chunk_size: int, n_chunks: int, options: dict[str, Any],
    citations: dict[str, list[str]], file_hashes: dict[str, str], family: dict[str, Any], name: str,
) -> dict[str, Any]:  # fmt: skip
    """The root attributes of a scan file (format, provenance, configuration)."""
    folders = options.get("extra_recast_folders", "[]")
    settings = options.get("constraint_settings", "{}")
    physics = {k: v for k, v in options.items()
               if k not in ("extra_recast_folders", "constraint_settings")}  # fmt: skip
    components = config_components(
        layout, {**physics, "chunk_size": chunk_size, "kind": kind}, file_hashes, folders, settings
    )
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
        # every input that changes the results, hashed one by one: a resume after any of them
        # changed is refused, naming it, instead of mixing two versions of a result in one file
        "config_hash": _sha(components),
        "config_components": json.dumps(components, sort_keys=True),
        "constraints": json.dumps([c[0] for c in layout.constraints]),
        "citations": json.dumps(citations),
        "file_hashes": json.dumps(file_hashes, sort_keys=True),
        "family": json.dumps(family, default=str),
        "name": name,
        **options,
    }


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def describe_change(path: Path, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The sentence refusing a resume of ``path`` whose stored attributes ``old`` differ from the
    new scan's ``new``; None when they describe the same scan."""
    if _str(old.get("config_hash", "")) == _str(new["config_hash"]):
        return None
    try:
        before = json.loads(_str(old["config_components"]))
    except (KeyError, ValueError):
        return (f"{path} holds a different scan (written by a zprime-atlas without per-input "
                "hashes); cannot resume it")  # fmt: skip
    after = json.loads(_str(new["config_components"]))
    changed = [key for key in COMPONENTS if before.get(key) != after.get(key)]
    words = []
    for key in changed:
        if key == "data_files":
            try:
                a = json.loads(_str(old.get("file_hashes", "{}")))
                b = json.loads(_str(new.get("file_hashes", "{}")))
            except ValueError:
                a, b = {}, {}
            files = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
            words.append("the data files (" + ", ".join(files[:3])
                         + (", ..." if len(files) > 3 else "") + ")")  # fmt: skip
        elif key == "package_version":
            words.append(f"the zprime-atlas version ({before.get(key)} -> {after.get(key)})")
        else:
            words.append(COMPONENTS[key])
    what = ", ".join(words) if words else "its configuration"
    return (f"{path} holds a different scan (changed: {what}); cannot resume it (--overwrite "
            "starts the scan again)")  # fmt: skip


def _lock_fd(fd: int) -> None:
    """An exclusive, non-blocking lock on an open file (OSError with EWOULDBLOCK/EACCES if held)."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class _Lock:
    """An exclusive ``flock`` on ``.<name>.lock`` beside ``path`` (released if the process dies)."""

    def __init__(self, path: Path) -> None:
        self.file = path.with_name(f".{path.name}.lock")
        while True:
            try:
                fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
            try:
                _lock_fd(fd)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreError(
                        f"{path} is being written by another zprime-atlas process (lock "
                        f"{self.file}); wait for it to finish or choose another file"
                    ) from None
                raise StoreError(f"cannot lock {path}: {exc.strerror or exc}") from None
            try:  # the lock file may have been removed by a writer that just finished: retry
                if os.fstat(fd).st_ino == os.stat(self.file).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        self.fd: int | None = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.file)
        os.close(self.fd)  # closing releases the flock
        self.fd = None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _image(build: Callable[[h5py.File], None], libver: str | None = None) -> bytes:
    """The bytes of an HDF5 file built in memory by ``build``.

    HDF5 never writes to disk itself: a write failure there (disk full, quota, file-size limit)
    leaves HDF5's state broken (errors in destructors, crashes at exit). In memory it cannot fail;
    the image is then written with plain file I/O, whose errors are ordinary exceptions.
    """
    buffer = io.BytesIO()
    with _h5py().File(buffer, "w", libver=libver) as f:
        build(f)
    return buffer.getvalue()


def _write_image(path: Path, image: bytes) -> None:
    """Write ``image`` to a new file ``path`` and fsync it (OSError on any failure)."""
    with open(path, "xb") as fh:
        view = memoryview(image)
        while view:
            written = fh.write(view)
            view = view[written:]
        fh.flush()
        os.fsync(fh.fileno())


def _reason(exc: BaseException) -> str:
    """A short reason of an I/O failure (h5py wraps errno in its messages)."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for words in ("File too large", "No space left on device", "Disk quota exceeded",
                  "Input/output error", "Read-only file system", "Permission denied"):  # fmt: skip
        if words.lower() in text.lower():
            return words
    return text


def _equal(a: NDArray, b: NDArray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


class ScanWriter:
    """Single writer of a scan into ``path``, through its partial folder (module docstring)."""

    def __init__(
        self, path: Path, layout: ScanLayout, attrs: dict[str, Any], resume: bool,
        overwrite: bool = False,
    ) -> None:  # fmt: skip
        """Start a new scan of ``path``, or resume one (``resume=True``: the same scan only).

        An existing file is never replaced unless ``overwrite=True``: without it a new scan onto an
        existing path is refused in one sentence before anything is written. With it, the file is
        replaced only when the new scan is finished.
        """
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.layout = layout
        self.attrs = attrs
        self.n_chunks = int(attrs["n_chunks"])
        self.chunk = int(attrs["chunk_size"])
        self.complete = False  # the target already holds this finished scan (resume)
        folder = self.path.parent
        if not folder.is_dir():
            raise StoreError(f"cannot write {self.path}: folder {folder} does not exist")
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"cannot write {self.path}: it is a folder")
        if not resume and not overwrite and self.path.exists():
            raise StoreError(
                f"{self.path} exists; resume it (--resume, the same scan only), replace it "
                "(--overwrite) or choose another file: nothing was written"
            )
        self._lock = _Lock(self.path)
        try:
            self._start(resume, overwrite)
        except BaseException:
            self._lock.release()
            raise

    def _start(self, resume: bool, overwrite: bool) -> None:
        path, partial = self.path, self.partial
        pattern = glob.escape(f".{path.name}.") + "*.tmp"
        for stale in path.parent.glob(pattern):  # an assembly killed midway
            with contextlib.suppress(OSError):
                stale.unlink()
        meta_file = partial / "scan.json"
        if resume and partial.is_dir():
            try:
                old = json.loads(meta_file.read_text())
            except (OSError, ValueError):
                raise StoreError(f"{partial} is not a readable partial scan (its scan.json is "
                                 "missing or damaged); start again with --overwrite") from None
            refusal = describe_change(partial, old, self.attrs)
            if refusal is not None:
                raise StoreError(refusal)
            done = _done_chunks(partial, self.n_chunks)
            for stale in partial.glob("*.tmp"):
                stale.unlink()
            self.done = np.zeros(self.n_chunks, dtype=bool)
            self.done[sorted(done)] = True
            return
        if resume and path.exists():
            f = open_for_read(path)
            try:
                old = {k: f.attrs[k] for k in f.attrs}
                finished = bool(np.all(f["done"][...] == 1))
            finally:
                f.close()
            refusal = describe_change(path, old, self.attrs)
            if refusal is not None:
                raise StoreError(refusal)
            if not finished:
                raise StoreError(f"{path} is an unfinished scan written in place by an earlier "
                                 "zprime-atlas; it cannot be resumed, start again with --overwrite")
            self.complete = True
            self.done = np.ones(self.n_chunks, dtype=bool)
            return
        if partial.exists():
            if not overwrite:
                raise StoreError(
                    f"{partial} holds an unfinished scan of {path.name}; resume it (--resume) or "
                    "discard it (--overwrite): nothing was written"
                )
            shutil.rmtree(partial) if partial.is_dir() else partial.unlink()
        try:
            partial.mkdir()
            tmp = partial / "scan.json.tmp"
            tmp.write_text(json.dumps(self.attrs, default=_json_default))
            os.replace(tmp, meta_file)
            _fsync_dir(partial)
        except OSError as exc:
            with contextlib.suppress(OSError):
                shutil.rmtree(partial)
            raise ScanWriteError(f"cannot write {path}: {_reason(exc)}; nothing was written", 0,
                                 self.n_chunks) from None  # fmt: skip
        self.done = np.zeros(self.n_chunks, dtype=bool)

    # -- chunks ---------------------------------------------------------------------------------

    def _chunk_models(self) -> int:
        return max(1, min(self.chunk, self.layout.shape[0]))

    def _failure(self, exc: BaseException, what: str) -> ScanWriteError:
        kept = int(self.done.sum())
        return ScanWriteError(
            f"cannot write {what}: {_reason(exc)}; {kept} of {self.n_chunks} chunks are kept in "
            f"{self.partial}: free space and resume (CLI --resume, Python resume=True)",
            kept, self.n_chunks,
        )  # fmt: skip

    def write(self, index: int, start: int, stop: int, res: dict[str, NDArray]) -> None:
        """Write models [start, stop) as chunk ``index``: to a temporary file, read back and
        compared, then renamed (which marks it done). Raises :class:`ScanWriteError` on failure."""
        datasets = self.layout.datasets()
        data = {_target(key): value for key, value in res.items() if not key.startswith("min_ratio/")}
        for key, value in res.items():  # a summary file keeps whether r is NaN everywhere
            if key.startswith("min_ratio/"):
                silent = np.all(np.isnan(value), axis=-1).astype(np.uint8)
                data[f"constraints/{key.split('/', 1)[1]}/silent"] = silent
        if self.layout.store == "summary":
            for name in ("band/g_low", "band/g_high"):
                data[name] = quantize_band(data[name])
        cm = self._chunk_models()
        tmp = self.partial / f"chunk_{index:06d}.h5.tmp"
        final = self.partial / f"chunk_{index:06d}.h5"
        n = stop - start
        try:

            def build(f: h5py.File) -> None:
                f.attrs["start"], f.attrs["stop"] = start, stop
                f.attrs["config_hash"] = self.attrs["config_hash"]
                for name, (shape, dtype, fill) in datasets.items():
                    ds = f.create_dataset(name, shape=(cm, *shape[1:]), dtype=dtype,
                                          chunks=(cm, *shape[1:]), fillvalue=fill, **FILTER)  # fmt: skip
                    ds[:n] = np.asarray(data[name]).astype(dtype, copy=False)

            # chunk files are read only by this module: the newest HDF5 format has single-chunk
            # datasets without index trees (a fraction of the metadata of the default format)
            _write_image(tmp, _image(build, libver="latest"))
            with _h5py().File(tmp, "r") as f:  # verify: what is on disk is what was computed
                for name, (_, dtype, _) in datasets.items():
                    expected = np.asarray(data[name]).astype(dtype, copy=False)
                    if not _equal(f[name][:n], expected):
                        raise OSError(errno.EIO, "Input/output error (read-back differs)")
            os.replace(tmp, final)
            _fsync_dir(self.partial)
        except (OSError, RuntimeError, ValueError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self._failure(exc, str(self.path)) from None
        self.done[index] = True

    def finish(self) -> None:
        """Assemble the finished chunks into the target file, atomically (module docstring)."""
        if self.complete:
            return
        if not np.all(self.done):
            raise StoreError(f"{self.path}: {int(self.done.sum())} of {self.n_chunks} chunks done; "
                             "cannot finish")  # fmt: skip
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            _write_image(tmp, _image(self._assemble))
            f = open_for_read(tmp)
            f.close()
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except StoreError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, ScanWriteError):
                raise
            raise self._failure(exc, str(self.path)) from None
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self._failure(exc, str(self.path)) from None
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.complete = True
        with contextlib.suppress(OSError):
            shutil.rmtree(self.partial)

    def _assemble(self, f: h5py.File) -> None:
        layout, attrs = self.layout, self.attrs
        n, _, _, g = layout.shape
        cm = self._chunk_models()
        for key, value in attrs.items():
            f.attrs[key] = value
        scales = [
            make_scale(f, "axes/model", np.arange(n), "model"),
            make_scale(f, "axes/mass", layout.masses, "m_X [GeV]"),
            make_scale(f, "axes/mix", layout.mix_values, layout.mix_kind),
            make_scale(f, "axes/g_index", np.arange(g), "coupling index"),
        ]
        def models(name: str, data: NDArray) -> h5py.Dataset:
            opts = dict(FILTER)
            if data.dtype.kind == "O":  # HDF5 cannot checksum variable-length strings
                opts.pop("fletcher32")
            return f.create_dataset(name, data=data, chunks=(min(len(data), 65536), *data.shape[1:]),
                                    **opts)  # fmt: skip

        if layout.generators is not None:  # the charges follow from the generators exactly
            models("models/generators", np.asarray(layout.generators, dtype=np.float64))
        else:
            models("models/charges", np.asarray(layout.charges, dtype=np.float64))
            f["models/charges"].attrs["fermions"] = json.dumps(list(FERMIONS))
        models("models/labels",
               np.array([str(s) for s in layout.labels], dtype=_h5py().string_dtype()))
        models("models/x_dark", np.asarray(layout.x_dark, dtype=np.float64))
        if layout.g_explicit is not None:
            f.create_dataset("couplings", data=layout.g_explicit)
        # otherwise the couplings are band_couplings(g_low, g_high, G): derived, not stored
        targets = {}
        for name, (shape, dtype, fill) in layout.datasets().items():
            targets[name] = _create(f, name, shape, dtype, cm, fill)
            attach_scales(targets[name], scales)
        for cname, citation, cl in layout.constraints:
            f[f"constraints/{cname}"].attrs["citation"] = json.dumps(list(citation))
            f[f"constraints/{cname}"].attrs["cl"] = cl
        for index in range(self.n_chunks):
            start = index * self.chunk
            source = self.partial / f"chunk_{index:06d}.h5"
            try:
                src = _h5py().File(source, "r")
            except OSError:
                with contextlib.suppress(OSError):
                    source.unlink()  # recomputed by the next resume
                self.done[index] = False
                raise StoreError(f"chunk {index} in {self.partial} is unreadable and was "
                                 "removed") from None  # fmt: skip
            with src:
                for name, ds in targets.items():
                    origin = (0,) * ds.ndim
                    mask, raw = src[name].id.read_direct_chunk(origin)
                    offset = (start, *([0] * (ds.ndim - 1)))
                    ds.id.write_direct_chunk(offset, raw, mask)
                    if ds.id.read_direct_chunk(offset)[1] != raw:
                        raise OSError(errno.EIO, "Input/output error (read-back differs)")
        f.create_dataset("done", data=np.ones(self.n_chunks, dtype=np.uint8),
                         chunks=(min(self.n_chunks, 65536),), **FILTER)  # fmt: skip

    def close(self) -> None:
        """Release the lock (the partial folder stays if the scan is unfinished)."""
        self._lock.release()


#: Mantissa bits of the band edges kept in summary files (relative precision 2^-16 = 1.5e-5).
BAND_BITS = 16


def quantize_band(values: NDArray) -> NDArray[np.float32]:
    """Band edges as stored in summary files: float32 with the mantissa truncated to
    :data:`BAND_BITS` bits (toward zero; NaN and infinities unchanged). Five significant digits
    of a coupling are plenty for the band's g ranges, and the default alpha-R file shrinks from
    ~26 to ~17 MB; the allowed flags and exclusion counts are exact (computed before storage)."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    mask = np.uint32((0xFFFFFFFF << (23 - BAND_BITS)) & 0xFFFFFFFF)
    return np.asarray(bits & mask).view(np.float32)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _target(key: str) -> str:
    """Dataset name of an engine result key (``g_low``, ``allowed``, ``ratio/<name>``, ...)."""
    if key in ("g_low", "g_high"):
        return f"band/{key}"
    if key == "allowed":
        return "allowed"
    what, name = key.split("/", 1)
    return f"constraints/{name}/{what}"


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
            "charges": f["models/charges"][...] if "models/charges" in f else None,
            "labels": [_str(s) for s in f["models/labels"][...]],
            "generators": f["models/generators"][...] if "models/generators" in f else None,
            "x_dark": f["models/x_dark"][...],
            "family": json.loads(attrs.get("family", "{}")),
            "masses": f["axes/mass"][...],
            "mix_values": f["axes/mix"][...],
            "couplings": f["couplings"][...] if "couplings" in f else None,
            "g_low": f["band/g_low"][...].astype(np.float64),
            "g_high": f["band/g_high"][...].astype(np.float64),
            "allowed": f["allowed"][...].astype(bool),
            "results": results,
            "constraint_names": names,
        }
    except KeyError as exc:
        raise StoreError(f"{path} is damaged: {exc}") from None
    except (OSError, RuntimeError) as exc:
        raise StoreError(f"{path} is damaged: cannot read its data ({_reason(exc)})") from None
    finally:
        f.close()


def __dir__() -> list[str]:
    return list(__all__)
