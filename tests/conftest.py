"""Shared test setup.

Hypothesis reports a failing example through ``hypothesis.extra._patching``, whose first import
pulls in ``libcst`` -> ``mypy_extensions`` and emits a DeprecationWarning. With the project's
``filterwarnings = error`` that warning turns every hypothesis failure into a pytest INTERNALERROR
that hides the falsifying example. Importing the module once here, with that warning silenced,
keeps failure reports readable; it changes nothing when tests pass.
"""

import contextlib
import warnings

with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401
