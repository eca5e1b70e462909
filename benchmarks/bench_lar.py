"""coherent_lar_2020: microseconds per point of the fast and the reference path (prints only).

The inputs are an engine grid chunk: N survey models (charges |x| <= 10, every k-th of the 418) x 1
mass x the survey's xi grid (eps/g = (x_e - xi)/e) x 9 couplings across [g_lo, g_hi] per model
(log-spaced; the (g-2) band sits in 1e-4 - 1e-3 at these masses), evaluated by ``_ratio`` (fast) and
``_ratio_reference`` (the path before issue 14/18) on identical arrays; also max |delta r|.

Run: python benchmarks/bench_lar.py [--models 100] [--mass 0.003 0.03 0.3] [--xi 64] [--repeat 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import best_time

from zprime_atlas.constants import E_CHARGE
from zprime_atlas.constraints.coherent_binned import CoherentLAr2020
from zprime_atlas.couplings import Mixing
from zprime_atlas.models import Model, enumerate_models

FIELDS = ("u", "d", "s", "c", "b", "t", "nu_e", "nu_mu", "nu_tau", "e", "mu", "tau")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100, help="models in the chunk (of 418)")
    parser.add_argument("--mass", type=float, nargs="+", default=[0.003, 0.03, 0.3])
    parser.add_argument("--xi", type=int, default=64, help="mixing values")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-reference", action="store_true", help="time the fast path only")
    args = parser.parse_args()
    t0 = time.perf_counter()
    lar = CoherentLAr2020()
    print(f"construction: {time.perf_counter() - t0:.2f} s")
    fam = enumerate_models(10)
    n_all = np.asarray(fam.charge("u")).size
    pick = np.linspace(0, n_all - 1, min(args.models, n_all)).astype(int)
    x = Model({f: np.asarray(fam.charge(f), dtype=float)[pick][:, None, None, None] for f in FIELDS})
    pos = np.geomspace(1e-4, 40.0, args.xi // 2)
    xi = np.concatenate([-pos[::-1], [0.0], pos])[: args.xi][None, None, :, None]
    mix = Mixing.parse(None, (np.asarray(x.charge("e")) - xi) / E_CHARGE)
    g = np.broadcast_to(np.geomspace(1e-4, 1e-3, 9), (pick.size, 1, args.xi, 9))
    points = g.size
    for m_x in args.mass:
        m = np.full((1, 1, 1, 1), m_x)
        fast = lar._ratio(m, g, x, mix)  # warm the kernel cache for both paths
        t_fast = best_time(lambda m=m: lar._ratio(m, g, x, mix), args.repeat)
        line = f"m_X = {m_x:g} GeV, {points} points: fast {t_fast / points * 1e6:.2f} us/point"
        if not args.no_reference:
            t_ref = best_time(lambda m=m: lar._ratio_reference(m, g, x, mix), 1)
            ref = lar._ratio_reference(m, g, x, mix)
            d = np.abs(fast - ref)
            sat = ref > 20.0
            line += (f", reference {t_ref / points * 1e6:.1f} us/point ({t_ref / t_fast:.0f}x); "
                     f"max |dr| {d[~sat].max():.1e} (r <= 20), "
                     f"{(d[sat] / ref[sat]).max() if sat.any() else 0.0:.1e} relative (r > 20); "
                     f"r >= 1 flips {int(np.sum((fast >= 1) != (ref >= 1)))}")  # fmt: skip
        print(line)


if __name__ == "__main__":
    main()
