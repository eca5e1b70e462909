"""Lossless export of one model's limits: every constraint's excluded g_X intervals, both edges.

For a model, a mixing and a mass grid [GeV], :func:`excluded_intervals_table` returns, per
constraint and mass, every excluded interval (lower and upper edge; an island keeps its upper edge),
the constraint's CL, citation and verification flag, and a status per mass:

- ``"excludes"``: at least one excluded interval (listed);
- ``"excludes_nothing"``: in range, but no coupling is excluded there (not produced or not seen);
- ``"no_statement"``: outside the constraint's mass range or inside a vetoed window.

The JSON form is strict (no NaN or Infinity tokens, no numbers as strings): an interval open above
has ``"upper": null`` with ``"upper_open": true``. The CSV form has one row per interval (or one row
per mass with an empty interval and its status).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import gm2 as _gm2
from .constants import FERMIONS
from .constraints.base import Constraint
from .models import Model

__all__ = ["excluded_intervals_table", "to_csv"]


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def excluded_intervals_table(
    model: Model,
    masses: ArrayLike,
    constraints: Iterable[Constraint],
    eps: float | str | None = None,
    eps_over_g: float | None = None,
    loop_scale: float | None = None,
    dataset: str = "2021",
) -> dict[str, Any]:
    """Every constraint's excluded g_X intervals at each mass, plus the (g-2)_mu band (module doc)."""
    m = np.atleast_1d(np.asarray(masses, dtype=float)).ravel()
    data = _gm2.dataset(dataset)
    band_kw: dict[str, Any] = {"loop_scale": loop_scale}
    if eps_over_g is not None:
        band_kw["eps_over_g"] = eps_over_g
    else:
        band_kw["eps"] = 0.0 if eps is None else eps
    g_low, g_high = _gm2.band(model, m, dataset=data.name, **band_kw)
    out: dict[str, Any] = {
        "model": {
            "label": str(model.name or model.labels.reshape(-1)[0]),
            "charges": {f: float(np.asarray(model.charge(f)).reshape(-1)[0]) for f in FERMIONS},
        },
        "mixing": {"eps": eps if isinstance(eps, str) else (None if eps is None else float(eps)),
                   "eps_over_g": None if eps_over_g is None else float(eps_over_g),
                   "loop_scale_GeV": loop_scale},
        "masses_GeV": [float(v) for v in m],
        "gm2": {
            "dataset": data.name,
            "kind": data.kind,
            "g_low": [_finite_or_none(v) for v in np.broadcast_to(g_low, m.shape)],
            "g_high": [_finite_or_none(v) for v in np.broadcast_to(g_high, m.shape)],
        },
        "constraints": {},
    }
    for c in constraints:
        ivs = c.excluded_intervals(m, model, eps_over_g=eps_over_g, eps=eps, loop_scale=loop_scale)
        per_mass: list[list[dict[str, Any]]] = []
        status: list[str] = []
        for i in range(len(m)):
            found = []
            silent = True
            for lo, hi in ivs:
                lo_i = float(np.broadcast_to(lo, m.shape)[i])
                hi_i = float(np.broadcast_to(hi, m.shape)[i])
                if math.isnan(lo_i):
                    continue
                silent = False
                if math.isinf(lo_i):  # an unused slot: no such interval
                    continue
                found.append({"lower": lo_i, "upper": _finite_or_none(hi_i),
                              "upper_open": bool(math.isinf(hi_i))})  # fmt: skip
            per_mass.append(found)
            status.append("no_statement" if silent else ("excludes" if found else "excludes_nothing"))
        out["constraints"][c.name] = {
            "cl": float(c.cl),
            "citation": list(c.citation),
            "verified": bool(c.info.verified),
            "status": status,
            "intervals": per_mass,
        }
    return out


def to_csv(table: dict[str, Any]) -> str:
    """The table as CSV: constraint, m_GeV, interval, g_lower, g_upper, status, cl (one row per
    interval; an empty g_upper is open above; masses without an interval get one row)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["constraint", "m_GeV", "interval", "g_lower", "g_upper", "status", "cl"])
    masses = table["masses_GeV"]
    for name, entry in table["constraints"].items():
        for i, m in enumerate(masses):
            ivs = entry["intervals"][i]
            if not ivs:
                writer.writerow([name, repr(m), "", "", "", entry["status"][i], entry["cl"]])
            for k, iv in enumerate(ivs):
                upper = "" if iv["upper"] is None else repr(iv["upper"])
                writer.writerow([name, repr(m), k, repr(iv["lower"]), upper, entry["status"][i],
                                 entry["cl"]])  # fmt: skip
    return buf.getvalue()


def __dir__() -> list[str]:
    return list(__all__)
