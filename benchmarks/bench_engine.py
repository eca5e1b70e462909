"""Throughput and peak memory of the grid engine (issue 18; prints, asserts nothing).

(a) the alpha-R plane at m_X = 0.2 GeV: n x n models x 64 kinetic-mixing (xi) values, the default
    constraint set (``catalogue.default_names()``, what ``zprime-atlas scan`` and the figures use),
    9 couplings across the (g-2) band;
(b) the max-charge-10 survey (418 models) over 200 masses x 128 xi values.
Each with n_jobs = 1 and 2, each in a fresh process after a small warm-up scan (constraints and
their tables loaded). "model-points" = (model, mass, mixing) triples; each carries 9 couplings.

Run: python benchmarks/bench_engine.py [--n 400] [--which a b] [--jobs 1 2] [--backend loky]

Before the benchmarks it prints this machine's own two-worker ceiling: the wall time of two copies
of a numpy streaming loop (multiply and add over arrays of 1.6 MB, cache-resident, and of 32 MB,
memory-bound) run side by side as two processes, against one copy alone. 1.0 means two cores give
twice the throughput; where two vCPUs share a physical core or the memory bandwidth it is more (on
the development VM 1.1 in cache and 1.7 from memory), and no engine's two workers can beat what
that ratio allows on the same kind of work (``--no-ceiling`` skips it).

``--against REF`` (a git commit, branch or tag of this repository) measures the same benchmarks with
the engine of REF in the same run: REF is checked out into a temporary git worktree, and each
benchmark runs as its own process, alternating this tree and REF (``--pairs`` times), so that a drift
of the machine's speed hits both; it prints the median throughput of each and the median of the
per-pair ratios, with each process's peak memory (its own ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _xi(n: int) -> np.ndarray:
    pos = np.geomspace(1e-4, 40.0, n // 2)
    return np.concatenate([-pos[::-1], [0.0], pos])[:n]


def run_a(n: int, jobs: int, backend: str) -> tuple[int, float]:
    from zprime_atlas import catalogue, engine
    from zprime_atlas.models import alpha_r

    fam = alpha_r(np.linspace(-np.pi, np.pi, n, endpoint=False)[:, None],
                  np.linspace(-3, 3, n)[None, :])  # fmt: skip
    names = catalogue.default_names()
    t = time.perf_counter()
    res = engine.scan(fam, [0.2], xi=_xi(64), n_jobs=jobs, backend=backend, progress=False,
                      constraints=names)  # fmt: skip
    return res.shape[0] * res.shape[1] * res.shape[2], time.perf_counter() - t


def run_b(n_mass: int, jobs: int, backend: str) -> tuple[int, float]:
    from zprime_atlas import engine

    t = time.perf_counter()
    res = engine.survey(max_charge=10, masses=np.geomspace(1e-3, 1, n_mass), xi=_xi(128),
                        n_jobs=jobs, backend=backend, progress=False)  # fmt: skip
    return res.shape[0] * res.shape[1] * res.shape[2], time.perf_counter() - t


def _one(which: str, n: int, n_mass: int, jobs: int, backend: str) -> dict[str, float]:
    """One benchmark in this process: throughput, wall seconds, peak memory (MB). A small scan
    first loads the constraints and their tables (what any later scan of a session finds done)."""
    # 20^2 x 64 points: chunks large enough for the compiled kernels, if installed, to load too
    run_a(20, 1, backend) if which == "a" else run_b(2, 1, backend)
    points, seconds = run_a(n, jobs, backend) if which == "a" else run_b(n_mass, jobs, backend)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"points": points, "seconds": seconds, "rate": points / seconds, "peak_mb": peak,
            "worker_peak_mb": peak_children}  # fmt: skip


def _child(tree: Path, args: argparse.Namespace, which: str, jobs: int) -> dict[str, float]:
    """Run one benchmark as a new process importing zprime_atlas from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", which, "--n", str(args.n),
           "--n-mass", str(args.n_mass), "--jobs", str(jobs), "--backend", args.backend]  # fmt: skip
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _compare(args: argparse.Namespace) -> None:
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="zprime-bench-") as tmp:
        ref_tree = Path(tmp) / "ref"
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", "-q", str(ref_tree),
                        args.against], check=True)  # fmt: skip
        try:
            for which in args.which:
                for jobs in args.jobs:
                    new, old = [], []
                    for _ in range(args.pairs):
                        new.append(_child(here, args, which, jobs))
                        old.append(_child(ref_tree, args, which, jobs))
                    ratios = [a["rate"] / b["rate"] for a, b in zip(new, old, strict=True)]
                    med = {k: statistics.median(r[k] for r in new) for k in new[0]}
                    ref = {k: statistics.median(r[k] for r in old) for k in old[0]}
                    print(f"({which}) n_jobs={jobs} [{args.backend}]: {med['points']:.3g} model-points;"
                          f" this tree {med['rate']:.3g}/s ({med['seconds']:.1f} s, peak "
                          f"{med['peak_mb']:.0f} MB), {args.against} {ref['rate']:.3g}/s "
                          f"({ref['seconds']:.1f} s, peak {ref['peak_mb']:.0f} MB); speedup "
                          f"{statistics.median(ratios):.2f}x (median of {len(ratios)} pairs, "
                          f"{min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(ref_tree)],
                           check=False)  # fmt: skip


_CEILING_LOOP = """
import sys
import numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
a = np.random.default_rng(0).random(n)
b = np.empty_like(a)
for _ in range(reps):
    np.multiply(a, 1.0001, out=b)
    np.add(b, a, out=b)
"""

#: (doubles per array, repetitions): arrays in the cache, and arrays of 32 MB (memory-bound)
_CEILING_SIZES = ((200_000, 20_000), (4_000_000, 600))


def _ceiling(size: tuple[int, int], pairs: int = 3) -> tuple[float, float]:
    """(seconds of one copy of the loop, median ratio of two copies side by side to one copy)."""
    def run(copies: int) -> float:
        cmd = [sys.executable, "-c", _CEILING_LOOP, *map(str, size)]
        t = time.perf_counter()
        procs = [subprocess.Popen(cmd) for _ in range(copies)]
        for p in procs:
            p.wait()
        return time.perf_counter() - t

    ones, ratios = [], []
    for _ in range(pairs):
        one = run(1)
        ones.append(one)
        ratios.append(run(2) / one)
    return statistics.median(ones), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400, help="alpha-R points per axis")
    parser.add_argument("--n-mass", type=int, default=200, help="survey masses")
    parser.add_argument("--which", nargs="+", default=["a", "b"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--backend", default="loky", help="joblib backend (loky, threading, ...)")
    parser.add_argument("--against", help="git ref whose engine to measure in the same run")
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs with --against")
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip the machine's two-worker ceiling")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one(args.child, args.n, args.n_mass, args.jobs[0], args.backend)))
        return
    if not args.no_ceiling and max(args.jobs) > 1:
        for size in _CEILING_SIZES:
            one, ratio = _ceiling(size)
            print(f"machine ({os.cpu_count()} CPUs): two copies of a numpy loop over "
                  f"{size[0] * 8 / 1e6:.3g} MB arrays side by side take {ratio:.2f}x the wall time "
                  f"of one ({one:.2f} s): two workers give at most {2 / ratio:.2f}x the "
                  "throughput of one on such work here")  # fmt: skip
    if args.against:
        _compare(args)
        return
    here = Path(__file__).resolve().parents[1]
    for which in args.which:
        for jobs in args.jobs:
            r = _child(here, args, which, jobs)  # a fresh process for each measurement
            print(f"({which}) n_jobs={jobs} [{args.backend}]: {r['points']:.3g} model-points in "
                  f"{r['seconds']:.1f} s = {r['rate']:.3g} model-points/s; peak RSS "
                  f"{r['peak_mb']:.0f} MB (largest worker {r['worker_peak_mb']:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
