"""Registry of constraints: ``names()``, ``get(name)``, ``all()``, ``register(constraint)``.

The registry is filled once, on first use, in a fixed order: the built-in constraint modules, the
recast files (:mod:`zprime_atlas.constraints.recast`: the package's ``recasts/`` folder, then the
folders named in ``$ZPRIME_ATLAS_RECASTS``), then third-party plugins from the entry-point group
``zprime_atlas.constraints``. An entry point may name a :class:`Constraint` instance, a
Constraint subclass (instantiated without arguments), or a callable returning an iterable of
constraints. A plugin that fails to load, or whose name clashes
with one already registered, is skipped with a warning naming it: it never breaks the others.

Superseded constraints (``status = "superseded"``, or named in another constraint's
``supersedes``) are loaded but off by default: ``names()`` and ``all()`` leave them out
(``names(superseded=True)`` lists them too), and ``get(name)`` still returns them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from .base import Constraint

__all__ = ["ENTRY_POINT_GROUP", "all", "get", "names", "origin", "register", "reload"]

ENTRY_POINT_GROUP = "zprime_atlas.constraints"


def _builtin_constraints() -> list[Constraint]:
    # imported here, when the registry is first used: `import zprime_atlas` does not pay for the
    # experiments' modules (and the scipy parts some of them need)
    from .borexino import Borexino
    from .coherent import CoherentCsI2017
    from .coherent_binned import CoherentLAr2020
    from .electron_gm2 import ElectronGM2
    from .neff import NeffBBN
    from .nsi import NSIOscillation
    from .nue_scattering import Texono2010NuE
    from .reactor_cevns import ConusPlus2025
    from .solar_cevns import pandax4t_2024_b8, xenonnt_2024_b8
    from .stars import STARS, StellarCooling
    from .trident import CCFRTrident, CHARM2Trident
    from .xenonnt_binned import xenonnt_2026_b8

    return [
        ElectronGM2("cs"),
        ElectronGM2("rb"),
        NSIOscillation(),
        Borexino(),
        CoherentCsI2017(),
        CoherentLAr2020(),
        CCFRTrident(),
        CHARM2Trident(),
        NeffBBN(),
        xenonnt_2024_b8(),
        xenonnt_2026_b8(),
        pandax4t_2024_b8(),
        ConusPlus2025(),
        Texono2010NuE(),
        *(StellarCooling(name) for name, _ in STARS),
    ]


class _Registry:
    def __init__(self) -> None:
        self._items: dict[str, Constraint] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False

    def _add(self, constraint: Constraint, origin: str, replace: bool = False) -> None:
        if not isinstance(constraint, Constraint):
            raise TypeError(f"{origin} provided {constraint!r}, which is not a Constraint")
        name = constraint.name
        if name in self._items and not replace:
            raise ValueError(
                f"constraint name {name!r} from {origin} is already registered by {self._origins[name]}"
            )
        self._items[name] = constraint
        self._origins[name] = origin

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for c in _builtin_constraints():
            self._add(c, "built-in")
        from .recast import discover_recasts

        recasts, problems = discover_recasts()
        for problem in problems:
            warnings.warn(f"recast skipped: {problem}", RuntimeWarning, stacklevel=3)
        for c in recasts:
            try:
                self._add(c, f"recast file {c.meta_path}")
            except ValueError as exc:
                warnings.warn(f"recast skipped: {exc}", RuntimeWarning, stacklevel=3)
        from importlib.metadata import entry_points  # ~12 ms: on the registry's first use, not import

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep.dist, "name", "unknown distribution")
            origin = f"plugin {ep.name!r} ({dist})"
            try:
                for c in _expand(ep.load()):
                    self._add(c, origin)
            except Exception as exc:  # a broken plugin must not take the registry down
                warnings.warn(f"constraint {origin} was skipped: {exc}", RuntimeWarning, stacklevel=3)

    def reload(self) -> None:
        self._items.clear()
        self._origins.clear()
        self._loaded = False
        self._load()

    def superseded(self) -> set[str]:
        """Names that are superseded: by their own status or by another constraint's supersedes."""
        self._load()
        out = set()
        for name, c in self._items.items():
            info = c.info
            if getattr(info, "status", "published") == "superseded":
                out.add(name)
            out.update(getattr(info, "supersedes", ()))
        return out & set(self._items)

    def names(self, superseded: bool = False) -> list[str]:
        self._load()
        if superseded:
            return sorted(self._items)
        hidden = self.superseded()
        return sorted(n for n in self._items if n not in hidden)

    def get(self, name: str) -> Constraint:
        self._load()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown constraint {name!r}; known constraints: " + ", ".join(self.names())
            ) from None

    def all(self, superseded: bool = False) -> list[Constraint]:
        return [self._items[n] for n in self.names(superseded=superseded)]

    def origin(self, name: str) -> str:
        self.get(name)
        return self._origins[name]

    def register(self, constraint: Constraint, replace: bool = False) -> None:
        self._load()
        self._add(constraint, "user", replace=replace)


def _expand(obj: object) -> Iterable[Constraint]:
    if isinstance(obj, Constraint):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, Constraint):
        return [obj()]
    if callable(obj):
        produced = obj()
        return [produced] if isinstance(produced, Constraint) else list(produced)
    raise TypeError(f"entry point object {obj!r} is not a Constraint, subclass or factory")


_REGISTRY = _Registry()


def names(superseded: bool = False) -> list[str]:
    """Sorted names of the registered constraints (superseded ones only with ``superseded=True``)."""
    return _REGISTRY.names(superseded=superseded)


def get(name: str) -> Constraint:
    """The constraint registered under ``name`` (ValueError listing the known names otherwise)."""
    return _REGISTRY.get(name)


def all(superseded: bool = False) -> list[Constraint]:
    """Every registered constraint, sorted by name (superseded ones only with ``superseded=True``)."""
    return _REGISTRY.all(superseded=superseded)


def origin(name: str) -> str:
    """Where a constraint came from: ``built-in``, a plugin, or ``user``."""
    return _REGISTRY.origin(name)


def reload() -> None:
    """Rebuild the registry (re-reads recast folders, ``$ZPRIME_ATLAS_RECASTS`` and plugins)."""
    _REGISTRY.reload()


def register(constraint: Constraint, replace: bool = False) -> None:
    """Register a constraint object at run time (``replace=True`` to override a name)."""
    _REGISTRY.register(constraint, replace=replace)


def __dir__() -> list[str]:
    return list(__all__)
