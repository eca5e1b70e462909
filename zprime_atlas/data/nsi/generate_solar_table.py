"""Regenerate ``solar_chi2_tables.npz``: the solar Delta chi^2 tables of ``nsi_oscillation``.

Usage::

    python zprime_atlas/data/nsi/generate_solar_table.py [-o OUTPUT] [--check]

The tables are derived data, not inputs: :class:`zprime_atlas.constraints.nsi.SolarChi2` computes
them from the bundled ``oscillation_inputs.toml`` and ``data/solar/solar_model.csv`` in a few seconds.
They are shipped so that a process does not pay that cost on first use of ``nsi_oscillation`` (every
``limits`` call and every worker of a parallel scan would). Each table is stored with the fingerprint
of what it was computed from (:meth:`SolarChi2.fingerprint`); the package uses a stored table only
when the fingerprint matches, and computes the table otherwise. ``--check`` recomputes both tables
and compares them with the shipped file, bit for bit (the test suite does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from zprime_atlas.constraints.nsi import SolarChi2, load_inputs

OUTPUT = Path(__file__).with_name("solar_chi2_tables.npz")
SOLUTIONS = ("both", "LMA")


def compute() -> dict[str, np.ndarray]:
    """Both tables (theta12 in both octants, and LMA only) with their fingerprints."""
    inputs = load_inputs()
    out: dict[str, np.ndarray] = {}
    for solutions in SOLUTIONS:
        solar = SolarChi2(inputs, solutions)
        out[f"table_{solutions}"] = solar._tabulate()
        out[f"fingerprint_{solutions}"] = np.array(SolarChi2.fingerprint(inputs, solutions))
    out["about"] = np.array(
        "Delta chi^2 of the solar data for D_eff(r) = w0 + w1 Y_n(r), profiled over theta12, on the "
        "grid of zprime_atlas.constraints.nsi.SolarChi2 (rows w0, columns w1); computed by "
        "zprime_atlas/data/nsi/generate_solar_table.py from oscillation_inputs.toml and "
        "data/solar/solar_model.csv"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args(argv)
    tables = compute()
    if args.check:
        with np.load(args.output) as shipped:
            same = all(np.array_equal(shipped[k], v) for k, v in tables.items())
        print("identical" if same else f"{args.output} differs from a fresh computation")
        return 0 if same else 1
    np.savez_compressed(args.output, allow_pickle=False, **tables)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
