"""Regenerate the trident Q^2 tables: ``python -m zprime_atlas.constraints.trident.generate``.

Writes ``<name>_q2_weights.csv`` into ``zprime_atlas/data/trident`` for CCFR and CHARM-II (a few
minutes each). ``--check`` also recomputes with about twice the integration nodes and prints the
change of the moments J_1, J_2 that the constraint uses (the table's numerical accuracy).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .experiments import CCFR, CHARM2
from .tables import TABLE_FOLDER, q2_distribution, write_table

__all__ = ["main"]


def _moments_of(q2: NDArray, w: NDArray, masses: NDArray) -> NDArray:
    prop = 1.0 / (masses[:, None] ** 2 + q2)
    return np.stack([np.sum(w * prop, 1), np.sum(w * prop**2, 1)])


def main(argv: Sequence[str] | None = None) -> None:
    """Regenerate the tables in ``zprime_atlas/data/trident`` (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="also run a finer integration")
    parser.add_argument("--only", choices=[CCFR.name, CHARM2.name], default=None)
    args = parser.parse_args(argv)
    for ex in (CCFR, CHARM2):
        if args.only and ex.name != args.only:
            continue
        t0 = time.time()
        info = write_table(ex, TABLE_FOLDER / ex.table_name)
        print(f"{ex.name}: {time.time() - t0:.0f} s; {info}")
        if args.check:
            q2, w_v, _, _ = q2_distribution(ex)
            q2f, w_vf, _, _ = q2_distribution(
                ex, n_s=(20, 28, 28), n_q2=80, n_energy=40, n_mass=(10, 20), n_y=28, n_phi=8
            )
            masses = np.geomspace(1e-4, 100, 13)
            rel = _moments_of(q2, w_v, masses) / _moments_of(q2f, w_vf, masses) - 1
            print(f"  fine/standard - 1 of J_1, J_2 at m = 1e-4..100 GeV: max {np.abs(rel).max():.1e}")


if __name__ == "__main__":
    main()


def __dir__() -> list[str]:
    return list(__all__)
