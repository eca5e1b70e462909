"""The recast metadata file (TOML): its keys, their checks, and the parsed :class:`RecastMetadata`.

Keys and their meaning: recasts/README.md; the physics they select: docs/physics/recast.md.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...constants import FERMION_MASS
from ...models import model as named_model
from .production import MECHANISMS

__all__ = [
    "INVISIBLE",
    "VISIBLE_CHANNELS",
    "Lifetime",
    "RecastFileError",
    "RecastMetadata",
    "parse_metadata",
]

_PS = 1e-12  # seconds per picosecond
#: The final-state name of invisible searches (X -> nu nubar plus any dark-sector width).
INVISIBLE = "invisible"
#: Visible channels a recast may select (decay-width keys of :mod:`zprime_atlas.decays`).
VISIBLE_CHANNELS: tuple[str, ...] = ("e_e", "mu_mu", "tau_tau", "hadrons", "c_c", "b_b")


class RecastFileError(ValueError):
    """A recast metadata or data file is malformed; the message names the file (and line)."""


@dataclass(frozen=True)
class Lifetime:
    """Proper-time acceptance window of the search (see the module docstring).

    ``kind``: ``prompt``, ``window`` (t0_ps, t1_ps, optional t1_gev_ps and t1_threshold_gev:
    t1 = t1_ps + t1_gev_ps/(m - t1_threshold_gev)) or ``displaced`` (decay_over_shield).
    """

    kind: str
    t0_ps: float = 0.0
    t1_ps: float = math.inf
    t1_gev_ps: float = 0.0
    t1_threshold_gev: float = 0.0
    decay_over_shield: float = 0.0

    def window(self, m: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """(t0, t1) in seconds for a ``window`` kind, per mass."""
        t0 = np.full(m.shape, self.t0_ps * _PS)
        with np.errstate(divide="ignore"):
            extra = np.where(self.t1_gev_ps != 0.0, self.t1_gev_ps / (m - self.t1_threshold_gev), 0.0)
        return t0, (self.t1_ps + extra) * _PS


@dataclass(frozen=True)
class RecastMetadata:
    """The content of a recast TOML file (keys: recasts/README.md)."""

    name: str
    title: str
    experiment: str
    arxiv: tuple[str, ...]
    journal: str
    cl: float
    data: str
    reference: str
    coupling: str
    production: tuple[str, ...]
    production_fractions: str | None
    final_states: tuple[str, ...]
    lifetime: Lifetime
    provenance: str
    notes: str = ""
    reference_branching_ratio: float | None = None
    supersedes: tuple[str, ...] = ()
    status: str = "published"
    extra: dict[str, Any] = field(default_factory=dict)


_ALLOWED_KEYS = {
    "name", "title", "experiment", "arxiv", "journal", "cl", "data", "reference", "coupling",
    "production", "production_fractions", "final_states", "lifetime", "provenance", "notes",
    "reference_branching_ratio", "supersedes", "status", "inspire",
}  # fmt: skip


def parse_metadata(path: Path) -> RecastMetadata:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise RecastFileError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise RecastFileError(f"{path}: cannot read ({exc.strerror})") from None

    def need(key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in raw:
            raise RecastFileError(f"{path}: missing key {key!r}")
        value = raw[key]
        if not isinstance(value, kind):
            raise RecastFileError(f"{path}: key {key!r} has the wrong type ({value!r})")
        return value

    unknown = sorted(set(raw) - _ALLOWED_KEYS)
    if unknown:
        raise RecastFileError(f"{path}: unknown key {unknown[0]!r}")
    name = need("name", str)
    if not name.replace("_", "").isalnum() or name.lower() != name:
        raise RecastFileError(f"{path}: name {name!r} must be lower_snake_case")
    arxiv = need("arxiv", list)
    cl = float(need("cl", (int, float)))
    if not 0 < cl < 1:
        raise RecastFileError(f"{path}: cl = {cl} must lie between 0 and 1 (e.g. 0.90)")
    coupling = need("coupling", str)
    if coupling not in ("eps", "g"):
        raise RecastFileError(f"{path}: coupling must be 'eps' or 'g', got {coupling!r}")
    reference = need("reference", str)
    try:
        named_model(reference)
    except ValueError as exc:
        raise RecastFileError(f"{path}: reference model: {exc}") from None
    if coupling == "eps" and named_model(reference).name != "dark-photon":
        raise RecastFileError(f"{path}: coupling 'eps' needs reference 'dark-photon'")
    fractions = raw.get("production_fractions")
    production = raw.get("production")
    if (fractions is None) == (production is None):
        raise RecastFileError(f"{path}: give exactly one of 'production' and 'production_fractions'")
    if production is not None:
        if not isinstance(production, list) or not production:
            raise RecastFileError(f"{path}: 'production' must be a non-empty list of mechanisms")
        for mech in production:
            if mech not in MECHANISMS:
                raise RecastFileError(
                    f"{path}: unknown production mechanism {mech!r}; known: " + ", ".join(MECHANISMS)
                )
    finals = raw.get("final_states")
    if finals is None:
        raise RecastFileError(f"{path}: missing key 'final_states'")
    finals = [finals] if isinstance(finals, str) else finals
    if not isinstance(finals, list) or not finals:
        raise RecastFileError(f"{path}: 'final_states' must be a channel list or 'invisible'")
    for fs in finals:
        if fs != INVISIBLE and fs not in VISIBLE_CHANNELS:
            raise RecastFileError(
                f"{path}: unknown final state {fs!r}; use 'invisible' or channels of "
                + ", ".join(VISIBLE_CHANNELS)
            )
    if INVISIBLE in finals and len(finals) > 1:
        raise RecastFileError(f"{path}: 'invisible' cannot be combined with visible channels")
    lifetime = _parse_lifetime(path, raw.get("lifetime", {"kind": "prompt"}))
    ref_br = raw.get("reference_branching_ratio")
    if ref_br is not None and not (isinstance(ref_br, (int, float)) and 0 < ref_br <= 1):
        raise RecastFileError(f"{path}: reference_branching_ratio must lie in (0, 1]")
    return RecastMetadata(
        name=name,
        title=need("title", str),
        experiment=need("experiment", str),
        arxiv=tuple(str(a) for a in arxiv),
        journal=str(raw.get("journal", "")),
        cl=cl,
        data=need("data", str),
        reference=reference,
        coupling=coupling,
        production=tuple(production or ()),
        production_fractions=fractions,
        final_states=tuple(finals),
        lifetime=lifetime,
        provenance=need("provenance", str),
        notes=str(raw.get("notes", "")),
        reference_branching_ratio=None if ref_br is None else float(ref_br),
        supersedes=tuple(raw.get("supersedes", ())),
        status=str(raw.get("status", "published")),
        extra={k: raw[k] for k in ("inspire",) if k in raw},
    )


def _parse_lifetime(path: Path, spec: Any) -> Lifetime:
    if not isinstance(spec, dict) or "kind" not in spec:
        raise RecastFileError(f"{path}: 'lifetime' must be a table with a 'kind'")
    kind = spec["kind"]
    if kind == "prompt":
        return Lifetime("prompt")
    if kind == "window":
        threshold = spec.get("t1_threshold", 0.0)
        if isinstance(threshold, str):  # a channel: its pair threshold, e.g. "mu_mu" -> 2 m_mu
            fermion = threshold.split("_")[0]
            if threshold not in ("e_e", "mu_mu", "tau_tau"):
                raise RecastFileError(f"{path}: t1_threshold {threshold!r} is not a lepton pair")
            threshold = 2.0 * FERMION_MASS[fermion]
        t1 = float(spec.get("t1_ps", math.inf))
        t0 = float(spec.get("t0_ps", 0.0))
        if not t1 > t0 >= 0:
            raise RecastFileError(f"{path}: lifetime window needs 0 <= t0_ps < t1_ps")
        return Lifetime(
            "window",
            t0_ps=t0,
            t1_ps=t1,
            t1_gev_ps=float(spec.get("t1_gev_ps", 0.0)),
            t1_threshold_gev=float(threshold),
        )
    if kind == "displaced":
        ratio = float(spec.get("decay_over_shield", 0.0))
        if not ratio > 0:
            raise RecastFileError(f"{path}: displaced lifetime needs decay_over_shield > 0")
        return Lifetime("displaced", decay_over_shield=ratio)
    raise RecastFileError(f"{path}: lifetime kind {kind!r} is not prompt, window or displaced")
