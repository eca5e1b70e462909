"""Regenerate the XENONnT solar 8B CEvNS tables of this folder from the collaboration's data release.

Usage::

    python zprime_atlas/data/xenonnt/generate.py --git-dir DIR [-o OUTPUT_FOLDER]

``DIR`` is a (bare) git clone of XENONnT/cevns_data_release (CC-BY-4.0, Zenodo DOI
10.5281/zenodo.20576156); the files are read at the commit below with ``git show COMMIT:PATH``.
Before anything is written the sha256 of the small files (events, binning, the example notebook,
the accidental-coincidence and ER templates) is checked one by one, and that of the template set
(every neutron and monoenergetic nuclear-recoil template read) as one digest over its sorted
``path sha256`` lines; a mismatch stops the script. Outputs (next to this script unless ``-o``):

- ``xenonnt_2026_bins.csv``: the 3 x 81 analysis bins of SR0, SR1 and SR2 (3 x 3 x 3 x 3 in cS2,
  S2_pre/dt_pre quantile, S1 BDT score, S2 BDT score): observed events (the release's events
  histogrammed with its bin edges), and the AC, ER and neutron (``rg``) templates in events per
  tonne-year, the neutron one at the nine light-/charge-yield nodes tly, tqy in {-1, 0, 1}.
- ``xenonnt_2026_mono.csv.gz``: the monoenergetic nuclear-recoil efficiency templates (fraction of
  recoils of energy E recorded in each bin) at the 46 energies 0.5..5.0 keV and the same nine nodes.
- ``xenonnt_2026_parameters.toml``: the exposures of the notebook, the bin edges, the commit.

Needs numpy and h5py (the templates are HDF5: ``templates/template`` of shape (3, 3, 3, 3) with the
bin edges under ``bins/0..3``; the bin edges are checked to equal those of ``binning/sr*.yaml``).
Values are written with 8 significant digits (``%.8g``); gzip with mtime 0, so reruns are byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = "XENONnT/cevns_data_release"
COMMIT = "60d230dd7a5646fd4aa2368c5fdfba575ee0cb88"
SRS = ("sr0", "sr1", "sr2")
#: The light- and charge-yield nodes kept (the release has -3..3 in steps of 1 for each).
NODES = (-1.0, 0.0, 1.0)
#: The 46 monoenergetic nuclear-recoil energies of the release [keV] (plot.ipynb: linspace(0.5, 5, 46)).
MONO_KEV = tuple(round(0.5 + 0.1 * i, 3) for i in range(46))
#: Observables, in the order of the binning files and of the template axes.
AXES = ("cs2", "s2_shadow_s2_time_shadow_quantile", "s1_bdt_score", "s2_bdt_score")

#: sha256 of the git blob bytes at COMMIT, file by file.
SHA256: dict[str, str] = {
    "plot.ipynb": "bfe4aa6ad89dd65121a8490102e31a37f9674efdaf61123efcd0bc98582728de",
    "data/sr0.csv": "12277eb44af10eb7cb1346a2acb05e64b17e30f57e6dfdd90dd6afc3c59ee2b5",
    "binning/sr0.yaml": "a2c12278bbdefaf812bd3aa6b9e25acee10c2178309c26563cfa1d7f08dd2a2d",
    "templates/sr0/ac/template_XENONnT_sr0_ac_cevns.h5": "01eec9bb2a5ac971aefc1f5b451045d9c181fdffce1236c860c62721cc3a4104",  # noqa: E501
    "templates/sr0/er/template_XENONnT_sr0_er_cevns.h5": "a59fc04be224acb5c10d5e5e8077ae2539030f16239bf89e0380aa0db859060b",  # noqa: E501
    "data/sr1.csv": "3bfda89ec224837f07af87b5130946071e1826241c861b5ae7e95ffe790d1307",
    "binning/sr1.yaml": "d87972a3e1a9075a72a2f0b0938c1683769e4313116624fb66c513155fbd1383",
    "templates/sr1/ac/template_XENONnT_sr1_ac_cevns.h5": "34ecc42c80458a094186c44b077b247378525598e9896ae8d9e30a4ee370ed23",  # noqa: E501
    "templates/sr1/er/template_XENONnT_sr1_er_cevns.h5": "b28ade85c172e11792bbedde74da99cfad628667e3dc3078d005648ca2f5bc43",  # noqa: E501
    "data/sr2.csv": "bc7455a44e6a84f2c8efca38a50353bc71b728f1c70529cffc826fcc8fa40465",
    "binning/sr2.yaml": "54bd9d3b47cab6549a9d705664502e388afa79abd144b3dfb626254304416b94",
    "templates/sr2/ac/template_XENONnT_sr2_ac_cevns.h5": "a425a8ff5eb1a360769ff2302583abc356978e5ac772327b0d26e2cfc1ce6ddc",  # noqa: E501
    "templates/sr2/er/template_XENONnT_sr2_er_cevns.h5": "549cbb0f0a6b5196c293cd8c9f7d6ce815bad226a6bf03b720634ef4a070a2d6",  # noqa: E501
}
#: sha256 of the sorted "path sha256" lines of every file of :func:`template_paths`.
TEMPLATE_SET_SHA256 = "1a1992f1202a73e659c4446b341875543a884b824e5976f538d2314a5c273e0f"


def template_paths() -> list[str]:
    """The neutron and monoenergetic templates read: 3 SRs x 9 nodes x (1 + 46 energies)."""
    out = []
    for sr in SRS:
        for ly in NODES:
            for qy in NODES:
                out.append(f"templates/{sr}/rg/template_XENONnT_{sr}_rg_cevns_tly_{ly:.1f}_tqy_{qy:.1f}.h5")
                out.extend(
                    f"templates/{sr}/mono/template_XENONnT_{sr}_mono_{e:.3f}_cevns_tly_{ly:.1f}_tqy_{qy:.1f}.h5"
                    for e in MONO_KEV
                )
    return out


def small_paths() -> list[str]:
    out = ["plot.ipynb"]
    for sr in SRS:
        out += [
            f"data/{sr}.csv",
            f"binning/{sr}.yaml",
            f"templates/{sr}/ac/template_XENONnT_{sr}_ac_cevns.h5",
            f"templates/{sr}/er/template_XENONnT_{sr}_er_cevns.h5",
        ]
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(git_dir: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:{path}"], check=True, capture_output=True
    ).stdout


def read_release(git_dir: Path, expected: dict[str, str], set_digest: str) -> dict[str, bytes]:
    """Every file used, hash-checked (``expected`` per small file, ``set_digest`` for the templates)."""
    files = {p: read(git_dir, p) for p in small_paths() + template_paths()}
    for p in small_paths():
        got = sha256(files[p])
        if got != expected.get(p):
            raise SystemExit(f"{p}: sha256 {got}, recorded {expected.get(p)}; nothing written")
    got = template_set_digest(files)
    if got != set_digest:
        raise SystemExit(f"template set: sha256 {got}, recorded {set_digest}; nothing written")
    return files


def template_set_digest(files: dict[str, bytes]) -> str:
    lines = "".join(f"{p} {sha256(files[p])}\n" for p in sorted(template_paths()))
    return sha256(lines.encode())


def parse_binning(text: str) -> dict[str, list[float]]:
    """The flat ``name:\\n- value`` lists of binning/sr*.yaml."""
    out: dict[str, list[float]] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            continue
        head = re.match(r"^(\w+):\s*$", line)
        if head:
            key = head.group(1)
            out[key] = []
        elif line.startswith("- ") and key is not None:
            out[key].append(float(line[2:]))
        else:
            raise SystemExit(f"binning: unexpected line {line!r}")
    return out


def histogram(data: bytes, name: str, h5_bytes: bytes) -> tuple[np.ndarray, list[np.ndarray]]:
    import h5py

    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        hist = np.array(f["templates/template"][()], dtype=np.float64)
        edges = [np.array(f[f"bins/{i}"][()], dtype=np.float64) for i in range(4)]
    if hist.shape != (3, 3, 3, 3):
        raise SystemExit(f"{name}: template shape {hist.shape}, expected (3, 3, 3, 3)")
    return hist, edges


def exposures(notebook: bytes) -> dict[str, float]:
    """The ``livetimes`` dict of plot.ipynb (tonne-years: the templates are per t per y)."""
    cells = json.loads(notebook)["cells"]
    for cell in cells:
        src = "".join(cell["source"])
        if src.lstrip().startswith("livetimes = {"):
            found = dict(re.findall(r'"(sr\d)":\s*([0-9.]+)', src))
            return {sr: float(found[sr]) for sr in SRS}
    raise SystemExit("plot.ipynb: no livetimes cell")


def events(data: bytes) -> np.ndarray:
    rows = [line.split(",") for line in data.decode("ascii").splitlines() if line.strip()]
    if [c.strip() for c in rows[0][1:]] != list(AXES):
        raise SystemExit(f"events: unexpected columns {rows[0]}")
    return np.array([[float(x) for x in r[1:]] for r in rows[1:]])


def fmt(x: float) -> str:
    return f"{x:.8g}"


PROVENANCE = """\
# source: XENONnT solar 8B CEvNS and light dark matter data release, public repository
#   {repo} (CC-BY-4.0; Zenodo DOI 10.5281/zenodo.20576156), commit {commit}.
#   Papers: SR0+SR1: E. Aprile et al. (XENON), Phys. Rev. Lett. 133 (2024) 191002, arXiv:2408.02877;
#   SR0-SR2: E. Aprile et al. (XENON), "Probing the Solar 8B Neutrino Fog with XENONnT",
#   arXiv:2604.06002.
#   sha256 of the git blobs:{small}
#   template set ({n_templates} files: templates/sr*/rg/*_tly_T_tqy_Q.h5 and
#   templates/sr*/mono/*_E_cevns_tly_T_tqy_Q.h5 for T, Q in -1, 0, 1 and the 46 energies E):
#   sha256 of their sorted "path sha256" lines {digest}
# generated by zprime_atlas/data/xenonnt/generate.py (numpy + h5py); rerun it to reproduce this file.
"""

BINS_HEADER = """\
# XENONnT SR0, SR1, SR2: the analysis bins of the extended binned likelihood (3 x 81 rows).
{provenance}# Each SR has 3 x 3 x 3 x 3 bins in (cS2, quantile of S2_pre/dt_pre, S1 BDT score,
#   S2 BDT score);
#   the edges are in xenonnt_2026_parameters.toml (binning/sr*.yaml, equal to the templates' own).
# columns:
#   sr: science run (0, 1, 2)
#   bin: flat bin index i_cs2*27 + i_shadow*9 + i_s1bdt*3 + i_s2bdt (C order of the template arrays)
#   i_cs2, i_shadow, i_s1bdt, i_s2bdt: the four bin indices (0..2)
#   observed: post-selection events (data/sr*.csv histogrammed with the binning files' edges)
#       [events; totals SR0 {n0}, SR1 {n1}, SR2 {n2}]
#   ac: accidental-coincidence template (templates/sr*/ac) [events per tonne-year]
#   er: electronic-recoil template (templates/sr*/er) [events per tonne-year]
#   rg_T_Q: neutron template at light-yield node tly = T and charge-yield node tqy = Q
#       (templates/sr*/rg/..._tly_T_tqy_Q.h5; m1 = -1, 0, p1 = +1) [events per tonne-year]
#   (template values copied from the HDF5 templates/template arrays, 8 significant digits)
"""

MONO_HEADER = """\
# XENONnT SR0, SR1, SR2: monoenergetic nuclear-recoil efficiency templates (3 SRs x 46 energies x
#   9 yield nodes = 1242 rows), the probability that a nuclear recoil of energy e_kev is selected
#   and recorded in each of the 81 analysis bins (dimensionless, as the release README says).
{provenance}# columns:
#   sr: science run (0, 1, 2)
#   e_kev: nuclear-recoil energy [keV] (0.5 .. 5.0 in steps of 0.1)
#   tly, tqy: light- and charge-yield nuisance node (-1, 0, 1)
#   b0 .. b80: efficiency in flat bin 0 .. 80 (bin index as in xenonnt_2026_bins.csv)
#   (values copied from templates/sr*/mono/template_XENONnT_sr*_mono_E_cevns_tly_T_tqy_Q.h5, 8 digits)
"""

PARAMETERS = """\
# XENONnT SR0, SR1, SR2 exposures and bin edges of the solar 8B CEvNS data release.
{provenance}
[exposure_tonne_year]
# plot.ipynb, cell "livetimes = {{...}}": the numbers the per-tonne-year templates are multiplied by
# (named livetimes there; the templates are in events per t per y, README "Templates"). SR0 + SR1 =
# {sum01:.6f}, the "exposure of 3.51 t x yr" of the arXiv:2408.02877 abstract.
{exposures}

[edges]
# binning/sr*.yaml (equal to the bins/0..3 arrays of every template read)
{edges}
"""


def build(files: dict[str, bytes]) -> dict[str, bytes]:
    """The three output files from the release files (already hash-checked)."""
    expo = exposures(files["plot.ipynb"])
    small = "".join(f"\n#     {p} {sha256(files[p])}" for p in small_paths())
    provenance = PROVENANCE.format(
        repo=REPO, commit=COMMIT, small=small, n_templates=len(template_paths()),
        digest=template_set_digest(files),
    )  # fmt: skip
    bins_rows, mono_rows, edge_lines, totals = [], [], [], []
    node_tag = {-1.0: "m1", 0.0: "0", 1.0: "p1"}
    for s, sr in enumerate(SRS):
        binning = parse_binning(files[f"binning/{sr}.yaml"].decode())
        if list(binning) != list(AXES):
            raise SystemExit(f"binning/{sr}.yaml: axes {list(binning)}")
        edges = [np.array(binning[a]) for a in AXES]
        edge_lines += [f"{sr}_{a} = [{', '.join(repr(x) for x in binning[a])}]" for a in AXES]
        ev = events(files[f"data/{sr}.csv"])
        counts, _ = np.histogramdd(ev, bins=edges)
        if counts.sum() != ev.shape[0]:
            raise SystemExit(f"data/{sr}.csv: {ev.shape[0] - counts.sum():.0f} events outside the bins")
        totals.append(int(counts.sum()))

        def load(path: str, edges: list[np.ndarray] = edges, sr: str = sr) -> np.ndarray:
            hist, h5_edges = histogram(files[path], path, files[path])
            for a, b in zip(edges, h5_edges, strict=True):
                if not np.allclose(a, b, rtol=1e-12, atol=1e-12):
                    raise SystemExit(f"{path}: bin edges differ from binning/{sr}.yaml")
            return hist.ravel()

        ac = load(f"templates/{sr}/ac/template_XENONnT_{sr}_ac_cevns.h5")
        er = load(f"templates/{sr}/er/template_XENONnT_{sr}_er_cevns.h5")
        rg = {}
        for ly in NODES:
            for qy in NODES:
                tail = f"tly_{ly:.1f}_tqy_{qy:.1f}.h5"
                rg[(ly, qy)] = load(f"templates/{sr}/rg/template_XENONnT_{sr}_rg_cevns_{tail}")
                for e in MONO_KEV:
                    eff = load(f"templates/{sr}/mono/template_XENONnT_{sr}_mono_{e:.3f}_cevns_{tail}")
                    cells = [str(s), f"{e:.1f}", f"{ly:g}", f"{qy:g}"] + [fmt(x) for x in eff]
                    mono_rows.append(",".join(cells))
        idx = np.indices((3, 3, 3, 3)).reshape(4, -1).T
        flat = counts.ravel()
        for b in range(81):
            cells = [str(s), str(b), *(str(i) for i in idx[b]), f"{flat[b]:.0f}", fmt(ac[b]), fmt(er[b])]
            cells += [fmt(rg[(ly, qy)][b]) for ly in NODES for qy in NODES]
            bins_rows.append(",".join(cells))
    rg_cols = [f"rg_{node_tag[ly]}_{node_tag[qy]}" for ly in NODES for qy in NODES]
    columns = ["sr", "bin", "i_cs2", "i_shadow", "i_s1bdt", "i_s2bdt", "observed", "ac", "er", *rg_cols]
    bins_text = (
        BINS_HEADER.format(provenance=provenance, n0=totals[0], n1=totals[1], n2=totals[2])
        + ",".join(columns)
        + "\n" + "\n".join(bins_rows) + "\n"
    )  # fmt: skip
    mono_text = (
        MONO_HEADER.format(provenance=provenance)
        + ",".join(["sr", "e_kev", "tly", "tqy"] + [f"b{b}" for b in range(81)])
        + "\n" + "\n".join(mono_rows) + "\n"
    )  # fmt: skip
    params = PARAMETERS.format(
        provenance=provenance.rstrip("\n"),
        sum01=expo["sr0"] + expo["sr1"],
        exposures="\n".join(f"{sr} = {expo[sr]!r}" for sr in SRS),
        edges="\n".join(edge_lines),
    )
    return {
        "xenonnt_2026_bins.csv": bins_text.encode(),
        "xenonnt_2026_mono.csv.gz": gzip.compress(mono_text.encode(), compresslevel=9, mtime=0),
        "xenonnt_2026_parameters.toml": params.encode(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", type=Path, required=True, help=f"a git directory of {REPO}")
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).parent)
    parser.add_argument("--print-hashes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.print_hashes:  # for the maintainer recording a new commit
        files = {p: read(args.git_dir, p) for p in small_paths() + template_paths()}
        for p in small_paths():
            print(f'    "{p}": "{sha256(files[p])}",')
        print("template set", template_set_digest(files))
        return 0
    files = read_release(args.git_dir, SHA256, TEMPLATE_SET_SHA256)
    for name, data in build(files).items():
        (args.output / name).write_bytes(data)
        print(f"wrote {args.output / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
