"""Old import path of :mod:`zprime_atlas.constraints.recast.production` (kept for existing code)."""

from .constraints.recast.production import *  # noqa: F403
from .constraints.recast.production import __all__


def __dir__() -> list[str]:
    return list(__all__)
