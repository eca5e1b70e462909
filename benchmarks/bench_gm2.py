"""Throughput of the (g-2) core: Delta a_mu and the g_X band over 10^6 (mass, model) points.

Run: python benchmarks/bench_gm2.py [--repeat N]. Prints points per second; asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_time

from zprime_atlas import gm2
from zprime_atlas.models import Model, alpha_r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)

    # (a) 10^6 distinct masses, one model: the loop integral is evaluated 10^6 times.
    masses = np.geomspace(1e-3, 10.0, 1_000_000)
    t = best_time(lambda: gm2.delta_a("mu", masses, 1e-3), args.repeat)
    print(f"delta_a, 1e6 distinct masses:            {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")
    t = best_time(lambda: gm2.delta_a("e", masses, 1e-3), args.repeat)
    print(f"delta_a (electron), 1e6 distinct masses: {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")

    # (b) 1000 models x 1000 masses, broadcast: the model batch has shape (1000, 1).
    batch = Model.from_generators(
        B=rng.uniform(-3, 3, (1000, 1)), Le=rng.uniform(-3, 3, (1000, 1)),
        Lmu=rng.uniform(-3, 3, (1000, 1)), Ltau=rng.uniform(-3, 3, (1000, 1)),
    )  # fmt: skip
    m = np.geomspace(1e-3, 10.0, 1000)
    t = best_time(lambda: gm2.contribution(batch, m, 1e-3), args.repeat)
    print(f"contribution, 1000 models x 1000 masses: {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")
    t = best_time(lambda: gm2.band(batch, m), args.repeat)
    print(f"band, 1000 models x 1000 masses:         {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")
    le, lmu = rng.uniform(-3, 3, (2, 1000, 1))
    # B = 0 and anomaly free: the loop mixing is scale free.
    lepton_batch = Model.from_generators(Le=le, Lmu=lmu, Ltau=-le - lmu)
    t = best_time(lambda: gm2.band(lepton_batch, m, eps="loop"), args.repeat)
    print(f"band eps=loop, 1000 x 1000:              {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")

    # (c) the alpha-R plane at 1000 x 1000 points, one mass.
    plane = alpha_r(np.linspace(-np.pi, np.pi, 1000)[:, None], np.linspace(-3, 3, 1000)[None, :])
    t = best_time(lambda: gm2.band(plane, 0.2), args.repeat)
    print(f"band, alpha-R plane 1000 x 1000:         {1e6 / t:12.3e} points/s ({t * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
