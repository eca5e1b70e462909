"""Regenerate ``b8_spectrum_winter2006.csv`` (the solar 8B neutrino spectrum) from its source file.

Usage::

    python zprime_atlas/data/solar/generate_b8.py --git-dir PEANUTS_GIT_DIR [-o OUTPUT]

The source is ``Data/8B_shape_Winter_et_al.csv`` of michelelucente/PEANUTS at the commit below (the
rows of Winter et al., Phys. Rev. C 73 (2006) 025503, whose own table was not reachable). Its sha256 is
checked before anything is written; the rows are copied unchanged (spaces around the commas
removed), below the provenance header that the shipped file carries.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

REPO = "michelelucente/PEANUTS"
COMMIT = "59e3a2ae102d58f42cc1146eaca2cae68be879ce"
PATH = "Data/8B_shape_Winter_et_al.csv"
SHA256 = "121218e5af821d93fd30f8276fb2d15225ebd460a67d41976da5e5b7e22993ce"
OUTPUT = Path(__file__).with_name("b8_spectrum_winter2006.csv")

HEADER = (  # the shipped header, line for line
    """# 8B solar neutrino energy spectrum lambda(E) (normalised shape; integral 1000 in these units,
#   i.e. the second column is lambda in 1e-3 per MeV), with its quoted 1-sigma uncertainty.
# paper: W. T. Winter et al., Phys. Rev. C 73 (2006) 025503 (the reference named in the source file;
#   authors' list and arXiv id not re-read here).
# SECOND-HAND: the paper's table was not reachable here; these rows are those of the public code
#   michelelucente/PEANUTS, commit 59e3a2ae102d58f42cc1146eaca2cae68be879ce,
#   file Data/8B_shape_Winter_et_al.csv (header "From W. T. Winter et al Phys. Rev. C 73, 025503"),
#   git blob sha256 121218e5af821d93fd30f8276fb2d15225ebd460a67d41976da5e5b7e22993ce.
# Rows copied unchanged (201 rows, E = 0 .. 20 MeV in 0.1 MeV steps; lambda = 0 above 15.2 MeV);
#   only this header and the column names were added. The trapezoidal integral is 999.991.
# regenerated (source sha256 checked) by zprime_atlas/data/solar/generate_b8.py
E_MeV,lambda_1e3_per_MeV,sigma_1e3_per_MeV"""
)


def convert(source: bytes) -> str:
    """The shipped table from the source file's bytes (sha256 checked first)."""
    digest = hashlib.sha256(source).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{PATH} has sha256 {digest}, expected {SHA256}: nothing written")
    rows = []
    for line in source.decode().splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            rows.append(",".join(cell.strip() for cell in text.split(",")))
    return HEADER + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", required=True, help=f"a git directory of {REPO}")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    source = subprocess.run(["git", f"--git-dir={args.git_dir}", "show", f"{COMMIT}:{PATH}"],
                            capture_output=True, check=True).stdout  # fmt: skip
    args.output.write_text(convert(source))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
