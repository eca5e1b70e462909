"""Finding and loading recast files: the package's ``recasts/`` folder and ``$ZPRIME_ATLAS_RECASTS``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from .darkcast import RecastConstraint
from .schema import RecastFileError, parse_metadata
from .tables import LimitData, RValueTable, read_fractions_csv, read_limit_csv, read_rvalue_csv

__all__ = ["ENV_VAR", "discover_recasts", "load_recast", "recast_dirs"]

#: Environment variable naming extra recast folders (os.pathsep-separated).
ENV_VAR = "ZPRIME_ATLAS_RECASTS"


def load_recast(meta_path: str | os.PathLike[str], packaged: bool | None = None) -> RecastConstraint:
    """Load one recast: the TOML metadata and the data file(s) it names (same folder).

    ``packaged``: whether the file is one of the package's own (default: whether it lies in the
    package's recast folder); other files are unverified unless they set ``verified = true``.
    """
    meta_path = Path(meta_path)
    if packaged is None:
        own = _packaged_dir()
        packaged = own is not None and meta_path.resolve().parent == own.resolve()
    meta = parse_metadata(meta_path)
    column = "eps" if meta.coupling == "eps" else "gprime"
    data: LimitData | RValueTable
    if meta.lifetime.kind == "rvalues":
        data = read_rvalue_csv(meta_path.parent / meta.data)
    else:
        data = read_limit_csv(meta_path.parent / meta.data, column)
    fractions = None
    if meta.production_fractions is not None:
        fractions = read_fractions_csv(meta_path.parent / meta.production_fractions)
    return RecastConstraint(meta, data, meta_path, fractions, packaged=packaged)


def _packaged_dir() -> Path | None:
    packaged = Path(str(resources.files("zprime_atlas"))) / "recasts"
    checkout = Path(__file__).resolve().parents[3] / "recasts"
    if packaged.is_dir():
        return packaged
    return checkout if checkout.is_dir() else None


def recast_dirs() -> list[Path]:
    """Folders searched for recast files, in order: the package's, then ``$ZPRIME_ATLAS_RECASTS``.

    The package folder is ``zprime_atlas/recasts`` in an installed wheel, or the top-level
    ``recasts/`` of a source checkout.
    """
    dirs: list[Path] = []
    own = _packaged_dir()
    if own is not None:
        dirs.append(own)
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            dirs.append(Path(entry.strip()).expanduser())
    return dirs


def discover_recasts(
    dirs: Sequence[Path] | None = None,
) -> tuple[list[RecastConstraint], list[str]]:
    """Load every ``*.toml`` in the recast folders; return (constraints, problems).

    A malformed file is reported in ``problems`` (one sentence naming the file) and skipped: it never
    takes the other recasts down. A folder named in the environment that does not exist is a problem
    too.
    """
    constraints: list[RecastConstraint] = []
    problems: list[str] = []
    for folder in recast_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            problems.append(f"recast folder {folder} does not exist")
            continue
        for meta_path in sorted(folder.glob("*.toml")):
            try:
                constraints.append(load_recast(meta_path))
            except RecastFileError as exc:
                problems.append(str(exc))
    return constraints, problems


def __dir__() -> list[str]:
    return list(__all__)
