"""The ``zprime-atlas`` command line (the README's command reference).

Commands:

    zprime-atlas list [--bibtex]
    zprime-atlas limits --model NAME --mass M [M ...] [--eps VALUE|loop] [--loop-scale GEV]
                        [--dataset 2021|2023|2025|2025-run3] [--json]
    zprime-atlas scan alpha-r --mass 0.2 [--n 200] [--mix-n 64] [--no-mixing] --out scan.h5
                        [--jobs N] [--backend loky|dask|ray] [--resume] [--quiet]
    zprime-atlas scan mass-coupling --model NAME --out scan.h5 [--eps VALUE|loop] [...]
    zprime-atlas survey --max-charge 10 --out survey.h5 [--dataset 2021] [--jobs N] [--resume]
    zprime-atlas show scan.h5 [--json]
    zprime-atlas figures [--out figures/] [--only NAME] [--dataset 2021|2023] [--quiet]
    zprime-atlas plot scan.h5 -o figure.png

Errors go to stderr as one sentence, with exit code 1 (2 for command-line usage errors); no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shlex
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import catalogue, constraints, engine, export, gm2, references, store
from ._validate import as_mass
from ._version import __version__
from .constants import FERMIONS
from .models import GENERATORS, Model, alpha_r, generator_label
from .models import model as named_model
from .store import StoreError

__all__ = ["main"]

PROG = "zprime-atlas"


class CLIError(Exception):
    """A user error: printed as one sentence, exit code 1."""


#: Negative numbers (also 1e-3 forms and -inf) are values, not flags: ``--eps -1e-3`` parses.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-inf(inity)?$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (exit 2), without the usage block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

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
    try:
        return as_mass(masses, "mass")
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _parse_eps(text: str) -> float | str:
    if text.strip().lower() == "loop":
        return "loop"
    value = _float(text, "kinetic mixing --eps")
    if not math.isfinite(value):
        raise CLIError(f"kinetic mixing --eps {text!r} must be finite or 'loop'")
    if abs(value) > 1:  # beyond it the products of couplings overflow long before anything physical
        raise CLIError(f"kinetic mixing --eps {text} must lie between -1 and 1")
    return value


def _strict(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (strict JSON: no NaN/Infinity)."""
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _dumps(obj: Any, **kwargs: Any) -> str:
    """Strict JSON text of ``obj`` (no NaN or Infinity tokens)."""
    return json.dumps(_strict(obj), allow_nan=False, **kwargs)


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


def cmd_cite(args: argparse.Namespace) -> int:
    """BibTeX of the package and of every source of the chosen constraints."""
    print("\n\n".join(references.for_constraints(_chosen(args))))
    return 0


def _mass_arguments(parser: argparse.ArgumentParser, default_range: bool = False) -> None:
    parser.add_argument("--mass", nargs="+", default=None, help="X masses in GeV")
    parser.add_argument("--mass-min", default=None, help="GeV (default range: 1e-3 - 10 GeV)"
                        if default_range else "GeV")  # fmt: skip
    parser.add_argument("--mass-max", default=None, help="GeV")
    if default_range:
        parser.set_defaults(default_mass_range=("1e-3", "10"))
    parser.add_argument("--n-mass", type=int, default=300 if default_range else 50,
                        help="log-spaced masses between --mass-min and --mass-max")  # fmt: skip


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model or --charges, and --allow-anomalous (limits, scan mass-coupling)."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="named model or generator string: B-L, Lmu-Ltau, B-2Le-Lmu, "
                                       "3B-10Le+Lmu")  # fmt: skip
    which.add_argument("--charges", help="generator coefficients B=1,Le=-2,Lmu=-1 (missing ones are "
                                         "0), or per-fermion charges u=1,d=1,e=-1,...")  # fmt: skip
    parser.add_argument("--allow-anomalous", action="store_true",
                        help="accept a model whose charges are not anomaly free")  # fmt: skip


def _model_from_args(args: argparse.Namespace) -> Model:
    """The model of --model / --charges, checked for anomaly freedom (one sentence if not)."""
    try:
        model = (named_model(args.model, allow_anomalous=True) if args.model is not None
                 else _charges_model(args.charges))  # fmt: skip
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if not getattr(args, "allow_anomalous", False) and not bool(np.all(model.is_anomaly_free())):
        text = args.model if args.model is not None else args.charges
        raise CLIError(
            f"model {text!r} is not anomaly free (3B + Le + Lmu + Ltau = "
            f"{float(np.max(np.abs(model.anomaly_sum()))):g} != 0 with three right-handed "
            "neutrinos); pass --allow-anomalous to use it anyway"
        )
    return model


def _charges_model(text: str) -> Model:
    """A model from 'B=1,Le=-2,Lmu=-1' (generators) or 'u=1,d=1,e=-1,...' (fermions, FERMIONS)."""
    values: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--charges: {part.strip()!r} is not of the form NAME=NUMBER")
        try:
            values[key] = float(value)
        except ValueError:
            raise ValueError(
                f"--charges: {value.strip()!r} is not a number (in {part.strip()!r})"
            ) from None
        if not math.isfinite(values[key]):
            raise ValueError(f"--charges: {value.strip()!r} is not a finite number")
    if set(values) <= set(GENERATORS):
        b, le, lmu, ltau = (values.get(g, 0.0) for g in GENERATORS)
        return Model.from_generators(B=b, Le=le, Lmu=lmu, Ltau=ltau,
                                     name=generator_label(b, le, lmu, ltau))  # fmt: skip
    unknown = sorted(set(values) - set(FERMIONS) - set(GENERATORS))
    if unknown:
        raise ValueError(f"--charges: unknown name {unknown[0]!r}; use generators "
                         f"{', '.join(GENERATORS)} or fermions {', '.join(FERMIONS)}")  # fmt: skip
    if set(values) & set(GENERATORS):
        raise ValueError("--charges: give generators (B, Le, Lmu, Ltau) or fermion charges, not both")
    return Model({f: values.get(f, 0.0) for f in FERMIONS}, name="custom")


def cmd_list(args: argparse.Namespace) -> int:
    items = constraints.all()
    try:
        rows = catalogue.select(items, experiment=args.experiment, kind=args.kind)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    chosen = {r.name for r in rows}
    items = [c for c in items if c.name in chosen]
    if args.bibtex:
        print("\n\n".join(references.for_constraints(items)))
        return 0
    if not items:
        print("no constraints registered" if args.experiment is None and args.kind is None
              else "no constraint matches the filter")  # fmt: skip
        return 0
    print(f"{'name':<26} {'experiment':<14} {'year':<5} {'kind':<10} {'mass range':<20} "
          f"{'CL':<4} {'reference':<13} status; arXiv")  # fmt: skip
    for r, c in zip(rows, items, strict=True):
        lo, hi = r.mass_range
        status = r.status + ("" if r.verified else ", inputs not all verified")
        print(f"{r.name:<26} {r.experiment[:14]:<14} {r.year:<5} {r.kind:<10} "
              f"{f'{lo:.3g} - {hi:.3g} GeV':<20} {r.cl:<4.0%} {r.reference[:13]:<13} {status}; "
              f"{', '.join(c.citation)}")  # fmt: skip
    if args.verbose:
        for c in items:
            print(f"\n{c.name}: {c.title}")
            print(f"  arXiv: {', '.join(c.citation)}; source: {constraints.origin(c.name)}")
            print(f"  notes: {c.notes}")
    return 0


def cmd_limits(args: argparse.Namespace) -> int:
    try:
        model = _model_from_args(args)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    masses = _masses_from_args(args)
    eps = _parse_eps(args.eps)
    loop_scale = _loop_scale(args)
    if args.format in ("json", "csv"):
        table = export.excluded_intervals_table(model, masses, _chosen(args, default="all"), eps=eps,
                                                loop_scale=loop_scale, dataset=args.dataset)  # fmt: skip
        _write_table(table, args.format, getattr(args, "output", None))
        return 0
    data = gm2.dataset(args.dataset)
    g_low, g_high = gm2.band(model, masses, eps=eps, dataset=data, loop_scale=loop_scale)
    results: dict[str, np.ndarray] = {}
    for c in _chosen(args, default="all"):
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
        print(_dumps(out, indent=2))
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


def cmd_export(args: argparse.Namespace) -> int:
    """Every constraint's excluded intervals for one model, both edges, full resolution."""
    model = _model_from_args(args)
    table = export.excluded_intervals_table(
        model, _masses_from_args(args), _chosen(args, default="all"), eps=_parse_eps(args.eps),
        loop_scale=_loop_scale(args), dataset=args.dataset,
    )  # fmt: skip
    _write_table(table, args.format, args.output)
    return 0


def _write_table(table: dict[str, Any], fmt: str, output: str | None) -> None:
    text = _dumps(table, indent=1) if fmt == "json" else export.to_csv(table)
    if output is None:
        print(text)
        return
    target = Path(output)
    if target.exists():
        raise CLIError(f"{output} exists; choose another file name (nothing was written)")
    target.write_text(text if text.endswith("\n") else text + "\n")


def _loop_scale(args: argparse.Namespace) -> float | None:
    if args.loop_scale is None:
        return None
    value = _float(args.loop_scale, "--loop-scale")
    if not math.isfinite(value) or value <= 0:
        raise CLIError(f"--loop-scale {args.loop_scale} is not a positive number of GeV")
    if not math.isfinite(value * value):
        raise CLIError(f"--loop-scale {args.loop_scale} GeV is too large: its square overflows "
                       "(it must be below ~1e154 GeV)")  # fmt: skip
    return value


def _masses_from_args(args: argparse.Namespace) -> np.ndarray:
    """--mass M [M ...] or --mass-min/--mass-max/--n-mass (log spaced), not both."""
    ranged = args.mass_min is not None or args.mass_max is not None
    if args.mass and ranged:
        raise CLIError("give --mass or --mass-min/--mass-max, not both")
    if args.mass:
        return _parse_masses(args.mass)
    if args.mass_min is None and args.mass_max is None and getattr(args, "default_mass_range", None):
        args.mass_min, args.mass_max = args.default_mass_range
    if args.mass_min is None or args.mass_max is None:
        raise CLIError("give --mass M [M ...], or both --mass-min and --mass-max (GeV)")
    lo, hi = _float(args.mass_min, "--mass-min"), _float(args.mass_max, "--mass-max")
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise CLIError(f"--mass-min {args.mass_min} and --mass-max {args.mass_max} must satisfy "
                       "0 < min < max (GeV)")  # fmt: skip
    _parse_masses([args.mass_min, args.mass_max])
    return np.geomspace(lo, hi, _count(args, "--n-mass", high=10**6))


def _chosen(args: argparse.Namespace, default: str = "default") -> list[constraints.Constraint]:
    """The constraints of --constraints / --exclude (CLI errors in one sentence)."""
    try:
        chosen = catalogue.choose(args.constraints or default, args.exclude)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    return [constraints.get(n) for n in chosen]


def _selection_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--constraints", default=None,
                        help=f"comma-separated names, 'all' or 'default' (default: {default}; "
                             "'default' is all but the electron g-2 ones and the binned "
                             "coherent_lar_2020, slow on grids)")  # fmt: skip
    parser.add_argument("--exclude", default=None, help="comma-separated names to leave out")


#: Upper bounds of the integer grid options (far beyond any scan that fits in memory; the memory
#: check says more precisely what fits).
_MAX_COUNT = 10**7


def _count(args: argparse.Namespace, flag: str, low: int = 1, high: int = _MAX_COUNT) -> int:
    """The integer option ``flag`` (e.g. "--n"), checked to lie in [low, high] (one sentence)."""
    value = getattr(args, flag.lstrip("-").replace("-", "_"))
    if not low <= value <= high:
        raise CLIError(f"{flag} {value} must lie between {low} and {high:g}")
    return int(value)


def _check_grid(n_models: int, n_masses: int, n_mix: int, n_g: int, args: argparse.Namespace,
                store: str = "summary") -> None:  # fmt: skip
    """Refuse, in one sentence with the memory estimate, a grid that cannot fit in memory (before
    any array of it is built)."""
    n_constraints = len(_chosen(args))
    try:
        engine.check_memory(n_models, n_masses, n_mix, n_g, n_constraints, store, in_memory=False,
                            n_jobs=args.jobs)  # fmt: skip
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _common_scan_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    cpus = os.cpu_count() or 1
    if args.jobs < 1:
        raise CLIError(f"--jobs {args.jobs} must be at least 1")
    if args.backend in ("loky", "threading") and args.jobs > 8 * cpus:
        raise CLIError(f"--jobs {args.jobs} is more than 8 workers per CPU of this machine "
                       f"({cpus} CPUs)")  # fmt: skip
    if args.backend == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise CLIError("--backend ray needs ray, which is not installed: pip install ray, or "
                           "use --backend loky") from None  # fmt: skip
    chunk = None if args.chunk_size is None else _count(args, "--chunk-size")
    return {
        "chunk_size": chunk,
        "constraints": _chosen(args),
        "n_jobs": args.jobs,
        "backend": args.backend,
        "resume": args.resume,
        "overwrite": args.overwrite,
        "out": args.out,
        "progress": False if args.quiet else None,
    }


def _report(result: engine.ScanResult, out: str, quiet: bool) -> None:
    if not quiet:
        print(f"wrote {out}: {result.shape[0]} models x {result.shape[1]} masses x "
              f"{result.shape[2]} mixings x {result.shape[3]} couplings; allowed fraction "
              f"{result.allowed_fraction():.3g}")  # fmt: skip


def _backend_client(backend: str):
    """A local dask cluster for ``--backend dask`` when no scheduler is configured."""
    if backend != "dask":
        return None
    try:
        from dask.distributed import Client
    except ImportError:
        raise CLIError("--backend dask needs the dask extra: pip install 'zprime-atlas[dask]'") from None
    return Client(processes=False, dashboard_address=None)  # no fixed port: never "busy"


def cmd_scan_alpha_r(args: argparse.Namespace) -> int:
    n = _count(args, "--n", low=2)
    masses = _parse_masses(args.mass)
    r_max = _float(args.r_max, "--r-max")
    if not (math.isfinite(r_max) and r_max > 0):
        raise CLIError(f"--r-max {args.r_max} must be a positive finite number")
    mix_n = _count(args, "--mix-n")
    upper = gm2.dataset(args.dataset).kind != "band"
    n_g = 1 if upper else _count(args, "--n-g", high=engine.MAX_SUMMARY_COUPLINGS)
    kw = _common_scan_kwargs(args)
    half = mix_n // 2  # 2 half + 1 values, 0 included (--mix-n 1: xi = 0 only)
    _check_grid(n * n, len(masses), 1 if args.no_mixing else 2 * half + 1, n_g, args)
    # one half of the plane: (alpha + pi, -R) is the same U(1) with X -> -X
    alpha = np.linspace(-np.pi / 2, np.pi / 2, n, endpoint=False)
    r_axis = np.linspace(-r_max, r_max, n)
    family = alpha_r(alpha[:, None], r_axis[None, :])
    if args.no_mixing:
        mix: dict[str, Any] = {"eps": 0.0}
    else:
        pos = np.geomspace(1e-4, 40.0, half)
        mix = {"xi": np.concatenate([-pos[::-1], [0.0], pos])}
    client = _backend_client(args.backend)
    try:
        result = engine.scan(family, masses, gm2=args.dataset, n_g=n_g,
                             at_upper_limit=upper, **mix, **kw)  # fmt: skip
    finally:
        if client is not None:
            client.close()
    _report(result, args.out, args.quiet)
    return 0


def cmd_scan_mass_coupling(args: argparse.Namespace) -> int:
    try:
        model = _model_from_args(args)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    lo = _float(args.mass_min, "--mass-min")
    hi = _float(args.mass_max, "--mass-max")
    if not (0 < lo < hi and math.isfinite(hi)):
        raise CLIError(
            f"mass range {args.mass_min} - {args.mass_max} GeV is not increasing and positive"
        )
    _parse_masses([args.mass_min, args.mass_max])
    g_lo = _float(args.g_min, "--g-min")
    g_hi = _float(args.g_max, "--g-max")
    if not (0 < g_lo < g_hi and math.isfinite(g_hi)):
        raise CLIError(f"coupling range {args.g_min} - {args.g_max} is not increasing and positive")
    if g_hi > 4 * math.pi:
        raise CLIError(f"--g-max {args.g_max} is above 4 pi (not perturbative; the results would "
                       "mean nothing)")  # fmt: skip
    n_mass, n_coupling = _count(args, "--n-mass"), _count(args, "--n-coupling")
    eps = _parse_eps(args.eps)
    loop_scale = _loop_scale(args)
    kw = _common_scan_kwargs(args)
    _check_grid(1, n_mass, 1, n_coupling, args, store="ratio")
    masses = np.geomspace(lo, hi, n_mass)
    g = np.geomspace(g_lo, g_hi, n_coupling)
    client = _backend_client(args.backend)
    try:
        result = engine.scan(model, masses, eps=eps, g_X=g, loop_scale=loop_scale,
                             gm2=None, **kw)  # fmt: skip
    finally:
        if client is not None:
            client.close()
    _report(result, args.out, args.quiet)
    return 0


#: Largest --max-charge: the enumeration visits ~(2/3 q)(2q + 1)^2 charge vectors.
_MAX_CHARGE = 100


def cmd_survey(args: argparse.Namespace) -> int:
    max_charge = _count(args, "--max-charge", high=_MAX_CHARGE)
    n_mass = _count(args, "--n-mass")
    kw = _common_scan_kwargs(args)
    from .models import enumerate_models

    n_models = enumerate_models(max_charge).size
    upper = gm2.dataset(args.dataset).kind != "band"
    _check_grid(n_models, n_mass, len(engine.default_xi()), 1 if upper else 9, args)
    masses = np.geomspace(1e-3, 1.0, n_mass)
    if args.electron_gm2 is not None:
        extra = constraints.get(f"gm2_electron_{args.electron_gm2}")
        kw["constraints"] = [c for c in kw["constraints"] if c.name != extra.name] + [extra]
    client = _backend_client(args.backend)
    try:
        result = engine.survey(max_charge=max_charge, masses=masses, dataset=args.dataset, **kw)
    finally:
        if client is not None:
            client.close()
    if not args.quiet:
        _report(result, args.out, args.quiet)
        data = gm2.dataset(args.dataset)
        split = result.survey_summary()
        n, gap = split["n_viable"], split["n_gap_only"]
        if data.kind == "band":
            print(f"{n} of {result.shape[0]} models viable with the {data.name} g-2 band; {gap} more "
                  "survive only where a search covering the mass is silent (gap-only)")  # fmt: skip
        else:
            print(f"data set {data.name} is an upper limit: no model is preferred; {n} of "
                  f"{result.shape[0]} models survive at their g-2 upper limit somewhere ({gap} more "
                  "only in search gaps)")  # fmt: skip
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        result = engine.load(args.file)
    except StoreError as exc:
        raise CLIError(str(exc)) from None
    summary = result.summary()
    if args.json:
        print(_dumps(summary, indent=2))
        return 0
    print(f"{args.file}: {summary['kind']}; {summary['n_models']} models, "
          f"{len(summary['masses'])} masses ({min(summary['masses']):g} - "
          f"{max(summary['masses']):g} GeV), {len(summary['mix_values'])} {summary['mix_kind']} "
          f"values, {summary['n_couplings']} couplings; g-2 data {summary['dataset']}")  # fmt: skip
    print("constraints: " + ", ".join(summary["constraints"]))
    print(f"allowed fraction (models x masses allowed for some mixing and some coupling of the band): "
          f"{summary['allowed_fraction']:.4g}")
    if "viable" in summary:
        viable = summary["viable"]
        print(f"viable models: {summary['n_viable']} (every search covering the mass speaks); "
              f"gap-only: {summary['n_gap_only']}")  # fmt: skip
        print(f"  {'label':<22} {'B':>6} {'Le':>6} {'Lmu':>6} {'Ltau':>6}  viable masses [GeV]")
        for item in viable:
            ch = item.get("charges", {})
            spans = "; ".join(f"{iv['mass'][0]:.3g} - {iv['mass'][1]:.3g}"
                              for iv in item["mass_intervals"])  # fmt: skip
            print(f"  {item['label']:<22} " + " ".join(f"{ch.get(k, float('nan')):>6g}"
                  for k in ("B", "Le", "Lmu", "Ltau")) + f"  {spans}")  # fmt: skip
        if summary["gap_only"]:
            print("gap-only: " + ", ".join(item["label"] for item in summary["gap_only"]))
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from .figures import figure_names, make_figures

    if args.only is not None and args.only not in figure_names():
        raise CLIError(f"unknown figure {args.only!r}; figures: " + ", ".join(figure_names()))
    written = make_figures(args.out, only=args.only, dataset=args.dataset, quiet=args.quiet)
    if not args.quiet:
        print(f"wrote {len(written)} files to {args.out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from .plotting import plot_scan

    try:
        result = engine.load(args.file)
    except StoreError as exc:
        raise CLIError(str(exc)) from None
    artists = plot_scan(result)
    artists.figure.savefig(args.output, bbox_inches="tight")
    plt.close(artists.figure)
    return 0


def cmd_plot_model(args: argparse.Namespace) -> int:
    """The atlas mass-coupling figure of any model and mixing, with its numbers beside it (JSON)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from .plotting import mass_coupling_data, plot_mass_coupling

    model = _model_from_args(args)
    eps = _parse_eps(args.eps)
    loop_scale = _loop_scale(args)
    lo, hi = _float(args.mass_min, "--mass-min"), _float(args.mass_max, "--mass-max")
    if not (0 < lo < hi and math.isfinite(hi)):
        raise CLIError(f"--mass-min {args.mass_min} and --mass-max {args.mass_max} must satisfy "
                       "0 < min < max (GeV)")  # fmt: skip
    _parse_masses([args.mass_min, args.mass_max])
    names = [c.name for c in _chosen(args, default="all")]
    masses = np.geomspace(lo, hi, _count(args, "--n-mass", high=10**6))
    data = mass_coupling_data(model, masses, eps=eps, loop_scale=loop_scale, constraints=names,
                              dataset=args.dataset)  # fmt: skip
    artists = plot_mass_coupling(data)
    artists.figure.savefig(args.output, bbox_inches="tight")
    plt.close(artists.figure)
    if not args.quiet:
        print(f"wrote {args.output}")
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
    p_list.add_argument("--experiment", default=None, help="only this experiment (substring)")
    p_list.add_argument("--kind", default=None, help="only this kind: " + ", ".join(catalogue.KINDS))
    p_list.add_argument("-v", "--verbose", action="store_true",
                        help="also print each constraint's title, sources and notes")  # fmt: skip
    p_list.set_defaults(func=cmd_list)

    p_cite = sub.add_parser("cite", help="BibTeX of the package and of the chosen constraints")
    _selection_arguments(p_cite, "default")
    p_cite.set_defaults(func=cmd_cite)

    p_lim = sub.add_parser("limits", help="g-2 band and constraint limits at given masses")
    _model_arguments(p_lim)
    _mass_arguments(p_lim)
    p_lim.add_argument("--eps", default="0", help="kinetic mixing: a number or 'loop' (default 0)")
    p_lim.add_argument("--loop-scale", default=None, help="GeV; scale where the loop eps vanishes")
    p_lim.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS), help="(g-2)_mu data set")
    p_lim.add_argument("--json", action="store_true",
                       help="print one JSON object (first-round format: lower edges, 'inf' strings)")
    p_lim.add_argument("--format", choices=["text", "json", "csv"], default="text",
                       help="json/csv: every excluded interval, both edges, strict JSON")  # fmt: skip
    _selection_arguments(p_lim, "all")
    p_lim.set_defaults(func=cmd_limits)

    def scan_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", required=True, help="HDF5 file to write")
        p.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
        p.add_argument("--backend", default="loky", choices=["loky", "threading", "dask", "ray"],
                       help="joblib backend (default loky; on one machine threading measured faster, "
                            "README Benchmarks)")
        p.add_argument("--resume", action="store_true", help="continue an interrupted scan")
        p.add_argument("--overwrite", action="store_true",
                       help="replace an existing --out file (otherwise it is refused)")  # fmt: skip
        p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
        p.add_argument("--chunk-size", type=int, default=None,
                       help="models per chunk (the unit of work, of writing and of resume; "
                            "default: 1e6-2e6 grid points, 8 chunks or more if possible)")  # fmt: skip
        _selection_arguments(p, "default")

    p_scan = sub.add_parser("scan", help="scan a model plane and store it (HDF5)")
    scans = p_scan.add_subparsers(dest="plane", required=True, parser_class=_Parser)
    p_ar = scans.add_parser("alpha-r", help="X = sin a (Le-Lmu) + cos a (B/3-Lmu) + R (Lmu-Ltau)")
    p_ar.add_argument("--mass", nargs="+", default=["0.2"], help="X masses in GeV (default 0.2)")
    p_ar.add_argument("--n", type=int, default=200, help="points per axis of the plane")
    p_ar.add_argument("--r-max", default="3", help="R from -r_max to r_max")
    p_ar.add_argument("--mix-n", type=int, default=64, help="about this many xi values, 0 included")
    p_ar.add_argument("--no-mixing", action="store_true", help="eps = 0 instead of free mixing")
    p_ar.add_argument("--n-g", type=int, default=9, help="couplings across the g-2 band")
    p_ar.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS),
                      help="(g-2)_mu data set; an upper limit is evaluated at its limit")  # fmt: skip
    scan_options(p_ar)
    p_ar.set_defaults(func=cmd_scan_alpha_r)
    p_mc = scans.add_parser("mass-coupling", help="one model over a mass x coupling grid")
    _model_arguments(p_mc)
    p_mc.add_argument("--mass-min", default="1e-3")
    p_mc.add_argument("--mass-max", default="10")
    p_mc.add_argument("--n-mass", type=int, default=200)
    p_mc.add_argument("--g-min", default="1e-6")
    p_mc.add_argument("--g-max", default="1e-1")
    p_mc.add_argument("--n-coupling", type=int, default=200)
    p_mc.add_argument("--eps", default="0", help="a number or 'loop'")
    p_mc.add_argument("--loop-scale", default=None)
    scan_options(p_mc)
    p_mc.set_defaults(func=cmd_scan_mass_coupling)

    p_sv = sub.add_parser("survey", help="all anomaly-free integer-charge models (seed analysis)")
    p_sv.add_argument("--max-charge", type=int, default=10)
    p_sv.add_argument("--n-mass", type=int, default=200, help="masses from 1 MeV to 1 GeV")
    p_sv.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS))
    p_sv.add_argument("--electron-gm2", choices=["cs", "rb"], default=None)
    scan_options(p_sv)
    p_sv.set_defaults(func=cmd_survey)

    p_show = sub.add_parser("show", help="summarise a stored scan")
    p_show.add_argument("file")
    p_show.add_argument("--json", action="store_true")
    p_show.set_defaults(func=cmd_show)

    p_fig = sub.add_parser("figures", help="regenerate the atlas figures (PNG, PDF, JSON)")
    p_fig.add_argument("--out", default="figures", help="output folder (default figures/)")
    p_fig.add_argument("--only", default=None, help="one figure by name")
    p_fig.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS))
    p_fig.add_argument("--quiet", action="store_true")
    p_fig.set_defaults(func=cmd_figures)

    p_ex = sub.add_parser("export", help="every constraint's excluded intervals (JSON or CSV)")
    _model_arguments(p_ex)
    _mass_arguments(p_ex, default_range=True)
    p_ex.add_argument("--eps", default="0", help="kinetic mixing: a number or 'loop' (default 0)")
    p_ex.add_argument("--loop-scale", default=None, help="GeV; scale where the loop eps vanishes")
    p_ex.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS))
    p_ex.add_argument("--format", choices=["json", "csv"], default="json")
    p_ex.add_argument("-o", "--output", default=None, help="file to write (never overwritten)")
    _selection_arguments(p_ex, "all")
    p_ex.set_defaults(func=cmd_export)

    p_pm = sub.add_parser("plot-model", help="the atlas mass-coupling figure of any model")
    _model_arguments(p_pm)
    p_pm.add_argument("-o", "--output", required=True, help="image file (png, pdf, svg)")
    p_pm.add_argument("--eps", default="0", help="kinetic mixing: a number or 'loop' (default 0)")
    p_pm.add_argument("--loop-scale", default=None, help="GeV; scale where the loop eps vanishes")
    p_pm.add_argument("--dataset", default="2021", choices=list(gm2.DATASETS))
    p_pm.add_argument("--mass-min", default="1e-3")
    p_pm.add_argument("--mass-max", default="10")
    p_pm.add_argument("--n-mass", type=int, default=300)
    p_pm.add_argument("--quiet", action="store_true")
    _selection_arguments(p_pm, "all")
    p_pm.set_defaults(func=cmd_plot_model)

    p_plot = sub.add_parser("plot", help="draw a stored scan")
    p_plot.add_argument("file")
    p_plot.add_argument("-o", "--output", required=True, help="image file (png, pdf, svg)")
    p_plot.set_defaults(func=cmd_plot)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"zprime-atlas: warning: {message}", file=sys.stderr)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that the scan unwinds like after Ctrl-C."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def _interrupted(args: argparse.Namespace, argv: Sequence[str]) -> str:
    """The one sentence printed after Ctrl-C or SIGTERM (with the resume command for scans)."""
    out = getattr(args, "out", None)
    if getattr(args, "command", None) not in ("scan", "survey") or out is None:
        return "interrupted"
    state = store.progress(out)
    if state is None:
        return "interrupted; nothing was kept" if not Path(out).exists() else "interrupted"
    words = [w for w in argv if w != "--overwrite"]
    if "--resume" not in words:
        words.append("--resume")
    return (f"interrupted; {state[0]} of {state[1]} chunks kept in {store.partial_path(out)}; "
            f"resume with: {PROG} {shlex.join(words)}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zprime-atlas`` console script; returns the exit code.

    Errors are one sentence on stderr (exit 1; usage errors exit 2); Ctrl-C exits 130 and SIGTERM
    143, after one sentence saying what was kept.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(words)
    extra = catalogue.extra_recast_folders()
    if extra and not getattr(args, "quiet", False):
        print("extra recast folders in use ($ZPRIME_ATLAS_RECASTS): " + ", ".join(extra),
              file=sys.stderr)  # fmt: skip
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    with warnings.catch_warnings():  # restores the caller's warning display afterwards
        warnings.showwarning = _show_warning  # one line per warning, no source location
        try:
            return int(args.func(args))
        except KeyboardInterrupt as exc:
            print(f"{PROG}: {_interrupted(args, words)}", file=sys.stderr)
            return 143 if isinstance(exc, _Terminated) else 130
        except MemoryError:
            print(f"{PROG}: error: out of memory; make the grid smaller", file=sys.stderr)
            return 1
        except (CLIError, ValueError, OSError) as exc:
            message = str(exc).rstrip(".").replace("pass loop_scale (GeV)", "pass --loop-scale GEV")
            message = message.replace("(CLI --resume, Python resume=True)", "(--resume)")
            print(f"{PROG}: error: {message}", file=sys.stderr)
            return 1
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
