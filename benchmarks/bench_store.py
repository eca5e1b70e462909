"""Size and write time of a scan file per HDF5 filter (issue 19: the filter is chosen by this).

Scans the alpha-R plane at m_X = 0.2 GeV, n x n models (default 120^2) x 17 xi values (16 + 0) x 9
couplings with the default constraint set, in memory, once per storage kind (``summary``: per
(model, mass, mix) excluded count, per (model, mass) whether a constraint speaks, band edges to 16
mantissa bits; ``ratio``: r at every coupling). Then writes the
same arrays, chunked along the model axis as the engine does, with each candidate filter, and prints
the file size and the best-of-3 write time. Prints, asserts nothing.

Run: python benchmarks/bench_store.py [--n 120] [--stores summary ratio]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
from _timing import best_time

from zprime_atlas import catalogue, engine, store
from zprime_atlas.models import alpha_r

FILTERS: dict[str, dict] = {
    "none": {},
    "gzip-1": {"compression": "gzip", "compression_opts": 1},
    "shuffle+gzip-1": {"compression": "gzip", "compression_opts": 1, "shuffle": True},
    "shuffle+gzip-4 (before)": {"compression": "gzip", "compression_opts": 4, "shuffle": True},
    "lzf": {"compression": "lzf"},
    "shuffle+lzf": {"compression": "lzf", "shuffle": True},
    "shuffle+gzip-1+fletcher32": {"compression": "gzip", "compression_opts": 1, "shuffle": True,
                                  "fletcher32": True},  # the choice (store.FILTER)
}


def _arrays(n: int, store_kind: str) -> tuple[dict[str, np.ndarray], int]:
    fam = alpha_r(np.linspace(-np.pi / 2, np.pi / 2, n, endpoint=False)[:, None],
                  np.linspace(-3, 3, n)[None, :])  # fmt: skip
    pos = np.geomspace(1e-4, 40.0, 8)
    plan = engine.plan_scan(fam, [0.2], xi=np.concatenate([-pos[::-1], [0.0], pos]),
                            constraints=catalogue.choose("default"), store=store_kind)  # fmt: skip
    res = engine.execute(plan, progress=False)
    assert res is not None
    band = store.quantize_band if store_kind == "summary" else np.asarray  # as the store writes it
    out = {"band/g_low": band(res.g_low), "band/g_high": band(res.g_high),
           "allowed": res.allowed.astype(np.uint8)}  # fmt: skip
    for name, data in res.results.items():
        for what, arr in data.items():
            out[f"constraints/{name}/{what}"] = arr
    chunk = plan.bounds[0][1] - plan.bounds[0][0]
    return out, chunk


def _write(path: Path, arrays: dict[str, np.ndarray], chunk: int, opts: dict) -> None:
    with h5py.File(path, "w") as f:
        for key, arr in arrays.items():
            f.create_dataset(key, data=arr, chunks=(min(chunk, arr.shape[0]), *arr.shape[1:]), **opts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--stores", nargs="+", default=["summary", "ratio"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.stores:
            arrays, chunk = _arrays(args.n, kind)
            raw = sum(a.nbytes for a in arrays.values())
            print(f"\nstore={kind}: {args.n}^2 models x 17 xi x 9 couplings, {len(arrays)} "
                  f"datasets, {raw / 1e6:.1f} MB uncompressed, {chunk} models per chunk")  # fmt: skip
            print(f"  {'filter':<26} {'size [MB]':>10} {'write [s]':>10}")
            for label, opts in FILTERS.items():
                path = Path(tmp) / "bench.h5"
                seconds = best_time(lambda o=opts, p=path, a=arrays, c=chunk: _write(p, a, c, o), 3)
                print(f"  {label:<26} {os.path.getsize(path) / 1e6:>10.2f} {seconds:>10.2f}")


if __name__ == "__main__":
    main()
