"""Experimental constraints on a light X and their registry.

Every constraint kind lives in this package: :mod:`.base` (the interface), :mod:`.solve` (shared
solvers), the built-in experiments (:mod:`.electron_gm2`, :mod:`.nsi`, :mod:`.borexino`,
:mod:`.coherent`, :mod:`.trident`), the file-defined recasts (:mod:`.recast`), and
:mod:`.registry`, whose functions are re-exported here: ``names()``, ``get(name)``, ``all()``,
``origin(name)``, ``register(constraint)``, ``reload()``.
"""

from .base import Constraint, ConstraintInfo, limit_mixing
from .registry import all, get, names, origin, register, reload

__all__ = [
    "Constraint",
    "ConstraintInfo",
    "all",
    "get",
    "limit_mixing",
    "names",
    "origin",
    "register",
    "reload",
]


def __dir__() -> list[str]:
    return list(__all__)
