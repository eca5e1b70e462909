"""Throughput and peak memory of the grid engine (issue 5 targets; prints, asserts nothing).

(a) the alpha-R plane at m_X = 0.2 GeV: n x n models x 64 kinetic-mixing (xi) values, every constraint,
    9 couplings across the (g-2) band;
(b) the max-charge-10 survey (418 models) over 200 masses x 128 xi values.
Each with n_jobs = 1 and 2. "model-points" = (model, mass, mixing) triples; each carries 9 couplings.

Run: python benchmarks/bench_engine.py [--n 400] [--which a b] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from zprime_atlas import engine
from zprime_atlas.models import alpha_r


def _xi(n: int) -> np.ndarray:
    pos = np.geomspace(1e-4, 40.0, n // 2)
    return np.concatenate([-pos[::-1], [0.0], pos])[:n]


def run_a(n: int, jobs: int) -> tuple[int, float]:
    fam = alpha_r(np.linspace(-np.pi, np.pi, n, endpoint=False)[:, None],
                  np.linspace(-3, 3, n)[None, :])  # fmt: skip
    t = time.perf_counter()
    res = engine.scan(fam, [0.2], xi=_xi(64), n_jobs=jobs, progress=False)
    return res.shape[0] * res.shape[1] * res.shape[2], time.perf_counter() - t


def run_b(n_mass: int, jobs: int) -> tuple[int, float]:
    t = time.perf_counter()
    res = engine.survey(max_charge=10, masses=np.geomspace(1e-3, 1, n_mass), xi=_xi(128),
                        n_jobs=jobs, progress=False)  # fmt: skip
    return res.shape[0] * res.shape[1] * res.shape[2], time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400, help="alpha-R points per axis")
    parser.add_argument("--n-mass", type=int, default=200, help="survey masses")
    parser.add_argument("--which", nargs="+", default=["a", "b"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args()
    for which in args.which:
        for jobs in args.jobs:
            points, seconds = run_a(args.n, jobs) if which == "a" else run_b(args.n_mass, jobs)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"({which}) n_jobs={jobs}: {points:.3g} model-points in {seconds:.1f} s = "
                  f"{points / seconds:.3g} model-points/s; peak RSS {peak:.0f} MB "
                  f"(largest worker {peak_children:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
