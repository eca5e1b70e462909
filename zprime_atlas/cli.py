"""The ``zprime-atlas`` command line (DESIGN.md section 8).

Commands available now:

    zprime-atlas list [--bibtex]
    zprime-atlas limits --model NAME --mass M [M ...] [--eps VALUE|loop] [--loop-scale GEV]
                        [--dataset 2021|2023|2025|2025-run3] [--json]

Errors go to stderr as one sentence, with exit code 1 (2 for command-line usage errors); no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from . import constraints, gm2
from ._version import __version__
from .models import model as named_model

__all__ = ["main"]

PROG = "zprime-atlas"


class CLIError(Exception):
    """A user error: printed as one sentence, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (exit 2), without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CLIError(f"{what} {text!r} is not a number") from None
    return value


def _parse_masses(texts: Sequence[str]) -> np.ndarray:
    masses = [_float(t, "mass") for t in texts]
    for t, m in zip(texts, masses, strict=True):
        if not math.isfinite(m) or m <= 0:
            raise CLIError(f"mass {t} is not a positive finite number of GeV")
    return np.array(masses)


def _parse_eps(text: str) -> float | str:
    if text.strip().lower() == "loop":
        return "loop"
    value = _float(text, "kinetic mixing --eps")
    if not math.isfinite(value):
        raise CLIError(f"kinetic mixing --eps {text!r} must be finite or 'loop'")
    return value


def _json_number(x: float) -> float | str | None:
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "none"
    return f"{x:.3g}"


# -- commands ---------------------------------------------------------------------------------


def _bibtex(arxiv_id: str) -> str:
    key = "arXiv:" + arxiv_id
    return (
        f"@article{{{key},\n"
        f"  eprint = {{{arxiv_id}}},\n"
        f"  archivePrefix = {{arXiv}},\n"
        f"  url = {{https://arxiv.org/abs/{arxiv_id}}}\n"
        f"}}"
    )


def cmd_list(args: argparse.Namespace) -> int:
    items = constraints.all()
    if args.bibtex:
        ids = sorted({a for c in items for a in c.citation})
        print("\n\n".join(_bibtex(a) for a in ids))
        return 0
    if not items:
        print("no constraints registered")
        return 0
    for c in items:
        lo, hi = c.mass_range
        print(f"{c.name}")
        print(f"  {c.title}")
        print(f"  mass range: {lo:g} - {hi:g} GeV; {c.cl:.0%} CL; arXiv: {', '.join(c.citation)}")
        print(f"  source: {constraints.origin(c.name)}")
        print(f"  notes: {c.notes}")
    return 0


def cmd_limits(args: argparse.Namespace) -> int:
    try:
        model = named_model(args.model)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    masses = _parse_masses(args.mass)
    eps = _parse_eps(args.eps)
    loop_scale = None
    if args.loop_scale is not None:
        loop_scale = _float(args.loop_scale, "--loop-scale")
        if not math.isfinite(loop_scale) or loop_scale <= 0:
            raise CLIError(f"--loop-scale {args.loop_scale} is not a positive number of GeV")
    data = gm2.dataset(args.dataset)
    g_low, g_high = gm2.band(model, masses, eps=eps, dataset=data, loop_scale=loop_scale)
    results: dict[str, np.ndarray] = {}
    for c in constraints.all():
        results[c.name] = np.broadcast_to(
            c.limit(masses, model, eps=eps, loop_scale=loop_scale), masses.shape
        )
    if args.json:
        out: dict[str, Any] = {
            "model": model.name,
            "masses": [float(m) for m in masses],
            "eps": eps,
            "loop_scale": loop_scale,
            "gm2": {
                "dataset": data.name,
                "kind": data.kind,
                "g_low": [_json_number(x) for x in g_low],
                "g_high": [_json_number(x) for x in g_high],
            },
            "constraints": {n: [_json_number(x) for x in v] for n, v in results.items()},
        }
        print(json.dumps(out, indent=2))
        return 0
    eps_text = eps if isinstance(eps, str) else f"{eps:g}"
    print(f"model {model.name}; eps = {eps_text}; smallest excluded g_X per constraint")
    head = f"{'m_X [GeV]':>10}  {'g-2 band (' + data.name + ')':>24}"
    print(head + "".join(f"  {n:>18}" for n in results))
    for i, m in enumerate(masses):
        if data.kind == "band":
            band_text = f"{_fmt(g_low[i])} - {_fmt(g_high[i])}"
        else:
            band_text = f"< {_fmt(g_high[i])}"
        row = f"{m:>10.4g}  {band_text:>24}"
        print(row + "".join(f"  {_fmt(v[i]):>18}" for v in results.values()))
    print("('-': no statement at this mass; 'none': in range but excludes no coupling)")
    return 0


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Light Z' constraints and the muon g-2 band (all masses in GeV).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p_list = sub.add_parser("list", help="list the registered constraints")
    p_list.add_argument("--bibtex", action="store_true", help="print BibTeX of every source")
    p_list.set_defaults(func=cmd_list)

    p_lim = sub.add_parser("limits", help="g-2 band and constraint limits at given masses")
    p_lim.add_argument("--model", required=True, help="named model, e.g. Lmu-Ltau, B-L")
    p_lim.add_argument("--mass", required=True, nargs="+", help="X masses in GeV")
    p_lim.add_argument("--eps", default="0", help="kinetic mixing: a number or 'loop' (default 0)")
    p_lim.add_argument("--loop-scale", default=None, help="GeV; scale where the loop eps vanishes")
    p_lim.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS), help="(g-2)_mu data set")
    p_lim.add_argument("--json", action="store_true", help="print one JSON object")
    p_lim.set_defaults(func=cmd_limits)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zprime-atlas`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (CLIError, ValueError) as exc:
        message = str(exc).rstrip(".").replace("pass loop_scale (GeV)", "pass --loop-scale GEV")
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
