"""Regenerate ``reference_values.json``: the CODATA constants and PDG masses the package uses.

Usage::

    python zprime_atlas/data/constants/generate.py [-o OUTPUT] [--check]

The values are read from :mod:`scipy.constants` (CODATA) and from the PDG table bundled with the
`particle` package, exactly as ``zprime_atlas/constants.py`` used to read them at import time. They
are snapshotted in a file, with the versions they came from, for two reasons: importing
``scipy.constants`` and loading the `particle` table cost about 0.3 s at every start-up, and a
snapshot makes every number independent of which `particle` release happens to be installed (the
scan files record the snapshot's version). ``--check`` compares the shipped file with a fresh read
(the test suite does the same when the installed versions are the snapshot's).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("reference_values.json")

#: CODATA entries of scipy.constants: attribute names, and physical_constants keys.
CODATA_ATTRIBUTES = ("fine_structure", "hbar", "e", "c", "N_A")
CODATA_KEYS = (
    "Fermi coupling constant",
    "atomic mass constant energy equivalent in MeV",
    "atomic mass constant",
)
#: PDG ids whose mass [MeV] is used, and those whose width [MeV] is used.
PDG_MASSES = (11, 13, 15, 111, 211, 221, 331, 113, 223, 333, 23, 6)
PDG_WIDTHS = (113, 223, 333)


def read() -> dict[str, Any]:
    """The values, freshly read from scipy.constants and particle."""
    import hashlib
    from importlib import resources

    import particle
    import scipy
    import scipy.constants as sc
    from particle import Particle

    def known(value: float | None, pdgid: int, what: str) -> float:
        if value is None:
            raise ValueError(f"the PDG table of `particle` has no {what} for PDG id {pdgid}")
        return float(value)

    Particle.from_pdgid(11)  # loads the default PDG table
    table = Particle.table_names()[0]
    table_bytes = resources.files("particle").joinpath("data", table).read_bytes()
    return {
        "about": "CODATA constants (scipy.constants) and PDG masses and widths in MeV (the table "
                 "bundled with `particle`), read by zprime_atlas/data/constants/generate.py",
        "scipy_version": scipy.__version__,
        "particle_version": particle.__version__,
        "particle_table": f"particle/data/{table} of the particle package",
        "particle_table_sha256": hashlib.sha256(table_bytes).hexdigest(),
        "codata": {name: float(getattr(sc, name)) for name in CODATA_ATTRIBUTES},
        "codata_physical_constants": {key: float(sc.physical_constants[key][0]) for key in CODATA_KEYS},
        "pdg_mass_MeV": {str(i): known(Particle.from_pdgid(i).mass, i, "mass") for i in PDG_MASSES},
        "pdg_width_MeV": {str(i): known(Particle.from_pdgid(i).width, i, "width") for i in PDG_WIDTHS},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args(argv)
    fresh = read()
    if args.check:
        same = json.loads(args.output.read_text()) == fresh
        print("identical" if same else f"{args.output} differs from a fresh read")
        return 0 if same else 1
    args.output.write_text(json.dumps(fresh, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
