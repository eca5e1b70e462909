"""What each registered constraint is, in the words of the ``zprime-atlas list`` table.

One row per constraint: experiment, year, kind (visible, invisible, dump, neutrino, g-2, ...), mass
range [GeV], CL, reference model and status. Recast files state their experiment and reference
model; the year comes from the name (``<experiment>_<year>_<kind>``) or the first arXiv id; the kind
from an explicit ``kind`` (constraint info or recast metadata) if there is one, else from the search's
final state and lifetime acceptance.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .constraints import get, names
from .constraints.base import Constraint

__all__ = [
    "KINDS", "SLOW_FOR_GRIDS", "CatalogueRow", "choose", "default_names", "describe",
    "extra_recast_folders", "select",
]

#: The kinds ``list --kind`` accepts.
KINDS: tuple[str, ...] = (
    "visible", "invisible", "dump", "neutrino", "g-2", "cosmology", "stars", "other",
)

# Built-in computed constraints: experiment, kind and the year of the data they use (recasts
# describe themselves). CCFR's trident measurement is of 1991, CHARM-II's of 1990 (the 2014 arXiv
# id they cite is the method); nsi_oscillation's newest input is of 2024.
_BUILTIN: dict[str, tuple[str, str, str]] = {
    "borexino": ("Borexino", "neutrino", "2017"),
    "ccfr_trident": ("CCFR", "neutrino", "1991"),
    "charm2_trident": ("CHARM-II", "neutrino", "1990"),
    "coherent_csi_2017": ("COHERENT", "neutrino", "2017"),
    "coherent_lar_2020": ("COHERENT", "neutrino", "2020"),
    "nsi_oscillation": ("oscillations", "neutrino", "2024"),
    "xenonnt_2024_b8": ("XENONnT", "neutrino", "2024"),
    "xenonnt_2026_b8": ("XENONnT", "neutrino", "2026"),
    "pandax4t_2024_b8": ("PandaX-4T", "neutrino", "2024"),
    "conusplus_2025": ("CONUS+", "neutrino", "2025"),
    "texono_2010_nue": ("TEXONO", "neutrino", "2010"),
    "gm2_electron_cs": ("(g-2)_e Cs", "g-2", ""),
    "gm2_electron_rb": ("(g-2)_e Rb", "g-2", ""),
    "neff_bbn": ("Planck 2018 N_eff", "cosmology", "2018"),
    "red_giant_2023": ("red giants", "stars", "2023"),
    "horizontal_branch_2023": ("HB stars", "stars", "2023"),
    "sun_2023": ("Sun", "stars", "2023"),
}


@dataclass(frozen=True)
class CatalogueRow:
    """One constraint as the ``list`` command shows it."""

    name: str
    experiment: str
    year: str
    kind: str
    mass_range: tuple[float, float]
    cl: float
    reference: str
    status: str
    verified: bool


def _year(c: Constraint) -> str:
    found = re.search(r"_((?:19|20)\d\d)(?:_|$)", c.name)
    if found:
        return found.group(1)
    for arxiv in c.citation:
        new_style = re.match(r"(\d\d)(\d\d)\.\d{4,5}$", arxiv)
        if new_style:
            return f"20{new_style.group(1)}"
        old_style = re.search(r"/(\d\d)\d{5}$", arxiv)
        if old_style:
            yy = int(old_style.group(1))
            return f"{1900 + yy if yy > 50 else 2000 + yy}"
    return ""


def _recast_kind(meta: object) -> str:
    explicit = getattr(meta, "kind", None) or getattr(meta, "extra", {}).get("kind")
    if explicit:
        return str(explicit)
    finals = tuple(getattr(meta, "final_states", ()))
    if finals == ("invisible",) or "invisible" in finals:
        return "invisible"
    lifetime = getattr(meta, "lifetime", None)
    name = str(getattr(meta, "name", ""))
    if "dump" in name or (lifetime is not None and getattr(lifetime, "kind", "") == "displaced"):
        return "dump"  # decays behind a shield: electron and proton beam dumps (NA64 visible too)
    return "visible"


def describe(c: Constraint) -> CatalogueRow:
    """The catalogue row of one constraint."""
    info = c.info
    meta = getattr(c, "meta", None)
    explicit_kind = getattr(info, "kind", None) or info.extra.get("kind")
    if meta is not None:
        experiment = str(getattr(meta, "experiment", "")) or info.extra.get("experiment", "")
        kind = explicit_kind or _recast_kind(meta)
        reference = str(getattr(meta, "reference", ""))
        status = str(getattr(meta, "status", "published"))
        year = _year(c)
    else:
        experiment, kind, year = _BUILTIN.get(
            c.name, (info.extra.get("experiment", ""), "other", _year(c))
        )
        kind = explicit_kind or kind
        reference = "any"
        status = "computed"
    if kind == "displaced":  # a decay behind a shield (NA64 visible): listed with the beam dumps
        kind = "dump"
    return CatalogueRow(c.name, experiment, year, str(kind), c.mass_range, c.cl, reference,
                        status, bool(info.verified))  # fmt: skip


def select(
    items: list[Constraint], experiment: str | None = None, kind: str | None = None
) -> list[CatalogueRow]:
    """Rows of ``items``, filtered by experiment (case-insensitive substring) and kind."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    rows = [describe(c) for c in items]
    if experiment is not None:
        rows = [r for r in rows if experiment.lower() in r.experiment.lower()]
    if kind is not None:
        rows = [r for r in rows if r.kind == kind]
    return rows


def extra_recast_folders() -> list[str]:
    """The user's recast folders in use (``$ZPRIME_ATLAS_RECASTS``), which every output names."""
    from .constraints.recast.discovery import ENV_VAR  # the recast machinery loads on first use

    return [e.strip() for e in os.environ.get(ENV_VAR, "").split(os.pathsep) if e.strip()]


#: Constraints left out of the grid-scan default set, with the reason; every command takes them by
#: name, and ``limits``, ``export``, ``plot-model`` and the mass-coupling figures use them.
SLOW_FOR_GRIDS: dict[str, str] = {
    "coherent_lar_2020": "a binned Poisson likelihood over 430 bins profiled over four nuisances "
                         "(certified Newton) costs 10-20 us per point (benchmarks/bench_lar.py): the "
                         "default survey (1e8 points) would spend 20-30 min of one core in it",
    "xenonnt_2026_b8": "a binned Poisson likelihood (243 bins) profiled over four nuisances, two of "
                       "them yield shape parameters, costs 0.3-0.7 ms per point (measured on 2 "
                       "shared cores): a default survey would take hours",
}  # fmt: skip


def default_names() -> list[str]:
    """The default constraint set of scans, surveys and the alpha-R and survey figures: every
    registered constraint except the electron g-2 ones, whose two inputs (the Cs and Rb fine-structure
    constants) disagree by 5 sigma and so exclude or allow opposite things (add one by name,
    ``gm2_electron_cs`` or ``_rb``), and those in :data:`SLOW_FOR_GRIDS` (add them by name).
    """
    return [n for n in names() if not n.startswith("gm2_electron_") and n not in SLOW_FOR_GRIDS]


def choose(constraints: str | None = None, exclude: str | None = None) -> list[str]:
    """Constraint names from comma-separated ``--constraints`` (``all``, ``default`` or names; default:
    :func:`default_names`) minus comma-separated ``--exclude``; unknown names are one sentence."""
    def split(text: str) -> list[str]:
        return [t.strip() for t in text.split(",") if t.strip()]

    if constraints is None or constraints.strip() == "default":
        chosen = default_names()
    elif constraints.strip() == "all":
        chosen = names()
    else:
        chosen = split(constraints)
    for name in chosen + (split(exclude) if exclude else []):
        get(name)  # raises "unknown constraint ..." naming it
    dropped = set(split(exclude)) if exclude else set()
    chosen = [n for n in chosen if n not in dropped]
    if not chosen:
        raise ValueError("no constraint is left after --exclude")
    return chosen


def __dir__() -> list[str]:
    return list(__all__)
