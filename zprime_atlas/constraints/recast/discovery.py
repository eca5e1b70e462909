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
    data_path = _inside(meta_path, meta.data, "data")
    if meta.lifetime.kind == "rvalues":
        data = read_rvalue_csv(data_path)
    else:
        data = read_limit_csv(data_path, column)
    fractions = None
    if meta.production_fractions is not None:
        fractions = read_fractions_csv(
            _inside(meta_path, meta.production_fractions, "production_fractions")
        )
    return RecastConstraint(meta, data, meta_path, fractions, packaged=packaged)


def _inside(meta_path: Path, name: str, key: str) -> Path:
    """``name`` resolved in the metadata file's folder; RecastFileError if it leads outside it
    (a symbolic link out of the folder) or is not a regular file."""
    folder = meta_path.parent
    target = folder / name
    try:
        resolved = target.resolve(strict=True)
    except (OSError, RuntimeError):
        raise RecastFileError(f"{meta_path}: {key} file {name} does not exist in {folder}") from None
    if not resolved.is_relative_to(folder.resolve()):
        raise RecastFileError(
            f"{meta_path}: {key} file {name} leads outside the folder {folder} (a symbolic link); "
            "data files must lie beside their metadata"
        )
    if not resolved.is_file():
        raise RecastFileError(f"{meta_path}: {key} file {name} is not a regular file")
    return target


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
            except Exception as exc:  # any other failure of one file must not take the rest down
                problems.append(f"{meta_path}: could not be loaded ({type(exc).__name__}); the "
                                "other recasts are unaffected")  # fmt: skip
    return constraints, problems


def __dir__() -> list[str]:
    return list(__all__)
