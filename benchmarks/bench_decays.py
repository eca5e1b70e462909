"""Throughput of zprime_atlas.decays for 10^6 (mass, model) points. A script, not a test.

Run from the repository root: ``python benchmarks/bench_decays.py``. Prints points per second for
three shapes: a (1000, 1) batch of generator models x 1000 masses, one model x 10^6 distinct masses,
and one model x 10^6 masses with loop-induced kinetic mixing (couplings depend on the mass).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zprime_atlas import decays
from zprime_atlas.models import Model, model


def _best_of(fn, repeat: int = 5) -> float:
    fn()  # warm-up (loads the VMD tables once)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(1)
    n_model, n_mass = 1000, 1000
    gens = rng.integers(-5, 6, size=(4, n_model)).astype(float)
    batch = Model.from_generators(
        B=gens[0][:, None], Le=gens[1][:, None], Lmu=gens[2][:, None], Ltau=gens[3][:, None]
    )
    masses = np.geomspace(1e-3, 10.0, n_mass)
    many_masses = np.geomspace(1e-3, 10.0, 10**6)
    lmu_ltau = model("Lmu-Ltau")

    cases = [
        ("widths, (1000,1) models x (1000,) masses, eps=1e-3",
         lambda: decays.widths(batch, masses, 1e-3, eps=1e-3), n_model * n_mass),
        ("total_width, (1000,1) models x (1000,) masses, eps=1e-3",
         lambda: decays.total_width(batch, masses, 1e-3, eps=1e-3), n_model * n_mass),
        ("widths, B-L x 10^6 masses",
         lambda: decays.widths(model("B-L"), many_masses, 1e-3), many_masses.size),
        ("total_width, dark photon x 10^6 masses",
         lambda: decays.total_width("dark-photon", many_masses, 1e-3), many_masses.size),
        ("total_width, Lmu-Ltau x 10^6 masses, eps='loop'",
         lambda: decays.total_width(lmu_ltau, many_masses, 1e-3, eps="loop"), many_masses.size),
    ]  # fmt: skip
    print(f"numpy {np.__version__}; best of 5 runs")
    for label, fn, n in cases:
        t = _best_of(fn)
        print(f"{label:58s} {t * 1e3:8.1f} ms  {n / t:10.3g} points/s")


if __name__ == "__main__":
    main()
