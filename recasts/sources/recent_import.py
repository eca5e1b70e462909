#!/usr/bin/env python3
"""Regenerate the post-2020 recast tables (issue 13 item 2) from their public source files.

Stdlib only (numpy is not needed). Each table is rebuilt byte for byte from the source file, whose
sha256 is checked first; nothing is typed in by hand. The sources are closed exclusion contours
(one (mass, eps) polygon per file) from the FORESEE repository (github.com/KlingFelix/FORESEE).

A contour becomes a two-sided island ``m_GeV,eps_lower,eps_upper``: the polygon is cut at its
smallest and largest mass into two chains, each monotonic in mass; the rows are the union of the
masses of both chains (every source point, at its own mass, written with its own digits), and the
opposite chain is interpolated linearly in log(eps) vs log(m) at that mass (the interpolation the
recast engine itself uses between rows, so the island the engine sees is the source polygon).
Rows where the chains meet (lower = upper, the tips of the island) cannot be written in the
two-sided format and are dropped (counted in the header).

Usage:
    python recasts/sources/recent_import.py [--foresee GIT_DIR_OR_CHECKOUT] [--check]

``--foresee`` is a bare git directory (read with ``git show <commit>:<path>``) or a checkout of
FORESEE (default: /work/.mirror/KlingFelix+FORESEE/repo). ``--check`` compares with the files in
recasts/ instead of writing them, and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import subprocess
import sys
from pathlib import Path

RECASTS = Path(__file__).resolve().parents[1]
DEFAULT_FORESEE = "/work/.mirror/KlingFelix+FORESEE/repo"

FORESEE_REPO = "https://github.com/KlingFelix/FORESEE"
#: Snapshot commit the files were read at (each file's last change is noted per source).
FORESEE_COMMIT = "2d6431f6f6e92287c1fe1b3003aea39234b29a4b"

#: m_pi0 [GeV] as in zprime_atlas.constants.M_PI0 (PDG table shipped with the package); checked
#: against the package when it is importable.
M_PI0_GEV = 0.1349768

SOURCES: dict[str, dict[str, str]] = {
    "faser_2023_visible": {
        "path": "Models/DarkPhoton/model/lines/bounds_FASER-27invfb.txt",
        "last_change": (
            "8dd2889309667681932ca0eadfc1eb159e0d7417 (2024-02-29, 'New bounds added for dark photon "
            "model')"
        ),
        "header": [
            "# experiment: FASER (LHC Run 3, 13.6 TeV, 27.0 fb^-1 of 2022 data)",
            "# arXiv: 2308.05587",
            "# journal: Phys. Lett. B (2024)",
            (
                "# process: p p -> A' + X (far forward; meson decays, pi0 -> gamma A' dominant in "
                "this mass range), A' -> e+e- in the FASER decay volume 480 m downstream of ATLAS"
            ),
            (
                "# y: eps = kinetic mixing of a minimal dark photon (couplings eps*e*Q_f). Two-sided: "
                "excluded for eps_lower < eps < eps_upper"
            ),
            (
                "# confidence level: 90% (as for FASER's published dark-photon exclusion; the source "
                "file carries no CL: zprime-atlas check pending against the paper)"
            ),
            (
                "# curve origin: observed exclusion contour of the paper, as digitised in FORESEE "
                "(file name 'FASER-27invfb'; plotted with label 'FASER' in "
                "Models/DarkPhoton/DarkPhoton.ipynb); figure number not given by the source"
            ),
        ],
    },
    "na62_2023_dump_mumu": {
        "path": "Models/DarkPhoton/model/lines/bounds_NA62mumu.txt",
        "last_change": (
            "8dd2889309667681932ca0eadfc1eb159e0d7417 (2024-02-29, 'New bounds added for dark photon "
            "model')"
        ),
        "header": [
            "# experiment: NA62 (beam-dump mode, 1.4e17 protons on dump, 2021)",
            "# arXiv: 2303.08666",
            "# journal: JHEP 09 (2023) 035",
            (
                "# process: p + dump -> A' + X, A' -> mu+mu- in flight in the decay volume (starting "
                "~80 m downstream)"
            ),
            (
                "# y: eps = kinetic mixing of a minimal dark photon (couplings eps*e*Q_f). Two-sided: "
                "excluded for eps_lower < eps < eps_upper"
            ),
            (
                "# confidence level: 90% (abstract: 'A region of the parameter space is excluded at "
                "90% CL')"
            ),
            (
                "# curve origin: exclusion contour of the paper, as digitised in FORESEE (file name "
                "'NA62mumu'; plotted with label 'NA62 - mu mu' in "
                "Models/DarkPhoton/DarkPhoton.ipynb); figure number not given by the source (Darkcast "
                "reads the same result from Fig. 14 of arXiv:2303.08666)"
            ),
        ],
    },
    "na62_2023_dump_ee": {
        "path": "Models/DarkPhoton/model/lines/bounds_NA62ee.txt",
        "last_change": (
            "3998befc177c5aa33acf20bbd678f2caf3de3ea0 (2024-04-19, 'Create bounds_NA62ee.txt')"
        ),
        "header": [
            "# experiment: NA62 (beam-dump mode, 1.4e17 protons on dump, 2021)",
            "# arXiv: 2312.12055",
            "# journal: Phys. Rev. Lett. 133 (2024) 111802",
            "# process: p + dump -> A' + X, A' -> e+e- in flight in the decay volume",
            (
                "# y: eps = kinetic mixing of a minimal dark photon (couplings eps*e*Q_f). Two-sided: "
                "excluded for eps_lower < eps < eps_upper"
            ),
            "# confidence level: 90% (abstract: 'excluded at 90% CL')",
            (
                "# curve origin: e+e- exclusion contour of the paper, as digitised in FORESEE (file "
                "name 'NA62ee'; not plotted in the FORESEE notebooks); which figure (e+e- alone, not "
                "the e+e- and mu+mu- combination) is inferred from the file name only: zprime-atlas "
                "check pending against the paper"
            ),
        ],
    },
}

#: sha256 of each source file at FORESEE_COMMIT (checked on every run before anything is written).
SHA256 = {
    "faser_2023_visible": "7274d1e0f4fc8a331a2b8f1dc677f3079546be0788130d70ebf12dd48abd152f",
    "na62_2023_dump_mumu": "488ef58f6a168bb5dc7b661e80ad42333d2bf6c30e718ed11416e614b91a5aab",
    "na62_2023_dump_ee": "d0ee0b732791e8b342b04f4428af5e1514f6c9a3ed29d66b5f078c87677cb002",
}


def read_source(foresee: str, path: str) -> bytes:
    root = Path(foresee)
    if (root / path).is_file():
        return (root / path).read_bytes()
    out = subprocess.run(
        ["git", f"--git-dir={root}", "show", f"{FORESEE_COMMIT}:{path}"],
        check=True,
        capture_output=True,
    )
    return out.stdout


def parse_points(raw: bytes) -> list[tuple[str, str]]:
    points = []
    for line in raw.decode().splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"unexpected line {line!r}")
        points.append((fields[0], fields[1]))
    return points


def chains(points: list[tuple[float, float]]) -> tuple[list[int], list[int]]:
    """Index lists of the two chains of a closed polygon, each from its smallest to largest mass."""
    n = len(points)
    m = [p[0] for p in points]
    i_max = max(range(n), key=lambda i: m[i])
    m_min = min(m)
    # walk forward from the tip to the first point at the smallest mass ...
    first: list[int] = []
    i = i_max
    while True:
        first.append(i)
        if m[i] == m_min:
            break
        i = (i + 1) % n
    # ... skip the other points of a vertical edge at the smallest mass, then walk back to the tip.
    j = i
    while m[(j + 1) % n] == m_min:
        j = (j + 1) % n
    second: list[int] = []
    while True:
        second.append(j)
        if j == i_max:
            break
        j = (j + 1) % n
    first.reverse()  # now from the smallest mass to the tip
    for chain in (first, second):
        for a, b in itertools.pairwise(chain):
            if not m[b] > m[a]:
                raise ValueError(f"chain not monotonic in mass at points {a}, {b}")
    return first, second


def interp_loglog(chain: list[tuple[float, float]], x: float) -> float:
    for (x0, y0), (x1, y1) in itertools.pairwise(chain):
        if x0 <= x <= x1:
            w = math.log(x / x0) / math.log(x1 / x0)
            return math.exp(math.log(y0) + w * (math.log(y1) - math.log(y0)))
    raise ValueError(f"mass {x} outside the chain")


def fmt(text: str) -> str:
    """A source number in its shortest round-trip form (no digits added or lost)."""
    return repr(float(text))


def island(points_text: list[tuple[str, str]]) -> tuple[list[tuple[str, str, str]], dict]:
    pts = [(float(a), float(b)) for a, b in points_text]
    c1, c2 = chains(pts)
    med = [sorted(pts[i][1] for i in c)[len(c) // 2] for c in (c1, c2)]
    lower_idx, upper_idx = (c1, c2) if med[0] < med[1] else (c2, c1)
    lower = [pts[i] for i in lower_idx]
    upper = [pts[i] for i in upper_idx]
    lo_range = (max(lower[0][0], upper[0][0]), min(lower[-1][0], upper[-1][0]))
    rows: dict[float, list] = {}
    for side, idx in (("lower", lower_idx), ("upper", upper_idx)):
        for i in idx:
            mass = pts[i][0]
            if not lo_range[0] <= mass <= lo_range[1]:
                continue
            row = rows.setdefault(mass, [points_text[i][0], None, None])
            row[1 if side == "lower" else 2] = points_text[i][1]
    out = []
    dropped = 0
    for mass in sorted(rows):
        m_text, lo_text, hi_text = rows[mass]
        lo = float(lo_text) if lo_text is not None else interp_loglog(lower, mass)
        hi = float(hi_text) if hi_text is not None else interp_loglog(upper, mass)
        if not hi > lo:
            dropped += 1
            continue
        out.append((
            fmt(m_text),
            fmt(lo_text) if lo_text is not None else f"{lo:.10g}",
            fmt(hi_text) if hi_text is not None else f"{hi:.10g}",
        ))  # fmt: skip
    info = {
        "n_source": len(pts),
        "n_lower": len(lower_idx),
        "n_upper": len(upper_idx),
        "dropped": dropped,
        "m_min": min(p[0] for p in pts),
        "m_max": max(p[0] for p in pts),
    }
    return out, info


def render(name: str, raw: bytes) -> str:
    src = SOURCES[name]
    rows, info = island(parse_points(raw))
    lines = list(src["header"])
    lines += [
        f"# read from: {FORESEE_REPO} commit {FORESEE_COMMIT}, file {src['path']} "
        f"(sha256 {hashlib.sha256(raw).hexdigest()}; last changed in {src['last_change']})",
        f"# source: a closed contour of {info['n_source']} (m [GeV], eps) points, contour mass range "
        f"{info['m_min']!r} - {info['m_max']!r} GeV",
        "# conversion (recasts/sources/recent_import.py): the polygon is cut at its smallest and "
        f"largest mass into a lower chain ({info['n_lower']} points) and an upper chain "
        f"({info['n_upper']} points); one row per distinct source mass, the source value kept on its "
        "own chain and the other chain interpolated linearly in log(eps) vs log(m) (written to 10 "
        f"significant digits); {info['dropped']} row(s) where both chains meet (eps_lower = "
        "eps_upper, the tips) dropped, so the island closes just beyond the first and last masses "
        "listed",
        f"# mass range [GeV]: {rows[0][0]} - {rows[-1][0]}",
        f"# points: {len(rows)}",
        "m_GeV,eps_lower,eps_upper",
    ]
    lines += [",".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def fractions_csv() -> str:
    """Production mix of the NA62 e+e- recast: pi0 -> gamma A' below m_pi0, eta -> gamma A' above."""
    below = repr(M_PI0_GEV)
    above = repr(M_PI0_GEV * (1.0 + 1e-9))
    lines = [
        (
            "# NA62 beam-dump e+e- search (arXiv:2312.12055): fraction of the dark-photon signal from "
            "each mechanism vs mass."
        ),
        (
            "# Darkcast's convention for proton dumps (as in its NA62 and FASER limit files): pi0 -> "
            "gamma A' wherever"
        ),
        (
            "#   kinematically open, eta -> gamma A' otherwise; proton bremsstrahlung and other "
            "mesons neglected."
        ),
        (
            f"# Step at m_pi0 = {below} GeV (zprime_atlas.constants.M_PI0); written by "
            f"recasts/sources/recent_import.py."
        ),
        "m_GeV,pi0_gamma,eta_gamma",
        "0.001,1.0,0.0",
        f"{below},1.0,0.0",
        f"{above},0.0,1.0",
        "1.0,0.0,1.0",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--foresee", default=DEFAULT_FORESEE)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    try:
        from zprime_atlas.constants import M_PI0
    except ImportError:
        pass
    else:
        if M_PI0 != M_PI0_GEV:
            print(f"m_pi0 changed in the package: {M_PI0} != {M_PI0_GEV}", file=sys.stderr)
            return 1
    outputs: dict[str, str] = {}
    ok = True
    for name, src in SOURCES.items():
        raw = read_source(args.foresee, src["path"])
        digest = hashlib.sha256(raw).hexdigest()
        if digest != SHA256[name]:
            print(
                f"{name}: sha256 of {src['path']} is {digest}, expected {SHA256[name]}",
                file=sys.stderr,
            )
            ok = False
            continue
        outputs[f"{name}.csv"] = render(name, raw)
    outputs["na62_2023_dump_ee_production_fractions.csv"] = fractions_csv()
    for filename, text in outputs.items():
        target = RECASTS / filename
        if args.check:
            same = target.is_file() and target.read_text() == text
            print(f"{filename}: {'identical' if same else 'DIFFERS'}")
            ok &= same
        else:
            target.write_text(text)
            print(f"{filename}: written")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
