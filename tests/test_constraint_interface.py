"""The Constraint base class: mixing parsed once, physics hooks, and the earlier override interface."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from zprime_atlas import constraints
from zprime_atlas.constraints.base import Constraint, ConstraintInfo, limit_mixing
from zprime_atlas.couplings import Mixing
from zprime_atlas.models import Model, model

INFO = ConstraintInfo(
    name="toy", title="toy", citation=(), mass_range=(0.01, 1.0), cl=0.9, notes="", verified=False
)


class OldStyle(Constraint):
    """Written like a third-party plugin (and constraints/nsi.py): ratio and limit overridden."""

    info = INFO

    def ratio(
        self,
        m_X: ArrayLike,
        g_X: ArrayLike,
        model: Model,
        eps: ArrayLike | str | None = 0.0,
        eps_over_g: ArrayLike | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        Mixing.parse(eps, eps_over_g, loop_scale)
        g = np.asarray(g_X, dtype=float)
        return np.where(self.in_range(m_X), (g / 1e-3) ** 2, np.nan)

    def limit(
        self,
        m_X: ArrayLike,
        model: Model,
        eps_over_g: ArrayLike | None = 0.0,
        eps: ArrayLike | str | None = None,
        loop_scale: float | None = None,
    ) -> NDArray[np.float64]:
        limit_mixing(eps, eps_over_g, loop_scale)
        return np.where(self.in_range(m_X), 1e-3, np.nan)


class NewStyle(Constraint):
    """Hooks only: r = (g x_mu / 1e-3)^2 + eps^2 / 1e-4^2."""

    info = INFO

    def __init__(self) -> None:
        self.seen: list[tuple[type, type]] = []

    def _ratio(self, m: NDArray, g: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        self.seen.append((type(m), type(mix)))
        eps = np.real(mix.eps(model, g))
        return np.broadcast_to((g * model.charge("mu") / 1e-3) ** 2 + (eps / 1e-4) ** 2, m.shape)

    def _limit(self, m: NDArray, model: Model, mix: Mixing) -> NDArray[np.float64]:
        self.seen.append((type(m), type(mix)))
        return np.broadcast_to(np.asarray(1e-3 / np.abs(model.charge("mu"))), m.shape)


def test_old_style_subclass_keeps_working() -> None:
    c = OldStyle()
    m = np.array([0.001, 0.1, 10.0])
    r = c.ratio(m, 2e-3, model("B-L"))
    assert math.isnan(r[0])
    assert r[1] == pytest.approx(4.0)
    (lo, hi), *rest = c.excluded_intervals(m, model("B-L"))
    assert rest == []
    np.testing.assert_array_equal(lo, [np.nan, 1e-3, np.nan])
    np.testing.assert_array_equal(hi, [np.nan, math.inf, np.nan])
    with pytest.raises(ValueError, match="not both"):
        c.excluded_intervals(m, model("B-L"), eps_over_g=0.1, eps=1e-3)


def test_new_style_hooks_get_validated_arrays_and_one_mixing() -> None:
    c = NewStyle()
    m = [0.001, 0.1, 10.0]
    r = c.ratio(m, 1e-3, model("Lmu-Ltau"), eps=1e-4)
    np.testing.assert_allclose(r, [np.nan, 2.0, np.nan])
    lim = c.limit(m, model("Lmu-Ltau"))
    np.testing.assert_allclose(lim, [np.nan, 1e-3, np.nan])
    (lo, hi), *rest = c.excluded_intervals(m, model("Lmu-Ltau"))
    assert rest == []
    np.testing.assert_allclose(lo, lim)
    np.testing.assert_array_equal(hi, [np.nan, math.inf, np.nan])
    assert set(c.seen) == {(np.ndarray, Mixing)}
    with pytest.raises(ValueError, match="mass m_X must be positive"):
        c.ratio(-1.0, 1e-3, model("Lmu-Ltau"))
    with pytest.raises(ValueError, match="not both"):
        c.ratio(0.1, 1e-3, model("Lmu-Ltau"), eps=1e-3, eps_over_g=0.1)
    with pytest.raises(ValueError, match="not both"):
        c.limit(0.1, model("Lmu-Ltau"), eps=1e-3, eps_over_g=0.1)


def test_a_constraint_without_physics_says_so() -> None:
    class Empty(Constraint):
        info = INFO

    with pytest.raises(NotImplementedError, match="Empty implements neither ratio"):
        Empty().ratio(0.1, 1e-3, model("B-L"))
    with pytest.raises(NotImplementedError, match="Empty implements none of limit"):
        Empty().limit(0.1, model("B-L"))
    with pytest.raises(NotImplementedError):
        Empty().excluded_intervals(0.1, model("B-L"))


@pytest.mark.parametrize(
    "name", ["gm2_electron_rb", "borexino", "coherent_csi_2017", "ccfr_trident", "babar_2014_visible"]
)
@pytest.mark.parametrize("mix", [{"eps_over_g": 0.01}, {"eps": 1e-4}, {"eps": "loop"}])
def test_built_in_constraints_parse_the_mixing_once(
    name: str, mix: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    original = Mixing.parse.__func__  # type: ignore[attr-defined]

    def counting(cls, eps=None, eps_over_g=None, loop_scale=None):
        if not isinstance(eps, Mixing) and (eps, eps_over_g) != (None, None):
            calls.append((eps, eps_over_g))  # (None, None): a reference model without mixing
        return original(cls, eps, eps_over_g, loop_scale)

    monkeypatch.setattr(Mixing, "parse", classmethod(counting))
    c = constraints.get(name)
    m = np.array([0.02, 0.2])
    for call in (
        lambda: c.ratio(m, 1e-3, model("Lmu-Ltau"), **mix),
        lambda: c.limit(m, model("Lmu-Ltau"), **mix),
        lambda: c.excluded_intervals(m, model("Lmu-Ltau"), **mix),
    ):
        calls.clear()
        call()
        assert len(calls) == 1
