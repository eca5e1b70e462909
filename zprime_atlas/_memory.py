"""Keep freed memory for reuse while a scan runs (glibc only; elsewhere a no-op).

A chunk of the grid engine allocates and frees a few hundred arrays of about a megabyte to tens of
megabytes (one per temporary of every constraint). glibc returns freed blocks above its trim and
mmap thresholds (128 KiB by default, growing to at most 32 MiB) to the operating system at once,
so the next temporary of the same size is fresh memory again and every page of it is faulted in
(zeroed by the kernel) on first touch. Measured on the alpha-R benchmark (100^2 x 64 mixings x 9
couplings, 53 constraints, one process): 585k minor page faults and 4.7 s of CPU time with the
default, 63k and 2.9 s with freed memory kept (benchmarks/bench_engine.py prints both).

:func:`keep_freed_memory` raises both thresholds for the duration of a scan, then sets them back
to glibc's documented defaults and returns the memory with ``malloc_trim(0)``: a notebook's
process is as lean after a scan as before. Results are untouched (only where memory comes from
changes). Worker processes of the engine (loky) call :func:`keep_freed_memory_for_good` once, since
they exist only to evaluate chunks.

:func:`large_zeros` maps the in-memory results (2 MiB pages where the system gives them), and
:class:`Prefault` faults in the next chunk's rows of them on a second thread while a one-job scan
computes, so that its writes do not wait for the kernel (survey: writes 1.0-1.4 s -> 0.1 s).
"""

from __future__ import annotations

import ctypes
import math
import mmap
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Prefault", "keep_freed_memory", "keep_freed_memory_for_good", "large_zeros"]

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc's defaults (mallopt(3)): 128 KiB each.
_DEFAULT_THRESHOLD = 128 * 1024
#: While scanning: blocks up to 1 GiB are served from (and returned to) the heap, and up to 2 GiB of
#: free memory at the top of the heap is kept.
_SCAN_MMAP_THRESHOLD = 1 << 30
_SCAN_TRIM_THRESHOLD = (1 << 31) - 1

_LOCK = threading.Lock()
_DEPTH = 0
_FOR_GOOD = False


def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (has mallopt and malloc_trim), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - attribute lookup fails on a libc without mallopt (musl)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def _set(libc: ctypes.CDLL, mmap_threshold: int, trim_threshold: int) -> None:
    libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(mmap_threshold))
    libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(trim_threshold))


@contextmanager
def keep_freed_memory() -> Iterator[None]:
    """Within this context freed memory stays in the process for reuse (no page faults for the
    next temporary); on leaving, glibc's defaults are set back and free memory is returned.
    Nested and concurrent uses (threads) share one setting; the outermost exit restores it."""
    global _DEPTH
    libc = _glibc()
    if libc is None:
        yield
        return
    with _LOCK:
        if _DEPTH == 0 and not _FOR_GOOD:
            _set(libc, _SCAN_MMAP_THRESHOLD, _SCAN_TRIM_THRESHOLD)
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0 and not _FOR_GOOD:
                _set(libc, _DEFAULT_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.malloc_trim(ctypes.c_size_t(0))


def keep_freed_memory_for_good() -> None:
    """For a worker process that only evaluates chunks: keep freed memory from now on."""
    global _FOR_GOOD
    libc = _glibc()
    if libc is None:
        return
    with _LOCK:
        if not _FOR_GOOD:
            _set(libc, _SCAN_MMAP_THRESHOLD, _SCAN_TRIM_THRESHOLD)
            _FOR_GOOD = True


#: Arrays from this size on are mapped with a request for 2 MiB pages (:func:`large_zeros`).
_LARGE_BYTES = 4 << 20


def large_zeros(shape: tuple[int, ...], dtype: Any) -> NDArray:
    """``np.zeros(shape, dtype)``, for a large result array: on Linux its own anonymous mapping with
    ``MADV_HUGEPAGE``, so that the kernel may back it with 2 MiB pages. Its first write then faults
    in a 2 MiB page at a time instead of 4 KiB: measured here (2-core KVM machine, transparent huge
    pages on "madvise"), writing 200 MB into fresh ``np.zeros`` memory took 0.49-0.68 s, into such a
    mapping 0.025 s, and a scan writes every result array once (the survey's are 0.7 GB). The
    contents are the same zeros; elsewhere, or below 4 MiB, this is ``np.zeros``."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    private = getattr(mmap, "MAP_PRIVATE", None)
    anonymous = getattr(mmap, "MAP_ANONYMOUS", None)
    if nbytes < _LARGE_BYTES or advice is None or private is None or anonymous is None:
        return np.zeros(shape, dtype)
    try:
        buffer = mmap.mmap(-1, nbytes, flags=private | anonymous)
        buffer.madvise(advice)
    except OSError:  # no such advice here (a kernel without transparent huge pages)
        return np.zeros(shape, dtype)
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


#: madvise(2) advice (Linux 5.14+): fault pages in, writable, without touching their contents.
_MADV_POPULATE_WRITE = 23


class Prefault:
    """Fault in slices of large result arrays on a background thread while a scan computes
    (Linux 5.14+; elsewhere it does nothing).

    A scan writes each result array once, chunk by chunk, and every page of it is then touched
    for the first time: the kernel zeroes it (and a virtual machine may first have to back it:
    ~2 ms per MB on the development VM, about 1 s of the survey's writes). :meth:`ahead` asks for
    the rows of the next chunk to be faulted in with ``madvise(MADV_POPULATE_WRITE)`` by a second
    thread, on a core the scan leaves idle (the engine uses it only then), while that chunk is
    computed. The call leaves the contents alone (zeros, or what was already written), so results
    are unchanged. It runs outside the GIL (a ctypes call) and ends at :meth:`stop` or at its
    first refusal (an older kernel: the writes then fault the pages in as before).
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[list[NDArray], int, int] | None] = queue.SimpleQueue()
        self._refused = False
        libc = _glibc()
        self.thread: threading.Thread | None = None
        if libc is None:
            return
        self.thread = threading.Thread(target=self._run, args=(libc,),
                                       name="zprime-atlas-prefault", daemon=True)  # fmt: skip
        self.thread.start()

    def ahead(self, arrays: list[NDArray], start: int, stop: int) -> None:
        """Fault in rows [start, stop) of each of ``arrays`` (first axis: the models) that is a
        mapping of :func:`large_zeros`."""
        mapped = [a for a in arrays if a.ndim and a.size and _is_mapped(a)]
        if self.thread is not None and mapped and not self._refused:
            self._tasks.put((mapped, start, stop))

    def _run(self, libc: ctypes.CDLL) -> None:
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        madvise.restype = ctypes.c_int
        page = mmap.PAGESIZE
        while (task := self._tasks.get()) is not None:
            arrays, start, stop = task
            for a in arrays:
                row = a.strides[0]
                first = a.ctypes.data + start * row
                begin = first - first % page  # madvise takes page-aligned ranges
                length = a.ctypes.data + stop * row - begin
                if length > 0 and madvise(ctypes.c_void_p(begin), ctypes.c_size_t(length),
                                          _MADV_POPULATE_WRITE) != 0:  # fmt: skip
                    self._refused = True  # not supported here (EINVAL)
                    return

    def stop(self) -> None:
        """End the thread after the slices asked for so far (the scan finished or failed)."""
        self._tasks.put(None)


def _is_mapped(a: NDArray) -> bool:
    """Whether ``a`` views a mapping of :func:`large_zeros` (not memory of the C heap)."""
    base: Any = a
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):  # np.frombuffer's base
        base = base.obj
    return isinstance(base, mmap.mmap)
