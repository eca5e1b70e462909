"""Old import path of :mod:`zprime_atlas.constraints.recast` (kept so that existing code works)."""

from .constraints.recast import *  # noqa: F403
from .constraints.recast import __all__


def __dir__() -> list[str]:
    return list(__all__)
