"""zprime-atlas: which light Z' of a gauged vector-like U(1)_X survives every experiment, and can it
explain the muon g-2? All masses and energies are in GeV.

Public API: models (:class:`Model`, :func:`model`, :func:`alpha_r`,
:func:`enumerate_models`), couplings (:func:`effective_couplings`, :func:`kinetic_mixing`), and the
submodules :mod:`~zprime_atlas.decays`, :mod:`~zprime_atlas.gm2` and
:mod:`~zprime_atlas.constraints` (registry of experimental constraints).
"""

from . import constants, constraints, couplings, decays, gm2, models
from ._version import __version__
from .couplings import Mixing, effective_couplings, kinetic_mixing, loop_mixing_over_g
from .engine import ScanResult, load, scan
from .models import Model, alpha_r, enumerate_models, model, model_names

__all__ = [
    "Mixing",
    "Model",
    "ScanResult",
    "__version__",
    "alpha_r",
    "constants",
    "constraints",
    "couplings",
    "decays",
    "effective_couplings",
    "enumerate_models",
    "gm2",
    "kinetic_mixing",
    "load",
    "loop_mixing_over_g",
    "model",
    "model_names",
    "models",
    "scan",
]


def __dir__() -> list[str]:
    return list(__all__)
