"""Throughput of the recast constraints: ratio() over (model, mass, coupling) grids, and limit().

Run: python benchmarks/bench_recast.py [--repeat N]. Prints points per second; asserts nothing.
For scale: a per-point Darkcast-style recast costs about 0.3 ms per point per limit (~3e3 points/s).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_time

from zprime_atlas import constraints
from zprime_atlas.models import Model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(2)
    b, le, lmu = rng.uniform(-2, 2, (3, 500, 1, 1))
    batch = Model.from_generators(B=b, Le=le, Lmu=lmu, Ltau=-3 * b - le - lmu)
    g = np.geomspace(1e-5, 1e-2, 8)[None, None, :]
    print("ratio() over 500 models x 100 masses x 8 couplings = 4e5 points, eps_over_g = 0.01")
    for c in constraints.all():
        if not hasattr(c, "meta"):
            continue
        lo, hi = c.mass_range
        m = np.geomspace(lo, hi, 100)[None, :, None]
        t = best_time(lambda c=c, m=m: c.ratio(m, g, batch, eps_over_g=0.01), args.repeat)
        print(f"  {c.name:24s} {4e5 / t:10.3e} points/s ({t * 1e3:7.1f} ms)")
    print("limit() over 500 models x 100 masses = 5e4 points")
    for c in constraints.all():
        if not hasattr(c, "meta"):
            continue
        lo, hi = c.mass_range
        m = np.geomspace(lo, hi, 100)[None, :, None]
        t = best_time(lambda c=c, m=m: c.limit(m[..., 0], batch[..., 0]), args.repeat)
        print(f"  {c.name:24s} {5e4 / t:10.3e} points/s ({t * 1e3:7.1f} ms)")


if __name__ == "__main__":
    main()
