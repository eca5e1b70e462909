"""Recasts of published limits to any U(1)_X (the Darkcast method), defined by files.

A recast is a pair of files: TOML metadata (:mod:`.schema`) and a limit CSV (:mod:`.tables`); the
physics is in :mod:`.darkcast` and :mod:`.production`, the search of the recast folders in
:mod:`.discovery`. Method and formulas: docs/physics/recast.md.
"""

from .darkcast import RecastConstraint, acceptance, shared_evaluation
from .discovery import ENV_VAR, discover_recasts, load_recast, recast_dirs
from .schema import Lifetime, RecastFileError, RecastMetadata, parse_metadata
from .tables import LimitData, ProductionFractions, read_fractions_csv, read_limit_csv

__all__ = [
    "ENV_VAR",
    "Lifetime",
    "LimitData",
    "ProductionFractions",
    "RecastConstraint",
    "RecastFileError",
    "RecastMetadata",
    "acceptance",
    "discover_recasts",
    "load_recast",
    "parse_metadata",
    "read_fractions_csv",
    "read_limit_csv",
    "recast_dirs",
    "shared_evaluation",
]


def __dir__() -> list[str]:
    return list(__all__)
